//! JSON input (`kubectl get ... -o json`) read by serde_json, an order of
//! magnitude faster than a YAML parser on the same text, with the line of
//! every node found by a second pass over the bytes that only tracks
//! brackets, keys and newlines (serde_json has already checked the syntax).
//!
//! Anything this path does not take as plain JSON (a syntax error, a
//! duplicate key, YAML that happens to start with `{`) goes to the YAML
//! parser, which reads JSON too and reports the problem with its line.

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
    let scan = scan(text)?;
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

struct Scan {
    lines: LineIndex,
    nodes: usize,
    bytes: usize,
}

/// Per open container: whether it is an object and, in an object, the key
/// whose value comes next (its text and line).
struct Open<'t> {
    is_map: bool,
    key: Option<(std::borrow::Cow<'t, str>, usize)>,
    /// The keys seen, for refusing duplicates as the YAML path does.
    seen: Vec<std::borrow::Cow<'t, str>>,
}

/// Lines of valid JSON `text`; `None` for what the YAML path must judge
/// (nesting too deep, a duplicate key).
fn scan(text: &str) -> Option<Scan> {
    let bytes = text.as_bytes();
    let mut b = LinesBuilder::default();
    let mut stack: Vec<Open> = Vec::new();
    let (mut line, mut i) = (1usize, 0usize);
    let (mut nodes, mut size) = (0usize, 0usize);
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
                if stack.len() >= MAX_DEPTH {
                    return None;
                }
                let (at, key) = value_start(&mut stack, line);
                b.open(at, key.as_deref(), c == b'{');
                nodes += 1;
                stack.push(Open {
                    is_map: c == b'{',
                    key: None,
                    seen: Vec::new(),
                });
                i += 1;
            }
            b'}' | b']' => {
                let open = stack.pop()?;
                if open.seen.len() > 1 {
                    let mut keys = open.seen;
                    keys.sort_unstable();
                    if keys.windows(2).any(|w| w[0] == w[1]) {
                        return None;
                    }
                }
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
                        top.seen.push(s.clone());
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
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return Some(i),
            _ => i += 1,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::{MAX_EXPANDED_BYTES, child_index, child_key, parse_documents};

    /// Every path of `v`, containers and scalars.
    fn paths(v: &Value, path: String, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    paths(x, child_key(&path, k), out);
                }
            }
            Value::Array(a) => {
                for (i, x) in a.iter().enumerate() {
                    paths(x, child_index(&path, i), out);
                }
            }
            _ => {}
        }
        out.push(path);
    }

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
        assert!(parse("{\"a\": 1}\n---\n{\"b\": 2}", &budget).is_none());
        assert!(parse("{a: 1}", &budget).is_none());
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        assert!(parse(&deep, &budget).is_none());
        assert!(!looks_like_json("# c\n{}"));
        assert!(looks_like_json("\n  [1]"));
    }

    #[test]
    fn json_is_charged_to_the_shared_budget() {
        let budget = Budget::with_limits(10, MAX_EXPANDED_BYTES);
        assert!(parse("[1, 2, 3, 4]", &budget).unwrap().is_ok());
        let err = parse("[1, 2, 3, 4, 5, 6]", &budget).unwrap().unwrap_err();
        assert!(err.message.contains("input too large"), "{err:?}");
    }
}
