//! `netpol gen` on hostile input and in a hostile DIR: no write outside DIR,
//! all or nothing, one run at a time, the user's umask, and files netpol did
//! not write are never read whole, overwritten or removed.

mod support;

use std::collections::BTreeMap;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::{Run, assert_contains, homelab_copy, wait_at_most_60s};

/// Runs netpol in `dir` under `umask`, with extra environment, and fails
/// the test instead of hanging when it takes longer than 60 s.
fn run_with(dir: &Path, args: &[&str], umask: &str, env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(format!("umask {umask} && exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_netpol"))
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let start = Instant::now();
    let out = wait_at_most_60s(cmd.spawn().unwrap(), start, args);
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn run(dir: &Path, args: &[&str]) -> Run {
    run_with(dir, args, "022", &[])
}

const GEN: &[&str] = &["gen", "flows.yaml", "manifests", "--dir", "generated"];

/// Every entry of `dir`: name to (kind, content of regular files).
fn listing(dir: &Path) -> BTreeMap<String, String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let t = e.file_type().unwrap();
            let what = if t.is_symlink() {
                format!(
                    "symlink -> {}",
                    std::fs::read_link(e.path()).unwrap().display()
                )
            } else if t.is_fifo() {
                "fifo".to_string()
            } else if t.is_dir() {
                "dir".to_string()
            } else if e.metadata().unwrap().len() > 1 << 20 {
                format!("large file of {} bytes", e.metadata().unwrap().len())
            } else {
                std::fs::read_to_string(e.path()).unwrap_or_default()
            };
            (e.file_name().to_string_lossy().into_owned(), what)
        })
        .collect()
}

fn all_files_under(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![root.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                todo.push(p.clone());
            }
            out.push(p);
        }
    }
    out
}

const FLOWS: &str = "defaultDeny: ingress\nflows:\n  - from: \"*\"\n    to: \"*\"\n    ports: [80]\n    purpose: web\n";

fn pod(namespace_line: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n{namespace_line}  labels: {{app: web}}\nspec:\n  containers: [{{name: c, image: x, ports: [{{containerPort: 80}}]}}]\n"
    )
}

#[test]
fn a_namespace_cannot_lead_gen_out_of_dir() {
    let tmp = tempfile::tempdir().unwrap();
    let work = tmp.path().join("a/b");
    std::fs::create_dir_all(&work).unwrap();
    std::fs::write(work.join("flows.yaml"), FLOWS).unwrap();
    std::fs::write(
        work.join("escape.yaml"),
        pod("  namespace: ../../escaped\n"),
    )
    .unwrap();
    std::fs::write(work.join("plain.yaml"), pod("")).unwrap();
    let abs = tmp.path().join("abs");
    let abs = abs.to_str().unwrap();
    for args in [
        vec!["gen", "flows.yaml", "escape.yaml", "--dir", "out"],
        vec![
            "gen",
            "flows.yaml",
            "escape.yaml",
            "--dir",
            "out",
            "--validate=ignore",
        ],
        vec!["gen", "flows.yaml", "plain.yaml", "--dir", "out", "-n", abs],
        vec![
            "gen",
            "flows.yaml",
            "plain.yaml",
            "--dir",
            "out",
            "-n",
            "../../escaped",
        ],
        vec!["gen", "flows.yaml", "escape.yaml", "--stdout"],
    ] {
        let r = run(&work, &args);
        assert_eq!(r.code, 2, "{args:?}\n{}", r.transcript());
        assert!(
            r.stderr.contains("../../escaped") || r.stderr.contains(abs),
            "the error names the bad namespace: {}",
            r.transcript()
        );
        assert!(r.stdout.is_empty(), "{}", r.transcript());
        let written: Vec<PathBuf> = all_files_under(tmp.path())
            .into_iter()
            .filter(|p| !p.ends_with("flows.yaml") && p.extension().is_some_and(|e| e == "yaml"))
            .filter(|p| !p.ends_with("escape.yaml") && !p.ends_with("plain.yaml"))
            .collect();
        assert!(written.is_empty(), "{args:?} wrote {written:?}");
        assert!(!work.join("out").exists(), "{args:?} created out/");
    }
    // The same input with a valid namespace is written inside DIR.
    let r = run(
        &work,
        &[
            "gen",
            "flows.yaml",
            "plain.yaml",
            "--dir",
            "out",
            "-n",
            "shop",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.transcript());
    assert!(work.join("out/shop.yaml").is_file());
}

/// The homelab copy after changes that make gen create, update and remove.
fn three_changes(dir: &Path) {
    let m = dir.join("manifests/llamacpp.yaml");
    let text = std::fs::read_to_string(&m).unwrap();
    let from = "            - name: http\n              containerPort: 8080";
    assert!(text.contains(from));
    std::fs::write(
        &m,
        text.replacen(
            from,
            "            - name: http\n              containerPort: 8081",
            1,
        ),
    )
    .unwrap();
    std::fs::remove_file(dir.join("manifests/cloudflared.yaml")).unwrap();
    std::fs::write(
        dir.join("manifests/echo.yaml"),
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: echo\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: echo\n  namespace: echo\nspec:\n  selector:\n    matchLabels:\n      app: echo\n  template:\n    metadata:\n      labels:\n        app: echo\n    spec:\n      containers:\n        - name: echo\n          image: x\n",
    )
    .unwrap();
}

#[test]
fn a_failure_midway_leaves_dir_as_it_was() {
    let tmp = homelab_copy();
    three_changes(tmp.path());
    let out = tmp.path().join("generated");
    let before = listing(&out);
    // In name order: cloudflared.yaml removed, echo.yaml created, then
    // llamacpp.yaml updated, which fails.
    let r = run_with(
        tmp.path(),
        GEN,
        "022",
        &[("NETPOL_GEN_FAIL_AT", "llamacpp.yaml")],
    );
    assert_eq!(r.code, 2, "{}", r.transcript());
    assert_contains(
        &r.stderr,
        "cannot replace generated/llamacpp.yaml: injected failure",
    );
    assert_contains(
        &r.stderr,
        "generated is as it was: the 2 change(s) already made were undone",
    );
    assert!(r.stdout.is_empty(), "no summary of a run that did nothing");
    assert_eq!(
        listing(&out),
        before,
        "DIR changed or temporaries were left"
    );

    // Without the failure the same run does all three.
    let r = run(tmp.path(), GEN);
    assert_eq!(r.code, 0, "{}", r.transcript());
    assert_contains(&r.stdout, "2 written, 7 unchanged, 1 removed");
    assert!(!out.join("cloudflared.yaml").exists());
    assert!(out.join("echo.yaml").is_file());
}

#[test]
fn a_failure_in_a_new_dir_leaves_no_dir() {
    let tmp = homelab_copy();
    let r = run_with(
        tmp.path(),
        &["gen", "flows.yaml", "manifests", "--dir", "new/policies"],
        "022",
        &[("NETPOL_GEN_FAIL_AT", "monitoring.yaml")],
    );
    assert_eq!(r.code, 2, "{}", r.transcript());
    assert!(!tmp.path().join("new").exists(), "{}", r.transcript());
}

#[test]
fn temporaries_of_a_killed_run_are_removed() {
    let tmp = homelab_copy();
    let out = tmp.path().join("generated");
    let golden = listing(&out);
    std::fs::write(out.join(".netpol-Ab12cd.tmp"), "half a file").unwrap();
    std::fs::create_dir(out.join(".netpol-staging.tmp")).unwrap();
    std::fs::write(out.join(".netpol-staging.tmp/monitoring.yaml"), "x").unwrap();
    std::fs::write(out.join(".netpol-notes.txt"), "mine").unwrap();
    let r = run(tmp.path(), GEN);
    assert_eq!(r.code, 0, "{}", r.transcript());
    assert_contains(&r.stderr, "removed 2 temporary file(s)");
    let mut want = golden;
    want.insert(".netpol-notes.txt".into(), "mine".into());
    assert_eq!(listing(&out), want);
}

#[test]
fn a_second_gen_is_refused_while_one_holds_the_lock() {
    use std::os::fd::AsRawFd;
    let tmp = homelab_copy();
    three_changes(tmp.path());
    let out = tmp.path().join("generated");
    let before = listing(&out);
    let held = std::fs::File::open(&out).unwrap();
    // SAFETY: flock on a descriptor this test owns.
    assert_eq!(
        unsafe { libc::flock(held.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) },
        0
    );
    let r = run(tmp.path(), GEN);
    assert_eq!(r.code, 2, "{}", r.transcript());
    assert_contains(&r.stderr, "another netpol gen is writing generated");
    assert_eq!(listing(&out), before);
    drop(held);
    let r = run(tmp.path(), GEN);
    assert_eq!(r.code, 0, "{}", r.transcript());
}

#[test]
fn concurrent_gens_end_with_one_consistent_dir() {
    let tmp = homelab_copy();
    let golden = listing(&tmp.path().join("generated"));
    std::fs::remove_dir_all(tmp.path().join("generated")).unwrap();
    let runs: Vec<Run> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4).map(|_| s.spawn(|| run(tmp.path(), GEN))).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut succeeded = 0;
    for r in &runs {
        match r.code {
            0 => succeeded += 1,
            2 => assert!(
                r.stderr.contains("another netpol gen"),
                "{}",
                r.transcript()
            ),
            _ => panic!("{}", r.transcript()),
        }
    }
    assert!(succeeded >= 1);
    assert_eq!(listing(&tmp.path().join("generated")), golden);
}

#[test]
fn files_get_the_mode_the_umask_gives() {
    for (umask, mode) in [("022", 0o644), ("077", 0o600), ("002", 0o664)] {
        let tmp = homelab_copy();
        std::fs::remove_dir_all(tmp.path().join("generated")).unwrap();
        let r = run_with(tmp.path(), GEN, umask, &[]);
        assert_eq!(r.code, 0, "{}", r.transcript());
        for e in std::fs::read_dir(tmp.path().join("generated")).unwrap() {
            let e = e.unwrap();
            let got = e.metadata().unwrap().permissions().mode() & 0o777;
            assert_eq!(got, mode, "umask {umask}: {:?} is {got:o}", e.file_name());
        }
    }
}

#[test]
fn unrelated_files_are_never_read_whole_or_touched() {
    let tmp = homelab_copy();
    let out = tmp.path().join("generated");
    let fifo = std::ffi::CString::new(out.join("backup.yaml").to_str().unwrap()).unwrap();
    // SAFETY: a valid C string; mkfifo touches nothing else.
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o644) }, 0);
    std::os::unix::fs::symlink("/dev/zero", out.join("zero.yaml")).unwrap();
    // 3 GB that reading whole would take; sparse, so it costs no disk.
    let big = std::fs::File::create(out.join("dump.yaml")).unwrap();
    big.set_len(3 << 30).unwrap();
    drop(big);
    let before = listing(&out);
    let start = Instant::now();
    let r = run(tmp.path(), GEN);
    assert_eq!(r.code, 0, "{}", r.transcript());
    assert!(
        start.elapsed() < Duration::from_secs(20),
        "{:?}",
        start.elapsed()
    );
    assert_contains(&r.stdout, "0 written, 9 unchanged, 0 removed");
    assert_eq!(listing(&out), before);

    // A FIFO where gen wants to write is someone else's: refused, not opened.
    std::fs::remove_file(out.join("monitoring.yaml")).unwrap();
    let fifo = std::ffi::CString::new(out.join("monitoring.yaml").to_str().unwrap()).unwrap();
    // SAFETY: as above.
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o644) }, 0);
    let r = run(tmp.path(), GEN);
    assert_eq!(r.code, 2, "{}", r.transcript());
    assert_contains(&r.stderr, "refusing to overwrite generated/monitoring.yaml");
    assert!(
        std::fs::symlink_metadata(out.join("monitoring.yaml"))
            .unwrap()
            .file_type()
            .is_fifo()
    );
}

#[test]
fn a_symlink_to_a_generated_file_is_not_followed() {
    let tmp = homelab_copy();
    let out = tmp.path().join("generated");
    // Looks like netpol's through the link, but the link is not netpol's file.
    std::fs::rename(out.join("rkllama.yaml"), tmp.path().join("elsewhere.yaml")).unwrap();
    std::os::unix::fs::symlink(tmp.path().join("elsewhere.yaml"), out.join("rkllama.yaml"))
        .unwrap();
    let r = run(tmp.path(), GEN);
    assert_eq!(r.code, 2, "{}", r.transcript());
    assert_contains(&r.stderr, "refusing to overwrite generated/rkllama.yaml");
}

#[test]
fn stdout_is_every_file_in_order_and_writes_nothing() {
    let tmp = homelab_copy();
    let golden = listing(&tmp.path().join("generated"));
    let whole: String = golden.values().cloned().collect();
    std::fs::remove_dir_all(tmp.path().join("generated")).unwrap();
    let a = run(tmp.path(), &["gen", "flows.yaml", "manifests", "--stdout"]);
    assert_eq!(a.code, 0, "{}", a.transcript());
    assert_eq!(a.stdout, whole);
    let docs = a.stdout.matches("\n---\n").count();
    assert_eq!(docs, a.stdout.matches("\nkind: NetworkPolicy\n").count());
    let b = run(tmp.path(), &["gen", "flows.yaml", "manifests", "-o", "-"]);
    assert_eq!(b.code, 0, "{}", b.transcript());
    assert_eq!(b.stdout, a.stdout);
    assert!(!b.stderr.contains("deprecated"), "{}", b.stderr);
    // `-o yaml` is the output format, as everywhere else, not a directory.
    let y = run(
        tmp.path(),
        &["gen", "flows.yaml", "manifests", "-o", "yaml"],
    );
    assert_eq!(y.code, 0, "{}", y.transcript());
    assert_eq!(y.stdout, a.stdout);
    let entries: Vec<String> = listing(tmp.path()).into_keys().collect();
    assert_eq!(
        entries,
        ["flows.yaml", "manifests"],
        "a file or directory was created"
    );
    let c = run(
        tmp.path(),
        &["gen", "flows.yaml", "manifests", "--stdout", "--check"],
    );
    assert_eq!(c.code, 2, "{}", c.transcript());
    let d = run(
        tmp.path(),
        &["gen", "flows.yaml", "manifests", "-o", "-", "--check"],
    );
    assert_eq!(d.code, 2, "{}", d.transcript());
    let e = run(tmp.path(), &["gen", "flows.yaml", "manifests"]);
    assert_eq!(
        e.code,
        2,
        "one of --dir and --stdout is required: {}",
        e.transcript()
    );
}

#[test]
fn dash_o_dir_still_works_with_a_note() {
    let tmp = homelab_copy();
    let golden = listing(&tmp.path().join("generated"));
    std::fs::remove_dir_all(tmp.path().join("generated")).unwrap();
    let r = run(
        tmp.path(),
        &["gen", "flows.yaml", "manifests", "-o", "generated"],
    );
    assert_eq!(r.code, 0, "{}", r.transcript());
    assert_contains(&r.stderr, "`gen -o DIR` is deprecated");
    assert_contains(&r.stderr, "--dir generated");
    assert_eq!(listing(&tmp.path().join("generated")), golden);
    let r = run(tmp.path(), GEN);
    assert!(!r.stderr.contains("deprecated"), "{}", r.stderr);
}
