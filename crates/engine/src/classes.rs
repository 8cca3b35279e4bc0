//! Equivalence classes of endpoints: pods that no policy can tell apart.
//!
//! A policy sees a pod through its namespace (and that namespace's labels),
//! its labels, its declared ports (named ports resolve against them), whether
//! it uses the host network, and its addresses, but only through the ipBlocks
//! that contain them. Every ipBlock `cidr` and `except` cuts each address
//! family into intervals ("atoms"); two addresses in one atom are in exactly
//! the same ipBlocks. Pods alike in all of that are one class, and the engine
//! compiles and evaluates one representative per class. A class of several
//! pods stands for different pods, as the engine models replicas: its cell
//! with itself is traffic between two of them, which policies decide.
//!
//! ClusterNetworkPolicies see the same, plus: their `networks` CIDRs cut the
//! address space like ipBlocks (they join the atoms), and their `nodes` peers
//! match a pod whose address is a selected Node's address, or a host-network
//! pod with no recorded address on a selected Node. So, when some `nodes`
//! peer exists, the key also holds, per address, the labels of the Nodes
//! that have it, and for a host-network pod without address its node (whose
//! name the representative keeps, so that it stays on that node).
//!
//! Two things are not policies' doing and stay per pod, applied when the
//! class results are expanded ([`crate::ClassMatrix`]): a pod may always
//! reach itself, and a pod and its own node (a host-network pod there) may
//! always reach each other. Keeping the node out of the key keeps the classes
//! few in clusters where every node runs host-network pods. (A representative
//! that keeps its node stands for pods all on that node, so what the engine
//! applies between two of them holds for each pair of their pods.)

use std::collections::HashMap;
use std::net::IpAddr;

use ipnet::IpNet;
use netpol_model::{Cluster, ContainerPort, Labels, Peer, TierPeer};

/// The endpoints of a cluster grouped into classes, with one representative
/// each.
pub struct Classes {
    /// Per endpoint of the cluster: its class.
    pub class_of: Vec<u32>,
    /// Per class: its members, ascending.
    pub members: Vec<Vec<u32>>,
    /// The cluster with one endpoint per class (in class order), which the
    /// engine compiles instead of every pod. Its endpoints have no node (the
    /// node-local rule is applied per pod), except host-network ones without
    /// an address when `nodes` peers can match them through their node.
    pub reduced: Cluster,
    /// One class per pod and `reduced` the whole cluster: nothing is merged
    /// and nothing is left to apply per pod.
    pub per_pod: bool,
}

impl Classes {
    /// Classes under the cluster's NetworkPolicies and ClusterNetworkPolicies.
    pub fn new(cluster: &Cluster) -> Classes {
        Classes::with_cidrs(cluster, std::iter::empty())
    }

    /// Classes under the cluster's policies and `extra` address ranges that
    /// something else matches on (they cut the address space too).
    pub fn with_cidrs(cluster: &Cluster, extra: impl IntoIterator<Item = IpNet>) -> Classes {
        let atoms = Atoms::new(
            policy_cidrs(cluster)
                .chain(network_cidrs(cluster))
                .chain(extra),
        );
        let nodes = NodeView::new(cluster);
        let mut by_key: HashMap<Key<'_>, u32> = HashMap::new();
        let mut class_of = Vec::with_capacity(cluster.endpoints.len());
        let mut members: Vec<Vec<u32>> = Vec::new();
        for (i, e) in cluster.endpoints.iter().enumerate() {
            let mut ports = e.ports.clone();
            ports.sort();
            ports.dedup();
            let mut addresses: Vec<Address<'_>> = e
                .ips
                .iter()
                .map(|ip| (atoms.of(*ip), nodes.having(*ip)))
                .collect();
            addresses.sort_unstable();
            addresses.dedup();
            let key = Key {
                namespace: &e.namespace,
                labels: &e.labels,
                ports,
                host_network: e.host_network,
                addresses,
                node: nodes.node_of(e),
            };
            let next = members.len() as u32;
            let class = *by_key.entry(key).or_insert(next);
            if class == next {
                members.push(Vec::new());
            }
            members[class as usize].push(i as u32);
            class_of.push(class);
        }
        let endpoints = members
            .iter()
            .map(|m| {
                let first = &cluster.endpoints[m[0] as usize];
                let mut rep = first.clone();
                rep.node = nodes.node_of(first).map(str::to_string);
                rep.host_ip = None;
                if m.len() > 1 {
                    // Several different pods: the engine's replicas.
                    rep.replicas = Some(m.len() as u32);
                }
                rep
            })
            .collect();
        let reduced = Cluster {
            namespaces: cluster.namespaces.clone(),
            endpoints,
            policies: cluster.policies.clone(),
            cluster_policies: cluster.cluster_policies.clone(),
            nodes: cluster.nodes.clone(),
            ..Cluster::default()
        };
        Classes {
            class_of,
            members,
            reduced,
            per_pod: false,
        }
    }

    /// Every pod its own class, over the whole cluster: the per-pod engine
    /// (or a measured per-pod matrix) read through the class interface.
    pub fn per_pod(cluster: &Cluster) -> Classes {
        let n = cluster.endpoints.len() as u32;
        Classes {
            class_of: (0..n).collect(),
            members: (0..n).map(|i| vec![i]).collect(),
            reduced: cluster.clone(),
            per_pod: true,
        }
    }

    /// How many classes.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }
}

/// What a policy can see of an endpoint.
#[derive(PartialEq, Eq, Hash)]
struct Key<'c> {
    namespace: &'c str,
    labels: &'c Labels,
    ports: Vec<ContainerPort>,
    host_network: bool,
    addresses: Vec<Address<'c>>,
    /// The node of a host-network pod without address, when `nodes` peers
    /// can match it through its node.
    node: Option<&'c str>,
}

/// (IPv6?, atom) of an address, and the labels of the Nodes that have it
/// (empty when no `nodes` peer exists).
type Address<'c> = ((bool, u32), Vec<&'c Labels>);

/// What `nodes` peers can see of an endpoint, when there are any.
struct NodeView<'c> {
    /// Whether some ClusterNetworkPolicy has a `nodes` peer.
    wanted: bool,
    /// Per Node address: the labels of the Nodes that have it, sorted.
    by_address: HashMap<IpAddr, Vec<&'c Labels>>,
}

impl<'c> NodeView<'c> {
    fn new(cluster: &'c Cluster) -> NodeView<'c> {
        let wanted = cluster
            .cluster_policies
            .iter()
            .flat_map(|p| p.ingress.iter().chain(&p.egress))
            .flat_map(|r| &r.peers)
            .any(|peer| matches!(peer, TierPeer::Nodes { .. }));
        let mut by_address: HashMap<IpAddr, Vec<&Labels>> = HashMap::new();
        if wanted {
            for n in &cluster.nodes {
                for ip in &n.addresses {
                    by_address.entry(*ip).or_default().push(&n.labels);
                }
            }
            for labels in by_address.values_mut() {
                labels.sort();
                labels.dedup();
            }
        }
        NodeView { wanted, by_address }
    }

    fn having(&self, ip: IpAddr) -> Vec<&'c Labels> {
        self.by_address.get(&ip).cloned().unwrap_or_default()
    }

    /// The node that `nodes` peers match `e` through (its address is its
    /// node's): a host-network pod with no recorded address.
    fn node_of<'e>(&self, e: &'e netpol_model::Endpoint) -> Option<&'e str> {
        (self.wanted && e.host_network && e.ips.is_empty())
            .then_some(e.node.as_deref())
            .flatten()
    }
}

/// Every ipBlock CIDR and except of the cluster's NetworkPolicies.
fn policy_cidrs(cluster: &Cluster) -> impl Iterator<Item = IpNet> + '_ {
    cluster
        .policies
        .iter()
        .flat_map(|p| p.ingress.iter().chain(&p.egress))
        .flat_map(|r| &r.peers)
        .flat_map(|peer| match peer {
            Peer::IpBlock { cidr, except, .. } => std::iter::once(*cidr)
                .chain(except.iter().copied())
                .collect(),
            Peer::Pods { .. } => Vec::new(),
        })
}

/// Every `networks` CIDR of the cluster's ClusterNetworkPolicies.
fn network_cidrs(cluster: &Cluster) -> impl Iterator<Item = IpNet> + '_ {
    cluster
        .cluster_policies
        .iter()
        .flat_map(|p| p.ingress.iter().chain(&p.egress))
        .flat_map(|r| &r.peers)
        .flat_map(|peer| match peer {
            TierPeer::Networks { cidrs, .. } => cidrs.clone(),
            _ => Vec::new(),
        })
}

/// The partition of each family's addresses by range boundaries.
struct Atoms {
    /// Sorted first addresses of ranges and first addresses after them.
    v4: Vec<u128>,
    v6: Vec<u128>,
}

impl Atoms {
    fn new(nets: impl IntoIterator<Item = IpNet>) -> Atoms {
        let (mut v4, mut v6) = (Vec::new(), Vec::new());
        for net in nets {
            let (start, end, cuts) = match net {
                IpNet::V4(n) => (
                    u128::from(u32::from(n.network())),
                    u128::from(u32::from(n.broadcast())),
                    &mut v4,
                ),
                IpNet::V6(n) => (u128::from(n.network()), u128::from(n.broadcast()), &mut v6),
            };
            cuts.push(start);
            if let Some(after) = end.checked_add(1) {
                cuts.push(after);
            }
        }
        for cuts in [&mut v4, &mut v6] {
            cuts.sort_unstable();
            cuts.dedup();
        }
        Atoms { v4, v6 }
    }

    /// The atom of `ip`: how many boundaries lie at or below it.
    fn of(&self, ip: IpAddr) -> (bool, u32) {
        let (v6, value, cuts) = match ip {
            IpAddr::V4(a) => (false, u128::from(u32::from(a)), &self.v4),
            IpAddr::V6(a) => (true, u128::from(a), &self.v6),
        };
        (v6, cuts.partition_point(|&c| c <= value) as u32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn atom(atoms: &Atoms, ip: &str) -> (bool, u32) {
        atoms.of(ip.parse().unwrap())
    }

    #[test]
    fn addresses_in_the_same_ranges_share_an_atom() {
        let atoms = Atoms::new(
            [
                "10.0.0.0/8",
                "10.1.0.0/16",
                "fd00::/64",
                "0.0.0.0/0",
                "::/0",
            ]
            .map(|s| s.parse().unwrap()),
        );
        assert_eq!(atom(&atoms, "10.0.0.1"), atom(&atoms, "10.0.255.1"));
        assert_eq!(atom(&atoms, "10.2.0.0"), atom(&atoms, "10.200.0.1"));
        assert_ne!(atom(&atoms, "10.0.0.1"), atom(&atoms, "10.1.0.1"));
        assert_eq!(atom(&atoms, "10.1.0.1"), atom(&atoms, "10.1.255.255"));
        assert_ne!(atom(&atoms, "10.1.255.255"), atom(&atoms, "10.2.0.0"));
        assert_ne!(atom(&atoms, "9.255.255.255"), atom(&atoms, "10.0.0.0"));
        assert_eq!(atom(&atoms, "9.255.255.255"), atom(&atoms, "0.0.0.0"));
        assert_ne!(atom(&atoms, "fd00::1"), atom(&atoms, "fd00:0:0:1::1"));
        // Same number, other family: never the same atom.
        assert_ne!(atom(&atoms, "0.0.0.1"), atom(&atoms, "::1"));
    }

    #[test]
    fn extra_ranges_split_pods_policies_could_not_tell_apart() {
        let pod = |name: &str, ip: &str| netpol_model::Endpoint {
            namespace: "app".into(),
            name: name.into(),
            kind: netpol_model::WorkloadKind::Pod,
            labels: [("tier".to_string(), "web".to_string())].into(),
            annotations: Labels::new(),
            ports: Vec::new(),
            ips: vec![ip.parse().unwrap()],
            host_network: false,
            node: Some(format!("node-{name}")),
            host_ip: None,
            replicas: Some(1),
            origin: netpol_model::Origin {
                file: "t".into(),
                document: 1,
                line: 1,
            },
        };
        let cluster = Cluster {
            endpoints: vec![pod("a", "10.0.0.1"), pod("b", "10.0.0.2")],
            ..Cluster::default()
        };
        let one = Classes::new(&cluster);
        assert_eq!(one.class_of, vec![0, 0]);
        assert_eq!(one.reduced.endpoints.len(), 1);
        assert_eq!(one.reduced.endpoints[0].replicas, Some(2));
        assert_eq!(one.reduced.endpoints[0].node, None);
        let two = Classes::with_cidrs(&cluster, ["10.0.0.2/32".parse().unwrap()]);
        assert_eq!(two.class_of, vec![0, 1]);
        assert_eq!(two.members, vec![vec![0], vec![1]]);
        assert_eq!(two.reduced.endpoints[1].replicas, Some(1));
    }
}
