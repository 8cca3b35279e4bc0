//! The engine held against a deliberately plain evaluator written straight
//! from the Kubernetes NetworkPolicy specification (API reference and concept
//! page): no bitsets, no indexes, no engine code. Every matrix cell must agree
//! with it, and with `Engine::verdict` (matrix and explain can never disagree).

use std::net::IpAddr;

use netpol_engine::{Engine, Party};
use netpol_model::{
    Cluster, Endpoint, LabelSelector, Labels, Operator, Peer, Policy, PortRef, PortRule, Protocol,
    Rule,
};
use netpol_synth::{Params, generate};
use proptest::prelude::*;

/// One end of a connection, as the specification sees it.
#[derive(Clone, Copy, Debug)]
enum Who {
    Pod(usize),
    Outside(IpAddr),
}

mod spec {
    use super::*;

    /// `src -> dst:port/protocol`, decided from first principles.
    pub fn allowed(c: &Cluster, src: Who, dst: Who, port: u16, protocol: Protocol) -> bool {
        if let (Who::Pod(a), Who::Pod(b)) = (src, dst) {
            // A pod cannot block access to itself.
            if a == b {
                return true;
            }
            // Traffic between a pod and its own node is always allowed; a
            // host-network pod's traffic is its node's traffic.
            let (s, d) = (&c.endpoints[a], &c.endpoints[b]);
            if (s.host_network || d.host_network) && s.node.is_some() && s.node == d.node {
                return true;
            }
        }
        let dst_pod = match dst {
            Who::Pod(i) => Some(&c.endpoints[i]),
            Who::Outside(_) => None,
        };
        // Both ends must allow it: the source's egress and the destination's ingress.
        side_allows(c, src, dst, dst_pod, port, protocol, true)
            && side_allows(c, dst, src, dst_pod, port, protocol, false)
    }

    /// Whether `subject`'s egress (or ingress) admits traffic with `other`.
    fn side_allows(
        c: &Cluster,
        subject: Who,
        other: Who,
        dst_pod: Option<&Endpoint>,
        port: u16,
        protocol: Protocol,
        egress: bool,
    ) -> bool {
        let Who::Pod(i) = subject else {
            return true; // no policy applies outside the cluster
        };
        let pod = &c.endpoints[i];
        if pod.host_network {
            return true; // policies never select host-network pods
        }
        let isolating: Vec<&Policy> = c
            .policies
            .iter()
            .filter(|p| {
                p.namespace == pod.namespace && selector_matches(&p.pod_selector, &pod.labels)
            })
            .filter(|p| {
                if egress {
                    p.affects_egress
                } else {
                    p.affects_ingress
                }
            })
            .collect();
        if isolating.is_empty() {
            return true;
        }
        isolating.iter().any(|p| {
            let rules: &[Rule] = if egress { &p.egress } else { &p.ingress };
            rules.iter().any(|r| {
                rule_peers_match(c, p, r, other) && rule_ports_match(r, dst_pod, port, protocol)
            })
        })
    }

    fn rule_peers_match(c: &Cluster, policy: &Policy, rule: &Rule, other: Who) -> bool {
        // An absent or empty from/to list matches everyone.
        rule.peers.is_empty()
            || rule
                .peers
                .iter()
                .any(|peer| peer_matches(c, policy, peer, other))
    }

    fn peer_matches(c: &Cluster, policy: &Policy, peer: &Peer, other: Who) -> bool {
        match peer {
            Peer::IpBlock { cidr, except, .. } => {
                let inside =
                    |ip: &IpAddr| cidr.contains(ip) && except.iter().all(|x| !x.contains(ip));
                match other {
                    Who::Outside(ip) => inside(&ip),
                    Who::Pod(i) => c.endpoints[i].ips.iter().any(inside),
                }
            }
            Peer::Pods {
                pod_selector,
                namespace_selector,
                ..
            } => {
                let Who::Pod(i) = other else { return false };
                let pod = &c.endpoints[i];
                if pod.host_network {
                    return false;
                }
                let namespace_ok = match namespace_selector {
                    // A podSelector alone means the policy's own namespace.
                    None => pod.namespace == policy.namespace,
                    Some(sel) => {
                        let labels = c
                            .namespaces
                            .get(&pod.namespace)
                            .map(|n| n.labels.clone())
                            .unwrap_or_default();
                        selector_matches(sel, &labels)
                    }
                };
                let pod_ok = match pod_selector {
                    None => true,
                    Some(sel) => selector_matches(sel, &pod.labels),
                };
                namespace_ok && pod_ok
            }
        }
    }

    fn rule_ports_match(
        rule: &Rule,
        dst: Option<&Endpoint>,
        port: u16,
        protocol: Protocol,
    ) -> bool {
        rule.ports.is_empty()
            || rule
                .ports
                .iter()
                .any(|p| port_matches(p, dst, port, protocol))
    }

    fn port_matches(p: &PortRule, dst: Option<&Endpoint>, port: u16, protocol: Protocol) -> bool {
        if p.protocol != protocol {
            return false;
        }
        match (&p.port, p.end_port) {
            (None, _) => true,
            (Some(PortRef::Number(n)), None) => *n == port,
            (Some(PortRef::Number(n)), Some(end)) => *n <= port && port <= end,
            // Named ports resolve on the destination pod, by name and protocol.
            (Some(PortRef::Name(name)), _) => match dst {
                Some(d) if !d.host_network => d.ports.iter().any(|cp| {
                    cp.name.as_deref() == Some(name.as_str())
                        && cp.protocol == protocol
                        && cp.port == port
                }),
                _ => false,
            },
        }
    }

    fn selector_matches(sel: &LabelSelector, labels: &Labels) -> bool {
        for (k, v) in &sel.match_labels {
            if labels.get(k) != Some(v) {
                return false;
            }
        }
        for r in &sel.match_expressions {
            let value = labels.get(&r.key);
            let ok = match r.operator {
                Operator::In => value.is_some() && r.values.contains(value.unwrap()),
                Operator::NotIn => value.is_none() || !r.values.contains(value.unwrap()),
                Operator::Exists => value.is_some(),
                Operator::DoesNotExist => value.is_none(),
            };
            if !ok {
                return false;
            }
        }
        true
    }
}

/// Ports worth probing beyond the declared ones: range edges, other protocols.
const EXTRA_PORTS: [(u16, Protocol); 8] = [
    (53, Protocol::Udp),
    (53, Protocol::Tcp),
    (80, Protocol::Udp),
    (1024, Protocol::Tcp),
    (3868, Protocol::Sctp),
    (8009, Protocol::Tcp),
    (9100, Protocol::Tcp),
    (65535, Protocol::Tcp),
];

/// Addresses outside the cluster, and a few that pods and nodes use.
fn outside_addresses(c: &Cluster) -> Vec<IpAddr> {
    let mut ips: Vec<IpAddr> = [
        "203.0.113.7",
        "203.0.113.200",
        "8.8.8.8",
        "192.168.0.11",
        "10.128.0.1",
        "fd00::1",
        "2001:db8::1",
    ]
    .iter()
    .map(|s| s.parse().unwrap())
    .collect();
    ips.extend(
        c.endpoints
            .iter()
            .flat_map(|e| e.ips.iter().copied())
            .take(4),
    );
    ips
}

/// Checks every matrix cell, extra ports and external parties; returns how many checks ran.
fn check_cluster(c: &Cluster) -> Result<usize, String> {
    let engine = Engine::new(c);
    let matrix = engine.matrix();
    let mut checks = 0;
    let mut last = None;
    for cell in matrix.cells() {
        let key = (cell.src, cell.dst, cell.port, cell.protocol);
        if last.is_some_and(|l| l >= key) {
            return Err(format!("cells out of order at {key:?}"));
        }
        last = Some(key);
        let want = spec::allowed(
            c,
            Who::Pod(cell.src),
            Who::Pod(cell.dst),
            cell.port,
            cell.protocol,
        );
        let verdict = engine.verdict(
            Party::Endpoint(cell.src),
            Party::Endpoint(cell.dst),
            cell.port,
            cell.protocol,
        );
        if cell.allowed != want || verdict.allowed != want {
            return Err(format!(
                "{} -> {} {}/{}: reference {want}, matrix {}, verdict {}\n{verdict:#?}",
                c.endpoints[cell.src].id(),
                c.endpoints[cell.dst].id(),
                cell.port,
                cell.protocol,
                cell.allowed,
                verdict.allowed
            ));
        }
        checks += 1;
    }
    // The matrix has exactly one column per declared port of each destination.
    let mut declared: Vec<(usize, u16, Protocol)> = c
        .endpoints
        .iter()
        .enumerate()
        .flat_map(|(i, e)| e.ports.iter().map(move |p| (i, p.port, p.protocol)))
        .collect();
    declared.sort();
    declared.dedup();
    let columns: Vec<(usize, u16, Protocol)> = matrix
        .columns
        .iter()
        .map(|col| (col.dst, col.port, col.protocol))
        .collect();
    if columns != declared {
        return Err(format!(
            "matrix columns {columns:?} are not the declared ports {declared:?}"
        ));
    }
    let n = c.endpoints.len();
    for src in 0..n {
        for dst in 0..n {
            for (port, protocol) in EXTRA_PORTS {
                let want = spec::allowed(c, Who::Pod(src), Who::Pod(dst), port, protocol);
                let got = engine
                    .verdict(Party::Endpoint(src), Party::Endpoint(dst), port, protocol)
                    .allowed;
                if got != want {
                    return Err(format!(
                        "{} -> {} {port}/{protocol}: reference {want}, verdict {got}",
                        c.endpoints[src].id(),
                        c.endpoints[dst].id()
                    ));
                }
                checks += 1;
            }
        }
    }
    for ip in outside_addresses(c) {
        for i in 0..n {
            let ports: Vec<(u16, Protocol)> = c.endpoints[i]
                .ports
                .iter()
                .map(|p| (p.port, p.protocol))
                .chain(EXTRA_PORTS)
                .collect();
            for (port, protocol) in ports {
                for (src, dst, s, d) in [
                    (
                        Who::Outside(ip),
                        Who::Pod(i),
                        Party::External(ip),
                        Party::Endpoint(i),
                    ),
                    (
                        Who::Pod(i),
                        Who::Outside(ip),
                        Party::Endpoint(i),
                        Party::External(ip),
                    ),
                ] {
                    let want = spec::allowed(c, src, dst, port, protocol);
                    let got = engine.verdict(s, d, port, protocol).allowed;
                    if got != want {
                        return Err(format!(
                            "{src:?} -> {dst:?} {port}/{protocol}: reference {want}, verdict {got}"
                        ));
                    }
                    checks += 1;
                }
            }
        }
    }
    Ok(checks)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 160, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn small_random_clusters_agree_with_the_reference(
        seed in any::<u64>(),
        workloads in 1usize..14,
        policies in 0usize..16,
        namespaces in 1usize..4,
    ) {
        let cluster = generate(&Params { workloads, policies, namespaces, seed });
        if let Err(e) = check_cluster(&cluster) {
            prop_assert!(false, "{}", e);
        }
    }
}

/// Larger clusters, where many policies select the same pods and rules overlap.
#[test]
fn medium_clusters_agree_with_the_reference() {
    for seed in 1..=3 {
        let cluster = generate(&Params::new(90, seed));
        let checks = check_cluster(&cluster).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        assert!(checks > 10_000);
    }
}

/// The reference must be able to tell allowed from denied, or agreeing with it proves nothing.
#[test]
fn the_generated_clusters_mix_allowed_and_denied_connections() {
    let cluster = generate(&Params::new(90, 1));
    let matrix = Engine::new(&cluster).matrix();
    let allowed = matrix.allowed_count();
    assert!(
        allowed > matrix.len() / 20 && allowed < matrix.len() * 19 / 20,
        "{allowed} of {}",
        matrix.len()
    );
}

/// The hand-written homelab, with its example policies and with generated
/// ones, and the real homelab model under the same example policies.
#[test]
fn homelab_clusters_agree_with_the_reference() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let example = format!("{root}/examples/homelab/manifests");
    let mut cases = vec![
        [example.clone(), format!("{root}/examples/homelab/policies")],
        [example, format!("{root}/examples/homelab/generated")],
    ];
    if let Some(real) = netpol_testdata::shared("realcases/homelab/manifests") {
        cases.push([
            real.display().to_string(),
            format!("{root}/examples/homelab/policies"),
        ]);
    }
    for paths in &cases {
        let cluster = netpol_model::load_paths(paths, &netpol_model::LoadOptions::default())
            .unwrap_or_else(|e| panic!("{paths:?}: {e}"));
        assert!(!cluster.endpoints.is_empty());
        check_cluster(&cluster).unwrap_or_else(|e| panic!("{paths:?}: {e}"));
    }
}
