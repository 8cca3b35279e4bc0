//! What the throwaway network holds: one pod per replica, addresses for the
//! pods that have none, and the nodes the pods run on.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr};

use netpol_model::{Cluster, Endpoint};

use super::ProbeError;
use crate::Scope;

/// Replicas per workload when none is given (`--max-replicas`).
pub const DEFAULT_MAX_REPLICAS: u32 = 3;

/// One pod per replica of each workload: `spec.replicas` (unknown: `cap`),
/// at most `cap`. The replicas of a workload of several are named
/// `NAME#0`, `NAME#1`, ... (`#` never occurs in a Kubernetes name, and sorts
/// them where the workload was); each stands for exactly one pod, so the
/// engine decides replica-to-replica traffic as between two pods, which the
/// network then really has.
pub fn expand_replicas(cluster: &Cluster, cap: u32) -> Cluster {
    let cap = cap.max(1);
    let mut out = cluster.clone();
    out.endpoints.clear();
    for e in &cluster.endpoints {
        let n = e.replicas.unwrap_or(cap).clamp(1, cap);
        for r in 0..n {
            let mut pod = e.clone();
            pod.replicas = Some(1);
            if n > 1 {
                pod.name = format!("{}#{r}", e.name);
                if r > 0 {
                    pod.ips.clear();
                }
            }
            out.endpoints.push(pod);
        }
    }
    out.endpoints.sort_by_key(Endpoint::id);
    out
}

/// The id (`namespace/name`) of the endpoint a probe pod was made from by
/// [`expand_replicas`]: its own id without the `#N` of a replica.
pub fn replica_of(pod: &Endpoint) -> String {
    let id = pod.id();
    match id.rsplit_once('#') {
        Some((base, n)) if n.bytes().all(|b| b.is_ascii_digit()) => base.to_string(),
        _ => id,
    }
}

/// The node a pod runs on in the probe network: its `spec.nodeName`; pods
/// without one share a default node, except host-network ones, which get a
/// node each (the engine cannot know that two of them share a node, so the
/// network must not put them on one).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NodeKey {
    Named(String),
    Default,
    Own(usize),
}

impl NodeKey {
    pub fn of(e: &Endpoint, index: usize) -> NodeKey {
        match (&e.node, e.host_network) {
            (Some(n), _) => NodeKey::Named(n.clone()),
            (None, false) => NodeKey::Default,
            (None, true) => NodeKey::Own(index),
        }
    }

    /// Which pods a ruleset on this node enforces for.
    pub fn scope(&self) -> Option<Scope> {
        match self {
            NodeKey::Named(n) => Some(Scope::Node(n.clone())),
            NodeKey::Default => Some(Scope::WithoutNode),
            // Host-network pods only: nothing to enforce.
            NodeKey::Own(_) => None,
        }
    }
}

/// The probe network's nodes, sorted, and the node of each endpoint.
pub struct Nodes {
    pub keys: Vec<NodeKey>,
    pub of: Vec<usize>,
}

pub fn nodes(cluster: &Cluster) -> Nodes {
    let keys: Vec<NodeKey> = cluster
        .endpoints
        .iter()
        .enumerate()
        .map(|(i, e)| NodeKey::of(e, i))
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    sorted.dedup();
    let index: HashMap<&NodeKey, usize> = sorted.iter().enumerate().map(|(k, n)| (n, k)).collect();
    let of = keys.iter().map(|k| index[k]).collect();
    Nodes { keys: sorted, of }
}

/// Gives every pod without an address a free one from 198.18.0.0/15, and
/// every host-network pod without one its node's (that of another
/// host-network pod on the node, or a free one the node then keeps): the
/// engine then decides with those addresses too. Returns the `(pod,
/// address)` pairs given.
pub fn assign_addresses(cluster: &mut Cluster) -> Result<Vec<(String, IpAddr)>, ProbeError> {
    let used: HashSet<IpAddr> = cluster
        .endpoints
        .iter()
        .flat_map(|e| e.ips.iter().copied())
        .collect();
    let mut node_ips: BTreeMap<NodeKey, Vec<IpAddr>> = BTreeMap::new();
    for (i, e) in cluster.endpoints.iter().enumerate() {
        if e.host_network && !e.ips.is_empty() {
            node_ips
                .entry(NodeKey::of(e, i))
                .or_insert_with(|| e.ips.clone());
        }
    }
    let (first, last) = (
        u32::from(Ipv4Addr::new(198, 18, 0, 1)),
        u32::from(Ipv4Addr::new(198, 19, 255, 254)),
    );
    let mut next = first;
    let mut given = Vec::new();
    for (i, e) in cluster.endpoints.iter_mut().enumerate() {
        if !e.ips.is_empty() {
            continue;
        }
        let key = NodeKey::of(e, i);
        if e.host_network
            && let Some(ips) = node_ips.get(&key)
        {
            e.ips = ips.clone();
            given.extend(ips.iter().map(|ip| (e.id(), *ip)));
            continue;
        }
        while used.contains(&IpAddr::V4(Ipv4Addr::from(next))) {
            next += 1;
        }
        if next > last {
            return Err(ProbeError::Input(format!(
                "more pods without an address than {} holds",
                super::SPARE_RANGE
            )));
        }
        let ip = IpAddr::V4(Ipv4Addr::from(next));
        e.ips.push(ip);
        if e.host_network {
            node_ips.insert(key, vec![ip]);
        }
        given.push((e.id(), ip));
        next += 1;
    }
    Ok(given)
}

#[cfg(test)]
mod tests {
    use netpol_model::{LoadOptions, Source, load_sources};

    use super::*;

    fn cluster(yaml: &str) -> Cluster {
        load_sources(
            &[Source {
                name: "t.yaml".into(),
                text: yaml.into(),
            }],
            &LoadOptions::default(),
        )
        .unwrap_or_else(|e| panic!("{e}"))
    }

    const WORKLOADS: &str = "
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: a}
spec:
  replicas: 5
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: m, image: i}]}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: a}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec: {hostNetwork: true, containers: [{name: m, image: i}]}
---
apiVersion: v1
kind: Pod
metadata: {name: web-x, namespace: a}
spec: {nodeName: n1, containers: [{name: m, image: i}]}
status: {podIP: 10.0.0.1}
---
apiVersion: v1
kind: Pod
metadata: {name: host, namespace: a}
spec: {nodeName: n1, hostNetwork: true, containers: [{name: m, image: i}]}
status: {podIP: 192.168.0.1}
---
apiVersion: v1
kind: Pod
metadata: {name: host2, namespace: a}
spec: {nodeName: n1, hostNetwork: true, containers: [{name: m, image: i}]}
";

    #[test]
    fn replicas_become_pods_up_to_the_cap_and_get_addresses() {
        let mut c = expand_replicas(&cluster(WORKLOADS), 3);
        let ids: Vec<String> = c.endpoints.iter().map(Endpoint::id).collect();
        assert_eq!(
            ids,
            [
                "a/agent#0",
                "a/agent#1",
                "a/agent#2",
                "a/host",
                "a/host2",
                "a/web#0",
                "a/web#1",
                "a/web#2",
                "a/web-x"
            ]
        );
        assert!(c.endpoints.iter().all(|e| !e.may_be_several_pods()));
        let given = assign_addresses(&mut c).unwrap();
        let ip = |id: &str| c.endpoints[c.endpoint(id).unwrap()].ips.clone();
        // A host-network pod without an address has its node's.
        assert_eq!(ip("a/host2"), ["192.168.0.1".parse::<IpAddr>().unwrap()]);
        assert!(given.contains(&("a/host2".into(), "192.168.0.1".parse().unwrap())));
        // Each DaemonSet replica is on a node of its own, with an address of its own.
        let agents: HashSet<Vec<IpAddr>> = (0..3).map(|r| ip(&format!("a/agent#{r}"))).collect();
        assert_eq!(agents.len(), 3);
        let n = nodes(&c);
        assert_eq!(
            n.keys,
            [
                NodeKey::Named("n1".into()),
                NodeKey::Default,
                NodeKey::Own(0),
                NodeKey::Own(1),
                NodeKey::Own(2)
            ]
        );
        assert_eq!(n.of[c.endpoint("a/web#1").unwrap()], 1);
        assert_eq!(n.of[c.endpoint("a/host2").unwrap()], 0);
        assert_eq!(expand_replicas(&cluster(WORKLOADS), 1).endpoints.len(), 5);
    }
}
