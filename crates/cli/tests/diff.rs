//! `netpol diff` end to end: snapshots of every format on the review
//! fixtures, the exit status, and a semantics-preserving rewrite.

mod support;

use support::{assert_contains, netpol, review_diff};

#[test]
fn text_snapshot() {
    let run = review_diff("review/new", &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    insta::assert_snapshot!(run.transcript());
}

#[test]
fn markdown_snapshot() {
    let run = review_diff("review/new", &["-o", "markdown"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    insta::assert_snapshot!(run.stdout);
}

#[test]
fn json_snapshot_and_its_counts_agree() {
    let run = review_diff("review/new", &["-o", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    insta::assert_snapshot!(run.stdout);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let count = |change: &str| -> u64 {
        v["connections"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["change"] == change)
            .map(|c| c["ports"].as_array().unwrap().len() as u64)
            .sum()
    };
    assert_eq!(
        v["summary"]["newlyAllowed"].as_u64().unwrap(),
        count("allowed")
    );
    assert_eq!(
        v["summary"]["newlyDenied"].as_u64().unwrap(),
        count("denied")
    );
}

/// The diff's verdicts are the matrices' verdicts: every change it reports
/// is a cell that `netpol matrix` shows flipped between the two sides.
#[test]
fn changes_agree_with_the_two_matrices() {
    let matrix = |side: &str| -> std::collections::BTreeMap<(String, String, u64), bool> {
        let run = netpol(&["matrix", "review/cluster.yaml", side, "-o", "json"]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        v["connections"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                let key = (
                    c["src"].as_str().unwrap().to_string(),
                    c["dst"].as_str().unwrap().to_string(),
                    c["port"].as_u64().unwrap(),
                );
                (key, c["allowed"].as_bool().unwrap())
            })
            .collect()
    };
    let (old, new) = (matrix("review/old"), matrix("review/new"));
    let mut flipped: Vec<(String, String, u64, bool)> = new
        .iter()
        .filter_map(|(k, &a)| {
            old.get(k)
                .filter(|&&b| b != a)
                .map(|_| (k.0.clone(), k.1.clone(), k.2, a))
        })
        .collect();
    flipped.sort();
    let run = review_diff("review/new", &["-o", "json"]);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let mut reported: Vec<(String, String, u64, bool)> = Vec::new();
    for c in v["connections"].as_array().unwrap() {
        for p in c["ports"].as_array().unwrap() {
            reported.push((
                c["src"].as_str().unwrap().to_string(),
                c["dst"].as_str().unwrap().to_string(),
                p["port"].as_u64().unwrap(),
                c["change"] == "allowed",
            ));
        }
    }
    reported.sort();
    assert!(!flipped.is_empty());
    assert_eq!(reported, flipped);
}

#[test]
fn exit_code_reports_a_change() {
    assert_eq!(review_diff("review/new", &["--exit-code"]).code, 1);
    let same = review_diff("review/old", &["--exit-code"]);
    assert_eq!(same.code, 0, "{}", same.stderr);
    assert_eq!(same.stdout, "No connectivity change.\n");
}

#[test]
fn a_semantics_preserving_rewrite_shows_no_change() {
    let run = netpol(&[
        "diff",
        "--exit-code",
        "--old",
        "review/cluster.yaml",
        "--old",
        "review/new",
        "--new",
        "review/cluster.yaml",
        "--new",
        "review/new/worker.yaml",
        "--new",
        "review/rewrite",
    ]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    insta::assert_snapshot!(run.transcript());
}

#[test]
fn homelab_example_policies_against_none() {
    let run = netpol(&[
        "diff",
        "--old",
        "../../../../examples/homelab/manifests",
        "--new",
        "../../../../examples/homelab/manifests",
        "--new",
        "../../../../examples/homelab/policies",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    insta::assert_snapshot!(run.transcript());
}

#[test]
fn usage_errors() {
    let run = netpol(&["diff", "review/old"]);
    assert_eq!(run.code, 2);
    assert_contains(&run.stderr, "missing the NEW side");
    let run = netpol(&[
        "diff",
        "--old",
        "review/old",
        "--new",
        "review/new",
        "review/cluster.yaml",
    ]);
    assert_eq!(run.code, 2);
    assert_contains(&run.stderr, "unexpected path review/cluster.yaml");
}

#[test]
fn bad_input_on_either_side_fails_with_its_location() {
    let run = netpol(&["diff", "review/old", "bad/does-not-exist.yaml"]);
    assert_eq!(run.code, 2);
    assert_contains(&run.stderr, "does-not-exist.yaml");
    assert!(run.stdout.is_empty());
}

#[test]
fn a_change_over_one_address_family_is_shown_with_it() {
    // Allowed over both families before, over IPv4 only after.
    let args = [
        "diff",
        "--old",
        "diff-families/pods.yaml",
        "--old",
        "diff-families/both",
        "--new",
        "diff-families/pods.yaml",
        "--new",
        "diff-families/v4",
        "--exit-code",
    ];
    let run = netpol(&args);
    assert_eq!(run.code, 1, "a change: {}", run.transcript());
    assert_contains(
        &run.stdout,
        "- net/client -> net/server  80/TCP, 443/TCP over IPv6 only",
    );
    insta::assert_snapshot!(run.transcript());
    let json = netpol(&[&args[..], &["-o", "json"]].concat());
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let c = &v["connections"].as_array().unwrap()[..];
    assert_eq!(c.len(), 1, "{c:?}");
    assert_eq!(
        (&c[0]["change"], &c[0]["family"]),
        (&serde_json::json!("denied"), &serde_json::json!("IPv6"))
    );
    assert_eq!(v["summary"]["newlyDenied"], 2, "two ports, over IPv6");
    let md = netpol(&[&args[..], &["-o", "markdown"]].concat());
    assert_contains(&md.stdout, "| 80/TCP, 443/TCP over IPv6 only |");
}
