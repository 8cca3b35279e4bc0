//! Texts for the YAML readers' tests: generated ones in and around the fast
//! path's subset (and broken by one byte), and a live dump as kubectl
//! writes it.

use proptest::prelude::*;

#[derive(Debug, Clone)]
pub(super) enum Node {
    /// As written: `80`, `"a b"`, `'x'`, or empty for a missing value.
    Scalar(&'static str),
    Flow(&'static str),
    /// Entries, and how much deeper than its parent it is indented.
    Map(Vec<(&'static str, Node)>, usize),
    /// Items, whether at its key's column, extra indent, spaces after `-`.
    Seq(Vec<Node>, bool, usize, usize),
}

/// Scalars as written, most of them in the subset...
const SCALARS: &[&str] = &[
    "a",
    "web",
    "a b",
    "a  b",
    "a:b",
    "a#b",
    "a #b",
    "-1",
    "-a",
    "?x",
    ":x",
    "x]",
    "a{b}",
    "a, b",
    "80",
    "+80",
    "-0",
    "0x1F",
    "0o17",
    "0x",
    "1_000",
    "1.5",
    "-1.5e3",
    ".5",
    "1e3",
    "1.",
    "true",
    "True",
    "TRUE",
    "false",
    "FALSE",
    "null",
    "Null",
    "NULL",
    "~",
    "yes",
    "on",
    "é",
    "日本",
    "http://x:80/p",
    "10.0.0.0/8",
    "2001:db8::/32",
    "a'b",
    "a\"b",
    "---",
    "...",
    "'a'",
    "''",
    "'it''s'",
    "'a # b'",
    "'a: b'",
    "'  x  '",
    "'\\n'",
    "'\"'",
    "\"a\"",
    "\"\"",
    "\"a\\\"b\"",
    "\"\\t\\n\\\\\"",
    "\"\\x41\\u00e9\\U0001F600\"",
    "\"\\N\\_\\L\\P\\e\\0\\a\\b\\v\\f\\r\\/\\ \"",
    "\"a # b\"",
    "\"a: b\"",
    "\"'\"",
    "\"a\" # c",
    "",
    "[1, 2]",
    "[\"a\", \"b\"]",
    "[a]",
    "[ a ,b ]",
    "['x', \"y\"] # c",
    "[-1, 0x1F, true, null, 1.5, v1.2]",
    "[\"a\\tb\", 'it''s']",
];

/// ...and some just outside it.
const OUTSIDE: &[&str] = &[
    "x:",
    "b: c",
    "\"\\q\"",
    "\"\\uD800\"",
    "\"a\"#c",
    "'a' x",
    "&a x",
    "*a",
    "!!str 1",
    "|",
    ">",
    "[a, ]",
    "[a b]",
    "[a:b]",
    "[a] x",
    "[\"a\": b]",
    "[-]",
    "[.5]",
    "[a,,b]",
    "[~, a]",
    "[a,#b]",
    "[a #b]",
    "[[a]]",
    "{a: 1}",
    "{ }",
    "%x",
    "@x",
    "`x",
    "- x",
    "? x",
    "[]x",
    "'open",
    "\"open",
];

const KEYS: &[&str] = &[
    "a",
    "b",
    "c",
    "kind",
    "name",
    "app.kubernetes.io/name",
    "a b",
    "a:b",
    "-k",
    "80",
    "true",
    "null",
    "~",
    "\"q\"",
    "'s'",
    "\"a: b\"",
    "'it''s'",
    "\"\"",
    "x#y",
    "\"k\\u00e9\"",
    "é",
    "---x",
    "1.0",
];

const OUTSIDE_KEYS: &[&str] = &["k ", "? x", "&k a", "[k]", "a #b", "\"k\" ", "'k'x"];

fn scalar() -> impl Strategy<Value = &'static str> {
    prop_oneof![40 => prop::sample::select(SCALARS), 1 => prop::sample::select(OUTSIDE)]
}

pub(super) fn key() -> impl Strategy<Value = &'static str> {
    prop_oneof![40 => prop::sample::select(KEYS), 1 => prop::sample::select(OUTSIDE_KEYS)]
}

pub(super) fn node() -> impl Strategy<Value = Node> {
    node_of(5, 48)
}

/// Nodes nested at most `depth` levels, about `size` of them.
pub(super) fn node_of(depth: u32, size: u32) -> impl Strategy<Value = Node> {
    let leaf = prop_oneof![
        6 => scalar().prop_map(Node::Scalar),
        1 => prop::sample::select(&["{}", "[]", "{} # c", "[]x"][..]).prop_map(Node::Flow),
    ];
    leaf.prop_recursive(depth, size, 5, move |inner| {
        prop_oneof![
            (
                prop::collection::vec((key(), inner.clone()), 1..5),
                prop::sample::select(&[1usize, 2, 2, 2, 3, 4][..]),
            )
                .prop_map(|(entries, deeper)| Node::Map(entries, deeper)),
            (
                prop::collection::vec(inner, 1..5),
                any::<bool>(),
                prop::sample::select(&[1usize, 2, 2, 3][..]),
                prop::sample::select(&[1usize, 1, 1, 2, 3][..]),
            )
                .prop_map(|(items, indentless, deeper, gap)| Node::Seq(
                    items, indentless, deeper, gap
                )),
        ]
    })
}

/// `prefix` (a key, or `- `) followed by `node` as its value, the
/// collection it is in at column `col`.
fn value(prefix: String, node: &Node, col: usize, out: &mut Vec<String>) {
    match node {
        Node::Scalar("") => out.push(prefix),
        Node::Scalar(s) | Node::Flow(s) => out.push(format!("{prefix} {s}")),
        Node::Map(entries, deeper) => {
            out.push(prefix);
            map(entries, col + deeper, None, out);
        }
        Node::Seq(items, indentless, deeper, gap) => {
            out.push(prefix);
            let at = if *indentless { col } else { col + deeper };
            seq(items, at, *gap, out);
        }
    }
}

pub(super) fn map(
    entries: &[(&str, Node)],
    col: usize,
    first: Option<String>,
    out: &mut Vec<String>,
) {
    let mut seen = std::collections::HashSet::new();
    let mut first = first;
    for (k, v) in entries {
        if !seen.insert(*k) {
            continue;
        }
        let lead = first.take().unwrap_or_else(|| " ".repeat(col));
        value(format!("{lead}{k}:"), v, col, out);
    }
}

fn seq(items: &[Node], col: usize, gap: usize, out: &mut Vec<String>) {
    for item in items {
        let dash = format!("{}-{}", " ".repeat(col), " ".repeat(gap));
        match item {
            Node::Map(entries, _) => map(entries, col + 1 + gap, Some(dash), out),
            Node::Seq(..) => value(format!("{}-", " ".repeat(col)), item, col, out),
            // `-` alone is left to yaml-rust2: written now and then only.
            Node::Scalar("") if gap == 1 => out.push(dash.trim_end().to_string()),
            Node::Scalar("") => out.push(format!("{dash}~")),
            Node::Scalar(s) | Node::Flow(s) => out.push(format!("{dash}{s}")),
        }
    }
}

/// Documents, each with how it is opened (0: as it comes, 1: `---`,
/// 2: `--- # c`, 3: `...` then `---`), and decorations: per line, a
/// comment or a blank line before it, or a comment after it.
pub(super) fn text() -> impl Strategy<Value = String> {
    let doc = (prop::option::weighted(0.85, node()), 0u8..4);
    (
        prop::collection::vec(doc, 1..4),
        prop::collection::vec(0u8..24, 64),
        any::<bool>(),
    )
        .prop_map(|(docs, marks, end)| {
            let mut lines = Vec::new();
            for (i, (root, open)) in docs.iter().enumerate() {
                let open = if i > 0 && *open == 0 || root.is_none() {
                    1
                } else {
                    *open
                };
                match open {
                    1 => lines.push("---".to_string()),
                    2 => lines.push("--- # doc".to_string()),
                    3 => lines.extend(["...".to_string(), "---".to_string()]),
                    _ => {}
                }
                match root {
                    Some(Node::Map(entries, deeper)) => map(entries, deeper - 1, None, &mut lines),
                    Some(Node::Seq(items, _, _, gap)) => seq(items, 0, *gap, &mut lines),
                    Some(other) => value(String::new(), other, 0, &mut lines),
                    None => {}
                }
            }
            if end {
                lines.push("...".into());
            }
            let mut text = String::new();
            for (i, line) in lines.iter().enumerate() {
                match marks[i % marks.len()] {
                    0 => text.push('\n'),
                    1 => text.push_str("# comment: - x\n"),
                    2 => text.push_str("     # deeper\n"),
                    _ => {}
                }
                text.push_str(line);
                if marks[(i * 7 + 3) % marks.len()] == 3 {
                    text.push_str(" # after");
                }
                text.push('\n');
            }
            text
        })
}

/// `text` with one byte inserted, removed or replaced at `at` (`op` 0, 1,
/// 2); `None` when that breaks a character.
pub(super) fn broken(text: String, at: prop::sample::Index, op: u8, byte: u8) -> Option<String> {
    let mut bytes = text.into_bytes();
    let i = at.index(bytes.len() + 1);
    match op {
        0 => bytes.insert(i, byte),
        1 if i < bytes.len() => {
            bytes.remove(i);
        }
        _ if i < bytes.len() => bytes[i] = byte,
        _ => bytes.push(byte),
    }
    String::from_utf8(bytes).ok()
}

/// A live dump as kubectl writes it: `n` Pods, in one List or as
/// documents of their own.
pub(super) fn kubectl_dump(n: usize, list: bool) -> String {
    let mut text = String::new();
    if list {
        text.push_str("apiVersion: v1\nitems:\n");
    }
    for i in 0..n {
        let pod = format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  annotations:\n    kubectl.kubernetes.io/restartedAt: \"2024-01-0{}T10:00:00Z\"\n  creationTimestamp: \"2024-01-01T00:00:00Z\"\n  generateName: web-7d4b9c-\n  labels:\n    app.kubernetes.io/name: web\n    pod-template-hash: 7d4b9c\n  name: web-7d4b9c-{i:05}\n  namespace: ns-{}\n  ownerReferences:\n  - apiVersion: apps/v1\n    blockOwnerDeletion: true\n    controller: true\n    kind: ReplicaSet\n    name: web-7d4b9c\n    uid: 0b1c2d3e-{i:04x}\nspec:\n  containers:\n  - args:\n    - --port=8080\n    - '--flag=a b'\n    image: registry.k8s.io/web:1.0\n    name: main\n    ports:\n    - containerPort: 8080\n      name: http\n      protocol: TCP\n    resources: {{}}\n  nodeName: node-{}\n  tolerations: []\nstatus:\n  hostIP: 10.0.0.{}\n  phase: Running\n  podIP: 10.1.{}.{}\n  podIPs:\n  - ip: 10.1.{}.{}\n",
            i % 9 + 1,
            i % 7,
            i % 3,
            i % 3,
            i / 250,
            i % 250,
            i / 250,
            i % 250
        );
        if list {
            for (j, line) in pod.lines().enumerate() {
                text.push_str(if j == 0 { "- " } else { "  " });
                text.push_str(line);
                text.push('\n');
            }
        } else {
            text.push_str("---\n");
            text.push_str(&pod);
        }
    }
    if list {
        text.push_str("kind: List\nmetadata:\n  resourceVersion: \"\"\n");
    }
    text
}
