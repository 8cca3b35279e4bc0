//! Addresses outside the cluster as rows and columns of the matrix.
//!
//! Every network an ipBlock names (its `cidr` or one of its `except`s) is one
//! peer, `external:NET`, standing for the addresses of NET that no smaller
//! named network holds. Named networks are either nested or disjoint, so every
//! address of such a remainder is inside exactly the same ipBlocks and excepts:
//! one representative address decides for all of them. `external` stands for
//! the rest of the internet, the addresses no ipBlock names (one per address
//! family in a dual-stack cluster). Addresses pods or
//! Services have are never chosen, since `explain` reads those as the pod.

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;
use netpol_model::{Cluster, Direction, Peer, PortRef, Protocol, TierPeer, TierPort};

/// One external peer of the matrix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct External {
    /// `external:10.0.0.0/8`, or `external` for the rest of the internet
    /// (`external:IPv4` and `external:IPv6` when pods have both families).
    pub label: String,
    /// The network it stands for; `None` for the rest of the internet.
    pub net: Option<IpNet>,
    /// The address the engine decides with.
    pub address: IpAddr,
}

/// Every external peer, sorted by label.
pub fn externals(cluster: &Cluster) -> Vec<External> {
    let nets = named_nets(cluster);
    let taken = taken_addresses(cluster);
    let mut out: Vec<External> = nets
        .iter()
        .filter_map(|&net| {
            let inner: Vec<IpNet> = nets
                .iter()
                .copied()
                .filter(|m| *m != net && net.contains(m))
                .collect();
            let start = preferred_start(net);
            let address = first_free(net, start, &inner, &taken)?;
            Some(External {
                label: format!("external:{net}"),
                net: Some(net),
                address,
            })
        })
        .collect();
    let v4_all: IpNet = "0.0.0.0/0".parse().expect("valid network");
    let v6_all: IpNet = "::/0".parse().expect("valid network");
    // Documentation addresses read as "somewhere on the internet".
    let v4 = (v4_all, IpAddr::V4(Ipv4Addr::new(203, 0, 113, 1)));
    let v6 = (
        v6_all,
        IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)),
    );
    // A connection uses one family: the rest of the internet is one peer per
    // family the pods have, so an IPv6-only pod is not shown as unreachable
    // from an IPv4 address.
    let families = pod_families(cluster);
    let rest: Vec<(&str, (IpNet, IpAddr))> = match (families.0, families.1) {
        (true, true) => vec![("external:IPv4", v4), ("external:IPv6", v6)],
        (false, true) => vec![("external", v6)],
        _ => vec![("external", v4)],
    };
    for (label, (all, start)) in rest {
        if let Some(address) = first_free(all, start, &nets, &taken) {
            out.push(External {
                label: label.into(),
                net: None,
                address,
            });
        }
    }
    out.sort_by(|a, b| a.label.cmp(&b.label));
    out
}

/// The (port, protocol) columns of an external destination: every port an
/// egress rule that can reach an address names by number. Named ports never
/// resolve outside the cluster. A rule admitting every port, or no rule at
/// all, leaves 443/TCP as the one representative port.
pub fn external_ports(cluster: &Cluster) -> Vec<(u16, Protocol)> {
    let mut ports = BTreeSet::new();
    for policy in cluster.policies.iter().filter(|p| p.affects_egress) {
        for rule in policy.rules(Direction::Egress) {
            let reaches_addresses = rule.peers.is_empty()
                || rule.peers.iter().any(|p| matches!(p, Peer::IpBlock { .. }));
            if !reaches_addresses {
                continue;
            }
            for pr in &rule.ports {
                if let Some(PortRef::Number(n)) = pr.port {
                    ports.insert((n, pr.protocol));
                }
            }
        }
    }
    for policy in &cluster.cluster_policies {
        for rule in policy.rules(Direction::Egress) {
            if !rule
                .peers
                .iter()
                .any(|p| matches!(p, TierPeer::Networks { .. }))
            {
                continue;
            }
            for (port, _) in &rule.ports {
                match *port {
                    TierPort::Number { protocol, port } => {
                        ports.insert((port, protocol));
                    }
                    TierPort::Range {
                        protocol, start, ..
                    } => {
                        ports.insert((start, protocol));
                    }
                    TierPort::Named(_) => {}
                }
            }
        }
    }
    if ports.is_empty() {
        ports.insert((443, Protocol::Tcp));
    }
    ports.into_iter().collect()
}

/// Every network an ipBlock names, as `cidr` or in `except`, with host bits cleared.
fn named_nets(cluster: &Cluster) -> Vec<IpNet> {
    let mut nets = BTreeSet::new();
    for policy in &cluster.policies {
        for rule in policy.ingress.iter().chain(&policy.egress) {
            for peer in &rule.peers {
                if let Peer::IpBlock { cidr, except, .. } = peer {
                    nets.insert(cidr.trunc());
                    nets.extend(except.iter().map(IpNet::trunc));
                }
            }
        }
    }
    // ClusterNetworkPolicy `networks` name addresses the same way (egress only).
    for policy in &cluster.cluster_policies {
        for rule in &policy.egress {
            for peer in &rule.peers {
                if let TierPeer::Networks { cidrs, .. } = peer {
                    nets.extend(cidrs.iter().map(IpNet::trunc));
                }
            }
        }
    }
    nets.into_iter().collect()
}

/// Whether some pod has an IPv4 address, and whether one has an IPv6 one.
fn pod_families(cluster: &Cluster) -> (bool, bool) {
    let ips = || cluster.endpoints.iter().flat_map(|e| &e.ips);
    (ips().any(|ip| ip.is_ipv4()), ips().any(|ip| ip.is_ipv6()))
}

fn taken_addresses(cluster: &Cluster) -> BTreeSet<IpAddr> {
    cluster
        .endpoints
        .iter()
        .flat_map(|e| e.ips.iter().chain(e.host_ip.as_ref()))
        .chain(cluster.services.iter().flat_map(|s| &s.cluster_ips))
        .copied()
        .collect()
}

/// A documentation address where the network holds one (so that
/// `0.0.0.0/0` reads as 203.0.113.1, not 0.0.0.1), else the network's first
/// host address rather than its network address.
fn preferred_start(net: IpNet) -> IpAddr {
    let documentation = [
        IpAddr::V4(Ipv4Addr::new(203, 0, 113, 1)),
        IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)),
    ];
    if let Some(ip) = documentation.into_iter().find(|ip| net.contains(ip)) {
        return ip;
    }
    let first = to_u128(net.network());
    let last = to_u128(net.broadcast());
    if last > first {
        from_u128(first + 1, net.network())
    } else {
        net.network()
    }
}

/// The first address of `net` from `start` on (wrapping around once) that is
/// in none of `holes` and not taken.
fn first_free(
    net: IpNet,
    start: IpAddr,
    holes: &[IpNet],
    taken: &BTreeSet<IpAddr>,
) -> Option<IpAddr> {
    let low = to_u128(net.network());
    let high = to_u128(net.broadcast());
    let start = to_u128(start).clamp(low, high);
    scan(net, start, high, holes, taken).or_else(|| scan(net, low, start, holes, taken))
}

fn scan(
    net: IpNet,
    from: u128,
    to: u128,
    holes: &[IpNet],
    taken: &BTreeSet<IpAddr>,
) -> Option<IpAddr> {
    let mut at = from;
    loop {
        if at > to {
            return None;
        }
        let ip = from_u128(at, net.network());
        if let Some(hole) = holes.iter().find(|h| h.contains(&ip)) {
            at = to_u128(hole.broadcast()).checked_add(1)?;
        } else if taken.contains(&ip) {
            at = at.checked_add(1)?;
        } else {
            return Some(ip);
        }
    }
}

fn to_u128(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => u32::from(v4) as u128,
        IpAddr::V6(v6) => u128::from(v6),
    }
}

/// The address `n` of the same family as `like`.
fn from_u128(n: u128, like: IpAddr) -> IpAddr {
    match like {
        IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::from(n as u32)),
        IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::from(n)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|s| s.parse().unwrap()).collect()
    }

    #[test]
    fn the_first_free_address_skips_holes_and_taken_addresses() {
        let net: IpNet = "10.0.0.0/8".parse().unwrap();
        let holes = nets(&["10.0.0.0/24", "10.0.1.0/24"]);
        let taken: BTreeSet<IpAddr> = ["10.0.2.1".parse().unwrap()].into();
        let got = first_free(net, preferred_start(net), &holes, &taken);
        assert_eq!(got, Some("10.0.2.0".parse().unwrap()));
        let taken: BTreeSet<IpAddr> = ["10.0.2.0".parse().unwrap()].into();
        let got = first_free(net, preferred_start(net), &holes, &taken);
        assert_eq!(got, Some("10.0.2.1".parse().unwrap()));
    }

    #[test]
    fn a_network_covered_by_smaller_ones_has_no_address() {
        let net: IpNet = "10.0.0.0/31".parse().unwrap();
        let holes = nets(&["10.0.0.0/32", "10.0.0.1/32"]);
        assert_eq!(
            first_free(net, preferred_start(net), &holes, &BTreeSet::new()),
            None
        );
        let all: IpNet = "0.0.0.0/0".parse().unwrap();
        let got = first_free(
            all,
            "203.0.113.1".parse().unwrap(),
            &nets(&["0.0.0.0/1"]),
            &BTreeSet::new(),
        );
        assert_eq!(got, Some("203.0.113.1".parse().unwrap()));
        let got = first_free(
            all,
            "203.0.113.1".parse().unwrap(),
            &nets(&["128.0.0.0/1"]),
            &BTreeSet::new(),
        );
        assert_eq!(got, Some("0.0.0.0".parse().unwrap()));
    }
}
