//! The fast path against yaml-rust2: whenever it takes a text, its events
//! (with every line the documents keep), documents and budget charges are
//! yaml-rust2's; on generated texts in and around its subset, on texts
//! broken by one byte anywhere, and on real manifests. And it does take
//! the texts it is for, so that it cannot quietly decline everything.

use proptest::prelude::*;
use serde_json::Value;
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use super::fast::{self, Sink};
use super::{Budget, Document, child_index, child_key, parse_slow};

#[derive(Default)]
struct Recorder(Vec<(Event, usize)>);

impl Sink<'_> for Recorder {
    fn event(&mut self, ev: Event, line: usize) {
        self.0.push((ev, line));
    }
}

impl MarkedEventReceiver for Recorder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        self.0.push((ev, mark.line().max(1)));
    }
}

/// The events with the lines the builder never reads set to 0: those of a
/// mapping's values (it takes their key's), of ends, and of a document's
/// empty root (dropped).
fn normalized(events: &[(Event, usize)]) -> Vec<(Event, usize)> {
    // Per open collection: whether it is a mapping and its next node a key.
    let mut stack: Vec<(bool, bool)> = Vec::new();
    let mut out = Vec::with_capacity(events.len());
    for (ev, line) in events {
        let starts_node = matches!(
            ev,
            Event::Scalar(..)
                | Event::MappingStart(..)
                | Event::SequenceStart(..)
                | Event::Alias(_)
        );
        let is_value = matches!(stack.last(), Some((true, false)));
        let root_null = stack.is_empty()
            && matches!(ev, Event::Scalar(t, TScalarStyle::Plain, 0, None) if t.is_empty());
        let keep = starts_node && !is_value && !root_null || matches!(ev, Event::DocumentStart);
        out.push((ev.clone(), if keep { *line } else { 0 }));
        if starts_node {
            if let Some((true, key_next)) = stack.last_mut() {
                *key_next = !*key_next;
            }
        }
        match ev {
            Event::MappingStart(..) => stack.push((true, true)),
            Event::SequenceStart(..) => stack.push((false, false)),
            Event::MappingEnd | Event::SequenceEnd => {
                stack.pop();
            }
            _ => {}
        }
    }
    out
}

pub(super) fn slow_events(text: &str) -> Result<Vec<(Event, usize)>, String> {
    let mut rec = Recorder::default();
    Parser::new_from_str(text)
        .load(&mut rec, true)
        .map_err(|e| e.to_string())?;
    Ok(rec.0)
}

/// Every path of `v`, containers and scalars.
pub(crate) fn paths(v: &Value, path: String, out: &mut Vec<String>) {
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

pub(super) fn charged(budget: &Budget) -> (usize, usize) {
    *budget.charged.lock().unwrap()
}

/// 500 of 1,000 values are taken. One thread keeps trying to take 600
/// more, which never fit, while another takes the last 500 one at a time:
/// each of those fits, and none may be refused for what the first thread
/// only tried to take.
#[test]
fn a_charge_that_does_not_fit_is_never_seen_by_another_thread() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let budget = Budget::with_limits(1000, usize::MAX);
    budget.charge(500, 0).unwrap();
    let done = AtomicBool::new(false);
    let refused = std::thread::scope(|s| {
        let trying = s.spawn(|| {
            let mut taken = 0;
            while !done.load(Ordering::Relaxed) {
                taken += usize::from(budget.try_charge(600, 0));
            }
            taken
        });
        let refused = (0..500)
            .filter(|_| {
                std::thread::yield_now();
                budget.charge(1, 0).is_err()
            })
            .count();
        done.store(true, Ordering::Relaxed);
        assert_eq!(trying.join().unwrap(), 0);
        refused
    });
    assert_eq!(refused, 0);
    assert_eq!(charged(&budget), (1000, 0));
}

fn same_documents(fast: &[Document], slow: &[Document]) -> Result<(), String> {
    if fast.len() != slow.len() {
        return Err(format!(
            "{} documents, yaml-rust2 {}",
            fast.len(),
            slow.len()
        ));
    }
    for (f, s) in fast.iter().zip(slow) {
        if f.index != s.index || f.value != s.value || f.lines != s.lines {
            return Err(format!("document {}: {f:?} != {s:?}", s.index));
        }
        let mut all = Vec::new();
        paths(&s.value, String::new(), &mut all);
        let missing = ["nope", "items[99].x", "a.b.c", "[0]"];
        for p in all.iter().map(String::as_str).chain(missing) {
            if f.lines.line(p) != s.lines.line(p) {
                return Err(format!("line of {p:?} in document {}", s.index));
            }
        }
    }
    Ok(())
}

/// `None` when the fast path declines `text`; otherwise whether it agrees
/// with yaml-rust2 in everything (`Err` says where not).
fn check(text: &str) -> Option<Result<(), String>> {
    let mut rec = Recorder::default();
    let accepted = fast::events(text, &mut rec).is_some();
    let budget = Budget::default();
    let docs = fast::parse(text, &budget, None);
    if accepted != docs.is_some() {
        // Only a builder error (a duplicate key, too deep) may decline
        // what the scanner took.
        let builder_error = parse_slow(text, &Budget::default(), None).is_err();
        if !(accepted && builder_error) {
            return Some(Err(format!(
                "events accepted {accepted}, documents {}",
                docs.is_some()
            )));
        }
    }
    if !accepted {
        return None;
    }
    Some(compare(text, &rec.0, docs, &budget))
}

fn compare(
    text: &str,
    fast_events: &[(Event, usize)],
    docs: Option<Vec<Document>>,
    budget: &Budget,
) -> Result<(), String> {
    let slow = slow_events(text).map_err(|e| format!("yaml-rust2 fails: {e}"))?;
    let (f, s) = (normalized(fast_events), normalized(&slow));
    if f != s {
        let at = f.iter().zip(&s).position(|(a, b)| a != b).unwrap_or(0);
        return Err(format!(
            "events differ at {at}: fast {:?}, yaml-rust2 {:?}",
            &f[at..f.len().min(at + 3)],
            &s[at..s.len().min(at + 3)]
        ));
    }
    let Some(docs) = docs else {
        return Ok(());
    };
    let slow_budget = Budget::default();
    let slow_docs = parse_slow(text, &slow_budget, None).map_err(|e| format!("{e:?}"))?;
    same_documents(&docs, &slow_docs)?;
    if charged(budget) != charged(&slow_budget) {
        return Err(format!(
            "charged {:?}, yaml-rust2 {:?}",
            charged(budget),
            charged(&slow_budget)
        ));
    }
    Ok(())
}

#[track_caller]
fn agrees(text: &str) -> bool {
    match check(text) {
        None => false,
        Some(Ok(())) => true,
        Some(Err(e)) => panic!("{e}\n--- text:\n{text}"),
    }
}

#[track_caller]
fn declines(text: &str) {
    let mut rec = Recorder::default();
    assert!(
        fast::events(text, &mut rec).is_none()
            || fast::parse(text, &Budget::default(), None).is_none(),
        "taken: {text:?}"
    );
}

#[test]
fn kubectl_style_texts_are_taken_and_read_as_yaml_rust2_reads_them() {
    let texts = [
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  labels:\n    app.kubernetes.io/name: web\nspec:\n  containers:\n  - name: main\n    image: nginx:1.25\n    ports:\n    - containerPort: 80\n      protocol: TCP\n",
        "# c\n---\na: 1\n---\n---\n# only a comment\n...\nb: [] # trailing\nc: {}\n...\n",
        "items:\n  - a: \"x # y\"\n    b: 'it''s'\n  -   c: \"\\u00e9\\t\\x41\\\\\"\n      d: ~\nk: v\n",
        "\"quoted\": 1\n'single': 2\n80: x\ntrue: y\nnull: z\n0x1F: w\n1.50: v\n",
        "a:\n  b:\n  c:\n  - 1\n  - -2\n  - 0o17\n  - .5\n  - 1e3\n  - +80\n  - yes\n  - TRUE\n  - Null\n  - ''\n  - \"\"\n",
        "url: http://x:80/a#b\ncidr: 2001:db8::/32\nweird: a:b,c[d]{e}\nspaced: a   b   \nhash: a#b #c\n",
        "  indented: root\n  more: 2\n",
        "- a\n- b: 1\n  c: 2\n- {}\n- []\n",
        "",
        "# nothing\n\n",
        "---\n",
        "--- # c\na: 1\n... # d\n",
        "a: 1\n...\nb: 2\n...\n...\n- c\n---\n",
        "---\n---\n  a:\n  - b\n  c: ---x\n",
        "values: [\"a\", \"b\"]\nports: [80, 443]\nargs:\n- [\"sh\", '-c'] # c\n- [ -1 ,x.y/z ]\n",
    ];
    for t in texts {
        assert!(agrees(t), "declined: {t:?}");
    }
}

#[test]
fn what_is_outside_the_subset_is_declined() {
    for t in [
        "a: &x 1\nb: *x\n",
        "a: !!str 1\n",
        "a: |\n  x\n",
        "a: >\n  x\n",
        "a: [1, [2]]\n",
        "a: [1, 2,]\n",
        "a: {b: 1}\n",
        "a: { }\n",
        "a: plain\n  continued\n",
        "a: \"two\n  lines\"\n",
        "? complex\n: key\n",
        "a:\n\t- x\n",
        "a: x\r\nb: y\r\n",
        "\u{feff}a: 1\n",
        "%YAML 1.2\n---\na: 1\n",
        "--- a: 1\n",
        "a: 1\n...x\n",
        "-\n  a: 1\n",
        "- - a\n",
        "a: b: c\n",
        "a : b\n",
        "a: \"\\q\"\n",
        "a: \"\\uD800\"\n",
        "a: \"x\"y\n",
        "a: \"x\"#c\n",
        "scalar\n",
        "a: 1\nb:\n  c: 1\n  c: 2\n",
        "a: 1\n b: 2\n",
        "a:\n  - x\n  b: 1\n",
        "a: x\0y\n",
        &format!("{}: 1\n", "k".repeat(1100)),
        // Deeper than the builder allows.
        &(0..200)
            .map(|i| format!("{}k:\n", " ".repeat(i)))
            .collect::<String>(),
    ] {
        declines(t);
        // yaml-rust2 still reads each one as before: through `parse`.
        let whole = super::parse(t, &Budget::default(), None);
        let slow = parse_slow(t, &Budget::default(), None);
        assert_eq!(
            whole.as_ref().map(|d| d.len()).map_err(|e| e.clone()),
            slow.as_ref().map(|d| d.len()).map_err(|e| e.clone()),
            "{t:?}"
        );
    }
}

#[test]
fn the_budget_is_charged_once_and_all_or_nothing() {
    let text = "a: 1\nb: [] \nc:\n  - x\n  - y\n";
    let used = {
        let b = Budget::default();
        assert!(fast::parse(text, &b, None).is_some());
        charged(&b)
    };
    assert_eq!(used, (6, 6));
    // Exactly enough: taken. One short: declined, and nothing charged, so
    // that yaml-rust2 charges it (and fails) as it would alone.
    let exact = Budget::with_limits(used.0, used.1);
    assert!(fast::parse(text, &exact, None).is_some());
    let short = Budget::with_limits(used.0 - 1, used.1);
    assert!(fast::parse(text, &short, None).is_none());
    assert_eq!(charged(&short), (0, 0));
    let err = super::parse(text, &short, None).unwrap_err();
    let alone = parse_slow(text, &Budget::with_limits(used.0 - 1, used.1), None).unwrap_err();
    assert_eq!(err, alone);
}

// ---- generated texts ----

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
fn text() -> impl Strategy<Value = String> {
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

proptest! {
    #![proptest_config(ProptestConfig::with_cases(5000))]

    #[test]
    fn generated_texts_are_declined_or_read_as_yaml_rust2_reads_them(text in text()) {
        if let Some(Err(e)) = check(&text) {
            prop_assert!(false, "{}\n--- text:\n{}", e, text);
        }
    }

    #[test]
    fn a_text_broken_anywhere_is_declined_or_read_as_yaml_rust2_reads_it(
        text in text(),
        at in any::<prop::sample::Index>(),
        op in 0u8..3,
        byte in prop::sample::select(&b" \n-:#\"'\t{}[]&*!|>\\a0.\r?%~"[..]),
    ) {
        if let Some(text) = broken(text, at, op, byte) {
            if let Some(Err(e)) = check(&text) {
                prop_assert!(false, "{}\n--- text:\n{}", e, text);
            }
        }
    }
}

#[test]
fn most_generated_texts_are_taken() {
    use proptest::strategy::ValueTree;
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let strategy = text();
    let (mut taken, n) = (0, 1000);
    for _ in 0..n {
        let text = strategy.new_tree(&mut runner).unwrap().current();
        if agrees(&text) {
            taken += 1;
        }
    }
    eprintln!("{taken} of {n} generated texts taken");
    // The pools hold many things outside the subset: a third is plenty to
    // show that the comparisons above are not all declines.
    assert!(taken * 3 > n, "{taken} of {n} taken");
}

// ---- real texts ----

/// `../shared` from the repository root, when present (required when
/// NETPOL_REQUIRE_SHARED=1).
fn shared_dir() -> Option<std::path::PathBuf> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared");
    if dir.is_dir() {
        return Some(dir);
    }
    assert!(
        std::env::var("NETPOL_REQUIRE_SHARED").as_deref() != Ok("1"),
        "NETPOL_REQUIRE_SHARED=1 but {} is missing",
        dir.display()
    );
    None
}

fn yaml_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            yaml_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(p);
        }
    }
}

/// (files taken, documents taken, files): every file taken is read as
/// yaml-rust2 reads it.
fn take_files(files: &[std::path::PathBuf]) -> (usize, usize, usize) {
    let (mut taken, mut docs) = (0, 0);
    for f in files {
        let Ok(text) = std::fs::read_to_string(f) else {
            continue;
        };
        match check(&text) {
            Some(Ok(())) => {
                taken += 1;
                docs += fast::parse(&text, &Budget::default(), None).map_or(0, |d| d.len());
            }
            Some(Err(e)) => panic!("{}: {e}", f.display()),
            None => {}
        }
    }
    (taken, docs, files.len())
}

#[test]
fn the_repository_examples_are_taken() {
    let mut files = Vec::new();
    yaml_files(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples"),
        &mut files,
    );
    let (taken, docs, n) = take_files(&files);
    assert!(n >= 5, "{n} files");
    eprintln!("examples: {taken} of {n} files taken, {docs} documents");
    assert!(
        taken * 10 >= n * 9,
        "{taken} of {n} files taken ({docs} documents)"
    );
}

#[test]
fn real_manifests_are_taken_when_they_are_block_yaml() {
    let Some(shared) = shared_dir() else {
        return;
    };
    let mut files = Vec::new();
    yaml_files(&shared.join("realcases"), &mut files);
    let (taken, docs, n) = take_files(&files);
    eprintln!("realcases: {taken} of {n} files taken, {docs} documents");
    assert!(n > 0);
    // Helm output and hand-written manifests use block scalars and flow
    // collections now and then: most files, not all.
    assert!(
        taken * 2 > n,
        "{taken} of {n} files taken ({docs} documents)"
    );
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

#[test]
fn a_kubectl_dump_is_taken_whole() {
    for list in [false, true] {
        let text = kubectl_dump(300, list);
        assert!(agrees(&text), "list: {list}");
        let docs = fast::parse(&text, &Budget::default(), None).unwrap();
        assert_eq!(docs.len(), if list { 1 } else { 300 });
    }
}
