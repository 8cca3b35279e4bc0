//! Lint compiles the engine over equivalence classes of pods; its findings
//! must be the ones the engine over every pod gives ([`Classes::per_pod`]),
//! pods listed one by one.

use std::collections::BTreeSet;

use netpol_engine::Classes;
use netpol_lint::{Finding, lint, lint_with};
use netpol_model::Cluster;
use netpol_synth::{Params, generate, live};
use proptest::prelude::*;

fn check(c: &Cluster) -> Result<Vec<Finding>, String> {
    let by_class = lint(c);
    let per_pod = lint_with(c, &Classes::per_pod(c));
    if by_class != per_pod {
        let show = |f: &[Finding]| {
            f.iter()
                .map(|f| {
                    format!(
                        "{} {}:{} {} | {}",
                        f.id, f.location.file, f.location.line, f.message, f.hint
                    )
                })
                .collect::<Vec<_>>()
                .join("\n")
        };
        return Err(format!(
            "over classes:\n{}\nper pod:\n{}",
            show(&by_class),
            show(&per_pod)
        ));
    }
    Ok(by_class)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    /// Live dumps (replicas with their own addresses and nodes, host-network
    /// pods, ipBlocks around pod addresses) and the template-level clusters.
    #[test]
    fn lint_over_classes_equals_lint_per_pod(
        seed in any::<u64>(),
        workloads in 1usize..16,
        policies in 0usize..16,
        namespaces in 1usize..4,
        replicas in 1usize..4,
    ) {
        let template = generate(&Params { workloads, policies, namespaces, seed });
        for c in [live(&template, replicas), template] {
            if let Err(e) = check(&c) {
                prop_assert!(false, "{}", e);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, failure_persistence: None, ..ProptestConfig::default() })]

    /// With ClusterNetworkPolicies (whose rules NP014-NP016 judge over
    /// pods), on live dumps and templates.
    #[test]
    fn lint_over_classes_equals_lint_per_pod_with_cluster_policies(
        seed in any::<u64>(),
        workloads in 1usize..14,
        policies in 0usize..12,
        cluster_policies in 1usize..10,
        namespaces in 1usize..4,
        replicas in 1usize..4,
    ) {
        let template = generate(&Params { workloads, policies, namespaces, seed });
        for c in [live(&template, replicas), template] {
            let c = netpol_synth::with_cluster_policies(c, cluster_policies, seed);
            if let Err(e) = check(&c) {
                prop_assert!(false, "{}", e);
            }
        }
    }
}

/// The cluster policy findings, which count and pair pods, are raised by
/// the compared clusters, whose classes merge pods.
#[test]
fn the_compared_clusters_raise_the_cluster_policy_findings() {
    let mut seen = BTreeSet::new();
    let mut merged = false;
    for seed in 0..24u64 {
        let template = generate(&Params {
            workloads: 20,
            policies: 12,
            namespaces: 3,
            seed,
        });
        let c = netpol_synth::with_cluster_policies(live(&template, 3), 12, seed);
        merged |= Classes::new(&c).len() < c.endpoints.len();
        seen.extend(check(&c).unwrap().into_iter().map(|f| f.id));
    }
    assert!(merged);
    for id in ["NP014", "NP015", "NP016"] {
        assert!(seen.contains(id), "{id} never raised: {seen:?}");
    }
}

/// Agreeing proves something only if the clusters compared raise the
/// findings that read the engine or list pods, and classes merge pods.
#[test]
fn the_compared_clusters_raise_the_pod_findings() {
    let mut seen = BTreeSet::new();
    let mut merged = false;
    for seed in 0..16u64 {
        let template = generate(&Params {
            workloads: 30,
            policies: 20,
            namespaces: 3,
            seed,
        });
        let c = live(&template, 3);
        merged |= Classes::new(&c).len() < c.endpoints.len();
        seen.extend(check(&c).unwrap().into_iter().map(|f| f.id));
    }
    assert!(merged);
    for id in ["NP001", "NP002", "NP003", "NP005", "NP009", "NP010"] {
        assert!(seen.contains(id), "{id} never raised: {seen:?}");
    }
}
