//! ClusterNetworkPolicies in a diff: which were added, removed or changed
//! (and how: priority, rule order, an action), and, when a tier decided a
//! side that flipped, the policy change that made it.

use std::collections::BTreeMap;

use netpol_engine::SideTrace;
use netpol_engine::tier::TierTrace;
use netpol_model::{Cluster, ClusterPolicy, Direction, TierRule};

use crate::model::{Cause, CauseKind, PolicyChange, PolicyChangeKind};

/// A rule without its line: what it means.
fn rule_key(r: &TierRule) -> String {
    let mut peers: Vec<String> = r.peers.iter().map(|p| format!("{p:?}")).collect();
    for p in &mut peers {
        // Lines are layout, not meaning.
        if let Some(i) = p.rfind(", line:") {
            p.truncate(i);
        }
    }
    let ports: Vec<String> = r.ports.iter().map(|(p, _)| format!("{p:?}")).collect();
    format!(
        "{:?} peers[{}] ports[{}]",
        r.name,
        peers.join(";"),
        ports.join(";")
    )
}

/// How `new` differs from `old`, for people; empty when it means the same.
fn difference(old: &ClusterPolicy, new: &ClusterPolicy) -> Vec<String> {
    let mut parts = Vec::new();
    if old.tier != new.tier {
        parts.push(format!("tier {} -> {}", old.tier, new.tier));
    }
    if old.priority != new.priority {
        parts.push(format!("priority {} -> {}", old.priority, new.priority));
    }
    if old.subject != new.subject {
        parts.push("subject changed".into());
    }
    for d in [Direction::Ingress, Direction::Egress] {
        let (o, n) = (old.rules(d), new.rules(d));
        let keys = |rules: &[TierRule]| {
            rules
                .iter()
                .map(|r| format!("{} {}", r.action, rule_key(r)))
                .collect::<Vec<_>>()
        };
        let (ok, nk) = (keys(o), keys(n));
        let mut sorted_o = ok.clone();
        let mut sorted_n = nk.clone();
        sorted_o.sort();
        sorted_n.sort();
        let same_but_actions =
            o.len() == n.len() && o.iter().zip(n).all(|(a, b)| rule_key(a) == rule_key(b));
        if ok == nk {
        } else if sorted_o == sorted_n {
            // The same rules in another order: first match decides, so order is meaning.
            parts.push(format!("{} rules reordered", d.as_str()));
        } else if same_but_actions {
            for (i, (a, b)) in o.iter().zip(n).enumerate() {
                if a.action != b.action {
                    parts.push(format!(
                        "{}[{i}] action {} -> {}",
                        d.as_str(),
                        a.action,
                        b.action
                    ));
                }
            }
        } else {
            parts.push(format!("{} rules changed", d.as_str()));
        }
    }
    parts
}

fn location(p: &ClusterPolicy) -> String {
    format!("{}:{}", p.origin.file, p.origin.line)
}

/// The cluster policy changes, by id (`admin/name`), and what each change is.
pub(crate) fn compare(
    old: &Cluster,
    new: &Cluster,
) -> (Vec<PolicyChange>, BTreeMap<String, String>) {
    let by_id = |c: &Cluster| -> BTreeMap<String, ClusterPolicy> {
        c.cluster_policies
            .iter()
            .map(|p| (format!("cnp/{}", p.name), p.clone()))
            .collect()
    };
    let (o, n) = (by_id(old), by_id(new));
    let mut changes = Vec::new();
    let mut what = BTreeMap::new();
    for (key, p) in &n {
        match o.get(key) {
            None => changes.push(PolicyChange {
                policy: p.id(),
                change: PolicyChangeKind::Added,
                renamed_from: None,
                location: location(p),
            }),
            Some(q) => {
                let diff = difference(q, p);
                if !diff.is_empty() {
                    what.insert(p.id(), diff.join("; "));
                    what.insert(q.id(), diff.join("; "));
                    changes.push(PolicyChange {
                        policy: p.id(),
                        change: PolicyChangeKind::Changed,
                        renamed_from: None,
                        location: location(p),
                    });
                }
            }
        }
    }
    for (key, p) in &o {
        if !n.contains_key(key) {
            changes.push(PolicyChange {
                policy: p.id(),
                change: PolicyChangeKind::Removed,
                renamed_from: None,
                location: location(p),
            });
        }
    }
    (changes, what)
}

/// The tier policy whose rule decided a side, and how: `(policy, "Deny by egress[1]")`.
fn decider(t: &TierTrace) -> Option<(String, String)> {
    t.admin.iter().chain(&t.baseline).find_map(|p| {
        let r = p.rules.last().filter(|r| r.matched)?;
        Some((p.policy.clone(), format!("{} by {}", r.action, r.rule)))
    })
}

/// Causes for a flipped side that the tiers explain: the changed cluster
/// policy whose rule decides it now, or decided it before.
pub(crate) fn causes(
    direction: Direction,
    before: &SideTrace,
    after: &SideTrace,
    kinds: &BTreeMap<String, PolicyChangeKind>,
    what: &BTreeMap<String, String>,
) -> Vec<Cause> {
    let mut out = Vec::new();
    let dir = direction.as_str();
    let now = after.tiers.as_deref().and_then(decider);
    let then = before.tiers.as_deref().and_then(decider);
    if let (Some((p, how)), Some((q, was))) = (&now, &then) {
        if p == q && kinds.get(p) == Some(&PolicyChangeKind::Changed) {
            let change = what.get(p).cloned().unwrap_or_default();
            return vec![Cause {
                kind: CauseKind::PolicyChanged,
                subject: p.clone(),
                direction,
                effect: format!("{change}: {how}, was {was} ({dir})"),
            }];
        }
    }
    for (decision, verb) in [(&now, "now decides"), (&then, "decided")] {
        let Some((policy, how)) = decision else {
            continue;
        };
        let Some(kind) = kinds.get(policy) else {
            continue;
        };
        let (cause, effect) = match kind {
            PolicyChangeKind::Added => (CauseKind::PolicyAdded, format!("added: {how} ({dir})")),
            PolicyChangeKind::Removed => (
                CauseKind::PolicyRemoved,
                format!("removed: it decided this, {how} ({dir})"),
            ),
            _ => {
                let change = what.get(policy).cloned().unwrap_or_default();
                let when = if verb == "decided" {
                    format!("decided it before ({how}) and no longer does ({dir})")
                } else {
                    format!("now decides it: {how} ({dir})")
                };
                (CauseKind::PolicyChanged, format!("{change}: {when}"))
            }
        };
        out.push(Cause {
            kind: cause,
            subject: policy.clone(),
            direction,
            effect,
        });
    }
    out
}
