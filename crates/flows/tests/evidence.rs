//! The flows against discovery's evidence, without policies: what no flow
//! means and netpol's default-deny would block; guesses never count; egress
//! needs count only under `ingress+egress`.

use netpol_discover::{Confidence, Connection, Discovery, Evidence, Peer};
use netpol_engine::Engine;
use netpol_flows::{expand, parse_flows, would_break};
use netpol_model::{LoadOptions, Protocol, load_paths};

fn cluster() -> netpol_model::Cluster {
    let path = format!(
        "{}/tests/fixtures/ingress-backends/cluster.yaml",
        env!("CARGO_MANIFEST_DIR")
    );
    let opts = LoadOptions {
        keep_manifests: true,
        ..LoadOptions::default()
    };
    load_paths(&[path], &opts).unwrap()
}

fn need(src: Peer, dst: Peer, port: u16, confidence: Confidence) -> Connection {
    Connection {
        src,
        dst,
        port,
        protocol: Protocol::Tcp,
        rule: "test",
        confidence,
        evidence: vec![Evidence {
            file: "m.yaml".into(),
            line: 1,
            object: "Deployment x/y".into(),
            field: "spec".into(),
            text: "why".into(),
        }],
    }
}

fn breaks(mode: &str, flows: &str, needs: Vec<Connection>) -> Vec<String> {
    let c = cluster();
    let f = parse_flows(
        "flows.yaml",
        &format!("defaultDeny: {mode}\nallowDns: false\ncluster: {{nodeCIDRs: [192.168.1.0/24]}}\nflows:\n{flows}"),
    )
    .unwrap();
    let x = expand(&c, &f);
    let d = Discovery {
        connections: needs,
        unresolved: Vec::new(),
    };
    would_break(&x, &Engine::new(&c), &d)
        .iter()
        .map(|w| format!("{} -> {} {} {}", w.src, w.dst, w.port, w.reasons.join("; ")))
        .collect()
}

const TO_BACKENDS: &str =
    "  - {from: ingress-nginx, to: ingress-backends, ports: backend, purpose: web}\n";

#[test]
fn uncovered_needs_break_and_guesses_do_not_count() {
    let w = |ns, n| Peer::workload(ns, n);
    let got = breaks(
        "ingress",
        TO_BACKENDS,
        vec![
            // Covered by ingress-backends on the backend port.
            need(
                w("ingress-nginx", "controller"),
                w("shop", "web"),
                8080,
                Confidence::Certain,
            ),
            // The Service port, not the pod's: no flow means it.
            need(
                w("ingress-nginx", "controller"),
                w("shop", "web"),
                80,
                Confidence::Likely,
            ),
            // A guess is for review, never a failure.
            need(
                w("traefik", "traefik"),
                w("shop", "web"),
                9000,
                Confidence::Guess,
            ),
            // Egress to the API server: open under defaultDeny: ingress.
            need(
                w("shop", "web"),
                Peer::KubeApiserver,
                6443,
                Confidence::Certain,
            ),
        ],
    );
    assert_eq!(
        got,
        [
            "ingress-nginx/controller -> shop/web 80 no flow means it: the generated policies would deny it"
        ]
    );
}

#[test]
fn with_egress_isolation_the_api_server_needs_its_flow() {
    let need_api = || {
        vec![need(
            Peer::workload("shop", "web"),
            Peer::KubeApiserver,
            6443,
            Confidence::Certain,
        )]
    };
    let got = breaks("ingress+egress", TO_BACKENDS, need_api());
    assert_eq!(
        got,
        ["shop/web -> kube-apiserver 6443 no flow means it: the generated policies would deny it"]
    );
    let with_flow = format!(
        "{TO_BACKENDS}  - {{from: shop/web, to: kube-apiserver, ports: [6443], purpose: api}}\n"
    );
    assert!(breaks("ingress+egress", &with_flow, need_api()).is_empty());
}

/// A need between dual-stack pods that the policies allow over IPv4 only is
/// broken over IPv6: the app may resolve the Service's IPv6 address.
#[test]
fn a_need_the_policies_allow_over_one_family_only_would_break_over_the_other() {
    let text = "apiVersion: v1
kind: Pod
metadata: {name: client, namespace: net, labels: {app: client}}
spec: {containers: [{name: c, image: c}]}
status: {podIPs: [{ip: 10.42.0.10}, {ip: 'fd00::10'}]}
---
apiVersion: v1
kind: Pod
metadata: {name: server, namespace: net, labels: {app: server}}
spec: {containers: [{name: c, image: c, ports: [{containerPort: 80}]}]}
status: {podIPs: [{ip: 10.42.0.20}, {ip: 'fd00::20'}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: server-from-v4, namespace: net}
spec:
  podSelector: {matchLabels: {app: server}}
  ingress: [{from: [{ipBlock: {cidr: 10.42.0.0/16}}]}]
";
    let c = netpol_model::load_sources(
        &[netpol_model::Source {
            name: "net.yaml".into(),
            text: text.into(),
        }],
        &LoadOptions::default(),
    )
    .unwrap();
    // The flow is there: only the given policy breaks the need.
    let f = parse_flows(
        "flows.yaml",
        "defaultDeny: ingress\nflows:\n  - {from: net/client, to: net/server, ports: [80], purpose: web}\n",
    )
    .unwrap();
    let x = expand(&c, &f);
    let client = Peer::Workload("net/client".into());
    let server = Peer::Workload("net/server".into());
    let d = Discovery {
        connections: vec![need(client, server, 80, Confidence::Certain)],
        unresolved: Vec::new(),
    };
    let broken = would_break(&x, &Engine::new(&c), &d);
    assert_eq!(broken.len(), 1, "{broken:?}");
    assert!(
        broken[0].reasons[0]
            .starts_with("the policies deny it over IPv6 (allowed over IPv4 only): "),
        "{:?}",
        broken[0].reasons
    );
}
