//! A large YAML List read item by item in parallel loads exactly as the
//! same List read whole by yaml-rust2: the same cluster, or the same
//! diagnostics (file, document, line, object, field, message) in the same
//! order; and an item the fast path does not read sends the whole text
//! back to the whole-text path with the same result.

use netpol_model::yaml::{Budget, large_list, list_item};
use netpol_model::{LoadOptions, Source, load_sources};

/// A Pod as `kubectl get -o yaml` writes an item, 20 lines; `extra` goes
/// into its spec.
fn pod(i: usize, name: &str, extra: &str) -> String {
    format!(
        "- apiVersion: v1\n  kind: Pod\n  metadata:\n    labels:\n      app.kubernetes.io/name: web-{}\n      pod-template-hash: 7d4b9c\n    name: {name}\n    namespace: ns-{}\n  spec:{extra}\n    containers:\n    - image: registry.k8s.io/web:1.0\n      name: main\n      ports:\n      - containerPort: 8080\n        name: http\n        protocol: TCP\n  status:\n    podIP: 10.1.{}.{}\n    podIPs:\n    - ip: 10.1.{}.{}\n",
        i % 13,
        i % 7,
        i / 250,
        i % 250,
        i / 250,
        i % 250
    )
}

fn list(items: &[String], metadata: &str) -> String {
    format!(
        "apiVersion: v1\nitems:\n{}kind: List\nmetadata:{metadata}\n  resourceVersion: \"\"\n",
        items.concat()
    )
}

fn load(text: &str) -> Result<netpol_model::Cluster, netpol_model::LoadErrors> {
    load_sources(
        &[Source {
            name: "dump.yaml".into(),
            text: text.into(),
        }],
        &LoadOptions::default(),
    )
}

/// Whether the List path takes every item of `text`.
fn split_whole(text: &str) -> bool {
    let budget = Budget::default();
    large_list(text, 256, &budget)
        .is_some_and(|list| (0..list.len()).all(|i| list_item(&list, i, &budget).is_some()))
}

#[test]
fn a_large_yaml_list_loads_as_the_list_read_whole() {
    let items: Vec<String> = (0..3000).map(|i| pod(i, &format!("p{i}"), "")).collect();
    let fast = list(&items, "");
    // An anchor on the List's metadata changes no value, and leaves the
    // whole text to yaml-rust2.
    let whole = list(&items, " &m");
    assert!(fast.len() > 1 << 20, "{}", fast.len());
    assert!(split_whole(&fast));
    assert!(large_list(&whole, 256, &Budget::default()).is_none());
    let (a, b) = (load(&fast).unwrap(), load(&whole).unwrap());
    assert_eq!(a.endpoints.len(), 3000);
    assert!(a == b, "the clusters differ");
}

#[test]
fn errors_in_a_large_yaml_list_are_those_of_the_list_read_whole() {
    let mut items: Vec<String> = (0..3000).map(|i| pod(i, &format!("p{i}"), "")).collect();
    items[10] = pod(10, "p10", "\n    nodeNme: n1");
    items[1290] = pod(1290, "p1290", "\n    hostNetwrk: true");
    // Duplicates of items in other chunks.
    items[2700] = pod(3, "p3", "");
    items[2999] = pod(2998, "p2998", "");
    let fast = list(&items, "");
    let whole = list(&items, " &m");
    assert!(split_whole(&fast));
    let (a, b) = (load(&fast).unwrap_err(), load(&whole).unwrap_err());
    assert_eq!(a.0.len(), 4, "{a:#?}");
    assert_eq!(a, b);
    // Item i starts at line 3 + 20 * i, one line more after the typos.
    let start = |i: usize| 3 + 20 * i + usize::from(i > 10) + usize::from(i > 1290);
    let got: Vec<_> =
        a.0.iter()
            .map(|e| (e.line, e.field.clone().unwrap_or_default()))
            .collect();
    assert_eq!(
        got,
        vec![
            (start(10) + 9, "items[10].spec.nodeNme".to_string()),
            (start(1290) + 9, "items[1290].spec.hostNetwrk".to_string()),
            (start(2700) + 6, "items[2700].metadata.name".to_string()),
            (start(2999) + 6, "items[2999].metadata.name".to_string()),
        ]
    );
}

#[test]
fn an_item_outside_the_fast_path_sends_the_list_back_whole() {
    let mut items: Vec<String> = (0..3000).map(|i| pod(i, &format!("p{i}"), "")).collect();
    items[20] = pod(20, "p20", "\n    nodeNme: n1");
    // An anchor in one late item: every item before it may be converted
    // already when the List path gives up.
    items[2900] = pod(2900, "p2900", "\n    hostname: &h web");
    let fast = list(&items, "");
    let whole = list(&items, " &m");
    assert!(large_list(&fast, 256, &Budget::default()).is_some());
    assert!(!split_whole(&fast));
    assert_eq!(load(&fast).unwrap_err(), load(&whole).unwrap_err());
    let fixed = |t: &str| t.replace("nodeNme", "nodeName");
    assert!(load(&fixed(&fast)).unwrap() == load(&fixed(&whole)).unwrap());
}
