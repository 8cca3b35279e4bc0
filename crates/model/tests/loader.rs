//! Loading manifests: formats, files and directories, kinds, namespaces,
//! pods versus their workloads, ports, addresses, and bad input.

use std::net::IpAddr;

use netpol_model::{
    Cluster, ContainerPort, LoadErrors, LoadOptions, Protocol, Source, WorkloadKind, load_paths,
    load_sources,
};

fn load_with(text: &str, opts: &LoadOptions) -> Result<Cluster, LoadErrors> {
    load_sources(
        &[Source {
            name: "in.yaml".into(),
            text: text.into(),
        }],
        opts,
    )
}

fn load(text: &str) -> Cluster {
    load_with(text, &LoadOptions::default()).unwrap_or_else(|e| panic!("{e}"))
}

fn ids(c: &Cluster) -> Vec<String> {
    c.endpoints.iter().map(|e| e.id()).collect()
}

fn pod(ns: &str, name: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  namespace: {ns}\nspec:\n  containers:\n  - name: c\n"
    )
}

#[test]
fn multi_document_yaml_with_empty_documents_and_comments() {
    let text = format!(
        "# leading comment\n---\n{}---\n---\n# only a comment\n---\n{}...\n",
        pod("a", "one"),
        pod("b", "two")
    );
    assert_eq!(ids(&load(&text)), ["a/one", "b/two"]);
}

#[test]
fn json_documents_load_like_yaml() {
    let json = r#"{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "j", "namespace": "n", "labels": {"app": "j"}},
        "spec": {"containers": [{"name": "c", "ports": [{"containerPort": 8080, "name": "http"}]}]},
        "status": {"podIP": "10.1.2.3"}}"#;
    let c = load_sources(
        &[Source {
            name: "pod.json".into(),
            text: json.into(),
        }],
        &LoadOptions::default(),
    )
    .unwrap();
    let e = &c.endpoints[0];
    assert_eq!(e.id(), "n/j");
    assert_eq!(e.labels["app"], "j");
    assert_eq!(
        e.ports,
        [ContainerPort {
            name: Some("http".into()),
            port: 8080,
            protocol: Protocol::Tcp
        }]
    );
    assert_eq!(e.ips, ["10.1.2.3".parse::<IpAddr>().unwrap()]);
}

#[test]
fn lists_as_kubectl_prints_them() {
    let text = r#"
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Pod
  metadata: {name: p1, namespace: a}
  spec: {containers: [{name: c}]}
- apiVersion: v1
  kind: PodList
  items:
  - apiVersion: v1
    kind: Pod
    metadata: {name: p2, namespace: a}
    spec: {containers: [{name: c}]}
- apiVersion: networking.k8s.io/v1
  kind: NetworkPolicy
  metadata: {name: deny, namespace: a}
  spec: {podSelector: {}}
"#;
    let c = load(text);
    assert_eq!(ids(&c), ["a/p1", "a/p2"]);
    assert_eq!(c.policies.len(), 1);
    // Errors inside a List name the item.
    let bad = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: networking.k8s.io/v1\n  kind: NetworkPolicy\n  metadata: {name: x}\n  spec:\n    ingress: [{ports: [{port: 0}]}]\n";
    let errs = load_with(bad, &LoadOptions::default()).unwrap_err().0;
    assert_eq!(
        errs[0].field.as_deref(),
        Some("items[0].spec.ingress[0].ports[0].port")
    );
    assert_eq!(errs[0].line, 8);
}

#[test]
fn directories_are_read_recursively_yaml_yml_and_json_only() {
    let dir = tempfile::tempdir().unwrap();
    let nested = dir.path().join("a/b");
    std::fs::create_dir_all(&nested).unwrap();
    std::fs::write(dir.path().join("top.yaml"), pod("n", "top")).unwrap();
    std::fs::write(dir.path().join("a/mid.yml"), pod("n", "mid")).unwrap();
    std::fs::write(
        nested.join("deep.json"),
        r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"deep","namespace":"n"},"spec":{"containers":[{"name":"c"}]}}"#,
    )
    .unwrap();
    std::fs::write(nested.join("README.md"), "not: [yaml").unwrap();
    std::fs::write(nested.join("notes.txt"), "kind: [broken").unwrap();
    let c = load_paths(&[dir.path()], &LoadOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(ids(&c), ["n/deep", "n/mid", "n/top"]);
    // A file named explicitly is read whatever its extension.
    let explicit = nested.join("pod.manifest");
    std::fs::write(&explicit, pod("n", "explicit")).unwrap();
    assert_eq!(
        ids(&load_paths(&[&explicit], &LoadOptions::default()).unwrap()),
        ["n/explicit"]
    );
    // A missing path is an error naming it.
    let missing = dir.path().join("nope");
    let errs = load_paths(&[&missing], &LoadOptions::default())
        .unwrap_err()
        .0;
    assert!(errs[0].file.ends_with("nope"));
}

#[test]
fn unknown_kinds_are_skipped_and_counted() {
    let text = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: a}}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: b}}\n---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {{name: i}}\n---\napiVersion: example.com/v1\nkind: Widget\nspec: {{anything: [1, 2]}}\n---\n{}",
        pod("n", "p")
    );
    let c = load(&text);
    assert_eq!(c.skipped.get("ConfigMap"), Some(&2));
    assert_eq!(c.skipped.get("Ingress"), Some(&1));
    assert_eq!(c.skipped.get("Widget"), Some(&1));
    assert_eq!(ids(&c), ["n/p"]);
}

#[test]
fn objects_without_a_namespace_use_the_default_or_dash_n() {
    let text = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c}]}\n---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny}\nspec: {podSelector: {}}\n";
    let c = load(text);
    assert_eq!(ids(&c), ["default/p"]);
    assert_eq!(c.policies[0].namespace, "default");
    let c = load_with(
        text,
        &LoadOptions {
            default_namespace: "team".into(),
            ..LoadOptions::default()
        },
    )
    .unwrap();
    assert_eq!(ids(&c), ["team/p"]);
    assert_eq!(c.policies[0].namespace, "team");
    // An explicit namespace wins over -n.
    let c = load_with(
        &pod("mine", "p"),
        &LoadOptions {
            default_namespace: "team".into(),
            ..LoadOptions::default()
        },
    )
    .unwrap();
    assert_eq!(ids(&c), ["mine/p"]);
}

#[test]
fn used_namespaces_exist_and_every_namespace_has_its_name_label() {
    let text = format!(
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: declared\n  labels: {{team: a}}\n---\n{}",
        pod("ghost", "p")
    );
    let c = load(&text);
    let ghost = &c.namespaces["ghost"];
    assert!(!ghost.declared);
    assert_eq!(
        ghost
            .labels
            .get("kubernetes.io/metadata.name")
            .map(String::as_str),
        Some("ghost")
    );
    let declared = &c.namespaces["declared"];
    assert!(declared.declared);
    assert_eq!(declared.labels["team"], "a");
    assert_eq!(declared.labels["kubernetes.io/metadata.name"], "declared");
}

const DUMP: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: n}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: c, ports: [{containerPort: 80}]}]}
---
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: web-5d9
  namespace: n
  ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: web, uid: u1}]
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: c, ports: [{containerPort: 80}]}]}
"#;

fn owned_pod(name: &str, ip: &str) -> String {
    format!(
        "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  namespace: n\n  labels: {{app: web}}\n  ownerReferences: [{{apiVersion: apps/v1, kind: ReplicaSet, name: web-5d9, uid: u2}}]\nspec: {{containers: [{{name: c, ports: [{{containerPort: 80}}]}}]}}\nstatus: {{podIP: {ip}}}\n"
    )
}

#[test]
fn pods_stand_for_their_workloads_when_both_are_given() {
    let text = format!(
        "{DUMP}{}{}",
        owned_pod("web-5d9-a", "10.0.0.1"),
        owned_pod("web-5d9-b", "10.0.0.2")
    );
    let c = load(&text);
    assert_eq!(ids(&c), ["n/web-5d9-a", "n/web-5d9-b"]);
    assert!(c.endpoints.iter().all(|e| e.kind == WorkloadKind::Pod));
    assert!(
        c.notes.iter().any(|n| n.contains("Deployment n/web")),
        "{:?}",
        c.notes
    );
    // Without the pods, the Deployment (not its ReplicaSet) is the endpoint.
    let c = load(DUMP);
    assert_eq!(ids(&c), ["n/web"]);
    assert_eq!(c.endpoints[0].kind, WorkloadKind::Deployment);
}

#[test]
fn finished_pods_are_not_endpoints() {
    let text = format!(
        "{}status: {{phase: Succeeded}}\n---\n{}status: {{phase: Running, podIP: 10.0.0.9}}\n",
        pod("n", "done"),
        pod("n", "live")
    );
    let c = load(&text);
    assert_eq!(ids(&c), ["n/live"]);
}

#[test]
fn restartable_init_containers_listen_and_ordinary_ones_do_not() {
    let text = r#"
apiVersion: v1
kind: Pod
metadata: {name: p, namespace: n}
spec:
  initContainers:
  - {name: setup, ports: [{containerPort: 1111}]}
  - {name: proxy, restartPolicy: Always, ports: [{name: proxy-admin, containerPort: 15000}, {containerPort: 15090, protocol: UDP}]}
  containers:
  - {name: main, ports: [{name: http, containerPort: 80}]}
  - {name: second, ports: [{name: sig, containerPort: 3868, protocol: SCTP}]}
"#;
    let ports: Vec<(u16, Protocol)> = load(text).endpoints[0]
        .ports
        .iter()
        .map(|p| (p.port, p.protocol))
        .collect();
    let mut want = vec![
        (80, Protocol::Tcp),
        (3868, Protocol::Sctp),
        (15000, Protocol::Tcp),
        (15090, Protocol::Udp),
    ];
    want.sort();
    let mut got = ports.clone();
    got.sort();
    assert_eq!(got, want);
}

#[test]
fn workload_kinds_use_their_pod_template() {
    let text = r#"
apiVersion: batch/v1
kind: CronJob
metadata: {name: backup, namespace: n, labels: {owner: label-on-cronjob}}
spec:
  schedule: "0 * * * *"
  jobTemplate:
    spec:
      template:
        metadata: {labels: {app: backup}}
        spec:
          restartPolicy: OnFailure
          hostNetwork: true
          containers: [{name: c, ports: [{name: metrics, containerPort: 9000}]}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: n}
spec:
  serviceName: db
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec: {containers: [{name: c, ports: [{containerPort: 5432}]}]}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: n}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec: {containers: [{name: c}]}
---
apiVersion: batch/v1
kind: Job
metadata: {name: once, namespace: n}
spec:
  template:
    metadata: {labels: {app: once}}
    spec: {restartPolicy: Never, containers: [{name: c}]}
---
apiVersion: v1
kind: ReplicationController
metadata: {name: old, namespace: n}
spec:
  template:
    metadata: {labels: {app: old}}
    spec: {containers: [{name: c}]}
"#;
    let c = load(text);
    assert_eq!(ids(&c), ["n/agent", "n/backup", "n/db", "n/old", "n/once"]);
    let backup = &c.endpoints[c.endpoint("n/backup").unwrap()];
    assert_eq!(backup.kind, WorkloadKind::CronJob);
    assert_eq!(backup.labels.get("app").map(String::as_str), Some("backup"));
    assert!(
        !backup.labels.contains_key("owner"),
        "the template's labels, not the CronJob's"
    );
    assert!(backup.host_network);
    assert_eq!(
        backup.resolve_named_port("metrics", Protocol::Tcp),
        Some(9000)
    );
    let kinds: Vec<WorkloadKind> = c.endpoints.iter().map(|e| e.kind).collect();
    use WorkloadKind::*;
    assert_eq!(
        kinds,
        [DaemonSet, CronJob, StatefulSet, ReplicationController, Job]
    );
}

#[test]
fn pod_ips_come_from_pod_ip_and_pod_ips() {
    let with_status = |status: &str| {
        let c = load(&format!("{}status: {status}\n", pod("n", "p")));
        c.endpoints[0]
            .ips
            .iter()
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(with_status("{podIP: 10.0.0.1}"), ["10.0.0.1"]);
    assert_eq!(
        with_status("{podIP: 10.0.0.1, podIPs: [{ip: 10.0.0.1}, {ip: 'fd00::1'}]}"),
        ["10.0.0.1", "fd00::1"]
    );
    assert_eq!(
        with_status("{podIPs: [{ip: 'fd00::2'}, {ip: 10.0.0.2}]}"),
        ["fd00::2", "10.0.0.2"]
    );
    assert!(with_status("{phase: Pending}").is_empty());
    let errs = load_with(
        &format!("{}status: {{podIP: 10.0.0.300}}\n", pod("n", "p")),
        &LoadOptions::default(),
    )
    .unwrap_err()
    .0;
    assert_eq!(errs[0].field.as_deref(), Some("status.podIP"));
}

#[test]
fn malformed_yaml_is_an_error_with_a_line() {
    let text = format!(
        "{}---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: [unclosed\n  namespace: n\n",
        pod("n", "ok")
    );
    let errs = load_with(&text, &LoadOptions::default()).unwrap_err().0;
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0].file, "in.yaml");
    assert!(errs[0].line >= 13, "{}", errs[0]);
    let errs = load_with("a: b\n  c: d\n", &LoadOptions::default())
        .unwrap_err()
        .0;
    assert_eq!(errs[0].line, 2, "{}", errs[0]);
    let errs = load_with("\tkind: Pod\n", &LoadOptions::default())
        .unwrap_err()
        .0;
    assert!(!errs.is_empty());
}

#[test]
fn wrong_field_types_name_the_field_and_line() {
    let text = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: n}\nspec:\n  containers:\n  - name: c\n    ports:\n    - containerPort: eighty\n";
    let errs = load_with(text, &LoadOptions::default()).unwrap_err().0;
    assert_eq!(errs.len(), 1);
    assert_eq!(
        errs[0].field.as_deref(),
        Some("spec.containers[0].ports[0].containerPort"),
        "{}",
        errs[0]
    );
    assert_eq!(errs[0].line, 8);
    let text = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p}\nspec:\n  podSelector: []\n";
    let errs = load_with(text, &LoadOptions::default()).unwrap_err().0;
    assert_eq!(
        errs[0].field.as_deref(),
        Some("spec.podSelector"),
        "{}",
        errs[0]
    );
    assert_eq!(errs[0].line, 5);
    for bad in [
        "42\n",
        "- a\n- b\n",
        "kind: Pod\n",
        "apiVersion: v1\n",
        "apiVersion: v1\nkind: 7\n",
    ] {
        assert!(load_with(bad, &LoadOptions::default()).is_err(), "{bad:?}");
    }
}

#[test]
fn duplicate_objects_are_errors() {
    let text = format!("{}---\n{}", pod("n", "p"), pod("n", "p"));
    let errs = load_with(&text, &LoadOptions::default()).unwrap_err().0;
    assert!(errs[0].message.contains("duplicate"), "{}", errs[0]);
    assert_eq!(errs[0].document, 2);
}

/// Files are loaded in parallel and joined in order: the diagnostics are
/// those of reading them one after the other. A duplicate of an object of an
/// earlier file is reported where it stands, instead of its own problems.
#[test]
fn files_loaded_in_parallel_report_as_if_read_in_order() {
    let bad_port = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: n\nspec:\n  containers:\n  - name: c\n    ports:\n    - containerPort: 0\n";
    let sources = [
        ("a.yaml", pod("n", "p")),
        (
            "b.yaml",
            format!(
                "{}---\n{bad_port}---\n{}",
                pod("n", "bad name"),
                pod("n", "Q")
            ),
        ),
        ("c.yaml", format!("{}---\n{}", pod("n", "q"), pod("n", "q"))),
    ]
    .map(|(name, text)| Source {
        name: name.into(),
        text,
    });
    let errs = load_sources(&sources, &LoadOptions::default())
        .unwrap_err()
        .0;
    let got: Vec<(&str, usize, bool)> = errs
        .iter()
        .map(|e| (e.file.as_str(), e.document, e.message.contains("duplicate")))
        .collect();
    assert_eq!(
        got,
        [
            ("b.yaml", 1, false),
            ("b.yaml", 2, true),
            ("b.yaml", 3, false),
            ("c.yaml", 2, true),
        ],
        "{errs:#?}"
    );
    assert!(
        errs[1].message.ends_with("also defined at a.yaml:1"),
        "{}",
        errs[1]
    );
    assert_eq!(errs[1].line, 13);
    assert_eq!(errs[1].field.as_deref(), Some("metadata.name"));
}

#[test]
fn deeply_nested_input_is_refused_without_a_panic() {
    for depth in [200, 10_000, 100_000] {
        let flow = format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: p}}\nspec: {}{}\n",
            "[".repeat(depth),
            "]".repeat(depth)
        );
        assert!(
            load_with(&flow, &LoadOptions::default()).is_err(),
            "depth {depth}"
        );
        let maps = format!("x: {}1{}\n", "{a: ".repeat(depth), "}".repeat(depth));
        assert!(
            load_with(&maps, &LoadOptions::default()).is_err(),
            "depth {depth}"
        );
    }
    let mut block = String::from("apiVersion: v1\nkind: Pod\nmetadata:\n");
    for i in 0..3000 {
        block.push_str(&" ".repeat(i + 2));
        block.push_str("a:\n");
    }
    assert!(load_with(&block, &LoadOptions::default()).is_err());
}

#[test]
fn alias_bombs_are_refused_without_a_panic() {
    let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..12 {
        let prev = format!("*a{}", i - 1);
        text.push_str(&format!(
            "a{i}: &a{i} [{}]\n",
            [prev.as_str(); 10].join(", ")
        ));
    }
    assert!(load_with(&text, &LoadOptions::default()).is_err());
}

#[test]
fn large_input_loads() {
    let mut text = String::new();
    for i in 0..5000 {
        text.push_str(&format!(
            "---\napiVersion: v1\nkind: Pod\nmetadata: {{name: p{i}, namespace: ns{}, labels: {{app: a{i}}}}}\nspec: {{containers: [{{name: c, ports: [{{containerPort: 80}}]}}]}}\nstatus: {{podIP: 10.{}.{}.{}}}\n",
            i % 7,
            i / 65536,
            (i / 256) % 256,
            i % 256
        ));
    }
    let c = load(&text);
    assert_eq!(c.endpoints.len(), 5000);
    assert_eq!(c.namespaces.len(), 7);
    // A single huge scalar and a huge label map are fine too.
    let long = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: big}}\ndata: {{blob: \"{}\"}}\n",
        "x".repeat(5_000_000)
    );
    assert_eq!(load(&long).skipped["ConfigMap"], 1);
}

#[test]
fn the_real_homelab_loads() {
    let Some(dir) = netpol_testdata::shared("realcases/homelab/manifests") else {
        return;
    };
    let c = load_paths(&[dir], &LoadOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    assert!(c.endpoints.len() >= 50, "{}", c.endpoints.len());
    assert!(
        c.namespaces
            .values()
            .all(|n| n.labels.contains_key("kubernetes.io/metadata.name"))
    );
}

#[test]
fn pods_know_their_workload() {
    // A loaded Deployment -> ReplicaSet -> Pod chain, and a Pod whose
    // ReplicaSet is not loaded (its Deployment comes from pod-template-hash).
    let text = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: a}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: c, image: x}]}
---
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: web-abc12
  namespace: a
  ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: web, uid: u1}]
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: c, image: x}]}
---
apiVersion: v1
kind: Pod
metadata:
  name: web-abc12-xyz
  namespace: a
  labels: {app: web, pod-template-hash: abc12}
  ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web-abc12, uid: u2}]
spec: {containers: [{name: c, image: x}]}
---
apiVersion: v1
kind: Pod
metadata:
  name: api-9f8e7-qrs
  namespace: a
  labels: {app: api, pod-template-hash: 9f8e7}
  ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: api-9f8e7, uid: u3}]
spec: {containers: [{name: c, image: x}]}
---
apiVersion: v1
kind: Pod
metadata: {name: lonely, namespace: a}
spec: {containers: [{name: c, image: x}]}
"#;
    let cluster = load(text);
    let ids: Vec<String> = cluster.endpoints.iter().map(|e| e.id()).collect();
    assert_eq!(ids, ["a/api-9f8e7-qrs", "a/lonely", "a/web-abc12-xyz"]);
    assert_eq!(cluster.workload(0), "a/api");
    assert_eq!(cluster.workload(1), "a/lonely");
    assert_eq!(cluster.workload(2), "a/web");
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 64, failure_persistence: None, ..Default::default() })]

    /// Endpoints come sorted by their `namespace/name` string, also where
    /// one namespace is a prefix of another (`a` and `a-b`: `-` sorts
    /// before `/`, `b` after it).
    #[test]
    fn endpoints_are_in_the_order_of_their_id_strings(
        pods in proptest::collection::btree_set(
            (
                proptest::sample::select(vec!["a", "a-b", "a-b-c", "ab", "a0", "b"]),
                proptest::sample::select(vec!["a", "a-b", "x", "x-1", "b", "z0"]),
            ),
            1..30,
        ),
    ) {
        let text: Vec<String> = pods.iter().rev().map(|(ns, name)| pod(ns, name)).collect();
        let cluster = load(&text.join("---\n"));
        let got = ids(&cluster);
        let mut want: Vec<String> = pods.iter().map(|(ns, name)| format!("{ns}/{name}")).collect();
        want.sort();
        proptest::prop_assert_eq!(got, want);
    }
}

/// Two workloads that would be the same endpoint: one error naming both
/// kinds in input order, however their ids sort among the others.
#[test]
fn workloads_with_one_endpoint_name_are_refused_together() {
    let workload = |kind: &str, ns: &str, name: &str| {
        format!(
            "apiVersion: apps/v1\nkind: {kind}\nmetadata:\n  name: {name}\n  namespace: {ns}\nspec:\n  template:\n    metadata:\n      labels:\n        app: x\n"
        )
    };
    let text = [
        pod("a-b", "web"),
        workload("Deployment", "a", "web"),
        pod("a", "web-0"),
        workload("StatefulSet", "a", "web"),
    ]
    .join("---\n");
    let err = load_with(&text, &LoadOptions::default()).unwrap_err();
    let messages: Vec<&str> = err.0.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(
        messages,
        [
            "endpoint name a/web is used by several workloads (Deployment, StatefulSet); endpoints must have unique namespace/name"
        ]
    );
}
