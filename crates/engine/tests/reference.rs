//! The engine held against a deliberately plain evaluator written straight
//! from the Kubernetes NetworkPolicy specification (API reference and concept
//! page): no bitsets, no indexes, no engine code. Every matrix cell must agree
//! with it, and with `Engine::verdict` (matrix and explain can never disagree).
//! The Admin and Baseline tiers of ClusterNetworkPolicy are written here from
//! the API's type documentation (network-policy-api v1alpha2), as plainly.

use std::net::IpAddr;

use netpol_engine::{Cell, ClassMatrix, Classes, Engine, Party};
use netpol_model::{
    Action, Cluster, ClusterPolicy, Endpoint, Family, LabelSelector, Labels, Operator, Peer,
    Policy, PortRef, PortRule, Protocol, Rule, Tier, TierPeer, TierPort, TierSubject,
};
use netpol_synth::{Params, generate, live};
use proptest::prelude::*;

#[path = "support/random_tiers.rs"]
mod random_tiers;
use random_tiers::{Rng, with_cluster_policies};

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
    /// over IPv6 (`v6`) or IPv4: "Policy tiers are evaluated in the following
    /// order: Admin tier, NetworkPolicy tier, Baseline tier"; "If a given
    /// connection wasn't allowed or denied by any of the tiers, the default
    /// kubernetes policy is applied, which says that all pods can communicate".
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
        let tier = |t| tier_action(c, t, pod, other, dst_pod, port, protocol, egress, v6);
        match tier(Tier::Admin) {
            Some(Action::Accept) => return true,
            Some(Action::Deny) => return false,
            // Pass, or no rule matched: on to NetworkPolicy.
            _ => {}
        }
        // "v1.NetworkPolicy always makes a final decision for selected pods."
        if let Some(decided) = network_policy(c, pod, other, dst_pod, port, protocol, egress, v6) {
            return decided;
        }
        // Baseline: Deny denies; Accept, Pass or nothing leave the default, allow.
        tier(Tier::Baseline) != Some(Action::Deny)
    }

    /// The action of the first rule that matches in `tier`: policies by
    /// priority, lower first (equal priorities by name, netpol's choice), and
    /// rules in the order written.
    #[allow(clippy::too_many_arguments)]
    fn tier_action(
        c: &Cluster,
        tier: Tier,
        pod: &Endpoint,
        other: Who,
        dst_pod: Option<&Endpoint>,
        port: u16,
        protocol: Protocol,
        egress: bool,
        v6: bool,
    ) -> Option<Action> {
        let mut policies: Vec<&ClusterPolicy> = c
            .cluster_policies
            .iter()
            .filter(|p| p.tier == tier && subject_selects(c, p, pod))
            .collect();
        policies.sort_by(|a, b| (a.priority, &a.name).cmp(&(b.priority, &b.name)));
        for p in policies {
            let rules = if egress { &p.egress } else { &p.ingress };
            for rule in rules {
                let ports_ok = rule.ports.is_empty()
                    || rule
                        .ports
                        .iter()
                        .any(|(tp, _)| tier_port_matches(tp, dst_pod, port, protocol));
                let peer_ok = rule
                    .peers
                    .iter()
                    .any(|peer| tier_peer_matches(c, peer, other, v6));
                if ports_ok && peer_ok {
                    return Some(rule.action);
                }
            }
        }
        None
    }

    fn namespace_labels(c: &Cluster, ns: &str) -> Labels {
        c.namespaces
            .get(ns)
            .map(|n| n.labels.clone())
            .unwrap_or_default()
    }

    /// "Note that host-networked pods are not included in subject selection."
    fn subject_selects(c: &Cluster, p: &ClusterPolicy, pod: &Endpoint) -> bool {
        let ns = namespace_labels(c, &pod.namespace);
        match &p.subject {
            TierSubject::Namespaces(sel) => selector_matches(sel, &ns),
            TierSubject::Pods {
                namespace_selector,
                pod_selector,
            } => {
                selector_matches(namespace_selector, &ns)
                    && selector_matches(pod_selector, &pod.labels)
            }
        }
    }

    fn tier_peer_matches(c: &Cluster, peer: &TierPeer, other: Who, v6: bool) -> bool {
        // The addresses `other` can use over the connection's family.
        let addresses: Vec<IpAddr> = match other {
            Who::Outside(ip) => vec![ip],
            Who::Pod(i) => c.endpoints[i].ips.clone(),
        };
        let addresses: Vec<IpAddr> = addresses
            .into_iter()
            .filter(|ip| ip.is_ipv6() == v6)
            .collect();
        match peer {
            TierPeer::Namespaces { selector, .. } => match other {
                Who::Pod(i) if !c.endpoints[i].host_network => {
                    selector_matches(selector, &namespace_labels(c, &c.endpoints[i].namespace))
                }
                _ => false,
            },
            TierPeer::Pods {
                namespace_selector,
                pod_selector,
                ..
            } => match other {
                Who::Pod(i) if !c.endpoints[i].host_network => {
                    let e = &c.endpoints[i];
                    selector_matches(namespace_selector, &namespace_labels(c, &e.namespace))
                        && selector_matches(pod_selector, &e.labels)
                }
                _ => false,
            },
            // "cluster-internal traffic will be checked against the rule as well"
            TierPeer::Networks { cidrs, .. } => addresses
                .iter()
                .any(|ip| cidrs.iter().any(|cidr| cidr.contains(ip))),
            // "It selects the nodeIPs ... in the node.Status.Addresses field"
            TierPeer::Nodes { selector, .. } => c
                .nodes
                .iter()
                .filter(|n| selector_matches(selector, &n.labels))
                .any(|n| {
                    let host_pod_here = matches!(other, Who::Pod(i)
                        if c.endpoints[i].host_network
                            && c.endpoints[i].ips.is_empty()
                            && c.endpoints[i].node.as_deref() == Some(n.name.as_str()));
                    n.addresses
                        .iter()
                        .any(|a| a.is_ipv6() == v6 && (addresses.contains(a) || host_pod_here))
                }),
            TierPeer::DomainNames { .. } => {
                panic!("the reference does not guess domain names; generate none")
            }
        }
    }

    /// `destinationNamedPort` "selects a destination port on a pod based on
    /// the ContainerPort name".
    fn tier_port_matches(
        p: &TierPort,
        dst: Option<&Endpoint>,
        port: u16,
        protocol: Protocol,
    ) -> bool {
        match p {
            TierPort::Number {
                protocol: pr,
                port: n,
            } => *pr == protocol && *n == port,
            TierPort::Range {
                protocol: pr,
                start,
                end,
            } => *pr == protocol && *start <= port && port <= *end,
            TierPort::Named(name) => match dst {
                Some(d) if !d.host_network => d.ports.iter().any(|cp| {
                    cp.name.as_deref() == Some(name.as_str())
                        && cp.port == port
                        && cp.protocol == protocol
                }),
                _ => false,
            },
        }
    }

    /// NetworkPolicy's answer for `pod`, or `None` when no policy of this
    /// direction selects it.
    #[allow(clippy::too_many_arguments)]
    fn network_policy(
        c: &Cluster,
        pod: &Endpoint,
        other: Who,
        dst_pod: Option<&Endpoint>,
        port: u16,
        protocol: Protocol,
        egress: bool,
        v6: bool,
    ) -> Option<bool> {
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
            return None;
        }
        Some(isolating.iter().any(|p| {
            let rules: &[Rule] = if egress { &p.egress } else { &p.ingress };
            rules.iter().any(|r| {
                rule_peers_match(c, p, r, other, v6) && rule_ports_match(r, dst_pod, port, protocol)
            })
        }))
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
    ips.extend(
        c.nodes
            .iter()
            .flat_map(|n| n.addresses.iter().copied())
            .take(3),
    );
    ips
}

/// `Engine::decide` (no trace) gives the verdict's answer.
fn same_without_trace(
    engine: &Engine,
    v: &netpol_engine::Verdict,
    src: Party,
    dst: Party,
) -> Result<(), String> {
    let o = engine.decide(src, dst, v.port, v.protocol);
    if (o.allowed, o.only) != (v.allowed, v.only_over()) {
        return Err(format!(
            "{} -> {} {}/{}: decide {o:?}, verdict {} (only {:?})",
            v.src,
            v.dst,
            v.port,
            v.protocol,
            v.allowed,
            v.only_over()
        ));
    }
    Ok(())
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
        if let Some(u) = &verdict.undecidable {
            return Err(format!("undecidable without domainNames: {u}"));
        }
        same_without_trace(
            &engine,
            &verdict,
            Party::Endpoint(cell.src),
            Party::Endpoint(cell.dst),
        )?;
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
                same_without_trace(&engine, &v, Party::Endpoint(src), Party::Endpoint(dst))?;
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
                    let v = engine.verdict(s, d, port, protocol);
                    same_without_trace(&engine, &v, s, d)?;
                    let got = v.allowed;
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

/// `c` with some host-network pods moved to other nodes (with their
/// node's address), as a host-network DaemonSet's pods are on every node.
fn spread_host_pods(mut c: Cluster, seed: u64) -> Cluster {
    let mut rng = Rng(seed.rotate_left(29) | 1);
    let mut nodes: Vec<(String, IpAddr)> = c
        .endpoints
        .iter()
        .filter_map(|e| Some((e.node.clone()?, e.host_ip?)))
        .collect();
    nodes.sort();
    nodes.dedup();
    for e in c.endpoints.iter_mut().filter(|e| e.host_network) {
        if let Some((node, ip)) = rng.pick(&nodes).filter(|_| e.ips.len() == 1) {
            e.node = Some(node.clone());
            e.host_ip = Some(*ip);
            e.ips = vec![*ip];
        }
    }
    c
}

/// `c` with the addresses of some host-network pods forgotten (a pod known
/// by its node only), which `nodes` peers then match through its node.
fn forget_some_host_addresses(mut c: Cluster, seed: u64) -> Cluster {
    let mut rng = Rng(seed.rotate_left(17) | 1);
    for e in c.endpoints.iter_mut().filter(|e| e.host_network) {
        if rng.below(2) == 0 {
            e.ips.clear();
        }
    }
    c
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 120, failure_persistence: None, ..ProptestConfig::default() })]

    /// Template-level clusters, and live dumps of them (replicas on several
    /// nodes, host-network pods, some known by their node only).
    #[test]
    fn random_clusters_with_cluster_policies_agree_with_the_reference(
        seed in any::<u64>(),
        workloads in 1usize..12,
        policies in 0usize..8,
        cluster_policies in 1usize..6,
        namespaces in 1usize..4,
        replicas in 1usize..3,
    ) {
        let template = generate(&Params { workloads, policies, namespaces, seed });
        let pods = spread_host_pods(live(&template, replicas), seed);
        let pods = forget_some_host_addresses(with_cluster_policies(pods, seed, cluster_policies), seed);
        let template = with_cluster_policies(template, seed, cluster_policies);
        for cluster in [template, pods] {
            if let Err(e) = check_cluster(&cluster) {
                prop_assert!(false, "{}", e);
            }
        }
    }
}

/// Agreeing proves something only if the tiers decide: every action of both
/// tiers must decide some connection of the generated clusters.
#[test]
fn the_generated_cluster_policies_decide_connections() {
    use netpol_engine::tier::Layer;
    let mut seen = std::collections::BTreeSet::new();
    for seed in 1..=12u64 {
        let cluster = with_cluster_policies(generate(&Params::new(30, seed)), seed, 6);
        let engine = Engine::new(&cluster);
        for cell in engine.matrix().cells().step_by(7) {
            let v = engine.verdict(
                Party::Endpoint(cell.src),
                Party::Endpoint(cell.dst),
                cell.port,
                cell.protocol,
            );
            for side in [&v.egress, &v.ingress] {
                if let Some(t) = &side.tiers {
                    seen.insert((format!("{:?}", t.decided_by), side.allowed));
                }
            }
        }
    }
    for (layer, allowed) in [
        (Layer::Admin, true),
        (Layer::Admin, false),
        (Layer::Baseline, true),
        (Layer::Baseline, false),
        (Layer::NetworkPolicy, false),
        (Layer::Default, true),
    ] {
        assert!(
            seen.contains(&(format!("{:?}", Some(layer)), allowed)),
            "no side decided by {layer:?} with allowed={allowed}: {seen:?}"
        );
    }
}

/// Every scenario of the upstream conformance suite (../shared/conformance/cnp):
/// every connection decided, engine and reference alike.
#[test]
fn cnp_conformance_scenarios_agree_with_the_reference() {
    let Some(dir) = netpol_testdata::shared("conformance/cnp") else {
        return;
    };
    let mut scenarios: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("manifests.yaml").exists())
        .collect();
    scenarios.sort();
    assert!(scenarios.len() >= 90, "{} scenarios", scenarios.len());
    for s in &scenarios {
        let cluster = netpol_model::load_paths(
            &[s.join("manifests.yaml")],
            &netpol_model::LoadOptions::default(),
        )
        .unwrap_or_else(|e| panic!("{}: {e}", s.display()));
        assert!(!cluster.cluster_policies.is_empty(), "{}", s.display());
        check_cluster(&cluster).unwrap_or_else(|e| panic!("{}: {e}", s.display()));
        check_classes(&cluster).unwrap_or_else(|e| panic!("{} (classes): {e}", s.display()));
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

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, ..ProptestConfig::default() })]

    /// With ClusterNetworkPolicies (every tier, action and peer form,
    /// `networks` and `nodes` peers included) on live dumps with replicas,
    /// host-network pods and Nodes.
    #[test]
    fn classes_give_the_per_pod_matrix_with_cluster_policies(
        seed in any::<u64>(),
        workloads in 1usize..8,
        policies in 0usize..8,
        cluster_policies in 1usize..5,
        namespaces in 1usize..3,
        replicas in 1usize..4,
    ) {
        let template = generate(&Params { workloads, policies, namespaces, seed });
        for c in [spread_host_pods(live(&template, replicas), seed), template] {
            let c = forget_some_host_addresses(with_cluster_policies(c, seed, cluster_policies), seed);
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

/// Agreeing under cluster policies proves something only if classes still
/// merge pods there, and `nodes` and `networks` peers match pods that
/// classes could otherwise merge: host-network pods on several nodes (some
/// known by their node only), and replicas that a `networks` CIDR splits.
#[test]
fn classes_merge_pods_under_cluster_policies() {
    let (mut merged, mut pods_total) = (0, 0);
    let (mut node_matches, mut by_node_only) = (0, 0);
    let (mut across_nodes, mut networks_split) = (false, false);
    for seed in 1..=6u64 {
        let template = generate(&Params::new(40, seed));
        let pods =
            forget_some_host_addresses(with_cluster_policies(live(&template, 3), seed, 6), seed);
        let n = check_classes(&pods).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        merged += n;
        pods_total += pods.endpoints.len();
        let engine = Engine::new(&pods);
        let tiers = engine.tiers.as_deref().expect("cluster policies");
        for (p, cp) in pods.cluster_policies.iter().zip(&tiers.policies) {
            for (rule, crule) in p.egress.iter().zip(&cp.egress) {
                for (peer, c) in rule.peers.iter().zip(&crule.peers) {
                    if matches!(peer, TierPeer::Networks { .. }) {
                        // Some replicas of a workload in the networks, some not.
                        let matched = |i: usize| c.by_family.iter().any(|s| s.contains(i));
                        networks_split |= (0..pods.endpoints.len()).any(|i| {
                            (0..pods.endpoints.len()).any(|j| {
                                pods.workload(i) == pods.workload(j) && matched(i) && !matched(j)
                            })
                        });
                    }
                    if !matches!(peer, TierPeer::Nodes { .. }) {
                        continue;
                    }
                    for i in c.by_family.iter().flat_map(|s| s.ones()) {
                        let e = &pods.endpoints[i];
                        assert!(e.host_network, "{}", e.id());
                        node_matches += 1;
                        by_node_only += usize::from(e.ips.is_empty());
                    }
                }
            }
        }
        let classes = Classes::new(&pods);
        let nodes_of_merged_host_pods = classes.members.iter().any(|m| {
            let mut nodes: Vec<_> = m
                .iter()
                .map(|&i| &pods.endpoints[i as usize])
                .filter(|e| e.host_network)
                .map(|e| e.node.clone())
                .collect();
            nodes.sort();
            nodes.dedup();
            nodes.len() > 1
        });
        across_nodes |= nodes_of_merged_host_pods;
    }
    // The generated `networks` are mostly pod addresses and their /24s,
    // which split many replicas: fewer merges than under NetworkPolicy alone.
    assert!(
        merged * 10 < pods_total * 9,
        "{merged} classes for {pods_total} pods"
    );
    assert!(node_matches > 0, "no nodes peer matches a pod");
    assert!(by_node_only > 0, "no nodes peer matches a pod by its node");
    assert!(
        across_nodes,
        "no class of host-network pods on several nodes"
    );
    assert!(
        networks_split,
        "no networks CIDR splits a workload's replicas"
    );
}
