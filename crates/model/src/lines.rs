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
        let mut node = 0usize;
        let mut rest = path;
        let mut root = true;
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

    /// Puts `items` (the indexes of a split document's parts, in order) in
    /// as the items of the empty sequence that `key` of the root holds, as
    /// if the whole document had been indexed at once.
    pub(crate) fn graft(&mut self, key: &str, items: Vec<LineIndex>) -> Option<()> {
        let root = *self.nodes.first().filter(|n| n.is_map)?;
        let (seq, rest) = self.entry(&root, key)?;
        if !rest.is_empty() || self.nodes[seq].is_map || self.nodes[seq].children.1 != 0 {
            return None;
        }
        let total: usize = items.iter().map(|i| i.nodes.len()).sum();
        self.nodes.reserve(total);
        self.children.reserve(total + items.len());
        let mut roots = Vec::with_capacity(items.len());
        for item in items {
            let node_base = u32::try_from(self.nodes.len()).ok()?;
            let child_base = u32::try_from(self.children.len()).ok()?;
            let key_base = u32::try_from(self.keys.len()).ok()?;
            if item.nodes.is_empty() {
                return None;
            }
            roots.push(node_base);
            self.nodes.extend(item.nodes.iter().map(|n| Node {
                key: (n.key.0 + key_base, n.key.1),
                children: (n.children.0 + child_base, n.children.1),
                ..*n
            }));
            self.children
                .extend(item.children.iter().map(|c| c + node_base));
            self.keys.push_str(&item.keys);
        }
        let start = u32::try_from(self.children.len()).ok()?;
        self.nodes[seq].children = (start, roots.len() as u32);
        self.children.extend(roots);
        Some(())
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
