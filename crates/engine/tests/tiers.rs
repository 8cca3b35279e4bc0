//! The tiers on cases checked by hand: upstream conformance scenarios (what
//! their tests assert) and small clusters for what they do not cover.

use netpol_engine::tier::Layer;
use netpol_engine::{Engine, Party, SideStatus, Verdict};
use netpol_model::{Cluster, LoadOptions, Protocol, Source, load_paths, load_sources};

const GRYFFINDOR: &str = "network-policy-conformance-gryffindor/harry-potter-0";
const SLYTHERIN: &str = "network-policy-conformance-slytherin/draco-malfoy-0";
const RAVENCLAW: &str = "network-policy-conformance-ravenclaw/luna-lovegood-0";
const HUFFLEPUFF: &str = "network-policy-conformance-hufflepuff/cedric-diggory-0";

fn scenario(name: &str) -> Option<Cluster> {
    let dir = netpol_testdata::shared("conformance/cnp")?;
    Some(
        load_paths(
            &[dir.join(name).join("manifests.yaml")],
            &LoadOptions::default(),
        )
        .unwrap_or_else(|e| panic!("{name}: {e}")),
    )
}

fn verdict(c: &Cluster, src: &str, dst: &str, port: u16, protocol: Protocol) -> Verdict {
    let e = Engine::new(c);
    let party = |id: &str| Party::Endpoint(c.endpoint(id).unwrap_or_else(|| panic!("{id}")));
    let v = e.verdict(party(src), party(dst), port, protocol);
    // The matrix reads the same compiled rules.
    let col = e.allowed_sources_for(c.endpoint(dst).unwrap(), port, protocol);
    assert_eq!(col.contains(c.endpoint(src).unwrap()), v.allowed, "{v:#?}");
    v
}

fn layers(v: &Verdict) -> (Option<Layer>, Option<Layer>) {
    let layer = |s: &netpol_engine::SideTrace| s.tiers.as_ref().and_then(|t| t.decided_by);
    (layer(&v.egress), layer(&v.ingress))
}

#[test]
fn an_admin_deny_beats_a_network_policy_allow() {
    let Some(c) = scenario("admin-integration-1-deny-from-slytherin") else {
        return;
    };
    let v = verdict(&c, SLYTHERIN, GRYFFINDOR, 80, Protocol::Tcp);
    assert!(!v.allowed);
    assert_eq!(
        v.ingress.tiers.as_ref().unwrap().decided_by,
        Some(Layer::Admin)
    );
    assert!(
        v.ingress
            .reason
            .contains("Deny in admin/pass-example rule ingress[0]"),
        "{}",
        v.ingress.reason
    );
    let v = verdict(&c, GRYFFINDOR, SLYTHERIN, 8080, Protocol::Tcp);
    assert!(!v.allowed);
    assert_eq!(layers(&v).0, Some(Layer::Admin));
}

#[test]
fn pass_defers_to_network_policy_which_decides_for_the_pods_it_selects() {
    let Some(c) = scenario("admin-integration-3-pass-ingress-to-networkpolicy") else {
        return;
    };
    // Ingress passes to the NetworkPolicy that allows slytherin; the baseline
    // Deny is never reached because NetworkPolicy decided.
    let v = verdict(&c, SLYTHERIN, GRYFFINDOR, 80, Protocol::Tcp);
    assert!(v.allowed, "{v:#?}");
    assert_eq!(
        layers(&v),
        (Some(Layer::Default), Some(Layer::NetworkPolicy))
    );
    let path = &v.ingress.tiers.as_ref().unwrap().path;
    assert!(
        path[0].starts_with("Pass in admin/pass-example rule ingress[0]"),
        "{path:?}"
    );
    assert!(!v.ingress.tiers.as_ref().unwrap().reached_baseline);
}

#[test]
fn pass_to_baseline_where_no_network_policy_selects() {
    let Some(c) = scenario("admin-integration-5-pass-ingress-to-baseline") else {
        return;
    };
    let v = verdict(&c, SLYTHERIN, GRYFFINDOR, 80, Protocol::Tcp);
    assert!(!v.allowed);
    assert_eq!(layers(&v).1, Some(Layer::Baseline));
    let v = verdict(&c, GRYFFINDOR, SLYTHERIN, 80, Protocol::Tcp);
    assert!(!v.allowed);
    assert_eq!(layers(&v).0, Some(Layer::Baseline));
    // Other houses are untouched: the default allows.
    assert!(verdict(&c, RAVENCLAW, GRYFFINDOR, 80, Protocol::Tcp).allowed);
}

#[test]
fn the_lower_priority_value_goes_first() {
    let Some(c) = scenario("admin-priority-field-3-priority-40-passes-to-baseline") else {
        return;
    };
    // Priority 40 passes before priority 50 could deny; the baseline accepts.
    let v = verdict(&c, SLYTHERIN, GRYFFINDOR, 80, Protocol::Tcp);
    assert!(v.allowed, "{v:#?}");
    let t = v.ingress.tiers.as_ref().unwrap();
    assert_eq!(t.admin.len(), 1, "evaluation stops at the Pass: {t:#?}");
    assert_eq!(
        t.admin[0].policy,
        "admin/old-priority-60-new-priority-40-example"
    );
    assert_eq!(t.decided_by, Some(Layer::Baseline));
}

#[test]
fn the_first_rule_in_order_decides() {
    let Some(c) = scenario("admin-egress-tcp-1-allow-egress-rule-order") else {
        return;
    };
    // Accept before Deny and Pass for ravenclaw.
    let v = verdict(&c, GRYFFINDOR, RAVENCLAW, 80, Protocol::Tcp);
    assert!(v.allowed);
    let t = v.egress.tiers.as_ref().unwrap();
    assert_eq!(t.admin[0].rules.len(), 1);
    // Deny before Pass for slytherin on 80 only.
    assert!(!verdict(&c, GRYFFINDOR, SLYTHERIN, 80, Protocol::Tcp).allowed);
    assert!(verdict(&c, GRYFFINDOR, SLYTHERIN, 8080, Protocol::Tcp).allowed);
    // Hufflepuff: 8080 accepted, everything else denied; the trace says why
    // the earlier rules did not match.
    assert!(verdict(&c, GRYFFINDOR, HUFFLEPUFF, 8080, Protocol::Tcp).allowed);
    let v = verdict(&c, GRYFFINDOR, HUFFLEPUFF, 80, Protocol::Tcp);
    assert!(!v.allowed);
    let rules = &v.egress.tiers.as_ref().unwrap().admin[0].rules;
    assert_eq!(rules.len(), 7);
    assert!(!rules[5].matched);
    assert_eq!(rules[5].ports[0].reason, "80 is not 8080");
    assert!(
        rules[0].peers[0].reason.contains("namespaceSelector")
            || rules[0].peers[0]
                .reason
                .contains("namespace network-policy-conformance-hufflepuff"),
        "{:?}",
        rules[0].peers[0]
    );
}

#[test]
fn a_baseline_deny_applies_only_where_no_network_policy_selects() {
    let Some(c) = scenario("baseline-gress-3-deny-gress") else {
        return;
    };
    assert!(!verdict(&c, GRYFFINDOR, RAVENCLAW, 80, Protocol::Tcp).allowed);
    assert!(!verdict(&c, RAVENCLAW, GRYFFINDOR, 80, Protocol::Tcp).allowed);
    assert!(verdict(&c, GRYFFINDOR, HUFFLEPUFF, 8080, Protocol::Tcp).allowed);
    assert!(!verdict(&c, GRYFFINDOR, HUFFLEPUFF, 80, Protocol::Tcp).allowed);
    // The same cluster with a NetworkPolicy selecting gryffindor's egress:
    // NetworkPolicy decides and the baseline is not reached.
    let mut c = c;
    let np = load_sources(
        &[Source {
            name: "np.yaml".into(),
            text: "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: open\n  namespace: network-policy-conformance-gryffindor\nspec:\n  podSelector: {}\n  policyTypes: [Egress]\n  egress:\n  - {}\n".into(),
        }],
        &LoadOptions::default(),
    )
    .unwrap();
    c.policies.extend(np.policies);
    c.normalize();
    let v = verdict(&c, GRYFFINDOR, RAVENCLAW, 80, Protocol::Tcp);
    assert_eq!(layers(&v).0, Some(Layer::NetworkPolicy));
    assert!(v.egress.allowed);
    // Ravenclaw's ingress is not gryffindor's: only the egress side changed.
    assert!(v.allowed);
}

#[test]
fn nodes_peers_match_the_addresses_of_host_network_pods() {
    let Some(c) = scenario("admin-egress-node-peers-3-deny-egress") else {
        return;
    };
    let centaur = "network-policy-conformance-forbidden-forrest/centaur-1";
    // harry-potter-0 runs on worker-1, centaur-1 on worker-3 (host network).
    let v = verdict(&c, GRYFFINDOR, centaur, 34345, Protocol::Tcp);
    assert!(v.allowed, "{v:#?}");
    assert_eq!(layers(&v).0, Some(Layer::Admin));
    let v = verdict(&c, GRYFFINDOR, centaur, 34346, Protocol::Tcp);
    assert!(!v.allowed, "{v:#?}");
}

fn inline(text: &str) -> Cluster {
    load_sources(
        &[Source {
            name: "t.yaml".into(),
            text: text.into(),
        }],
        &LoadOptions::default(),
    )
    .unwrap()
}

const PODS: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n  namespace: x\n  labels:\n    app: a\nspec:\n  nodeName: n1\n  containers:\n  - name: c\n    image: i\n    ports:\n    - containerPort: 80\n      name: web\nstatus:\n  podIP: 10.1.0.1\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: b\n  namespace: y\n  labels:\n    app: b\nspec:\n  nodeName: n2\n  containers:\n  - name: c\n    image: i\n    ports:\n    - containerPort: 80\n      name: web\nstatus:\n  podIP: 10.1.0.2\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: h\n  namespace: y\nspec:\n  nodeName: n2\n  hostNetwork: true\n  containers:\n  - name: c\n    image: i\n    ports:\n    - containerPort: 9100\nstatus:\n  podIP: 192.168.0.2\n";

#[test]
fn an_egress_accept_still_needs_the_destinations_ingress() {
    let c = inline(&format!(
        "{PODS}---\napiVersion: policy.networking.k8s.io/v1alpha2\nkind: ClusterNetworkPolicy\nmetadata:\n  name: out\nspec:\n  tier: Admin\n  priority: 1\n  subject:\n    namespaces: {{}}\n  egress:\n  - action: Accept\n    to:\n    - namespaces: {{}}\n---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: closed\n  namespace: y\nspec:\n  podSelector: {{}}\n"
    ));
    let v = verdict(&c, "x/a", "y/b", 80, Protocol::Tcp);
    assert!(v.egress.allowed);
    assert_eq!(layers(&v), (Some(Layer::Admin), Some(Layer::NetworkPolicy)));
    assert!(!v.allowed);
}

#[test]
fn host_network_pods_are_never_subjects_and_named_ports_need_pods() {
    let c = inline(&format!(
        "{PODS}---\napiVersion: policy.networking.k8s.io/v1alpha2\nkind: ClusterNetworkPolicy\nmetadata:\n  name: in\nspec:\n  tier: Admin\n  priority: 1\n  subject:\n    namespaces: {{}}\n  ingress:\n  - action: Accept\n    from:\n    - namespaces: {{}}\n    protocols:\n    - destinationNamedPort: web\n  - action: Deny\n    from:\n    - namespaces: {{}}\n"
    ));
    let v = verdict(&c, "x/a", "y/b", 80, Protocol::Tcp);
    assert!(v.allowed);
    let v = verdict(&c, "x/a", "y/b", 81, Protocol::Tcp);
    assert!(!v.allowed);
    assert_eq!(
        v.ingress.tiers.as_ref().unwrap().admin[0].rules[0].ports[0].reason,
        "named port web is 80/TCP on y/b, not 81/TCP"
    );
    // The host-network pod is no subject: its ingress is open.
    let v = verdict(&c, "x/a", "y/h", 9100, Protocol::Tcp);
    assert!(v.allowed);
    assert_eq!(v.ingress.status, SideStatus::NotApplicable);
    assert!(v.ingress.tiers.is_none());
}

#[test]
fn domain_names_are_undecidable_unless_the_answer_is_the_same_either_way() {
    let c = inline(&format!(
        "{PODS}---\napiVersion: policy.networking.k8s.io/v1alpha2\nkind: ClusterNetworkPolicy\nmetadata:\n  name: dns\nspec:\n  tier: Admin\n  priority: 1\n  subject:\n    namespaces:\n      matchLabels:\n        kubernetes.io/metadata.name: x\n  egress:\n  - name: github\n    action: Accept\n    to:\n    - domainNames: [\"*.github.com\"]\n  - action: Accept\n    to:\n    - networks: [\"10.0.0.0/8\"]\n  - action: Deny\n    to:\n    - networks: [\"0.0.0.0/0\"]\n"
    ));
    let e = Engine::new(&c);
    let a = Party::Endpoint(c.endpoint("x/a").unwrap());
    let outside = Party::External("140.82.112.3".parse().unwrap());
    let v = e.verdict(a, outside, 443, Protocol::Tcp);
    assert!(!v.allowed);
    assert_eq!(v.egress.status, SideStatus::Undecidable);
    // Without the trace: not allowed, as the verdict says.
    assert!(!e.decide(a, outside, 443, Protocol::Tcp).allowed);
    let u = v.undecidable.as_deref().unwrap();
    assert!(
        u.contains("admin/dns rule egress[0]") && u.contains("domainNames"),
        "{u}"
    );
    // Allowed whether or not the name resolves there: decided.
    let v = e.verdict(
        a,
        Party::External("10.9.9.9".parse().unwrap()),
        443,
        Protocol::Tcp,
    );
    assert!(v.allowed && v.undecidable.is_none());
    let inside = Party::External("10.9.9.9".parse().unwrap());
    assert!(e.decide(a, inside, 443, Protocol::Tcp).allowed);
    // A pod is not taken to be a domain name's address.
    assert!(verdict(&c, "x/a", "y/b", 80, Protocol::Tcp).allowed);
}

#[test]
fn without_cluster_policies_nothing_changes() {
    let c = inline(PODS);
    let e = Engine::new(&c);
    assert!(e.tiers.is_none());
    let v = verdict(&c, "x/a", "y/b", 80, Protocol::Tcp);
    assert!(v.egress.tiers.is_none() && v.ingress.tiers.is_none());
    let json = serde_json::to_string(&v).unwrap();
    assert!(
        !json.contains("tiers") && !json.contains("undecidable"),
        "{json}"
    );
}

/// Host-network pods alike in everything but their node: `nodes` peers tell
/// them apart by the selected Nodes' addresses (or, without an address of
/// their own, by their node), so classes must too; pods on Nodes with the
/// same labels may share a class.
#[test]
fn classes_tell_host_network_pods_apart_as_nodes_peers_do() {
    use netpol_engine::{Cell, ClassMatrix, Classes};
    let node = |name: &str, zone: &str, ip: &str| {
        format!(
            "apiVersion: v1\nkind: Node\nmetadata:\n  name: {name}\n  labels:\n    zone: {zone}\nstatus:\n  addresses:\n  - type: InternalIP\n    address: {ip}\n---\n"
        )
    };
    let agent = |name: &str, node: &str, ip: Option<&str>| {
        let status = ip
            .map(|ip| format!("status:\n  podIP: {ip}\n"))
            .unwrap_or_default();
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  namespace: mon\n  labels:\n    app: agent\nspec:\n  nodeName: {node}\n  hostNetwork: true\n  containers:\n  - name: c\n    image: i\n    ports:\n    - containerPort: 9100\n{status}---\n"
        )
    };
    let text = [
        node("n1", "a", "192.168.0.1"),
        node("n2", "b", "192.168.0.2"),
        node("n3", "b", "192.168.0.3"),
        agent("agent-1", "n1", Some("192.168.0.1")),
        agent("agent-2", "n2", Some("192.168.0.2")),
        agent("agent-3", "n3", Some("192.168.0.3")),
        agent("agent-4", "n2", None),
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: client\n  namespace: x\nspec:\n  nodeName: n1\n  containers:\n  - name: c\n    image: i\nstatus:\n  podIP: 10.1.0.1\n---\n".into(),
        "apiVersion: policy.networking.k8s.io/v1alpha2\nkind: ClusterNetworkPolicy\nmetadata:\n  name: no-zone-b\nspec:\n  tier: Admin\n  priority: 1\n  subject:\n    namespaces:\n      matchLabels:\n        kubernetes.io/metadata.name: x\n  egress:\n  - action: Deny\n    to:\n    - nodes:\n        matchLabels:\n          zone: b\n".into(),
    ]
    .concat();
    let c = inline(&text);
    let id = |name: &str| c.endpoint(name).unwrap_or_else(|| panic!("{name}"));
    let classes = Classes::new(&c);
    let class = |name: &str| classes.class_of[id(name)];
    assert_ne!(class("mon/agent-1"), class("mon/agent-2"));
    assert_eq!(class("mon/agent-2"), class("mon/agent-3"));
    assert_ne!(class("mon/agent-2"), class("mon/agent-4"));
    let by_class = ClassMatrix::new(&c, &classes);
    let per_pod = Engine::new(&c).matrix();
    let cells: Vec<Cell> = by_class.cells().collect();
    assert_eq!(cells, per_pod.cells().collect::<Vec<_>>());
    let allowed = |dst: &str| {
        cells
            .iter()
            .find(|x| x.src == id("x/client") && x.dst == id(dst))
            .unwrap()
            .allowed
    };
    assert!(allowed("mon/agent-1"));
    assert!(!allowed("mon/agent-2") && !allowed("mon/agent-3") && !allowed("mon/agent-4"));
}
