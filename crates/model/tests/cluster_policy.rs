//! ClusterNetworkPolicy (v1alpha2), the legacy Admin/BaselineAdminNetworkPolicy
//! (v1alpha1) and Node: what they load into, and the CRD's validation, each
//! problem with file, document, line and field.

use netpol_model::{
    Action, Cluster, Diagnostic, LoadOptions, Protocol, Source, Tier, TierPeer, TierPort,
    TierSubject, load_sources,
};

fn load(text: &str) -> Result<Cluster, Vec<Diagnostic>> {
    load_sources(
        &[Source {
            name: "cnp.yaml".into(),
            text: text.into(),
        }],
        &LoadOptions::default(),
    )
    .map_err(|e| e.0)
}

fn errors(text: &str) -> Vec<Diagnostic> {
    match load(text) {
        Ok(c) => panic!("expected errors, loaded {:?}", c.cluster_policies),
        Err(e) => e,
    }
}

/// A ClusterNetworkPolicy in document 1 whose spec ends with `rest` (indented by 2).
fn cnp(rest: &str) -> String {
    format!(
        "apiVersion: policy.networking.k8s.io/v1alpha2\nkind: ClusterNetworkPolicy\nmetadata:\n  name: guard\nspec:\n  tier: Admin\n  priority: 10\n  subject:\n    namespaces: {{}}\n{rest}"
    )
}

/// The one error of `text`, which must be at `field` on the line containing `marker`.
fn one_error(text: &str, field: &str, marker: &str, message: &str) {
    let errs = errors(text);
    assert_eq!(errs.len(), 1, "{errs:#?}");
    let e = &errs[0];
    let line = text
        .lines()
        .position(|l| l.contains(marker))
        .map(|i| i + 1)
        .unwrap_or_else(|| panic!("{marker:?} not in {text}"));
    assert_eq!(e.file, "cnp.yaml");
    assert_eq!(e.document, 1);
    assert_eq!(e.field.as_deref(), Some(field), "{e:#?}");
    assert_eq!(e.line, line, "{e:#?}");
    assert!(e.message.contains(message), "{e:#?}");
    assert_eq!(e.object.as_deref(), Some("ClusterNetworkPolicy guard"));
}

#[test]
fn a_full_policy_loads_every_peer_and_port_form() {
    let text = cnp(
        "  ingress:\n  - name: from-monitoring\n    action: Accept\n    from:\n    - namespaces:\n        matchLabels:\n          team: monitoring\n    - pods:\n        namespaceSelector: {}\n        podSelector:\n          matchLabels:\n            app: x\n    protocols:\n    - tcp:\n        destinationPort:\n          number: 80\n    - udp:\n        destinationPort:\n          range:\n            start: 5000\n            end: 5010\n    - destinationNamedPort: web\n  egress:\n  - action: Deny\n    to:\n    - networks: [\"10.0.0.0/8\", \"fd00::/8\"]\n    - nodes:\n        matchLabels:\n          role: control\n  - action: Accept\n    to:\n    - domainNames: [\"*.example.com\"]\n",
    );
    let c = load(&text).unwrap();
    let p = &c.cluster_policies[0];
    assert_eq!(
        (p.tier, p.priority, p.id().as_str()),
        (Tier::Admin, 10, "admin/guard")
    );
    assert!(matches!(&p.subject, TierSubject::Namespaces(s) if s.is_empty()));
    let r = &p.ingress[0];
    assert_eq!(r.name.as_deref(), Some("from-monitoring"));
    assert_eq!(r.action, Action::Accept);
    assert!(
        matches!(&r.peers[0], TierPeer::Namespaces { selector, .. } if selector.match_labels["team"] == "monitoring")
    );
    assert!(
        matches!(&r.peers[1], TierPeer::Pods { pod_selector, .. } if pod_selector.match_labels["app"] == "x")
    );
    let ports: Vec<&TierPort> = r.ports.iter().map(|(p, _)| p).collect();
    assert_eq!(
        ports,
        [
            &TierPort::Number {
                protocol: Protocol::Tcp,
                port: 80
            },
            &TierPort::Range {
                protocol: Protocol::Udp,
                start: 5000,
                end: 5010
            },
            &TierPort::Named("web".into()),
        ]
    );
    assert!(matches!(&p.egress[0].peers[0], TierPeer::Networks { cidrs, .. } if cidrs.len() == 2));
    assert!(matches!(&p.egress[0].peers[1], TierPeer::Nodes { .. }));
    assert!(
        matches!(&p.egress[1].peers[0], TierPeer::DomainNames { names, .. } if names == &["*.example.com"])
    );
}

#[test]
fn nodes_load_with_their_ip_addresses() {
    let c = load("apiVersion: v1\nkind: Node\nmetadata:\n  name: worker-1\n  labels:\n    zone: a\nstatus:\n  addresses:\n  - type: InternalIP\n    address: 10.0.0.1\n  - type: Hostname\n    address: worker-1\n  - type: InternalIP\n    address: fd00::1\n").unwrap();
    let n = &c.nodes[0];
    assert_eq!(n.name, "worker-1");
    assert_eq!(n.labels["zone"], "a");
    let shown: Vec<String> = n.addresses.iter().map(|a| a.to_string()).collect();
    assert_eq!(shown, ["10.0.0.1", "fd00::1"]);
}

#[test]
fn priority_must_be_between_0_and_1000() {
    let text = cnp("").replace("priority: 10", "priority: 1001");
    one_error(
        &text,
        "spec.priority",
        "priority: 1001",
        "between 0 and 1000",
    );
}

#[test]
fn the_tier_must_be_admin_or_baseline() {
    let text = cnp("").replace("tier: Admin", "tier: Developer");
    one_error(
        &text,
        "spec.tier",
        "tier: Developer",
        "\"Admin\", \"Baseline\"",
    );
}

#[test]
fn the_subject_takes_exactly_one_form() {
    let text = cnp("").replace(
        "    namespaces: {}\n",
        "    namespaces: {}\n    pods:\n      podSelector: {}\n",
    );
    one_error(
        &text,
        "spec.subject",
        "subject:",
        "exactly one of namespaces or pods",
    );
}

#[test]
fn at_most_25_rules_and_25_peers_per_rule() {
    let rule = "  - action: Deny\n    from:\n    - namespaces: {}\n";
    let text = cnp(&format!("  ingress:\n{}", rule.repeat(26)));
    one_error(
        &text,
        "spec.ingress",
        "ingress:",
        "at most 25 items (has 26)",
    );
    let peers = "    - namespaces: {}\n".repeat(26);
    let text = cnp(&format!("  egress:\n  - action: Deny\n    to:\n{peers}"));
    one_error(
        &text,
        "spec.egress[0].to",
        "    to:",
        "at most 25 items (has 26)",
    );
}

#[test]
fn a_rule_needs_peers_and_an_action() {
    let text = cnp("  ingress:\n  - action: Deny\n    from: []\n");
    one_error(&text, "spec.ingress[0].from", "from: []", "at least 1 item");
    let text = cnp("  ingress:\n  - action: Allow\n    from:\n    - namespaces: {}\n");
    one_error(
        &text,
        "spec.ingress[0].action",
        "action: Allow",
        "\"Accept\", \"Deny\", \"Pass\"",
    );
}

#[test]
fn named_ports_cannot_go_with_networks_or_nodes() {
    let text = cnp(
        "  egress:\n  - action: Accept\n    to:\n    - networks: [\"10.0.0.0/8\"]\n    protocols:\n    - destinationNamedPort: web\n",
    );
    one_error(
        &text,
        "spec.egress[0]",
        "- action: Accept",
        "cannot be set with namedPorts",
    );
}

#[test]
fn a_protocol_entry_takes_one_form_and_valid_ports() {
    let text = cnp(
        "  ingress:\n  - action: Deny\n    from:\n    - namespaces: {}\n    protocols:\n    - tcp:\n        destinationPort:\n          number: 80\n      destinationNamedPort: web\n",
    );
    one_error(
        &text,
        "spec.ingress[0].protocols[0]",
        "- tcp:",
        "exactly one of tcp, udp, sctp",
    );
    let text = cnp(
        "  ingress:\n  - action: Deny\n    from:\n    - namespaces: {}\n    protocols:\n    - udp:\n        destinationPort:\n          range:\n            start: 90\n            end: 80\n",
    );
    one_error(
        &text,
        "spec.ingress[0].protocols[0].udp.destinationPort.range",
        "range:",
        "Start port must be less than End port",
    );
    let text = cnp(
        "  ingress:\n  - action: Deny\n    from:\n    - namespaces: {}\n    protocols:\n    - sctp:\n        destinationPort:\n          number: 70000\n",
    );
    one_error(
        &text,
        "spec.ingress[0].protocols[0].sctp.destinationPort.number",
        "number: 70000",
        "between 1 and 65535",
    );
}

#[test]
fn ingress_peers_have_no_networks_and_unknown_fields_are_errors() {
    let text = cnp("  ingress:\n  - action: Deny\n    from:\n    - networks: [\"10.0.0.0/8\"]\n");
    // The unknown field, and the peer left with no field at all.
    let errs = errors(&text);
    let found: Vec<(Option<&str>, bool)> = errs
        .iter()
        .map(|e| {
            (
                e.field.as_deref(),
                e.message.contains("unknown field \"networks\""),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            (Some("spec.ingress[0].from[0].networks"), true),
            (Some("spec.ingress[0].from[0]"), false)
        ],
        "{errs:#?}"
    );
    let text = cnp("  egress:\n  - action: Deny\n    to:\n    - networks: [\"10.0.0.0/33\"]\n");
    one_error(
        &text,
        "spec.egress[0].to[0].networks[0]",
        "- networks:",
        "Invalid CIDR",
    );
}

#[test]
fn domain_names_only_in_accept_rules() {
    let text = cnp("  egress:\n  - action: Deny\n    to:\n    - domainNames: [\"example.com\"]\n");
    one_error(
        &text,
        "spec.egress[0]",
        "- action: Deny",
        "only supported for Accept rules",
    );
}

#[test]
fn only_v1alpha2_is_read() {
    let text = cnp("").replace("v1alpha2", "v1beta1");
    one_error(
        &text,
        "apiVersion",
        "apiVersion:",
        "netpol reads policy.networking.k8s.io/v1alpha2",
    );
}

#[test]
fn legacy_admin_and_baseline_policies_map_onto_the_tiers_with_a_note() {
    let text = "apiVersion: policy.networking.k8s.io/v1alpha1\nkind: AdminNetworkPolicy\nmetadata:\n  name: old\nspec:\n  priority: 3\n  subject:\n    pods:\n      namespaceSelector: {}\n      podSelector:\n        matchLabels:\n          app: db\n  ingress:\n  - name: allow\n    action: Allow\n    from:\n    - namespaces: {}\n    ports:\n    - portNumber:\n        protocol: UDP\n        port: 53\n    - namedPort: web\n    - portRange:\n        start: 8000\n        end: 8080\n  - action: Pass\n    from:\n    - namespaces: {}\n---\napiVersion: policy.networking.k8s.io/v1alpha1\nkind: BaselineAdminNetworkPolicy\nmetadata:\n  name: default\nspec:\n  subject:\n    namespaces: {}\n  egress:\n  - action: Deny\n    to:\n    - networks: [\"0.0.0.0/0\"]\n";
    let c = load(text).unwrap();
    let [admin, baseline] = &c.cluster_policies[..] else {
        panic!("{:?}", c.cluster_policies)
    };
    assert_eq!(
        (admin.tier, admin.priority, admin.kind.as_str()),
        (Tier::Admin, 3, "AdminNetworkPolicy")
    );
    assert_eq!(admin.ingress[0].action, Action::Accept);
    assert_eq!(admin.ingress[1].action, Action::Pass);
    let ports: Vec<&TierPort> = admin.ingress[0].ports.iter().map(|(p, _)| p).collect();
    assert_eq!(
        ports,
        [
            &TierPort::Number {
                protocol: Protocol::Udp,
                port: 53
            },
            &TierPort::Named("web".into()),
            &TierPort::Range {
                protocol: Protocol::Tcp,
                start: 8000,
                end: 8080
            },
        ]
    );
    assert_eq!(
        (baseline.tier, baseline.id().as_str()),
        (Tier::Baseline, "baseline/default")
    );
    assert_eq!(
        c.notes.iter().filter(|n| n.contains("deprecated")).count(),
        2,
        "{:?}",
        c.notes
    );
}

#[test]
fn a_legacy_baseline_policy_has_no_pass_and_is_named_default() {
    let text = "apiVersion: policy.networking.k8s.io/v1alpha1\nkind: BaselineAdminNetworkPolicy\nmetadata:\n  name: other\nspec:\n  subject:\n    namespaces: {}\n  ingress:\n  - action: Pass\n    from:\n    - namespaces: {}\n";
    let errs = errors(text);
    let fields: Vec<Option<&str>> = errs.iter().map(|e| e.field.as_deref()).collect();
    assert_eq!(
        fields,
        [Some("metadata.name"), Some("spec.ingress[0].action")],
        "{errs:#?}"
    );
    assert_eq!(
        errs[0].object.as_deref(),
        Some("BaselineAdminNetworkPolicy other")
    );
}

#[test]
fn kinds_of_the_same_name_in_other_groups_are_skipped() {
    let c = load("apiVersion: longhorn.io/v1beta2\nkind: Node\nmetadata:\n  name: n1\n  namespace: longhorn-system\n---\napiVersion: crd.antrea.io/v1beta1\nkind: ClusterNetworkPolicy\nmetadata:\n  name: acnp\nspec:\n  priority: 5\n").unwrap();
    assert!(c.nodes.is_empty() && c.cluster_policies.is_empty());
    assert_eq!(c.skipped.get("Node"), Some(&1));
    assert_eq!(c.skipped.get("ClusterNetworkPolicy"), Some(&1));
    // The right group with another version is an error.
    let text = "apiVersion: v2\nkind: Node\nmetadata:\n  name: n1\n";
    let errs = errors(text);
    assert_eq!(errs[0].field.as_deref(), Some("apiVersion"), "{errs:#?}");
}

/// Files are loaded in parallel, each into a part of its own, then joined:
/// cluster policies, Nodes and the notes about legacy kinds must survive the
/// join, in input order, whichever file holds them.
#[test]
fn cluster_policies_nodes_and_notes_from_several_files_are_kept() {
    let source = |name: &str, text: String| Source {
        name: name.into(),
        text,
    };
    let legacy = "apiVersion: policy.networking.k8s.io/v1alpha1\nkind: BaselineAdminNetworkPolicy\nmetadata:\n  name: default\nspec:\n  subject:\n    namespaces: {}\n  egress:\n  - action: Deny\n    to:\n    - networks: [\"0.0.0.0/0\"]\n";
    let node = "apiVersion: v1\nkind: Node\nmetadata:\n  name: worker-1\nstatus:\n  addresses:\n  - type: InternalIP\n    address: 10.0.0.1\n";
    let c = load_sources(
        &[
            source("a.yaml", cnp("")),
            source("b.yaml", legacy.into()),
            source("c.yaml", node.into()),
        ],
        &LoadOptions::default(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let ids: Vec<String> = c.cluster_policies.iter().map(|p| p.id()).collect();
    assert_eq!(ids, ["admin/guard", "baseline/default"]);
    let files: Vec<&str> = c.cluster_policies.iter().map(|p| &*p.origin.file).collect();
    assert_eq!(files, ["a.yaml", "b.yaml"]);
    assert_eq!(c.nodes.len(), 1);
    assert_eq!(c.nodes[0].name, "worker-1");
    assert_eq!(
        c.notes.iter().filter(|n| n.contains("deprecated")).count(),
        1,
        "{:?}",
        c.notes
    );
}
