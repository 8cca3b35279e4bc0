//! The loader's fast paths (JSON read by serde_json, a large List's items
//! converted in parallel) report problems exactly as the YAML path does:
//! file, document, line and field, in input order.

use netpol_model::{Diagnostic, LoadOptions, Source, load_sources};

fn errors(name: &str, text: &str) -> Vec<Diagnostic> {
    let source = Source {
        name: name.into(),
        text: text.into(),
    };
    match load_sources(&[source], &LoadOptions::default()) {
        Ok(_) => panic!("expected errors from {name}"),
        Err(e) => e.0,
    }
}

/// A Pod as pretty-printed JSON, 14 lines; `extra` goes into its spec.
fn json_pod(name: &str, extra: &str) -> String {
    format!(
        r#"{{
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {{
        "name": "{name}",
        "namespace": "shop",
        "labels": {{"app.kubernetes.io/name": "web"}}
    }},
    "spec": {{{extra}
        "containers": [
            {{"name": "main", "image": "x"}}
        ]
    }}
}}"#
    )
}

fn json_list(items: &[String]) -> String {
    format!(
        "{{\n\"apiVersion\": \"v1\",\n\"kind\": \"List\",\n\"items\": [\n{}\n]\n}}\n",
        items.join(",\n")
    )
}

#[test]
fn a_typo_in_json_is_reported_at_its_line_and_field() {
    let text = json_pod("web", "\n        \"nodeNme\": \"n1\",");
    let errs = errors("pods.json", &text);
    assert_eq!(errs.len(), 1, "{errs:?}");
    let e = &errs[0];
    assert_eq!(
        (e.file.as_str(), e.document, e.line),
        ("pods.json", 1, 10),
        "{e:?}"
    );
    assert_eq!(e.field.as_deref(), Some("spec.nodeNme"));
    assert_eq!(e.object.as_deref(), Some("Pod shop/web"));
    assert!(e.message.contains("did you mean nodeName"), "{e:?}");
}

#[test]
fn errors_in_a_large_json_list_keep_item_line_and_input_order() {
    // 600 items: the List is converted in several parallel chunks.
    let mut items: Vec<String> = (0..600).map(|i| json_pod(&format!("p{i}"), "")).collect();
    items[290] = json_pod("p290", "\n        \"hostNetwrk\": true,");
    items[10] = json_pod("p10", "\n        \"nodeNme\": \"n1\",");
    // A duplicate of an item in another chunk.
    items[550] = json_pod("p3", "");
    let text = json_list(&items);
    let errs = errors("dump.json", &text);
    let got: Vec<_> = errs
        .iter()
        .map(|e| (e.document, e.line, e.field.clone().unwrap_or_default()))
        .collect();
    // Item i starts at line 5 + 14 * i (the typo'd items are one line longer).
    let start = |i: usize| 5 + 14 * i + usize::from(i > 10) + usize::from(i > 290);
    assert_eq!(
        got,
        vec![
            (1, start(10) + 9, "items[10].spec.nodeNme".to_string()),
            (1, start(290) + 9, "items[290].spec.hostNetwrk".to_string()),
            (1, start(550) + 4, "items[550].metadata.name".to_string()),
        ],
        "{errs:#?}"
    );
    assert!(
        errs[2].message.contains(&format!(
            "duplicate Pod shop/p3: also defined at dump.json:{}",
            start(3)
        )),
        "{:?}",
        errs[2]
    );
}

#[test]
fn errors_in_a_large_yaml_list_keep_item_line_and_input_order() {
    let pod = |name: &str, extra: &str| {
        format!(
            "- apiVersion: v1\n  kind: Pod\n  metadata:\n    name: {name}\n    namespace: shop\n  spec:{extra}\n    containers:\n    - name: main\n      image: x\n"
        )
    };
    let mut text = String::from("apiVersion: v1\nkind: PodList\nitems:\n");
    for i in 0..700 {
        match i {
            20 => text.push_str(&pod("p20", "\n    nodeNme: n1")),
            650 => text.push_str(&pod("p650", "\n    hostNetwrk: true")),
            _ => text.push_str(&pod(&format!("p{i}"), "")),
        }
    }
    let errs = errors("dump.yaml", &text);
    // Item i starts at line 4 + 9 * i, one more after the first typo.
    let start = |i: usize| 4 + 9 * i + usize::from(i > 20);
    let got: Vec<_> = errs
        .iter()
        .map(|e| (e.file.as_str(), e.document, e.line, e.field.clone()))
        .collect();
    assert_eq!(
        got,
        vec![
            (
                "dump.yaml",
                1,
                start(20) + 6,
                Some("items[20].spec.nodeNme".into())
            ),
            (
                "dump.yaml",
                1,
                start(650) + 6,
                Some("items[650].spec.hostNetwrk".into())
            ),
        ],
        "{errs:#?}"
    );
}

#[test]
fn a_large_list_loads_like_its_items_as_documents() {
    let pod = |i: usize| {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p{i}\n  namespace: ns-{}\n  labels: {{app: a{}}}\nspec:\n  containers:\n  - name: main\n    image: x\nstatus:\n  podIP: 10.0.{}.{}\n",
            i % 7,
            i % 13,
            i / 250,
            i % 250
        )
    };
    let docs: Vec<String> = (0..1000).map(pod).collect();
    let as_documents = docs.iter().map(|d| format!("---\n{d}")).collect::<String>();
    let mut as_list = String::from("apiVersion: v1\nkind: List\nitems:\n");
    for d in &docs {
        for (j, line) in d.lines().enumerate() {
            as_list.push_str(if j == 0 { "- " } else { "  " });
            as_list.push_str(line);
            as_list.push('\n');
        }
    }
    let load = |text: &str| {
        load_sources(
            &[Source {
                name: "x".into(),
                text: text.into(),
            }],
            &LoadOptions::default(),
        )
        .unwrap()
    };
    let (a, b) = (load(&as_documents), load(&as_list));
    assert_eq!(a.endpoints.len(), 1000);
    let ids = |c: &netpol_model::Cluster| {
        c.endpoints
            .iter()
            .map(|e| (e.id(), e.labels.clone(), e.ips.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&a), ids(&b));
    assert_eq!(a.namespaces, b.namespaces);
}

#[test]
fn json_that_serde_refuses_is_judged_by_the_yaml_parser() {
    // A duplicate key: serde_json would keep the last one silently.
    let text = "{\n  \"apiVersion\": \"v1\",\n  \"kind\": \"Pod\",\n  \"kind\": \"Service\"\n}\n";
    let errs = errors("dup.json", text);
    assert_eq!((errs[0].document, errs[0].line), (1, 4), "{errs:?}");
    assert!(errs[0].message.contains("duplicate key"), "{errs:?}");
    // A syntax error.
    let errs = errors(
        "bad.json",
        "{\n  \"apiVersion\": \"v1\",\n  \"kind\": \"Pod\"\n  \"x\": 1\n}\n",
    );
    assert_eq!(errs[0].file, "bad.json");
    assert!(errs[0].line >= 3, "{errs:?}");
    assert!(errs[0].message.contains("invalid YAML"), "{errs:?}");
}

#[test]
fn errors_deep_in_a_list_of_megabytes_keep_item_line_and_field() {
    // 6,000 items, about 2 MB: parsed in parallel parts, converted in
    // parallel chunks, paths formatted only for what is reported.
    let mut items: Vec<String> = (0..6000).map(|i| json_pod(&format!("p{i}"), "")).collect();
    items[4000] = json_pod("p4000", "\n        \"hostNetwork\": \"yes\",");
    items[5123] = json_pod(
        "p5123",
        "\n        \"securityContext\": {\"runAsUser\": 1, \"sysctlz\": []},",
    );
    items[5999] = json_pod("p17", "");
    let text = json_list(&items);
    assert!(text.len() > 1 << 20, "{}", text.len());
    let errs = errors("dump.json", &text);
    let got: Vec<_> = errs
        .iter()
        .map(|e| (e.document, e.line, e.field.clone().unwrap_or_default()))
        .collect();
    // Item i starts at line 5 + 14 * i, one more after each longer item.
    let start = |i: usize| 5 + 14 * i + usize::from(i > 4000) + usize::from(i > 5123);
    assert_eq!(
        got,
        vec![
            (
                1,
                start(4000) + 9,
                "items[4000].spec.hostNetwork".to_string()
            ),
            (
                1,
                start(5123) + 9,
                "items[5123].spec.securityContext.sysctlz".to_string()
            ),
            (1, start(5999) + 4, "items[5999].metadata.name".to_string()),
        ],
        "{errs:#?}"
    );
    assert!(
        errs[0].message.contains("invalid type: string \"yes\""),
        "{:?}",
        errs[0]
    );
    assert!(
        errs[1].message.contains("did you mean sysctls?"),
        "{:?}",
        errs[1]
    );
    assert_eq!(errs[0].object.as_deref(), Some("Pod shop/p4000"));
    // The same text with a syntax error in one item goes to the YAML
    // parser, which names that item's line.
    let broken = text.replacen("\"name\": \"p4321\",", "\"name\": \"p4321\" \"x\": 1,", 1);
    let errs = errors("dump.json", &broken);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_eq!(errs[0].line, start(4321) + 4, "{errs:?}");
    assert!(errs[0].message.contains("invalid YAML"), "{errs:?}");
}

#[test]
fn objects_kept_from_a_list_of_megabytes_point_at_their_lines() {
    let items: Vec<String> = (0..6000).map(|i| json_pod(&format!("p{i}"), "")).collect();
    let text = json_list(&items);
    assert!(text.len() > 1 << 20, "{}", text.len());
    let opts = LoadOptions {
        keep_manifests: true,
        ..LoadOptions::default()
    };
    let source = Source {
        name: "dump.json".into(),
        text,
    };
    let cluster = load_sources(&[source], &opts).unwrap();
    assert_eq!(cluster.endpoints.len(), 6000);
    let m = &cluster.manifests[4500];
    assert_eq!(m.name, "p4500");
    // Item i starts at line 5 + 14 * i.
    assert_eq!(m.origin.line, 5 + 14 * 4500);
    assert_eq!(m.line("metadata.name"), 5 + 14 * 4500 + 4);
    assert_eq!(m.line("spec.containers[0].name"), 5 + 14 * 4500 + 10);
    assert_eq!(
        m.get("metadata.name").and_then(|v| v.as_str()),
        Some("p4500")
    );
}

/// `text` loaded as given, and through the YAML parser (a trailing comment
/// makes serde_json refuse it; the lines stay the same): the same pods, or
/// the same diagnostics.
fn both_ways(
    text: &str,
) -> (
    Result<String, Vec<Diagnostic>>,
    Result<String, Vec<Diagnostic>>,
) {
    let load = |text: String| {
        let source = Source {
            name: "list.json".into(),
            text,
        };
        load_sources(&[source], &LoadOptions::default())
            .map(|c| format!("{:?}", c.endpoints))
            .map_err(|e| e.0)
    };
    (
        load(text.to_string()),
        load(format!("{text}# read by the YAML parser\n")),
    )
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 24, failure_persistence: None, ..Default::default() })]

    /// A List of more than a megabyte (streamed item by item) broken by one
    /// byte anywhere: never a panic, and the answer the YAML parser gives.
    #[test]
    fn a_megabyte_list_broken_anywhere_reads_as_the_yaml_parser_reads_it(
        at in 0.0f64..1.0,
        op in 0usize..3,
        byte in proptest::sample::select(b"{}[],:\"x0 \n\\".to_vec()),
    ) {
        let items: Vec<String> = (0..4000).map(|i| json_pod(&format!("p{i}"), "")).collect();
        let mut bytes = json_list(&items).into_bytes();
        assert!(bytes.len() > 1 << 20, "{} bytes", bytes.len());
        let at = ((bytes.len() - 1) as f64 * at) as usize;
        match op {
            0 => { bytes.remove(at); }
            1 => bytes.insert(at, byte),
            _ => bytes[at] = byte,
        }
        let text = String::from_utf8(bytes).unwrap();
        let (fast, slow) = both_ways(&text);
        proptest::prop_assert_eq!(fast, slow);
    }
}

/// The harness above compares real loads: a List that loads gives its pods
/// both ways, and one with a type error fails both ways alike.
#[test]
fn both_ways_reads_pods_and_errors() {
    let items: Vec<String> = (0..300).map(|i| json_pod(&format!("p{i}"), "")).collect();
    let (fast, slow) = both_ways(&json_list(&items));
    assert_eq!(fast, slow);
    assert!(fast.as_ref().is_ok_and(|pods| pods.contains("p299")));
    let broken = json_list(&items).replacen("\"kind\": \"Pod\"", "\"kind\": 7", 1);
    let (fast, slow) = both_ways(&broken);
    assert_eq!(fast, slow);
    assert!(fast.is_err());
}
