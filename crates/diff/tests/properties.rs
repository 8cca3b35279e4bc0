//! The diff against an independent reading of the two matrices, over random
//! clusters: semantics-preserving rewrites give no change at all, and for
//! random edits the reported changes are exactly the cells whose verdict
//! differs, each with a cause.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use netpol_diff::{Verdict, diff, diff_over};
use netpol_engine::{Classes, Engine};
use netpol_model::{
    Cluster, ContainerPort, Endpoint, LabelSelector, Labels, Namespace, Operator, Peer, Policy,
    PortRef, PortRule, Protocol, Requirement, Rule, WorkloadKind,
};
use proptest::prelude::*;

const NAMESPACES: [&str; 2] = ["a", "b"];
const APPS: [&str; 3] = ["web", "db", "api"];

fn origin() -> netpol_model::Origin {
    netpol_model::Origin {
        file: Arc::from("gen.yaml"),
        document: 1,
        line: 1,
    }
}

fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn selector() -> impl Strategy<Value = LabelSelector> {
    prop_oneof![
        Just(LabelSelector::default()),
        (0..APPS.len()).prop_map(|i| LabelSelector {
            match_labels: labels(&[("app", APPS[i])]),
            ..Default::default()
        }),
        (0..APPS.len()).prop_map(|i| LabelSelector {
            match_labels: Labels::new(),
            match_expressions: vec![Requirement {
                key: "app".into(),
                operator: Operator::NotIn,
                values: vec![APPS[i].into()]
            }],
        }),
    ]
}

fn namespace_selector() -> impl Strategy<Value = LabelSelector> {
    prop_oneof![
        Just(LabelSelector::default()),
        (0..2usize).prop_map(|i| LabelSelector {
            match_labels: labels(&[("kubernetes.io/metadata.name", NAMESPACES[i])]),
            ..Default::default()
        }),
        Just(LabelSelector {
            match_labels: labels(&[("team", "x")]),
            ..Default::default()
        }),
    ]
}

fn peer() -> impl Strategy<Value = Peer> {
    prop_oneof![
        (
            proptest::option::of(selector()),
            proptest::option::of(namespace_selector())
        )
            .prop_filter("a peer names a selector", |(p, n)| p.is_some()
                || n.is_some())
            .prop_map(|(pod_selector, namespace_selector)| Peer::Pods {
                pod_selector,
                namespace_selector,
                line: 0
            }),
        prop_oneof![Just("10.0.0.0/30"), Just("10.0.0.4/31"), Just("0.0.0.0/0")].prop_map(|c| {
            Peer::IpBlock {
                cidr: c.parse().unwrap(),
                except: if c == "0.0.0.0/0" {
                    vec!["10.0.0.2/32".parse().unwrap()]
                } else {
                    vec![]
                },
                line: 0,
            }
        }),
    ]
}

fn port() -> impl Strategy<Value = PortRule> {
    prop_oneof![
        Just((Protocol::Tcp, Some(PortRef::Number(80)), None)),
        Just((Protocol::Tcp, Some(PortRef::Name("http".into())), None)),
        Just((Protocol::Udp, Some(PortRef::Number(53)), None)),
        Just((Protocol::Tcp, Some(PortRef::Number(80)), Some(8080))),
        Just((Protocol::Udp, None, None)),
    ]
    .prop_map(|(protocol, port, end_port)| PortRule {
        protocol,
        port,
        end_port,
        line: 0,
    })
}

fn rule() -> impl Strategy<Value = Rule> {
    (
        proptest::collection::vec(peer(), 0..3),
        proptest::collection::vec(port(), 0..3),
    )
        .prop_map(|(peers, ports)| Rule {
            peers,
            ports,
            line: 0,
        })
}

fn policy() -> impl Strategy<Value = Policy> {
    (
        0..2usize,
        selector(),
        prop_oneof![Just((true, false)), Just((false, true)), Just((true, true))],
        proptest::collection::vec(rule(), 0..3),
        proptest::collection::vec(rule(), 0..3),
    )
        .prop_map(
            |(ns, pod_selector, (affects_ingress, affects_egress), ingress, egress)| Policy {
                namespace: NAMESPACES[ns].into(),
                name: String::new(),
                pod_selector,
                affects_ingress,
                affects_egress,
                policy_types_explicit: true,
                ingress,
                egress,
                labels: Labels::new(),
                annotations: Labels::new(),
                origin: origin(),
            },
        )
}

const PORTS: [(u16, Protocol, Option<&str>); 3] = [
    (80, Protocol::Tcp, Some("http")),
    (8080, Protocol::Tcp, Some("http")),
    (53, Protocol::Udp, None),
];

/// (namespace, app, which ports, host network); the port set picks `http` as 80 or 8080.
type EndpointSpec = (usize, usize, bool, bool, bool);

fn endpoint_spec() -> impl Strategy<Value = EndpointSpec> {
    (
        0..2usize,
        0..APPS.len(),
        any::<bool>(),
        any::<bool>(),
        proptest::bool::weighted(0.2),
    )
}

fn endpoint(i: usize, (ns, app, http_is_80, dns, host_network): EndpointSpec) -> Endpoint {
    let mut ports = vec![if http_is_80 { PORTS[0] } else { PORTS[1] }];
    if dns {
        ports.push(PORTS[2]);
    }
    Endpoint {
        namespace: NAMESPACES[ns].into(),
        name: format!("p{i}"),
        kind: WorkloadKind::Pod,
        labels: labels(&[("app", APPS[app])]),
        annotations: Labels::new(),
        ports: ports
            .into_iter()
            .map(|(port, protocol, name)| ContainerPort {
                name: name.map(String::from),
                port,
                protocol,
            })
            .collect(),
        ips: vec![format!("10.0.0.{}", i + 1).parse().unwrap()],
        host_network,
        // Pods 0-2 share a node, so host-network pods reach them as node traffic.
        node: Some(if i < 3 { "n1" } else { "n2" }.to_string()),
        host_ip: None,
        replicas: Some(1),
        origin: origin(),
    }
}

fn cluster(endpoints: Vec<Endpoint>, mut policies: Vec<Policy>) -> Cluster {
    for (i, p) in policies.iter_mut().enumerate() {
        if p.name.is_empty() {
            p.name = format!("np{i}");
        }
    }
    let mut namespaces = BTreeMap::new();
    for (i, ns) in NAMESPACES.iter().enumerate() {
        let team = if i == 0 { "x" } else { "y" };
        namespaces.insert(
            ns.to_string(),
            Namespace {
                name: ns.to_string(),
                labels: labels(&[("team", team)]),
                declared: true,
            },
        );
    }
    let mut c = Cluster {
        namespaces,
        endpoints,
        policies,
        ..Default::default()
    };
    c.normalize();
    c
}

/// Rules reordered, peers and ports reordered, every policy with rules split
/// in two, every policy renamed: none of it changes a verdict.
fn rewrite(policies: &[Policy]) -> Vec<Policy> {
    let mut out = Vec::new();
    for (i, p) in policies.iter().enumerate() {
        let mut p = p.clone();
        p.name = format!("renamed-{i}");
        for rules in [&mut p.ingress, &mut p.egress] {
            rules.reverse();
            for r in rules.iter_mut() {
                r.peers.reverse();
                r.ports.reverse();
            }
        }
        if p.ingress.len() + p.egress.len() >= 2 {
            let mut second = p.clone();
            second.name = format!("renamed-{i}-part2");
            let half_in = p.ingress.len() / 2;
            let half_eg = p.egress.len().div_ceil(2);
            second.ingress = p.ingress.split_off(half_in);
            second.egress = p.egress.split_off(half_eg);
            out.push(second);
        }
        out.push(p);
    }
    out.reverse();
    out
}

/// (src, dst, port, protocol) -> allowed, read from the matrix cells by name.
fn cells(c: &Cluster) -> BTreeMap<(String, String, u16, Protocol), bool> {
    let m = Engine::new(c).matrix();
    m.cells()
        .map(|cell| {
            (
                (
                    c.endpoints[cell.src].id(),
                    c.endpoints[cell.dst].id(),
                    cell.port,
                    cell.protocol,
                ),
                cell.allowed,
            )
        })
        .collect()
}

/// Two sides: pods (some alike, so that classes merge them) and policies,
/// then an edit: the old policies with one dropped or unrelated ones, a pod
/// dropped, relabelled, switched to or from the host network, or moved to
/// the other node.
fn edit() -> impl Strategy<Value = (Cluster, Cluster)> {
    (
        proptest::collection::vec(endpoint_spec(), 1..4),
        proptest::collection::vec(any::<proptest::sample::Index>(), 1..9),
        proptest::collection::vec(policy(), 0..4),
        proptest::collection::vec(policy(), 0..4),
        any::<bool>(),
        any::<bool>(),
        proptest::option::of(0..APPS.len()),
        any::<bool>(),
        proptest::option::of(0..9usize),
    )
        .prop_map(
            |(
                pool,
                picks,
                old_policies,
                new_policies,
                keep_old,
                drop_last,
                relabel,
                flip_host_network,
                moved,
            )| {
                let endpoints: Vec<Endpoint> = picks
                    .iter()
                    .enumerate()
                    .map(|(i, k)| endpoint(i, *k.get(&pool)))
                    .collect();
                let mut new_endpoints = endpoints.clone();
                if drop_last && new_endpoints.len() > 1 {
                    new_endpoints.pop();
                }
                if let Some(app) = relabel {
                    new_endpoints[0].labels = labels(&[("app", APPS[app])]);
                }
                if flip_host_network {
                    new_endpoints[0].host_network = !new_endpoints[0].host_network;
                }
                if let Some(e) = moved.and_then(|m| new_endpoints.get_mut(m)) {
                    let other = if e.node.as_deref() == Some("n1") {
                        "n2"
                    } else {
                        "n1"
                    };
                    e.node = Some(other.to_string());
                }
                let new_policies = if keep_old {
                    let mut p = old_policies.clone();
                    p.truncate(p.len().saturating_sub(1));
                    p
                } else {
                    new_policies
                };
                (
                    cluster(endpoints, old_policies),
                    cluster(new_endpoints, new_policies),
                )
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    /// Pods alike are one class on each side; the diff read over classes
    /// must be the diff read pod by pod, traces and causes included.
    #[test]
    fn the_diff_over_classes_is_the_diff_pod_by_pod((old, new) in edit()) {
        let by_class = diff(&old, &new);
        let by_pod = diff_over(&old, &new, &Classes::per_pod(&old), &Classes::per_pod(&new), usize::MAX);
        prop_assert_eq!(by_class, by_pod);
    }

    /// Listing the changes of the first pairs only: those pairs' changes
    /// are the full diff's, and the counts are the full diff's.
    #[test]
    fn a_diff_listing_fewer_pairs_counts_the_same((old, new) in edit(), pairs in 0usize..6) {
        let full = diff_over(&old, &new, &Classes::new(&old), &Classes::new(&new), usize::MAX);
        let short = diff_over(&old, &new, &Classes::new(&old), &Classes::new(&new), pairs);
        prop_assert_eq!(&short.summary, &full.summary);
        prop_assert_eq!(short.connectivity_changed(), full.connectivity_changed());
        let mut first: Vec<(&str, &str)> = Vec::new();
        for c in &full.connections {
            if first.last() != Some(&(c.src.as_str(), c.dst.as_str())) {
                first.push((c.src.as_str(), c.dst.as_str()));
            }
        }
        first.truncate(pairs);
        let expected: Vec<_> = full
            .connections
            .iter()
            .filter(|c| first.contains(&(c.src.as_str(), c.dst.as_str())))
            .cloned()
            .collect();
        prop_assert_eq!(&short.connections, &expected);
        let listed: usize = short.connections.iter().map(|c| c.ports.len()).sum();
        prop_assert_eq!(
            short.connections_not_listed,
            full.summary.newly_allowed + full.summary.newly_denied - listed
        );
        prop_assert_eq!(full.connections_not_listed, 0);
    }

    #[test]
    fn a_semantics_preserving_rewrite_shows_no_change(
        specs in proptest::collection::vec(endpoint_spec(), 1..6),
        policies in proptest::collection::vec(policy(), 0..4),
    ) {
        let endpoints: Vec<Endpoint> = specs.into_iter().enumerate().map(|(i, s)| endpoint(i, s)).collect();
        let old = cluster(endpoints.clone(), policies.clone());
        let new = cluster(endpoints, rewrite(&old.policies));
        let d = diff(&old, &new);
        prop_assert!(d.connections.is_empty(), "{:#?}", d.connections);
        prop_assert!(!d.connectivity_changed());
        prop_assert_eq!(d.summary.newly_allowed + d.summary.newly_denied, 0);
    }

    #[test]
    fn the_diff_is_the_difference_of_the_two_matrices((old, new) in edit()) {
        let before = cells(&old);
        let after = cells(&new);
        let expected: BTreeSet<(String, String, u16, Protocol, bool)> = after
            .iter()
            .filter_map(|(k, &allowed)| match before.get(k) {
                Some(&was) if was != allowed => Some((k.0.clone(), k.1.clone(), k.2, k.3, allowed)),
                _ => None,
            })
            .collect();

        let d = diff(&old, &new);
        let mut reported = BTreeSet::new();
        for c in &d.connections {
            prop_assert!(!c.causes.is_empty(), "no cause for {c:#?}");
            for p in &c.ports {
                let fresh = reported.insert((c.src.clone(), c.dst.clone(), p.port, p.protocol, c.change == Verdict::Allowed));
                prop_assert!(fresh, "reported twice: {} -> {} {}", c.src, c.dst, p.port);
            }
        }
        prop_assert_eq!(&reported, &expected);
        prop_assert_eq!(d.summary.newly_allowed, expected.iter().filter(|e| e.4).count());
        prop_assert_eq!(d.summary.newly_denied, expected.iter().filter(|e| !e.4).count());
        let removed: Vec<String> = old.endpoints.iter().map(|e| e.id()).filter(|id| new.endpoint(id).is_none()).collect();
        prop_assert_eq!(&d.endpoints.removed, &removed);
    }
}
