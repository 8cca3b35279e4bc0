//! Rules that add nothing: NP007 (an allow-all rule beside others) and
//! NP008 (a rule duplicated or covered by another rule of the same policy).

use netpol_engine::Engine;
use netpol_model::{Direction, Peer, PortRef, PortRule, Rule};

use super::{effective_directions, plural, short_list};
use crate::finding::{Finding, Location};

pub(super) fn check(engine: &Engine, out: &mut Vec<Finding>) {
    let cluster = engine.cluster;
    for (pi, policy) in cluster.policies.iter().enumerate() {
        for direction in effective_directions(policy) {
            let rules = policy.rules(direction);
            let dir = direction.as_str();
            let allow_all: Vec<usize> = (0..rules.len())
                .filter(|&i| is_allow_all(&rules[i]))
                .collect();
            if let Some(&first) = allow_all.first() {
                let others = rules.len() - 1;
                let shadowed = other_policies_shadowed(engine, pi, direction);
                if others > 0 || !shadowed.is_empty() {
                    let mut parts = Vec::new();
                    if others > 0 {
                        parts.push(format!(
                            "the other {} of this policy",
                            plural(others, &format!("{dir} rule"), &format!("{dir} rules"))
                        ));
                    }
                    if !shadowed.is_empty() {
                        parts.push(format!(
                            "the {dir} rules of {} for the pods both select",
                            short_list(&shadowed)
                        ));
                    }
                    let peers = if direction == Direction::Ingress {
                        "from"
                    } else {
                        "to"
                    };
                    out.push(
                        Finding::new(
                            "NP007",
                            Location::at(&policy.origin, rules[first].line),
                            format!(
                                "{dir}[{first}] has no {peers} and no ports: it allows all {dir} of the selected pods, so {} add nothing",
                                parts.join(" and ")
                            ),
                            format!("restrict {dir}[{first}] with {peers}/ports, or delete the rules it makes pointless"),
                        )
                        .policy(policy.id()),
                    );
                }
                // Everything else in this direction is covered; NP008 would only repeat it.
                continue;
            }
            for j in 0..rules.len() {
                for i in 0..rules.len() {
                    if i == j {
                        continue;
                    }
                    let same = rules_equal(&rules[i], &rules[j]);
                    // A duplicate is reported once, on the later copy.
                    if (same && i > j) || !covers(&rules[i], &rules[j]) {
                        continue;
                    }
                    let message = if same {
                        format!("{dir}[{j}] duplicates {dir}[{i}] (line {})", rules[i].line)
                    } else {
                        format!(
                            "{dir}[{j}] is covered by {dir}[{i}] (line {}): every peer and port it allows, that rule allows too",
                            rules[i].line
                        )
                    };
                    out.push(
                        Finding::new(
                            "NP008",
                            Location::at(&policy.origin, rules[j].line),
                            message,
                            format!("delete {dir}[{j}], or change it if it was meant to allow something else"),
                        )
                        .policy(policy.id()),
                    );
                    break;
                }
            }
        }
    }
}

fn is_allow_all(rule: &Rule) -> bool {
    rule.peers.is_empty() && rule.ports.is_empty()
}

/// Other policies with rules in `direction` that select some of the pods an
/// allow-all rule of `pi` already opens completely.
fn other_policies_shadowed(engine: &Engine, pi: usize, direction: Direction) -> Vec<String> {
    let (p, compiled) = engine.policy(pi);
    engine
        .cluster
        .policies
        .iter()
        .enumerate()
        .filter(|&(qi, q)| {
            // A policy selects pods of its own namespace only: the
            // namespace rules out most pairs before their bitsets are read.
            qi != pi
                && q.namespace == p.namespace
                && q.affects(direction)
                && !q.rules(direction).is_empty()
                && !q.rules(direction).iter().all(is_allow_all)
                && !engine.policy(qi).1.selected.is_disjoint(&compiled.selected)
        })
        .map(|(_, q)| q.id())
        .collect()
}

fn peer_equal(a: &Peer, b: &Peer) -> bool {
    match (a, b) {
        (
            Peer::Pods {
                pod_selector: ps1,
                namespace_selector: ns1,
                ..
            },
            Peer::Pods {
                pod_selector: ps2,
                namespace_selector: ns2,
                ..
            },
        ) => ps1 == ps2 && ns1 == ns2,
        (
            Peer::IpBlock {
                cidr: c1,
                except: e1,
                ..
            },
            Peer::IpBlock {
                cidr: c2,
                except: e2,
                ..
            },
        ) => {
            let mut e1 = e1.clone();
            let mut e2 = e2.clone();
            e1.sort();
            e2.sort();
            c1 == c2 && e1 == e2
        }
        _ => false,
    }
}

fn port_equal(a: &PortRule, b: &PortRule) -> bool {
    a.protocol == b.protocol && a.port == b.port && a.end_port == b.end_port
}

/// Same peers and ports in any order, lines aside.
fn rules_equal(a: &Rule, b: &Rule) -> bool {
    let subset = |x: &Rule, y: &Rule| {
        x.peers
            .iter()
            .all(|p| y.peers.iter().any(|q| peer_equal(p, q)))
            && x.ports
                .iter()
                .all(|p| y.ports.iter().any(|q| port_equal(p, q)))
    };
    subset(a, b)
        && subset(b, a)
        && a.peers.is_empty() == b.peers.is_empty()
        && a.ports.is_empty() == b.ports.is_empty()
}

/// Whether `wide` allows everything `narrow` allows, judged on the text of
/// the rules (so it holds for any pods, not only the ones in the input).
fn covers(wide: &Rule, narrow: &Rule) -> bool {
    let peers = wide.peers.is_empty()
        || (!narrow.peers.is_empty()
            && narrow
                .peers
                .iter()
                .all(|p| wide.peers.iter().any(|q| peer_equal(p, q))));
    let ports = wide.ports.is_empty()
        || (!narrow.ports.is_empty()
            && narrow
                .ports
                .iter()
                .all(|p| wide.ports.iter().any(|q| port_covers(q, p))));
    peers && ports
}

fn port_covers(wide: &PortRule, narrow: &PortRule) -> bool {
    if wide.protocol != narrow.protocol {
        return false;
    }
    let range = |p: &PortRule| match (&p.port, p.end_port) {
        (Some(PortRef::Number(s)), Some(e)) => Some((*s, e)),
        (Some(PortRef::Number(s)), None) => Some((*s, *s)),
        _ => None,
    };
    match (&wide.port, &narrow.port) {
        (None, _) => true,
        (Some(PortRef::Name(a)), Some(PortRef::Name(b))) => a == b,
        _ => match (range(wide), range(narrow)) {
            (Some((ws, we)), Some((ns, ne))) => ws <= ns && ne <= we,
            _ => false,
        },
    }
}
