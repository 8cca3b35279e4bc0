//! The Admin and Baseline tiers of ClusterNetworkPolicy as nft rules.
//!
//! Each rule of a cluster policy becomes one line per peer match and port
//! match, ending in its action: Accept ends this side allowed (`return` for
//! egress, so the destination's ingress still decides; `accept` for
//! ingress), Deny is `drop`, Pass leaves the tier (Admin: `goto` the chain of
//! the layers after it; Baseline: the default, allow). Which pods a subject,
//! a `namespaces` or a `pods` peer selects comes from the engine, as for
//! NetworkPolicy selectors; `networks` are the policy's own CIDRs and `nodes`
//! the addresses of the Node objects their selector matches, so the kernel
//! judges addresses from the policy's text.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::rc::Rc;

use netpol_engine::family_index;
use netpol_model::{Action, Direction, Family, Protocol, TierPeer, TierPort};

use crate::addr::AddrSet;
use crate::chain::{Chains, Match, allow_verdict, combine, direction_prefix, family_words, ident};
use crate::ports::PortMatch;

const PROTOCOLS: [Protocol; 3] = [Protocol::Tcp, Protocol::Udp, Protocol::Sctp];

/// Rules whose `domainNames` peers the ruleset leaves out: `(policy, rule, names)`.
pub fn domain_name_rules(cluster: &netpol_model::Cluster) -> Vec<String> {
    let mut out = Vec::new();
    for p in &cluster.cluster_policies {
        for d in [Direction::Egress, Direction::Ingress] {
            for (ri, rule) in p.rules(d).iter().enumerate() {
                for peer in &rule.peers {
                    if let TierPeer::DomainNames { names, .. } = peer {
                        out.push(format!(
                            "{} {}[{ri}]: domainNames {} cannot be compiled (names, not addresses): the ruleset leaves them out, so they match nothing",
                            p.id(),
                            d.as_str(),
                            names.join(", ")
                        ));
                    }
                }
            }
        }
    }
    out
}

impl Chains<'_, '_> {
    /// The lines of the cluster policies of one tier selecting pod `i` in
    /// `direction`, in evaluation order; `pass` is a Pass rule's verdict.
    pub(crate) fn tier_rules(
        &mut self,
        pols: &[u32],
        i: usize,
        direction: Direction,
        pass: &str,
    ) -> String {
        let cluster = self.engine.cluster;
        let mut out = String::new();
        for &pi in pols {
            let pi = pi as usize;
            let policy = &cluster.cluster_policies[pi];
            let _ = writeln!(out, "\t\t# {} priority {}", policy.id(), policy.priority);
            for (ri, rule) in policy.rules(direction).iter().enumerate() {
                let name = rule
                    .name
                    .as_ref()
                    .map(|n| format!(" ({n})"))
                    .unwrap_or_default();
                let what = format!(
                    "{} {}[{ri}]{name} {}",
                    policy.id(),
                    direction.as_str(),
                    rule.action
                );
                let verdict = match rule.action {
                    Action::Accept => allow_verdict(direction),
                    Action::Deny => "drop",
                    Action::Pass => pass,
                };
                for peer in &rule.peers {
                    if let TierPeer::DomainNames { names, .. } = peer {
                        let _ = writeln!(
                            out,
                            "\t\t# {what}: domainNames {} cannot be compiled, left out",
                            names.join(", ")
                        );
                    }
                }
                let peers = self.tier_peer_matches(pi, direction, ri);
                if peers.is_empty() {
                    let _ = writeln!(out, "\t\t# {what}: its peers match no address");
                    continue;
                }
                let ports = self.tier_port_matches(pi, direction, ri, i);
                if ports.is_empty() {
                    let _ = writeln!(out, "\t\t# {what}: no port of it applies to this pod");
                    continue;
                }
                combine(&mut out, &peers, &ports, verdict, &what);
            }
        }
        out
    }

    fn tier_port_matches(
        &mut self,
        pi: usize,
        direction: Direction,
        ri: usize,
        i: usize,
    ) -> Vec<Match> {
        let cluster = self.engine.cluster;
        let rule = &cluster.cluster_policies[pi].rules(direction)[ri];
        if rule.ports.is_empty() {
            return vec![Match {
                v6: None,
                expr: String::new(),
            }];
        }
        let mut numeric: BTreeMap<Protocol, Option<Vec<(u16, u16)>>> = BTreeMap::new();
        let mut named = Vec::new();
        for (p, _) in &rule.ports {
            match p {
                TierPort::Number { protocol, port } => numeric
                    .entry(*protocol)
                    .or_insert_with(|| Some(Vec::new()))
                    .get_or_insert_with(Vec::new)
                    .push((*port, *port)),
                TierPort::Range {
                    protocol,
                    start,
                    end,
                } => numeric
                    .entry(*protocol)
                    .or_insert_with(|| Some(Vec::new()))
                    .get_or_insert_with(Vec::new)
                    .push((*start, *end)),
                // Ingress: resolved on the chain's own pod; egress: per destination pod.
                TierPort::Named(n) => match direction {
                    Direction::Ingress => {
                        let pod = &cluster.endpoints[i];
                        for cp in pod.ports.iter().filter(|cp| cp.name.as_deref() == Some(n)) {
                            numeric
                                .entry(cp.protocol)
                                .or_insert_with(|| Some(Vec::new()))
                                .get_or_insert_with(Vec::new)
                                .push((cp.port, cp.port));
                        }
                    }
                    Direction::Egress => named.push(n.clone()),
                },
            }
        }
        let mut out: Vec<Match> = if numeric.is_empty() {
            Vec::new()
        } else {
            PortMatch::Only(numeric)
                .render()
                .into_iter()
                .map(|expr| Match { v6: None, expr })
                .collect()
        };
        for n in named {
            for protocol in PROTOCOLS {
                out.extend(self.named_port_sets(&n, protocol).iter().cloned());
            }
        }
        out
    }

    fn tier_peer_matches(&mut self, pi: usize, direction: Direction, ri: usize) -> Rc<[Match]> {
        if let Some(m) = self.tier_peers.get(&(pi, direction, ri)) {
            return m.clone();
        }
        let m: Rc<[Match]> = self.compute_tier_peer_matches(pi, direction, ri).into();
        self.tier_peers.insert((pi, direction, ri), m.clone());
        m
    }

    fn compute_tier_peer_matches(
        &mut self,
        pi: usize,
        direction: Direction,
        ri: usize,
    ) -> Vec<Match> {
        let engine = self.engine;
        let cluster = engine.cluster;
        let tiers = engine
            .tiers
            .as_deref()
            .expect("cluster policies are compiled");
        let policy = &cluster.cluster_policies[pi];
        let rule = &policy.rules(direction)[ri];
        let crule = &tiers.policies[pi].rules(direction)[ri];
        let field = match direction {
            Direction::Ingress => "saddr",
            Direction::Egress => "daddr",
        };
        let tier = policy.tier.as_str().to_ascii_lowercase();
        let base = ident(
            &tier,
            &[direction_prefix(direction), &policy.name, &ri.to_string()],
            &format!("c{pi}r{ri}"),
        );
        let what = format!("{} {}[{ri}]", policy.id(), direction.as_str());
        // The pods the selectors pick, over each family the engine says they match.
        let mut pods = AddrSet::default();
        for (peer, cpeer) in rule.peers.iter().zip(&crule.peers) {
            if !matches!(peer, TierPeer::Namespaces { .. } | TierPeer::Pods { .. }) {
                continue;
            }
            for (f, set) in cpeer.by_family.iter().enumerate() {
                let ips = set.ones().flat_map(|e| &cluster.endpoints[e].ips);
                pods.add_ips(ips.filter(|ip| family_index(Family::of(**ip)) == f));
            }
        }
        let mut networks = AddrSet::default();
        let mut nodes = AddrSet::default();
        for peer in &rule.peers {
            match peer {
                TierPeer::Networks { cidrs, .. } => {
                    for c in cidrs {
                        networks.add_block(&c.trunc(), &[]);
                    }
                }
                TierPeer::Nodes { selector, .. } => {
                    let selected = cluster.nodes.iter().filter(|n| selector.matches(&n.labels));
                    nodes.add_ips(selected.flat_map(|n| &n.addresses));
                }
                _ => {}
            }
        }
        let mut out = Vec::new();
        for (suffix, addrs, why) in [
            ("pods", &pods, "selected pods"),
            ("networks", &networks, "networks"),
            ("nodes", &nodes, "addresses of the selected nodes"),
        ] {
            for (v6, name) in
                self.add_sets(&format!("{base}_{suffix}"), addrs, &format!("{what} {why}"))
            {
                out.push(Match {
                    v6: Some(v6),
                    expr: format!("{} {field} @{name}", family_words(v6).0),
                });
            }
        }
        out
    }
}
