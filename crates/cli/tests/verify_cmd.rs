//! `netpol verify` end to end on the homelab example and the real homelab
//! model: exit statuses, missing connections with their trace, extras,
//! open namespaces, JSON.

mod support;

use std::path::PathBuf;

use support::{Run, netpol_in};

fn repo() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

fn real_homelab() -> Option<PathBuf> {
    netpol_testdata::shared("realcases/homelab/manifests")
}

fn homelab(args: &[&str]) -> Run {
    netpol_in(&repo().join("examples/homelab"), args)
}

#[test]
fn generated_homelab_policies_implement_the_flows() {
    let run = homelab(&["verify", "flows.yaml", "manifests", "generated"]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    insta::assert_snapshot!("homelab_verify", run.transcript());
    let strict = homelab(&["verify", "flows.yaml", "manifests", "generated", "--strict"]);
    assert_eq!(
        strict.code,
        0,
        "only a note about the flows, no warning: {}",
        strict.transcript()
    );
}

#[test]
fn the_pages_hand_written_policies_add_nothing_the_flows_do_not_mean() {
    // policies/monitoring.yaml holds the page's two examples; the flows'
    // `ingress-nginx -> * on service` already covers ingress-nginx -> grafana:3000.
    let run = homelab(&[
        "verify",
        "flows.yaml",
        "manifests",
        "policies",
        "generated",
        "--strict",
    ]);
    assert_eq!(run.code, 0, "{}", run.transcript());
}

#[test]
fn manifests_without_policies_fail_on_open_namespaces_and_strict_counts_extras() {
    let run = homelab(&["verify", "flows.yaml", "manifests", "-o", "json"]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        v["missing"].as_array().unwrap().len(),
        0,
        "nothing is denied without policies"
    );
    assert_eq!(v["withoutDefaultDeny"].as_array().unwrap().len(), 9);
    let extra = v["extra"].as_array().unwrap();
    assert!(!extra.is_empty());
    // rkllama only admits open-webui (LLM API), argo-cd (GitOps) and ingress-nginx (service):
    // cloudflared -> rkllama:8080 is allowed only because nothing isolates rkllama.
    assert!(
        extra.iter().any(|e| e["src"] == "cloudflared/cloudflared"
            && e["dst"] == "rkllama/rkllama"
            && e["port"] == 8080),
        "{extra:?}"
    );
    assert!(
        !extra
            .iter()
            .any(|e| e["src"] == "open-webui/open-webui" && e["dst"] == "rkllama/rkllama")
    );

    // The page's own two policies: only monitoring is isolated, and only grafana's port 3000 from ingress-nginx is open.
    let page = homelab(&["verify", "flows.yaml", "manifests", "policies"]);
    assert_eq!(page.code, 1);
    assert!(page.stdout.contains("Missing: "), "{}", page.stdout);
    assert!(
        page.stdout
            .contains("monitoring/prometheus -> monitoring/grafana")
            || page.stdout.contains("-> monitoring/prometheus on 9090/TCP"),
        "{}",
        page.stdout
    );
    assert!(
        !page.stdout.contains("  monitoring: no policy isolates"),
        "{}",
        page.stdout
    );
}

#[test]
fn a_missing_policy_is_reported_with_the_engine_trace() {
    let tmp = tempfile::tempdir().unwrap();
    let generated = repo().join("examples/homelab/generated");
    for entry in std::fs::read_dir(&generated).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), tmp.path().join(entry.file_name())).unwrap();
    }
    // Drop rkllama's LLM API policy: open-webui can no longer reach it.
    let path = tmp.path().join("rkllama.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    let docs: Vec<&str> = text
        .split("---\n")
        .filter(|d| !d.contains("name: allow-llm-api-to-rkllama"))
        .collect();
    assert_eq!(
        docs.len() + 1,
        text.split("---\n").count(),
        "the policy was there"
    );
    std::fs::write(&path, docs.join("---\n")).unwrap();

    let run = homelab(&[
        "verify",
        "flows.yaml",
        "manifests",
        tmp.path().to_str().unwrap(),
    ]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    let out = run.stdout.replace(tmp.path().to_str().unwrap(), "<DIR>");
    insta::assert_snapshot!("homelab_verify_missing", out);
    assert!(out.contains("Missing: 1 connection"), "{out}");
    assert!(
        out.contains("DENIED: open-webui/open-webui -> rkllama/rkllama on 8080/TCP"),
        "{out}"
    );

    let json = homelab(&[
        "verify",
        "flows.yaml",
        "manifests",
        tmp.path().to_str().unwrap(),
        "-o",
        "json",
    ]);
    assert_eq!(json.code, 1);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let m = &v["missing"][0];
    assert_eq!(
        (m["flow"].as_str(), m["line"].as_u64()),
        (Some("flows[2]"), Some(35))
    );
    assert_eq!(m["verdict"]["ingress"]["status"], "denied");
}

#[test]
fn flows_findings_are_reported_and_fail_only_strict() {
    let fixtures = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/flows");
    let tmp = tempfile::tempdir().unwrap();
    let flows = tmp.path().join("odd.yaml");
    std::fs::write(
        &flows,
        "flows:\n  - from: nobody\n    to: rkllama\n    ports: 8080\n    purpose: Source matches nothing\n  - from: rkllama\n    to: rkllama/rkllama\n    ports: [metrics, 9999]\n    purpose: Ports nobody listens on\n  - from: rkllama\n    to: nodes\n    ports: 10250\n    purpose: Nodes without addresses\n",
    )
    .unwrap();
    let out = tmp.path().join("out");
    let flows = flows.to_str().unwrap();
    let r#gen = netpol_in(
        &fixtures,
        &["gen", flows, "cluster.yaml", "-o", out.to_str().unwrap()],
    );
    assert_eq!(r#gen.code, 0, "{}", r#gen.transcript());
    let run = netpol_in(
        &fixtures,
        &["verify", flows, "cluster.yaml", out.to_str().unwrap()],
    );
    assert_eq!(run.code, 0, "{}", run.transcript());
    let text = run.stdout.replace(tmp.path().to_str().unwrap(), "<DIR>");
    insta::assert_snapshot!("odd_flows_findings", text);
    for code in [
        "[matches-nothing]",
        "[no-listener]",
        "[no-addresses]",
        "[not-pod-traffic]",
    ] {
        assert!(text.contains(code), "{code} missing:\n{text}");
    }
    let strict = netpol_in(
        &fixtures,
        &[
            "verify",
            flows,
            "cluster.yaml",
            out.to_str().unwrap(),
            "--strict",
        ],
    );
    assert_eq!(strict.code, 1, "{}", strict.transcript());
}

#[test]
fn real_homelab_with_the_example_flows() {
    // The 59-workload model: the page's flows generate policies that verify
    // cleanly; the flows' oddities against the real cluster are reported.
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("generated");
    let Some(real) = real_homelab() else {
        return;
    };
    let (real, out_s) = (real.to_str().unwrap(), out.to_str().unwrap());
    let r#gen = homelab(&["gen", "flows.yaml", real, "-o", out_s]);
    assert_eq!(r#gen.code, 0, "{}", r#gen.transcript());
    assert!(r#gen.stdout.contains("19 written"), "{}", r#gen.stdout);
    // Host-network pods are never isolated; the cronjob backups share their labels.
    assert!(r#gen.stderr.contains("[host-network]"), "{}", r#gen.stderr);
    assert!(
        r#gen.stderr.contains("have identical pod labels"),
        "{}",
        r#gen.stderr
    );
    let run = homelab(&["verify", "flows.yaml", real, out_s, "-o", "json"]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["missing"].as_array().unwrap().len(), 0);
    assert_eq!(v["withoutDefaultDeny"].as_array().unwrap().len(), 0);
    // Identical-label backup jobs are the only way the set can be wider than the flows,
    // and none of them receives traffic: no extra connection.
    assert_eq!(v["extra"].as_array().unwrap().len(), 0, "{}", run.stdout);
    assert!(v["checked"].as_u64().unwrap() > 1000);
    let again = homelab(&["gen", "flows.yaml", real, "-o", out_s, "--check"]);
    assert_eq!(again.code, 0, "{}", again.transcript());
}
