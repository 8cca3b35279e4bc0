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
    let prefix = format!("np-{pid}-");
    let Ok(entries) = std::fs::read_dir("/run/netns") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with(&prefix))
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

fn interrupted_by(signal: &str) {
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
    assert_eq!(code, Some(130), "{seen}{}", rest.join("\n"));
    assert!(
        rest.iter().any(|l| l.contains("interrupted")),
        "{}",
        rest.join("\n")
    );
    assert!(
        namespaces_of(pid).is_empty(),
        "left {:?}",
        namespaces_of(pid)
    );
}

#[test]
fn ctrl_c_tears_everything_down() {
    interrupted_by("INT");
}

#[test]
fn sigterm_tears_everything_down() {
    interrupted_by("TERM");
}

#[test]
fn leftovers_of_a_killed_run_are_removed_at_start() {
    let _lock = serial();
    // A pid that no process has: the run that made this namespace is gone.
    let dead = (100_000..4_000_000u32)
        .find(|p| !PathBuf::from(format!("/proc/{p}")).exists())
        .unwrap();
    let name = format!("np-{dead}-node");
    assert!(
        Command::new("ip")
            .args(["netns", "add", &name])
            .status()
            .unwrap()
            .success()
    );
    let (out, _) = netpol(
        &[
            "probe",
            &scenario("cluster.yaml"),
            &scenario("default-deny.yaml"),
        ],
        &[],
    );
    let err = stderr(&out);
    let gone = !PathBuf::from("/run/netns").join(&name).exists();
    if !gone {
        let _ = Command::new("ip").args(["netns", "delete", &name]).status();
    }
    assert!(out.status.success(), "{err}");
    assert!(gone, "the leftover {name} is still there");
    assert!(
        err.contains(&format!("removed network namespace {name}")),
        "{err}"
    );
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
