//! A change of a ClusterNetworkPolicy's priority, rule order or action that
//! flips a verdict is named as the cause, with what changed.

use netpol_diff::{CauseKind, Diff, PolicyChangeKind, Verdict, diff};
use netpol_model::{Cluster, Direction, LoadOptions, Source, load_sources};

const PODS: &str = "apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: one, labels: {app: a}}\nspec:\n  containers: [{name: c, ports: [{containerPort: 80}]}]\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: b, namespace: two, labels: {app: b}}\nspec:\n  containers: [{name: c, ports: [{containerPort: 80}]}]\n";

fn cluster(policies: &str) -> Cluster {
    load_sources(
        &[Source {
            name: "c.yaml".into(),
            text: format!("{PODS}---\n{policies}"),
        }],
        &LoadOptions::default(),
    )
    .unwrap()
}

fn cnp(name: &str, priority: u32, rules: &[(&str, &str)]) -> String {
    let rules: String = rules
        .iter()
        .map(|(action, ns)| {
            format!("  - action: {action}\n    to:\n    - namespaces: {{matchLabels: {{kubernetes.io/metadata.name: {ns}}}}}\n")
        })
        .collect();
    format!(
        "apiVersion: policy.networking.k8s.io/v1alpha2\nkind: ClusterNetworkPolicy\nmetadata: {{name: {name}}}\nspec:\n  tier: Admin\n  priority: {priority}\n  subject: {{namespaces: {{matchLabels: {{kubernetes.io/metadata.name: one}}}}}}\n  egress:\n{rules}"
    )
}

/// The one changed connection, one -> two, and its one cause.
fn only_change(d: &Diff, verdict: Verdict) -> (CauseKind, String, String) {
    assert_eq!(d.connections.len(), 1, "{:#?}", d.connections);
    let c = &d.connections[0];
    assert_eq!(
        (c.src.as_str(), c.dst.as_str(), c.change),
        ("one/a", "two/b", verdict)
    );
    assert_eq!(c.causes.len(), 1, "{:#?}", c.causes);
    let cause = &c.causes[0];
    assert_eq!(cause.direction, Direction::Egress);
    (cause.kind, cause.subject.clone(), cause.effect.clone())
}

#[test]
fn reordered_rules_are_the_cause() {
    let old = cluster(&cnp("p", 5, &[("Accept", "two"), ("Deny", "two")]));
    let new = cluster(&cnp("p", 5, &[("Deny", "two"), ("Accept", "two")]));
    let d = diff(&old, &new);
    let (kind, subject, effect) = only_change(&d, Verdict::Denied);
    assert_eq!(
        (kind, subject.as_str()),
        (CauseKind::PolicyChanged, "admin/p")
    );
    assert_eq!(
        effect,
        "egress rules reordered: Deny by egress[0], was Accept by egress[0] (egress)"
    );
    assert_eq!(d.policies.len(), 1);
    assert_eq!(d.policies[0].change, PolicyChangeKind::Changed);
}

#[test]
fn a_priority_change_is_the_cause() {
    let allow = cnp("allow", 5, &[("Accept", "two")]);
    let old = cluster(&format!(
        "{allow}---\n{}",
        cnp("deny", 10, &[("Deny", "two")])
    ));
    let new = cluster(&format!(
        "{allow}---\n{}",
        cnp("deny", 1, &[("Deny", "two")])
    ));
    let (kind, subject, effect) = only_change(&diff(&old, &new), Verdict::Denied);
    assert_eq!(
        (kind, subject.as_str()),
        (CauseKind::PolicyChanged, "admin/deny")
    );
    assert_eq!(
        effect,
        "priority 10 -> 1: now decides it: Deny by egress[0] (egress)"
    );
}

#[test]
fn an_action_change_is_the_cause() {
    let old = cluster(&cnp("p", 5, &[("Deny", "two")]));
    let new = cluster(&cnp("p", 5, &[("Pass", "two")]));
    let (kind, subject, effect) = only_change(&diff(&old, &new), Verdict::Allowed);
    assert_eq!(
        (kind, subject.as_str()),
        (CauseKind::PolicyChanged, "admin/p")
    );
    assert_eq!(
        effect,
        "egress[0] action Deny -> Pass: Pass by egress[0], was Deny by egress[0] (egress)"
    );
}

#[test]
fn an_added_cluster_policy_is_the_cause() {
    let old = cluster("apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n");
    let new = cluster(&cnp("p", 5, &[("Deny", "two")]));
    let (kind, subject, effect) = only_change(&diff(&old, &new), Verdict::Denied);
    assert_eq!(
        (kind, subject.as_str()),
        (CauseKind::PolicyAdded, "admin/p")
    );
    assert_eq!(effect, "added: Deny by egress[0] (egress)");
}
