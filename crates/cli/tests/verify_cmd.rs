//! `netpol verify` end to end on the homelab example and the real homelab
//! model: exit statuses, missing connections with their trace, extras,
//! open namespaces, JSON.

mod support;

use std::path::PathBuf;

use support::{Run, assert_contains, explain, json, netpol_in};

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
    assert_contains(&page.stdout, "Missing: ");
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
        (Some("flows[2]"), Some(37))
    );
    assert_eq!(m["verdict"]["ingress"]["status"], "denied");
}

#[test]
fn flows_findings_are_reported_and_errors_fail() {
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
        &["gen", flows, "cluster.yaml", "--dir", out.to_str().unwrap()],
    );
    assert_eq!(r#gen.code, 0, "{}", r#gen.transcript());
    let run = netpol_in(
        &fixtures,
        &["verify", flows, "cluster.yaml", out.to_str().unwrap()],
    );
    // No --strict: a flow that means nothing is not "implemented".
    assert_eq!(run.code, 1, "{}", run.transcript());
    let text = run.stdout.replace(tmp.path().to_str().unwrap(), "<DIR>");
    insta::assert_snapshot!("odd_flows_findings", text);
    for code in [
        "error: <DIR>/odd.yaml:2: flows[0]: source nobody matches no pod: namespace nobody is not in the input; namespaces: rkllama [matches-nothing]",
        "error: <DIR>/odd.yaml:6: flows[1]: no pod of rkllama/rkllama declares a metrics port",
        "warning: <DIR>/odd.yaml:6: flows[1]: no pod of rkllama/rkllama declares port 9999",
        "error: <DIR>/odd.yaml:10: flows[2]: nodes needs cluster.nodeCIDRs",
        "[not-pod-traffic]",
        "FAIL: 3 errors in the flows\n",
    ] {
        assert!(text.contains(code), "{code} missing:\n{text}");
    }

    // Warnings alone (a port number no pod declares is still allowed as
    // written) fail only --strict.
    std::fs::write(
        flows,
        "flows:\n  - from: rkllama\n    to: rkllama/rkllama\n    ports: 9999\n    purpose: Undeclared port\n",
    )
    .unwrap();
    let r#gen = netpol_in(
        &fixtures,
        &["gen", flows, "cluster.yaml", "--dir", out.to_str().unwrap()],
    );
    assert_eq!(r#gen.code, 0, "{}", r#gen.transcript());
    let verify = |strict: &[&str]| {
        let mut args = vec!["verify", flows, "cluster.yaml", out.to_str().unwrap()];
        args.extend_from_slice(strict);
        netpol_in(&fixtures, &args)
    };
    let run = verify(&[]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert_contains(&run.stdout, "warning: ");
    assert_eq!(verify(&["--strict"]).code, 1);
}

/// Each kind of flow that means nothing in the cluster fails verify, and
/// says what the cluster has that the flow probably meant.
#[test]
fn flows_that_mean_nothing_fail_with_did_you_mean() {
    let shop = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/flows/shop");
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let out = out.to_str().unwrap();
    let r#gen = netpol_in(&shop, &["gen", "typos.yaml", "cluster.yaml", "--dir", out]);
    assert_eq!(r#gen.code, 0, "{}", r#gen.transcript());
    let run = netpol_in(&shop, &["verify", "typos.yaml", "cluster.yaml", out]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    let text = run.stdout.replace(out, "<DIR>");
    insta::assert_snapshot!("typos_did_you_mean", text);
    for expected in [
        "typos.yaml:3: flows[0]: source shp/web matches no pod: namespace shp is not in the input; did you mean shop/web? [matches-nothing]",
        "typos.yaml:7: flows[1]: destination shop/apii matches no pod: no workload apii in namespace shop; did you mean shop/api? [matches-nothing]",
        "typos.yaml:11: flows[2]: source shop:app=reprot matches no pod: no pod in namespace shop has app=reprot; did you mean app=report? [matches-nothing]",
        "typos.yaml:11: flows[2]: no pod of shop/api declares a port named grcp for TCP, and no Service in front of one has a port of that name; did you mean grpc? [no-listener]",
        "typos.yaml:15: flows[3]: source *:tier=web matches no pod: no pod in any namespace has a label tier",
        "typos.yaml:19: flows[4]: kube-apiserver needs cluster.apiserver.addresses or cluster.nodeCIDRs",
        "typos.yaml:23: flows[5]: no pod of kube-system/coredns declares a port named dns-tcp for UDP, and no Service in front of one has a port of that name; dns-tcp is declared for TCP: did you mean dns-tcp/tcp? [no-listener]",
    ] {
        assert!(
            text.contains(&format!("error: {expected}")),
            "{expected} missing:\n{text}"
        );
    }
    assert!(!text.contains("flows[6]"), "{text}");
    let json = netpol_in(
        &shop,
        &["verify", "typos.yaml", "cluster.yaml", out, "-o", "json"],
    );
    assert_eq!(json.code, 1);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let errors = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] == "error")
        .count();
    assert_eq!(errors, 7, "{}", json.stdout);
}

#[test]
fn real_homelab_with_the_example_flows() {
    // The 59-workload model: the page's flows generate policies that allow
    // exactly what the flows mean, but three of the page's names do not
    // exist there (Helm prefixes the monitoring workloads; no llamacpp), so
    // verify fails rather than pass flows that check nothing.
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("generated");
    let Some(real) = real_homelab() else {
        return;
    };
    let (real, out_s) = (real.to_str().unwrap(), out.to_str().unwrap());
    let r#gen = homelab(&["gen", "flows.yaml", real, "--dir", out_s]);
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
    assert_eq!(run.code, 1, "{}", run.transcript());
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let errors: Vec<(&str, &str)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] == "error")
        .map(|f| (f["flow"].as_str().unwrap(), f["message"].as_str().unwrap()))
        .collect();
    let unknown: Vec<(&str, &str)> = errors
        .iter()
        .map(|(flow, m)| (*flow, m.split(" matches no pod").next().unwrap()))
        .collect();
    assert_eq!(
        unknown,
        [
            ("flows[1]", "source monitoring/prometheus"),
            ("flows[3]", "destination llamacpp"),
            ("flows[7]", "destination monitoring/prometheus"),
            ("flows[7]", "source monitoring/grafana"),
        ],
        "{errors:?}"
    );
    assert!(
        errors[0]
            .1
            .contains("monitoring/prometheus-grafana-prometheus-kube-pr-prometheus"),
        "{errors:?}"
    );
    assert_eq!(v["missing"].as_array().unwrap().len(), 0);
    assert_eq!(v["withoutDefaultDeny"].as_array().unwrap().len(), 0);
    // Identical-label backup jobs are the only way the set can be wider than the flows,
    // and none of them receives traffic: no extra connection.
    assert_eq!(v["extra"].as_array().unwrap().len(), 0, "{}", run.stdout);
    assert!(v["checked"].as_u64().unwrap() > 1000);
    let again = homelab(&["gen", "flows.yaml", real, "--dir", out_s, "--check"]);
    assert_eq!(again.code, 0, "{}", again.transcript());
}

fn fixtures(args: &[&str]) -> Run {
    support::netpol(args)
}

#[test]
fn a_flow_allowed_over_one_family_only_is_missing_over_the_other() {
    // Both ends are dual-stack and net's policy admits an IPv4 block: the
    // flow works over IPv4 and is denied over IPv6.
    let args = [
        "verify",
        "verify-families/client-to-server.yaml",
        "families",
    ];
    let run = fixtures(&[&args[..], &["-o", "json"]].concat());
    assert_eq!(run.code, 1, "{}", run.transcript());
    let missing = json(&run)["missing"].as_array().unwrap().clone();
    let got: Vec<(&str, &str, &str)> = missing
        .iter()
        .map(|m| {
            (
                m["src"].as_str().unwrap(),
                m["dst"].as_str().unwrap(),
                m["family"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(got, [("net/client", "net/server", "IPv6")]);
    let text = fixtures(&args);
    assert_eq!(text.code, 1);
    assert_contains(
        &text.stdout,
        "net/client -> net/server on 80/TCP over IPv6 (allowed over IPv4 only)",
    );
    insta::assert_snapshot!(text.transcript());
}

#[test]
fn a_flow_between_replicas_is_checked_like_any_other() {
    // Two replicas of shop/web are two pods: shop's default-deny blocks them.
    let run = fixtures(&[
        "verify",
        "verify-families/web-to-web.yaml",
        "families",
        "-o",
        "json",
    ]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    let v = json(&run);
    let missing = v["missing"].as_array().unwrap();
    assert_eq!(missing.len(), 1, "{missing:?}");
    assert_eq!(missing[0]["src"], "shop/web");
    assert_eq!(missing[0]["dst"], "shop/web");
    assert_eq!(missing[0]["verdict"]["betweenReplicas"], "shop/web");
    // With a policy letting the replicas in, the flow is implemented.
    let run = fixtures(&[
        "verify",
        "verify-families/web-to-web.yaml",
        "families",
        "verify-families/policies",
        "-o",
        "json",
    ]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert_eq!(json(&run)["missing"].as_array().unwrap().len(), 0);
}

#[test]
fn replicas_and_one_family_allowed_without_a_flow_are_extra() {
    let run = fixtures(&[
        "verify",
        "verify-families/no-flows.yaml",
        "families",
        "verify-families/policies",
        "-o",
        "json",
    ]);
    assert_eq!(
        run.code,
        0,
        "extras fail only --strict: {}",
        run.transcript()
    );
    let v = json(&run);
    let got: Vec<(&str, &str, u64, Option<&str>)> = v["extra"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["src"].as_str().unwrap(),
                e["dst"].as_str().unwrap(),
                e["port"].as_u64().unwrap(),
                e["only"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("net/client", "net/server", 80, Some("IPv4")),
            ("shop/web", "shop/web", 8080, None),
        ]
    );
    let strict = fixtures(&[
        "verify",
        "verify-families/no-flows.yaml",
        "families",
        "verify-families/policies",
        "--strict",
    ]);
    assert_eq!(strict.code, 1);
    insta::assert_snapshot!(strict.transcript());
}

#[test]
fn gen_lets_replicas_talk_to_each_other_under_default_deny() {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().to_str().unwrap();
    let flows = "verify-families/web-to-web-egress.yaml";
    let input = "verify-families/workloads";
    let generated = fixtures(&["gen", flows, input, "--dir", dir]);
    assert_eq!(generated.code, 0, "{}", generated.transcript());
    let shop = std::fs::read_to_string(out.path().join("shop.yaml")).unwrap();
    let run = fixtures(&["verify", flows, input, dir, "--strict"]);
    assert_eq!(run.code, 0, "{}\n{shop}", run.transcript());
    let explain_run = explain(
        &[input, dir],
        "shop/web",
        "shop/web",
        "8080",
        &["--exit-code"],
    );
    assert_eq!(explain_run.code, 0, "{}", explain_run.transcript());
    assert_contains(&explain_run.stdout, "between two replicas of shop/web");
    // Both directions are opened, and for web alone: api, in the same
    // namespace, still cannot reach web.
    let explain_json = json(&explain(
        &[input, dir],
        "shop/web",
        "shop/web",
        "8080",
        &["-o", "json"],
    ));
    for side in ["egress", "ingress"] {
        assert_eq!(explain_json[side]["status"], "allowed", "{side}");
    }
    let api = explain(
        &[input, dir],
        "shop/api",
        "shop/web",
        "8080",
        &["--exit-code"],
    );
    assert_eq!(api.code, 3, "{}", api.transcript());
}

#[test]
fn gen_lets_the_pods_of_a_live_dumps_workload_talk_to_each_other() {
    // replicas/cluster.yaml: two Pods of shop/web (a live dump), listening on 80.
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().to_str().unwrap();
    let flows = "verify-families/web-to-web-live.yaml";
    let generated = fixtures(&["gen", flows, "replicas", "--dir", dir]);
    assert_eq!(generated.code, 0, "{}", generated.transcript());
    let run = fixtures(&["verify", flows, "replicas", dir, "-o", "json"]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    let v = json(&run);
    assert_eq!(v["checked"], 4, "each pod to itself and to the other");
    assert_eq!(v["missing"].as_array().unwrap().len(), 0);
    let between = explain(&["replicas", dir], "shop/web", "shop/web", "80", &[]);
    assert_contains(&between.stdout, "4 of 4 connections allowed");
}

/// A synthetic cluster of `workloads` (with half as many policies, or
/// none) and a flows file, written to a temporary directory.
fn synthetic(workloads: usize, policies: bool, flows: &str) -> tempfile::TempDir {
    let mut params = netpol_synth::Params::new(workloads, 1);
    if !policies {
        params.policies = 0;
    }
    let tmp = tempfile::tempdir().unwrap();
    let yaml = netpol_synth::to_yaml(&netpol_synth::generate(&params));
    std::fs::write(tmp.path().join("m.yaml"), yaml).unwrap();
    std::fs::write(tmp.path().join("flows.yaml"), flows).unwrap();
    tmp
}

/// The number a line of `text` starting with `prefix` gives first.
fn count_after(text: &str, prefix: &str) -> usize {
    let line = text
        .lines()
        .find_map(|l| l.trim_start().strip_prefix(prefix))
        .unwrap_or_else(|| panic!("no {prefix:?} in:\n{text}"));
    line.split(' ').next().unwrap().parse().unwrap()
}

/// Broad flows over policies that deny most of them mean more missing
/// connections than anyone reads (millions in a live dump): the first
/// ones are listed and explained, the rest counted, in text and JSON,
/// and the run still fails.
#[test]
fn missing_connections_past_the_listed_ones_are_counted() {
    let flows = "defaultDeny: ingress\nflows:\n  - from: \"*\"\n    to: \"*\"\n    ports: any\n    purpose: all\n";
    let tmp = synthetic(80, true, flows);
    let text = netpol_in(
        tmp.path(),
        &["verify", "flows.yaml", "m.yaml", "--color", "never"],
    );
    assert_eq!(text.code, 1, "{}", text.transcript());
    let total = count_after(&text.stdout, "Missing: ");
    let listed = text
        .stdout
        .lines()
        .filter(|l| l.starts_with("  flows.yaml:"))
        .count();
    assert_eq!(listed, netpol_flows::MISSING_LISTED);
    let rest = count_after(&text.stdout, "... and ");
    assert_eq!(listed + rest, total, "{}", text.stdout);
    assert_contains(&text.stdout, &format!("FAIL: {total} missing"));

    let run = netpol_in(
        tmp.path(),
        &["verify", "flows.yaml", "m.yaml", "-o", "json"],
    );
    assert_eq!(run.code, 1);
    let v = json(&run);
    assert_eq!(v["missing"].as_array().unwrap().len(), listed);
    assert_eq!(v["missingNotListed"], rest);
    assert!(v.get("extraNotListed").is_none(), "nothing extra is cut");
}

/// Narrow flows over no policies at all: every other connection is extra.
/// Listed to the end of a destination port, the rest counted.
#[test]
fn extra_connections_past_the_listed_ones_are_counted() {
    let flows = "defaultDeny: ingress\nflows:\n  - from: ns-1\n    to: ns-2\n    ports: any\n    purpose: one\n";
    let tmp = synthetic(160, false, flows);
    let run = netpol_in(
        tmp.path(),
        &["verify", "flows.yaml", "m.yaml", "-o", "json"],
    );
    assert_eq!(run.code, 1, "{}", run.transcript());
    let v = json(&run);
    let extra = v["extra"].as_array().unwrap();
    let rest = v["extraNotListed"].as_u64().unwrap() as usize;
    assert!(
        extra.len() >= netpol_flows::EXTRA_LISTED && rest > 0,
        "{} {rest}",
        extra.len()
    );
    // The listed ones end with a whole destination port.
    let group =
        |e: &serde_json::Value| (e["dst"].clone(), e["port"].clone(), e["protocol"].clone());
    let last = group(&extra[extra.len() - 1]);
    let first_of_last = extra.iter().position(|e| group(e) == last).unwrap();
    assert!(
        first_of_last < netpol_flows::EXTRA_LISTED,
        "a group past the cut"
    );

    let text = netpol_in(
        tmp.path(),
        &[
            "verify",
            "flows.yaml",
            "m.yaml",
            "--strict",
            "--color",
            "never",
        ],
    );
    assert_eq!(text.code, 1);
    let total = count_after(&text.stdout, "Extra: ");
    assert_eq!(total, extra.len() + rest);
    assert_contains(&text.stdout, &format!("... and {rest} more not listed"));
    assert_contains(&text.stdout, &format!("{total} extra"));
}
