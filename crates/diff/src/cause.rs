//! Why a connection's verdict flipped, read from the two verdict traces: the
//! side (egress of the source, ingress of the destination) that flipped, and
//! the policies on it that were added, removed or edited. When no policy
//! changed, an endpoint or namespace did, and that is named instead.

use std::collections::{BTreeMap, HashMap};

use netpol_engine::{Decision, SideTrace, Verdict as Trace};
use netpol_model::{Cluster, Direction, Endpoint, Labels};

use crate::ChangedCell;
use crate::model::{Cause, CauseKind, PolicyChange, PolicyChangeKind};

pub(crate) struct Explainer<'a> {
    old: &'a Cluster,
    new: &'a Cluster,
    /// By old id: removed, changed, or renamed away.
    old_kind: HashMap<String, PolicyChangeKind>,
    /// By new id: added, changed, or renamed to.
    new_kind: HashMap<String, PolicyChangeKind>,
    /// Cluster policies (`admin/name`): how each changed one changed.
    tier_kind: BTreeMap<String, PolicyChangeKind>,
    tier_what: BTreeMap<String, String>,
}

impl<'a> Explainer<'a> {
    pub fn new(
        old: &'a Cluster,
        new: &'a Cluster,
        changes: &[PolicyChange],
        tier_what: BTreeMap<String, String>,
    ) -> Explainer<'a> {
        let tier_kind = changes
            .iter()
            .filter(|c| c.policy.starts_with("admin/") || c.policy.starts_with("baseline/"))
            .map(|c| (c.policy.clone(), c.change))
            .collect();
        let mut old_kind = HashMap::new();
        let mut new_kind = HashMap::new();
        for c in changes {
            match c.change {
                PolicyChangeKind::Added => {
                    new_kind.insert(c.policy.clone(), c.change);
                }
                PolicyChangeKind::Removed => {
                    old_kind.insert(c.policy.clone(), c.change);
                }
                PolicyChangeKind::Changed => {
                    old_kind.insert(c.policy.clone(), c.change);
                    new_kind.insert(c.policy.clone(), c.change);
                }
                // A rename keeps the spec, so it never explains a flip by itself.
                PolicyChangeKind::Renamed => {}
            }
        }
        Explainer {
            old,
            new,
            old_kind,
            new_kind,
            tier_kind,
            tier_what,
        }
    }

    pub fn causes(&self, cell: &ChangedCell, before: &Trace, after: &Trace) -> Vec<Cause> {
        let mut causes = Vec::new();
        if before.decided_by != after.decided_by || after.decided_by != Decision::Policies {
            causes.extend(self.endpoint_causes(cell, Direction::Ingress));
        }
        for (direction, b, a) in [
            (Direction::Egress, &before.egress, &after.egress),
            (Direction::Ingress, &before.ingress, &after.ingress),
        ] {
            if b.allowed != a.allowed {
                self.side(cell, direction, b, a, &mut causes);
            }
        }
        causes.sort();
        causes.dedup();
        causes
    }

    fn side(
        &self,
        cell: &ChangedCell,
        direction: Direction,
        b: &SideTrace,
        a: &SideTrace,
        out: &mut Vec<Cause>,
    ) {
        if b.tiers.is_some() || a.tiers.is_some() {
            let found = crate::tiers::causes(direction, b, a, &self.tier_kind, &self.tier_what);
            if !found.is_empty() {
                out.extend(found);
                return;
            }
        }
        // The cell's own endpoint, not the trace's: one trace serves every
        // pod pair of a class pair.
        let subject = match direction {
            Direction::Egress => self.new.endpoints[cell.new_src].id(),
            Direction::Ingress => self.new.endpoints[cell.new_dst].id(),
        };
        let dir = direction.as_str();
        let mut unexplained = false;
        let mut push = |kind: CauseKind, policy: &str, effect: String| {
            out.push(Cause {
                kind,
                subject: policy.to_string(),
                direction,
                effect,
            });
        };
        if a.allowed {
            if a.policies.is_empty() {
                // Nothing isolates the subject any more.
                for p in &b.policies {
                    match self.old_kind.get(&p.policy) {
                        Some(PolicyChangeKind::Removed) => push(
                            CauseKind::PolicyRemoved,
                            &p.policy,
                            format!("removed: it isolated the {dir} of {subject}"),
                        ),
                        Some(_) => push(
                            CauseKind::PolicyChanged,
                            &p.policy,
                            format!("no longer isolates the {dir} of {subject}"),
                        ),
                        None => unexplained = true,
                    }
                }
            } else {
                for p in a.policies.iter().filter(|p| p.allowed) {
                    match self.new_kind.get(&p.policy) {
                        Some(PolicyChangeKind::Added) => push(
                            CauseKind::PolicyAdded,
                            &p.policy,
                            format!("added: allows it ({dir})"),
                        ),
                        Some(_) => push(
                            CauseKind::PolicyChanged,
                            &p.policy,
                            format!("now allows it ({dir})"),
                        ),
                        None => unexplained = true,
                    }
                }
            }
        } else if b.allowed && !b.policies.is_empty() {
            // Every policy that allowed it stopped doing so.
            for p in b.policies.iter().filter(|p| p.allowed) {
                match self.old_kind.get(&p.policy) {
                    Some(PolicyChangeKind::Removed) => push(
                        CauseKind::PolicyRemoved,
                        &p.policy,
                        format!("removed: it allowed this ({dir})"),
                    ),
                    Some(_) => push(
                        CauseKind::PolicyChanged,
                        &p.policy,
                        format!("no longer allows it ({dir})"),
                    ),
                    None => unexplained = true,
                }
            }
        } else {
            // The subject became isolated and nothing allows this connection.
            for p in &a.policies {
                match self.new_kind.get(&p.policy) {
                    Some(PolicyChangeKind::Added) => push(
                        CauseKind::PolicyAdded,
                        &p.policy,
                        format!("added: isolates the {dir} of {subject} and does not allow this"),
                    ),
                    Some(_) => push(
                        CauseKind::PolicyChanged,
                        &p.policy,
                        format!("now isolates the {dir} of {subject} and does not allow this"),
                    ),
                    None => unexplained = true,
                }
            }
        }
        if unexplained {
            out.extend(self.endpoint_causes(cell, direction));
        }
    }

    /// What changed about the two endpoints and their namespaces, when the
    /// policies on a side did not.
    fn endpoint_causes(&self, cell: &ChangedCell, direction: Direction) -> Vec<Cause> {
        let mut causes = Vec::new();
        for (o, n) in [(cell.old_src, cell.new_src), (cell.old_dst, cell.new_dst)] {
            let (o, n) = (&self.old.endpoints[o], &self.new.endpoints[n]);
            if let Some(effect) = endpoint_difference(o, n) {
                causes.push(Cause {
                    kind: CauseKind::EndpointChanged,
                    subject: n.id(),
                    direction,
                    effect,
                });
            }
            let empty = Labels::new();
            let ol = self.old.namespace_labels(&o.namespace).unwrap_or(&empty);
            let nl = self.new.namespace_labels(&n.namespace).unwrap_or(&empty);
            if ol != nl {
                causes.push(Cause {
                    kind: CauseKind::EndpointChanged,
                    subject: format!("namespace {}", n.namespace),
                    direction,
                    effect: format!("namespace labels changed: {}", labels_change(ol, nl)),
                });
            }
        }
        causes
    }
}

fn endpoint_difference(o: &Endpoint, n: &Endpoint) -> Option<String> {
    let mut parts = Vec::new();
    if o.labels != n.labels {
        parts.push(format!(
            "labels changed: {}",
            labels_change(&o.labels, &n.labels)
        ));
    }
    if o.ports != n.ports {
        parts.push("container ports changed".to_string());
    }
    if o.host_network != n.host_network {
        parts.push(format!("hostNetwork is now {}", n.host_network));
    }
    if o.node != n.node {
        parts.push(format!(
            "node is now {}",
            n.node.as_deref().unwrap_or("unknown")
        ));
    }
    if o.ips != n.ips {
        parts.push("pod IPs changed".to_string());
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

/// `-app=a +app=b`.
fn labels_change(old: &Labels, new: &Labels) -> String {
    let mut parts = Vec::new();
    for (k, v) in old {
        if new.get(k) != Some(v) {
            parts.push(format!("-{k}={v}"));
        }
    }
    for (k, v) in new {
        if old.get(k) != Some(v) {
            parts.push(format!("+{k}={v}"));
        }
    }
    parts.join(" ")
}
