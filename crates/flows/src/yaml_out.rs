//! A small YAML writer for the objects netpol generates: block style with
//! kubectl's indentation, keys in the order given, and strings quoted only
//! when a YAML 1.1 or 1.2 reader could take them for something else.

pub enum Node {
    Map(Vec<(String, Node)>),
    Seq(Vec<Node>),
    Str(String),
    Int(u64),
}

impl Node {
    pub fn map<K: Into<String>>(entries: Vec<(K, Node)>) -> Node {
        Node::Map(entries.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    pub fn str(s: impl Into<String>) -> Node {
        Node::Str(s.into())
    }

    fn is_empty_collection(&self) -> bool {
        matches!(self, Node::Map(m) if m.is_empty()) || matches!(self, Node::Seq(s) if s.is_empty())
    }
}

/// One document's text (without the `---` separator).
pub fn emit(node: &Node) -> String {
    let mut out = String::new();
    match node {
        Node::Map(entries) => map_body(entries, 0, &mut out),
        other => {
            out.push_str(&inline(other));
            out.push('\n');
        }
    }
    out
}

fn inline(node: &Node) -> String {
    match node {
        Node::Map(m) if m.is_empty() => "{}".into(),
        Node::Seq(s) if s.is_empty() => "[]".into(),
        Node::Str(s) => scalar(s),
        Node::Int(n) => n.to_string(),
        _ => unreachable!("only empty collections are written inline"),
    }
}

fn map_body(entries: &[(String, Node)], indent: usize, out: &mut String) {
    for (k, v) in entries {
        out.push_str(&" ".repeat(indent));
        entry(k, v, indent, out);
    }
}

/// `key: value`, the key already indented.
fn entry(k: &str, v: &Node, indent: usize, out: &mut String) {
    out.push_str(&scalar(k));
    out.push(':');
    match v {
        Node::Map(m) if !m.is_empty() => {
            out.push('\n');
            map_body(m, indent + 2, out);
        }
        Node::Seq(items) if !items.is_empty() => {
            out.push('\n');
            seq_body(items, indent + 2, out);
        }
        other => {
            out.push(' ');
            out.push_str(&inline(other));
            out.push('\n');
        }
    }
}

fn seq_body(items: &[Node], indent: usize, out: &mut String) {
    for item in items {
        out.push_str(&" ".repeat(indent));
        out.push_str("- ");
        match item {
            Node::Map(m) if !m.is_empty() => {
                let (k, v) = &m[0];
                entry(k, v, indent + 2, out);
                map_body(&m[1..], indent + 2, out);
            }
            Node::Seq(s) if !s.is_empty() => unreachable!("netpol writes no nested sequences"),
            other => {
                debug_assert!(
                    other.is_empty_collection() || matches!(other, Node::Str(_) | Node::Int(_))
                );
                out.push_str(&inline(other));
                out.push('\n');
            }
        }
    }
}

/// Plain when unambiguous, else a double-quoted (JSON) string.
pub fn scalar(s: &str) -> String {
    if plain_ok(s) {
        s.to_string()
    } else {
        serde_json::to_string(s).expect("strings serialize")
    }
}

fn plain_ok(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    if !first.is_ascii_alphanumeric() || s.ends_with(' ') {
        return false;
    }
    if !s
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || " ._/-()=,+>".contains(c))
        || s.contains("  ")
    {
        return false;
    }
    // Words YAML 1.1 (which kubectl's parser follows) reads as booleans or null.
    const WORDS: [&str; 11] = [
        "y", "n", "yes", "no", "on", "off", "true", "false", "null", "~", "nan",
    ];
    if WORDS.contains(&s.to_ascii_lowercase().as_str()) {
        return false;
    }
    // Anything number-like (ints, floats, 0x.., 0o.., 1_000, 1e3, 12:30 sexagesimals).
    let numberish = s
        .chars()
        .all(|c| c.is_ascii_hexdigit() || "xXoO._+-eE".contains(c))
        && s.chars()
            .next()
            .is_some_and(|c| c.is_ascii_digit() || c == '.');
    !numberish
}

#[cfg(test)]
mod tests {
    use super::*;
    use netpol_model::yaml::parse_documents;

    #[test]
    fn scalars_round_trip_as_strings() {
        for s in [
            "web",
            "LLM API",
            "yes",
            "No",
            "true",
            "null",
            "80",
            "0x1F",
            "1e3",
            "10.0.0.0/8",
            "fd00::/8",
            "a: b",
            "#x",
            " x",
            "x ",
            "",
            "-",
            "app.kubernetes.io/name",
            "1.5",
            "0777",
            "12e",
            "ingress-nginx -> * on service",
            "~",
        ] {
            let text = format!("k: {}\n", scalar(s));
            let doc = &parse_documents(&text).unwrap()[0];
            assert_eq!(
                doc.value["k"],
                serde_json::Value::String(s.to_string()),
                "{text}"
            );
        }
        assert_eq!(scalar("LLM API"), "LLM API");
        assert_eq!(scalar("yes"), "\"yes\"");
        assert_eq!(scalar("8080"), "\"8080\"");
    }

    #[test]
    fn kubectl_layout() {
        let n = Node::map(vec![
            ("a", Node::map(vec![("b", Node::str("c"))])),
            ("empty", Node::map::<&str>(vec![])),
            (
                "list",
                Node::Seq(vec![
                    Node::map(vec![
                        ("x", Node::Int(1)),
                        ("yy", Node::Seq(vec![Node::str("z")])),
                    ]),
                    Node::str("w"),
                ]),
            ),
        ]);
        assert_eq!(
            emit(&n),
            "a:\n  b: c\nempty: {}\nlist:\n  - x: 1\n    yy:\n      - z\n  - w\n"
        );
    }
}
