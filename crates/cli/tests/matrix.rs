mod support;

use support::{fixtures, netpol, netpol_with_stdin, summary_pairs};

#[test]
fn table_snapshot() {
    let run = netpol(&["matrix", "engine"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    insta::assert_snapshot!(run.transcript());
}

#[test]
fn json_snapshot_is_the_documented_contract() {
    let run = netpol(&["matrix", "engine", "-o", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    insta::assert_snapshot!(run.stdout);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let conns = v["connections"].as_array().unwrap();
    // 4 endpoints, 6 declared port/protocols in all: every source to every
    // destination port; 3 external peers (192.0.2.0/24, its except
    // 192.0.2.128/25, the rest) to those 6 and from the 4 endpoints on the
    // one port egress rules name for addresses (443).
    assert_eq!(conns.len(), 4 * 6 + 3 * 6 + 4 * 3);
    let keys: Vec<(String, String, u64, String)> = conns
        .iter()
        .map(|c| {
            let external = c["src"].as_str().unwrap().starts_with("external")
                || c["dst"].as_str().unwrap().starts_with("external");
            // An external end adds the address it was decided at.
            let keys = if external { 6 } else { 5 };
            assert_eq!(c.as_object().unwrap().len(), keys, "{c}");
            (
                c["src"].as_str().unwrap().to_string(),
                c["dst"].as_str().unwrap().to_string(),
                c["port"].as_u64().unwrap(),
                c["protocol"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted, "sorted by src, dst, port, protocol");
}

#[test]
fn csv_matches_json() {
    let json = netpol(&["matrix", "engine", "-o", "json"]);
    let csv = netpol(&["matrix", "engine", "-o", "csv"]);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let from_json = support::json_as_csv(&v, &["src", "dst", "port", "protocol", "allowed"]);
    let lines: Vec<String> = csv.stdout.lines().skip(1).map(String::from).collect();
    assert_eq!(
        csv.stdout.lines().next(),
        Some("src,dst,port,protocol,allowed")
    );
    assert_eq!(lines, from_json);
}

#[test]
fn stdin_reads_like_a_file() {
    let text = std::fs::read_to_string(fixtures().join("engine/cluster.yaml")).unwrap()
        + "\n---\n"
        + &std::fs::read_to_string(fixtures().join("engine/policies.yaml")).unwrap();
    let piped = netpol_with_stdin(&["matrix", "-", "-o", "json"], Some(&text));
    let files = netpol(&["matrix", "engine", "-o", "json"]);
    assert_eq!(piped.code, 0, "{}", piped.stderr);
    assert_eq!(piped.stdout, files.stdout);
}

#[test]
fn namespace_flag_places_objects_without_namespace() {
    let pod = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: solo\nspec:\n  containers:\n    - name: c\n      image: x\n      ports:\n        - containerPort: 80\n";
    let run = netpol_with_stdin(
        &["matrix", "-", "-n", "team-x", "-o", "csv", "--no-external"],
        Some(pod),
    );
    assert_eq!(
        run.stdout,
        "src,dst,port,protocol,allowed\nteam-x/solo,team-x/solo,80,TCP,true\n"
    );
}

#[test]
fn bad_input_fails_with_every_error_and_no_output() {
    let run = netpol(&["matrix", "bad"]);
    assert_eq!(run.code, 2);
    assert!(run.stdout.is_empty(), "no partial output: {}", run.stdout);
    insta::assert_snapshot!(run.transcript());
}

#[test]
fn unknown_kinds_are_skipped_with_a_note() {
    let text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: i\n";
    let run = netpol_with_stdin(&["matrix", "-", "-o", "json"], Some(text));
    assert_eq!(run.code, 0);
    assert_eq!(run.stdout, "{\"connections\":[\n]}\n");
    assert!(
        run.stderr.contains("1 ConfigMap, 1 Ingress"),
        "{}",
        run.stderr
    );
}

#[test]
fn missing_path_is_an_error() {
    let run = netpol(&["matrix", "does-not-exist.yaml"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("does-not-exist.yaml: cannot read"),
        "{}",
        run.stderr
    );
}

#[test]
fn the_real_homelab_loads() {
    let Some(homelab) = netpol_testdata::shared("realcases/homelab/manifests") else {
        return;
    };
    let run = netpol(&["matrix", homelab.to_str().unwrap(), "-o", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let conns = v["connections"].as_array().unwrap();
    let sources: std::collections::BTreeSet<&str> = conns
        .iter()
        .map(|c| c["src"].as_str().unwrap())
        .filter(|s| !s.starts_with("external"))
        .collect();
    assert_eq!(sources.len(), 59, "the homelab models 59 workloads");
    // No policies are deployed there: everything is allowed.
    assert!(conns.iter().all(|c| c["allowed"] == true));
}

/// `--summary` sums the pod-level matrix per owning workload: recompute that
/// from the full JSON (workload = pod name without its ReplicaSet and pod
/// suffixes) and compare.
#[test]
fn summary_sums_the_matrix_per_workload() {
    let full = netpol(&["matrix", "replicas", "-o", "json"]);
    let summary = netpol(&["matrix", "replicas", "--summary", "-o", "json"]);
    assert_eq!(summary.code, 0, "{}", summary.stderr);
    let workload = |pod: &str| {
        // An external peer is a workload of its own.
        if pod.starts_with("external") {
            return pod.to_string();
        }
        let (ns, name) = pod.split_once('/').unwrap();
        let parts: Vec<&str> = name.split('-').collect();
        format!("{ns}/{}", parts[..parts.len() - 2].join("-"))
    };
    let mut expected: std::collections::BTreeMap<(String, String), (u64, u64)> = Default::default();
    let v: serde_json::Value = serde_json::from_str(&full.stdout).unwrap();
    for c in v["connections"].as_array().unwrap() {
        let key = (
            workload(c["src"].as_str().unwrap()),
            workload(c["dst"].as_str().unwrap()),
        );
        let e = expected.entry(key).or_default();
        e.1 += 1;
        if c["allowed"] == true {
            e.0 += 1;
        }
    }
    let s: serde_json::Value = serde_json::from_str(&summary.stdout).unwrap();
    let got = summary_pairs(&s);
    assert_eq!(got, expected);
    assert!(
        got.values().any(|(a, c)| a < c && *a > 0),
        "the fixture has partly allowed pairs"
    );
    insta::assert_snapshot!(netpol(&["matrix", "replicas", "--summary"]).transcript());
}

#[test]
fn documents_that_are_not_kubernetes_objects_are_skipped_with_a_note() {
    let text = "flows:\n  - from: a\n    to: b\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: x\n";
    let run = netpol_with_stdin(&["matrix", "-", "-o", "csv"], Some(text));
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("skipped 1 document(s) without apiVersion and kind"),
        "{}",
        run.stderr
    );
    // Only one of the two is still an error: the object is malformed.
    let run = netpol_with_stdin(&["matrix", "-"], Some("kind: Pod\nmetadata:\n  name: x\n"));
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("apiVersion: required field is missing"),
        "{}",
        run.stderr
    );
}
