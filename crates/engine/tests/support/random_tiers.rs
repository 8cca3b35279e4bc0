//! Random ClusterNetworkPolicies over a generated cluster, shared by the
//! engine's test files (each includes it with `#[path]`).

use std::net::IpAddr;

use netpol_model::{
    Action, Cluster, ClusterPolicy, LabelSelector, Operator, Protocol, Tier, TierPeer, TierPort,
    TierSubject,
};

/// A small deterministic generator (xorshift), so that a proptest seed gives one cluster.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        (!items.is_empty()).then(|| &items[self.below(items.len())])
    }
}

/// `c` with Nodes for the nodes its pods run on, and `count` random cluster
/// policies over its labels, addresses and ports: every tier, action, peer
/// and port form but domainNames (which nothing can decide offline).
pub fn with_cluster_policies(mut c: Cluster, seed: u64, count: usize) -> Cluster {
    use std::sync::Arc;

    use netpol_model::{Node, Origin, TierRule};

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
        match rng.below(4) {
            0 => {}
            1 => {
                if let Some((k, _)) = rng.pick(pairs) {
                    sel.match_expressions.push(netpol_model::Requirement {
                        key: k.clone(),
                        operator: Operator::Exists,
                        values: Vec::new(),
                    });
                }
            }
            _ => {
                if let Some((k, v)) = rng.pick(pairs) {
                    sel.match_labels.insert(k.clone(), v.clone());
                }
            }
        }
        sel
    };
    for pi in 0..count {
        let tier = if rng.below(2) == 0 {
            Tier::Admin
        } else {
            Tier::Baseline
        };
        let subject = if rng.below(2) == 0 {
            TierSubject::Namespaces(selector(&mut rng, &ns_pairs))
        } else {
            TierSubject::Pods {
                namespace_selector: selector(&mut rng, &ns_pairs),
                pod_selector: selector(&mut rng, &pod_pairs),
            }
        };
        let rules = |rng: &mut Rng, egress: bool| -> Vec<TierRule> {
            (0..rng.below(4))
                .map(|_| {
                    let action = [Action::Accept, Action::Deny, Action::Pass][rng.below(3)];
                    let peers: Vec<TierPeer> = (0..1 + rng.below(2))
                        .map(|_| match rng.below(if egress { 5 } else { 2 }) {
                            0 => TierPeer::Namespaces {
                                selector: selector(rng, &ns_pairs),
                                line: 1,
                            },
                            1 => TierPeer::Pods {
                                namespace_selector: selector(rng, &ns_pairs),
                                pod_selector: selector(rng, &pod_pairs),
                                line: 1,
                            },
                            2 | 3 => {
                                let cidr = match rng.pick(&ips) {
                                    Some(ip) if rng.below(3) > 0 => {
                                        let len = if ip.is_ipv6() {
                                            [128, 64, 0]
                                        } else {
                                            [32, 24, 0]
                                        };
                                        ipnet::IpNet::new(*ip, len[rng.below(3)]).unwrap().trunc()
                                    }
                                    _ => "0.0.0.0/0".parse().unwrap(),
                                };
                                TierPeer::Networks {
                                    cidrs: vec![cidr],
                                    line: 1,
                                }
                            }
                            _ => {
                                let mut sel = LabelSelector::default();
                                if rng.below(2) == 0 {
                                    sel.match_labels.insert("zone".into(), "a".into());
                                }
                                TierPeer::Nodes {
                                    selector: sel,
                                    line: 1,
                                }
                            }
                        })
                        .collect();
                    let pods_only = peers
                        .iter()
                        .all(|p| matches!(p, TierPeer::Namespaces { .. } | TierPeer::Pods { .. }));
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
                        action,
                        peers,
                        ports,
                        line: 1,
                    }
                })
                .collect()
        };
        let ingress = rules(&mut rng, false);
        let egress = rules(&mut rng, true);
        c.cluster_policies.push(ClusterPolicy {
            name: format!("cnp-{pi}"),
            tier,
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
