//! NP010: ipBlocks that cover addresses inside the cluster.

use std::net::IpAddr;

use ipnet::IpNet;
use netpol_engine::ip_in_block;
use netpol_model::{Cluster, Peer};

use super::{Ctx, effective_directions, short_list, short_list_of};
use crate::finding::{Finding, Location, Severity};

/// Every address of the cluster's endpoints and Services, sorted, so that
/// an ipBlock is a range lookup rather than a scan of every pod.
struct Addresses {
    /// (address, endpoint)
    endpoints: Vec<(IpAddr, usize)>,
    /// (address, Service, position among its ClusterIPs)
    services: Vec<(IpAddr, usize, usize)>,
}

impl Addresses {
    fn new(cluster: &Cluster) -> Addresses {
        let mut endpoints: Vec<(IpAddr, usize)> = cluster
            .endpoints
            .iter()
            .enumerate()
            .flat_map(|(i, e)| e.ips.iter().map(move |ip| (*ip, i)))
            .collect();
        endpoints.sort_unstable();
        let mut services: Vec<(IpAddr, usize, usize)> = cluster
            .services
            .iter()
            .enumerate()
            .flat_map(|(i, s)| {
                s.cluster_ips
                    .iter()
                    .enumerate()
                    .map(move |(k, ip)| (*ip, i, k))
            })
            .collect();
        services.sort_unstable();
        Addresses {
            endpoints,
            services,
        }
    }

    /// Endpoints with an address in the block, ascending.
    fn endpoints_in(&self, cidr: &IpNet, except: &[IpNet]) -> Vec<usize> {
        let mut found: Vec<usize> = in_range(&self.endpoints, cidr, |a| a.0)
            .iter()
            .filter(|a| ip_in_block(a.0, cidr, except))
            .map(|a| a.1)
            .collect();
        found.sort_unstable();
        found.dedup();
        found
    }

    /// (Service, ClusterIP) in the block, in Service order.
    fn services_in(&self, cidr: &IpNet, except: &[IpNet]) -> Vec<(usize, IpAddr)> {
        let mut found: Vec<(usize, usize, IpAddr)> = in_range(&self.services, cidr, |a| a.0)
            .iter()
            .filter(|a| ip_in_block(a.0, cidr, except))
            .map(|a| (a.1, a.2, a.0))
            .collect();
        found.sort_unstable();
        found.into_iter().map(|(s, _, ip)| (s, ip)).collect()
    }
}

/// The entries of `sorted` whose address is in `cidr`'s range.
fn in_range<'a, T>(sorted: &'a [T], cidr: &IpNet, ip: impl Fn(&T) -> IpAddr) -> &'a [T] {
    let start = sorted.partition_point(|a| ip(a) < cidr.network());
    let end = sorted.partition_point(|a| ip(a) <= cidr.broadcast());
    &sorted[start..end.max(start)]
}

pub(super) fn check(ctx: &Ctx, out: &mut Vec<Finding>) {
    let cluster = ctx.cluster;
    let addresses = Addresses::new(cluster);
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
                    let services: Vec<String> = addresses
                        .services_in(cidr, except)
                        .into_iter()
                        .map(|(s, ip)| format!("{} ({ip})", cluster.services[s].id()))
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
                    let covered: Vec<&netpol_model::Endpoint> = addresses
                        .endpoints_in(cidr, except)
                        .into_iter()
                        .map(|i| &cluster.endpoints[i])
                        .collect();
                    let pods: Vec<&&netpol_model::Endpoint> =
                        covered.iter().filter(|e| !e.host_network).collect();
                    let nodes: Vec<String> = covered
                        .iter()
                        .filter(|e| e.host_network)
                        .map(|e| format!("{} ({})", e.node.as_deref().unwrap_or("node"), e.ips[0]))
                        .collect();
                    let mut what = Vec::new();
                    if !pods.is_empty() {
                        what.push(format!(
                            "pod IPs ({})",
                            short_list_of(pods.len(), |i| pods[i].id())
                        ));
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
