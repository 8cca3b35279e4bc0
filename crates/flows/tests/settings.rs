//! The file-wide settings: automatic DNS under egress isolation (and turning
//! it off), unmanaged namespaces, and the engine's view of the result.

use netpol_engine::{Engine, Party};
use netpol_flows::{expand, generate, parse_flows, verify};
use netpol_model::{Cluster, LoadOptions, Protocol, Source, load_sources};

const CLUSTER: &str = "
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop, labels: {app: web}}
spec:
  containers: [{name: c, image: x, ports: [{name: http, containerPort: 8080}]}]
---
apiVersion: v1
kind: Pod
metadata: {name: coredns, namespace: kube-system, labels: {k8s-app: kube-dns}}
spec:
  containers: [{name: c, image: x, ports: [{containerPort: 53, protocol: UDP}, {containerPort: 53, protocol: TCP}]}]
---
apiVersion: v1
kind: Pod
metadata: {name: tool, namespace: ops, labels: {app: tool}}
spec:
  containers: [{name: c, image: x, ports: [{containerPort: 9000}]}]
";

fn load(extra: &[(String, String)]) -> Cluster {
    let mut sources = vec![Source {
        name: "cluster.yaml".into(),
        text: CLUSTER.into(),
    }];
    sources.extend(extra.iter().map(|(n, t)| Source {
        name: n.clone(),
        text: t.clone(),
    }));
    load_sources(&sources, &LoadOptions::default()).unwrap_or_else(|e| panic!("{e}"))
}

/// Generates for `flows`, then loads the cluster with the policies.
fn generated(flows: &str) -> (netpol_flows::Flows, Cluster, Vec<(String, String)>) {
    let parsed = parse_flows("flows.yaml", flows).unwrap();
    let cluster = load(&[]);
    let files: Vec<(String, String)> = generate(&expand(&cluster, &parsed))
        .files
        .into_iter()
        .collect();
    let with = load(&files);
    (parsed, with, files)
}

fn allowed(c: &Cluster, src: &str, dst: &str, port: u16, proto: Protocol) -> bool {
    let e = Engine::new(c);
    let (s, d) = (c.endpoint(src).unwrap(), c.endpoint(dst).unwrap());
    e.verdict(Party::Endpoint(s), Party::Endpoint(d), port, proto)
        .allowed
}

#[test]
fn egress_isolation_allows_dns_unless_turned_off() {
    let flows = "defaultDeny: ingress+egress\nflows:\n  - {from: ops/tool, to: shop/web, ports: [8080], purpose: Tool}\n";
    let (parsed, c, _) = generated(flows);
    for proto in [Protocol::Udp, Protocol::Tcp] {
        assert!(allowed(&c, "shop/web", "kube-system/coredns", 53, proto));
        assert!(allowed(&c, "ops/tool", "kube-system/coredns", 53, proto));
    }
    assert!(allowed(&c, "ops/tool", "shop/web", 8080, Protocol::Tcp));
    assert!(!allowed(&c, "shop/web", "ops/tool", 9000, Protocol::Tcp));
    let report = verify(&expand(&c, &parsed));
    assert!(report.strict_ok(), "{:?}", report.extra);

    let off = flows.replace("flows:\n", "allowDns: false\nflows:\n");
    let (parsed, c, files) = generated(&off);
    assert!(!allowed(
        &c,
        "shop/web",
        "kube-system/coredns",
        53,
        Protocol::Udp
    ));
    assert!(files.iter().all(|(_, t)| !t.contains("k8s-app: kube-dns")));
    assert!(verify(&expand(&c, &parsed)).strict_ok());
}

#[test]
fn unmanaged_namespaces_get_nothing_and_are_not_reported() {
    let flows = "defaultDeny: ingress\nunmanagedNamespaces: [ops]\nflows:\n  - {from: ops/tool, to: shop/web, ports: [8080], purpose: Tool}\n";
    let (parsed, c, files) = generated(flows);
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["kube-system.yaml", "shop.yaml"]);
    // ops stays open: nothing netpol manages could restrict traffic into it.
    assert!(allowed(&c, "shop/web", "ops/tool", 9000, Protocol::Tcp));
    let report = verify(&expand(&c, &parsed));
    assert!(
        report.strict_ok(),
        "{:?} {:?}",
        report.extra,
        report.without_default_deny
    );

    // Managed, the same traffic into ops is extra and ops lacks a default-deny.
    let managed = flows.replace("unmanagedNamespaces: [ops]\n", "");
    let parsed = parse_flows("flows.yaml", &managed).unwrap();
    let report = verify(&expand(&c, &parsed));
    assert_eq!(report.without_default_deny.len(), 1);
    assert!(
        report
            .extra
            .iter()
            .any(|e| e.src == "shop/web" && e.dst == "ops/tool" && e.port == 9000)
    );
    assert!(!report.ok());
}

const API: &str = "
apiVersion: v1
kind: Pod
metadata:
  name: api
  namespace: shop
  labels: {app: api}
  annotations: {prometheus.io/port: \"9102\"}
spec:
  containers: [{name: c, image: x, ports: [{name: http, containerPort: 8080}, {name: metrics-udp, containerPort: 9125, protocol: UDP}]}]
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: shop}
spec:
  selector: {app: api}
  ports: [{name: web, port: 80, targetPort: http}, {name: alt, port: 8443, targetPort: 9443}]
";

fn dst_ports(ports: &str) -> (Vec<String>, Vec<&'static str>) {
    let c = load_sources(
        &[Source {
            name: "api.yaml".into(),
            text: API.into(),
        }],
        &LoadOptions::default(),
    )
    .unwrap();
    let flows = format!("flows:\n  - {{from: shop, to: shop/api, ports: {ports}, purpose: P}}\n");
    let x = expand(&c, &parse_flows("flows.yaml", &flows).unwrap());
    let netpol_flows::Destinations::Pods { members, .. } = &x.expanded[0].destinations else {
        panic!()
    };
    let ports = members[0].ports.iter().map(|p| p.to_string()).collect();
    (ports, x.findings.iter().map(|f| f.code).collect())
}

#[test]
fn ports_resolve_to_what_the_pod_receives() {
    // A Service port is translated to its targetPort (a name here), and said so.
    assert_eq!(
        dst_ports("[80]"),
        (vec!["8080/TCP".to_string()], vec!["service-port"])
    );
    assert_eq!(dst_ports("[8443]").0, ["9443/TCP"]);
    // `service`: every port of every Service in front of the pod.
    assert_eq!(
        dst_ports("service"),
        (vec!["8080/TCP".to_string(), "9443/TCP".to_string()], vec![])
    );
    // A name resolves on the pod first, then among the Service's port names.
    assert_eq!(dst_ports("[http]").0, ["8080/TCP"]);
    assert_eq!(dst_ports("[web]").0, ["8080/TCP"]);
    // `metrics`: ports named like metrics, and the prometheus.io/port annotation.
    assert_eq!(dst_ports("metrics").0, ["9102/TCP", "9125/UDP"]);
    // A port nobody declares is still allowed, with a warning.
    assert_eq!(
        dst_ports("[7000]"),
        (vec!["7000/TCP".to_string()], vec!["no-listener"])
    );
    assert_eq!(dst_ports("8000-8100").0, ["8000-8100/TCP"]);
    assert_eq!(dst_ports("any").0, ["any port"]);
}
