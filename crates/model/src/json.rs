//! JSON input (`kubectl get ... -o json`) read by serde_json, an order of
//! magnitude faster than a YAML parser on the same text, with the line of
//! every node found by a second pass over the bytes that only tracks
//! brackets, keys and newlines (serde_json has already checked the syntax).
//!
//! Anything this path does not take as plain JSON (a syntax error, a
//! duplicate key, YAML that happens to start with `{`) goes to the YAML
//! parser, which reads JSON too and reports the problem with its line.

use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value;

use crate::lines::{LineIndex, LinesBuilder};
use crate::yaml::{Budget, Document, MAX_DEPTH, YamlError};

/// Whether `text` is worth trying as JSON: its first non-blank byte opens
/// an object or an array.
pub fn looks_like_json(text: &str) -> bool {
    matches!(text.trim_start().as_bytes().first(), Some(b'{' | b'['))
}

/// The one document of a JSON text, or `None` when the YAML parser should
/// read it instead.
pub fn parse(text: &str, budget: &Budget) -> Option<Result<Vec<Document>, YamlError>> {
    let value: Value = serde_json::from_str(text).ok()?;
    let scan = Scan::of(&value, text, 1, 0)?;
    if let Err(message) = budget.charge(scan.nodes, scan.bytes) {
        return Some(Err(YamlError {
            document: 1,
            line: scan.lines.line(""),
            message,
        }));
    }
    Some(Ok(vec![Document {
        index: 1,
        value,
        lines: std::sync::Arc::new(scan.lines),
    }]))
}

/// A JSON List (`kubectl get ... -o json`) whose items are parsed,
/// converted and dropped one by one, in parallel, never held all at once:
/// memory follows the model, not the text. The loader takes every List
/// this way, whatever its size.
pub struct LargeList<'t> {
    /// Each item's text and the line it starts on.
    pub items: Vec<(&'t str, usize)>,
    /// The line the List starts on, where a budget error is reported.
    pub line: usize,
    /// What the List and its items took from the budget so far.
    charged: (AtomicUsize, AtomicUsize),
}

impl LargeList<'_> {
    /// Gives back to `budget` all that the List took, before the whole
    /// text is read (and charged) again.
    pub fn give_back(&self, budget: &Budget) {
        budget.refund(
            self.charged.0.load(Ordering::Relaxed),
            self.charged.1.load(Ordering::Relaxed),
        );
    }

    fn charge(&self, budget: &Budget, nodes: usize, bytes: usize) -> Result<(), String> {
        self.charged.0.fetch_add(nodes, Ordering::Relaxed);
        self.charged.1.fetch_add(bytes, Ordering::Relaxed);
        budget.charge(nodes, bytes)
    }
}

/// `text` as a [`LargeList`] when it is one: an object of a `*List` kind
/// with an apiVersion and more than `min_items` items, as plain JSON
/// around them. `None` for anything else, which is parsed whole; an item
/// that is not plain JSON shows when [`list_item`] parses it.
pub fn large_list<'t>(
    text: &'t str,
    min_items: usize,
    budget: &Budget,
) -> Option<Result<LargeList<'t>, YamlError>> {
    let split = split_list(text)?;
    if split.items.len() <= min_items {
        return None;
    }
    // The items' lines kept as blank lines, so that what follows the array
    // keeps its line numbers.
    let inner = &text[split.open + 1..split.close];
    let newlines = memchr::memchr_iter(b'\n', inner.as_bytes()).count();
    let mut shell = String::with_capacity(text.len() - inner.len() + newlines);
    shell.push_str(&text[..=split.open]);
    shell.extend(std::iter::repeat_n('\n', newlines));
    shell.push_str(&text[split.close..]);
    let value: Value = serde_json::from_str(&shell).ok()?;
    let scan = Scan::of(&value, &shell, 1, 0)?;
    let obj = value.as_object()?;
    let is_list = obj.get("kind")?.as_str()?.ends_with("List")
        && obj.get("apiVersion")?.is_string()
        && obj.get("items")?.as_array()?.is_empty();
    if !is_list {
        return None;
    }
    let line = scan.lines.line("");
    let items = split
        .items
        .iter()
        .map(|&(start, end, at)| (&text[start..end], at))
        .collect();
    let list = LargeList {
        items,
        line,
        charged: Default::default(),
    };
    if let Err(message) = list.charge(budget, scan.nodes, scan.bytes) {
        return Some(Err(YamlError {
            document: 1,
            line,
            message,
        }));
    }
    Some(Ok(list))
}

/// Item `index` of a [`LargeList`], as a document of its own whose lines
/// answer for paths under `items[index]`; `None` when it is not plain JSON.
pub fn list_item(
    list: &LargeList,
    index: usize,
    budget: &Budget,
) -> Option<Result<Document, YamlError>> {
    let (text, line) = list.items[index];
    let value: Value = serde_json::from_str(text).ok()?;
    let mut scan = Scan::of(&value, text, line, 2)?;
    if let Err(message) = list.charge(budget, scan.nodes, scan.bytes) {
        return Some(Err(YamlError {
            document: 1,
            line: list.line,
            message,
        }));
    }
    scan.lines.prefix = crate::yaml::child_index("items", index);
    Some(Ok(Document {
        index: 1,
        value,
        lines: std::sync::Arc::new(scan.lines),
    }))
}

/// Where the items of a large `{"items": [...]}` document are: the array's
/// brackets, and each item's bytes with the line it starts on.
struct Split {
    open: usize,
    close: usize,
    items: Vec<(usize, usize, usize)>,
}

/// The items of a large List, found by a pass that only follows strings,
/// brackets and commas. `None` for anything else. Whether the text is
/// valid JSON is left to parsing the parts: a missing or extra comma makes
/// an item that does not parse.
fn split_list(text: &str) -> Option<Split> {
    let bytes = text.as_bytes();
    let (mut depth, mut line, mut i) = (0usize, 1usize, 0usize);
    // At depth 1: whether the next string is a key, and whether the last
    // key was `items`.
    let (mut key_next, mut after_items_key) = (false, false);
    let (mut open, mut close) = (None, None);
    let mut in_items = false;
    let mut item: Option<(usize, usize)> = None;
    let mut items = Vec::new();
    while i < bytes.len() {
        let c = bytes[i];
        let starts_item = in_items && depth == 2 && item.is_none();
        match c {
            b'\n' => line += 1,
            b' ' | b'\t' | b'\r' | b':' => {}
            b'"' => {
                let end = string_end(bytes, i)?;
                if depth == 1 && key_next {
                    after_items_key = &text[i + 1..end] == "items";
                    key_next = false;
                } else if starts_item {
                    item = Some((i, line));
                }
                i = end;
            }
            b'{' | b'[' => {
                if starts_item {
                    item = Some((i, line));
                }
                if depth == 0 && c != b'{' {
                    return None;
                }
                if depth == 1 && c == b'[' && after_items_key && open.is_none() {
                    open = Some(i);
                    in_items = true;
                }
                depth += 1;
                key_next = depth == 1;
            }
            b'}' | b']' => {
                if in_items && depth == 2 {
                    if let Some((start, at)) = item.take() {
                        items.push((start, i, at));
                    } else if !items.is_empty() {
                        return None;
                    }
                    close = Some(i);
                    in_items = false;
                }
                depth = depth.checked_sub(1)?;
            }
            b',' => {
                if depth == 1 {
                    key_next = true;
                    after_items_key = false;
                }
                if in_items && depth == 2 {
                    let (start, at) = item.take()?;
                    items.push((start, i, at));
                }
            }
            _ => {
                if starts_item {
                    item = Some((i, line));
                }
            }
        }
        i += 1;
    }
    Some(Split {
        open: open?,
        close: close?,
        items,
    })
}

/// What an object's text says of itself before it is read: its
/// `apiVersion` and `kind` as written (escapes left in), and the lines of
/// `metadata` and `metadata.name`, which diagnostics of a clean object
/// may still need.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Head<'t> {
    pub api_version: Option<&'t str>,
    pub kind: Option<&'t str>,
    pub metadata_line: Option<usize>,
    pub name_line: Option<usize>,
}

/// The [`Head`] of the object `text`, which starts at `line`, found by a
/// pass that follows strings and brackets and stops once it has it all.
/// `None` when a key it looks at holds an escape (its text is not the key)
/// or the text is not an object; syntax is left to the parser.
pub fn head(text: &str, line: usize) -> Option<Head<'_>> {
    let bytes = text.as_bytes();
    let mut head = Head::default();
    let mut line = line;
    // Per open container: whether it is an object, and then whether a key
    // comes next.
    let mut stack: Vec<(bool, bool)> = Vec::new();
    // The key at depth 1 whose value is being read.
    let mut top_key: Option<&str> = None;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\n' => line += 1,
            b'{' | b'[' => {
                if stack.is_empty() && bytes[i] != b'{' {
                    return None;
                }
                stack.push((bytes[i] == b'{', bytes[i] == b'{'));
            }
            b'}' | b']' => {
                stack.pop();
                if stack.is_empty() {
                    break;
                }
            }
            b',' => {
                if let Some((true, key_next)) = stack.last_mut() {
                    *key_next = true;
                }
            }
            b'"' => {
                let end = string_end(bytes, i)?;
                let raw = &text[i + 1..end];
                let depth = stack.len();
                if let Some((true, key_next @ true)) = stack.last_mut() {
                    *key_next = false;
                    if depth <= 2 && raw.contains('\\') {
                        return None;
                    }
                    if depth == 1 {
                        top_key = Some(raw);
                        if raw == "metadata" {
                            head.metadata_line = Some(line);
                        }
                    } else if depth == 2 && top_key == Some("metadata") && raw == "name" {
                        head.name_line = Some(line);
                    }
                } else if depth == 1 {
                    match top_key {
                        Some("apiVersion") => head.api_version = Some(raw),
                        Some("kind") => head.kind = Some(raw),
                        _ => {}
                    }
                }
                i = end;
            }
            _ => {}
        }
        i += 1;
        if head.api_version.is_some() && head.kind.is_some() && head.name_line.is_some() {
            break;
        }
    }
    Some(head)
}

struct Scan {
    lines: LineIndex,
    nodes: usize,
    bytes: usize,
    /// Object entries, keys counted as written.
    entries: usize,
}

impl Scan {
    /// `text` scanned as `value`, which serde_json parsed from it: `None`
    /// when an object held a key twice (serde_json keeps the last one
    /// silently; the YAML path reports it), which shows as fewer entries
    /// in the value than keys in the text.
    fn of(value: &Value, text: &str, line: usize, depth: usize) -> Option<Scan> {
        let scan = scan(text, line, depth)?;
        (entries(value) == scan.entries).then_some(scan)
    }
}

/// The object entries of `value`, at every depth.
fn entries(value: &Value) -> usize {
    match value {
        Value::Object(m) => m.len() + m.values().map(entries).sum::<usize>(),
        Value::Array(a) => a.iter().map(entries).sum(),
        _ => 0,
    }
}

/// Per open container: whether it is an object and, in an object, the key
/// whose value comes next (its text and line).
struct Open<'t> {
    is_map: bool,
    key: Option<(std::borrow::Cow<'t, str>, usize)>,
}

/// Lines of valid JSON `text`, which starts at `line` and `depth` levels
/// deep in its document; `None` for nesting too deep, which the YAML path
/// must judge. Duplicate keys are found by [`Scan::of`].
fn scan(text: &str, line: usize, depth: usize) -> Option<Scan> {
    let bytes = text.as_bytes();
    let mut b = LinesBuilder::default();
    let mut stack: Vec<Open> = Vec::new();
    let (mut line, mut i) = (line, 0usize);
    let (mut nodes, mut size, mut entries) = (0usize, 0usize, 0usize);
    let mut start = 0;
    while i < bytes.len() {
        let c = bytes[i];
        match c {
            b'\n' => {
                line += 1;
                i += 1;
            }
            b' ' | b'\t' | b'\r' | b',' | b':' => i += 1,
            b'{' | b'[' => {
                if nodes == 0 {
                    start = line;
                }
                if depth + stack.len() >= MAX_DEPTH {
                    return None;
                }
                let (at, key) = value_start(&mut stack, line);
                b.open(at, key.as_deref(), c == b'{');
                nodes += 1;
                stack.push(Open {
                    is_map: c == b'{',
                    key: None,
                });
                i += 1;
            }
            b'}' | b']' => {
                stack.pop()?;
                b.close();
                i += 1;
            }
            b'"' => {
                let end = string_end(bytes, i)?;
                let raw = &text[i + 1..end];
                let s = if raw.contains('\\') {
                    std::borrow::Cow::Owned(serde_json::from_str::<String>(&text[i..=end]).ok()?)
                } else {
                    std::borrow::Cow::Borrowed(raw)
                };
                size += s.len();
                i = end + 1;
                match stack.last_mut() {
                    Some(top) if top.is_map && top.key.is_none() => {
                        entries += 1;
                        top.key = Some((s, line));
                    }
                    _ => {
                        let (at, key) = value_start(&mut stack, line);
                        b.node(at, key.as_deref());
                        nodes += 1;
                    }
                }
            }
            _ => {
                // A number, true, false or null: up to the next delimiter.
                let end = bytes[i..]
                    .iter()
                    .position(|c| matches!(c, b',' | b'}' | b']' | b' ' | b'\n' | b'\r' | b'\t'))
                    .map_or(bytes.len(), |p| i + p);
                if nodes == 0 {
                    start = line;
                }
                size += end - i;
                let (at, key) = value_start(&mut stack, line);
                b.node(at, key.as_deref());
                nodes += 1;
                i = end;
            }
        }
    }
    Some(Scan {
        lines: b.finish(start),
        nodes,
        bytes: size,
        entries,
    })
}

/// Where the value starting at `line` is recorded: at its key's line in an
/// object, with the key.
fn value_start<'t>(
    stack: &mut [Open<'t>],
    line: usize,
) -> (usize, Option<std::borrow::Cow<'t, str>>) {
    match stack.last_mut().and_then(|top| top.key.take()) {
        Some((k, at)) => (at, Some(k)),
        None => (line, None),
    }
}

/// Index of the quote closing the string opened at `open`.
fn string_end(bytes: &[u8], open: usize) -> Option<usize> {
    let mut i = open + 1;
    // Strings are a good part of a manifest's bytes: jumped over a vector
    // at a time rather than byte by byte.
    while let Some(at) = memchr::memchr2(b'"', b'\\', &bytes[i..]) {
        match bytes[i + at] {
            b'"' => return Some(i + at),
            _ => i += at + 2,
        }
        if i > bytes.len() {
            return None;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::fast_tests::paths;
    use crate::yaml::{MAX_EXPANDED_BYTES, parse_documents};

    #[test]
    fn values_and_lines_are_those_of_the_yaml_path() {
        let text = r#"
{
  "apiVersion": "v1", "kind": "List",
  "items": [
    {
      "metadata": {"name": "a\"b", "labels": {"app.kubernetes.io/name": "x",
        "app": "y"}},
      "spec": {
        "ports": [80, -3, 1.5, 1e3, true, null,
          [], {}, [[1], [2,
            3]]],
        "esc\\aped": "\u00e9\n"
      }
    },
    {"kind": "Pod"}
  ]
}
"#;
        let fast = parse(text, &Budget::default()).unwrap().unwrap();
        let slow = parse_documents(text).unwrap();
        assert_eq!(fast.len(), 1);
        assert_eq!(fast[0].value, slow[0].value);
        let mut all = Vec::new();
        paths(&fast[0].value, String::new(), &mut all);
        assert!(all.len() > 25, "{all:?}");
        for p in all
            .iter()
            .map(String::as_str)
            .chain(["items[0].spec.missing", "items[9]", "nope"])
        {
            assert_eq!(fast[0].lines.line(p), slow[0].lines.line(p), "{p}");
        }
        assert_eq!(fast[0].lines.line("items[0].spec.ports[8][1]"), 10);
        assert_eq!(fast[0].lines.line("items[0].metadata.labels.app"), 7);
    }

    #[test]
    fn what_is_not_plain_json_goes_to_the_yaml_parser() {
        let budget = Budget::default();
        assert!(parse("{\"a\": 1, \"a\": 2}", &budget).is_none());
        let nested = "{\"x\": [{\"a\": 1, \"b\": {\"c\": 1, \"d\": {}, \"c\": 2}}]}";
        assert!(parse(nested, &budget).is_none());
        assert!(parse(&nested.replace("\"c\": 2", "\"e\": 2"), &budget).is_some());
        assert!(parse("{\"a\": 1}\n---\n{\"b\": 2}", &budget).is_none());
        assert!(parse("{a: 1}", &budget).is_none());
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        assert!(parse(&deep, &budget).is_none());
        assert!(!looks_like_json("# c\n{}"));
        assert!(looks_like_json("\n  [1]"));
    }

    /// A pretty-printed List of `n` pods: kubectl's shape, with `metadata`
    /// after the items.
    fn big_list(n: usize) -> String {
        let items: Vec<Value> = (0..n)
            .map(|i| {
                serde_json::json!({
                    "apiVersion": "v1", "kind": "Pod",
                    "metadata": {"name": format!("p{i}"), "namespace": "ns",
                        "labels": {"app.kubernetes.io/name": "x", "pod-template-hash": "abc"}},
                    "spec": {"containers": [{"name": "c", "ports": [{"containerPort": 80}]}]},
                    "status": {"podIP": "10.0.0.1", "podIPs": [{"ip": "10.0.0.1"}]}
                })
            })
            .collect();
        let list = serde_json::json!({"apiVersion": "v1", "items": items,
            "kind": "List", "metadata": {"resourceVersion": ""}});
        serde_json::to_string_pretty(&list).unwrap()
    }

    #[test]
    fn a_large_list_item_by_item_is_the_list_parsed_whole() {
        let text = big_list(4000);
        let budget = Budget::default();
        let list = large_list(&text, 256, &budget).unwrap().unwrap();
        assert_eq!((list.items.len(), list.line), (4000, 1));
        assert!(large_list(&text, 4000, &budget).is_none());
        let whole: Value = serde_json::from_str(&text).unwrap();
        let scan_whole = scan(&text, 1, 0).unwrap();
        // The same values, and for every path the line of the whole index
        // and of the YAML parser.
        let slow = parse_documents(&text).unwrap();
        let mut nodes = 0;
        for i in 0..4000 {
            let doc = list_item(&list, i, &budget).unwrap().unwrap();
            assert!(doc.value == whole["items"][i], "{i}");
            let mut all = Vec::new();
            paths(&doc.value, format!("items[{i}]"), &mut all);
            nodes += all.len();
            all.push(format!("items[{i}].spec.nope"));
            for p in &all {
                let line = doc.lines.line(p);
                assert_eq!(line, scan_whole.lines.line(p), "{p}");
                if i % 97 == 0 {
                    assert_eq!(line, slow[0].lines.line(p), "{p}");
                }
            }
        }
        assert!(nodes > 4000 * 20, "{nodes}");
        let third = list_item(&list, 2, &budget).unwrap().unwrap();
        assert_eq!(third.lines.line("items[2].metadata.name"), 76);
        // Charged as the whole text would be.
        let used = Budget::with_limits(scan_whole.nodes, MAX_EXPANDED_BYTES);
        let list = large_list(&text, 256, &used).unwrap().unwrap();
        for i in 0..4000 {
            assert!(list_item(&list, i, &used).unwrap().is_ok());
        }
        let short = Budget::with_limits(scan_whole.nodes - 1, MAX_EXPANDED_BYTES);
        let list = large_list(&text, 256, &short).unwrap().unwrap();
        let err = (0..4000)
            .find_map(|i| list_item(&list, i, &short).unwrap().err())
            .unwrap();
        assert!(err.message.contains("input too large"), "{err:?}");
        assert_eq!((err.document, err.line), (1, 1));
    }

    /// A List whose last item only the YAML parser reads: what the items
    /// before it took is given back, so the whole text read again fits a
    /// budget that holds it once but not twice.
    #[test]
    fn a_list_sent_back_to_the_yaml_parser_is_charged_once() {
        let text = big_list(300);
        let at = text.rfind("\"x\"").unwrap();
        let text = format!("{}'x'{}", &text[..at], &text[at + 3..]);
        let whole = scan(&text, 1, 0).unwrap();
        let budget = || Budget::with_limits(whole.nodes * 3 / 2, whole.bytes * 3 / 2);
        let read_items = |budget: &Budget| {
            let list = large_list(&text, 0, budget).unwrap().unwrap();
            let read: Vec<bool> = (0..300)
                .map(|i| list_item(&list, i, budget).is_some_and(|d| d.is_ok()))
                .collect();
            assert_eq!(read.iter().filter(|r| **r).count(), 299);
            list
        };
        let given_back = budget();
        read_items(&given_back).give_back(&given_back);
        assert!(crate::yaml::parse_documents_within(&text, &given_back).is_ok());
        let kept = budget();
        read_items(&kept);
        assert!(crate::yaml::parse_documents_within(&text, &kept).is_err());
    }

    #[test]
    fn a_large_list_that_is_not_plain_json_still_goes_to_the_yaml_parser() {
        let text = big_list(4000);
        let budget = Budget::default();
        // A comma missing between two items, one too many, a duplicate key
        // inside an item, an item left open.
        let missing = text.replacen("},\n    {", "}\n    {", 1);
        let trailing = text.replacen("}\n  ],", "},\n  ],", 1);
        let duplicate = text.replacen("\"name\": \"p7\"", "\"name\": \"p7\", \"name\": \"q\"", 1);
        let open = text.replacen("\"name\": \"p9\"", "\"name\": [\"p9\"", 1);
        for bad in [&missing, &trailing, &duplicate, &open] {
            assert_ne!(bad, &text);
            assert!(parse(bad, &budget).is_none());
            // Not split, or split with an item that does not parse.
            if let Some(list) = large_list(bad, 256, &budget) {
                let list = list.unwrap();
                assert!((0..list.items.len()).any(|i| list_item(&list, i, &budget).is_none()));
            }
        }
        // Too deep inside an item, counting the levels above it.
        let deep = format!(
            "{}1{}",
            "[".repeat(MAX_DEPTH - 3),
            "]".repeat(MAX_DEPTH - 3)
        );
        let inside = text.replacen("\"p3\"", &deep, 1);
        assert!(parse(&inside, &budget).is_none());
        let shallow = format!(
            "{}1{}",
            "[".repeat(MAX_DEPTH - 5),
            "]".repeat(MAX_DEPTH - 5)
        );
        let fits = text.replacen("\"p3\"", &shallow, 1);
        assert!(parse(&fits, &budget).unwrap().is_ok());
    }

    #[test]
    fn json_is_charged_to_the_shared_budget() {
        let budget = Budget::with_limits(10, MAX_EXPANDED_BYTES);
        assert!(parse("[1, 2, 3, 4]", &budget).unwrap().is_ok());
        let err = parse("[1, 2, 3, 4, 5, 6]", &budget).unwrap().unwrap_err();
        assert!(err.message.contains("input too large"), "{err:?}");
    }
}
