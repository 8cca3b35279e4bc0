//! CLI habits: examples in every help, one spelling of each format,
//! completions, colour on request only, and the kubectl plugin name.

mod support;

use std::path::Path;
use std::process::Command;

use support::{COMMANDS, assert_contains, netpol, netpol_in, repo};

/// The example command lines of a command's help, continuations joined.
fn examples(command: &str) -> Vec<String> {
    let help = netpol(&[command, "--help"]).stdout;
    let section = help.split("\nExamples:\n").nth(1).unwrap_or_default();
    let mut lines = Vec::new();
    let mut current = String::new();
    for line in section.lines() {
        let line = line.trim();
        if let Some(head) = line.strip_suffix('\\') {
            current.push_str(head);
        } else {
            current.push_str(line);
            lines.push(std::mem::take(&mut current));
        }
    }
    lines
}

#[test]
fn every_command_has_examples() {
    for command in COMMANDS {
        let run = netpol(&[command, "--help"]);
        assert_eq!(run.code, 0);
        let examples = examples(command);
        assert!(!examples.is_empty(), "{command}: no Examples: section");
        assert!(
            examples.iter().all(|e| e.contains(command)),
            "{command}: {examples:?}"
        );
    }
}

/// The examples on the repository's homelab that only read run as written
/// (exit 0, or 1 for findings), from the repository's root.
#[test]
fn the_homelab_examples_run() {
    let mut ran = 0;
    for command in ["matrix", "explain", "lint", "verify", "discover", "gen"] {
        for line in examples(command) {
            let readonly = !line.contains('|')
                && !line.contains('>')
                && (command != "gen" || line.contains("--check"));
            if !line.starts_with("netpol ") || !line.contains("examples/homelab") || !readonly {
                continue;
            }
            let args: Vec<&str> = line.split_whitespace().skip(1).collect();
            let run = netpol_in(&repo(), &args);
            assert!(
                run.code == 0 || run.code == 1,
                "{line}:\n{}",
                run.transcript()
            );
            // `gen --check` says nothing when the files are up to date.
            assert!(!run.stdout.is_empty() || command == "gen", "{line}");
            ran += 1;
        }
    }
    assert!(ran >= 10, "{ran} examples ran");
}

#[test]
fn one_spelling_per_format() {
    let same = |a: &[&str], b: &[&str]| {
        let (x, y) = (netpol(a), netpol(b));
        assert_eq!(x.code, 0, "{}", x.transcript());
        assert_eq!(x.stdout, y.stdout, "{a:?} vs {b:?}");
    };
    same(
        &["matrix", "engine", "-o", "table"],
        &["matrix", "engine", "-o", "text"],
    );
    same(
        &["matrix", "engine"],
        &["matrix", "engine", "--output", "text"],
    );
    same(
        &["discover", "engine", "-o", "flows"],
        &["discover", "engine", "-o", "yaml"],
    );
    same(
        &["diff", "review/old", "review/new", "-o", "md"],
        &["diff", "review/old", "review/new", "-o", "markdown"],
    );
    // A format the command cannot write is a usage error naming those it can.
    let run = netpol(&["lint", "engine", "-o", "dot"]);
    assert_eq!(run.code, 2);
    assert_contains(&run.stderr, "[possible values: text, json, sarif]");
    let run = netpol(&["matrix", "engine", "-o", "sarif"]);
    assert_eq!(run.code, 2);
    assert_contains(
        &run.stderr,
        "[possible values: text, json, csv, dot, mermaid]",
    );
}

#[test]
fn completions_for_every_shell() {
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let run = netpol(&["completion", shell]);
        assert_eq!(run.code, 0, "{shell}: {}", run.stderr);
        for word in [
            "matrix",
            "report",
            "show-denied",
            "namespace-filter",
            "mermaid",
        ] {
            assert!(run.stdout.contains(word), "{shell}: no {word}");
        }
    }
    let bash = netpol(&["completion", "bash"]).stdout;
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("netpol.bash");
    std::fs::write(&script, &bash).unwrap();
    if let Ok(out) = Command::new("bash").arg("-n").arg(&script).output() {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_eq!(netpol(&["completion", "tcsh"]).code, 2);
}

fn netpol_env(args: &[&str], env: &[(&str, &str)]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_netpol"))
        .args(args)
        .current_dir(support::fixtures())
        .envs(env.iter().copied())
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn colour_only_when_asked_or_on_a_terminal() {
    let explain = [
        "explain",
        "engine",
        "--from",
        "api/postgres",
        "--to",
        "web/frontend",
        "--port",
        "8080",
    ];
    let plain = netpol_env(&explain, &[]);
    assert!(!plain.contains('\x1b'), "not a terminal: no colour");
    let always = netpol_env(&[&explain[..], &["--color", "always"]].concat(), &[]);
    assert!(always.contains("\x1b[1;31mDENIED\x1b[0m"), "{always}");
    assert!(always.contains(": \x1b[32mallowed\x1b[0m"), "{always}");
    // Without the escapes it is the plain text.
    let stripped = always
        .replace("\x1b[1;31m", "")
        .replace("\x1b[31m", "")
        .replace("\x1b[32m", "")
        .replace("\x1b[0m", "");
    assert_eq!(stripped, plain);
    let never = netpol_env(&[&explain[..], &["--color", "never"]].concat(), &[]);
    assert_eq!(never, plain);
    // NO_COLOR turns `auto` off; an explicit `always` still wins.
    let auto = netpol_env(
        &[&explain[..], &["--color", "auto"]].concat(),
        &[("NO_COLOR", "1")],
    );
    assert_eq!(auto, plain);
    let table = netpol_env(
        &["matrix", "engine", "--color", "always"],
        &[("NO_COLOR", "1")],
    );
    assert!(
        table.contains("\x1b[32m#\x1b[0m") && table.contains("\x1b[31m.\x1b[0m"),
        "{table}"
    );
    let lint = netpol_env(&["--color", "always", "lint", "engine"], &[]);
    assert!(lint.contains(": \x1b[33mwarning\x1b[0m NP"), "{lint}");
}

#[test]
fn kubectl_finds_it_as_a_plugin() {
    let dir = tempfile::tempdir().unwrap();
    let plugin = dir.path().join("kubectl-netpol");
    link(Path::new(env!("CARGO_BIN_EXE_netpol")), &plugin);
    let run = |args: &[&str]| {
        let out = Command::new(&plugin)
            .args(args)
            .current_dir(support::fixtures())
            .output()
            .unwrap();
        (out.status.code(), String::from_utf8(out.stdout).unwrap())
    };
    let (code, stdout) = run(&["matrix", "engine", "-o", "json"]);
    assert_eq!(code, Some(0));
    assert_eq!(stdout, netpol(&["matrix", "engine", "-o", "json"]).stdout);
    let (_, help) = run(&["--help"]);
    assert_contains(&help, "Usage: kubectl netpol [OPTIONS] <COMMAND>");
}

#[cfg(unix)]
fn link(target: &Path, at: &Path) {
    std::os::unix::fs::symlink(target, at).unwrap();
}
