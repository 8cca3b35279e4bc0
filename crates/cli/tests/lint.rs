//! `netpol lint` end to end: snapshots of every format, `--fail-on`, SARIF
//! structure, and the real homelab (which has no policies at all).

mod support;

use support::{fixtures, netpol};

const REVIEW: &[&str] = &["lint", "review/cluster.yaml", "review/lint"];

fn with(extra: &[&'static str]) -> Vec<&'static str> {
    let mut args = REVIEW.to_vec();
    args.extend_from_slice(extra);
    args
}

#[test]
fn text_snapshot() {
    let run = netpol(REVIEW);
    // Two errors (a ClusterIP ipBlock, rules ignored by policyTypes): the default --fail-on error fails.
    assert_eq!(run.code, 1, "{}", run.stderr);
    insta::assert_snapshot!(run.transcript());
}

#[test]
fn json_snapshot() {
    let run = netpol(&with(&["-o", "json"]));
    insta::assert_snapshot!(run.stdout);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    for f in v["findings"].as_array().unwrap() {
        for key in ["id", "name", "severity", "message", "hint"] {
            assert!(f[key].is_string(), "{key} in {f}");
        }
        assert!(f["location"]["line"].as_u64().unwrap() >= 1);
    }
}

#[test]
fn sarif_snapshot_and_structure() {
    let run = netpol(&with(&["-o", "sarif"]));
    insta::assert_snapshot!(run.stdout);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["version"], "2.1.0");
    let run0 = &v["runs"][0];
    let rules = run0["tool"]["driver"]["rules"].as_array().unwrap();
    let results = run0["results"].as_array().unwrap();
    assert!(!results.is_empty());
    for r in results {
        let index = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], r["ruleId"]);
        assert!(["error", "warning", "note"].contains(&r["level"].as_str().unwrap()));
        let location = &r["locations"][0]["physicalLocation"];
        let uri = location["artifactLocation"]["uri"].as_str().unwrap();
        let line = location["region"]["startLine"].as_u64().unwrap() as usize;
        // The location is a real line of a real file, relative to where netpol ran.
        let text = std::fs::read_to_string(fixtures().join(uri)).unwrap();
        assert!(line >= 1 && line <= text.lines().count(), "{uri}:{line}");
    }
}

#[test]
fn fail_on_thresholds() {
    // The homelab example has warnings only.
    let homelab = [
        "lint",
        "../../../../examples/homelab/manifests",
        "../../../../examples/homelab/policies",
    ];
    assert_eq!(netpol(&homelab).code, 0);
    assert_eq!(
        netpol(&[&homelab[..], &["--fail-on", "warning"]].concat()).code,
        1
    );
    assert_eq!(
        netpol(&[&homelab[..], &["--fail-on", "error"]].concat()).code,
        0
    );
    assert_eq!(netpol(&with(&["--fail-on", "never"])).code, 0);
}

#[test]
fn homelab_example_snapshot() {
    let run = netpol(&[
        "lint",
        "../../../../examples/homelab/manifests",
        "../../../../examples/homelab/policies",
    ]);
    insta::assert_snapshot!(run.transcript());
}

/// The real homelab has 59 workloads and no policies: lint says so once, and
/// names every namespace that has workloads, each at a file and line.
#[test]
fn real_homelab_without_policies() {
    let Some(path) = netpol_testdata::shared("realcases/homelab/manifests") else {
        return;
    };
    let cluster =
        netpol_model::load_paths(&[&path], &netpol_model::LoadOptions::default()).unwrap();
    let path = path.to_str().unwrap();
    assert!(cluster.policies.is_empty());
    let namespaces: std::collections::BTreeSet<&str> = cluster
        .endpoints
        .iter()
        .filter(|e| !e.host_network)
        .map(|e| e.namespace.as_str())
        .collect();

    let run = netpol(&["lint", path, "-o", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let findings = v["findings"].as_array().unwrap();
    let with_id = |id: &'static str| findings.iter().filter(move |f| f["id"] == id);
    let summary: Vec<_> = with_id("NP013").collect();
    assert_eq!(summary.len(), 1);
    let message = summary[0]["message"].as_str().unwrap();
    assert!(
        message.contains(&format!("{} workloads", cluster.endpoints.len())),
        "{message}"
    );
    let flagged: std::collections::BTreeSet<String> = with_id("NP003")
        .map(|f| {
            f["message"]
                .as_str()
                .unwrap()
                .split_whitespace()
                .nth(1)
                .unwrap()
                .to_string()
        })
        .collect();
    let expected: std::collections::BTreeSet<String> =
        namespaces.iter().map(|s| s.to_string()).collect();
    assert_eq!(flagged, expected);
    assert_eq!(
        findings.len(),
        1 + expected.len(),
        "nothing else to say without policies"
    );
}

/// Lints what `netpol gen` writes for `flows` on `manifests`: gen's output is
/// the reference of good policies, so lint must find nothing in it.
fn lint_generated(dir: &std::path::Path, flows: &str, manifests: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("generated");
    let out = out.to_str().unwrap();
    let r#gen = support::netpol_in(dir, &["gen", flows, manifests, "--dir", out]);
    assert_eq!(r#gen.code, 0, "{}", r#gen.transcript());
    let run = support::netpol_in(
        dir,
        &["lint", manifests, out, "--fail-on", "info", "-o", "json"],
    );
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        v["findings"],
        serde_json::json!([]),
        "{flows}: {}",
        run.stdout
    );
    assert_eq!(run.code, 0, "{}", run.transcript());
}

#[test]
fn nothing_to_say_about_what_gen_writes_for_the_example_homelab() {
    let homelab = netpol_testdata::repo_root().join("examples/homelab");
    lint_generated(&homelab, "flows.yaml", "manifests");
    // With egress isolation too.
    let tmp = tempfile::tempdir().unwrap();
    let flows = tmp.path().join("flows.yaml");
    let text = std::fs::read_to_string(homelab.join("flows.yaml")).unwrap();
    let egress = text.replace("defaultDeny: ingress\n", "defaultDeny: ingress+egress\n");
    assert_ne!(egress, text);
    std::fs::write(&flows, egress).unwrap();
    lint_generated(&homelab, flows.to_str().unwrap(), "manifests");
}

/// The real homelab (59 workloads, empty and host-network namespaces) under
/// a flows file that uses every endpoint and port form, with egress isolation.
#[test]
fn nothing_to_say_about_what_gen_writes_for_the_real_homelab() {
    let Some(real) = netpol_testdata::shared("realcases/homelab/manifests") else {
        return;
    };
    lint_generated(
        &fixtures(),
        "realcases/homelab-flows.yaml",
        real.to_str().unwrap(),
    );
}

/// A live dump lists a Deployment's replicas as Pods: the last line counts
/// them as one workload and as many endpoints, not as many workloads.
#[test]
fn a_live_dump_counts_workloads_and_their_pods() {
    let dir = tempfile::tempdir().unwrap();
    let pod = |i: usize| {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web-7d4b9-{i}\n  namespace: shop\n  labels:\n    app: web\n    pod-template-hash: 7d4b9\n  ownerReferences:\n  - apiVersion: apps/v1\n    kind: ReplicaSet\n    name: web-7d4b9\n    uid: u\nspec:\n  containers:\n  - name: c\nstatus:\n  podIP: 10.0.0.{}\n",
            i + 1
        )
    };
    let dump: Vec<String> = (0..3).map(pod).collect();
    let path = dir.path().join("pods.yaml");
    std::fs::write(&path, dump.join("---\n")).unwrap();
    let run = netpol(&["lint", path.to_str().unwrap()]);
    let last = run.stdout.lines().last().unwrap_or_default().to_string();
    assert!(
        last.ends_with("in 0 policies, 1 workload (3 endpoints)"),
        "{last}\n{}",
        run.stderr
    );
}
