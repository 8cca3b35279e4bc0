//! The sub-cluster of a few endpoints, for questions about those endpoints
//! only.
//!
//! A verdict between two endpoints depends on the two of them, their
//! namespaces, the nodes and the policies, never on the other pods: selectors
//! and ipBlocks are evaluated per endpoint, and the node-local rule reads the
//! two endpoints' own nodes. So `explain` compiles the engine over the
//! endpoints it asks about instead of every pod of a large cluster.

use netpol_model::Cluster;

use crate::Party;

/// A cluster cut down to some of its endpoints, their namespaces and the
/// NetworkPolicies of those namespaces; every cluster policy and node kept.
pub struct Restricted {
    /// The sub-cluster: the kept endpoints in their original order (so still
    /// sorted by id), no Services (policies never read them). Its policies
    /// are a subsequence of the original's: indexes differ, names do not.
    pub cluster: Cluster,
    /// Per endpoint of `cluster`: its index in the original cluster.
    pub original: Vec<usize>,
}

impl Restricted {
    /// The sub-cluster of `cluster` with the endpoints at `endpoints`
    /// (indexes into `cluster.endpoints`, in any order, repeats allowed).
    pub fn new(cluster: &Cluster, endpoints: impl IntoIterator<Item = usize>) -> Restricted {
        let mut original: Vec<usize> = endpoints.into_iter().collect();
        original.sort_unstable();
        original.dedup();
        let endpoints: Vec<_> = original
            .iter()
            .map(|&i| cluster.endpoints[i].clone())
            .collect();
        let workload_of = endpoints
            .iter()
            .filter_map(|e| {
                let id = e.id();
                let w = cluster.workload_of.get(&id)?.clone();
                Some((id, w))
            })
            .collect();
        // Namespace selectors reach pods only through their namespaces: the
        // others would be matched against every selector for nothing.
        let namespaces = cluster
            .namespaces
            .iter()
            .filter(|(name, _)| endpoints.iter().any(|e| &e.namespace == *name))
            .map(|(name, ns)| (name.clone(), ns.clone()))
            .collect();
        // A NetworkPolicy selects pods of its own namespace only, and a
        // verdict reads the policies selecting its two ends.
        let policies = cluster
            .policies
            .iter()
            .filter(|p| endpoints.iter().any(|e| e.namespace == p.namespace))
            .cloned()
            .collect();
        let cluster = Cluster {
            namespaces,
            endpoints,
            policies,
            cluster_policies: cluster.cluster_policies.clone(),
            nodes: cluster.nodes.clone(),
            workload_of,
            ..Cluster::default()
        };
        Restricted { cluster, original }
    }

    /// The sub-cluster's party for a party of the original cluster.
    ///
    /// # Panics
    /// When the party is an endpoint that was not kept.
    pub fn party(&self, party: Party) -> Party {
        match party {
            Party::Endpoint(i) => Party::Endpoint(
                self.original
                    .binary_search(&i)
                    .expect("the endpoint is one of the kept ones"),
            ),
            external => external,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_endpoints_asked_for_in_order_and_maps_them() {
        let pod = |name: &str| netpol_model::Endpoint {
            namespace: "app".into(),
            name: name.into(),
            kind: netpol_model::WorkloadKind::Pod,
            labels: Default::default(),
            annotations: Default::default(),
            ports: Vec::new(),
            ips: Vec::new(),
            host_network: false,
            node: None,
            host_ip: None,
            replicas: Some(1),
            origin: netpol_model::Origin {
                file: "t".into(),
                document: 1,
                line: 1,
            },
        };
        let cluster = Cluster {
            endpoints: ["a", "b", "c", "d"].map(pod).into(),
            workload_of: [("app/c".to_string(), "app/w".to_string())].into(),
            ..Cluster::default()
        };
        let r = Restricted::new(&cluster, [3, 2, 3]);
        assert_eq!(r.original, vec![2, 3]);
        let names: Vec<String> = r.cluster.endpoints.iter().map(|e| e.id()).collect();
        assert_eq!(names, ["app/c", "app/d"]);
        assert_eq!(r.cluster.workload(0), "app/w");
        assert_eq!(r.party(Party::Endpoint(3)), Party::Endpoint(1));
        let ip = Party::External("10.0.0.1".parse().unwrap());
        assert_eq!(r.party(ip), ip);
    }
}
