//! Whatever `gen` writes for a synthetic cluster and flows that name its
//! workloads and declared ports, `verify --strict` passes on it and `lint`
//! finds nothing: the binary end to end, as a user runs it.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use netpol_model::{Cluster, Endpoint};
use proptest::prelude::*;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn netpol(dir: &Path, args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_netpol"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A synthetic cluster without its NetworkPolicies (gen writes the only
/// ones), without addresses, and without host-network pods (no pod selector can name their
/// traffic: gen rightly warns about every flow that would need it).
fn cluster(workloads: usize, namespaces: usize, seed: u64) -> Cluster {
    let mut c = netpol_synth::generate(&netpol_synth::Params {
        workloads,
        policies: 0,
        namespaces,
        seed,
    });
    c.policies.clear();
    c.endpoints.retain(|e| !e.host_network);
    // Synthetic pods may be IPv4-only and IPv6-only at once, which no flow
    // can connect (verify reports it); pods without addresses use either.
    // Workloads with identical labels cannot be told apart by any policy
    // (gen warns: a flow to one allows all); a label of their own each.
    for e in &mut c.endpoints {
        e.ips.clear();
        e.labels.insert("roundtrip/id".into(), e.name.clone());
    }
    c
}

/// One flow: (source choice, destination choice, port choices), indices
/// resolved against the cluster's plain endpoints.
type FlowPick = (u8, usize, usize, Vec<usize>);

fn flows_file(c: &Cluster, egress: bool, picks: &[FlowPick]) -> Option<String> {
    let sources: Vec<&Endpoint> = c.endpoints.iter().collect();
    let destinations: Vec<&Endpoint> = sources
        .iter()
        .copied()
        .filter(|e| !e.ports.is_empty())
        .collect();
    if destinations.is_empty() {
        return None;
    }
    let mut s = format!(
        "defaultDeny: {}\nallowDns: true\nflows:\n",
        if egress { "ingress+egress" } else { "ingress" }
    );
    for (i, (kind, src, dst, ports)) in picks.iter().enumerate() {
        let src = sources[src % sources.len()];
        let dst = destinations[dst % destinations.len()];
        let from = match kind % 3 {
            0 => src.id(),
            1 => src.namespace.clone(),
            _ => "*".to_string(),
        };
        let mut chosen: Vec<String> = ports
            .iter()
            .map(|p| {
                let port = &dst.ports[p % dst.ports.len()];
                format!("{}/{}", port.port, port.protocol.to_string().to_lowercase())
            })
            .collect();
        chosen.sort();
        chosen.dedup();
        let _ = write!(
            s,
            "  - from: \"{from}\"\n    to: \"{}\"\n    ports: [{}]\n    purpose: Flow {i}\n",
            dst.id(),
            chosen.join(", ")
        );
    }
    Some(s)
}

fn findings(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| l.starts_with("error:") || l.starts_with("warning:"))
        .collect()
}

proptest! {
    // Each case runs the binary three times; CI's budget is 30 minutes for everything.
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn what_gen_writes_passes_verify_strict_and_lint(
        workloads in 3usize..14,
        namespaces in 1usize..4,
        seed in any::<u64>(),
        egress in any::<bool>(),
        picks in proptest::collection::vec(
            (any::<u8>(), any::<usize>(), any::<usize>(), proptest::collection::vec(any::<usize>(), 1..3)),
            1..5,
        ),
    ) {
        let c = cluster(workloads, namespaces, seed);
        let Some(flows) = flows_file(&c, egress, &picks) else {
            return Ok(());
        };
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("m.yaml"), netpol_synth::to_yaml(&c)).unwrap();
        std::fs::write(tmp.path().join("flows.yaml"), &flows).unwrap();
        let context = format!("flows:\n{flows}");

        let r#gen = netpol(tmp.path(), &["gen", "flows.yaml", "m.yaml", "--dir", "out"]);
        prop_assert_eq!(r#gen.code, 0, "gen: {}\n{}", r#gen.stderr, context);
        prop_assert!(findings(&r#gen.stderr).is_empty(), "gen: {}\n{}", r#gen.stderr, context);

        let verify = netpol(tmp.path(), &["verify", "flows.yaml", "m.yaml", "out", "--strict"]);
        prop_assert_eq!(verify.code, 0, "verify --strict: {}{}\n{}", verify.stdout, verify.stderr, context);

        let lint = netpol(tmp.path(), &["lint", "m.yaml", "out", "-o", "json"]);
        prop_assert_eq!(lint.code, 0, "lint: {}{}\n{}", lint.stdout, lint.stderr, context);
        let json: serde_json::Value = serde_json::from_str(&lint.stdout).unwrap();
        prop_assert!(
            json["findings"].as_array().is_some_and(|f| f.is_empty()),
            "lint: {}\n{}", lint.stdout, context
        );
    }
}
