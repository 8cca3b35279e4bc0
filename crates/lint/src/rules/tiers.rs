//! ClusterNetworkPolicy rules: NP014 (a rule earlier rules of its tier
//! always decide first), NP015 (equal priorities over the same pods), NP016
//! (a Baseline Deny NetworkPolicy already decides) and NP017 (domainNames).
//! The engine's endpoints are classes of pods that no policy, cluster
//! policies included, can tell apart: a rule decides a pair of classes as
//! it decides every pair of their pods, and counts are of pods.

use std::collections::BTreeSet;

use netpol_engine::{Engine, Party};
use netpol_model::{Action, ClusterPolicy, Direction, Family, Protocol, Tier, TierPeer, TierPort};

use super::{Ctx, plural, short_list};
use crate::finding::{Finding, Location};

pub(super) fn check(ctx: &Ctx, out: &mut Vec<Finding>) {
    let engine = ctx.engine;
    let Some(tiers) = engine.tiers.as_deref() else {
        return;
    };
    let cluster = engine.cluster;
    let pods = |classes: &fixedbitset::FixedBitSet| ctx.first_pods(classes.ones()).0;
    let policies = &cluster.cluster_policies;
    for (pi, p) in policies.iter().enumerate() {
        for direction in [Direction::Ingress, Direction::Egress] {
            for (ri, rule) in p.rules(direction).iter().enumerate() {
                let at = Location::at(&p.origin, rule.line);
                let label = rule_label(p, direction, ri);
                if rule
                    .peers
                    .iter()
                    .any(|peer| matches!(peer, TierPeer::DomainNames { .. }))
                {
                    out.push(
                        Finding::new(
                            "NP017",
                            at.clone(),
                            format!("{label} matches domainNames: connections to addresses outside the cluster that depend on it cannot be decided offline"),
                            "explain reports such connections as undecidable; pair the rule with networks if the addresses are known",
                        )
                        .policy(p.id()),
                    );
                }
                if let Some(by) = shadowed_by(ctx, pi, direction, ri) {
                    out.push(
                        Finding::new(
                            "NP014",
                            at.clone(),
                            format!(
                                "{label} never decides: every connection it matches is decided first by {}",
                                short_list(&by)
                            ),
                            format!("move {label} before the rules that shadow it, or delete it"),
                        )
                        .policy(p.id()),
                    );
                }
                if p.tier == Tier::Baseline && rule.action == Action::Deny {
                    let subjects = &tiers.policies[pi].subject;
                    let isolated = subjects
                        .ones()
                        .all(|e| !engine.policies_selecting(e, direction).is_empty());
                    if !subjects.is_clear() && isolated {
                        out.push(
                            Finding::new(
                                "NP016",
                                at,
                                format!(
                                    "{label} is a Baseline Deny, but NetworkPolicies select every one of its {} for {}: NetworkPolicy decides and the rule is never reached",
                                    plural(pods(subjects), "pod", "pods"),
                                    direction.as_str()
                                ),
                                "move the guardrail to the Admin tier if it must hold whatever the NetworkPolicies say",
                            )
                            .policy(p.id()),
                        );
                    }
                }
            }
        }
        for (qi, q) in policies.iter().enumerate().skip(pi + 1) {
            if q.tier != p.tier || q.priority != p.priority {
                continue;
            }
            let mut both = tiers.policies[pi].subject.clone();
            both.intersect_with(&tiers.policies[qi].subject);
            let shared_direction = [Direction::Ingress, Direction::Egress]
                .into_iter()
                .any(|d| !p.rules(d).is_empty() && !q.rules(d).is_empty());
            if both.is_clear() || !shared_direction {
                continue;
            }
            out.push(
                Finding::new(
                    "NP015",
                    Location::at(&q.origin, q.origin.line),
                    format!(
                        "{} and {} are both {} priority {} and select {} in common: the API leaves their order undefined (netpol evaluates them by name)",
                        p.id(),
                        q.id(),
                        p.tier,
                        p.priority,
                        plural(pods(&both), "pod", "pods")
                    ),
                    format!("give {} a different priority", q.id()),
                )
                .policy(q.id()),
            );
        }
    }
}

fn rule_label(p: &ClusterPolicy, direction: Direction, ri: usize) -> String {
    let name = p.rules(direction)[ri]
        .name
        .as_ref()
        .map(|n| format!(" ({n})"))
        .unwrap_or_default();
    format!("{} {}[{ri}]{name}", p.id(), direction.as_str())
}

/// The earlier rules that decide every connection between endpoints the
/// rule matches, on every port; `None` when the rule
/// decides one, matches none, or can match addresses outside the cluster
/// (networks, nodes, domainNames), which cannot all be tried.
fn shadowed_by(ctx: &Ctx, pi: usize, direction: Direction, ri: usize) -> Option<Vec<String>> {
    let engine: &Engine = ctx.engine;
    let cluster = engine.cluster;
    let tiers = engine.tiers.as_deref()?;
    let p = &cluster.cluster_policies[pi];
    let rule = &p.rules(direction)[ri];
    if rule
        .peers
        .iter()
        .any(|peer| !matches!(peer, TierPeer::Namespaces { .. } | TierPeer::Pods { .. }))
    {
        return None;
    }
    let compiled = &tiers.policies[pi].rules(direction)[ri];
    let mut peers = compiled.peers[0].by_family[0].clone();
    for cp in &compiled.peers {
        peers.union_with(&cp.by_family[0]);
    }
    // Exhaustive, so bounded: a rule over too many pairs of pods is not
    // judged (counted in pods, so that classes judge the rules pods do).
    let subject = &tiers.policies[pi].subject;
    let pairs = ctx.first_pods(subject.ones()).0 * ctx.first_pods(peers.ones()).0;
    if pairs > 250_000 {
        return None;
    }
    // Port numbers where some rule of the tier starts or stops matching, and
    // their neighbours: every stretch of ports that rules treat alike holds one.
    let mut probes: BTreeSet<(u16, Protocol)> = BTreeSet::new();
    for proto in Protocol::ALL {
        probes.insert((1, proto));
        probes.insert((65535, proto));
    }
    for q in cluster.cluster_policies.iter().filter(|q| q.tier == p.tier) {
        for r in q.rules(direction) {
            for (tp, _) in &r.ports {
                let (proto, edges) = match tp {
                    TierPort::Number { protocol, port } => (*protocol, [*port, *port]),
                    TierPort::Range {
                        protocol,
                        start,
                        end,
                    } => (*protocol, [*start, *end]),
                    TierPort::Named(_) => continue,
                };
                for n in edges {
                    for m in [n.saturating_sub(1).max(1), n, n.saturating_add(1)] {
                        probes.insert((m, proto));
                    }
                }
            }
        }
    }
    let mut by = BTreeSet::new();
    let mut matched_any = false;
    for s in tiers.policies[pi].subject.ones() {
        for e in peers.ones() {
            let dst = match direction {
                Direction::Ingress => s,
                Direction::Egress => e,
            };
            let declared = cluster.endpoints[dst]
                .ports
                .iter()
                .map(|cp| (cp.port, cp.protocol));
            let candidates: BTreeSet<(u16, Protocol)> =
                probes.iter().copied().chain(declared).collect();
            for (port, protocol) in candidates {
                let ports_ok = rule.ports.is_empty()
                    || rule.ports.iter().any(|(tp, _)| {
                        netpol_engine::tier::tier_port_admits(
                            tp,
                            Some(&cluster.endpoints[dst]),
                            port,
                            protocol,
                        )
                    });
                if !ports_ok {
                    continue;
                }
                matched_any = true;
                let family = Family::ALL
                    .into_iter()
                    .find(|&f| cluster.endpoints[s].can_use(f) && cluster.endpoints[e].can_use(f));
                match engine.tier_decision(
                    p.tier,
                    direction,
                    s,
                    Party::Endpoint(e),
                    port,
                    protocol,
                    family,
                ) {
                    Some((_, qi, qr)) if (qi, qr) != (pi, ri) => {
                        by.insert(rule_label(&cluster.cluster_policies[qi], direction, qr));
                    }
                    _ => return None,
                }
            }
        }
    }
    (matched_any && !by.is_empty()).then(|| by.into_iter().collect())
}
