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
use super::texts::{broken, kubectl_dump, text};
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
    budget.charged()
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

#[test]
fn a_kubectl_dump_is_taken_whole() {
    for list in [false, true] {
        let text = kubectl_dump(300, list);
        assert!(agrees(&text), "list: {list}");
        let docs = fast::parse(&text, &Budget::default(), None).unwrap();
        assert_eq!(docs.len(), if list { 1 } else { 300 });
    }
}
