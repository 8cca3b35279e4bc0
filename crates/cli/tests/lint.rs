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
