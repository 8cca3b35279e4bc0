//! `netpol probe` with real packets: these tests create network namespaces
//! and need root, `ip` and `nft` (CI installs nftables and iproute2 and runs
//! as root). They are never skipped: without root they fail, loudly.
//!
//! Every run is a separate `netpol` process whose namespaces are named after
//! its pid, so runs cannot touch each other's; a lock still runs them one at
//! a time, so that short timeouts are not stretched by a busy machine.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::{Mutex, MutexGuard};

use serde_json::Value;

const NETPOL: &str = env!("CARGO_BIN_EXE_netpol");

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|p| p.into_inner())
}

fn scenario(name: &str) -> String {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/probe-scenarios");
    dir.join(name).to_string_lossy().into_owned()
}

/// Runs `netpol ARGS` with extra environment; returns the output and the child's pid.
fn netpol(args: &[&str], env: &[(&str, &str)]) -> (Output, u32) {
    let mut cmd = Command::new(NETPOL);
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let child = cmd.spawn().expect("netpol runs");
    let pid = child.id();
    (child.wait_with_output().expect("netpol finishes"), pid)
}

/// Network namespaces named after `pid` that still exist.
fn namespaces_of(pid: u32) -> Vec<String> {
    entries_starting("/run/netns", &format!("np-{pid}-"))
}

/// State files of the run with `pid` that are still there.
fn state_files_of(pid: u32) -> Vec<String> {
    entries_starting("/run/netpol", &format!("probe-{pid}-"))
}

fn entries_starting(dir: &str, prefix: &str) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with(prefix))
        .collect()
}

/// The host's own interfaces, which probe must never change.
fn host_links() -> BTreeSet<String> {
    let out = Command::new("ip")
        .args(["-o", "link", "show"])
        .output()
        .expect("ip runs");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            l.split(':')
                .nth(1)
                .map(|s| s.trim().split('@').next().unwrap_or("").to_string())
        })
        .collect()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

struct Counts {
    allowed: usize,
    denied: usize,
    untestable: usize,
}

/// Checks the JSON contract and that every measured connection agrees with the engine.
fn check_measurements(stdout: &[u8]) -> (Counts, Vec<Value>) {
    let doc: Value = serde_json::from_slice(stdout).expect("probe prints JSON");
    let conns = doc["connections"].as_array().expect("connections").clone();
    let mut c = Counts {
        allowed: 0,
        denied: 0,
        untestable: 0,
    };
    for conn in &conns {
        for key in ["src", "dst", "protocol"] {
            assert!(conn[key].is_string(), "{conn}");
        }
        assert!(conn["port"].is_u64(), "{conn}");
        match conn["measured"].as_bool() {
            Some(true) => {
                let allowed = conn["allowed"]
                    .as_bool()
                    .expect("measured connections have a verdict");
                assert_eq!(
                    conn["engine"].as_bool(),
                    Some(allowed),
                    "engine and kernel disagree: {conn}"
                );
                if allowed {
                    c.allowed += 1;
                } else {
                    c.denied += 1;
                }
            }
            Some(false) => {
                assert!(conn["allowed"].is_null(), "{conn}");
                assert!(
                    !conn["untestable"].as_str().unwrap_or("").is_empty(),
                    "untestable needs a reason: {conn}"
                );
                c.untestable += 1;
            }
            None => panic!("no measured field: {conn}"),
        }
    }
    (c, conns)
}

/// Probes the nine-pod cluster with one scenario's policies and requires full agreement.
fn agree(policies: &str) -> (Counts, Vec<Value>) {
    let _lock = serial();
    let links = host_links();
    let (out, pid) = netpol(
        &[
            "probe",
            &scenario("cluster.yaml"),
            &scenario(policies),
            "--compare",
        ],
        &[],
    );
    let err = stderr(&out);
    assert!(
        out.status.success(),
        "probe --compare failed for {policies}:\n{err}"
    );
    let (counts, conns) = check_measurements(&out.stdout);
    assert_eq!(conns.len(), 108, "nine pods, twelve declared ports");
    let summary = format!(
        "108 connections: {} agree, 0 disagree, {} not testable",
        counts.allowed + counts.denied,
        counts.untestable
    );
    assert!(err.contains(&summary), "expected `{summary}` in:\n{err}");
    assert!(
        err.contains("api/api-2 has no status.podIP; probing it as 198.18.0.1"),
        "{err}"
    );
    // SCTP is measured where the kernel has it, and never counted as agreeing where it has not.
    for conn in conns.iter().filter(|c| c["protocol"] == "SCTP") {
        if conn["measured"] == false {
            assert!(
                conn["untestable"].as_str().unwrap().contains("SCTP"),
                "{conn}"
            );
        }
    }
    assert!(
        namespaces_of(pid).is_empty(),
        "namespaces left behind: {:?}",
        namespaces_of(pid)
    );
    assert_eq!(host_links(), links, "the host's interfaces changed");
    assert!(state_files_of(pid).is_empty(), "{:?}", state_files_of(pid));
    (counts, conns)
}

fn find<'a>(conns: &'a [Value], src: &str, dst: &str, port: u64) -> &'a Value {
    conns
        .iter()
        .find(|c| c["src"] == src && c["dst"] == dst && c["port"] == port)
        .unwrap_or_else(|| panic!("no connection {src} -> {dst}:{port}"))
}

fn measured(conns: &[Value], src: &str, dst: &str, port: u64) -> bool {
    let c = find(conns, src, dst, port);
    assert_eq!(c["measured"], true, "{c}");
    c["allowed"].as_bool().unwrap()
}

#[test]
fn default_deny_both_directions_leaves_each_pod_only_itself() {
    let (counts, conns) = agree("default-deny.yaml");
    for c in conns.iter().filter(|c| c["measured"] == true) {
        assert_eq!(c["allowed"] == true, c["src"] == c["dst"], "{c}");
    }
    assert!(counts.allowed >= 8 && counts.denied > 80);
}

#[test]
fn pod_and_namespace_selectors_in_one_peer_are_anded() {
    let (_, conns) = agree("selectors-and.yaml");
    assert!(measured(&conns, "api/api-1", "data/postgres", 5432));
    assert!(!measured(&conns, "api/worker", "data/postgres", 5432));
    assert!(!measured(&conns, "web/admin", "data/postgres", 5432));
    assert!(measured(&conns, "web/admin", "web/frontend-1", 80));
    assert!(!measured(&conns, "api/api-1", "web/frontend-1", 80));
}

#[test]
fn separate_peers_are_ored() {
    let (_, conns) = agree("selectors-or.yaml");
    assert!(measured(&conns, "api/worker", "data/postgres", 5432));
    assert!(measured(&conns, "data/redis", "data/postgres", 5432));
    assert!(!measured(&conns, "data/dns", "data/postgres", 5432));
    assert!(!measured(&conns, "web/frontend-1", "data/dns", 53));
}

#[test]
fn named_ports_resolve_on_each_destination() {
    let (_, conns) = agree("named-ports.yaml");
    assert!(measured(&conns, "web/admin", "web/frontend-1", 80));
    assert!(measured(&conns, "web/admin", "api/api-1", 8080));
    assert!(!measured(&conns, "web/admin", "api/api-1", 9090));
    assert!(!measured(&conns, "web/admin", "data/postgres", 5432));
    assert!(!measured(&conns, "data/redis", "api/worker", 5000));
}

#[test]
fn end_port_ranges() {
    let (_, conns) = agree("end-port.yaml");
    assert!(measured(&conns, "web/admin", "data/postgres", 5432));
    assert!(measured(&conns, "web/admin", "data/redis", 6379));
    assert!(!measured(&conns, "web/admin", "api/api-1", 8080));
    assert!(!measured(&conns, "web/admin", "api/worker", 5000));
    assert!(measured(&conns, "data/redis", "api/api-1", 9090));
    assert!(!measured(&conns, "data/redis", "api/api-1", 8080));
}

#[test]
fn ip_blocks_with_except() {
    let (_, conns) = agree("ip-block.yaml");
    assert!(measured(&conns, "web/frontend-1", "data/redis", 6379));
    assert!(!measured(&conns, "web/admin", "data/redis", 6379));
    assert!(!measured(&conns, "api/api-2", "data/postgres", 5432));
    assert!(measured(&conns, "api/api-1", "data/postgres", 5432));
    assert!(!measured(&conns, "api/worker", "data/redis", 6379));
    assert!(measured(&conns, "api/worker", "web/frontend-1", 80));
    assert!(!measured(&conns, "api/worker", "web/frontend-2", 80));
}

#[test]
fn egress_and_ingress_are_both_required() {
    let (_, conns) = agree("both-directions.yaml");
    assert!(!measured(&conns, "api/worker", "data/postgres", 5432));
    assert!(measured(&conns, "web/admin", "data/postgres", 5432));
    assert!(!measured(&conns, "api/api-1", "web/frontend-1", 80));
    assert!(measured(&conns, "api/api-2", "web/frontend-1", 80));
    assert!(measured(&conns, "api/worker", "api/worker", 5000));
}

#[test]
fn a_ruleset_that_differs_from_the_engine_is_caught() {
    let _lock = serial();
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("deny.nft");
    let (out, _) = netpol(
        &[
            "nft",
            &scenario("cluster.yaml"),
            &scenario("default-deny.yaml"),
        ],
        &[],
    );
    assert!(out.status.success());
    std::fs::write(&rules, &out.stdout).unwrap();
    // The engine sees no policy at all, the kernel enforces default deny.
    let (out, pid) = netpol(
        &[
            "probe",
            &scenario("cluster.yaml"),
            "--ruleset",
            rules.to_str().unwrap(),
            "--compare",
        ],
        &[],
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("DISAGREE web/admin -> data/postgres 5432/TCP: engine allowed, kernel denied"),
        "{err}"
    );
    assert!(namespaces_of(pid).is_empty());
}

/// The engine told to ignore ipBlock excepts: the kernel matches the policies'
/// own CIDRs and excepts, so the probe must catch the engine's mistake (a
/// ruleset filled with the addresses the engine says a block admits would
/// enforce the mistake and agree with it).
#[test]
fn a_broken_engine_is_caught_by_the_kernel() {
    let _lock = serial();
    let (out, pid) = netpol(
        &[
            "probe",
            &scenario("cluster.yaml"),
            &scenario("ip-block.yaml"),
            "--compare",
        ],
        &[("NETPOL_TEST_BREAK_ENGINE", "ip-block-except")],
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    // web/admin is in the except of data's ingress block; api/* reach redis only through their except.
    for line in [
        "DISAGREE web/admin -> data/redis 6379/TCP: engine allowed, kernel denied",
        "DISAGREE api/worker -> data/redis 6379/TCP: engine allowed, kernel denied",
    ] {
        assert!(err.contains(line), "expected `{line}` in:\n{err}");
    }
    assert!(
        err.lines()
            .filter(|l| l.starts_with("DISAGREE"))
            .all(|l| l.contains("engine allowed, kernel denied")),
        "{err}"
    );
    assert!(namespaces_of(pid).is_empty());
}

#[test]
fn a_failure_at_any_stage_leaves_nothing_behind() {
    let _lock = serial();
    let links = host_links();
    for stage in ["namespaces", "network", "ruleset", "listeners"] {
        let (out, pid) = netpol(
            &[
                "probe",
                &scenario("cluster.yaml"),
                &scenario("default-deny.yaml"),
            ],
            &[("NETPOL_PROBE_FAIL_AT", stage)],
        );
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(
            err.contains(&format!("stopped on purpose at stage {stage}")),
            "{err}"
        );
        assert!(out.stdout.is_empty(), "no result after a failure");
        assert!(
            namespaces_of(pid).is_empty(),
            "{stage}: left {:?}",
            namespaces_of(pid)
        );
        assert_eq!(
            host_links(),
            links,
            "{stage}: the host's interfaces changed"
        );
    }
}

#[test]
fn a_bad_ruleset_fails_cleanly() {
    let _lock = serial();
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("bad.nft");
    std::fs::write(
        &rules,
        "table inet netpol {\n\tchain forward {\n\t\tnonsense\n\t}\n}\n",
    )
    .unwrap();
    let (out, pid) = netpol(
        &[
            "probe",
            &scenario("cluster.yaml"),
            "--ruleset",
            rules.to_str().unwrap(),
        ],
        &[],
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("nft -f -") && err.contains("nonsense"),
        "{err}"
    );
    assert!(namespaces_of(pid).is_empty());
}

fn interrupted_by(signal: &str, expected: i32) {
    let _lock = serial();
    let mut child = Command::new(NETPOL)
        .args([
            "probe",
            &scenario("cluster.yaml"),
            &scenario("default-deny.yaml"),
        ])
        .env("NETPOL_PROBE_PAUSE_AT", "listeners")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut seen = String::new();
    loop {
        let line = lines.next().expect("probe pauses before it ends").unwrap();
        seen.push_str(&line);
        seen.push('\n');
        if line.contains("paused at listeners") {
            break;
        }
    }
    assert!(
        !namespaces_of(pid).is_empty(),
        "the network exists while paused"
    );
    // The shell's builtin kill: no procps needed.
    let status = Command::new("sh")
        .args(["-c", &format!("kill -{signal} {pid}")])
        .status()
        .unwrap();
    assert!(status.success());
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let code = child.wait().unwrap().code();
    assert_eq!(code, Some(expected), "{seen}{}", rest.join("\n"));
    assert!(
        rest.iter()
            .any(|l| l.contains(&format!("interrupted by SIG{signal}"))),
        "{}",
        rest.join("\n")
    );
    assert!(
        namespaces_of(pid).is_empty(),
        "left {:?}",
        namespaces_of(pid)
    );
    assert!(state_files_of(pid).is_empty(), "{:?}", state_files_of(pid));
}

#[test]
fn ctrl_c_tears_everything_down() {
    interrupted_by("INT", 130);
}

#[test]
fn sigterm_tears_everything_down() {
    interrupted_by("TERM", 143);
}

fn netns_add(name: &str) {
    assert!(
        Command::new("ip")
            .args(["netns", "add", name])
            .status()
            .unwrap()
            .success()
    );
}

fn netns_exists(name: &str) -> bool {
    PathBuf::from("/run/netns").join(name).exists()
}

/// A killed run's namespaces are removed through its state file; a namespace
/// that only looks like the probe's (no state file lists it) is left alone,
/// and so is a state file whose process still runs.
#[test]
fn leftovers_of_a_killed_run_are_removed_at_start_and_nothing_else() {
    let _lock = serial();
    // A pid that no process has: the run that made these is gone.
    let dead = (100_000..4_000_000u32)
        .find(|p| !PathBuf::from(format!("/proc/{p}")).exists())
        .unwrap();
    let marked = format!("np-{dead}-0badc0de-n0");
    let foreign = format!("np-{dead}-x");
    let state = PathBuf::from(format!("/run/netpol/probe-{dead}-0badc0de"));
    std::fs::create_dir_all("/run/netpol").unwrap();
    std::fs::write(
        &state,
        format!("{dead} 12345 np-{dead}-0badc0de-\n{marked}\n"),
    )
    .unwrap();
    netns_add(&marked);
    netns_add(&foreign);
    // A live process (this test) with its own marked namespace: not a leftover.
    let me = std::process::id();
    let live = format!("np-{me}-0badc0de-n0");
    let live_state = PathBuf::from(format!("/run/netpol/probe-{me}-0badc0de"));
    let started = std::fs::read_to_string(format!("/proc/{me}/stat")).unwrap();
    let started = started[started.rfind(')').unwrap() + 1..]
        .split_whitespace()
        .nth(19)
        .unwrap()
        .to_string();
    std::fs::write(
        &live_state,
        format!("{me} {started} np-{me}-0badc0de-\n{live}\n"),
    )
    .unwrap();
    netns_add(&live);

    let (out, _) = netpol(
        &[
            "probe",
            &scenario("cluster.yaml"),
            &scenario("default-deny.yaml"),
        ],
        &[],
    );
    let err = stderr(&out);
    let (marked_gone, foreign_kept, live_kept) = (
        !netns_exists(&marked),
        netns_exists(&foreign),
        netns_exists(&live),
    );
    for name in [&marked, &foreign, &live] {
        let _ = Command::new("ip").args(["netns", "delete", name]).status();
    }
    let state_gone = !state.exists();
    let _ = std::fs::remove_file(&state);
    let _ = std::fs::remove_file(&live_state);
    assert!(out.status.success(), "{err}");
    assert!(marked_gone, "the leftover {marked} is still there");
    assert!(state_gone, "its state file is still there");
    assert!(
        foreign_kept,
        "{foreign} was not the probe's, and was removed"
    );
    assert!(
        live_kept,
        "{live} belongs to a live process, and was removed"
    );
    assert!(
        err.contains(&format!("removed network namespace {marked}")),
        "{err}"
    );
    assert!(!err.contains(&foreign) && !err.contains(&live), "{err}");
}

#[test]
fn missing_requirements_are_named() {
    let _lock = serial();
    // No `nft` on PATH (but `ip` is).
    let dir = tempfile::tempdir().unwrap();
    let ip = ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"]
        .into_iter()
        .find(|p| PathBuf::from(p).exists())
        .unwrap();
    std::os::unix::fs::symlink(ip, dir.path().join("ip")).unwrap();
    let (out, _) = netpol(
        &["probe", &scenario("cluster.yaml")],
        &[("PATH", dir.path().to_str().unwrap())],
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        err.contains("needs the `nft` command") && err.contains("nftables"),
        "{err}"
    );

    // Not root. The binary is copied where any user may run it (the build
    // directory may be private); the check comes before the input is read.
    use std::os::unix::fs::PermissionsExt;
    let public = tempfile::tempdir().unwrap();
    std::fs::set_permissions(public.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let copy = public.path().join("netpol");
    std::fs::copy(NETPOL, &copy).unwrap();
    std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(&copy)
        .args(["probe", "manifests.yaml"])
        .output()
        .expect("setpriv (util-linux) runs");
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("needs root"), "{err}");
}

#[test]
fn ipv6_and_dual_stack_pods() {
    let _lock = serial();
    let (out, pid) = netpol(&["probe", &scenario("dual-stack.yaml"), "--compare"], &[]);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    let (counts, conns) = check_measurements(&out.stdout);
    assert_eq!(counts.untestable, 0);
    assert!(
        err.contains("43 connections: 43 agree, 0 disagree, 0 not testable"),
        "{err}"
    );
    // IPv6-only a reaches dual-stack b over IPv6.
    assert!(measured(&conns, "x/a", "x/b", 80));
    assert!(!measured(&conns, "x/a", "x/c", 80));
    // c is IPv6-only: d's IPv4 address in c's ipBlock cannot admit d's IPv6 connection.
    assert!(!measured(&conns, "x/d", "x/c", 8080));
    assert!(!measured(&conns, "x/d", "x/c", 80));
    assert!(!measured(&conns, "x/b", "x/c", 80));
    // e -> f is allowed over IPv4 only: two connections, one per family, both measured.
    let per_family: Vec<(&str, bool, bool)> = conns
        .iter()
        .filter(|c| c["src"] == "x/e" && c["dst"] == "x/f")
        .map(|c| {
            (
                c["family"].as_str().expect("one line per family"),
                c["allowed"].as_bool().expect("measured"),
                c["engine"].as_bool().expect("compared"),
            )
        })
        .collect();
    assert_eq!(per_family, [("IPv4", true, true), ("IPv6", false, false)]);
    assert!(namespaces_of(pid).is_empty());
}

/// The cases of `docs-cases.yaml`, each as the Kubernetes documentation says.
#[test]
fn cases_from_the_kubernetes_documentation() {
    let _lock = serial();
    let (out, pid) = netpol(&["probe", &scenario("docs-cases.yaml"), "--compare"], &[]);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    let (counts, conns) = check_measurements(&out.stdout);
    assert_eq!(counts.untestable, 0, "{err}");
    // Five replicas, capped at three pods, each with an address of its own.
    for r in 0..3 {
        assert!(
            err.contains(&format!("note: shop/web#{r} has no status.podIP")),
            "{err}"
        );
    }
    assert!(!err.contains("shop/web#3"), "{err}");
    // Replicas under a default-deny: blocked from each other, each reaches itself.
    assert!(!measured(&conns, "shop/web#0", "shop/web#1", 8080));
    assert!(!measured(&conns, "shop/web#2", "shop/web#0", 8080));
    assert!(measured(&conns, "shop/web#1", "shop/web#1", 8080));
    // A host-network pod and the pods on its own node: always allowed.
    assert!(measured(&conns, "shop/agent-a", "shop/web#0", 8080));
    assert!(measured(&conns, "shop/web#2", "shop/agent-a", 9100));
    // From another node: the policies decide; db admits node-b's address only.
    assert!(!measured(&conns, "shop/agent-b", "shop/web#0", 8080));
    assert!(!measured(&conns, "shop/agent-a", "shop/db", 5432));
    assert!(measured(&conns, "shop/agent-b", "shop/db", 5432));
    // The except cuts one pod out of the block; its neighbour stays in.
    let family = |src: &str, f: &str| {
        conns
            .iter()
            .find(|c| c["src"] == src && c["dst"] == "shop/db" && c["family"] == f)
            .map(|c| c["allowed"].as_bool().expect("measured"))
    };
    assert_eq!(family("shop/inside", "IPv4"), Some(true));
    assert_eq!(family("shop/inside", "IPv6"), Some(false));
    assert!(!measured(&conns, "shop/excepted", "shop/db", 5432));
    // Dual-stack: the IPv6 block admits v6-client over IPv6 only.
    assert_eq!(family("shop/v6-client", "IPv6"), Some(true));
    assert_eq!(family("shop/v6-client", "IPv4"), Some(false));
    assert!(namespaces_of(pid).is_empty());
}

/// The focus flags narrow the probe as they narrow the matrix: the table of
/// a focused probe is the focused matrix, and the JSON holds exactly the
/// focused connections, replicas included, with --only on the measurement.
#[test]
fn focus_flags_narrow_the_probe_as_the_matrix() {
    let _lock = serial();
    let input = scenario("host-network.yaml");
    let focus = ["--from", "app", "--to", "sys", "--port", "10256/tcp"];
    let mut matrix_args = vec!["matrix", &input, "--no-external"];
    matrix_args.extend(focus);
    let (matrix, _) = netpol(&matrix_args, &[]);
    assert!(matrix.status.success(), "{}", stderr(&matrix));
    let mut table_args = vec!["probe", &input, "--compare", "-o", "table"];
    table_args.extend(focus);
    let (table, _) = netpol(&table_args, &[]);
    assert!(table.status.success(), "{}", stderr(&table));
    assert_eq!(
        String::from_utf8(table.stdout).unwrap(),
        String::from_utf8(matrix.stdout).unwrap()
    );
    let mut json_args = vec!["probe", &input, "--compare", "--only", "allowed"];
    json_args.extend(focus);
    let (json, _) = netpol(&json_args, &[]);
    assert!(json.status.success(), "{}", stderr(&json));
    let v: Value = serde_json::from_slice(&json.stdout).unwrap();
    let conns = v["connections"].as_array().unwrap();
    assert!(!conns.is_empty());
    for c in conns {
        assert!(c["src"].as_str().unwrap().starts_with("app/"), "{c}");
        assert!(c["dst"].as_str().unwrap().starts_with("sys/"), "{c}");
        assert_eq!(c["port"], 10256, "{c}");
        assert_eq!(c["allowed"], true, "{c}");
    }
    let (bad, _) = netpol(&["probe", &input, "--from", "nowhere/none"], &[]);
    assert_eq!(bad.status.code(), Some(2), "{}", stderr(&bad));
}

/// `-o table` is `netpol matrix`'s table of what was measured: where the
/// kernel agrees with the engine on every connection, the same text.
#[test]
fn table_output_is_the_matrix_table_of_the_measurements() {
    let _lock = serial();
    let input = scenario("host-network.yaml");
    let (matrix, _) = netpol(&["matrix", &input, "--no-external"], &[]);
    assert!(matrix.status.success());
    let (probe, _) = netpol(&["probe", &input, "--compare", "-o", "table"], &[]);
    let err = stderr(&probe);
    assert!(probe.status.success(), "{err}");
    assert!(
        err.contains("36 agree, 0 disagree, 0 not testable"),
        "{err}"
    );
    assert_eq!(
        String::from_utf8(probe.stdout).unwrap(),
        String::from_utf8(matrix.stdout).unwrap()
    );
    // A ruleset that denies more than the engine: the table shows the kernel's answer.
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("deny.nft");
    let (out, _) = netpol(
        &[
            "nft",
            &scenario("cluster.yaml"),
            &scenario("default-deny.yaml"),
        ],
        &[],
    );
    std::fs::write(&rules, &out.stdout).unwrap();
    let (probe, _) = netpol(
        &[
            "probe",
            &scenario("cluster.yaml"),
            "--ruleset",
            rules.to_str().unwrap(),
            "-o",
            "table",
        ],
        &[],
    );
    let table = String::from_utf8(probe.stdout).unwrap();
    let row = table
        .lines()
        .find(|l| l.starts_with("web/admin "))
        .unwrap_or_else(|| panic!("{table}"));
    // Only itself: web/admin is the seventh destination.
    assert_eq!(row.split_whitespace().nth(1), Some("......#.."), "{table}");
}

/// A run that takes a while says how far it is, on stderr: every denied
/// connection here waits out the 4 s timeout.
#[test]
fn a_long_run_reports_progress() {
    let _lock = serial();
    let (out, _) = netpol(
        &[
            "probe",
            &scenario("cluster.yaml"),
            &scenario("default-deny.yaml"),
            "--timeout",
            "4000",
        ],
        &[],
    );
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    let progress: Vec<&str> = err
        .lines()
        .filter(|l| l.starts_with("netpol probe: ") && l.contains(" of 108 connections done ("))
        .collect();
    assert!(!progress.is_empty(), "{err}");
    serde_json::from_slice::<Value>(&out.stdout).expect("stdout stays pure JSON");
}

/// The real homelab with the policies `netpol gen` writes for it: the kernel
/// agrees with the engine on every connection. (Its time is measured by
/// scripts/bench-probe, not asserted.)
#[test]
fn real_homelab_kernel_agrees_with_engine() {
    let Some(manifests) = netpol_testdata::shared("realcases/homelab/manifests") else {
        return;
    };
    let _lock = serial();
    let dir = tempfile::tempdir().unwrap();
    let manifests = manifests.to_str().unwrap();
    let (flows, _) = netpol(
        &["discover", manifests, "--node-cidr", "192.168.1.0/24"],
        &[],
    );
    assert!(flows.status.success(), "{}", stderr(&flows));
    let flows_file = dir.path().join("flows.yaml");
    std::fs::write(&flows_file, &flows.stdout).unwrap();
    let policies = dir.path().join("policies");
    let (gen_out, _) = netpol(
        &[
            "gen",
            flows_file.to_str().unwrap(),
            manifests,
            "-o",
            policies.to_str().unwrap(),
        ],
        &[],
    );
    assert!(gen_out.status.success(), "{}", stderr(&gen_out));
    let (out, pid) = netpol(
        &["probe", manifests, policies.to_str().unwrap(), "--compare"],
        &[],
    );
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    let (counts, _) = check_measurements(&out.stdout);
    assert!(counts.allowed > 100 && counts.denied > 1000, "{err}");
    assert!(err.contains(" 0 disagree, "), "{err}");
    assert!(namespaces_of(pid).is_empty());
}

#[test]
fn output_is_the_matrix_json_with_measured_added() {
    let _lock = serial();
    let args = [scenario("cluster.yaml"), scenario("selectors-or.yaml")];
    let (matrix, _) = netpol(
        &["matrix", &args[0], &args[1], "-o", "json", "--no-external"],
        &[],
    );
    assert!(matrix.status.success());
    let (probe, _) = netpol(&["probe", &args[0], &args[1]], &[]);
    assert!(probe.status.success(), "{}", stderr(&probe));
    let matrix = String::from_utf8(matrix.stdout).unwrap();
    let probe = String::from_utf8(probe.stdout).unwrap();
    let (matrix_lines, probe_lines): (Vec<&str>, Vec<&str>) =
        (matrix.lines().collect(), probe.lines().collect());
    assert_eq!(matrix_lines.len(), probe_lines.len());
    for (m, p) in matrix_lines.iter().zip(&probe_lines) {
        if p.contains("\"measured\":false") {
            // Not testable: the same connection, with no verdict.
            let key = |l: &str| l.split(",\"allowed\"").next().unwrap().to_string();
            assert_eq!(key(m), key(p));
            continue;
        }
        // Without --compare there is no engine field; otherwise byte for byte the matrix line.
        assert_eq!(p.replace(",\"measured\":true", ""), **m);
    }
}

#[test]
fn host_network_pods_and_their_node() {
    let _lock = serial();
    let (out, pid) = netpol(&["probe", &scenario("host-network.yaml"), "--compare"], &[]);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    let (counts, conns) = check_measurements(&out.stdout);
    assert_eq!(counts.untestable, 0);
    assert!(
        err.contains("36 connections: 36 agree, 0 disagree, 0 not testable"),
        "{err}"
    );
    // Same node: always allowed, whatever the policies say.
    assert!(measured(&conns, "sys/exporter", "app/web-a", 8080));
    assert!(measured(&conns, "app/batch-a", "sys/proxy-a", 10256));
    // Across nodes: the policies decide, by address.
    assert!(!measured(&conns, "sys/exporter", "app/web-b", 8080));
    assert!(measured(&conns, "sys/proxy-b", "app/web-a", 8080));
    assert!(!measured(&conns, "app/batch-a", "sys/proxy-b", 10256));
    // Policies never select host-network pods.
    assert!(measured(&conns, "app/web-b", "sys/exporter", 9100));
    assert!(namespaces_of(pid).is_empty());
}

/// The nft crate's hand-written ClusterNetworkPolicy cluster.
fn tiers_fixture() -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../nft/tests/fixtures/tiers.yaml")
        .to_string_lossy()
        .into_owned()
}

/// A connection (source, destination, port) and whether it must be allowed.
type Expected = (&'static str, &'static str, u64, bool);

/// Upstream conformance scenarios of ClusterNetworkPolicy (../shared): on
/// each, every measured connection agrees with the engine, and the
/// connections the scenario is about are measured as the API says.
#[test]
fn cluster_network_policy_scenarios_kernel_agrees_with_engine() {
    let Some(dir) = netpol_testdata::shared("conformance/cnp") else {
        return;
    };
    let _lock = serial();
    const DRACO: &str = "network-policy-conformance-slytherin/draco-malfoy-0";
    const HARRY: &str = "network-policy-conformance-gryffindor/harry-potter-0";
    const LUNA: &str = "network-policy-conformance-ravenclaw/luna-lovegood-0";
    const CENTAUR: &str = "network-policy-conformance-forbidden-forrest/centaur-0";
    // (scenario, connections it is about and what each must measure).
    let cases: [(&str, &[Expected]); 6] = [
        // An Admin Deny over a NetworkPolicy that allows slytherin in.
        (
            "admin-integration-1-deny-from-slytherin",
            &[(DRACO, HARRY, 80, false)],
        ),
        // Pass to NetworkPolicy, which allows what the Baseline would deny.
        (
            "admin-integration-4-pass-egress-to-networkpolicy",
            &[(HARRY, DRACO, 80, true)],
        ),
        // Two Admin policies: the lower priority number decides first.
        (
            "admin-priority-field-1-deny-from-slytherin",
            &[(DRACO, HARRY, 80, false)],
        ),
        // Rule order: a Deny before an Accept, a Deny before a Pass.
        (
            "admin-egress-tcp-3-deny-egress-rule-order",
            &[
                (HARRY, LUNA, 80, false),
                (HARRY, DRACO, 80, false),
                (HARRY, DRACO, 8080, true),
            ],
        ),
        // Baseline: nodes (a host-network pod on another node, by its Node's
        // address) accepted on a port range, denied otherwise; networks match pods.
        (
            "baseline-egress-node-peers-2-deny-egress",
            &[
                (HARRY, CENTAUR, 34346, true),
                (HARRY, CENTAUR, 34347, false),
                (HARRY, DRACO, 80, false),
            ],
        ),
        // networks: 0.0.0.0/0 denied after an Accept of slytherin's pods.
        (
            "admin-egress-inline-cidr-peers-1-deny-egress",
            &[(HARRY, DRACO, 80, true), (HARRY, LUNA, 80, false)],
        ),
    ];
    for (name, expected) in cases {
        let manifests = dir.join(name).join("manifests.yaml");
        let (out, pid) = netpol(
            &[
                "probe",
                manifests.to_str().unwrap(),
                "--compare",
                "--timeout",
                "300",
            ],
            &[],
        );
        let err = stderr(&out);
        assert!(out.status.success(), "{name}:\n{err}");
        let (counts, conns) = check_measurements(&out.stdout);
        assert!(counts.allowed > 0 && counts.denied > 0, "{name}:\n{err}");
        assert!(err.contains(" 0 disagree, "), "{name}:\n{err}");
        for &(src, dst, port, allowed) in expected {
            assert_eq!(
                measured(&conns, src, dst, port),
                allowed,
                "{name}: {src} -> {dst}:{port}"
            );
        }
        assert!(namespaces_of(pid).is_empty(), "{name}");
    }
}

/// The engine told to take a tier's Pass for a Deny: the kernel runs the
/// ruleset's Pass (a `goto` past the Admin tier, or the default after the
/// Baseline) and must disagree exactly where a Pass decides.
#[test]
fn a_broken_tier_pass_is_caught_by_the_kernel() {
    let _lock = serial();
    let (out, pid) = netpol(
        &["probe", &tiers_fixture(), "--compare"],
        &[("NETPOL_TEST_BREAK_ENGINE", "tier-pass")],
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    let disagree: Vec<&str> = err.lines().filter(|l| l.starts_with("DISAGREE")).collect();
    assert_eq!(
        disagree,
        [
            // Baseline Pass to the default.
            "DISAGREE app/web -> app/api 8080/TCP: engine denied, kernel allowed",
            // Admin Pass to the NetworkPolicy that admits app/web.
            "DISAGREE app/web -> db/pg 5432/TCP: engine denied, kernel allowed",
        ],
        "{err}"
    );
    assert!(namespaces_of(pid).is_empty());
}

/// Unbroken, the same cluster agrees everywhere, and the domainNames rule
/// the ruleset cannot hold is named on stderr.
#[test]
fn tiers_fixture_kernel_agrees_with_engine() {
    let _lock = serial();
    let (out, pid) = netpol(&["probe", &tiers_fixture(), "--compare"], &[]);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    let (counts, _) = check_measurements(&out.stdout);
    assert_eq!(
        (counts.allowed, counts.denied, counts.untestable),
        (26, 22, 0),
        "{err}"
    );
    assert!(
        err.contains(
            "note: admin/ops-egress egress[0]: domainNames registry.example.com cannot be compiled"
        ),
        "{err}"
    );
    assert!(namespaces_of(pid).is_empty());
}
