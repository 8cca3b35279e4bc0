//! The cause attached to each flipped connection, and how policy edits are
//! classified, on small hand-written changes.

use netpol_diff::{CauseKind, Diff, PolicyChangeKind, Verdict, diff};
use netpol_model::{Cluster, Direction, LoadOptions, Source, load_sources};

const PODS: &str = r#"
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: app, labels: {role: client}}
spec:
  containers: [{name: c, ports: [{containerPort: 8080, name: http}]}]
---
apiVersion: v1
kind: Pod
metadata: {name: server, namespace: app, labels: {role: server}}
spec:
  containers: [{name: c, ports: [{containerPort: 8080, name: http}]}]
"#;

const ALLOW_CLIENT: &str = r#"
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: server, namespace: app}
spec:
  podSelector: {matchLabels: {role: server}}
  ingress:
    - from: [{podSelector: {matchLabels: {role: client}}}]
      ports: [{port: 8080}]
"#;

fn load(parts: &[&str]) -> Cluster {
    let text = parts.join("\n---\n");
    load_sources(
        &[Source {
            name: "t.yaml".into(),
            text,
        }],
        &LoadOptions::default(),
    )
    .unwrap()
}

fn only_change(d: &Diff) -> &netpol_diff::ConnectionChange {
    assert_eq!(d.connections.len(), 1, "{:#?}", d.connections);
    &d.connections[0]
}

#[test]
fn an_added_policy_that_isolates_is_the_cause_of_the_denials() {
    let d = diff(&load(&[PODS]), &load(&[PODS, ALLOW_CLIENT]));
    // server is now isolated, but the one connection to it (from client) is allowed.
    assert!(d.connections.is_empty(), "{:#?}", d.connections);
    let deny_egress = r#"
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: no-egress, namespace: app}
spec:
  podSelector: {matchLabels: {role: client}}
  policyTypes: [Egress]
"#;
    let d = diff(&load(&[PODS]), &load(&[PODS, deny_egress]));
    let c = only_change(&d);
    assert_eq!(
        (c.src.as_str(), c.dst.as_str(), c.change),
        ("app/client", "app/server", Verdict::Denied)
    );
    assert_eq!(c.causes.len(), 1);
    assert_eq!(c.causes[0].kind, CauseKind::PolicyAdded);
    assert_eq!(c.causes[0].subject, "app/no-egress");
    assert_eq!(c.causes[0].direction, Direction::Egress);
    assert!(c.egress.changed() && !c.ingress.changed());
}

#[test]
fn a_removed_allow_rule_is_the_cause() {
    let deny = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny, namespace: app}\nspec: {podSelector: {}}";
    let d = diff(&load(&[PODS, deny, ALLOW_CLIENT]), &load(&[PODS, deny]));
    let c = only_change(&d);
    assert_eq!(
        (c.src.as_str(), c.dst.as_str(), c.change),
        ("app/client", "app/server", Verdict::Denied)
    );
    assert_eq!(c.causes[0].kind, CauseKind::PolicyRemoved);
    assert_eq!(c.causes[0].subject, "app/server");
    assert_eq!(c.ingress.before.allowed_by, vec!["app/server".to_string()]);
    assert_eq!(c.ingress.after.isolated_by, vec!["app/deny".to_string()]);
}

#[test]
fn a_relabelled_pod_is_named_when_no_policy_changed() {
    let relabelled = PODS.replacen("{role: client}", "{role: other}", 1);
    let d = diff(
        &load(&[PODS, ALLOW_CLIENT]),
        &load(&[&relabelled, ALLOW_CLIENT]),
    );
    let c = only_change(&d);
    assert_eq!(c.change, Verdict::Denied);
    assert!(d.policies.is_empty());
    assert_eq!(c.causes.len(), 1, "{:#?}", c.causes);
    assert_eq!(c.causes[0].kind, CauseKind::EndpointChanged);
    assert_eq!(c.causes[0].subject, "app/client");
    assert!(
        c.causes[0].effect.contains("-role=client +role=other"),
        "{}",
        c.causes[0].effect
    );
}

#[test]
fn renames_and_reorderings_are_not_edits() {
    let renamed = ALLOW_CLIENT.replace("name: server,", "name: server-ingress,");
    let d = diff(&load(&[PODS, ALLOW_CLIENT]), &load(&[PODS, &renamed]));
    assert!(d.connections.is_empty() && !d.connectivity_changed());
    assert_eq!(d.policies.len(), 1);
    assert_eq!(d.policies[0].change, PolicyChangeKind::Renamed);
    assert_eq!(d.policies[0].renamed_from.as_deref(), Some("app/server"));

    // Same rules in another order, an explicit TCP, a defaulted policyTypes
    // written out: no edit at all.
    let two_rules = "  ingress:\n    - from: [{podSelector: {matchLabels: {role: client}}}]\n      ports: [{port: 8080}]\n    - from: [{ipBlock: {cidr: 192.0.2.0/24}}]\n";
    let a = ALLOW_CLIENT.split("  ingress:").next().unwrap().to_string() + two_rules;
    let b = ALLOW_CLIENT.split("  ingress:").next().unwrap().to_string()
        + "  policyTypes: [Ingress]\n  ingress:\n    - from: [{ipBlock: {cidr: 192.0.2.0/24}}]\n    - ports: [{port: 8080, protocol: TCP}]\n      from: [{podSelector: {matchLabels: {role: client}}}]\n";
    let d = diff(&load(&[PODS, &a]), &load(&[PODS, &b]));
    assert!(d.policies.is_empty(), "{:#?}", d.policies);
}

#[test]
fn endpoints_on_one_side_are_listed_not_compared() {
    let extra = "apiVersion: v1\nkind: Pod\nmetadata: {name: extra, namespace: app}\nspec:\n  containers: [{name: c, ports: [{containerPort: 9090}]}]";
    let d = diff(&load(&[PODS]), &load(&[PODS, extra]));
    assert_eq!(d.endpoints.added, vec!["app/extra".to_string()]);
    assert!(d.connections.is_empty());
    assert!(d.connectivity_changed());
    let more_ports = PODS.replacen(
        "ports: [{containerPort: 8080, name: http}]",
        "ports: [{containerPort: 8080, name: http}, {containerPort: 9000}]",
        1,
    );
    let d = diff(&load(&[PODS]), &load(&[&more_ports]));
    assert_eq!(d.endpoints.ports_added.len(), 1);
    assert_eq!(
        (
            d.endpoints.ports_added[0].endpoint.as_str(),
            d.endpoints.ports_added[0].port
        ),
        ("app/client", 9000)
    );
}
