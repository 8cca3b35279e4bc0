//! Runs the real `netpol` binary, by default from the fixtures directory so
//! that paths in its output are short and the same on every machine.
// Each test binary uses a part of this module.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// Every command of the binary.
pub const COMMANDS: [&str; 11] = [
    "matrix",
    "explain",
    "nft",
    "probe",
    "diff",
    "lint",
    "gen",
    "verify",
    "discover",
    "report",
    "completion",
];

pub fn repo() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

/// A scratch copy of the homelab example: flows.yaml, manifests/, generated/.
pub fn homelab_copy() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let src = repo().join("examples/homelab");
    std::fs::copy(src.join("flows.yaml"), tmp.path().join("flows.yaml")).unwrap();
    copy_dir(&src.join("manifests"), &tmp.path().join("manifests"));
    copy_dir(&src.join("generated"), &tmp.path().join("generated"));
    tmp
}

/// Waits for a netpol run, failing the test instead of hanging when it
/// takes longer than 60 s from `start`.
pub fn wait_at_most_60s(mut child: Child, start: Instant, args: &[&str]) -> Output {
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > Duration::from_secs(60) {
            child.kill().unwrap();
            panic!("netpol {args:?} still running after 60 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// The whole observable result, for snapshots.
    pub fn transcript(&self) -> String {
        format!(
            "exit: {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

pub fn netpol(args: &[&str]) -> Run {
    netpol_with_stdin(args, None)
}

pub fn netpol_with_stdin(args: &[&str], stdin: Option<&str>) -> Run {
    run(&fixtures(), args, stdin)
}

/// Runs netpol with `dir` as its working directory.
pub fn netpol_in(dir: &Path, args: &[&str]) -> Run {
    run(dir, args, None)
}

fn run(dir: &Path, args: &[&str], stdin: Option<&str>) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_netpol"));
    cmd.args(args)
        .current_dir(dir)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("netpol binary runs");
    if let Some(text) = stdin {
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    }
    let out = child.wait_with_output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

/// `netpol explain INPUT... --from FROM --to TO --port PORT EXTRA...`
pub fn explain(inputs: &[&str], from: &str, to: &str, port: &str, extra: &[&str]) -> Run {
    let mut args = vec!["explain"];
    args.extend_from_slice(inputs);
    args.extend_from_slice(&["--from", from, "--to", to, "--port", port]);
    args.extend_from_slice(extra);
    netpol(&args)
}

/// Fails showing the whole text when `needle` is not in it.
#[track_caller]
pub fn assert_contains(text: &str, needle: &str) {
    assert!(text.contains(needle), "no {needle:?} in:\n{text}");
}

/// A run's stdout as JSON.
#[track_caller]
pub fn json(run: &Run) -> serde_json::Value {
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.transcript()))
}

/// `netpol diff` of the review fixtures: the workloads and `review/old`
/// before, the workloads and `new_policies` after.
pub fn review_diff(new_policies: &str, extra: &[&str]) -> Run {
    let mut args = vec![
        "diff",
        "--old",
        "review/cluster.yaml",
        "--old",
        "review/old",
        "--new",
        "review/cluster.yaml",
        "--new",
        new_policies,
    ];
    args.extend_from_slice(extra);
    netpol(&args)
}

/// `matrix --summary -o json`'s pairs: (source, destination) to
/// (allowed, connections).
#[allow(dead_code)]
pub fn summary_pairs(
    v: &serde_json::Value,
) -> std::collections::BTreeMap<(String, String), (u64, u64)> {
    let text = |p: &serde_json::Value, k: &str| p[k].as_str().unwrap().to_string();
    let number = |p: &serde_json::Value, k: &str| p[k].as_u64().unwrap();
    v["pairs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                (text(p, "src"), text(p, "dst")),
                (number(p, "allowed"), number(p, "connections")),
            )
        })
        .collect()
}

/// `matrix -o json`'s connections as the CSV rows `matrix -o csv` should
/// print, one field per column name (an absent field is empty).
#[allow(dead_code)]
pub fn json_as_csv(v: &serde_json::Value, columns: &[&str]) -> Vec<String> {
    v["connections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let fields: Vec<String> = columns
                .iter()
                .map(|k| match &c[*k] {
                    serde_json::Value::String(s) => s.clone(),
                    serde_json::Value::Null => String::new(),
                    other => other.to_string(),
                })
                .collect();
            fields.join(",")
        })
        .collect()
}
