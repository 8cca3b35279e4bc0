//! The line of every node of a document, kept as a compact tree in parse
//! order: no field path is formatted or hashed while parsing, only when a
//! diagnostic or a later rule asks for the line of one.

/// Field path (`spec.ingress[0].from`) to 1-based line.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct LineIndex {
    nodes: Vec<Node>,
    /// The children of every container, contiguous per container.
    children: Vec<u32>,
    /// The keys of mapping entries, one after the other.
    keys: String,
    pub(crate) start: usize,
    /// The path of this index's root in its document (`items[3]` for an
    /// item of a List indexed on its own); empty for a whole document.
    pub(crate) prefix: String,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Node {
    line: u32,
    /// The key in `keys`, when the node is the value of a mapping entry.
    key: (u32, u32),
    /// The children in `children` (start, count).
    children: (u32, u32),
    is_map: bool,
}

impl LineIndex {
    /// Line of `path`, or of its nearest ancestor that has one.
    pub fn line(&self, path: &str) -> usize {
        if self.nodes.is_empty() {
            return self.start;
        }
        // Under a prefix the root is a child like any other: its entries
        // follow a `.` (an empty key too: `items[0].`).
        let (path, root) = if self.prefix.is_empty() {
            (path, true)
        } else {
            match path.strip_prefix(self.prefix.as_str()) {
                Some(rest) if rest.starts_with('.') => (rest, false),
                Some(rest) if rest.is_empty() || rest.starts_with('[') => (rest, true),
                // Outside the part indexed here: its root is the nearest.
                _ => return self.nodes[0].line as usize,
            }
        };
        let mut node = 0usize;
        let mut rest = path;
        let mut root = root;
        loop {
            let n = &self.nodes[node];
            if rest.is_empty() {
                return n.line as usize;
            }
            let next = if n.is_map {
                let r = if root {
                    rest
                } else {
                    rest.strip_prefix('.').unwrap_or(rest)
                };
                self.entry(n, r)
            } else {
                self.item(n, rest)
            };
            match next {
                Some((child, r)) => {
                    node = child;
                    rest = r;
                    root = false;
                }
                None => return n.line as usize,
            }
        }
    }

    fn kids(&self, n: &Node) -> &[u32] {
        let (start, len) = (n.children.0 as usize, n.children.1 as usize);
        &self.children[start..start + len]
    }

    /// The entry of map `n` whose key starts `rest` (a key may itself hold
    /// dots, as label keys do: the longest key that fits wins), and the
    /// rest of the path after it.
    fn entry<'p>(&self, n: &Node, rest: &'p str) -> Option<(usize, &'p str)> {
        let mut best: Option<(usize, usize)> = None;
        for &c in self.kids(n) {
            let (start, len) = self.nodes[c as usize].key;
            let key = &self.keys[start as usize..(start + len) as usize];
            let fits = rest.starts_with(key)
                && matches!(rest.as_bytes().get(key.len()), None | Some(b'.' | b'['));
            if fits && best.is_none_or(|(_, l)| key.len() > l) {
                best = Some((c as usize, key.len()));
            }
        }
        best.map(|(c, l)| (c, &rest[l..]))
    }

    /// The item of sequence `n` that `rest` (`[3].spec`) starts with.
    fn item<'p>(&self, n: &Node, rest: &'p str) -> Option<(usize, &'p str)> {
        let inner = rest.strip_prefix('[')?;
        let close = inner.find(']')?;
        let i: usize = inner[..close].parse().ok()?;
        let c = *self.kids(n).get(i)?;
        Some((c as usize, &inner[close + 1..]))
    }
}

/// Builds a [`LineIndex`] from the nodes of one document in parse order.
#[derive(Default)]
pub(crate) struct LinesBuilder {
    index: LineIndex,
    /// Children of the open containers, innermost last.
    pending: Vec<u32>,
    /// Per open container: its node and where its children start in `pending`.
    open: Vec<(u32, usize)>,
}

impl LinesBuilder {
    /// A node that starts at `line`; `key` when it is a mapping entry's value.
    pub fn node(&mut self, line: usize, key: Option<&str>) -> u32 {
        let id = self.index.nodes.len() as u32;
        let key = match key {
            Some(k) => {
                let start = self.index.keys.len() as u32;
                self.index.keys.push_str(k);
                (start, k.len() as u32)
            }
            None => (0, 0),
        };
        self.index.nodes.push(Node {
            line: line.min(u32::MAX as usize) as u32,
            key,
            children: (0, 0),
            is_map: false,
        });
        if !self.open.is_empty() {
            self.pending.push(id);
        }
        id
    }

    /// A mapping or sequence: the nodes that follow are its children until
    /// [`LinesBuilder::close`].
    pub fn open(&mut self, line: usize, key: Option<&str>, is_map: bool) {
        let id = self.node(line, key);
        self.index.nodes[id as usize].is_map = is_map;
        self.open.push((id, self.pending.len()));
    }

    pub fn close(&mut self) {
        let Some((id, mark)) = self.open.pop() else {
            return;
        };
        let start = self.index.children.len() as u32;
        let count = (self.pending.len() - mark) as u32;
        self.index.children.extend(self.pending.drain(mark..));
        self.index.nodes[id as usize].children = (start, count);
    }

    /// The document's index; the builder is ready for the next document.
    pub fn finish(&mut self, start: usize) -> LineIndex {
        self.pending.clear();
        self.open.clear();
        let mut index = std::mem::take(&mut self.index);
        index.start = start;
        index.nodes.shrink_to_fit();
        index.children.shrink_to_fit();
        index.keys.shrink_to_fit();
        index
    }

    pub fn clear(&mut self) {
        *self = LinesBuilder::default();
    }
}
