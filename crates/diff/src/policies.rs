//! Which policies were added, removed, renamed or edited. Formatting (line
//! numbers, rule order within a policy) is not an edit.

use std::collections::BTreeMap;

use netpol_model::{Cluster, Peer, Policy, PortRule, Rule};

use crate::model::{PolicyChange, PolicyChangeKind};

/// The meaning-bearing parts of a policy, comparable regardless of layout.
#[derive(PartialEq, Eq)]
struct Spec {
    pod_selector: netpol_model::LabelSelector,
    affects: (bool, bool),
    ingress: Vec<String>,
    egress: Vec<String>,
}

fn spec(p: &Policy) -> Spec {
    // Rules are ORed, so their order does not matter; lines never do.
    let rules = |rules: &[Rule]| {
        let mut v: Vec<String> = rules.iter().map(rule_key).collect();
        v.sort();
        v
    };
    Spec {
        pod_selector: p.pod_selector.clone(),
        affects: (p.affects_ingress, p.affects_egress),
        // Rules of a direction the policy does not affect are ignored.
        ingress: if p.affects_ingress {
            rules(&p.ingress)
        } else {
            Vec::new()
        },
        egress: if p.affects_egress {
            rules(&p.egress)
        } else {
            Vec::new()
        },
    }
}

fn rule_key(r: &Rule) -> String {
    let mut peers: Vec<String> = r.peers.iter().map(peer_key).collect();
    peers.sort();
    let mut ports: Vec<String> = r.ports.iter().map(port_key).collect();
    ports.sort();
    format!("peers[{}] ports[{}]", peers.join(";"), ports.join(";"))
}

fn peer_key(p: &Peer) -> String {
    match p {
        Peer::Pods {
            pod_selector,
            namespace_selector,
            ..
        } => format!("pods {pod_selector:?} ns {namespace_selector:?}"),
        Peer::IpBlock { cidr, except, .. } => {
            let mut except = except.clone();
            except.sort();
            format!("ip {cidr} except {except:?}")
        }
    }
}

fn port_key(p: &PortRule) -> String {
    format!("{:?} {:?} {:?}", p.protocol, p.port, p.end_port)
}

fn location(p: &Policy) -> String {
    format!("{}:{}", p.origin.file, p.origin.line)
}

/// Changes sorted by policy id (renames by their new id).
pub(crate) fn compare(old: &Cluster, new: &Cluster) -> Vec<PolicyChange> {
    let old_by_id: BTreeMap<String, &Policy> = old.policies.iter().map(|p| (p.id(), p)).collect();
    let new_by_id: BTreeMap<String, &Policy> = new.policies.iter().map(|p| (p.id(), p)).collect();
    let mut changes = Vec::new();
    let mut removed: Vec<&Policy> = old_by_id
        .iter()
        .filter(|(id, _)| !new_by_id.contains_key(*id))
        .map(|(_, p)| *p)
        .collect();
    for (id, p) in &new_by_id {
        match old_by_id.get(id) {
            Some(o) if spec(o) == spec(p) => {}
            Some(_) => changes.push(PolicyChange {
                policy: id.clone(),
                change: PolicyChangeKind::Changed,
                renamed_from: None,
                location: location(p),
            }),
            None => {
                let twin = removed
                    .iter()
                    .position(|o| o.namespace == p.namespace && spec(o) == spec(p));
                let (change, renamed_from) = match twin {
                    Some(i) => (PolicyChangeKind::Renamed, Some(removed.remove(i).id())),
                    None => (PolicyChangeKind::Added, None),
                };
                changes.push(PolicyChange {
                    policy: id.clone(),
                    change,
                    renamed_from,
                    location: location(p),
                });
            }
        }
    }
    changes.extend(removed.into_iter().map(|p| PolicyChange {
        policy: p.id(),
        change: PolicyChangeKind::Removed,
        renamed_from: None,
        location: location(p),
    }));
    changes.sort_by(|a, b| a.policy.cmp(&b.policy).then(a.change.cmp(&b.change)));
    changes
}
