//! With manifests kept, a live dump keeps the manifest of each workload's
//! first Pod only. Which Pods belong to one workload is read here from the
//! model's own owner resolution (`workload_of`), not from the loader's key.

use netpol_model::{Cluster, LoadOptions, Source, load_sources};

/// (namespace, name, owner kind and name, pod-template-hash).
type DumpPod = (
    &'static str,
    String,
    Option<(&'static str, &'static str)>,
    Option<&'static str>,
);

/// The dump's Pods, in input order: workloads interleaved so that their
/// first Pods fall in different chunks of a List.
fn pods() -> Vec<DumpPod> {
    let mut out = Vec::new();
    for i in 0..700 {
        let (ns, owner, hash) = match i % 7 {
            0 | 1 => ("shop", Some(("ReplicaSet", "web-5d8f")), Some("5d8f")),
            // Same ReplicaSet name, another hash: not a suffix, another workload.
            2 if i > 300 => ("shop", Some(("ReplicaSet", "web-5d8f")), Some("77aa")),
            2 => ("shop", Some(("StatefulSet", "db")), None),
            3 => ("other", Some(("ReplicaSet", "web-5d8f")), Some("5d8f")),
            4 if i > 520 => ("shop", Some(("DaemonSet", "late")), None),
            4 => ("shop", Some(("StatefulSet", "db")), None),
            5 => ("shop", None, None),
            _ => ("other", Some(("Job", "batch")), None),
        };
        out.push((ns, format!("p{i}"), owner, hash));
    }
    out
}

fn pod_json((ns, name, owner, hash): &DumpPod) -> String {
    let owners = owner.map_or(String::new(), |(kind, owner)| {
        format!(
            r#", "ownerReferences": [{{"apiVersion": "apps/v1", "kind": "{kind}", "name": "{owner}", "uid": "u-{owner}", "controller": true}}]"#
        )
    });
    let hash = hash.map_or(String::new(), |h| {
        format!(r#", "pod-template-hash": "{h}""#)
    });
    format!(
        r#"{{"apiVersion": "v1", "kind": "Pod", "metadata": {{"name": "{name}", "namespace": "{ns}", "labels": {{"app": "x"{hash}}}{owners}}}, "spec": {{"containers": [{{"name": "main", "image": "x", "ports": [{{"containerPort": 80}}]}}]}}, "status": {{"podIP": "10.0.0.1"}}}}"#
    )
}

fn pod_yaml((ns, name, owner, hash): &DumpPod, indent: &str) -> String {
    let mut s = format!(
        "apiVersion: v1\n{indent}kind: Pod\n{indent}metadata:\n{indent}  name: {name}\n{indent}  namespace: {ns}\n{indent}  labels:\n{indent}    app: x\n"
    );
    if let Some(h) = hash {
        s += &format!("{indent}    pod-template-hash: \"{h}\"\n");
    }
    if let Some((kind, owner)) = owner {
        s += &format!(
            "{indent}  ownerReferences:\n{indent}  - apiVersion: apps/v1\n{indent}    kind: {kind}\n{indent}    name: {owner}\n{indent}    uid: u-{owner}\n{indent}    controller: true\n"
        );
    }
    s += &format!(
        "{indent}spec:\n{indent}  containers:\n{indent}  - name: main\n{indent}    image: x\n{indent}    ports:\n{indent}    - containerPort: 80\n{indent}status:\n{indent}  podIP: 10.0.0.1\n"
    );
    s
}

const SERVICE_JSON: &str = r#"{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "shop"}, "spec": {"selector": {"app": "x"}, "ports": [{"port": 80}]}}"#;
const SERVICE_YAML: &str = "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  namespace: shop\nspec:\n  selector:\n    app: x\n  ports:\n  - port: 80\n";

/// The dump in three shapes: a JSON List, a YAML List, YAML documents.
fn shapes() -> Vec<(&'static str, String)> {
    let pods = pods();
    let (head, tail) = pods.split_at(400);
    let json: Vec<String> = head
        .iter()
        .map(pod_json)
        .chain([SERVICE_JSON.to_string()])
        .chain(tail.iter().map(pod_json))
        .collect();
    let yaml_items: Vec<String> = head
        .iter()
        .map(|p| pod_yaml(p, "  "))
        .chain([SERVICE_YAML.replace('\n', "\n  ").trim_end().to_string() + "\n"])
        .chain(tail.iter().map(|p| pod_yaml(p, "  ")))
        .map(|item| format!("- {item}"))
        .collect();
    let docs: Vec<String> = head
        .iter()
        .map(|p| pod_yaml(p, ""))
        .chain([SERVICE_YAML.to_string()])
        .chain(tail.iter().map(|p| pod_yaml(p, "")))
        .collect();
    vec![
        (
            "dump.json",
            format!(
                "{{\"apiVersion\": \"v1\", \"kind\": \"List\", \"items\": [\n{}\n]}}\n",
                json.join(",\n")
            ),
        ),
        (
            "dump.yaml",
            format!(
                "apiVersion: v1\nkind: List\nitems:\n{}",
                yaml_items.concat()
            ),
        ),
        ("docs.yaml", format!("---\n{}", docs.join("---\n"))),
    ]
}

fn load(name: &str, text: &str, keep_manifests: bool) -> Cluster {
    let source = Source {
        name: name.into(),
        text: text.into(),
    };
    let opts = LoadOptions {
        keep_manifests,
        ..LoadOptions::default()
    };
    load_sources(&[source], &opts).unwrap_or_else(|e| panic!("{name}: {e:?}"))
}

#[test]
fn only_the_first_pod_of_each_workload_keeps_its_manifest() {
    for (name, text) in shapes() {
        let kept = load(name, &text, true);
        let lean = load(name, &text, false);
        // The model is the same either way.
        let ids = |c: &Cluster| c.endpoints.iter().map(|e| e.id()).collect::<Vec<_>>();
        assert_eq!(ids(&kept), ids(&lean), "{name}");
        assert_eq!(kept.workload_of, lean.workload_of, "{name}");
        // The first Pod of each workload, in input order, and the Service.
        let mut seen = std::collections::BTreeSet::new();
        let mut want = Vec::new();
        for (i, (ns, pod, _, _)) in pods().iter().enumerate() {
            if i == 400 {
                want.push("Service shop/web".to_string());
            }
            let id = format!("{ns}/{pod}");
            let workload = kept.workload_of.get(&id).cloned().unwrap_or(id.clone());
            if seen.insert(workload) {
                want.push(format!("Pod {id}"));
            }
        }
        let got: Vec<String> = kept.manifests.iter().map(|m| m.display_name()).collect();
        assert_eq!(got, want, "{name}");
        // shop/web, shop/web-5d8f, shop/db, shop/late, other/web and
        // other/batch, each Pod without owners, and the Service.
        assert_eq!(got.len(), 6 + 100 + 1, "{name}");
        // Each kept manifest still points at its own item.
        let p6 = kept.manifests.iter().find(|m| m.name == "p6").unwrap();
        assert_eq!(
            p6.get("metadata.name").and_then(|v| v.as_str()),
            Some("p6"),
            "{name}"
        );
        assert!(
            text.lines()
                .nth(p6.line("metadata.name") - 1)
                .unwrap()
                .contains("p6"),
            "{name}"
        );
    }
}
