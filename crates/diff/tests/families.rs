//! Changes over one address family: between dual-stack pods an ipBlock can
//! allow one family and deny the other, and the diff says which changed.

use netpol_diff::{CauseKind, Diff, Verdict, diff, diff_over};
use netpol_engine::Classes;
use netpol_model::{Cluster, Direction, Family, LoadOptions, Source, load_sources};

const PODS: &str = r#"
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: net, labels: {app: client}}
spec:
  containers: [{name: c, image: i}]
status:
  podIPs: [{ip: 10.1.0.1}, {ip: "fd00::1"}]
---
apiVersion: v1
kind: Pod
metadata: {name: server, namespace: net, labels: {app: server}}
spec:
  containers: [{name: c, image: i, ports: [{containerPort: 80}]}]
status:
  podIPs: [{ip: 10.1.0.2}, {ip: "fd00::2"}]
"#;

/// server admits the client's addresses in `cidrs`.
fn admitting(cidrs: &[&str]) -> String {
    let peers: Vec<String> = cidrs
        .iter()
        .map(|c| format!("{{ipBlock: {{cidr: \"{c}\"}}}}"))
        .collect();
    format!(
        r#"
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {{name: server, namespace: net}}
spec:
  podSelector: {{matchLabels: {{app: server}}}}
  ingress: [{{from: [{}]}}]
"#,
        peers.join(", ")
    )
}

fn load(policy: &str) -> Cluster {
    load_pods(PODS, policy)
}

fn load_pods(pods: &str, policy: &str) -> Cluster {
    load_sources(
        &[Source {
            name: "t.yaml".into(),
            text: format!("{pods}\n---\n{policy}"),
        }],
        &LoadOptions::default(),
    )
    .unwrap()
}

/// (src, dst, change, family) of every change.
fn changes(d: &Diff) -> Vec<(&str, &str, Verdict, Option<Family>)> {
    d.connections
        .iter()
        .map(|c| (c.src.as_str(), c.dst.as_str(), c.change, c.family))
        .collect()
}

#[test]
fn from_both_families_to_ipv4_only_is_denied_over_ipv6() {
    let both = load(&admitting(&["10.1.0.0/24", "fd00::/64"]));
    let v4 = load(&admitting(&["10.1.0.0/24"]));
    let d = diff(&both, &v4);
    assert_eq!(
        changes(&d),
        [(
            "net/client",
            "net/server",
            Verdict::Denied,
            Some(Family::V6)
        )]
    );
    assert_eq!((d.summary.newly_allowed, d.summary.newly_denied), (0, 1));
    assert!(d.connectivity_changed());
    let c = &d.connections[0];
    assert!(c.ingress.changed() && !c.egress.changed());
    assert_eq!(c.causes.len(), 1, "{:#?}", c.causes);
    assert_eq!(c.causes[0].kind, CauseKind::PolicyChanged);
    assert_eq!(c.causes[0].direction, Direction::Ingress);

    // And back: allowed over IPv6 again.
    assert_eq!(
        changes(&diff(&v4, &both)),
        [(
            "net/client",
            "net/server",
            Verdict::Allowed,
            Some(Family::V6)
        )]
    );
}

#[test]
fn from_one_family_to_the_other_is_two_changes() {
    let v4 = load(&admitting(&["10.1.0.0/24"]));
    let v6 = load(&admitting(&["fd00::/64"]));
    let d = diff(&v4, &v6);
    assert_eq!(
        changes(&d),
        [
            (
                "net/client",
                "net/server",
                Verdict::Denied,
                Some(Family::V4)
            ),
            (
                "net/client",
                "net/server",
                Verdict::Allowed,
                Some(Family::V6)
            ),
        ]
    );
    assert_eq!((d.summary.newly_allowed, d.summary.newly_denied), (1, 1));
}

#[test]
fn a_change_over_every_family_names_none() {
    let v4 = load(&admitting(&["10.1.0.0/24"]));
    let none = load(&admitting(&["192.0.2.0/24"]));
    // IPv4 only -> denied: only IPv4 flips, IPv6 was denied already.
    assert_eq!(
        changes(&diff(&v4, &none)),
        [(
            "net/client",
            "net/server",
            Verdict::Denied,
            Some(Family::V4)
        )]
    );
    let both = load(&admitting(&["10.1.0.0/24", "fd00::/64"]));
    // Both -> denied: the whole connection, no family to name.
    assert_eq!(
        changes(&diff(&both, &none)),
        [("net/client", "net/server", Verdict::Denied, None)]
    );
    assert!(!diff(&both, &both).connectivity_changed());
}

/// Changes past the listing are counted from decisions, not traces: the
/// counts must be those of the listed changes, family by family.
#[test]
fn changes_counted_without_listing_count_the_same() {
    let v4_server = PODS.replace(r#"[{ip: 10.1.0.2}, {ip: "fd00::2"}]"#, "[{ip: 10.1.0.2}]");
    assert_ne!(v4_server, PODS);
    let sides = [
        load(&admitting(&["10.1.0.0/24", "fd00::/64"])),
        load(&admitting(&["10.1.0.0/24"])),
        load(&admitting(&["fd00::/64"])),
        load(&admitting(&["192.0.2.0/24"])),
        load(""),
        // The server with an IPv4 address only: a connection of one family.
        load_pods(&v4_server, ""),
        load_pods(&v4_server, &admitting(&["10.1.0.0/24"])),
        load_pods(&v4_server, &admitting(&["fd00::/64"])),
    ];
    for old in &sides {
        for new in &sides {
            let classes = |c: &Cluster| Classes::new(c);
            let listed = diff_over(old, new, &classes(old), &classes(new), usize::MAX);
            let counted = diff_over(old, new, &classes(old), &classes(new), 0);
            assert_eq!(counted.summary, listed.summary);
            assert!(counted.connections.is_empty());
            assert_eq!(
                counted.connections_not_listed,
                listed.summary.newly_allowed + listed.summary.newly_denied
            );
        }
    }
}
