//! Dual-stack connections and workload replicas on the command line: no
//! output may call a connection plainly allowed when it is allowed over one
//! address family only, or call two replicas one pod.

mod support;

use support::{explain, netpol};

#[test]
fn matrix_json_splits_a_connection_allowed_over_one_family_only() {
    let run = netpol(&["matrix", "families", "-o", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let lines: Vec<&serde_json::Value> = v["connections"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["src"] == "net/client" && c["dst"] == "net/server")
        .collect();
    let got: Vec<(&str, bool)> = lines
        .iter()
        .map(|c| {
            (
                c["family"].as_str().unwrap(),
                c["allowed"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(got, [("IPv4", true), ("IPv6", false)]);
    insta::assert_snapshot!(run.stdout);
}

#[test]
fn matrix_csv_has_the_same_rows_as_the_json() {
    let json = netpol(&["matrix", "families", "-o", "json"]);
    let csv = netpol(&["matrix", "families", "-o", "csv"]);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let from_json =
        support::json_as_csv(&v, &["src", "dst", "port", "protocol", "allowed", "family"]);
    let mut lines = csv.stdout.lines();
    assert_eq!(lines.next(), Some("src,dst,port,protocol,allowed,family"));
    assert_eq!(lines.map(String::from).collect::<Vec<_>>(), from_json);
}

#[test]
fn matrix_table_marks_one_family_as_partly_allowed() {
    let run = netpol(&["matrix", "families"]);
    assert!(
        run.stdout
            .contains("net/client -> net/server: 80/TCP (IPv4 only)")
    );
    insta::assert_snapshot!(run.transcript());
}

#[test]
fn explain_shows_each_family() {
    let run = explain(&["families"], "net/client", "net/server", "80", &[]);
    assert_eq!(run.code, 0);
    assert!(
        run.stdout
            .starts_with("ALLOWED over IPv4 only, DENIED over IPv6: net/client -> net/server")
    );
    insta::assert_snapshot!(run.transcript());
}

#[test]
fn explain_an_ipv4_block_against_an_ipv6_connection() {
    let run = explain(
        &["families"],
        "net/client",
        "net/v6only",
        "80",
        &["--exit-code"],
    );
    assert_eq!(run.code, 3);
    insta::assert_snapshot!(run.transcript());
}

#[test]
fn explain_between_two_replicas() {
    let run = explain(
        &["families"],
        "shop/web",
        "shop/web",
        "8080",
        &["--exit-code"],
    );
    assert_eq!(
        run.code, 3,
        "a default-deny blocks one replica from another"
    );
    assert!(
        run.stdout
            .contains("between two replicas of shop/web: decided by policy")
    );
    insta::assert_snapshot!(run.transcript());
}
