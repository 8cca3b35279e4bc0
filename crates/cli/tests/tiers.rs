//! The Admin and Baseline tiers in the commands: explain's trace (text and
//! JSON) and the matrix, on a small cluster of guardrails.

mod support;

use support::netpol;

fn explain(from: &str, to: &str, port: &str, json: bool) -> support::Run {
    let mut args = vec![
        "explain",
        "tiers",
        "--from",
        from,
        "--to",
        to,
        "--port",
        port,
        "--exit-code",
    ];
    if json {
        args.extend(["-o", "json"]);
    }
    netpol(&args)
}

#[test]
fn an_admin_accept_on_a_named_port_lets_dns_in() {
    let run = explain("shop/web", "kube-system/coredns", "53/udp", false);
    assert_eq!(run.code, 0, "{}", run.transcript());
    insta::assert_snapshot!(run.transcript());
}

#[test]
fn an_admin_deny_after_a_rule_that_did_not_match() {
    let run = explain("shop/web", "kube-system/coredns", "9153", false);
    assert_eq!(run.code, 3, "{}", run.transcript());
    insta::assert_snapshot!(run.transcript());
}

#[test]
fn pass_then_network_policy_then_baseline() {
    // Egress: backups passes in-cluster traffic on to NetworkPolicy (none) and
    // the baseline (no egress rules); ingress: shop's NetworkPolicy decides.
    let run = explain("backups/restic", "shop/web", "8080", false);
    assert_eq!(run.code, 0, "{}", run.transcript());
    insta::assert_snapshot!(run.transcript());
}

#[test]
fn the_baseline_denies_where_no_network_policy_selects() {
    let run = explain("shop/web", "backups/restic", "8000", true);
    assert_eq!(run.code, 3, "{}", run.transcript());
    insta::assert_snapshot!(run.transcript());
}

#[test]
fn an_address_outside_denied_by_the_admin_tier() {
    let run = explain("backups/restic", "1.1.1.1", "443", false);
    assert_eq!(run.code, 3, "{}", run.transcript());
    insta::assert_snapshot!(run.transcript());
}

#[test]
fn the_matrix_follows_the_tiers() {
    let run = netpol(&["matrix", "tiers", "-o", "csv"]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    insta::assert_snapshot!(run.transcript());
}
