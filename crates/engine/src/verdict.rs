//! One connection decided, with the trace that explains it.

use std::net::IpAddr;

use netpol_model::{Direction, Endpoint, Family, Peer, Policy, PortRef, PortRule, Protocol};

use crate::compile::{Engine, ip_in_block, port_rule_admits};
use crate::family::same_outcome;
use crate::selector;
use crate::trace::{
    Check, Decision, FamilyVerdict, PolicyTrace, RuleTrace, SideStatus, SideTrace, Verdict,
};

/// One end of a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Party {
    /// Index into `Cluster::endpoints`.
    Endpoint(usize),
    /// An address outside the cluster.
    External(IpAddr),
}

impl Engine<'_> {
    fn endpoint(&self, p: Party) -> Option<&Endpoint> {
        match p {
            Party::Endpoint(i) => Some(&self.cluster.endpoints[i]),
            Party::External(_) => None,
        }
    }

    pub fn party_name(&self, p: Party) -> String {
        match p {
            Party::Endpoint(i) => self.cluster.endpoints[i].id(),
            Party::External(ip) => ip.to_string(),
        }
    }

    /// Traffic between a pod and its own node, which NetworkPolicy never blocks.
    pub fn is_node_traffic(&self, src: Party, dst: Party) -> bool {
        match (self.endpoint(src), self.endpoint(dst)) {
            (Some(s), Some(d)) => {
                (s.host_network || d.host_network) && s.node.is_some() && s.node == d.node
            }
            _ => false,
        }
    }

    /// Decides `src -> dst:port/protocol` and explains it.
    pub fn verdict(&self, src: Party, dst: Party, port: u16, protocol: Protocol) -> Verdict {
        let families = self.connection_families(src, dst);
        let same_endpoint = match (src, dst) {
            (Party::Endpoint(a), Party::Endpoint(b)) if a == b => Some(&self.cluster.endpoints[a]),
            _ => None,
        };
        // One endpoint standing for several pods: its "cell with itself" is
        // traffic between two replicas, different pods, which policies decide.
        let between_replicas = same_endpoint
            .filter(|e| e.may_be_several_pods())
            .map(|e| e.id());
        let decide = |family: Option<Family>| {
            let egress = self.tiered_side(Direction::Egress, src, dst, port, protocol, family);
            let ingress = self.tiered_side(Direction::Ingress, dst, src, port, protocol, family);
            (egress, ingress)
        };
        // Without an ipBlock among the rules in play, every family gets the same trace.
        let may_differ = self.tiers.is_some()
            || self.holds_ip_block(src, Direction::Egress)
            || self.holds_ip_block(dst, Direction::Ingress);
        let traced = if may_differ {
            &families[..]
        } else {
            &families[..families.len().min(1)]
        };
        let mut traces: Vec<(Option<Family>, SideTrace, SideTrace)> = if traced.is_empty() {
            let (e, i) = decide(None);
            vec![(None, e, i)]
        } else {
            traced
                .iter()
                .map(|&f| {
                    let (e, i) = decide(Some(f));
                    (Some(f), e, i)
                })
                .collect()
        };
        let decided_by = if same_endpoint.is_some() && between_replicas.is_none() {
            Decision::SamePod
        } else if self.is_node_traffic(src, dst) {
            Decision::NodeTraffic
        } else if families.is_empty() {
            Decision::NoCommonFamily
        } else {
            Decision::Policies
        };
        let allowed = match decided_by {
            Decision::SamePod | Decision::NodeTraffic => true,
            Decision::NoCommonFamily => false,
            Decision::Policies => traces.iter().any(|(_, e, i)| e.allowed && i.allowed),
        };
        let differs = decided_by == Decision::Policies
            && traces.len() == 2
            && !(same_outcome(&traces[0].1, &traces[1].1)
                && same_outcome(&traces[0].2, &traces[1].2));
        let by_family = if differs {
            traces
                .iter()
                .filter_map(|(f, e, i)| {
                    Some(FamilyVerdict {
                        family: (*f)?,
                        allowed: e.allowed && i.allowed,
                        egress: e.clone(),
                        ingress: i.clone(),
                    })
                })
                .collect()
        } else {
            Vec::new()
        };
        // Undecidable when no family is known to be allowed and one might be.
        let undecidable = (decided_by == Decision::Policies && !allowed)
            .then(|| {
                traces.iter().find_map(|(_, e, i)| {
                    let open = |s: &SideTrace| s.allowed || s.status == SideStatus::Undecidable;
                    (open(e) && open(i))
                        .then(|| {
                            [e, i]
                                .into_iter()
                                .find_map(|s| s.tiers.as_ref()?.undecidable.clone())
                        })
                        .flatten()
                })
            })
            .flatten();
        let (_, egress, ingress) = traces.swap_remove(0);
        Verdict {
            src: self.party_name(src),
            dst: self.party_name(dst),
            port,
            protocol,
            allowed,
            decided_by,
            families,
            between_replicas,
            undecidable,
            egress,
            ingress,
            by_family,
        }
    }

    pub(crate) fn side(
        &self,
        direction: Direction,
        subject: Party,
        peer: Party,
        port: u16,
        protocol: Protocol,
        family: Option<Family>,
    ) -> SideTrace {
        let name = self.party_name(subject);
        let verb = match direction {
            Direction::Ingress => "Ingress",
            Direction::Egress => "Egress",
        };
        let open = |status: SideStatus, reason: String| SideTrace {
            direction,
            subject: name.clone(),
            status,
            allowed: true,
            reason,
            policies: Vec::new(),
            tiers: None,
        };
        let index = match subject {
            Party::External(ip) => {
                return open(
                    SideStatus::NotApplicable,
                    format!("{ip} is outside the cluster: no NetworkPolicy applies to it"),
                );
            }
            Party::Endpoint(i) => i,
        };
        if self.cluster.endpoints[index].host_network {
            return open(
                SideStatus::NotApplicable,
                format!("{name} uses the host network: NetworkPolicies never select it"),
            );
        }
        let selecting = self.policies_selecting(index, direction);
        if selecting.is_empty() {
            return open(
                SideStatus::NotIsolated,
                format!(
                    "not isolated: no NetworkPolicy with {verb} in its policyTypes selects {name}"
                ),
            );
        }
        let dst = match direction {
            Direction::Ingress => self.endpoint(subject),
            Direction::Egress => self.endpoint(peer),
        };
        let policies: Vec<PolicyTrace> = selecting
            .iter()
            .map(|&pi| self.policy_trace(pi, direction, peer, dst, port, protocol, family))
            .collect();
        let allowed = policies.iter().any(|p| p.allowed);
        let reason = if allowed {
            let by: Vec<&str> = policies
                .iter()
                .filter(|p| p.allowed)
                .map(|p| p.policy.as_str())
                .collect();
            format!("allowed by {}", by.join(", "))
        } else {
            format!(
                "isolated by {} polic{} and no rule allows it",
                policies.len(),
                if policies.len() == 1 { "y" } else { "ies" }
            )
        };
        SideTrace {
            direction,
            subject: name,
            status: if allowed {
                SideStatus::Allowed
            } else {
                SideStatus::Denied
            },
            allowed,
            reason,
            policies,
            tiers: None,
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn policy_trace(
        &self,
        pi: usize,
        direction: Direction,
        peer: Party,
        dst: Option<&Endpoint>,
        port: u16,
        protocol: Protocol,
        family: Option<Family>,
    ) -> PolicyTrace {
        let (policy, compiled) = self.policy(pi);
        let peer_field = match direction {
            Direction::Ingress => "from",
            Direction::Egress => "to",
        };
        let rules: Vec<RuleTrace> = compiled
            .rules(direction)
            .iter()
            .map(|crule| {
                let rule = &policy.rules(direction)[crule.index];
                let peers: Vec<Check> = if rule.peers.is_empty() {
                    vec![Check {
                        item: peer_field.to_string(),
                        description: "(absent or empty)".into(),
                        matched: true,
                        reason: format!(
                            "no {peer_field} list: every {} matches",
                            if direction == Direction::Ingress {
                                "source"
                            } else {
                                "destination"
                            }
                        ),
                    }]
                } else {
                    rule.peers
                        .iter()
                        .zip(&crule.peers)
                        .enumerate()
                        .map(|(i, (p, cp))| {
                            let matched = match peer {
                                Party::Endpoint(e) => cp.admits(e, family),
                                Party::External(ip) => match p {
                                    Peer::IpBlock { cidr, except, .. } => {
                                        ip_in_block(ip, cidr, except)
                                    }
                                    Peer::Pods { .. } => false,
                                },
                            };
                            Check {
                                item: format!("{peer_field}[{i}]"),
                                description: describe_peer(p, policy),
                                matched,
                                reason: self.peer_reason(p, policy, peer, matched, family),
                            }
                        })
                        .collect()
                };
                let ports: Vec<Check> = if rule.ports.is_empty() {
                    vec![Check {
                        item: "ports".into(),
                        description: "(absent or empty)".into(),
                        matched: true,
                        reason: "no ports list: every port matches".into(),
                    }]
                } else {
                    rule.ports
                        .iter()
                        .enumerate()
                        .map(|(i, pr)| {
                            let matched = port_rule_admits(pr, dst, port, protocol);
                            Check {
                                item: format!("ports[{i}]"),
                                description: describe_port(pr),
                                matched,
                                reason: port_reason(pr, dst, port, protocol, matched),
                            }
                        })
                        .collect()
                };
                let allowed = peers.iter().any(|c| c.matched) && ports.iter().any(|c| c.matched);
                RuleTrace {
                    rule: format!("{}[{}]", direction.as_str(), crule.index),
                    line: rule.line,
                    allowed,
                    peers,
                    ports,
                }
            })
            .collect();
        PolicyTrace {
            policy: policy.id(),
            location: format!("{}:{}", policy.origin.file, policy.origin.line),
            allowed: rules.iter().any(|r| r.allowed),
            rules,
        }
    }

    fn peer_reason(
        &self,
        peer: &Peer,
        policy: &Policy,
        party: Party,
        matched: bool,
        family: Option<Family>,
    ) -> String {
        match (peer, party) {
            (Peer::Pods { .. }, Party::External(ip)) => {
                format!("{ip} is not a pod: only ipBlock peers match addresses outside the cluster")
            }
            (Peer::IpBlock { cidr, except, .. }, Party::External(ip)) => {
                ip_reason(ip, cidr, except)
            }
            (Peer::IpBlock { cidr, except, .. }, Party::Endpoint(i)) => {
                let e = &self.cluster.endpoints[i];
                let block = Family::of_net(cidr);
                if e.ips.is_empty() {
                    return format!(
                        "{} has no known IP (status.podIP): an ipBlock cannot match it",
                        e.id()
                    );
                }
                if let Some(f) = family.filter(|f| *f != block) {
                    return format!(
                        "the connection is {f}: the {block} block {cidr} cannot match it"
                    );
                }
                // Only the address the connection uses counts: the one of its family.
                let reasons: Vec<String> = e
                    .ips
                    .iter()
                    .filter(|ip| family.is_none_or(|f| Family::of(**ip) == f))
                    .map(|ip| ip_reason(*ip, cidr, except))
                    .collect();
                if reasons.is_empty() {
                    format!("{} has no {block} address", e.id())
                } else {
                    reasons.join("; ")
                }
            }
            (
                Peer::Pods {
                    pod_selector,
                    namespace_selector,
                    ..
                },
                Party::Endpoint(i),
            ) => {
                let e = &self.cluster.endpoints[i];
                let id = e.id();
                if e.host_network {
                    return format!(
                        "{id} uses the host network: pod and namespace selectors never match it"
                    );
                }
                if matched {
                    return format!("{id} matches");
                }
                match namespace_selector {
                    None if e.namespace != policy.namespace => {
                        return format!(
                            "a podSelector without namespaceSelector means the policy's namespace {}; {id} is in namespace {}",
                            policy.namespace, e.namespace
                        );
                    }
                    Some(sel) => {
                        let empty = Default::default();
                        let labels = self
                            .cluster
                            .namespace_labels(&e.namespace)
                            .unwrap_or(&empty);
                        if let Some(why) =
                            selector::mismatch(sel, labels, &format!("namespace {}", e.namespace))
                        {
                            return format!("namespaceSelector {why}");
                        }
                    }
                    None => {}
                }
                pod_selector
                    .as_ref()
                    .and_then(|sel| selector::mismatch(sel, &e.labels, &id))
                    .map(|why| format!("podSelector {why}"))
                    .unwrap_or_else(|| format!("{id} does not match"))
            }
        }
    }
}

fn ip_reason(ip: IpAddr, cidr: &ipnet::IpNet, except: &[ipnet::IpNet]) -> String {
    if !cidr.contains(&ip) {
        return format!("{ip} is outside {cidr}");
    }
    match except.iter().find(|x| x.contains(&ip)) {
        Some(x) => format!("{ip} is in {cidr} but excluded by except {x}"),
        None => format!("{ip} is in {cidr}"),
    }
}

pub fn describe_peer(peer: &Peer, policy: &Policy) -> String {
    match peer {
        Peer::Pods {
            pod_selector,
            namespace_selector,
            ..
        } => {
            let pods = pod_selector
                .as_ref()
                .map(|s| format!("podSelector {}", selector::display(s)));
            match (namespace_selector, pods) {
                (None, Some(p)) => format!("{p} (namespace {})", policy.namespace),
                (Some(n), None) => format!("namespaceSelector {} (all pods)", selector::display(n)),
                (Some(n), Some(p)) => format!("namespaceSelector {} and {p}", selector::display(n)),
                (None, None) => "(no selector)".into(),
            }
        }
        Peer::IpBlock { cidr, except, .. } if except.is_empty() => format!("ipBlock {cidr}"),
        Peer::IpBlock { cidr, except, .. } => format!(
            "ipBlock {cidr} except {}",
            except
                .iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

pub fn describe_port(pr: &PortRule) -> String {
    match (&pr.port, pr.end_port) {
        (None, _) => format!("every {} port", pr.protocol),
        (Some(PortRef::Number(p)), Some(end)) => format!("{p}-{end}/{}", pr.protocol),
        (Some(PortRef::Number(p)), None) => format!("{p}/{}", pr.protocol),
        (Some(PortRef::Name(n)), _) => format!("named port {n}/{}", pr.protocol),
    }
}

fn port_reason(
    pr: &PortRule,
    dst: Option<&Endpoint>,
    port: u16,
    protocol: Protocol,
    matched: bool,
) -> String {
    if pr.protocol != protocol {
        return format!("protocol is {}, not {protocol}", pr.protocol);
    }
    if matched {
        return match &pr.port {
            Some(PortRef::Name(n)) => format!(
                "named port {n} is {port}/{protocol} on {}",
                dst.map(|d| d.id()).unwrap_or_default()
            ),
            _ => format!("{port}/{protocol} matches"),
        };
    }
    match &pr.port {
        None => unreachable_reason(),
        Some(PortRef::Number(p)) => match pr.end_port {
            Some(end) => format!("{port} is outside {p}-{end}"),
            None => format!("{port} is not {p}"),
        },
        Some(PortRef::Name(n)) => match dst {
            None => format!(
                "named port {n}: the destination is outside the cluster, named ports only resolve on pods"
            ),
            Some(d) if d.host_network => format!(
                "named port {n}: {} uses the host network, named ports only resolve on pods",
                d.id()
            ),
            Some(d) => match d.resolve_named_port(n, protocol) {
                None => format!("named port {n}: not declared by {} for {protocol}", d.id()),
                Some(actual) => format!(
                    "named port {n} is {actual}/{protocol} on {}, not {port}",
                    d.id()
                ),
            },
        },
    }
}

fn unreachable_reason() -> String {
    // A port entry without `port` admits every port of its protocol, so a
    // mismatch can only be the protocol, which is reported above.
    "no match".into()
}
