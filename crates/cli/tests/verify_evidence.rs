//! `netpol verify` against the evidence: a connection the manifests show a
//! need for (here a new Ingress in a pull request) that the flows do not
//! mean fails `--strict`, naming the missing flow and the evidence.

mod support;

use std::path::Path;

use support::{fixtures, netpol_in};

fn scratch() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let src = fixtures().join("evidence");
    std::fs::copy(src.join("flows.yaml"), tmp.path().join("flows.yaml")).unwrap();
    std::fs::create_dir(tmp.path().join("manifests")).unwrap();
    std::fs::copy(
        src.join("manifests/cluster.yaml"),
        tmp.path().join("manifests/cluster.yaml"),
    )
    .unwrap();
    tmp
}

fn gen_and_verify(dir: &Path) -> support::Run {
    let g = netpol_in(dir, &["gen", "flows.yaml", "manifests", "-o", "generated"]);
    assert_eq!(g.code, 0, "{}", g.transcript());
    netpol_in(
        dir,
        &["verify", "flows.yaml", "manifests", "generated", "--strict"],
    )
}

#[test]
fn flows_that_cover_the_evidence_pass_strict() {
    let tmp = scratch();
    let run = gen_and_verify(tmp.path());
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert!(!run.stdout.contains("Would break"), "{}", run.stdout);
}

#[test]
fn a_new_ingress_without_its_flow_fails_strict_with_the_evidence() {
    let tmp = scratch();
    std::fs::copy(
        fixtures().join("evidence/wiki.yaml"),
        tmp.path().join("manifests/wiki.yaml"),
    )
    .unwrap();
    let run = gen_and_verify(tmp.path());
    assert_eq!(run.code, 1, "{}", run.transcript());
    insta::assert_snapshot!("verify_evidence_new_ingress", run.transcript());
    // Without --strict the flows are still implemented as written.
    let plain = netpol_in(
        tmp.path(),
        &["verify", "flows.yaml", "manifests", "generated"],
    );
    assert_eq!(plain.code, 0, "{}", plain.transcript());
    assert!(
        plain.stdout.contains("Would break: 1 connection"),
        "{}",
        plain.stdout
    );

    let json = netpol_in(
        tmp.path(),
        &[
            "verify",
            "flows.yaml",
            "manifests",
            "generated",
            "-o",
            "json",
        ],
    );
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let w = &v["wouldBreak"];
    assert_eq!(w.as_array().map(Vec::len), Some(1), "{w}");
    assert_eq!(w[0]["src"], "ingress-nginx/controller");
    assert_eq!(w[0]["dst"], "docs/wiki");
    assert_eq!(w[0]["port"], 3000);
    assert_eq!(w[0]["rule"], "ingress");
    assert_eq!(w[0]["confidence"], "certain");
    let fields: Vec<_> = w[0]["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["object"].as_str().unwrap().to_string(),
                e["line"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        fields,
        [
            ("Deployment ingress-nginx/controller".to_string(), 17),
            ("Ingress docs/wiki".to_string(), 28),
        ]
    );
}

#[test]
fn ingress_backends_follows_the_new_ingress() {
    // Written with `ingress-backends`, the flows need no edit: regenerated
    // policies admit the new backend and nothing would break.
    let tmp = scratch();
    std::fs::write(
        tmp.path().join("flows.yaml"),
        "defaultDeny: ingress\nallowDns: false\nflows:\n  - from: ingress-nginx\n    to: ingress-backends\n    ports: backend\n    purpose: External access\n",
    )
    .unwrap();
    std::fs::copy(
        fixtures().join("evidence/wiki.yaml"),
        tmp.path().join("manifests/wiki.yaml"),
    )
    .unwrap();
    let run = gen_and_verify(tmp.path());
    assert_eq!(run.code, 0, "{}", run.transcript());
    let policy = std::fs::read_to_string(tmp.path().join("generated/docs.yaml")).unwrap();
    assert!(policy.contains("port: 3000"), "{policy}");
}
