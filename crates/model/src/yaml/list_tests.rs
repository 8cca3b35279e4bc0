//! A YAML List read item by item against the same text read whole by
//! yaml-rust2: every item's value and the line of every path under it,
//! and the budget charged, are the whole text's; whatever the List path
//! cannot take, it declines (and gives its charges back).

use proptest::prelude::*;
use serde::Deserialize;
use serde_json::Value;

use super::fast_tests::{charged, paths};
use super::list::{LargeList, large_list, list_item_tokens};
use super::texts::{broken, key, kubectl_dump, map, node_of};
use super::{Budget, parse_slow};

/// Every item of `list`, or `None` as soon as one is declined. Each is
/// also read straight from its events, which must give the document's
/// value and the lines of its head.
fn items(list: &LargeList, budget: &Budget) -> Option<Vec<super::Document>> {
    (0..list.len())
        .map(|i| {
            let item = list_item_tokens(list, i, budget)?;
            let mut de = item.de();
            let typed = Value::deserialize(&mut de).map_err(|e| e.to_string());
            assert!(de.finished(), "item {i} read in part");
            let head = item.head().expect("an item is a mapping");
            let head = (
                head.api_version.map(str::to_string),
                head.kind.map(str::to_string),
                head.metadata_line,
                head.name_line,
            );
            let doc = item.document()?;
            assert_eq!(typed.as_ref(), Ok(&doc.value), "item {i} read straight");
            let field = |key: &str| {
                doc.value
                    .get(key)
                    .and_then(Value::as_str)
                    .map(str::to_string)
            };
            let line = |path: &str| doc.lines.line(&format!("items[{i}].{path}"));
            let metadata = doc.value.get("metadata");
            let expected = (
                field("apiVersion"),
                field("kind"),
                metadata.map(|_| line("metadata")),
                metadata
                    .and_then(|m| m.get("name"))
                    .map(|_| line("metadata.name")),
            );
            assert_eq!(head, expected, "head of item {i}");
            Some(doc)
        })
        .collect()
}

/// `None` when the List path declines `text` (the budget then as it was);
/// otherwise whether it agrees with yaml-rust2 reading it whole.
fn check(text: &str) -> Option<Result<(), String>> {
    let budget = Budget::default();
    let Some(list) = large_list(text, 0, &budget) else {
        return (charged(&budget) != (0, 0)).then(|| Err("declined, charged".into()));
    };
    let Some(docs) = items(&list, &budget) else {
        list.give_back(&budget);
        return (charged(&budget) != (0, 0)).then(|| Err("declined, not given back".into()));
    };
    Some(compare(text, &docs, &budget))
}

fn compare(text: &str, docs: &[super::Document], budget: &Budget) -> Result<(), String> {
    let whole_budget = Budget::default();
    let whole = parse_slow(text, &whole_budget, None).map_err(|e| format!("yaml-rust2: {e:?}"))?;
    let [whole] = &whole[..] else {
        return Err(format!("{} documents", whole.len()));
    };
    let Some(whole_items) = whole.value["items"].as_array() else {
        return Err("no items".into());
    };
    if whole_items.len() != docs.len() {
        return Err(format!(
            "{} items, yaml-rust2 {}",
            docs.len(),
            whole_items.len()
        ));
    }
    for (i, (doc, item)) in docs.iter().zip(whole_items).enumerate() {
        if doc.value != *item || doc.index != whole.index {
            return Err(format!("item {i}: {:?} != {item:?}", doc.value));
        }
        let mut all = Vec::new();
        paths(item, format!("items[{i}]"), &mut all);
        all.push(format!("items[{i}].nope"));
        all.push(format!("items[{i}][3]"));
        for p in &all {
            if doc.lines.line(p) != whole.lines.line(p) {
                return Err(format!(
                    "line of {p}: {}, yaml-rust2 {}",
                    doc.lines.line(p),
                    whole.lines.line(p)
                ));
            }
        }
    }
    if charged(budget) != charged(&whole_budget) {
        return Err(format!(
            "charged {:?}, yaml-rust2 {:?}",
            charged(budget),
            charged(&whole_budget)
        ));
    }
    Ok(())
}

#[track_caller]
fn agrees(text: &str) {
    match check(text) {
        Some(Ok(())) => {}
        Some(Err(e)) => panic!("{e}\n--- text:\n{text}"),
        None => panic!("declined:\n{text}"),
    }
}

#[test]
fn a_kubectl_list_item_by_item_is_the_list_read_whole() {
    let text = kubectl_dump(300, true);
    agrees(&text);
    // Indented items, quoted keys (netpol-synth's single file), comments,
    // the List's fields before and after its items.
    let indented: String = text
        .lines()
        .map(|l| {
            let deeper = if l.starts_with("- ") || l.starts_with("  ") {
                "  "
            } else {
                ""
            };
            format!("{deeper}{l}\n")
        })
        .collect();
    assert_ne!(indented, text);
    agrees(&indented);
    let mut quoted = String::from("# Generated\n\"apiVersion\": \"v1\"\n\"items\": # the items\n");
    for i in 0..50 {
        quoted.push_str(&format!(
            "- \"kind\": \"Pod\"\n  \"metadata\":\n    \"name\": \"p{i}\"\n    # a comment\n\n  \"spec\": {{}}\n"
        ));
    }
    quoted.push_str("\"kind\": \"PodList\"\n\"metadata\":\n  \"resourceVersion\": \"\"\n");
    agrees(&quoted);
    agrees(
        &quoted
            .replace("\n- ", "\n  - ")
            .replace("\n  \"", "\n    \""),
    );
}

#[test]
fn what_is_not_a_plain_block_list_is_declined_and_given_back() {
    let good = kubectl_dump(20, true);
    assert!(check(&good).is_some());
    for bad in [
        // Not a List, no apiVersion, a second document, a second `items`.
        good.replace("kind: List", "kind: Pod"),
        good.replace("apiVersion: v1\nitems:", "items:"),
        format!("{good}---\na: 1\n"),
        format!("{good}items: []\n"),
        // An item the fast path does not read, a duplicate key in one, an
        // item that is not an object, the List's own fields in doubt.
        good.replacen("  phase: Running", "  phase: &p Running", 1),
        good.replacen("  phase: Running", "  phase: Running\n  phase: Failed", 1),
        good.replacen("- apiVersion: v1\n", "- 5\n- apiVersion: v1\n", 1),
        good.replace("resourceVersion: \"\"", "resourceVersion: {a: 1}"),
        good.replace("items:\n", "items: !!seq\n"),
    ] {
        assert_ne!(bad, good);
        match check(&bad) {
            None => {}
            Some(Ok(())) => panic!("taken:\n{bad}"),
            Some(Err(e)) => panic!("{e}:\n{bad}"),
        }
    }
}

#[test]
fn a_list_deeper_than_the_limit_is_declined() {
    // The items are two levels down: an item as deep as a document may be
    // is too deep in the List.
    let deep = |levels: usize| {
        let mut item = String::from("- kind: Pod\n");
        for i in 0..levels {
            item.push_str(&format!("{}k:\n", " ".repeat(2 + 2 * i)));
        }
        item.push_str(&format!("{}v: 1\n", " ".repeat(2 + 2 * levels)));
        format!("apiVersion: v1\nkind: List\nitems:\n{item}")
    };
    let fits = deep(super::MAX_DEPTH - 4);
    assert!(parse_slow(&fits, &Budget::default(), None).is_ok());
    agrees(&fits);
    let over = deep(super::MAX_DEPTH - 2);
    assert!(parse_slow(&over, &Budget::default(), None).is_err());
    assert!(check(&over).is_none());
}

/// A List of generated items (mappings), its items at column `column`.
fn list_text() -> impl Strategy<Value = String> {
    let item = prop::collection::vec((key(), node_of(2, 8)), 1..5);
    (
        prop::collection::vec(item, 1..6),
        0usize..3,
        prop::sample::select(&["kind: List\n", "kind: List\n", "kind: PodList # x\n", ""][..]),
        any::<bool>(),
    )
        .prop_map(|(items, column, kind, before)| {
            let mut text = String::from("apiVersion: v1\n");
            if before {
                text.push_str(kind);
            }
            text.push_str("items:\n");
            for entries in &items {
                let mut lines = Vec::new();
                let dash = format!("{}- ", " ".repeat(column));
                map(entries, column + 2, Some(dash), &mut lines);
                for l in lines {
                    text.push_str(&l);
                    text.push('\n');
                }
            }
            if !before {
                text.push_str(kind);
            }
            text.push_str("metadata:\n  resourceVersion: \"\"\n");
            text
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn generated_lists_are_declined_or_read_as_yaml_rust2_reads_them(text in list_text()) {
        if let Some(Err(e)) = check(&text) {
            prop_assert!(false, "{}\n--- text:\n{}", e, text);
        }
    }

    #[test]
    fn a_list_broken_anywhere_is_declined_or_read_as_yaml_rust2_reads_it(
        text in list_text(),
        at in any::<prop::sample::Index>(),
        op in 0u8..3,
        byte in prop::sample::select(&b" \n-:#\"'{}[]&*!|>a0.?%~"[..]),
    ) {
        if let Some(text) = broken(text, at, op, byte) {
            if let Some(Err(e)) = check(&text) {
                prop_assert!(false, "{}\n--- text:\n{}", e, text);
            }
        }
    }
}

#[test]
fn most_generated_lists_are_taken() {
    use proptest::strategy::ValueTree;
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let strategy = list_text();
    let (mut taken, n) = (0, 500);
    for _ in 0..n {
        let text = strategy.new_tree(&mut runner).unwrap().current();
        if matches!(check(&text), Some(Ok(()))) {
            taken += 1;
        }
    }
    eprintln!("{taken} of {n} generated Lists taken");
    // A quarter of them are no List (no kind) and the pools hold much
    // outside the subset: a sixth is plenty to show that the comparisons
    // above are not all declines.
    assert!(taken * 6 > n, "{taken} of {n} taken");
}

#[test]
fn a_value_of_the_whole_text_is_what_the_items_rebuild() {
    // The same List through the public entry points: more than one chunk
    // of items and a megabyte.
    let text = kubectl_dump(2000, true);
    assert!(text.len() > 1 << 20, "{}", text.len());
    let budget = Budget::default();
    let list = super::large_list(&text, 256, &budget).expect("split");
    assert_eq!(list.len(), 2000);
    let docs = items(&list, &budget).expect("every item taken");
    let rebuilt: Vec<Value> = docs.into_iter().map(|d| d.value).collect();
    let whole = parse_slow(&text, &Budget::default(), None).unwrap();
    assert_eq!(whole[0].value["items"], Value::Array(rebuilt));
    assert!(super::large_list(&text, 2000, &Budget::default()).is_none());
}
