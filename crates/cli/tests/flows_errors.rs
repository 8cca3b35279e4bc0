//! Malformed flows files: every error names file, line and field, the exit
//! status is 2 (bad input), and gen writes nothing.

mod support;

use std::path::PathBuf;

use support::{Run, netpol_in};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/flows")
}

/// Runs gen and verify on a bad flows file; both fail with the same message
/// and gen leaves no output directory behind.
fn rejected(file: &str) -> String {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let Run {
        code,
        stdout,
        stderr,
    } = netpol_in(
        &fixtures(),
        &["gen", file, "cluster.yaml", "--dir", out.to_str().unwrap()],
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert!(
        !out.exists(),
        "gen created {} for a bad flows file",
        out.display()
    );
    assert!(
        stderr.ends_with("in the flows file; nothing was done\n"),
        "{stderr}"
    );
    let Run {
        code: vcode,
        stdout: vstdout,
        stderr: vstderr,
    } = netpol_in(&fixtures(), &["verify", file, "cluster.yaml"]);
    assert_eq!(vcode, 2);
    assert!(vstdout.is_empty());
    assert_eq!(vstderr, stderr);
    stderr
}

#[test]
fn port_out_of_range() {
    let err = rejected("bad-port.yaml");
    assert!(
        err.starts_with(
            "error: bad-port.yaml:4: flows[0].ports[1]: port 70000 is not between 1 and 65535"
        ),
        "{err}"
    );
}

#[test]
fn unknown_field() {
    let err = rejected("unknown-field.yaml");
    assert!(
        err.starts_with("error: unknown-field.yaml:7: flows[0].protocol: unknown field `protocol`"),
        "{err}"
    );
}

#[test]
fn bad_mode() {
    let err = rejected("bad-mode.yaml");
    assert!(
        err.starts_with("error: bad-mode.yaml:1: defaultDeny: unknown variant `egress`"),
        "{err}"
    );
}

#[test]
fn missing_ports() {
    let err = rejected("missing-ports.yaml");
    assert!(
        err.starts_with("error: missing-ports.yaml:2: flows[0]: missing field `ports`"),
        "{err}"
    );
}

#[test]
fn yaml_syntax() {
    let err = rejected("syntax.yaml");
    assert!(err.starts_with("error: syntax.yaml:"), "{err}");
    assert!(err.contains("invalid YAML"), "{err}");
}

#[test]
fn every_problem_of_a_file_is_listed() {
    let err = rejected("bad-endpoint.yaml");
    insta::assert_snapshot!(err);
    for at in [
        "bad-endpoint.yaml:3: flows[0].to:",
        "bad-endpoint.yaml:6: flows[1]:",
        "bad-endpoint.yaml:12: flows[2].ports[0]:",
        "bad-endpoint.yaml:13: flows[2].purpose:",
    ] {
        assert!(err.contains(at), "{at} missing:\n{err}");
    }
    assert!(err.contains("4 errors in the flows file"), "{err}");
}

/// Mistakes in the structure (unknown and missing fields, wrong types) and
/// in the values, in several flows and settings: one run lists them all,
/// by line, like manifest errors.
#[test]
fn every_structural_problem_is_listed_at_once() {
    let err = rejected("many-errors.yaml");
    insta::assert_snapshot!(err);
    for at in [
        "many-errors.yaml:1: defaultDeny: unknown variant `egress`",
        "many-errors.yaml:2: allowDns: invalid type",
        "many-errors.yaml:4: cluster.podCIDRs: invalid type",
        "many-errors.yaml:6: cluster.apiserver.port:",
        "many-errors.yaml:12: flows[0].protocol: unknown field `protocol`",
        "many-errors.yaml:13: flows[1]: missing field `ports`",
        "many-errors.yaml:18: flows[2].ports[1]: port 99999 is not between 1 and 65535",
        "many-errors.yaml:20: flows[3].from:",
        "many-errors.yaml:23: flows[3].purpose:",
        "many-errors.yaml:24: flows[4]: invalid type: a string, expected a mapping",
        "many-errors.yaml:25: colour: unknown field `colour`",
    ] {
        assert!(err.contains(at), "{at} missing:\n{err}");
    }
    assert!(err.contains("11 errors in the flows file"), "{err}");
}

#[test]
fn missing_and_empty_files() {
    let tmp = tempfile::tempdir().unwrap();
    let Run { code, stderr, .. } = netpol_in(
        &fixtures(),
        &["verify", "no-such-file.yaml", "cluster.yaml"],
    );
    assert_eq!(code, 2);
    assert!(
        stderr.starts_with("error: no-such-file.yaml: cannot read:"),
        "{stderr}"
    );
    let empty = tmp.path().join("empty.yaml");
    std::fs::write(&empty, "# nothing\n").unwrap();
    let Run { code, stderr, .. } = netpol_in(
        &fixtures(),
        &["verify", empty.to_str().unwrap(), "cluster.yaml"],
    );
    assert_eq!(code, 2);
    assert!(stderr.contains("the file is empty"), "{stderr}");
}
