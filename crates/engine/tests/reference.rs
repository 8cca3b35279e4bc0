//! The engine held against a deliberately plain evaluator written straight
//! from the Kubernetes NetworkPolicy specification (API reference and concept
//! page): no bitsets, no indexes, no engine code. Every matrix cell must agree
//! with it, and with `Engine::verdict` (matrix and explain can never disagree).

use std::net::IpAddr;

use netpol_engine::{Cell, ClassMatrix, Classes, Engine, Party};
use netpol_model::{
    Cluster, Endpoint, Family, LabelSelector, Labels, Operator, Peer, Policy, PortRef, PortRule,
    Protocol, Rule,
};
use netpol_synth::{Params, generate, live};
use proptest::prelude::*;

/// One end of a connection, as the specification sees it.
#[derive(Clone, Copy, Debug)]
enum Who {
    Pod(usize),
    Outside(IpAddr),
}

mod spec {
    use super::*;

    /// How a connection is decided.
    #[derive(Debug, PartialEq)]
    pub enum Answer {
        /// Allowed whatever the policies say.
        Always,
        /// The two ends share no address family: no connection can exist.
        NoFamily,
        /// Per address family the connection could use: allowed or not.
        PerFamily(Vec<(bool, bool)>),
    }

    impl Answer {
        /// Allowed over some family.
        pub fn allowed(&self) -> bool {
            match self {
                Answer::Always => true,
                Answer::NoFamily => false,
                Answer::PerFamily(v) => v.iter().any(|(_, ok)| *ok),
            }
        }

        /// Allowed over IPv6 only (`Some(true)`) or IPv4 only (`Some(false)`),
        /// when the connection could use both.
        pub fn only_v6(&self) -> Option<bool> {
            match self {
                Answer::PerFamily(v) if v.len() == 2 && v[0].1 != v[1].1 => {
                    Some(v.iter().find(|(_, ok)| *ok).expect("one allowed").0)
                }
                _ => None,
            }
        }
    }

    /// The address families (true: IPv6) an end can use: those of its
    /// addresses, or either when its address is unknown.
    fn families(c: &Cluster, w: Who) -> Vec<bool> {
        match w {
            Who::Outside(ip) => vec![ip.is_ipv6()],
            Who::Pod(i) if c.endpoints[i].ips.is_empty() => vec![false, true],
            Who::Pod(i) => {
                let mut f: Vec<bool> = c.endpoints[i].ips.iter().map(|ip| ip.is_ipv6()).collect();
                f.sort();
                f.dedup();
                f
            }
        }
    }

    /// `src -> dst:port/protocol`, decided from first principles.
    pub fn decide(c: &Cluster, src: Who, dst: Who, port: u16, protocol: Protocol) -> Answer {
        if let (Who::Pod(a), Who::Pod(b)) = (src, dst) {
            // A pod cannot block access to itself; an endpoint that stands
            // for several replicas is several pods, and between them policies decide.
            if a == b && matches!(c.endpoints[a].replicas, Some(0 | 1)) {
                return Answer::Always;
            }
            // Traffic between a pod and its own node is always allowed; a
            // host-network pod's traffic is its node's traffic.
            let (s, d) = (&c.endpoints[a], &c.endpoints[b]);
            if (s.host_network || d.host_network) && s.node.is_some() && s.node == d.node {
                return Answer::Always;
            }
        }
        // A connection is IPv4 or IPv6: both ends need an address of its family.
        let theirs = families(c, dst);
        let common: Vec<bool> = families(c, src)
            .into_iter()
            .filter(|f| theirs.contains(f))
            .collect();
        if common.is_empty() {
            return Answer::NoFamily;
        }
        let dst_pod = match dst {
            Who::Pod(i) => Some(&c.endpoints[i]),
            Who::Outside(_) => None,
        };
        // Both ends must allow it: the source's egress and the destination's ingress.
        Answer::PerFamily(
            common
                .into_iter()
                .map(|v6| {
                    let ok = side_allows(c, src, dst, dst_pod, port, protocol, true, v6)
                        && side_allows(c, dst, src, dst_pod, port, protocol, false, v6);
                    (v6, ok)
                })
                .collect(),
        )
    }

    pub fn allowed(c: &Cluster, src: Who, dst: Who, port: u16, protocol: Protocol) -> bool {
        decide(c, src, dst, port, protocol).allowed()
    }

    /// Whether `subject`'s egress (or ingress) admits traffic with `other`
    /// over IPv6 (`v6`) or IPv4.
    #[allow(clippy::too_many_arguments)]
    fn side_allows(
        c: &Cluster,
        subject: Who,
        other: Who,
        dst_pod: Option<&Endpoint>,
        port: u16,
        protocol: Protocol,
        egress: bool,
        v6: bool,
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
                rule_peers_match(c, p, r, other, v6) && rule_ports_match(r, dst_pod, port, protocol)
            })
        })
    }

    fn rule_peers_match(c: &Cluster, policy: &Policy, rule: &Rule, other: Who, v6: bool) -> bool {
        // An absent or empty from/to list matches everyone.
        rule.peers.is_empty()
            || rule
                .peers
                .iter()
                .any(|peer| peer_matches(c, policy, peer, other, v6))
    }

    fn peer_matches(c: &Cluster, policy: &Policy, peer: &Peer, other: Who, v6: bool) -> bool {
        match peer {
            Peer::IpBlock { cidr, except, .. } => {
                // The packet carries the address of the connection's family.
                let inside = |ip: &IpAddr| {
                    ip.is_ipv6() == v6
                        && cidr.contains(ip)
                        && except.iter().all(|x| !x.contains(ip))
                };
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
        let answer = spec::decide(
            c,
            Who::Pod(cell.src),
            Who::Pod(cell.dst),
            cell.port,
            cell.protocol,
        );
        let (want, want_only) = (answer.allowed(), answer.only_v6());
        let verdict = engine.verdict(
            Party::Endpoint(cell.src),
            Party::Endpoint(cell.dst),
            cell.port,
            cell.protocol,
        );
        let cell_only = cell.only.map(|f| f == Family::V6);
        let verdict_only = verdict.only_over().map(|f| f == Family::V6);
        if cell.allowed != want
            || verdict.allowed != want
            || cell_only != want_only
            || verdict_only != want_only
        {
            return Err(format!(
                "{} -> {} {}/{}: reference {answer:?}, matrix {} (only IPv6: {cell_only:?}), verdict {} (only IPv6: {verdict_only:?})\n{verdict:#?}",
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
                let answer = spec::decide(c, Who::Pod(src), Who::Pod(dst), port, protocol);
                let want = (answer.allowed(), answer.only_v6());
                let v = engine.verdict(Party::Endpoint(src), Party::Endpoint(dst), port, protocol);
                let got = (v.allowed, v.only_over().map(|f| f == Family::V6));
                if got != want {
                    return Err(format!(
                        "{} -> {} {port}/{protocol}: reference {want:?}, verdict {got:?}",
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

/// Agreeing with the reference on families and replicas proves something
/// only if the clusters have cells where they matter.
#[test]
fn the_generated_clusters_exercise_families_and_replicas() {
    let (mut one_family, mut no_family, mut replicas_denied) = (0, 0, 0);
    for seed in 1..=3 {
        let cluster = generate(&Params::new(90, seed));
        let engine = Engine::new(&cluster);
        for cell in engine.matrix().cells() {
            one_family += usize::from(cell.only.is_some());
            let (s, d) = (Party::Endpoint(cell.src), Party::Endpoint(cell.dst));
            if engine.connection_families(s, d).is_empty() {
                no_family += 1;
                // Only a pod's own node reaches it whatever the addresses say.
                assert!(!cell.allowed || engine.is_node_traffic(s, d));
            }
            let e = &cluster.endpoints[cell.src];
            if cell.src == cell.dst && e.may_be_several_pods() && !cell.allowed {
                replicas_denied += 1;
            }
        }
    }
    assert!(one_family > 0, "no connection allowed over one family only");
    assert!(no_family > 0, "no pair without a common family");
    assert!(
        replicas_denied > 0,
        "no replica-to-replica connection denied"
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

/// The matrix through equivalence classes, read per pod, against the per-pod
/// engine (every cell, the counts and the per-workload summary) and the
/// reference; returns the number of classes.
fn check_classes(c: &Cluster) -> Result<usize, String> {
    let classes = Classes::new(c);
    let by_class = ClassMatrix::new(c, &classes);
    let per_pod = Engine::new(c).matrix();
    let (a, b): (Vec<Cell>, Vec<Cell>) = (by_class.cells().collect(), per_pod.cells().collect());
    if a.len() != b.len() {
        return Err(format!(
            "{} cells through classes, {} per pod",
            a.len(),
            b.len()
        ));
    }
    for (x, y) in a.iter().zip(&b) {
        if x != y {
            return Err(format!(
                "{} -> {}: through classes {x:?}, per pod {y:?}",
                c.endpoints[y.src].id(),
                c.endpoints[y.dst].id()
            ));
        }
        let answer = spec::decide(c, Who::Pod(x.src), Who::Pod(x.dst), x.port, x.protocol);
        if x.allowed != answer.allowed() || x.only.map(|f| f == Family::V6) != answer.only_v6() {
            return Err(format!("{x:?}: reference {answer:?}"));
        }
    }
    let counts = |len, allowed, one| format!("{len} cells, {allowed} allowed, {one} one-family");
    let (x, y) = (
        counts(
            by_class.len(),
            by_class.allowed_count(),
            by_class.one_family_count(),
        ),
        counts(
            per_pod.len(),
            per_pod.allowed_count(),
            per_pod.one_family_count(),
        ),
    );
    if x != y {
        return Err(format!("through classes {x}, per pod {y}"));
    }
    let mut summaries = [Vec::new(), Vec::new()];
    let row = |p: netpol_engine::PairSummary| {
        (
            p.src.to_string(),
            p.dst.to_string(),
            p.allowed,
            p.connections,
        )
    };
    by_class
        .for_each_workload_pair(|p| {
            summaries[0].push(row(p));
            Ok::<(), ()>(())
        })
        .unwrap();
    per_pod
        .for_each_workload_pair(c, |p| {
            summaries[1].push(row(p));
            Ok::<(), ()>(())
        })
        .unwrap();
    if summaries[0] != summaries[1] {
        let first = summaries[0].iter().zip(&summaries[1]).find(|(x, y)| x != y);
        return Err(format!("summaries differ: {first:?}"));
    }
    Ok(classes.len())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, failure_persistence: None, ..ProptestConfig::default() })]

    /// Pods of live dumps (replicas with their own addresses and nodes,
    /// host-network pods, ipBlocks around pod addresses), and the
    /// template-level clusters (workloads standing for several pods).
    #[test]
    fn classes_give_the_per_pod_matrix(
        seed in any::<u64>(),
        workloads in 1usize..10,
        policies in 0usize..14,
        namespaces in 1usize..3,
        replicas in 1usize..4,
    ) {
        let template = generate(&Params { workloads, policies, namespaces, seed });
        for c in [live(&template, replicas), template] {
            if let Err(e) = check_classes(&c) {
                prop_assert!(false, "{}", e);
            }
        }
    }
}

/// Agreeing proves something only if classes merge pods, host-network pods
/// share nodes with others, and ipBlocks split replicas.
#[test]
fn classes_merge_replicas_and_keep_what_policies_see_apart() {
    let template = generate(&Params::new(90, 1));
    let pods = live(&template, 3);
    let n = check_classes(&pods).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        n * 5 < pods.endpoints.len() * 3,
        "{n} classes for {} pods",
        pods.endpoints.len()
    );
    let classes = Classes::new(&pods);
    let split = (0..template.endpoints.len()).any(|w| {
        let id = template.endpoints[w].id();
        let mut of_workload: Vec<u32> = (0..pods.endpoints.len())
            .filter(|&i| pods.workload(i) == id)
            .map(|i| classes.class_of[i])
            .collect();
        of_workload.sort();
        of_workload.dedup();
        of_workload.len() > 1
    });
    assert!(split, "no workload's replicas told apart by an ipBlock");
    let e = &pods.endpoints;
    assert!(
        e.iter()
            .any(|h| h.host_network && e.iter().any(|p| !p.host_network && p.node == h.node)),
        "no host-network pod shares a node"
    );
    check_classes(&template).unwrap_or_else(|e| panic!("{e}"));
}
