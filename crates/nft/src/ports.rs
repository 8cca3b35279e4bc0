//! What a rule's `ports` list admits, as nftables matches: numbers and
//! ranges merged per protocol, named ports resolved on the destination pod
//! exactly as the engine resolves them.

use std::collections::BTreeMap;

use netpol_model::{Endpoint, PortRef, PortRule, Protocol};

/// Ports a rule admits for one protocol: `None` is every port.
pub(crate) type ProtoPorts = BTreeMap<Protocol, Option<Vec<(u16, u16)>>>;

/// What a rule's `ports` list admits towards one destination.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum PortMatch {
    /// No ports list: every port of every protocol.
    Any,
    /// Only these protocols and ports; empty admits nothing.
    Only(ProtoPorts),
}

impl PortMatch {
    fn add(&mut self, protocol: Protocol, range: Option<(u16, u16)>) {
        let PortMatch::Only(map) = self else { return };
        let entry = map.entry(protocol).or_insert_with(|| Some(Vec::new()));
        match (entry.as_mut(), range) {
            (Some(ranges), Some(r)) => ranges.push(r),
            (_, None) => *entry = None,
            (None, Some(_)) => {}
        }
    }

    pub(crate) fn admits_nothing(&self) -> bool {
        matches!(self, PortMatch::Only(m) if m.is_empty())
    }

    /// One nft match expression per protocol ("" for every protocol).
    pub(crate) fn render(&self) -> Vec<String> {
        let PortMatch::Only(map) = self else {
            return vec![String::new()];
        };
        map.iter()
            .map(|(proto, ports)| {
                let proto = nft_protocol(*proto);
                match ports {
                    None => format!("meta l4proto {proto}"),
                    Some(ranges) => {
                        let items: Vec<String> = merge_ranges(ranges)
                            .into_iter()
                            .map(|(s, e)| {
                                if s == e {
                                    s.to_string()
                                } else {
                                    format!("{s}-{e}")
                                }
                            })
                            .collect();
                        if items.len() == 1 {
                            format!("meta l4proto {proto} th dport {}", items[0])
                        } else {
                            format!("meta l4proto {proto} th dport {{ {} }}", items.join(", "))
                        }
                    }
                }
            })
            .collect()
    }
}

fn merge_ranges(ranges: &[(u16, u16)]) -> Vec<(u16, u16)> {
    let mut sorted = ranges.to_vec();
    sorted.sort_unstable();
    let mut out: Vec<(u16, u16)> = Vec::new();
    for (s, e) in sorted {
        match out.last_mut() {
            Some(last) if u32::from(s) <= u32::from(last.1) + 1 => last.1 = last.1.max(e),
            _ => out.push((s, e)),
        }
    }
    out
}

pub(crate) fn nft_protocol(p: Protocol) -> &'static str {
    match p {
        Protocol::Tcp => "tcp",
        Protocol::Udp => "udp",
        Protocol::Sctp => "sctp",
    }
}

/// The numeric part of a port entry; `None` when it is a named port.
fn numeric_range(rule: &PortRule) -> Option<Option<(u16, u16)>> {
    match &rule.port {
        None => Some(None),
        Some(PortRef::Number(start)) => Some(Some((*start, rule.end_port.unwrap_or(*start)))),
        Some(PortRef::Name(_)) => None,
    }
}

/// A rule's ports as they apply to the destination `dst` (named ports resolved on it).
pub(crate) fn ports_towards(ports: &[PortRule], dst: &Endpoint) -> PortMatch {
    if ports.is_empty() {
        return PortMatch::Any;
    }
    let mut m = PortMatch::Only(BTreeMap::new());
    for rule in ports {
        match numeric_range(rule) {
            // An endPort below its port admits nothing, as in the engine.
            Some(Some((s, e))) if e < s => {}
            Some(range) => m.add(rule.protocol, range),
            None => {
                let Some(PortRef::Name(name)) = &rule.port else {
                    continue;
                };
                if let Some(port) = (!dst.host_network)
                    .then(|| dst.resolve_named_port(name, rule.protocol))
                    .flatten()
                {
                    m.add(rule.protocol, Some((port, port)));
                }
            }
        }
    }
    m
}

/// The numeric entries of a ports list; named ones are resolved per destination.
pub(crate) fn numeric_ports(ports: &[PortRule]) -> PortMatch {
    if ports.is_empty() {
        return PortMatch::Any;
    }
    let mut m = PortMatch::Only(BTreeMap::new());
    for rule in ports {
        match numeric_range(rule) {
            Some(Some((s, e))) if e < s => {}
            Some(range) => m.add(rule.protocol, range),
            None => {}
        }
    }
    m
}
