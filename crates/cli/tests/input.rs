//! What every command that reads manifests shares: `--validate` (unknown
//! fields, as kubectl), `-n` (a namespace name), and the warnings about an
//! input that lacks Namespaces or NetworkPolicies.

mod support;

use support::netpol;

const TYPO: &str = "typo/cluster.yaml:35: document 4 (NetworkPolicy shop/db-from-web): spec.podSelecter: unknown field \"podSelecter\" (did you mean podSelector?)";

#[test]
fn an_unknown_field_is_an_error_by_default_in_every_command() {
    for args in [
        vec!["matrix", "typo"],
        vec!["lint", "typo"],
        vec!["nft", "typo"],
        vec![
            "explain", "typo", "--from", "shop/web", "--to", "shop/db", "--port", "5432",
        ],
        vec!["diff", "typo", "typo"],
    ] {
        let run = netpol(&args);
        assert_ne!(run.code, 0, "{args:?}: {}", run.transcript());
        assert!(
            run.stderr.contains(&format!("error: {TYPO}")),
            "{args:?}: {}",
            run.transcript()
        );
        assert_eq!(run.stdout, "", "{args:?}: no partial output");
    }
    let strict = netpol(&["matrix", "typo", "--validate=strict"]);
    assert_eq!(
        strict.transcript(),
        netpol(&["matrix", "typo"]).transcript()
    );
}

#[test]
fn warn_reports_the_same_diagnostic_and_goes_on_like_ignore() {
    let warn = netpol(&["matrix", "typo", "--validate", "warn", "-o", "json"]);
    assert_eq!(warn.code, 0, "{}", warn.transcript());
    assert!(
        warn.stderr.contains(&format!("warning: {TYPO}")),
        "{}",
        warn.transcript()
    );
    let ignore = netpol(&["matrix", "typo", "--validate=ignore", "-o", "json"]);
    assert_eq!(ignore.code, 0, "{}", ignore.transcript());
    assert!(!ignore.stderr.contains("podSelecter"), "{}", ignore.stderr);
    assert_eq!(warn.stdout, ignore.stdout);
    // What the typo does when it is let through: the policy isolates web too.
    assert!(
        ignore.stdout.contains(
            r#"{"src":"shop/db","dst":"shop/web","port":8080,"protocol":"TCP","allowed":false}"#
        ),
        "{}",
        ignore.stdout
    );
}

#[test]
fn an_invalid_namespace_flag_is_a_usage_error() {
    for ns in ["Shop", "shop.prod", "shop-"] {
        let run = netpol(&["matrix", "engine", "-n", ns]);
        assert_eq!(run.code, 2, "{ns}: {}", run.transcript());
        assert!(
            run.stderr.contains("a lowercase RFC 1123 label"),
            "{ns}: {}",
            run.stderr
        );
    }
    let ok = netpol(&["matrix", "engine", "-n", "shop-2"]);
    assert_eq!(ok.code, 0, "{}", ok.transcript());
}

#[test]
fn an_input_without_namespaces_or_policies_is_warned_about() {
    let pods = "apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: shop}\nspec: {containers: [{name: c, ports: [{containerPort: 80}]}]}\n";
    let run = support::netpol_with_stdin(&["matrix", "-"], Some(pods));
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert!(
        run.stderr
            .contains("warning: the input has workloads but no Namespace objects"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("warning: the input has workloads but no NetworkPolicy at all"),
        "{}",
        run.stderr
    );
    // Cluster-wide policies are policies: no warning that nothing is isolated.
    let guarded = format!(
        "{pods}---\napiVersion: policy.networking.k8s.io/v1alpha2\nkind: ClusterNetworkPolicy\nmetadata: {{name: closed}}\nspec:\n  tier: Baseline\n  priority: 1\n  subject: {{namespaces: {{}}}}\n  ingress: [{{action: Deny, from: [{{namespaces: {{}}}}]}}]\n"
    );
    let tiers = support::netpol_with_stdin(&["matrix", "-"], Some(&guarded));
    assert_eq!(tiers.code, 0, "{}", tiers.transcript());
    assert!(
        !tiers.stderr.contains("no NetworkPolicy at all"),
        "{}",
        tiers.stderr
    );
    // A complete dump has neither warning.
    let live = netpol(&["matrix", "live"]);
    assert_eq!(live.code, 0, "{}", live.transcript());
    assert!(!live.stderr.contains("warning"), "{}", live.stderr);
}
