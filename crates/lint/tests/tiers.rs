//! The ClusterNetworkPolicy rules, each where it must fire (at the right
//! line) and where the same situation is written so that it must not.

use netpol_lint::{Finding, lint};
use netpol_model::{LoadOptions, Source, load_sources};

const CLUSTER: &str = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n  labels:\n    team: a\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: b\n  labels:\n    team: b\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: a\nspec:\n  containers:\n  - name: c\n    ports:\n    - containerPort: 80\nstatus:\n  podIP: 10.0.0.1\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: q\n  namespace: b\nspec:\n  containers:\n  - name: c\n    ports:\n    - containerPort: 80\nstatus:\n  podIP: 10.0.0.2\n";

fn findings(policies: &str) -> Vec<Finding> {
    let c = load_sources(
        &[
            Source {
                name: "cluster.yaml".into(),
                text: CLUSTER.into(),
            },
            Source {
                name: "policies.yaml".into(),
                text: policies.into(),
            },
        ],
        &LoadOptions::default(),
    )
    .unwrap();
    lint(&c)
}

fn of(id: &str, found: &[Finding]) -> Vec<(usize, String)> {
    found
        .iter()
        .filter(|f| f.id == id)
        .map(|f| (f.location.line, f.message.clone()))
        .collect()
}

fn cnp(name: &str, tier: &str, priority: u32, rules: &str) -> String {
    format!(
        "apiVersion: policy.networking.k8s.io/v1alpha2\nkind: ClusterNetworkPolicy\nmetadata:\n  name: {name}\nspec:\n  tier: {tier}\n  priority: {priority}\n  subject:\n    namespaces:\n      matchLabels:\n        team: a\n{rules}"
    )
}

const DENY_B: &str = "  egress:\n  - name: deny-b\n    action: Deny\n    to:\n    - namespaces:\n        matchLabels:\n          team: b\n";
const ACCEPT_B_80: &str = "  egress:\n  - name: accept-b\n    action: Accept\n    to:\n    - namespaces:\n        matchLabels:\n          team: b\n    protocols:\n    - tcp:\n        destinationPort:\n          number: 80\n";

#[test]
fn a_rule_after_one_that_decides_all_it_matches_is_shadowed() {
    let text = cnp(
        "p",
        "Admin",
        5,
        &format!("{DENY_B}{}", ACCEPT_B_80.trim_start_matches("  egress:\n")),
    );
    let found = of("NP014", &findings(&text));
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, 19, "the line of accept-b");
    assert!(
        found[0]
            .1
            .contains("admin/p egress[1] (accept-b) never decides")
            && found[0].1.contains("admin/p egress[0] (deny-b)"),
        "{found:?}"
    );
    // The other way round, each rule decides something.
    let text = cnp(
        "p",
        "Admin",
        5,
        &format!("{ACCEPT_B_80}{}", DENY_B.trim_start_matches("  egress:\n")),
    );
    assert!(of("NP014", &findings(&text)).is_empty());
}

#[test]
fn a_policy_with_a_lower_priority_value_shadows_across_policies() {
    let text = format!(
        "{}\n---\n{}",
        cnp("first", "Admin", 1, DENY_B),
        cnp("second", "Admin", 2, ACCEPT_B_80)
    );
    let found = of("NP014", &findings(&text));
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].1.contains("admin/second egress[0]")
            && found[0].1.contains("admin/first egress[0]")
    );
    // Another tier does not shadow: Baseline comes after Admin.
    let text = format!(
        "{}\n---\n{}",
        cnp("first", "Baseline", 1, DENY_B),
        cnp("second", "Admin", 2, ACCEPT_B_80)
    );
    assert!(of("NP014", &findings(&text)).is_empty());
}

#[test]
fn equal_priorities_over_the_same_pods_are_reported() {
    let text = format!(
        "{}\n---\n{}",
        cnp("one", "Admin", 3, DENY_B),
        cnp("two", "Admin", 3, ACCEPT_B_80)
    );
    let found = of("NP015", &findings(&text));
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0]
            .1
            .contains("admin/one and admin/two are both Admin priority 3"),
        "{found:?}"
    );
    let text = format!(
        "{}\n---\n{}",
        cnp("one", "Admin", 3, DENY_B),
        cnp("two", "Admin", 4, ACCEPT_B_80)
    );
    assert!(of("NP015", &findings(&text)).is_empty());
}

#[test]
fn a_baseline_deny_over_isolated_pods_is_never_reached() {
    let np = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: iso\n  namespace: a\nspec:\n  podSelector: {}\n  policyTypes: [Egress]\n";
    let text = format!("{}\n---\n{np}", cnp("default", "Baseline", 1, DENY_B));
    let found = of("NP016", &findings(&text));
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, 13);
    // Without the NetworkPolicy the baseline decides.
    assert!(of("NP016", &findings(&cnp("default", "Baseline", 1, DENY_B))).is_empty());
}

#[test]
fn domain_names_are_reported_as_undecidable() {
    let rules = "  egress:\n  - action: Accept\n    to:\n    - domainNames: [\"example.com\"]\n";
    let found = of("NP017", &findings(&cnp("dns", "Admin", 1, rules)));
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].0, 13);
    assert!(of("NP017", &findings(&cnp("dns", "Admin", 1, DENY_B))).is_empty());
}

#[test]
fn cluster_policies_are_policies_for_np013() {
    assert!(of("NP013", &findings(&cnp("dns", "Admin", 1, DENY_B))).is_empty());
}

/// A rule is shadowed only if earlier rules decide every pair it matches
/// over every family: an earlier rule over IPv4 networks leaves an
/// IPv6-only peer to the later rule, which therefore still decides.
#[test]
fn a_rule_still_deciding_for_ipv6_only_pods_is_not_shadowed() {
    let pod = |name: &str, ns: &str, ips: &[&str]| {
        let list: String = ips.iter().map(|ip| format!("  - ip: {ip}\n")).collect();
        format!(
            "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  namespace: {ns}\nspec:\n  containers:\n  - name: c\n    ports:\n    - containerPort: 80\nstatus:\n  podIP: {}\n  podIPs:\n{list}",
            ips[0]
        )
    };
    let namespaces = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n  labels:\n    team: a\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: b\n  labels:\n    team: b\n";
    let deny_v4 = "  egress:\n  - name: deny-v4\n    action: Deny\n    to:\n    - networks:\n      - 10.0.0.0/8\n";
    let policies = cnp(
        "p",
        "Admin",
        5,
        &format!("{deny_v4}{}", ACCEPT_B_80.trim_start_matches("  egress:\n")),
    );
    let lint_with = |pods: String| {
        let c = load_sources(
            &[
                Source {
                    name: "cluster.yaml".into(),
                    text: format!("{namespaces}{pods}"),
                },
                Source {
                    name: "policies.yaml".into(),
                    text: policies.clone(),
                },
            ],
            &LoadOptions::default(),
        )
        .unwrap();
        of("NP014", &lint(&c))
    };
    let p = pod("p", "a", &["10.0.0.1", "fd00::1"]);
    // Every peer pod has an IPv4 address the earlier rule denies: shadowed.
    let v4 = lint_with(format!("{p}{}", pod("q", "b", &["10.0.0.2"])));
    assert_eq!(v4.len(), 1, "{v4:?}");
    // An IPv6-only peer pod is reached through the later rule.
    let v6 = lint_with(format!(
        "{p}{}{}",
        pod("q", "b", &["10.0.0.2"]),
        pod("r", "b", &["fd00::3"])
    ));
    assert!(v6.is_empty(), "{v6:?}");
}
