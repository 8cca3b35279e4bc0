//! `netpol diff` end to end: snapshots of every format on the review
//! fixtures, the exit status, and a semantics-preserving rewrite.

mod support;

use support::{assert_contains, netpol, netpol_in, review_diff};

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

/// A default-deny over a namespace of 110 pods closes 11,990 connections:
/// the changes of the first 10,000 pairs are listed, the rest counted, and
/// the counts, the JSON and the exit status cover them all.
#[test]
fn a_change_of_many_pairs_lists_the_first_and_counts_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let pods: String = (0..110)
        .map(|i| {
            format!(
                "- apiVersion: v1\n  kind: Pod\n  metadata:\n    name: p{i:03}\n    namespace: shop\n    labels:\n      app: web\n  spec:\n    containers:\n    - name: main\n      image: x\n      ports:\n      - containerPort: 80\n  status:\n    podIP: 10.0.{}.{}\n",
                i / 200,
                i % 200 + 1
            )
        })
        .collect();
    std::fs::write(
        dir.path().join("pods.yaml"),
        format!("apiVersion: v1\nkind: List\nitems:\n{pods}"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("deny.yaml"),
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: deny\n  namespace: shop\nspec:\n  podSelector: {}\n  policyTypes: [Ingress]\n",
    )
    .unwrap();
    let args = |extra: &[&'static str]| {
        let mut a = vec![
            "diff",
            "--old",
            "pods.yaml",
            "--new",
            "pods.yaml",
            "--new",
            "deny.yaml",
        ];
        a.extend_from_slice(extra);
        a
    };
    let text = netpol_in(dir.path(), &args(&["--exit-code"]));
    assert_eq!(text.code, 1, "{}", text.stderr);
    assert!(
        text.stdout
            .starts_with("0 connections newly allowed, 11990 newly denied.\n"),
        "{}",
        &text.stdout[..200]
    );
    assert!(
        text.stdout.ends_with(
            "\n... and 1990 more changed connections not listed (netpol diff lists the changes of the first 10000 pairs of endpoints, by source and destination; the counts above include them)\n"
        ),
        "{}",
        &text.stdout[text.stdout.len() - 300..]
    );
    let json = netpol_in(dir.path(), &args(&["-o", "json"]));
    assert_eq!(json.code, 0, "{}", json.stderr);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let connections = v["connections"].as_array().unwrap();
    assert_eq!(connections.len(), 10_000);
    assert_eq!(v["connectionsNotListed"], 1990);
    assert_eq!(v["summary"]["newlyDenied"], 11_990);
    // The first pairs by source and destination: p000 to every other pod,
    // then p001's, and so on.
    assert_eq!(connections[0]["src"], "shop/p000");
    assert_eq!(connections[0]["dst"], "shop/p001");
    assert_eq!(connections[9_999]["src"], "shop/p091");
    let markdown = netpol_in(dir.path(), &args(&["-o", "markdown"]));
    assert_contains(
        &markdown.stdout,
        "... and 1990 more changed connections not listed",
    );
}
