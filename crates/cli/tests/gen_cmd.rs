//! `netpol gen` end to end: the committed homelab policies are current
//! (golden files), `--check` catches drift, and gen never touches files it
//! did not write.

mod support;

use std::path::{Path, PathBuf};

use support::{homelab_copy, netpol_in, repo};

const GEN: &[&str] = &["gen", "flows.yaml", "manifests", "--dir", "generated"];
const CHECK: &[&str] = &[
    "gen",
    "flows.yaml",
    "manifests",
    "--dir",
    "generated",
    "--check",
];

fn files(dir: &Path) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read_to_string(e.path()).unwrap_or_default(),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn committed_homelab_policies_are_current() {
    let run = netpol_in(
        &repo(),
        &[
            "gen",
            "examples/homelab/flows.yaml",
            "examples/homelab/manifests",
            "-o",
            "examples/homelab/generated",
            "--check",
        ],
    );
    assert_eq!(
        run.code,
        0,
        "examples/homelab/generated is stale; regenerate it with netpol gen:\n{}",
        run.transcript()
    );
    assert!(run.stdout.is_empty(), "{}", run.stdout);
}

#[test]
fn regenerating_gives_the_same_bytes() {
    let tmp = homelab_copy();
    let golden = files(&tmp.path().join("generated"));
    std::fs::remove_dir_all(tmp.path().join("generated")).unwrap();
    let first = netpol_in(tmp.path(), GEN);
    assert_eq!(first.code, 0, "{}", first.transcript());
    insta::assert_snapshot!("homelab_gen_first_run", first.transcript());
    assert_eq!(files(&tmp.path().join("generated")), golden);
    let second = netpol_in(tmp.path(), GEN);
    assert_eq!(second.code, 0);
    assert!(
        second.stdout.contains("0 written, 9 unchanged, 0 removed"),
        "{}",
        second.stdout
    );
    assert_eq!(files(&tmp.path().join("generated")), golden);
}

#[test]
fn generated_files_are_labelled_and_annotated() {
    let tmp = homelab_copy();
    for (name, text) in files(&tmp.path().join("generated")) {
        assert!(text.starts_with(netpol_flows::HEADER), "{name}");
        let docs = text.matches("\nkind: NetworkPolicy\n").count();
        assert!(docs >= 1, "{name}");
        assert_eq!(
            text.matches("app.kubernetes.io/managed-by: netpol").count(),
            docs,
            "{name}"
        );
        assert_eq!(text.matches("netpol/purpose: ").count(), docs, "{name}");
    }
}

fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{} lacks {from:?}", path.display());
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
}

/// After `change`, `--check` fails with a diff containing `expect`, and a
/// plain gen makes it pass again.
fn drift(change: impl FnOnce(&Path), expect: &[&str]) -> String {
    let tmp = homelab_copy();
    assert_eq!(
        netpol_in(tmp.path(), CHECK).code,
        0,
        "the copy starts current"
    );
    change(tmp.path());
    let before = files(&tmp.path().join("generated"));
    let check = netpol_in(tmp.path(), CHECK);
    assert_eq!(check.code, 1, "{}", check.transcript());
    for e in expect {
        assert!(
            check.stdout.contains(e),
            "diff lacks {e:?}:\n{}",
            check.stdout
        );
    }
    assert_eq!(
        files(&tmp.path().join("generated")),
        before,
        "--check wrote something"
    );
    assert!(check.stderr.contains("is stale"), "{}", check.stderr);
    let fix = netpol_in(tmp.path(), GEN);
    assert_eq!(fix.code, 0, "{}", fix.transcript());
    assert_eq!(netpol_in(tmp.path(), CHECK).code, 0);
    check.stdout
}

#[test]
fn check_catches_a_changed_target_port() {
    // llamacpp's Service now sends 8080 to the container's port 8081.
    let diff = drift(
        |dir| {
            let m = dir.join("manifests/llamacpp.yaml");
            edit(
                &m,
                "            - name: http\n              containerPort: 8080",
                "            - name: http\n              containerPort: 8081",
            );
        },
        &[
            "--- a/generated/llamacpp.yaml",
            "+++ b/generated/llamacpp.yaml",
            "-          port: 8080",
            "+          port: 8081",
            "targetPort http (8081)",
        ],
    );
    insta::assert_snapshot!("drift_target_port", diff);
}

#[test]
fn check_catches_changed_workload_labels() {
    drift(
        |dir| {
            let m = dir.join("manifests/rkllama.yaml");
            // The selector with the labels: the API server rejects a
            // Deployment whose selector does not match its template.
            edit(
                &m,
                "    matchLabels:\n      app.kubernetes.io/name: rkllama",
                "    matchLabels:\n      app.kubernetes.io/name: rkllama-server",
            );
            edit(
                &m,
                "      labels:\n        app.kubernetes.io/name: rkllama",
                "      labels:\n        app.kubernetes.io/name: rkllama-server",
            );
        },
        &[
            "-      app.kubernetes.io/name: rkllama\n",
            "+      app.kubernetes.io/name: rkllama-server",
        ],
    );
}

#[test]
fn check_catches_a_new_namespace_and_a_removed_one() {
    drift(
        |dir| {
            std::fs::write(
                dir.join("manifests/echo.yaml"),
                "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: echo\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: echo\n  namespace: echo\nspec:\n  selector:\n    app: echo\n  ports:\n    - port: 80\n      targetPort: 5678\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: echo\n  namespace: echo\nspec:\n  selector:\n    matchLabels:\n      app: echo\n  template:\n    metadata:\n      labels:\n        app: echo\n    spec:\n      containers:\n        - name: echo\n          image: x\n",
            )
            .unwrap();
            std::fs::remove_file(dir.join("manifests/cloudflared.yaml")).unwrap();
        },
        &[
            "--- /dev/null",
            "+++ b/generated/echo.yaml",
            "+          port: 5678",
            "--- a/generated/cloudflared.yaml",
            "+++ /dev/null",
        ],
    );
}

#[test]
fn never_overwrites_or_removes_foreign_files() {
    let tmp = homelab_copy();
    let out = tmp.path().join("generated");
    // A file netpol did not write, where it wants to write.
    std::fs::write(out.join("monitoring.yaml"), "# hand-written\n").unwrap();
    let before = files(&out);
    let run = netpol_in(tmp.path(), GEN);
    assert_eq!(run.code, 2, "{}", run.transcript());
    assert!(
        run.stderr.contains("refusing to overwrite") && run.stderr.contains("monitoring.yaml"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("Nothing was written"), "{}", run.stderr);
    assert_eq!(files(&out), before, "nothing may change when gen refuses");
    assert_eq!(
        netpol_in(tmp.path(), CHECK).code,
        2,
        "--check cannot answer with a foreign file in the way either"
    );

    // Foreign files beside the generated ones survive; stale generated ones go.
    std::fs::remove_file(out.join("monitoring.yaml")).unwrap();
    std::fs::write(out.join("README.md"), "mine\n").unwrap();
    std::fs::write(out.join("extra.yaml"), "# my own policy\n").unwrap();
    let stale = format!(
        "{}\n---\n# a namespace that is gone\n",
        netpol_flows::HEADER
    );
    std::fs::write(out.join("gone.yaml"), &stale).unwrap();
    let run = netpol_in(tmp.path(), GEN);
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert!(
        run.stdout.contains("removed   generated/gone.yaml"),
        "{}",
        run.stdout
    );
    assert_eq!(
        std::fs::read_to_string(out.join("README.md")).unwrap(),
        "mine\n"
    );
    assert_eq!(
        std::fs::read_to_string(out.join("extra.yaml")).unwrap(),
        "# my own policy\n"
    );
    assert!(!out.join("gone.yaml").exists());
    let leftovers: Vec<String> = files(&out)
        .into_iter()
        .map(|(n, _)| n)
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}

#[test]
fn shop_egress_snapshot() {
    // Shared labels (DoesNotExist), a Service targetPort, metrics by annotation,
    // kube-apiserver, nodes, external and egress isolation, in one fixture.
    let fixtures = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/flows/shop");
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let run = netpol_in(
        &fixtures,
        &[
            "gen",
            "flows.yaml",
            "cluster.yaml",
            "-o",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(run.code, 0, "{}", run.transcript());
    let listing: String = files(&out)
        .into_iter()
        .map(|(n, t)| format!("=== {n}\n{t}"))
        .collect();
    insta::assert_snapshot!("shop_generated", listing);
    let verify = netpol_in(
        &fixtures,
        &[
            "verify",
            "flows.yaml",
            "cluster.yaml",
            out.to_str().unwrap(),
            "--strict",
        ],
    );
    assert_eq!(verify.code, 0, "{}", verify.transcript());
}
