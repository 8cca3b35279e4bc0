//! YAML (and JSON, which YAML 1.2 reads) into `serde_json::Value` documents,
//! keeping the line of every field so that diagnostics can point at it.

use std::collections::HashMap;

use serde_json::{Map, Number, Value};
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser, Tag};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// Kubernetes objects nest a few dozen levels at most; anything deeper is
/// refused before it can exhaust the stack of a recursive consumer.
pub const MAX_DEPTH: usize = 128;
/// Bounds alias expansion ("billion laughs").
const MAX_NODES_PER_DOCUMENT: usize = 5_000_000;

/// One parsed YAML document.
#[derive(Debug)]
pub struct Document {
    /// 1-based position of the document in its file.
    pub index: usize,
    pub value: Value,
    /// Shared so that objects kept for later rules (`Manifest`) can point into it.
    pub lines: std::sync::Arc<LineIndex>,
}

/// Field path (`spec.ingress[0].from`) to 1-based line.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct LineIndex {
    lines: HashMap<String, usize>,
    start: usize,
}

impl LineIndex {
    /// Line of `path`, or of its nearest ancestor that has one.
    pub fn line(&self, path: &str) -> usize {
        let mut p = path;
        loop {
            if let Some(l) = self.lines.get(p) {
                return *l;
            }
            match parent_path(p) {
                Some(parent) => p = parent,
                None => return self.start,
            }
        }
    }
}

fn parent_path(path: &str) -> Option<&str> {
    if path.is_empty() {
        return None;
    }
    let cut = path.rfind(['.', '[']).unwrap_or(0);
    Some(&path[..cut])
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

/// Parses every document of `text`. Empty documents are dropped.
pub fn parse_documents(text: &str) -> Result<Vec<Document>, YamlError> {
    let mut builder = Builder::default();
    let mut parser = Parser::new_from_str(text);
    let result = parser.load(&mut builder, true);
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

enum Frame {
    Seq {
        items: Vec<Value>,
        path: String,
        anchor: usize,
    },
    Map {
        map: Map<String, Value>,
        path: String,
        anchor: usize,
        key: Option<String>,
    },
}

#[derive(Default)]
struct Builder {
    docs: Vec<Document>,
    doc_index: usize,
    stack: Vec<Frame>,
    lines: HashMap<String, usize>,
    doc_start: usize,
    anchors: HashMap<usize, Value>,
    nodes: usize,
    error: Option<YamlError>,
}

impl Builder {
    fn fail(&mut self, line: usize, message: String) {
        if self.error.is_none() {
            self.error = Some(YamlError {
                document: self.doc_index.max(1),
                line,
                message,
            });
        }
    }

    /// The path the next node will have, recording its line.
    fn next_path(&mut self, line: usize) -> Option<String> {
        let path = match self.stack.last() {
            None => String::new(),
            Some(Frame::Seq { items, path, .. }) => child_index(path, items.len()),
            Some(Frame::Map {
                key: Some(k), path, ..
            }) => child_key(path, k),
            Some(Frame::Map { key: None, .. }) => return None,
        };
        self.lines.entry(path.clone()).or_insert(line);
        Some(path)
    }

    fn count(&mut self, n: usize, line: usize) -> bool {
        self.nodes += n;
        if self.nodes > MAX_NODES_PER_DOCUMENT {
            self.fail(
                line,
                format!("document too large: more than {MAX_NODES_PER_DOCUMENT} nodes"),
            );
            return false;
        }
        true
    }

    fn push_value(&mut self, value: Value, anchor: usize) {
        if anchor > 0 {
            self.anchors.insert(anchor, value.clone());
        }
        match self.stack.last_mut() {
            None => {
                if !value.is_null() {
                    self.docs.push(Document {
                        index: self.doc_index,
                        value,
                        lines: std::sync::Arc::new(LineIndex {
                            lines: std::mem::take(&mut self.lines),
                            start: self.doc_start,
                        }),
                    });
                }
            }
            Some(Frame::Seq { items, .. }) => items.push(value),
            Some(Frame::Map { map, key, .. }) => {
                if let Some(k) = key.take() {
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
        if !self.count(1, line) {
            return;
        }
        let value = resolve_scalar(text, style, tag.as_ref());
        if let Some(Frame::Map { key, .. }) = self.stack.last() {
            if key.is_none() {
                let k = match value {
                    Value::String(s) => s,
                    Value::Null => "null".to_string(),
                    other => other.to_string(),
                };
                if let Some(Frame::Map { key, map, path, .. }) = self.stack.last_mut() {
                    let p = child_key(path, &k);
                    if map.contains_key(&k) {
                        self.fail(line, format!("{p}: duplicate key {k:?}"));
                        return;
                    }
                    *key = Some(k);
                    self.lines.insert(p, line);
                }
                return;
            }
        }
        self.next_path(line);
        self.push_value(value, anchor);
    }

    fn open(&mut self, is_map: bool, anchor: usize, line: usize) {
        if self.stack.len() >= MAX_DEPTH {
            self.fail(line, format!("nesting deeper than {MAX_DEPTH} levels"));
            return;
        }
        let Some(path) = self.next_path(line) else {
            self.fail(
                line,
                "a mapping or sequence used as a mapping key is not supported".into(),
            );
            return;
        };
        self.stack.push(if is_map {
            Frame::Map {
                map: Map::new(),
                path,
                anchor,
                key: None,
            }
        } else {
            Frame::Seq {
                items: Vec::new(),
                path,
                anchor,
            }
        });
    }

    fn close(&mut self) {
        let (value, anchor) = match self.stack.pop() {
            Some(Frame::Seq { items, anchor, .. }) => (Value::Array(items), anchor),
            Some(Frame::Map { map, anchor, .. }) => (Value::Object(map), anchor),
            None => return,
        };
        self.push_value(value, anchor);
    }

    fn alias(&mut self, id: usize, line: usize) {
        let Some(value) = self.anchors.get(&id).cloned() else {
            self.fail(line, "alias to an unknown anchor".into());
            return;
        };
        if !self.count(count_nodes(&value), line) {
            return;
        }
        if let Some(Frame::Map { key: None, .. }) = self.stack.last() {
            match value {
                Value::String(s) => {
                    if let Some(Frame::Map { key, .. }) = self.stack.last_mut() {
                        *key = Some(s);
                    }
                }
                _ => self.fail(
                    line,
                    "an alias used as a mapping key must be a string".into(),
                ),
            }
            return;
        }
        self.next_path(line);
        self.push_value(value, 0);
    }
}

fn count_nodes(v: &Value) -> usize {
    let mut n = 0;
    let mut todo = vec![v];
    while let Some(v) = todo.pop() {
        n += 1;
        match v {
            Value::Array(a) => todo.extend(a.iter()),
            Value::Object(m) => todo.extend(m.values()),
            _ => {}
        }
    }
    n
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        if self.error.is_some() {
            return;
        }
        let line = mark.line().max(1);
        match ev {
            Event::DocumentStart => {
                self.doc_index += 1;
                self.doc_start = line;
                self.stack.clear();
                self.lines.clear();
                self.anchors.clear();
                self.nodes = 0;
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

/// YAML 1.2 core schema resolution of a scalar.
fn resolve_scalar(text: String, style: TScalarStyle, tag: Option<&Tag>) -> Value {
    if let Some(tag) = tag {
        if tag.suffix == "str" {
            return Value::String(text);
        }
    }
    if style != TScalarStyle::Plain {
        return Value::String(text);
    }
    match text.as_str() {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    if let Some(n) = parse_int(&text) {
        return Value::Number(n);
    }
    if looks_like_float(&text) {
        if let Ok(f) = text.parse::<f64>() {
            if let Some(n) = Number::from_f64(f) {
                return Value::Number(n);
            }
        }
    }
    Value::String(text)
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
