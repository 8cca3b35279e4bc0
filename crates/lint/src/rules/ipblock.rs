//! NP010: ipBlocks that cover addresses inside the cluster.

use ipnet::IpNet;
use netpol_engine::{Engine, ip_in_block};
use netpol_model::Peer;

use super::{effective_directions, short_list};
use crate::finding::{Finding, Location, Severity};

pub(super) fn check(engine: &Engine, out: &mut Vec<Finding>) {
    let cluster = engine.cluster;
    for policy in &cluster.policies {
        for direction in effective_directions(policy) {
            for (ri, rule) in policy.rules(direction).iter().enumerate() {
                for (i, peer) in rule.peers.iter().enumerate() {
                    let Peer::IpBlock { cidr, except, line } = peer else {
                        continue;
                    };
                    // 0.0.0.0/0 means "anywhere"; covering the cluster too is its point.
                    if cidr.prefix_len() == 0 {
                        continue;
                    }
                    let field = if direction == netpol_model::Direction::Ingress {
                        "from"
                    } else {
                        "to"
                    };
                    let item = format!("{}[{ri}].{field}[{i}] ipBlock {cidr}", direction.as_str());
                    let at = Location::at(&policy.origin, *line);
                    let covers = |ip: &std::net::IpAddr| ip_in_block(*ip, cidr, except);
                    let services: Vec<String> = cluster
                        .services
                        .iter()
                        .flat_map(|s| {
                            s.cluster_ips
                                .iter()
                                .filter(|ip| covers(ip))
                                .map(move |ip| format!("{} ({ip})", s.id()))
                        })
                        .collect();
                    if !services.is_empty() {
                        out.push(
                            Finding::new(
                                "NP010",
                                at.clone(),
                                format!(
                                    "{item} covers the ClusterIP of Service {}: policies see pod IPs after the Service is translated, so this never matches the Service",
                                    short_list(&services)
                                ),
                                "select the Service's pods with podSelector/namespaceSelector instead",
                            )
                            .severity(Severity::Error)
                            .policy(policy.id()),
                        );
                    }
                    let pods: Vec<String> = cluster
                        .endpoints
                        .iter()
                        .filter(|e| !e.host_network && e.ips.iter().any(covers))
                        .map(|e| e.id())
                        .collect();
                    let nodes: Vec<String> = cluster
                        .endpoints
                        .iter()
                        .filter(|e| e.host_network && e.ips.iter().any(covers))
                        .map(|e| format!("{} ({})", e.node.as_deref().unwrap_or("node"), e.ips[0]))
                        .collect();
                    let mut what = Vec::new();
                    if !pods.is_empty() {
                        what.push(format!("pod IPs ({})", short_list(&pods)));
                    }
                    if !nodes.is_empty() {
                        let mut nodes = nodes;
                        nodes.sort();
                        nodes.dedup();
                        what.push(format!("node addresses ({})", short_list(&nodes)));
                    }
                    if !what.is_empty() {
                        out.push(
                            Finding::new(
                                "NP010",
                                at,
                                format!("{item} covers {}", what.join(" and ")),
                                cluster_hint(cidr),
                            )
                            .policy(policy.id()),
                        );
                    }
                }
            }
        }
    }
}

fn cluster_hint(cidr: &IpNet) -> String {
    format!(
        "pod IPs change when pods restart and node traffic is not governed by policies: select pods with podSelector/namespaceSelector, and add the cluster ranges to the except list of {cidr} if it is meant for outside addresses"
    )
}
