mod support;

use support::netpol;

#[test]
fn allowed_by_namespace_selector_and_named_port() {
    let run = netpol(&[
        "explain",
        "engine",
        "--from",
        "web/frontend",
        "--to",
        "api/server",
        "--port",
        "9000",
    ]);
    assert_eq!(run.code, 0);
    insta::assert_snapshot!(run.transcript());
}

#[test]
fn denied_names_the_label_and_the_port() {
    let run = netpol(&[
        "explain",
        "engine",
        "--from",
        "web/frontend",
        "--to",
        "api/server",
        "--port",
        "9100",
        "--exit-code",
    ]);
    assert_eq!(run.code, 3);
    insta::assert_snapshot!(run.transcript());
}

#[test]
fn denied_on_egress_and_ingress() {
    let run = netpol(&[
        "explain",
        "engine",
        "--from",
        "api/postgres",
        "--to",
        "web/frontend",
        "--port",
        "8080/tcp",
    ]);
    assert_eq!(
        run.code, 0,
        "without --exit-code a denied verdict is still a successful run"
    );
    assert!(run.stdout.starts_with("DENIED"));
    insta::assert_snapshot!(run.transcript());
}

#[test]
fn external_address_through_ip_block_with_except() {
    let allowed = netpol(&[
        "explain",
        "engine",
        "--from",
        "api/server",
        "--to",
        "192.0.2.10",
        "--port",
        "443",
        "--exit-code",
    ]);
    assert_eq!(allowed.code, 0, "{}", allowed.stdout);
    let excepted = netpol(&[
        "explain",
        "engine",
        "--from",
        "api/server",
        "--to",
        "192.0.2.200",
        "--port",
        "443",
        "--exit-code",
    ]);
    assert_eq!(excepted.code, 3);
    assert!(
        excepted
            .stdout
            .contains("192.0.2.200 is in 192.0.2.0/24 but excluded by except 192.0.2.128/25"),
        "{}",
        excepted.stdout
    );
    insta::assert_snapshot!(excepted.transcript());
}

#[test]
fn a_pod_ip_is_that_pod() {
    let by_ip = netpol(&[
        "explain",
        "engine",
        "--from",
        "10.42.0.10",
        "--to",
        "10.42.0.20",
        "--port",
        "9000",
        "-o",
        "json",
    ]);
    let by_name = netpol(&[
        "explain",
        "engine",
        "--from",
        "web/frontend",
        "--to",
        "api/server",
        "--port",
        "9000",
        "-o",
        "json",
    ]);
    assert_eq!(by_ip.code, 0);
    assert_eq!(by_ip.stdout, by_name.stdout);
}

#[test]
fn same_pod_is_always_allowed() {
    let run = netpol(&[
        "explain",
        "engine",
        "--from",
        "api/postgres",
        "--to",
        "api/postgres",
        "--port",
        "5432",
        "-o",
        "json",
        "--exit-code",
    ]);
    assert_eq!(run.code, 0);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["decidedBy"], "same-pod");
    assert_eq!(v["allowed"], true);
    // The policies were still evaluated and would deny it.
    assert_eq!(v["egress"]["allowed"], false);
}

#[test]
fn json_trace_is_data() {
    let run = netpol(&[
        "explain",
        "engine",
        "--from",
        "web/frontend",
        "--to",
        "api/server",
        "--port",
        "http/TCP",
        "-o",
        "json",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    insta::assert_snapshot!(run.stdout);
}

#[test]
fn unknown_endpoint_and_bad_port_are_usage_errors() {
    let run = netpol(&[
        "explain",
        "engine",
        "--from",
        "web/nope",
        "--to",
        "api/server",
        "--port",
        "80",
    ]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("unknown endpoint \"web/nope\" (endpoints in web: web/frontend)"),
        "{}",
        run.stderr
    );
    let run = netpol(&[
        "explain",
        "engine",
        "--from",
        "web/frontend",
        "--to",
        "api/server",
        "--port",
        "80/icmp",
    ]);
    assert_eq!(run.code, 2);
    let run = netpol(&[
        "explain",
        "engine",
        "--from",
        "web/frontend",
        "--to",
        "api/server",
        "--port",
        "nosuch",
    ]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("api/server declares no port named \"nosuch\""),
        "{}",
        run.stderr
    );
}
