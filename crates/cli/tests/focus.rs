//! Focus flags: each narrowed matrix is the whole matrix filtered by the
//! same question, asked here of the JSON independently.

mod support;

use support::{assert_contains, json, netpol};

type Conn = serde_json::Value;

fn connections(extra: &[&str]) -> Vec<Conn> {
    let mut args = vec!["matrix", "engine", "-o", "json"];
    args.extend_from_slice(extra);
    let run = netpol(&args);
    assert_eq!(run.code, 0, "{}", run.transcript());
    json(&run)["connections"].as_array().unwrap().clone()
}

fn s<'a>(c: &'a Conn, k: &str) -> &'a str {
    c[k].as_str().unwrap()
}

#[track_caller]
fn same_as_filtered(flags: &[&str], keep: impl Fn(&Conn) -> bool) {
    let all = connections(&[]);
    let expected: Vec<&Conn> = all.iter().filter(|c| keep(c)).collect();
    let got = connections(flags);
    assert!(!expected.is_empty(), "{flags:?}: the question has answers");
    assert!(
        expected.len() < all.len(),
        "{flags:?}: the question narrows"
    );
    assert_eq!(got.iter().collect::<Vec<_>>(), expected, "{flags:?}");
}

#[test]
fn from_a_workload() {
    same_as_filtered(&["--from", "web/frontend"], |c| {
        s(c, "src") == "web/frontend"
    });
}

#[test]
fn to_a_namespace() {
    same_as_filtered(&["--to", "kube-system"], |c| {
        s(c, "dst").starts_with("kube-system/")
    });
}

#[test]
fn from_a_label_selector() {
    // app=api labels api/server only; `app in (api,frontend)` adds web/frontend.
    same_as_filtered(&["--from", "app=api"], |c| s(c, "src") == "api/server");
    same_as_filtered(
        &["--from", "app in (api, frontend)", "--to", "app!=db"],
        |c| {
            ["api/server", "web/frontend"].contains(&s(c, "src"))
            && s(c, "dst") != "api/postgres"
            // External peers have no labels: a label selector never picks one.
            && !s(c, "dst").starts_with("external")
        },
    );
}

#[test]
fn to_a_cidr_takes_the_external_peers_inside_it() {
    same_as_filtered(&["--to", "192.0.2.0/24"], |c| {
        s(c, "dst").starts_with("external:192.0.2.")
    });
    same_as_filtered(&["--from", "external"], |c| {
        s(c, "src").starts_with("external")
    });
}

#[test]
fn port_and_only() {
    same_as_filtered(&["--port", "53/udp"], |c| {
        c["port"] == 53 && s(c, "protocol") == "UDP"
    });
    same_as_filtered(&["--port", "53"], |c| c["port"] == 53);
    same_as_filtered(&["--only", "denied"], |c| c["allowed"] == false);
    same_as_filtered(&["--only", "allowed", "--from", "web/frontend"], |c| {
        c["allowed"] == true && s(c, "src") == "web/frontend"
    });
}

#[test]
fn namespace_filter_keeps_external_peers() {
    same_as_filtered(
        &["--namespace-filter", "api", "--namespace-filter", "web"],
        |c| {
            let ok = |n: &str| {
                n.starts_with("api/") || n.starts_with("web/") || n.starts_with("external")
            };
            ok(s(c, "src")) && ok(s(c, "dst"))
        },
    );
    assert_eq!(connections(&["-A"]), connections(&[]));
    let run = netpol(&["matrix", "engine", "-A", "--namespace-filter", "api"]);
    assert_eq!(run.code, 2, "{}", run.transcript());
}

#[test]
fn focus_applies_to_every_format() {
    let flags = ["--from", "web/frontend", "--only", "allowed"];
    let csv = netpol(&[
        "matrix", "engine", "-o", "csv", flags[0], flags[1], flags[2], flags[3],
    ]);
    let rows: Vec<&str> = csv.stdout.lines().skip(1).collect();
    let from_json = support::json_as_csv(
        &serde_json::json!({"connections": connections(&flags)}),
        &["src", "dst", "port", "protocol", "allowed"],
    );
    assert_eq!(rows, from_json);
    let table = netpol(&["matrix", "engine", flags[0], flags[1], flags[2], flags[3]]);
    let sources: Vec<&str> = table
        .stdout
        .lines()
        .skip_while(|l| !l.starts_with("source"))
        .skip(1)
        .take_while(|l| !l.is_empty())
        .collect();
    assert_eq!(sources.len(), 1, "{}", table.stdout);
    assert!(sources[0].starts_with("web/frontend"));
    assert!(
        !sources[0].contains('.'),
        "only allowed squares: {}",
        table.stdout
    );
    let dot = netpol(&["matrix", "engine", "-o", "dot", "--from", "web/frontend"]);
    for line in dot.stdout.lines().filter(|l| l.contains(" -> ")) {
        assert!(
            line.trim_start().starts_with("\"web/frontend\" ->"),
            "{line}"
        );
    }
    let summary = netpol(&[
        "matrix",
        "engine",
        "--summary",
        "-o",
        "csv",
        "--from",
        "web/frontend",
    ]);
    assert!(
        summary
            .stdout
            .lines()
            .skip(1)
            .all(|l| l.starts_with("web/frontend,")),
        "{}",
        summary.stdout
    );
}

#[test]
fn a_selector_that_matches_nothing_is_a_usage_error() {
    let run = netpol(&["matrix", "engine", "--from", "nope/nothing"]);
    assert_eq!(run.code, 2);
    assert_contains(
        &run.stderr,
        "--from \"nope/nothing\" matches no endpoint and no external peer",
    );
    let run = netpol(&["matrix", "engine", "--port", "http"]);
    assert_eq!(run.code, 2);
    assert_contains(&run.stderr, "--port \"http\"");
    let run = netpol(&["matrix", "engine", "--summary", "--port", "53"]);
    assert_eq!(run.code, 2);
}
