//! `explain` compiles the engine over the endpoints it asks about only
//! ([`Restricted`]): every verdict, trace included, must be the one the
//! engine over the whole cluster gives.

use std::net::IpAddr;
use std::sync::Arc;

use netpol_engine::{Decision, Engine, Party, Restricted};
use netpol_model::{
    Action, Cluster, ClusterPolicy, LabelSelector, Node, Origin, Protocol, Tier, TierPeer,
    TierPort, TierRule, TierSubject,
};
use netpol_synth::{Params, generate, live};
use proptest::prelude::*;

/// A small deterministic generator (xorshift): one proptest seed, one cluster.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n.max(1) as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        (!items.is_empty()).then(|| &items[self.below(items.len())])
    }
}

/// `c` with Nodes for its pods' nodes and `count` cluster policies whose
/// peers are namespaces, pods, networks around pod addresses and nodes,
/// with numbered, ranged and named ports.
fn with_cluster_policies(mut c: Cluster, seed: u64, count: usize) -> Cluster {
    let mut rng = Rng(seed | 1);
    let origin = Origin {
        file: Arc::from("generated"),
        document: 1,
        line: 1,
    };
    let mut nodes: std::collections::BTreeMap<String, Vec<IpAddr>> = Default::default();
    for e in &c.endpoints {
        if let Some(n) = &e.node {
            let entry = nodes.entry(n.clone()).or_default();
            if e.host_network {
                entry.extend(e.ips.iter().copied());
            }
            entry.extend(e.host_ip);
        }
    }
    c.nodes = nodes
        .into_iter()
        .enumerate()
        .map(|(i, (name, mut addresses))| {
            addresses.sort();
            addresses.dedup();
            Node {
                name,
                labels: [("zone".to_string(), ["a", "b"][i % 2].to_string())].into(),
                addresses,
                origin: origin.clone(),
            }
        })
        .collect();
    let pod_pairs: Vec<(String, String)> = c
        .endpoints
        .iter()
        .flat_map(|e| e.labels.iter().map(|(k, v)| (k.clone(), v.clone())))
        .collect();
    let ns_pairs: Vec<(String, String)> = c
        .namespaces
        .values()
        .flat_map(|n| n.labels.iter().map(|(k, v)| (k.clone(), v.clone())))
        .collect();
    let ips: Vec<IpAddr> = c.endpoints.iter().flat_map(|e| e.ips.clone()).collect();
    let ports: Vec<(u16, Protocol, Option<String>)> = c
        .endpoints
        .iter()
        .flat_map(|e| e.ports.iter().map(|p| (p.port, p.protocol, p.name.clone())))
        .collect();
    let selector = |rng: &mut Rng, pairs: &[(String, String)]| {
        let mut sel = LabelSelector::default();
        if rng.below(3) > 0 {
            if let Some((k, v)) = rng.pick(pairs) {
                sel.match_labels.insert(k.clone(), v.clone());
            }
        }
        sel
    };
    for pi in 0..count {
        let rules = |rng: &mut Rng, egress: bool| -> Vec<TierRule> {
            (0..rng.below(4))
                .map(|_| {
                    let peer = match rng.below(if egress { 4 } else { 2 }) {
                        0 => TierPeer::Namespaces {
                            selector: selector(rng, &ns_pairs),
                            line: 1,
                        },
                        1 => TierPeer::Pods {
                            namespace_selector: selector(rng, &ns_pairs),
                            pod_selector: selector(rng, &pod_pairs),
                            line: 1,
                        },
                        2 => TierPeer::Networks {
                            cidrs: vec![match rng.pick(&ips) {
                                Some(ip) => {
                                    ipnet::IpNet::new(*ip, if ip.is_ipv6() { 64 } else { 24 })
                                        .unwrap()
                                        .trunc()
                                }
                                None => "0.0.0.0/0".parse().unwrap(),
                            }],
                            line: 1,
                        },
                        _ => TierPeer::Nodes {
                            selector: selector(rng, &[("zone".into(), "a".into())]),
                            line: 1,
                        },
                    };
                    let pods_only =
                        matches!(peer, TierPeer::Namespaces { .. } | TierPeer::Pods { .. });
                    let ports = (0..rng.below(3))
                        .filter_map(|_| {
                            let (port, protocol, name) = rng.pick(&ports)?.clone();
                            Some(match (rng.below(3), name) {
                                (0, Some(n)) if pods_only => TierPort::Named(n),
                                (1, _) => TierPort::Range {
                                    protocol,
                                    start: port.saturating_sub(5).max(1),
                                    end: port,
                                },
                                _ => TierPort::Number { protocol, port },
                            })
                        })
                        .map(|p| (p, 1))
                        .collect();
                    TierRule {
                        name: None,
                        action: [Action::Accept, Action::Deny, Action::Pass][rng.below(3)],
                        peers: vec![peer],
                        ports,
                        line: 1,
                    }
                })
                .collect()
        };
        let subject = if rng.below(2) == 0 {
            TierSubject::Namespaces(selector(&mut rng, &ns_pairs))
        } else {
            TierSubject::Pods {
                namespace_selector: selector(&mut rng, &ns_pairs),
                pod_selector: selector(&mut rng, &pod_pairs),
            }
        };
        let ingress = rules(&mut rng, false);
        let egress = rules(&mut rng, true);
        c.cluster_policies.push(ClusterPolicy {
            name: format!("cnp-{pi}"),
            tier: if rng.below(2) == 0 {
                Tier::Admin
            } else {
                Tier::Baseline
            },
            priority: rng.below(4) as u32,
            subject,
            ingress,
            egress,
            kind: "ClusterNetworkPolicy".into(),
            origin: origin.clone(),
        });
    }
    c.normalize();
    c
}

/// Ports worth asking about: every declared one, a few common ones.
fn probe_ports(c: &Cluster) -> Vec<(u16, Protocol)> {
    let mut ports: Vec<(u16, Protocol)> = c
        .endpoints
        .iter()
        .flat_map(|e| e.ports.iter().map(|p| (p.port, p.protocol)))
        .chain([
            (80, Protocol::Tcp),
            (53, Protocol::Udp),
            (1, Protocol::Sctp),
        ])
        .collect();
    ports.sort();
    ports.dedup();
    ports
}

/// `pairs` random connections (some from an endpoint to itself, some with
/// an outside address) decided both ways; returns how each was decided
/// and whether it was between two replicas of one endpoint.
fn check(c: &Cluster, seed: u64, pairs: usize) -> Result<Vec<(Decision, bool)>, String> {
    let full = Engine::new(c);
    let mut rng = Rng(seed | 1);
    let n = c.endpoints.len();
    let ports = probe_ports(c);
    let outside: Vec<IpAddr> = ["8.8.8.8", "2001:db8::1", "192.168.0.10"]
        .iter()
        .map(|s| s.parse().unwrap())
        .chain(c.nodes.iter().flat_map(|n| n.addresses.clone()))
        .collect();
    let party = |rng: &mut Rng| match rng.below(8) {
        0 => Party::External(*rng.pick(&outside).unwrap()),
        _ => Party::Endpoint(rng.below(n)),
    };
    let mut seen = Vec::new();
    for _ in 0..pairs {
        let src = party(&mut rng);
        let dst = match rng.below(5) {
            0 => src,
            _ => party(&mut rng),
        };
        let (port, protocol) = *rng.pick(&ports).unwrap();
        let kept = [src, dst].into_iter().filter_map(|p| match p {
            Party::Endpoint(i) => Some(i),
            Party::External(_) => None,
        });
        let restricted = Restricted::new(c, kept);
        let engine = Engine::new(&restricted.cluster);
        let want = full.verdict(src, dst, port, protocol);
        let got = engine.verdict(restricted.party(src), restricted.party(dst), port, protocol);
        let json = |v| serde_json::to_string_pretty(v).unwrap();
        if json(&want) != json(&got) {
            return Err(format!(
                "{src:?} -> {dst:?} {port}/{protocol}:\nfull engine: {}\nrestricted: {}",
                json(&want),
                json(&got)
            ));
        }
        seen.push((want.decided_by, want.between_replicas.is_some()));
    }
    Ok(seen)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    /// Live dumps (replicas with their own addresses and nodes, host-network
    /// pods, ipBlocks around pod addresses, named ports) and template-level
    /// clusters (workloads standing for several pods).
    #[test]
    fn restricted_verdicts_equal_the_full_engines(
        seed in any::<u64>(),
        workloads in 1usize..12,
        policies in 0usize..14,
        namespaces in 1usize..3,
        replicas in 1usize..4,
    ) {
        let template = generate(&Params { workloads, policies, namespaces, seed });
        for c in [live(&template, replicas), template] {
            if let Err(e) = check(&c, seed, 40) {
                prop_assert!(false, "{}", e);
            }
        }
    }

    #[test]
    fn restricted_verdicts_equal_the_full_engines_with_cluster_policies(
        seed in any::<u64>(),
        workloads in 1usize..10,
        policies in 0usize..8,
        cluster_policies in 1usize..6,
        namespaces in 1usize..3,
        replicas in 1usize..4,
    ) {
        let template = generate(&Params { workloads, policies, namespaces, seed });
        for c in [live(&template, replicas), template] {
            let c = with_cluster_policies(c, seed, cluster_policies);
            if let Err(e) = check(&c, seed, 40) {
                prop_assert!(false, "{}", e);
            }
        }
    }
}

/// Agreeing proves something only if the checked connections take every
/// path of the verdict: policies, the same pod, node traffic, and traffic
/// between replicas of one endpoint.
#[test]
fn the_checked_connections_take_every_path() {
    let mut decisions = Vec::new();
    for seed in 0..24u64 {
        let template = generate(&Params {
            workloads: 10,
            policies: 8,
            namespaces: 2,
            seed,
        });
        for c in [live(&template, 3), template] {
            let c = with_cluster_policies(c, seed, (seed % 3) as usize);
            decisions.extend(check(&c, seed, 60).unwrap());
        }
    }
    for d in [Decision::Policies, Decision::SamePod, Decision::NodeTraffic] {
        assert!(decisions.iter().any(|s| s.0 == d), "{d:?} never seen");
    }
    assert!(decisions.contains(&(Decision::Policies, true)));
}
