//! YAML (and JSON, which YAML 1.2 reads) into `serde_json::Value` documents,
//! keeping the line of every field so that diagnostics can point at it.

use std::borrow::Cow;
use std::collections::HashMap;

use serde_json::{Map, Number, Value};
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser, Tag};
use yaml_rust2::scanner::{Marker, TScalarStyle};

mod budget;
mod fast;
#[cfg(test)]
pub(crate) mod fast_tests;
mod list;
#[cfg(test)]
mod list_tests;
#[cfg(test)]
mod texts;
mod tokens;

pub use budget::{Budget, MAX_EXPANDED_BYTES, MAX_NODES};
pub use list::{LargeList, ListItem, large_list, list_item, list_item_tokens};

/// Kubernetes objects nest a few dozen levels at most; anything deeper is
/// refused before it can exhaust the stack of a recursive consumer.
pub const MAX_DEPTH: usize = 128;
/// Charges are batched per parser so that threads sharing a budget do not
/// contend on every scalar; a batch never exceeds this.
const BATCH_NODES: usize = 4096;
const BATCH_BYTES: usize = 1 << 20;

/// One parsed YAML document.
#[derive(Debug)]
pub struct Document {
    /// 1-based position of the document in its file.
    pub index: usize,
    pub value: Value,
    /// Shared so that objects kept for later rules (`Manifest`) can point into it.
    pub lines: std::sync::Arc<LineIndex>,
}

pub use crate::lines::LineIndex;
use crate::lines::LinesBuilder;

/// `field` of the object at `prefix` in its document (`items[3]` and
/// `metadata.name`: `items[3].metadata.name`).
pub fn full_path(prefix: &str, field: &str) -> String {
    match (prefix.is_empty(), field.is_empty()) {
        (true, _) => field.to_string(),
        (false, true) => prefix.to_string(),
        (false, false) if field.starts_with('[') => format!("{prefix}{field}"),
        (false, false) => format!("{prefix}.{field}"),
    }
}

pub fn child_key(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

pub fn child_index(path: &str, index: usize) -> String {
    format!("{path}[{index}]")
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlError {
    pub document: usize,
    pub line: usize,
    pub message: String,
}

/// Parses every document of `text`, within a budget of its own. Empty
/// documents are dropped.
pub fn parse_documents(text: &str) -> Result<Vec<Document>, YamlError> {
    parse_documents_within(text, &Budget::default())
}

/// Parses every document of `text`, charging `budget`, which the other
/// files of the same input share.
pub fn parse_documents_within(text: &str, budget: &Budget) -> Result<Vec<Document>, YamlError> {
    parse(text, budget, None)
}

/// For files that hold one document (the flows file): a second non-empty
/// document is an error as soon as it starts, before it is parsed.
pub fn parse_single_document(text: &str) -> Result<Option<Document>, YamlError> {
    Ok(parse(text, &Budget::default(), Some(1))?.pop())
}

fn parse(
    text: &str,
    budget: &Budget,
    max_documents: Option<usize>,
) -> Result<Vec<Document>, YamlError> {
    // The block YAML that kubectl and Helm write is read by a scanner of
    // its own; anything else, and any error, is read again by yaml-rust2,
    // which has the last word on every message.
    if let Some(docs) = fast::parse(text, budget, max_documents) {
        return Ok(docs);
    }
    parse_slow(text, budget, max_documents)
}

/// yaml-rust2's reading of `text`, for any YAML.
fn parse_slow(
    text: &str,
    budget: &Budget,
    max_documents: Option<usize>,
) -> Result<Vec<Document>, YamlError> {
    let mut builder = Builder {
        budget: Some(budget),
        max_documents,
        ..Builder::default()
    };
    let mut parser = Parser::new_from_str(text);
    let result = parser.load(&mut builder, true);
    if let Err(message) = builder.flush() {
        builder.fail(builder.line, message);
    }
    if let Some(err) = builder.error.take() {
        return Err(err);
    }
    if let Err(e) = result {
        return Err(YamlError {
            document: builder.doc_index.max(1),
            line: e.marker().line().max(1),
            message: format!("invalid YAML: {}", e.info()),
        });
    }
    Ok(builder.docs)
}

/// What a value cost to build: (nodes, bytes).
type Size = (usize, usize);

enum Frame {
    Seq {
        items: Vec<Value>,
        anchor: usize,
        /// `Builder::used` when the frame opened.
        start: Size,
    },
    Map {
        map: Map<String, Value>,
        anchor: usize,
        /// The key whose value comes next, and its line.
        key: Option<(String, usize)>,
        start: Size,
    },
}

#[derive(Default)]
struct Builder<'b> {
    docs: Vec<Document>,
    doc_index: usize,
    stack: Vec<Frame>,
    lines: LinesBuilder,
    doc_start: usize,
    /// Each anchored value with its size, charged again at every alias.
    anchors: HashMap<usize, (Value, Size)>,
    budget: Option<&'b Budget>,
    /// Charged by this parse so far, and the part not yet passed to `budget`.
    used: Size,
    pending: Size,
    max_documents: Option<usize>,
    /// Of the last event.
    line: usize,
    error: Option<YamlError>,
}

impl Builder<'_> {
    fn fail(&mut self, line: usize, message: String) {
        if self.error.is_none() {
            self.error = Some(YamlError {
                document: self.doc_index.max(1),
                line,
                message,
            });
        }
    }

    /// Records the line of the node that starts now: a mapping entry's
    /// value is at its key's line. `None` when the node would be a key.
    fn next_node(&mut self, line: usize, container: Option<bool>) -> Option<()> {
        let (line, key) = match self.stack.last() {
            Some(Frame::Map { key: None, .. }) => return None,
            Some(Frame::Map {
                key: Some((k, l)), ..
            }) => (*l, Some(k.as_str())),
            _ => (line, None),
        };
        match container {
            Some(is_map) => self.lines.open(line, key, is_map),
            None => {
                self.lines.node(line, key);
            }
        }
        Some(())
    }

    /// The path of the innermost open container, for messages only.
    fn current_path(&self) -> String {
        let mut path = String::new();
        for pair in self.stack.windows(2) {
            path = match &pair[0] {
                Frame::Seq { items, .. } => child_index(&path, items.len()),
                Frame::Map {
                    key: Some((k, _)), ..
                } => child_key(&path, k),
                Frame::Map { key: None, .. } => path,
            };
        }
        path
    }

    /// Charges `nodes` and `bytes`; false (with the error recorded) once the
    /// budget is spent.
    fn charge(&mut self, nodes: usize, bytes: usize, line: usize) -> bool {
        self.used.0 += nodes;
        self.used.1 += bytes;
        self.pending.0 += nodes;
        self.pending.1 += bytes;
        if self.pending.0 >= BATCH_NODES || self.pending.1 >= BATCH_BYTES {
            if let Err(message) = self.flush() {
                self.fail(line, message);
                return false;
            }
        }
        true
    }

    fn flush(&mut self) -> Result<(), String> {
        let (nodes, bytes) = std::mem::take(&mut self.pending);
        match self.budget {
            Some(budget) => budget.charge(nodes, bytes),
            None => Ok(()),
        }
    }

    /// A second non-empty document where one is allowed: refused at its
    /// first node, so nothing of it is built.
    fn too_many_documents(&mut self, line: usize) -> bool {
        let Some(max) = self.max_documents else {
            return false;
        };
        if self.stack.is_empty() && self.docs.len() >= max {
            self.fail(
                line,
                format!(
                    "expected {} YAML document, found another starting here",
                    if max == 1 {
                        "one".to_string()
                    } else {
                        max.to_string()
                    }
                ),
            );
            return true;
        }
        false
    }

    fn push_value(&mut self, value: Value, anchor: usize, size: Size) {
        if anchor > 0 {
            self.anchors.insert(anchor, (value.clone(), size));
        }
        match self.stack.last_mut() {
            None => {
                if !value.is_null() {
                    self.docs.push(Document {
                        index: self.doc_index,
                        value,
                        lines: std::sync::Arc::new(self.lines.finish(self.doc_start)),
                    });
                }
            }
            Some(Frame::Seq { items, .. }) => items.push(value),
            Some(Frame::Map { map, key, .. }) => {
                if let Some((k, _)) = key.take() {
                    map.insert(k, value);
                }
            }
        }
    }

    fn scalar(
        &mut self,
        text: String,
        style: TScalarStyle,
        anchor: usize,
        tag: Option<Tag>,
        line: usize,
    ) {
        // A key is not a value of its own: its text is charged, and its
        // entry counts once, through the value (a 150,000-pod dump has
        // some 6 million values, and as many keys again).
        let is_key = matches!(self.stack.last(), Some(Frame::Map { key: None, .. }));
        let nodes = usize::from(!is_key);
        if !self.charge(nodes, text.len(), line) {
            return;
        }
        let size = (1, text.len());
        if is_key {
            let k = key_text(Cow::Owned(text), style, tag.as_ref()).into_owned();
            let duplicate =
                matches!(self.stack.last(), Some(Frame::Map { map, .. }) if map.contains_key(&k));
            if duplicate {
                let p = child_key(&self.current_path(), &k);
                self.fail(line, format!("{p}: duplicate key {k:?}"));
                return;
            }
            if let Some(Frame::Map { key, .. }) = self.stack.last_mut() {
                *key = Some((k, line));
            }
            return;
        }
        let value = resolve_scalar(text, style, tag.as_ref());
        if value.is_null() && self.stack.is_empty() {
            // An empty document: dropped, whatever the document limit.
            self.push_value(value, anchor, size);
            return;
        }
        if self.too_many_documents(line) {
            return;
        }
        self.next_node(line, None);
        self.push_value(value, anchor, size);
    }

    fn open(&mut self, is_map: bool, anchor: usize, line: usize) {
        if self.too_many_documents(line) {
            return;
        }
        if self.stack.len() >= MAX_DEPTH {
            self.fail(line, format!("nesting deeper than {MAX_DEPTH} levels"));
            return;
        }
        if self.next_node(line, Some(is_map)).is_none() {
            self.fail(
                line,
                "a mapping or sequence used as a mapping key is not supported".into(),
            );
            return;
        }
        if !self.charge(1, 0, line) {
            return;
        }
        let start = self.used;
        self.stack.push(if is_map {
            Frame::Map {
                map: Map::new(),
                anchor,
                key: None,
                start,
            }
        } else {
            Frame::Seq {
                items: Vec::new(),
                anchor,
                start,
            }
        });
    }

    fn close(&mut self) {
        self.lines.close();
        let (value, anchor, start) = match self.stack.pop() {
            Some(Frame::Seq {
                items,
                anchor,
                start,
                ..
            }) => (Value::Array(items), anchor, start),
            Some(Frame::Map {
                map, anchor, start, ..
            }) => (Value::Object(map), anchor, start),
            None => return,
        };
        // Its own node was charged before `start`.
        let size = (self.used.0 - start.0 + 1, self.used.1 - start.1);
        self.push_value(value, anchor, size);
    }

    fn alias(&mut self, id: usize, line: usize) {
        if self.too_many_documents(line) {
            return;
        }
        let Some(&(_, size)) = self.anchors.get(&id) else {
            self.fail(line, "alias to an unknown anchor".into());
            return;
        };
        // Charged before the copy is made.
        if !self.charge(size.0, size.1, line) {
            return;
        }
        let value = self.anchors[&id].0.clone();
        if let Some(Frame::Map { key: None, .. }) = self.stack.last() {
            match value {
                Value::String(s) => {
                    if let Some(Frame::Map { key, .. }) = self.stack.last_mut() {
                        *key = Some((s, line));
                    }
                }
                _ => self.fail(
                    line,
                    "an alias used as a mapping key must be a string".into(),
                ),
            }
            return;
        }
        self.next_node(line, None);
        self.push_value(value, 0, size);
    }
}

impl MarkedEventReceiver for Builder<'_> {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        self.event(ev, mark.line().max(1));
    }
}

impl Builder<'_> {
    /// One event of yaml-rust2's or of the fast path's, at `line`: the only
    /// part of a marker the documents keep.
    fn event(&mut self, ev: Event, line: usize) {
        if self.error.is_some() {
            return;
        }
        self.line = line;
        match ev {
            Event::DocumentStart => {
                self.doc_index += 1;
                self.doc_start = line;
                self.stack.clear();
                self.lines.clear();
                self.anchors.clear();
            }
            Event::Scalar(text, style, anchor, tag) => self.scalar(text, style, anchor, tag, line),
            Event::SequenceStart(anchor, _) => self.open(false, anchor, line),
            Event::MappingStart(anchor, _) => self.open(true, anchor, line),
            Event::SequenceEnd | Event::MappingEnd => self.close(),
            Event::Alias(id) => self.alias(id, line),
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd | Event::Nothing => {}
        }
    }
}

/// What a scalar resolves to under the YAML 1.2 core schema: its own
/// text, or a value of another type.
pub(crate) enum Resolved {
    Text,
    Null,
    Bool(bool),
    Number(Number),
}

pub(crate) fn resolve(text: &str, style: TScalarStyle, tag: Option<&Tag>) -> Resolved {
    if tag.is_some_and(|tag| tag.suffix == "str") || style != TScalarStyle::Plain {
        return Resolved::Text;
    }
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Resolved::Null,
        "true" | "True" | "TRUE" => return Resolved::Bool(true),
        "false" | "False" | "FALSE" => return Resolved::Bool(false),
        _ => {}
    }
    if let Some(n) = parse_int(text) {
        return Resolved::Number(n);
    }
    if looks_like_float(text) {
        if let Some(n) = text.parse::<f64>().ok().and_then(Number::from_f64) {
            return Resolved::Number(n);
        }
    }
    Resolved::Text
}

fn resolve_scalar(text: String, style: TScalarStyle, tag: Option<&Tag>) -> Value {
    match resolve(&text, style, tag) {
        Resolved::Text => Value::String(text),
        Resolved::Null => Value::Null,
        Resolved::Bool(b) => Value::Bool(b),
        Resolved::Number(n) => Value::Number(n),
    }
}

/// The mapping key a scalar makes: its text when it resolves to a string,
/// else the value it resolves to as JSON prints it (`0x1F:` is key "31").
pub(crate) fn key_text<'a>(
    text: Cow<'a, str>,
    style: TScalarStyle,
    tag: Option<&Tag>,
) -> Cow<'a, str> {
    match resolve(&text, style, tag) {
        Resolved::Text => text,
        Resolved::Null => Cow::Borrowed("null"),
        Resolved::Bool(b) => Cow::Owned(Value::Bool(b).to_string()),
        Resolved::Number(n) => Cow::Owned(Value::Number(n).to_string()),
    }
}

fn parse_int(s: &str) -> Option<Number> {
    let (neg, digits) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let (radix, body) = if let Some(h) = digits.strip_prefix("0x") {
        (16, h)
    } else if let Some(o) = digits.strip_prefix("0o") {
        (8, o)
    } else {
        (10, digits)
    };
    if body.is_empty() || !body.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let magnitude = u64::from_str_radix(body, radix).ok()?;
    if neg {
        let v = i64::try_from(magnitude).ok()?;
        Some(Number::from(-v))
    } else {
        Some(Number::from(magnitude))
    }
}

fn looks_like_float(s: &str) -> bool {
    let body = s.trim_start_matches(['-', '+']);
    !body.is_empty()
        && body
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '-' | '+'))
        && body
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_digit() || c == '.')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_lines_and_documents() {
        let docs =
            parse_documents("a: 1\n---\nkind: X\nspec:\n  ports:\n    - port: 80\n      name: x\n")
                .unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[1].index, 2);
        assert_eq!(docs[1].lines.line("spec.ports[0].port"), 6);
        assert_eq!(docs[1].lines.line("spec.ports[0].name"), 7);
        assert_eq!(docs[1].lines.line("spec.ports[0].missing"), 6);
        assert_eq!(docs[1].value["spec"]["ports"][0]["port"], 80);
    }

    #[test]
    fn scalars_follow_the_core_schema() {
        let d =
            parse_documents("a: \"80\"\nb: 80\nc: true\nd: ~\ne: 1.5\nf: 0x1F\ng: yes\n").unwrap();
        let v = &d[0].value;
        assert_eq!(v["a"], "80");
        assert_eq!(v["b"], 80);
        assert_eq!(v["c"], true);
        assert!(v["d"].is_null());
        assert_eq!(v["e"], 1.5);
        assert_eq!(v["f"], 31);
        assert_eq!(v["g"], "yes");
    }

    #[test]
    fn json_is_read_too() {
        let d = parse_documents("{\"kind\": \"Pod\", \"spec\": {\"x\": [1, 2]}}").unwrap();
        assert_eq!(d[0].value["spec"]["x"][1], 2);
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let text = "[".repeat(100_000);
        let err = parse_documents(&text).unwrap_err();
        assert!(
            err.message.contains("nesting") || err.message.contains("invalid YAML"),
            "{err:?}"
        );
    }

    #[test]
    fn alias_bombs_are_bounded() {
        let mut text = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 0..9 {
            let prev = if i == 0 {
                "a".to_string()
            } else {
                format!("b{}", i - 1)
            };
            text.push_str(&format!("b{i}: &b{i} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"));
        }
        let err = parse_documents(&text).unwrap_err();
        assert!(err.message.contains("too large"), "{err:?}");
    }

    /// A billion-laughs document of 10^`levels` scalars in about 1 KB.
    fn laughs(levels: usize) -> String {
        let mut text = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 0..levels - 1 {
            let prev = if i == 0 {
                "a".to_string()
            } else {
                format!("b{}", i - 1)
            };
            let refs = vec![format!("*{prev}"); 10].join(", ");
            text.push_str(&format!("b{i}: &b{i} [{refs}]\n"));
        }
        text
    }

    #[track_caller]
    fn fails_fast(
        result: Result<Vec<Document>, YamlError>,
        start: std::time::Instant,
    ) -> YamlError {
        let err = result.map(|d| d.len()).unwrap_err();
        assert!(err.message.contains("input too large"), "{err:?}");
        assert!(
            start.elapsed() < std::time::Duration::from_secs(30),
            "{:?}",
            start.elapsed()
        );
        err
    }

    #[test]
    fn an_alias_bomb_spread_over_documents_is_bounded() {
        // 20 documents of 10^6 values each: every one alone is acceptable,
        // the input is not (the limit used to reset at every `---`).
        let one = laughs(6);
        assert!(parse_documents(&one).is_ok());
        let text = vec![one; 20].join("---\n");
        assert!(text.len() < 10_000, "{}", text.len());
        let start = std::time::Instant::now();
        let err = fails_fast(parse_documents(&text), start);
        assert!(err.message.contains(&MAX_NODES.to_string()), "{err:?}");
        assert!(err.document > 1, "{err:?}");
    }

    #[test]
    fn a_long_string_aliased_many_times_is_bounded() {
        // 100 KB aliased 25,000 times: 2.5 GB from a 200 KB file.
        let mut text = format!("s: &s {}\nl:\n", "x".repeat(100_000));
        text.push_str(&"  - *s\n".repeat(25_000));
        let start = std::time::Instant::now();
        let err = fails_fast(parse_documents(&text), start);
        assert!(err.message.contains("MiB of text"), "{err:?}");
    }

    #[test]
    fn the_budget_is_shared_across_files() {
        let budget = Budget::with_limits(1_500_000, MAX_EXPANDED_BYTES);
        let one = laughs(6);
        assert!(parse_documents_within(&one, &budget).is_ok());
        let start = std::time::Instant::now();
        fails_fast(parse_documents_within(&one, &budget), start);
        // From several threads at once, as a parallel loader would.
        let budget = Budget::with_limits(3_500_000, MAX_EXPANDED_BYTES);
        let failed = std::thread::scope(|s| {
            let handles: Vec<_> = (0..4)
                .map(|_| s.spawn(|| parse_documents_within(&one, &budget).is_err()))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap())
                .filter(|f| *f)
                .count()
        });
        assert!(failed >= 1, "4 x 10^6 values passed a budget of 3.5 x 10^6");
    }

    #[test]
    fn keys_are_charged_as_text_not_as_values() {
        // One mapping and three values: a budget of four is enough.
        let budget = Budget::with_limits(4, MAX_EXPANDED_BYTES);
        assert!(parse_documents_within("a: 1\nb: 2\nc: 3\n", &budget).is_ok());
        // Keys being free cannot make aliases free: a key's anchor is not
        // one an alias can name.
        let budget = Budget::with_limits(100, MAX_EXPANDED_BYTES);
        let text = format!("{{&k \"\": 1, l: [{}]}}\n", vec!["*k"; 200].join(", "));
        let err = parse_documents_within(&text, &budget).unwrap_err();
        assert!(err.message.contains("unknown anchor"), "{err:?}");
    }

    #[test]
    fn a_second_document_is_refused_before_it_is_parsed() {
        let text = format!("a: 1\n---\n{}", laughs(12));
        let start = std::time::Instant::now();
        let err = parse_single_document(&text).unwrap_err();
        assert!(start.elapsed() < std::time::Duration::from_secs(2));
        assert_eq!((err.document, err.line), (2, 3), "{err:?}");
        assert!(
            err.message.contains("expected one YAML document"),
            "{err:?}"
        );
        // Empty documents around the one are not a second one.
        let doc = parse_single_document("---\na: 1\n---\n").unwrap().unwrap();
        assert_eq!(doc.value["a"], 1);
        assert!(parse_single_document("").unwrap().is_none());
    }

    #[test]
    fn duplicate_keys_are_rejected() {
        let err = parse_documents("a: 1\nb:\n  c: 1\n  c: 2\n").unwrap_err();
        assert_eq!(err.line, 4);
        assert!(err.message.contains("b.c"));
    }

    #[test]
    fn syntax_errors_carry_a_line() {
        let err = parse_documents("a: 1\n---\nb: [1, 2\nc: 3\n").unwrap_err();
        assert_eq!(err.document, 2);
        assert!(err.line >= 3);
    }
}
