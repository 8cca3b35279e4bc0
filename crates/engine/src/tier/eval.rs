//! One side of a connection decided through the tiers, with or without the
//! trace: the verdict records it, the matrix only wants the answer.

use std::net::IpAddr;

use netpol_model::{
    Action, ClusterPolicy, Direction, Endpoint, Family, Protocol, Tier, TierPeer, TierPort,
    TierRule,
};

use super::compile::{CompiledTierPeer, CompiledTiers};
use super::trace::{Layer, TierPolicyTrace, TierRuleTrace, TierTrace};
use crate::compile::Engine;
use crate::selector;
use crate::trace::{Check, SideStatus, SideTrace};
use crate::verdict::Party;

/// Whether a peer matches the other end of the connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Hit {
    Yes,
    No,
    /// A `domainNames` peer and an address outside the cluster: whether the
    /// name resolves to it is not known offline.
    Unknown,
}

/// How one tier ended for one side.
#[derive(Default)]
pub(crate) struct TierRun {
    /// The first matching rule: (action, policy index, rule index).
    pub decision: Option<(Action, usize, usize)>,
    /// The first rule passed over because whether it matches is unknown
    /// (always an Accept: the CRD allows domainNames only there).
    pub unknown: Option<(usize, usize)>,
}

/// Whether a `protocols` entry admits `port`/`protocol` on the destination.
/// A named port resolves on the destination pod by name, whatever protocol
/// the container port declares, and must be that port and protocol.
pub fn tier_port_admits(
    p: &TierPort,
    dst: Option<&Endpoint>,
    port: u16,
    protocol: Protocol,
) -> bool {
    match p {
        TierPort::Number {
            protocol: pr,
            port: n,
        } => *pr == protocol && *n == port,
        TierPort::Range {
            protocol: pr,
            start,
            end,
        } => *pr == protocol && (*start..=*end).contains(&port),
        TierPort::Named(name) => dst.filter(|d| !d.host_network).is_some_and(|d| {
            d.ports.iter().any(|cp| {
                cp.name.as_deref() == Some(name.as_str())
                    && cp.port == port
                    && cp.protocol == protocol
            })
        }),
    }
}

pub(crate) fn rule_ports_admit(
    rule: &TierRule,
    dst: Option<&Endpoint>,
    port: u16,
    protocol: Protocol,
) -> bool {
    rule.ports.is_empty()
        || rule
            .ports
            .iter()
            .any(|(p, _)| tier_port_admits(p, dst, port, protocol))
}

fn hit(peer: &TierPeer, compiled: &CompiledTierPeer, party: Party, family: Option<Family>) -> Hit {
    let yes = |b: bool| if b { Hit::Yes } else { Hit::No };
    match party {
        // Cluster endpoints have known addresses that no domain name is
        // taken to resolve to (see the README's Tiers section).
        Party::Endpoint(e) => yes(compiled.admits(e, family)),
        Party::External(ip) => match peer {
            TierPeer::Namespaces { .. } | TierPeer::Pods { .. } => Hit::No,
            TierPeer::Networks { cidrs, .. } => yes(cidrs.iter().any(|c| c.contains(&ip))),
            TierPeer::Nodes { .. } => yes(compiled.node_addresses.contains(&ip)),
            TierPeer::DomainNames { .. } => Hit::Unknown,
        },
    }
}

/// Whether a peer matches an address outside the cluster: what decides,
/// since a `domainNames` peer that may match is no match for the decision.
pub(crate) fn peer_matches_address(
    peer: &TierPeer,
    compiled: &CompiledTierPeer,
    ip: IpAddr,
) -> bool {
    hit(peer, compiled, Party::External(ip), Some(Family::of(ip))) == Hit::Yes
}

pub fn describe_tier_peer(peer: &TierPeer) -> String {
    match peer {
        TierPeer::Namespaces { selector: s, .. } => {
            format!("namespaces {}", selector::display(s))
        }
        TierPeer::Pods {
            namespace_selector,
            pod_selector,
            ..
        } => format!(
            "pods {} in namespaces {}",
            selector::display(pod_selector),
            selector::display(namespace_selector)
        ),
        TierPeer::Networks { cidrs, .. } => format!(
            "networks {}",
            cidrs
                .iter()
                .map(|c| c.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        TierPeer::Nodes { selector: s, .. } => format!("nodes {}", selector::display(s)),
        TierPeer::DomainNames { names, .. } => format!("domainNames {}", names.join(", ")),
    }
}

pub fn describe_tier_port(p: &TierPort) -> String {
    match p {
        TierPort::Number { protocol, port } => format!("{port}/{protocol}"),
        TierPort::Range {
            protocol,
            start,
            end,
        } => format!("{start}-{end}/{protocol}"),
        TierPort::Named(n) => format!("named port {n}"),
    }
}

impl Engine<'_> {
    fn peer_why(&self, peer: &TierPeer, party: Party, h: Hit) -> String {
        let e = match party {
            Party::External(ip) => {
                return match (peer, h) {
                    (TierPeer::Namespaces { .. } | TierPeer::Pods { .. }, _) => {
                        format!("{ip} is not a pod")
                    }
                    (TierPeer::DomainNames { .. }, _) => {
                        format!("whether a domain name resolves to {ip} cannot be known offline")
                    }
                    (_, Hit::Yes) => format!("{ip} matches"),
                    (TierPeer::Nodes { .. }, _) => {
                        format!("{ip} is not an address of a selected node")
                    }
                    _ => format!("{ip} is outside the networks"),
                };
            }
            Party::Endpoint(i) => &self.cluster.endpoints[i],
        };
        let id = e.id();
        if h == Hit::Yes {
            return format!("{id} matches");
        }
        let ns_labels = self
            .cluster
            .namespace_labels(&e.namespace)
            .cloned()
            .unwrap_or_default();
        let ns_what = format!("namespace {}", e.namespace);
        match peer {
            TierPeer::Namespaces { .. } | TierPeer::Pods { .. } if e.host_network => {
                format!("{id} uses the host network: namespaces and pods peers never match it")
            }
            TierPeer::Namespaces { selector: s, .. } => selector::mismatch(s, &ns_labels, &ns_what)
                .unwrap_or_else(|| format!("{id} does not match")),
            TierPeer::Pods {
                namespace_selector,
                pod_selector,
                ..
            } => selector::mismatch(namespace_selector, &ns_labels, &ns_what)
                .or_else(|| selector::mismatch(pod_selector, &e.labels, &id))
                .unwrap_or_else(|| format!("{id} does not match")),
            TierPeer::Networks { .. } => {
                if e.ips.is_empty() {
                    format!("{id} has no known IP: networks cannot match it")
                } else {
                    format!(
                        "{} of {id} is outside the networks (over this family)",
                        e.ips
                            .iter()
                            .map(|ip| ip.to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                }
            }
            TierPeer::Nodes { .. } => format!("{id} has no address of a selected node"),
            TierPeer::DomainNames { .. } => {
                format!(
                    "{id} is in the cluster: domain names are taken to name addresses outside it"
                )
            }
        }
    }

    /// Runs one tier for one side; with `trace`, records every policy and rule evaluated.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn run_tier(
        &self,
        tiers: &CompiledTiers,
        tier: Tier,
        direction: Direction,
        subject: usize,
        peer: Party,
        dst: Option<&Endpoint>,
        port: u16,
        protocol: Protocol,
        family: Option<Family>,
        mut trace: Option<&mut Vec<TierPolicyTrace>>,
    ) -> TierRun {
        let mut run = TierRun::default();
        for &pi in tiers.selecting(tier, direction, subject) {
            let pi = pi as usize;
            let policy: &ClusterPolicy = &self.cluster.cluster_policies[pi];
            let compiled = &tiers.policies[pi];
            let mut rules_trace = Vec::new();
            for (ri, (rule, crule)) in policy
                .rules(direction)
                .iter()
                .zip(compiled.rules(direction))
                .enumerate()
            {
                let ports_ok = rule_ports_admit(rule, dst, port, protocol);
                let peers = rule.peers.iter().zip(&crule.peers);
                // Every peer's answer only for the trace; without it, the
                // first that matches is enough.
                let hits: Vec<Hit> = if trace.is_some() {
                    peers
                        .clone()
                        .map(|(p, cp)| hit(p, cp, peer, family))
                        .collect()
                } else {
                    Vec::new()
                };
                let h = if !ports_ok {
                    Hit::No
                } else if trace.is_some() {
                    if hits.contains(&Hit::Yes) {
                        Hit::Yes
                    } else if hits.contains(&Hit::Unknown) {
                        Hit::Unknown
                    } else {
                        Hit::No
                    }
                } else {
                    let mut h = Hit::No;
                    for (p, cp) in peers {
                        match hit(p, cp, peer, family) {
                            Hit::Yes => {
                                h = Hit::Yes;
                                break;
                            }
                            Hit::Unknown => h = Hit::Unknown,
                            Hit::No => {}
                        }
                    }
                    h
                };
                if trace.is_some() {
                    rules_trace.push(
                        self.rule_trace(direction, ri, rule, &hits, h, peer, dst, port, protocol),
                    );
                }
                match h {
                    Hit::Yes => {
                        run.decision = Some((crate::test_hook::tier_action(rule.action), pi, ri));
                        break;
                    }
                    Hit::Unknown if run.unknown.is_none() => run.unknown = Some((pi, ri)),
                    _ => {}
                }
            }
            if let Some(t) = trace.as_deref_mut() {
                t.push(TierPolicyTrace {
                    policy: policy.id(),
                    kind: policy.kind.clone(),
                    tier: policy.tier,
                    priority: policy.priority,
                    location: format!("{}:{}", policy.origin.file, policy.origin.line),
                    rules: rules_trace,
                });
            }
            if run.decision.is_some() {
                break;
            }
        }
        run
    }

    #[allow(clippy::too_many_arguments)]
    fn rule_trace(
        &self,
        direction: Direction,
        index: usize,
        rule: &TierRule,
        hits: &[Hit],
        h: Hit,
        peer: Party,
        dst: Option<&Endpoint>,
        port: u16,
        protocol: Protocol,
    ) -> TierRuleTrace {
        let field = match direction {
            Direction::Ingress => "from",
            Direction::Egress => "to",
        };
        let peers = rule
            .peers
            .iter()
            .zip(hits)
            .enumerate()
            .map(|(i, (p, &ph))| Check {
                item: format!("{field}[{i}]"),
                description: describe_tier_peer(p),
                matched: ph == Hit::Yes,
                reason: self.peer_why(p, peer, ph),
            })
            .collect();
        let ports = if rule.ports.is_empty() {
            vec![Check {
                item: "protocols".into(),
                description: "(absent)".into(),
                matched: true,
                reason: "no protocols: every port of every protocol matches".into(),
            }]
        } else {
            rule.ports
                .iter()
                .enumerate()
                .map(|(i, (p, _))| {
                    let matched = tier_port_admits(p, dst, port, protocol);
                    Check {
                        item: format!("protocols[{i}]"),
                        description: describe_tier_port(p),
                        matched,
                        reason: port_why(p, dst, port, protocol, matched),
                    }
                })
                .collect()
        };
        TierRuleTrace {
            rule: format!("{}[{index}]", direction.as_str()),
            index,
            name: rule.name.clone(),
            action: rule.action,
            line: rule.line,
            matched: h == Hit::Yes,
            undecidable: h == Hit::Unknown,
            peers,
            ports,
        }
    }

    /// The first rule of `tier` that matches the connection for `subject` in
    /// `direction` (`peer` is the other end): its action, policy index (into
    /// `Cluster::cluster_policies`) and rule index. `None` without cluster
    /// policies, for host-network subjects, or when no rule matches.
    #[allow(clippy::too_many_arguments)]
    pub fn tier_decision(
        &self,
        tier: Tier,
        direction: Direction,
        subject: usize,
        peer: Party,
        port: u16,
        protocol: Protocol,
        family: Option<Family>,
    ) -> Option<(Action, usize, usize)> {
        let tiers = self.tiers.as_deref()?;
        let s = &self.cluster.endpoints[subject];
        if s.host_network {
            return None;
        }
        let dst = match (direction, peer) {
            (Direction::Ingress, _) => Some(s),
            (Direction::Egress, Party::Endpoint(d)) => Some(&self.cluster.endpoints[d]),
            (Direction::Egress, Party::External(_)) => None,
        };
        self.run_tier(
            tiers, tier, direction, subject, peer, dst, port, protocol, family, None,
        )
        .decision
    }

    /// One side decided through the tiers, with its trace. NetworkPolicy's own
    /// trace (`Engine::side`) is kept for the layer between the tiers.
    pub(crate) fn tiered_side(
        &self,
        direction: Direction,
        subject: Party,
        peer: Party,
        port: u16,
        protocol: Protocol,
        family: Option<Family>,
    ) -> SideTrace {
        let np = || self.side(direction, subject, peer, port, protocol, family);
        let (Some(tiers), Party::Endpoint(si)) = (&self.tiers, subject) else {
            return np();
        };
        if self.cluster.endpoints[si].host_network {
            return np();
        }
        let dst = match (direction, peer) {
            (Direction::Ingress, _) => Some(&self.cluster.endpoints[si]),
            (Direction::Egress, Party::Endpoint(d)) => Some(&self.cluster.endpoints[d]),
            (Direction::Egress, Party::External(_)) => None,
        };
        let mut tt = TierTrace::default();
        let admin = self.run_tier(
            tiers,
            Tier::Admin,
            direction,
            si,
            peer,
            dst,
            port,
            protocol,
            family,
            Some(&mut tt.admin),
        );
        let mut unknown = admin.unknown;
        let step = |run: &TierRun, tier: &str| match run.decision {
            Some((a, pi, ri)) => {
                let p = &self.cluster.cluster_policies[pi];
                let name = p.rules(direction)[ri]
                    .name
                    .as_ref()
                    .map(|n| format!(" ({n})"))
                    .unwrap_or_default();
                format!("{a} in {} rule {}[{ri}]{name}", p.id(), direction.as_str())
            }
            None => format!("no {tier} rule matches"),
        };
        tt.path.push(step(&admin, "Admin"));
        let (mut allowed, mut side) = match admin.decision {
            Some((Action::Accept, ..)) => {
                tt.decided_by = Some(Layer::Admin);
                (true, None)
            }
            Some((Action::Deny, ..)) => {
                tt.decided_by = Some(Layer::Admin);
                (false, None)
            }
            _ => {
                let s = np();
                if matches!(s.status, SideStatus::Allowed | SideStatus::Denied) {
                    tt.path.push(format!("NetworkPolicy: {}", s.reason));
                    tt.decided_by = Some(Layer::NetworkPolicy);
                    (s.allowed, Some(s))
                } else {
                    tt.path.push(format!("NetworkPolicy: {}", s.reason));
                    tt.reached_baseline = true;
                    let base = self.run_tier(
                        tiers,
                        Tier::Baseline,
                        direction,
                        si,
                        peer,
                        dst,
                        port,
                        protocol,
                        family,
                        Some(&mut tt.baseline),
                    );
                    unknown = unknown.or(base.unknown);
                    tt.path.push(step(&base, "Baseline"));
                    match base.decision {
                        Some((Action::Accept, ..)) => {
                            tt.decided_by = Some(Layer::Baseline);
                            (true, Some(s))
                        }
                        Some((Action::Deny, ..)) => {
                            tt.decided_by = Some(Layer::Baseline);
                            (false, Some(s))
                        }
                        _ => {
                            tt.path.push("default: allow".into());
                            tt.decided_by = Some(Layer::Default);
                            (true, Some(s))
                        }
                    }
                }
            }
        };
        // An unknown rule is an Accept: if it matched, the side would be allowed.
        let mut status = if allowed {
            SideStatus::Allowed
        } else {
            SideStatus::Denied
        };
        if let (false, Some((pi, ri))) = (allowed, unknown) {
            let p = &self.cluster.cluster_policies[pi];
            tt.undecidable = Some(format!(
                "{} rule {}[{ri}] accepts by domainNames, which cannot be resolved offline: allowed if a name resolves to this address, denied otherwise",
                p.id(),
                direction.as_str()
            ));
            status = SideStatus::Undecidable;
            allowed = false;
        }
        let reason = match &tt.undecidable {
            Some(u) => format!("undecidable: {u}"),
            None => tt.path.join(" -> "),
        };
        let policies = side.take().map(|s| s.policies).unwrap_or_default();
        SideTrace {
            direction,
            subject: self.party_name(subject),
            status,
            allowed,
            reason,
            policies,
            tiers: Some(Box::new(tt)),
        }
    }
}

fn port_why(
    p: &TierPort,
    dst: Option<&Endpoint>,
    port: u16,
    protocol: Protocol,
    matched: bool,
) -> String {
    if matched {
        return format!("{port}/{protocol} matches");
    }
    match p {
        TierPort::Number { protocol: pr, .. } | TierPort::Range { protocol: pr, .. }
            if *pr != protocol =>
        {
            format!("protocol is {pr}, not {protocol}")
        }
        TierPort::Number { port: n, .. } => format!("{port} is not {n}"),
        TierPort::Range { start, end, .. } => format!("{port} is outside {start}-{end}"),
        TierPort::Named(n) => match dst {
            None => format!("named port {n}: the destination is outside the cluster"),
            Some(d) if d.host_network => {
                format!("named port {n}: {} uses the host network", d.id())
            }
            Some(d) => match d
                .ports
                .iter()
                .find(|cp| cp.name.as_deref() == Some(n.as_str()))
            {
                None => format!("named port {n}: not declared by {}", d.id()),
                Some(cp) => format!(
                    "named port {n} is {}/{} on {}, not {port}/{protocol}",
                    cp.port,
                    cp.protocol,
                    d.id()
                ),
            },
        },
    }
}
