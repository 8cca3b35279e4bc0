//! `netpol discover`: its three outputs on a fixture cluster, the guard
//! against guessing from encrypted Secrets, and the whole workflow
//! discover -> gen -> verify --strict on the real homelab.

mod support;

use std::path::Path;

use support::{fixtures, netpol, netpol_in};

const CLUSTER: &str = "discover/cluster.yaml";

#[test]
fn flows_snapshot() {
    let run = netpol(&["discover", CLUSTER]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    insta::assert_snapshot!(run.transcript());
}

#[test]
fn json_snapshot_is_the_documented_contract() {
    let run = netpol(&["discover", CLUSTER, "-o", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let conns = v["connections"].as_array().unwrap();
    let keys = |c: &serde_json::Value| {
        (
            c["src"].as_str().unwrap().to_string(),
            c["dst"].as_str().unwrap().to_string(),
            c["port"].as_u64().unwrap(),
            c["protocol"].as_str().unwrap().to_string(),
            c["rule"].as_str().unwrap().to_string(),
        )
    };
    let mut sorted: Vec<_> = conns.iter().map(keys).collect();
    sorted.sort();
    assert_eq!(sorted, conns.iter().map(keys).collect::<Vec<_>>(), "sorted");
    let web = conns
        .iter()
        .find(|c| c["src"] == "shop/web" && c["dst"] == "shop/api")
        .unwrap();
    assert_eq!(
        web["port"], 8080,
        "the named targetPort, not the Service's 80"
    );
    assert_eq!(web["rule"], "env-url");
    assert_eq!(web["confidence"], "certain");
    assert_eq!(
        web["evidence"][0],
        serde_json::json!({
            "file": "discover/cluster.yaml",
            "line": 72,
            "object": "Deployment shop/web",
            "field": "spec.template.spec.containers[0].env[0].value",
            "text": "API_URL=http://api.shop.svc.cluster.local:80/v1"
        })
    );
    insta::assert_snapshot!(run.stdout);
}

#[test]
fn text_snapshot() {
    let run = netpol(&["discover", CLUSTER, "-o", "text"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    insta::assert_snapshot!(run.stdout);
}

#[test]
fn an_encrypted_secret_is_reported_and_not_guessed() {
    let run = netpol(&["discover", CLUSTER, "-o", "json"]);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let unresolved = v["unresolved"].as_array().unwrap();
    let sealed = unresolved
        .iter()
        .find(|u| u["subject"] == "shop/api")
        .expect("shop/api's SealedSecret is reported");
    assert!(
        sealed["reason"]
            .as_str()
            .unwrap()
            .starts_with("all variables of Secret shop/api-db are unknown: it is a SealedSecret"),
        "{sealed}"
    );
    assert_eq!(
        sealed["evidence"]["field"],
        "spec.template.spec.containers[0].envFrom[0]"
    );
    // shop/api needs only DNS: nothing is made up from the encrypted URL.
    let from_api: Vec<&serde_json::Value> = v["connections"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["src"] == "shop/api")
        .collect();
    assert!(from_api.iter().all(|c| c["rule"] == "dns"), "{from_api:?}");
    // The flows file lists it too.
    let flows = netpol(&["discover", CLUSTER]).stdout;
    assert!(
        flows.contains("#   shop/api [env-url]: all variables of Secret shop/api-db are unknown")
    );
}

#[test]
fn bad_input_exits_2_with_the_problem_located() {
    let run = netpol(&["discover", "bad/policies.yaml"]);
    assert_eq!(run.code, 2, "{}", run.transcript());
    assert!(run.stdout.is_empty());
    assert!(
        run.stderr.contains("bad/policies.yaml:15"),
        "{}",
        run.stderr
    );
    let missing = netpol(&["discover", "no/such/dir"]);
    assert_eq!(missing.code, 2, "{}", missing.transcript());
    let host_bits = netpol(&["discover", CLUSTER, "--node-cidr", "192.168.1.5/24"]);
    assert_eq!(host_bits.code, 2);
    assert!(
        host_bits.stderr.contains("did you mean 192.168.1.0/24?"),
        "{}",
        host_bits.stderr
    );
    let not_a_cidr = netpol(&["discover", CLUSTER, "--node-cidr", "nodes"]);
    assert_eq!(not_a_cidr.code, 2, "{}", not_a_cidr.transcript());
}

/// Runs discover -> gen -> verify --strict and returns verify's run.
fn discover_gen_verify(dir: &Path, manifests: &str, extra: &[&str]) -> support::Run {
    let tmp = tempfile::tempdir().unwrap();
    let mut args = vec!["discover", manifests];
    args.extend_from_slice(extra);
    let found = netpol_in(dir, &args);
    assert_eq!(found.code, 0, "{}", found.stderr);
    let flows = tmp.path().join("flows.yaml");
    std::fs::write(&flows, &found.stdout).unwrap();
    let out = tmp.path().join("generated");
    let (flows, out) = (flows.to_str().unwrap(), out.to_str().unwrap());
    let generated = netpol_in(dir, &["gen", flows, manifests, "--dir", out]);
    assert_eq!(generated.code, 0, "{}", generated.transcript());
    netpol_in(dir, &["verify", flows, manifests, out, "--strict"])
}

/// discover's flows go through gen and verify --strict unchanged.
fn workflow(dir: &Path, manifests: &str, extra: &[&str]) {
    let verified = discover_gen_verify(dir, manifests, extra);
    assert_eq!(verified.code, 0, "{}", verified.transcript());
    assert!(
        verified
            .stdout
            .contains("OK: the policies implement the flows")
    );
}

/// Without the nodes' addresses the API server's needs cannot be written as
/// flows, and the default-deny would break them: verify says so.
fn breaks_without_node_addresses(dir: &Path, manifests: &str) {
    let verified = discover_gen_verify(dir, manifests, &[]);
    assert_eq!(verified.code, 1, "{}", verified.transcript());
    assert!(
        verified.stdout.contains("Would break:") && verified.stdout.contains("kube-apiserver"),
        "{}",
        verified.stdout
    );
}

#[test]
fn fixture_flows_pass_gen_and_verify_strict() {
    workflow(&fixtures(), CLUSTER, &["--node-cidr", "192.168.1.0/24"]);
    breaks_without_node_addresses(&fixtures(), CLUSTER);
}

#[test]
fn example_homelab_discover_gen_verify_strict() {
    // The README's main workflow.
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let manifests = "examples/homelab/manifests";
    workflow(&repo, manifests, &["--node-cidr", "192.168.1.0/24"]);
    let flows = netpol_in(
        &repo,
        &["discover", manifests, "--node-cidr", "192.168.1.0/24"],
    )
    .stdout;
    assert!(
        flows.contains(
            "  - from: open-webui/open-webui\n    to: rkllama/rkllama\n    ports: [8080]\n"
        )
    );
    assert!(flows.contains(
        "  - from: monitoring/grafana\n    to: monitoring/prometheus\n    ports: [9090]\n"
    ));
}

#[test]
fn real_homelab_discover_gen_verify_strict() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    if netpol_testdata::shared("realcases/homelab/manifests").is_none() {
        return;
    }
    // Relative, as a user types it: the evidence cites this path.
    let manifests = "../shared/realcases/homelab/manifests";
    // Everything discover writes is implemented; what stays is what no
    // policy can grant without a hole: two of the ten backup CronJobs need
    // the database, and all ten share their pod labels. verify says so.
    let verified = discover_gen_verify(&repo, manifests, &["--node-cidr", "192.168.1.0/24"]);
    assert_eq!(verified.code, 1, "{}", verified.transcript());
    let broken: Vec<&str> = verified
        .stdout
        .lines()
        .filter(|l| l.starts_with("  ") && !l.starts_with("   ") && l.contains(" on "))
        .collect();
    assert_eq!(
        broken,
        [
            "  backups/supabase-db-daily -> supabase/supabase-supabase-db on 5432/TCP (env-url, certain)",
            "  backups/supabase-db-weekly -> supabase/supabase-supabase-db on 5432/TCP (env-url, certain)",
        ],
        "{}",
        verified.stdout
    );
    for section in [
        "Missing: 0",
        "Extra: 0",
        "Findings about the flows: 0",
        "Would break: 2",
    ] {
        assert!(verified.stdout.contains(section), "{}", verified.stdout);
    }
    breaks_without_node_addresses(&repo, manifests);
    // What the review starts from: the LLM API behind its Service's
    // targetPort; the database that the backups reach by PGHOST/PGPORT is
    // written but off, since all ten backup CronJobs share their pod labels.
    let flows = netpol_in(&repo, &["discover", manifests]).stdout;
    assert!(
        flows.contains(
            "  - from: open-webui/open-webui\n    to: rkllama/rkllama\n    ports: [8082]\n"
        )
    );
    assert!(flows.contains(
        "  # OFF: the source backups/supabase-db-daily has the same pod labels as backups/grafana-daily, "
    ));
    assert!(flows.contains(
        "  # - from: backups/supabase-db-daily\n  #   to: supabase/supabase-supabase-db\n  #   ports: [5432]\n"
    ));
}

#[test]
fn needs_no_policy_can_express_are_written_off_with_the_reason() {
    let flows = netpol(&["discover", CLUSTER]).stdout;
    assert!(flows.contains(
        "the source shop/node-agent uses the host network, which NetworkPolicies cannot select: its traffic has its node's address; set cluster.nodeCIDRs (netpol discover --node-cidr) to write it as `nodes`\n  # - from: shop/node-agent\n  #   to: shop/api\n  #   ports: [8080]\n"
    ), "{flows}");
    // With the nodes' addresses, a host-network source is written as `nodes`.
    let flows = netpol(&["discover", CLUSTER, "--node-cidr", "192.168.1.0/24"]).stdout;
    assert!(flows.contains(
        "  #   nodes: shop/node-agent uses the host network, so the traffic has the node's address\n  - from: nodes\n    to: shop/api\n    ports: [8080]\n"
    ), "{flows}");
    // With the nodes' addresses, the API server's calls to the webhook are written.
    assert!(flows.contains("  - from: kube-apiserver\n    to: hooks/webhook\n    ports: [9443]\n"));
    assert!(flows.contains("cluster:\n  nodeCIDRs: [192.168.1.0/24]\n"));
}

/// The second real cluster (Traefik, ServiceMonitors, webhooks): everything
/// discover writes goes through gen; verify finds nothing missing, nothing
/// that would break and nothing odd about the flows. What it does report is
/// the input's own policy (longhorn-webhook admits everyone on 9502).
#[test]
fn real_talos_discover_gen_verify() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    if netpol_testdata::shared("realcases/talos-gitops/manifests").is_none() {
        return;
    }
    let manifests = "../shared/realcases/talos-gitops/manifests";
    let flows = netpol_in(
        &repo,
        &["discover", manifests, "--node-cidr", "192.168.2.0/24"],
    )
    .stdout;
    // Three etcd snapshot CronJobs share their pod labels and every need:
    // written once for the labels that select exactly them.
    assert!(
        flows.contains("  - from: kube-system:app.kubernetes.io/name=etcd-snapshot-offsite\n    to: kube-system/coredns\n"),
        "{flows}"
    );
    // A host-network workload calling an address: no policy selects either end.
    assert!(flows.contains(
        "  # OFF: no NetworkPolicy selects either end (host network, or an address), so there is nothing to allow: listed for the record\n  # - from: nodes\n  #   to: kube-apiserver\n"
    ));
    let verified = discover_gen_verify(&repo, manifests, &["--node-cidr", "192.168.2.0/24"]);
    for section in ["Missing: 0", "Findings about the flows: 0", "Extra: 8"] {
        assert!(verified.stdout.contains(section), "{}", verified.stdout);
    }
    assert!(
        !verified.stdout.contains("Would break"),
        "{}",
        verified.stdout
    );
    assert!(
        verified
            .stdout
            .contains("  longhorn-system/longhorn-manager 9502/TCP from ")
            && verified
                .stdout
                .contains("ingress: allowed by longhorn-system/longhorn-webhook"),
        "{}",
        verified.stdout
    );
}
