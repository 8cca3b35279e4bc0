//! Cluster policies compiled once against a cluster, as bitsets over
//! endpoints, like NetworkPolicies: the verdict, its trace and the matrix read
//! these same structures.

use std::collections::HashMap;
use std::net::IpAddr;

use fixedbitset::FixedBitSet;
use netpol_model::{
    Cluster, ClusterPolicy, Direction, Family, LabelSelector, Tier, TierPeer, TierSubject,
};

use crate::compile::family_index;
use crate::index::LabelIndex;

pub struct CompiledTierPeer {
    /// Per family (indexed by [`family_index`]): the endpoints the peer
    /// matches over connections of that family.
    pub by_family: [FixedBitSet; 2],
    /// For a `nodes` peer: the addresses of the nodes it selects, which
    /// addresses outside the endpoints can have.
    pub node_addresses: Vec<IpAddr>,
}

impl CompiledTierPeer {
    /// Whether the peer matches `endpoint` over `family` (`None`: over some family).
    pub fn admits(&self, endpoint: usize, family: Option<Family>) -> bool {
        match family {
            Some(f) => self.by_family[family_index(f)].contains(endpoint),
            None => self.by_family.iter().any(|s| s.contains(endpoint)),
        }
    }
}

pub struct CompiledTierRule {
    pub peers: Vec<CompiledTierPeer>,
}

pub struct CompiledClusterPolicy {
    /// The pods the subject selects (never host-network ones).
    pub subject: FixedBitSet,
    pub ingress: Vec<CompiledTierRule>,
    pub egress: Vec<CompiledTierRule>,
}

impl CompiledClusterPolicy {
    pub fn rules(&self, direction: Direction) -> &[CompiledTierRule] {
        match direction {
            Direction::Ingress => &self.ingress,
            Direction::Egress => &self.egress,
        }
    }
}

/// Every cluster policy compiled, in `Cluster::cluster_policies` order
/// (tier, priority, name: evaluation order).
pub struct CompiledTiers {
    pub policies: Vec<CompiledClusterPolicy>,
    /// `[tier][direction][endpoint]`: the policies, in evaluation order, that
    /// select the endpoint and have rules in that direction.
    of: [[Vec<Vec<u32>>; 2]; 2],
}

fn tier_index(t: Tier) -> usize {
    match t {
        Tier::Admin => 0,
        Tier::Baseline => 1,
    }
}

fn direction_index(d: Direction) -> usize {
    match d {
        Direction::Ingress => 0,
        Direction::Egress => 1,
    }
}

impl CompiledTiers {
    /// `None` when the cluster has no cluster policies, so that NetworkPolicy
    /// alone keeps its path.
    pub(crate) fn new(cluster: &Cluster, index: &LabelIndex) -> Option<CompiledTiers> {
        if cluster.cluster_policies.is_empty() {
            return None;
        }
        let n = cluster.endpoints.len();
        let mut by_ip: HashMap<IpAddr, Vec<usize>> = HashMap::new();
        for (i, e) in cluster.endpoints.iter().enumerate() {
            for ip in &e.ips {
                by_ip.entry(*ip).or_default().push(i);
            }
        }
        let policies: Vec<CompiledClusterPolicy> = cluster
            .cluster_policies
            .iter()
            .map(|p| compile(cluster, index, &by_ip, p))
            .collect();
        let mut of: [[Vec<Vec<u32>>; 2]; 2] = Default::default();
        for lists in of.iter_mut().flatten() {
            *lists = vec![Vec::new(); n];
        }
        for (pi, (p, c)) in cluster.cluster_policies.iter().zip(&policies).enumerate() {
            for d in [Direction::Ingress, Direction::Egress] {
                if p.rules(d).is_empty() {
                    continue;
                }
                let lists = &mut of[tier_index(p.tier)][direction_index(d)];
                for e in c.subject.ones() {
                    lists[e].push(pi as u32);
                }
            }
        }
        Some(CompiledTiers { policies, of })
    }

    /// The policies of `tier` that select `endpoint` and have rules in
    /// `direction`, in evaluation order.
    pub fn selecting(&self, tier: Tier, direction: Direction, endpoint: usize) -> &[u32] {
        &self.of[tier_index(tier)][direction_index(direction)][endpoint]
    }
}

fn pods_in(
    index: &LabelIndex,
    namespaces: &LabelSelector,
    pods: Option<&LabelSelector>,
) -> FixedBitSet {
    let mut set = index.in_namespaces_matching(namespaces);
    set.intersect_with(&index.pods);
    if let Some(sel) = pods {
        set.intersect_with(&index.select(sel));
    }
    set
}

fn compile(
    cluster: &Cluster,
    index: &LabelIndex,
    by_ip: &HashMap<IpAddr, Vec<usize>>,
    p: &ClusterPolicy,
) -> CompiledClusterPolicy {
    let subject = match &p.subject {
        TierSubject::Namespaces(ns) => pods_in(index, ns, None),
        TierSubject::Pods {
            namespace_selector,
            pod_selector,
        } => pods_in(index, namespace_selector, Some(pod_selector)),
    };
    let rules = |d: Direction| {
        p.rules(d)
            .iter()
            .map(|r| CompiledTierRule {
                peers: r
                    .peers
                    .iter()
                    .map(|peer| compile_peer(cluster, index, by_ip, peer))
                    .collect(),
            })
            .collect()
    };
    CompiledClusterPolicy {
        subject,
        ingress: rules(Direction::Ingress),
        egress: rules(Direction::Egress),
    }
}

fn compile_peer(
    cluster: &Cluster,
    index: &LabelIndex,
    by_ip: &HashMap<IpAddr, Vec<usize>>,
    peer: &TierPeer,
) -> CompiledTierPeer {
    let n = cluster.endpoints.len();
    let empty = || FixedBitSet::with_capacity(n);
    let both = |set: FixedBitSet| [set.clone(), set];
    match peer {
        TierPeer::Namespaces { selector, .. } => CompiledTierPeer {
            by_family: both(pods_in(index, selector, None)),
            node_addresses: Vec::new(),
        },
        TierPeer::Pods {
            namespace_selector,
            pod_selector,
            ..
        } => CompiledTierPeer {
            by_family: both(pods_in(index, namespace_selector, Some(pod_selector))),
            node_addresses: Vec::new(),
        },
        TierPeer::Networks { cidrs, .. } => {
            let mut by_family = [empty(), empty()];
            for cidr in cidrs {
                by_family[family_index(Family::of_net(cidr))]
                    .union_with(&index.in_block(cidr, &[]));
            }
            CompiledTierPeer {
                by_family,
                node_addresses: Vec::new(),
            }
        }
        TierPeer::Nodes { selector, .. } => {
            let mut by_family = [empty(), empty()];
            let mut node_addresses = Vec::new();
            for node in cluster
                .nodes
                .iter()
                .filter(|nd| selector.matches(&nd.labels))
            {
                for ip in &node.addresses {
                    node_addresses.push(*ip);
                    for &e in by_ip.get(ip).into_iter().flatten() {
                        by_family[family_index(Family::of(*ip))].insert(e);
                    }
                }
                // A host-network pod whose address is not written down has its node's.
                for (i, e) in cluster.endpoints.iter().enumerate() {
                    if e.host_network && e.ips.is_empty() && e.node.as_deref() == Some(&node.name) {
                        for ip in &node.addresses {
                            by_family[family_index(Family::of(*ip))].insert(i);
                        }
                    }
                }
            }
            node_addresses.sort();
            node_addresses.dedup();
            CompiledTierPeer {
                by_family,
                node_addresses,
            }
        }
        // Names, not addresses: no endpoint is known to match (see eval).
        TierPeer::DomainNames { .. } => CompiledTierPeer {
            by_family: [empty(), empty()],
            node_addresses: Vec::new(),
        },
    }
}
