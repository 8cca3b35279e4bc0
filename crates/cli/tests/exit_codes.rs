//! One exit-status scheme for every command: 0 clean, 1 findings, 2 bad
//! input or usage, 3 denied (`explain --exit-code`). Each command is run
//! into each status it can give.

mod support;

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use support::{
    COMMANDS, Run, assert_contains, explain, netpol, netpol_in, netpol_with_stdin, review_diff,
};

const CLEAN: i32 = 0;
const FINDINGS: i32 = 1;
const BAD: i32 = 2;
const DENIED: i32 = 3;

fn homelab() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/homelab")
}

fn expect(code: i32, run: Run) -> Run {
    assert_eq!(run.code, code, "{}", run.transcript());
    run
}

/// The output of a failed run says why, on stderr, and nothing on stdout.
fn expect_bad(run: Run) {
    let run = expect(BAD, run);
    assert!(run.stdout.is_empty(), "{}", run.transcript());
    assert!(run.stderr.contains("error"), "{}", run.transcript());
}

/// A manifest that does not load (bad/*.yaml), and a flows file that does not parse.
const BAD_MANIFESTS: &str = "bad";
const BAD_FLOWS: &str = "flows/bad-port.yaml";

#[test]
fn every_command_rejects_bad_usage_with_2() {
    for command in COMMANDS {
        let run = netpol(&[command, "--no-such-flag"]);
        assert_eq!(run.code, BAD, "{command}: {}", run.transcript());
    }
    expect(BAD, netpol(&[]));
    expect(BAD, netpol(&["matrix", "engine", "-o", "yaml"]));
    expect(
        BAD,
        netpol(&["matrix", "engine", "--from", "no-such-namespace"]),
    );
    expect(
        BAD,
        netpol(&["report", "engine", "-o", "no-such-dir/report.html"]),
    );
}

#[test]
fn matrix_0_clean() {
    expect(CLEAN, netpol(&["matrix", "engine"]));
}

#[test]
fn matrix_2_bad_input() {
    expect_bad(netpol(&["matrix", BAD_MANIFESTS]));
    expect_bad(netpol(&["matrix", "no-such-dir"]));
}

/// `explain engine --from web/frontend --to TO --port PORT EXTRA...`
fn from_frontend(to: &str, port: &str, extra: &[&str]) -> Run {
    explain(&["engine"], "web/frontend", to, port, extra)
}

#[test]
fn explain_0_allowed_or_without_exit_code() {
    expect(CLEAN, from_frontend("api/server", "9000", &["--exit-code"]));
    // Denied, but nobody asked for the verdict as a status.
    expect(CLEAN, from_frontend("api/server", "9100", &[]));
}

#[test]
fn explain_3_denied() {
    expect(
        DENIED,
        from_frontend("api/server", "9100", &["--exit-code"]),
    );
}

#[test]
fn explain_2_bad_input() {
    expect_bad(explain(&[BAD_MANIFESTS], "a/b", "c/d", "80", &[]));
    expect_bad(from_frontend("api/nobody", "80", &["--exit-code"]));
    expect_bad(from_frontend("api/server", "0", &["--exit-code"]));
}

#[test]
fn nft_0_clean() {
    let run = expect(CLEAN, netpol(&["nft", "engine"]));
    assert_contains(&run.stdout, "table inet netpol");
}

#[test]
fn nft_2_bad_input() {
    expect_bad(netpol(&["nft", BAD_MANIFESTS]));
    // Loads, but cannot be enforced: two pods with one address.
    let pods = "apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: x}\nspec: {containers: [{name: m, image: i}]}\nstatus: {podIP: 10.0.0.1}\n---\n\
         apiVersion: v1\nkind: Pod\nmetadata: {name: b, namespace: x}\nspec: {containers: [{name: m, image: i}]}\nstatus: {podIP: 10.0.0.1}\n";
    expect_bad(netpol_with_stdin(&["nft", "-"], Some(pods)));
}

/// Probes build network namespaces: one at a time in this binary.
static PROBE: Mutex<()> = Mutex::new(());

const PROBE_CLUSTER: &str = "apiVersion: v1\nkind: Pod\nmetadata: {name: client, namespace: x}\nspec: {containers: [{name: m, image: i}]}\nstatus: {podIP: 10.42.0.1}\n---\n\
     apiVersion: v1\nkind: Pod\nmetadata: {name: server, namespace: x}\nspec: {containers: [{name: m, image: i, ports: [{containerPort: 80}]}]}\nstatus: {podIP: 10.42.0.2}\n";

const DENY_ALL: &str = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny, namespace: x}\nspec: {podSelector: {}, policyTypes: [Ingress]}\n";

fn probe_files(dir: &Path) -> (String, String) {
    let cluster = dir.join("cluster.yaml");
    let deny = dir.join("deny.yaml");
    std::fs::write(&cluster, PROBE_CLUSTER).unwrap();
    std::fs::write(&deny, DENY_ALL).unwrap();
    (
        cluster.to_str().unwrap().to_string(),
        deny.to_str().unwrap().to_string(),
    )
}

#[test]
fn probe_0_kernel_and_engine_agree() {
    let _one = PROBE.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let (cluster, deny) = probe_files(dir.path());
    let run = expect(
        CLEAN,
        netpol(&["probe", &cluster, &deny, "--compare", "--timeout", "300"]),
    );
    assert_contains(
        &run.stdout,
        r#"{"src":"x/client","dst":"x/server","port":80,"protocol":"TCP","allowed":false,"measured":true,"engine":false}"#,
    );
}

#[test]
fn probe_1_kernel_and_engine_disagree() {
    let _one = PROBE.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let (cluster, deny) = probe_files(dir.path());
    // The kernel enforces a default-deny the engine does not see.
    let ruleset = expect(CLEAN, netpol(&["nft", &cluster, &deny]));
    let rules = dir.path().join("deny.nft");
    std::fs::write(&rules, ruleset.stdout).unwrap();
    let run = expect(
        FINDINGS,
        netpol(&[
            "probe",
            &cluster,
            "--ruleset",
            rules.to_str().unwrap(),
            "--compare",
            "--timeout",
            "300",
        ]),
    );
    assert_contains(&run.stderr, "DISAGREE x/client -> x/server");
}

#[test]
fn probe_2_bad_input() {
    let _one = PROBE.lock().unwrap_or_else(|e| e.into_inner());
    expect_bad(netpol(&["probe", BAD_MANIFESTS]));
    let dir = tempfile::tempdir().unwrap();
    let (cluster, _) = probe_files(dir.path());
    let missing = dir.path().join("missing.nft");
    expect_bad(netpol(&[
        "probe",
        &cluster,
        "--ruleset",
        missing.to_str().unwrap(),
    ]));
}

#[test]
fn diff_0_unchanged_or_without_exit_code() {
    expect(CLEAN, review_diff("review/old", &["--exit-code"]));
    expect(CLEAN, review_diff("review/new", &[]));
}

#[test]
fn diff_1_changed() {
    expect(FINDINGS, review_diff("review/new", &["--exit-code"]));
}

#[test]
fn diff_2_bad_input() {
    expect_bad(review_diff(BAD_MANIFESTS, &["--exit-code"]));
    expect_bad(netpol(&["diff", "review/old"]));
}

/// Policies alone, without the workloads they select: no verdict exists to
/// change, and "No connectivity change" would be a falsely reassuring answer.
#[test]
fn diff_2_neither_side_has_a_workload() {
    let tmp = tempfile::tempdir().unwrap();
    let (old, new) = (tmp.path().join("old.yaml"), tmp.path().join("new.yaml"));
    std::fs::write(&old, DENY_ALL).unwrap();
    std::fs::write(&new, "").unwrap();
    let (old, new) = (old.to_str().unwrap(), new.to_str().unwrap());
    for extra in [&[][..], &["--exit-code"], &["-o", "json"]] {
        let mut args = vec!["diff", old, new];
        args.extend_from_slice(extra);
        let run = expect(BAD, netpol(&args));
        assert!(run.stdout.is_empty(), "{}", run.transcript());
        assert!(
            run.stderr
                .starts_with("warning: neither side has any workload"),
            "{}",
            run.stderr
        );
    }
    // One side with workloads is a real answer: they were added.
    let run = expect(CLEAN, netpol(&["diff", old, "review/cluster.yaml"]));
    assert_contains(&run.stdout, "(added;");
}

#[test]
fn lint_0_clean_or_below_the_threshold() {
    expect(
        CLEAN,
        netpol_in(
            &homelab(),
            &["lint", "manifests", "generated", "--fail-on", "info"],
        ),
    );
    expect(
        CLEAN,
        netpol(&[
            "lint",
            "review/cluster.yaml",
            "review/lint",
            "--fail-on",
            "never",
        ]),
    );
}

#[test]
fn lint_1_findings() {
    expect(
        FINDINGS,
        netpol(&["lint", "review/cluster.yaml", "review/lint"]),
    );
}

#[test]
fn lint_2_bad_input() {
    expect_bad(netpol(&["lint", BAD_MANIFESTS]));
}

fn gen_args<'a>(flows: &'a str, manifests: &'a str, out: &'a Path, check: bool) -> Vec<&'a str> {
    let mut args = vec!["gen", flows, manifests, "--dir", out.to_str().unwrap()];
    if check {
        args.push("--check");
    }
    args
}

#[test]
fn gen_0_written_or_up_to_date() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let h = homelab();
    expect(
        CLEAN,
        netpol_in(&h, &gen_args("flows.yaml", "manifests", &out, false)),
    );
    expect(
        CLEAN,
        netpol_in(&h, &gen_args("flows.yaml", "manifests", &out, true)),
    );
}

#[test]
fn gen_1_check_finds_it_stale() {
    let tmp = tempfile::tempdir().unwrap();
    let run = expect(
        FINDINGS,
        netpol_in(
            &homelab(),
            &gen_args("flows.yaml", "manifests", tmp.path(), true),
        ),
    );
    assert_contains(&run.stderr, "is stale");
}

#[test]
fn gen_2_bad_input() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    expect_bad(netpol(&gen_args(
        BAD_FLOWS,
        "flows/cluster.yaml",
        &out,
        false,
    )));
    expect_bad(netpol(&gen_args(
        "flows/shop/flows.yaml",
        BAD_MANIFESTS,
        &out,
        false,
    )));
    // A file netpol did not write is in the way.
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("shop.yaml"), "# mine\n").unwrap();
    for check in [false, true] {
        expect_bad(netpol(&gen_args(
            "flows/shop/flows.yaml",
            "flows/shop/cluster.yaml",
            &out,
            check,
        )));
    }
}

#[test]
fn verify_0_implemented() {
    expect(
        CLEAN,
        netpol_in(
            &homelab(),
            &["verify", "flows.yaml", "manifests", "generated", "--strict"],
        ),
    );
}

#[test]
fn verify_1_not_implemented() {
    expect(
        FINDINGS,
        netpol_in(&homelab(), &["verify", "flows.yaml", "manifests"]),
    );
}

#[test]
fn verify_2_bad_input() {
    expect_bad(netpol(&["verify", BAD_FLOWS, "flows/cluster.yaml"]));
    expect_bad(netpol(&["verify", "flows/shop/flows.yaml", BAD_MANIFESTS]));
}
