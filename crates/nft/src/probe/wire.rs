//! The probe network's layout (which namespace each endpoint lives in, and
//! which addresses sit behind each node) and its links.

use std::collections::HashMap;
use std::net::IpAddr;

use netpol_model::Cluster;

use super::netns::{self, NsHandle};
use super::{Nodes, ProbeError, untestable};

const GATEWAY_V4: &str = "169.254.1.1";
const GATEWAY_V6: &str = "fe80::1";
const FABRIC_V4: &str = "169.254.2.1";
const FABRIC_V6: &str = "fe80::2";
const UPLINK_V4: &str = "169.254.3.1";
const UPLINK_V6: &str = "fe80::3";

/// Where an endpoint lives: a namespace of its own (a pod), or its node's
/// namespace (a host-network pod).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) enum Place {
    Pod(usize),
    Node(usize),
}

/// The network to build: pods' namespaces (`slots`), the node of each, and
/// the addresses of each node (its host-network pods').
pub(super) struct Layout {
    pub place: Vec<Option<Place>>,
    /// Per pod namespace: its addresses and its node.
    pub slots: Vec<(Vec<IpAddr>, usize)>,
    pub node_ips: Vec<Vec<IpAddr>>,
}

pub(super) fn layout(cluster: &Cluster, nodes: &Nodes) -> Result<Layout, ProbeError> {
    let mut place = vec![None; cluster.endpoints.len()];
    let mut slots = Vec::new();
    let mut node_ips: Vec<Vec<IpAddr>> = vec![Vec::new(); nodes.keys.len()];
    let mut owner: HashMap<IpAddr, Place> = HashMap::new();
    let mut first_of: HashMap<Place, usize> = HashMap::new();
    for (i, e) in cluster.endpoints.iter().enumerate() {
        if untestable(e).is_some() {
            continue;
        }
        if let Some(ip) = e.ips.iter().find(|ip| reserved(**ip)) {
            return Err(ProbeError::Input(format!(
                "{} has the link-local address {ip}, which the probe network uses for its links",
                e.id()
            )));
        }
        let node = nodes.of[i];
        let p = if e.host_network {
            Place::Node(node)
        } else {
            slots.push((e.ips.clone(), node));
            Place::Pod(slots.len() - 1)
        };
        for ip in &e.ips {
            match owner.get(ip) {
                Some(other) if *other != p => {
                    return Err(ProbeError::Input(format!(
                        "{} and {} both have the address {ip}",
                        cluster.endpoints[first_of[other]].id(),
                        e.id()
                    )));
                }
                Some(_) => {}
                None => {
                    owner.insert(*ip, p);
                    if let Place::Node(k) = p {
                        node_ips[k].push(*ip);
                    }
                }
            }
        }
        first_of.entry(p).or_insert(i);
        place[i] = Some(p);
    }
    Ok(Layout {
        place,
        slots,
        node_ips,
    })
}

/// Addresses the probe network's links use.
fn reserved(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => a.is_link_local(),
        IpAddr::V6(a) => (a.segments()[0] & 0xffc0) == 0xfe80,
    }
}

/// The links: pods to their node by point-to-point veths (so pod-to-pod
/// packets cross the node's forward hook, where its ruleset sits), nodes to
/// the fabric the same way. Each side reaches the other through a
/// link-local gateway: 169.254.1.1 (fe80::1) on a node's pod links,
/// 169.254.2.1 (fe80::2) on the fabric's, 169.254.3.1 (fe80::3) on a node's uplink.
pub(super) fn wire(
    layout: &Layout,
    fabric: &NsHandle,
    nodes: &[NsHandle],
    pods: &[NsHandle],
) -> Result<(), ProbeError> {
    let any_v6 = layout
        .slots
        .iter()
        .flat_map(|(ips, _)| ips)
        .chain(layout.node_ips.iter().flatten())
        .any(|ip| ip.is_ipv6());
    for ns in std::iter::once(fabric).chain(nodes) {
        ns.sysctl("net.ipv4.ip_forward", "1")?;
        ns.sysctl("net.ipv4.conf.all.rp_filter", "0")?;
        ns.sysctl("net.ipv4.conf.default.rp_filter", "0")?;
        if any_v6 {
            ns.sysctl("net.ipv6.conf.all.forwarding", "1")?;
            ns.sysctl("net.ipv6.conf.default.accept_dad", "0")?;
        }
    }
    if any_v6 {
        for ns in pods {
            // Addresses usable at once, without duplicate address detection.
            ns.sysctl("net.ipv6.conf.default.accept_dad", "0")?;
        }
    }
    let route = |cmds: &mut String, ip: &IpAddr, rest: &str| {
        let len = if ip.is_ipv6() { 128 } else { 32 };
        cmds.push_str(&format!("route add {ip}/{len} {rest}\n"));
    };
    let mut fabric_cmds = String::from("link set lo up\n");
    let mut behind: Vec<Vec<IpAddr>> = layout.node_ips.clone();
    for (ips, node) in &layout.slots {
        behind[*node].extend(ips.iter().copied());
    }
    for (k, node) in nodes.iter().enumerate() {
        fabric_cmds.push_str(&format!(
            "link add f{k} type veth peer name uplink netns {}\nlink set f{k} up\naddr add {FABRIC_V4}/32 dev f{k}\n",
            node.name
        ));
        if any_v6 {
            fabric_cmds.push_str(&format!("addr add {FABRIC_V6}/64 dev f{k} nodad\n"));
        }
        for ip in &behind[k] {
            let via = if ip.is_ipv6() {
                format!("via {UPLINK_V6} dev f{k}")
            } else {
                format!("via {UPLINK_V4} dev f{k} onlink")
            };
            route(&mut fabric_cmds, ip, &via);
        }
    }
    netns::ip_batch(&fabric.name, &fabric_cmds)?;
    let mut node_cmds: Vec<String> = layout
        .node_ips
        .iter()
        .map(|ips| {
            let mut c = format!(
                "link set lo up\nlink set uplink up\naddr add {UPLINK_V4}/32 dev uplink\nroute add default via {FABRIC_V4} dev uplink onlink\n"
            );
            if any_v6 {
                c.push_str(&format!(
                    "addr add {UPLINK_V6}/64 dev uplink nodad\nroute add default via {FABRIC_V6} dev uplink\n"
                ));
            }
            for ip in ips {
                match ip {
                    IpAddr::V4(_) => c.push_str(&format!("addr add {ip}/32 dev lo\n")),
                    IpAddr::V6(_) => c.push_str(&format!("addr add {ip}/128 dev lo nodad\n")),
                }
            }
            c
        })
        .collect();
    for (j, ((ips, node), ns)) in layout.slots.iter().zip(pods).enumerate() {
        let c = &mut node_cmds[*node];
        c.push_str(&format!(
            "link add p{j} type veth peer name eth0 netns {}\nlink set p{j} up\naddr add {GATEWAY_V4}/32 dev p{j}\n",
            ns.name
        ));
        if any_v6 {
            c.push_str(&format!("addr add {GATEWAY_V6}/64 dev p{j} nodad\n"));
        }
        for ip in ips {
            route(c, ip, &format!("dev p{j}"));
        }
    }
    for (ns, cmds) in nodes.iter().zip(&node_cmds) {
        netns::ip_batch(&ns.name, cmds)?;
    }
    for ((ips, _), ns) in layout.slots.iter().zip(pods) {
        let mut cmds = String::from("link set lo up\nlink set eth0 up\n");
        for ip in ips {
            match ip {
                IpAddr::V4(_) => cmds.push_str(&format!("addr add {ip}/32 dev eth0\n")),
                IpAddr::V6(_) => cmds.push_str(&format!("addr add {ip}/128 dev eth0 nodad\n")),
            }
        }
        cmds.push_str(&format!(
            "route add {GATEWAY_V4}/32 dev eth0 scope link\nroute add default via {GATEWAY_V4} dev eth0\n"
        ));
        if ips.iter().any(|ip| ip.is_ipv6()) {
            cmds.push_str(&format!("route add default via {GATEWAY_V6} dev eth0\n"));
        }
        netns::ip_batch(&ns.name, &cmds)?;
    }
    Ok(())
}
