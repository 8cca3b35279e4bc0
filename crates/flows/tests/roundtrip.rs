//! For random clusters and random flows, the policies `generate` writes are
//! exactly the flows: the engine finds nothing missing and nothing extra.

use netpol_flows::{expand, generate, parse_flows, verify};
use netpol_model::{LoadOptions, Source, load_sources};
use proptest::prelude::*;

#[derive(Clone, Debug)]
struct Workload {
    namespace: usize,
    labels: Vec<(&'static str, &'static str)>,
    ports: Vec<usize>,
}

#[derive(Clone, Debug)]
struct Svc {
    namespace: usize,
    selects: (&'static str, &'static str),
    port: u16,
    /// Index into PORTS: the named container port it targets, or a number.
    target: usize,
    by_name: bool,
}

/// Container ports workloads may declare: (name, port, protocol).
const PORTS: [(&str, u16, &str); 5] = [
    ("http", 8080, "TCP"),
    ("web", 80, "TCP"),
    ("dns", 53, "UDP"),
    ("metrics", 9100, "TCP"),
    ("grpc", 9000, "TCP"),
];

const LABELS: [(&str, &str); 6] = [
    ("app", "a"),
    ("app", "b"),
    ("tier", "x"),
    ("tier", "y"),
    ("team", "t"),
    ("part-of", "p"),
];

fn workload() -> impl Strategy<Value = Workload> {
    (
        0..3usize,
        proptest::sample::subsequence(LABELS.to_vec(), 0..=3),
        proptest::sample::subsequence((0..PORTS.len()).collect::<Vec<_>>(), 0..=3),
    )
        .prop_map(|(namespace, labels, ports)| {
            // One value per key.
            let mut seen = std::collections::BTreeSet::new();
            let labels = labels
                .into_iter()
                .filter(|(k, _)| seen.insert(*k))
                .collect();
            Workload {
                namespace,
                labels,
                ports,
            }
        })
}

fn service() -> impl Strategy<Value = Svc> {
    (
        0..3usize,
        proptest::sample::select(LABELS.to_vec()),
        proptest::sample::select(vec![80u16, 443, 8080, 9000]),
        0..PORTS.len(),
        any::<bool>(),
    )
        .prop_map(|(namespace, selects, port, target, by_name)| Svc {
            namespace,
            selects,
            port,
            target,
            by_name,
        })
}

const ENDPOINTS: [&str; 14] = [
    "*",
    "ns0",
    "ns1",
    "ns2",
    "ns0/w0",
    "ns1/w1",
    "ns2/w2",
    "ns0/w3",
    "ns1:app=a",
    "*:tier=x",
    "*:app=b,tier=y",
    "external",
    "203.0.113.0/24",
    "ns9",
];

const PORT_CHOICES: [&str; 10] = [
    "[80]",
    "[8080, 53/udp]",
    "service",
    "metrics",
    "any",
    "8000-8100",
    "http",
    "[web, 9000]",
    "443",
    "53/udp",
];

fn flows_text() -> impl Strategy<Value = String> {
    let flow = (
        proptest::sample::select(ENDPOINTS.to_vec()),
        proptest::sample::select(ENDPOINTS.to_vec()),
        proptest::sample::select(PORT_CHOICES.to_vec()),
    );
    let unmanaged = proptest::option::of(proptest::sample::select(vec!["ns1", "kube-system"]));
    (any::<bool>(), any::<bool>(), unmanaged, proptest::collection::vec(flow, 1..5)).prop_map(|(egress, dns, unmanaged, flows)| {
        let mut s = format!(
            "defaultDeny: {}\nallowDns: {dns}\n",
            if egress { "ingress+egress" } else { "ingress" }
        );
        if let Some(ns) = unmanaged {
            s.push_str(&format!("unmanagedNamespaces: [{ns}]\n"));
        }
        s.push_str("flows:\n");
        for (i, (from, to, ports)) in flows.iter().enumerate() {
            // A flow between two address ranges is an error in the file; keep one end a pod.
            let pods = |e: &str| e != "external" && !e.contains('.');
            let to = if !pods(from) && !pods(to) { "ns0" } else { to };
            s.push_str(&format!("  - from: \"{from}\"\n    to: \"{to}\"\n    ports: {ports}\n    purpose: Flow {i}\n"));
        }
        s
    })
}

fn manifests(workloads: &[Workload], services: &[Svc], with_dns: bool) -> String {
    let mut s = String::new();
    let mut label_sets = std::collections::BTreeSet::new();
    for (i, w) in workloads.iter().enumerate() {
        let mut labels: Vec<(String, String)> = w
            .labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        labels.sort();
        // Pods with identical labels cannot be told apart by any policy; keep them distinct.
        if !label_sets.insert((w.namespace, labels.clone())) {
            labels.push(("id".into(), format!("w{i}")));
        }
        let labels_yaml: String = if labels.is_empty() {
            "  labels: {}\n".to_string()
        } else {
            let items: String = labels
                .iter()
                .map(|(k, v)| format!("    {k}: {v}\n"))
                .collect();
            format!("  labels:\n{items}")
        };
        let ports: String = w
            .ports
            .iter()
            .map(|&p| {
                let (name, port, proto) = PORTS[p];
                format!("        - name: {name}\n          containerPort: {port}\n          protocol: {proto}\n")
            })
            .collect();
        let ports = if ports.is_empty() {
            String::new()
        } else {
            format!("      ports:\n{ports}")
        };
        s.push_str(&format!(
            "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: w{i}\n  namespace: ns{}\n{labels_yaml}spec:\n  containers:\n    - name: c\n      image: x\n{ports}",
            w.namespace
        ));
    }
    for (i, svc) in services.iter().enumerate() {
        let (name, number, proto) = PORTS[svc.target];
        let target = if svc.by_name {
            name.to_string()
        } else {
            number.to_string()
        };
        s.push_str(&format!(
            "---\napiVersion: v1\nkind: Service\nmetadata:\n  name: s{i}\n  namespace: ns{}\nspec:\n  selector:\n    {}: {}\n  ports:\n    - port: {}\n      targetPort: {target}\n      protocol: {proto}\n",
            svc.namespace, svc.selects.0, svc.selects.1, svc.port
        ));
    }
    if with_dns {
        s.push_str("---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: coredns\n  namespace: kube-system\n  labels:\n    k8s-app: kube-dns\nspec:\n  containers:\n    - name: c\n      image: x\n      ports:\n        - name: dns\n          containerPort: 53\n          protocol: UDP\n        - name: dns-tcp\n          containerPort: 53\n          protocol: TCP\n");
    }
    s
}

fn load(texts: Vec<(String, String)>) -> netpol_model::Cluster {
    let sources: Vec<Source> = texts
        .into_iter()
        .map(|(name, text)| Source { name, text })
        .collect();
    load_sources(&sources, &LoadOptions::default()).unwrap_or_else(|e| panic!("{e}"))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn generated_policies_are_exactly_the_flows(
        workloads in proptest::collection::vec(workload(), 1..8),
        services in proptest::collection::vec(service(), 0..4),
        with_dns in any::<bool>(),
        flows in flows_text(),
    ) {
        let text = manifests(&workloads, &services, with_dns);
        let cluster = load(vec![("m.yaml".into(), text.clone())]);
        let parsed = parse_flows("flows.yaml", &flows).unwrap_or_else(|e| panic!("{e}\n{flows}"));
        let generated = generate(&expand(&cluster, &parsed));

        let mut inputs = vec![("m.yaml".to_string(), text)];
        inputs.extend(generated.files.iter().map(|(n, t)| (n.clone(), t.clone())));
        let with_policies = load(inputs);
        prop_assert_eq!(with_policies.policies.len(), generated.policies.len());
        let report = verify(&expand(&with_policies, &parsed));
        let files: Vec<&String> = generated.files.values().collect();
        prop_assert!(report.missing.is_empty(), "missing {:#?}\nflows:\n{}\npolicies:\n{:?}", report.missing.iter().map(|m| (&m.src, &m.dst, m.port)).collect::<Vec<_>>(), flows, files);
        prop_assert!(report.extra.is_empty(), "extra {:#?}\nflows:\n{}\npolicies:\n{:?}", report.extra, flows, files);
        prop_assert!(report.without_default_deny.is_empty());
        // The same input gives the same bytes.
        let again = generate(&expand(&cluster, &parsed));
        prop_assert_eq!(&again.files, &generated.files);
    }
}
