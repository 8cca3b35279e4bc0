//! Pods by node, for the pairs NetworkPolicy never decides: traffic between
//! a pod and its own node, which a host-network pod on that node stands for.

use std::collections::HashMap;

use netpol_model::Cluster;

/// Some pods of a cluster (all of them, or a flow's sources), by node.
pub struct NodePods<'c> {
    cluster: &'c Cluster,
    /// Per node: its pods, and those of them on the host network.
    on_node: HashMap<&'c str, (Vec<usize>, Vec<usize>)>,
}

impl<'c> NodePods<'c> {
    pub fn new(cluster: &'c Cluster, pods: impl IntoIterator<Item = usize>) -> NodePods<'c> {
        let mut on_node: HashMap<&str, (Vec<usize>, Vec<usize>)> = HashMap::new();
        for i in pods {
            let e = &cluster.endpoints[i];
            if let Some(node) = &e.node {
                let (all, host) = on_node.entry(node).or_default();
                all.push(i);
                if e.host_network {
                    host.push(i);
                }
            }
        }
        NodePods { cluster, on_node }
    }

    /// The indexed pods other than `dst` whose traffic to `dst` is node
    /// traffic: on its node, and one of the two on the host network.
    pub fn node_traffic_sources(&self, dst: usize) -> impl Iterator<Item = usize> + '_ {
        let d = &self.cluster.endpoints[dst];
        let on_node: &[usize] = match d.node.as_deref().and_then(|n| self.on_node.get(n)) {
            Some((all, _)) if d.host_network => all,
            Some((_, host)) => host,
            None => &[],
        };
        on_node.iter().copied().filter(move |&s| s != dst)
    }
}
