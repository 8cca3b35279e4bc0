//! The flows file's guardrails: `gen` writes them as ClusterNetworkPolicies,
//! and `verify` holds the policies to them.

mod support;

use support::{fixtures, netpol};

fn generate() -> tempfile::TempDir {
    let out = tempfile::tempdir().unwrap();
    let run = netpol(&[
        "gen",
        "guardrails/flows.yaml",
        "tiers/cluster.yaml",
        "--dir",
        out.path().to_str().unwrap(),
    ]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert!(
        run.stdout.contains("cluster.guardrails.yaml (2 policies)"),
        "{}",
        run.stdout
    );
    out
}

#[test]
fn gen_writes_the_guardrails_as_cluster_network_policies() {
    let out = generate();
    let text = std::fs::read_to_string(out.path().join("cluster.guardrails.yaml")).unwrap();
    insta::assert_snapshot!(text);
    // The Baseline deny-all replaces the namespaces' default-deny policies.
    let shop = std::fs::read_to_string(out.path().join("shop.yaml")).unwrap();
    assert!(!shop.contains("default-deny"), "{shop}");
    assert!(!out.path().join("backups.yaml").exists());
}

#[test]
fn verify_passes_with_the_generated_policies_and_fails_without_the_guardrails() {
    let out = generate();
    let dir = out.path().to_str().unwrap();
    let run = netpol(&["verify", "guardrails/flows.yaml", "tiers/cluster.yaml", dir]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert!(run.stdout.contains("OK: the policies implement the flows"));
    // Without the cluster policies: the guardrail is broken and the
    // namespaces are open.
    std::fs::remove_file(out.path().join("cluster.guardrails.yaml")).unwrap();
    let run = netpol(&["verify", "guardrails/flows.yaml", "tiers/cluster.yaml", dir]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert!(run.stdout.contains("[guardrail-broken]"), "{}", run.stdout);
    assert!(
        run.stdout.contains("Namespaces without a default-deny: 3"),
        "{}",
        run.stdout
    );
    assert!(fixtures().join("guardrails/flows.yaml").exists());
}

#[test]
fn a_guardrail_from_a_workload_is_rejected_with_its_field() {
    let dir = tempfile::tempdir().unwrap();
    let flows = dir.path().join("flows.yaml");
    std::fs::write(
        &flows,
        "guardrails:\n  deny:\n    - from: shop/web\n      to: external\n      purpose: no\nflows: []\n",
    )
    .unwrap();
    let run = netpol(&[
        "verify",
        flows.to_str().unwrap(),
        "tiers/cluster.yaml",
        "tiers/policies.yaml",
    ]);
    assert_eq!(run.code, 2, "{}", run.transcript());
    assert!(
        run.stderr.contains("flows.yaml:3") && run.stderr.contains("guardrails.deny[0].from"),
        "{}",
        run.stderr
    );
}
