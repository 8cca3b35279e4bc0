//! ClusterNetworkPolicies around a synthetic cluster's NetworkPolicies: the
//! Admin and Baseline tiers, subjects by namespace and by pod, peers of every
//! form that decides offline (`namespaces`, `pods`, `nodes`, `networks`),
//! Accept, Deny and Pass, ports by number, range and name, and the Node
//! objects (labels, addresses) that `nodes` peers select. Written as YAML
//! (`cluster/nodes.yaml`, `cluster/cluster-policies.yaml`), as a user would
//! apply them; [`with_cluster_policies`] loads them onto a cluster in memory.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::net::IpAddr;
use std::path::PathBuf;

use netpol_model::{Cluster, LoadOptions, Source, load_sources};

use crate::emit::File;
use crate::rng::Rng;

/// Labels that controllers add to each pod: a selector naming one of them
/// picks single pods, which cluster-wide policies do not do.
const PER_POD_KEYS: [&str; 7] = [
    "pod-template-hash",
    "controller-revision-hash",
    "statefulset.kubernetes.io/pod-name",
    "apps.kubernetes.io/pod-index",
    "pod-template-generation",
    "job-name",
    "batch.kubernetes.io/job-name",
];

/// Address ranges of `networks` peers: the Internet, documentation ranges
/// standing for partners' networks, the cluster's pod and node ranges, the
/// cloud metadata address.
const NETWORKS: [&str; 9] = [
    "0.0.0.0/0",
    "::/0",
    "203.0.113.0/24",
    "198.51.100.0/24",
    "192.0.2.0/24",
    "10.0.0.0/8",
    "192.168.0.0/16",
    "169.254.169.254/32",
    "2001:db8::/32",
];

/// Zones the Nodes are spread over.
const ZONES: usize = 3;

/// The Nodes of `cluster` (every node a pod names) and `count` cluster
/// policies over its labels and ports, as YAML files.
pub fn cluster_policy_files(cluster: &Cluster, count: usize, seed: u64) -> Vec<File> {
    let mut rng = Rng::new(seed ^ 0x5bd1_e995_cafe_f00d);
    let vocabulary = Vocabulary::new(cluster);
    let mut policies = String::new();
    for i in 0..count {
        if i > 0 {
            policies.push_str("---\n");
        }
        write_policy(&mut policies, &mut rng, &vocabulary, i);
    }
    vec![
        File {
            path: PathBuf::from("cluster/nodes.yaml"),
            text: nodes_yaml(cluster),
        },
        File {
            path: PathBuf::from("cluster/cluster-policies.yaml"),
            text: policies,
        },
    ]
}

/// `cluster` with the Nodes and cluster policies of
/// [`cluster_policy_files`], read back by the loader.
pub fn with_cluster_policies(mut cluster: Cluster, count: usize, seed: u64) -> Cluster {
    let sources: Vec<Source> = cluster_policy_files(&cluster, count, seed)
        .into_iter()
        .map(|f| Source {
            name: f.path.display().to_string(),
            text: f.text,
        })
        .collect();
    let loaded = load_sources(&sources, &LoadOptions::default())
        .unwrap_or_else(|e| panic!("generated cluster policies do not load: {e}"));
    cluster.nodes = loaded.nodes;
    cluster.cluster_policies = loaded.cluster_policies;
    cluster
}

/// What the policies pick from.
struct Vocabulary {
    namespace_pairs: Vec<(String, String)>,
    pod_pairs: Vec<(String, String)>,
    /// (port, protocol as the CRD spells it) declared by some pod.
    ports: Vec<(u16, &'static str)>,
    /// Named TCP ports declared by some pod.
    named: Vec<String>,
}

impl Vocabulary {
    fn new(cluster: &Cluster) -> Vocabulary {
        let mut namespace_pairs: Vec<(String, String)> = cluster
            .namespaces
            .values()
            .flat_map(|n| n.labels.iter().map(|(k, v)| (k.clone(), v.clone())))
            .collect();
        let mut pod_pairs: Vec<(String, String)> = cluster
            .endpoints
            .iter()
            .flat_map(|e| e.labels.iter())
            .filter(|(k, _)| !PER_POD_KEYS.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let mut ports: Vec<(u16, &'static str)> = cluster
            .endpoints
            .iter()
            .flat_map(|e| &e.ports)
            .map(|p| (p.port, protocol(p.protocol)))
            .collect();
        let mut named: Vec<String> = cluster
            .endpoints
            .iter()
            .flat_map(|e| &e.ports)
            .filter(|p| p.protocol == netpol_model::Protocol::Tcp)
            .filter_map(|p| p.name.clone())
            .collect();
        for v in [&mut namespace_pairs, &mut pod_pairs] {
            v.sort();
            v.dedup();
        }
        ports.sort();
        ports.dedup();
        named.sort();
        named.dedup();
        if ports.is_empty() {
            ports.push((443, "tcp"));
        }
        Vocabulary {
            namespace_pairs,
            pod_pairs,
            ports,
            named,
        }
    }
}

fn protocol(p: netpol_model::Protocol) -> &'static str {
    match p {
        netpol_model::Protocol::Tcp => "tcp",
        netpol_model::Protocol::Udp => "udp",
        netpol_model::Protocol::Sctp => "sctp",
    }
}

fn q(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The Nodes the pods name, with the addresses the pods give them
/// (`status.hostIP`, a host-network pod's own address).
fn nodes_yaml(cluster: &Cluster) -> String {
    let mut nodes: BTreeMap<&str, Vec<IpAddr>> = BTreeMap::new();
    for e in &cluster.endpoints {
        let Some(name) = e.node.as_deref() else {
            continue;
        };
        let addresses = nodes.entry(name).or_default();
        addresses.extend(e.host_ip);
        if e.host_network {
            addresses.extend(&e.ips);
        }
    }
    let mut out = String::new();
    for (i, (name, mut addresses)) in nodes.into_iter().enumerate() {
        addresses.sort();
        addresses.dedup();
        if i > 0 {
            out.push_str("---\n");
        }
        let _ = write!(
            out,
            "apiVersion: v1\nkind: Node\nmetadata:\n  name: {name}\n  labels:\n    kubernetes.io/hostname: {name}\n    kubernetes.io/os: linux\n    topology.kubernetes.io/zone: zone-{}\n",
            i % ZONES
        );
        if i == 0 {
            out.push_str("    node-role.kubernetes.io/control-plane: \"\"\n");
        }
        out.push_str("status:\n  addresses:\n");
        for a in addresses {
            let _ = writeln!(out, "  - type: InternalIP\n    address: {a}");
        }
        let _ = writeln!(out, "  - type: Hostname\n    address: {name}");
    }
    out
}

/// A selector of one label pair, or of everything (`{}`), at `indent`.
fn selector(out: &mut String, rng: &mut Rng, pairs: &[(String, String)], indent: usize) {
    if pairs.is_empty() || rng.chance(20) {
        out.push_str(" {}\n");
        return;
    }
    let (k, v) = rng.pick(pairs);
    let pad = " ".repeat(indent);
    let _ = write!(out, "\n{pad}matchLabels:\n{pad}  {}: {}\n", q(k), q(v));
}

fn write_policy(out: &mut String, rng: &mut Rng, v: &Vocabulary, i: usize) {
    // Two Admin policies for one Baseline one, as clusters guard more than
    // they default.
    let admin = i % 3 != 2;
    let (tier, prefix) = if admin {
        ("Admin", "admin")
    } else {
        ("Baseline", "baseline")
    };
    let _ = write!(
        out,
        "apiVersion: policy.networking.k8s.io/v1alpha2\nkind: ClusterNetworkPolicy\nmetadata:\n  name: {prefix}-{i}\nspec:\n  tier: {tier}\n  priority: {}\n  subject:\n",
        rng.below(100)
    );
    if rng.chance(50) {
        out.push_str("    namespaces:");
        selector(out, rng, &v.namespace_pairs, 6);
    } else {
        out.push_str("    pods:\n      namespaceSelector:");
        selector(out, rng, &v.namespace_pairs, 8);
        out.push_str("      podSelector:");
        selector(out, rng, &v.pod_pairs, 8);
    }
    let ingress = rng.below(3);
    let egress = if ingress == 0 {
        1 + rng.below(2)
    } else {
        rng.below(3)
    };
    if ingress > 0 {
        out.push_str("  ingress:\n");
        for r in 0..ingress {
            write_rule(out, rng, v, r, false);
        }
    }
    if egress > 0 {
        out.push_str("  egress:\n");
        for r in 0..egress {
            write_rule(out, rng, v, r, true);
        }
    }
}

fn write_rule(out: &mut String, rng: &mut Rng, v: &Vocabulary, index: usize, egress: bool) {
    let action = *rng.pick(&["Accept", "Deny", "Pass"]);
    let _ = write!(
        out,
        "  - name: {}-{index}\n    action: {action}\n    {}:\n",
        action.to_lowercase(),
        if egress { "to" } else { "from" }
    );
    let mut pods_only = true;
    for _ in 0..1 + rng.below(2) {
        // Ingress peers are namespaces and pods only (the CRD has no others).
        match rng.below(if egress { 5 } else { 2 }) {
            0 => {
                out.push_str("    - namespaces:");
                selector(out, rng, &v.namespace_pairs, 8);
            }
            1 => {
                out.push_str("    - pods:\n        namespaceSelector:");
                selector(out, rng, &v.namespace_pairs, 10);
                out.push_str("        podSelector:");
                selector(out, rng, &v.pod_pairs, 10);
            }
            2 => {
                pods_only = false;
                out.push_str("    - nodes:\n        matchLabels:\n");
                if rng.chance(50) {
                    let _ = writeln!(
                        out,
                        "          topology.kubernetes.io/zone: zone-{}",
                        rng.below(ZONES)
                    );
                } else {
                    out.push_str("          kubernetes.io/os: linux\n");
                }
            }
            _ => {
                pods_only = false;
                out.push_str("    - networks:\n");
                for n in rng.subset(&NETWORKS, 2) {
                    let _ = writeln!(out, "      - {n}");
                }
            }
        }
    }
    if rng.chance(40) {
        return;
    }
    out.push_str("    protocols:\n");
    for _ in 0..1 + rng.below(2) {
        let &(port, proto) = rng.pick(&v.ports);
        match rng.below(3) {
            0 if pods_only && !v.named.is_empty() => {
                let _ = writeln!(out, "    - destinationNamedPort: {}", rng.pick(&v.named));
            }
            1 => {
                let start = port.saturating_sub(10).max(1);
                let end = port.max(start + 1);
                let _ = writeln!(
                    out,
                    "    - {proto}:\n        destinationPort:\n          range:\n            start: {start}\n            end: {end}"
                );
            }
            _ => {
                let _ = writeln!(
                    out,
                    "    - {proto}:\n        destinationPort:\n          number: {port}"
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Params, generate, live};
    use netpol_model::{Action, Tier, TierPeer, TierPort};

    /// The files load (the loader validates as the CRD does) and use what
    /// the option promises: both tiers, every action, every peer form that
    /// decides offline, every port form, Nodes with addresses.
    #[test]
    fn generated_cluster_policies_load_and_use_every_form() {
        let pods = live(&generate(&Params::new(60, 7)), 3);
        let c = with_cluster_policies(pods, 30, 7);
        assert_eq!(c.cluster_policies.len(), 30);
        assert!(c.nodes.len() > 1 && c.nodes.iter().all(|n| !n.addresses.is_empty()));
        let rules: Vec<_> = c
            .cluster_policies
            .iter()
            .flat_map(|p| p.ingress.iter().chain(&p.egress))
            .collect();
        for tier in [Tier::Admin, Tier::Baseline] {
            assert!(c.cluster_policies.iter().any(|p| p.tier == tier));
        }
        for action in [Action::Accept, Action::Deny, Action::Pass] {
            assert!(rules.iter().any(|r| r.action == action), "{action:?}");
        }
        let peer = |f: fn(&TierPeer) -> bool| rules.iter().any(|r| r.peers.iter().any(f));
        assert!(peer(|p| matches!(p, TierPeer::Namespaces { .. })));
        assert!(peer(|p| matches!(p, TierPeer::Pods { .. })));
        assert!(peer(|p| matches!(p, TierPeer::Nodes { .. })));
        assert!(peer(|p| matches!(p, TierPeer::Networks { .. })));
        let port =
            |f: fn(&TierPort) -> bool| rules.iter().any(|r| r.ports.iter().any(|(p, _)| f(p)));
        assert!(port(|p| matches!(p, TierPort::Number { .. })));
        assert!(port(|p| matches!(p, TierPort::Range { .. })));
        assert!(port(|p| matches!(p, TierPort::Named(_))));
        // The same seed gives the same files.
        let again = cluster_policy_files(&generate(&Params::new(60, 7)), 30, 7);
        let once = cluster_policy_files(&generate(&Params::new(60, 7)), 30, 7);
        assert!(again.iter().zip(&once).all(|(a, b)| a.text == b.text));
    }
}
