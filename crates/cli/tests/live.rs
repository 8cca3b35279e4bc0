//! A live dump (`kubectl get namespaces,pods,services,networkpolicies,... -A
//! -o yaml`): its Pods are the endpoints, and the flows file and `explain`
//! name their workloads (`shop/web`) and Services (`svc/shop/web`).

mod support;

use support::{assert_contains, explain, netpol};

const WEB_PODS: [&str; 2] = ["shop/web-7d4b9c6f8d-2xkqp", "shop/web-7d4b9c6f8d-9mzrt"];
const API_POD: &str = "shop/api-5c8f7b9d4-x7k2w";

#[test]
fn a_flow_between_workloads_means_their_pods() {
    let run = netpol(&["verify", "live/flows.yaml", "live/cluster.yaml"]);
    // The dump's policies allow web -> api but not api -> db.
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert!(!run.stdout.contains("matches no pod"), "{}", run.stdout);
    assert_contains(
        &run.stdout,
        "flows[2] (Database): shop/api-5c8f7b9d4-x7k2w -> shop/db-0 on 5432/TCP",
    );
    assert_contains(&run.stdout, "FAIL: 1 missing");
    // Both web replicas are the source of the API flow, and reach it.
    assert_contains(
        &run.stdout,
        "Checked 11 connections the flows mean against 3 policies.",
    );
}

#[test]
fn gen_selects_a_workloads_replicas_with_one_policy() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("generated");
    let out = out.to_str().unwrap();
    let run = netpol(&["gen", "live/flows.yaml", "live/cluster.yaml", "--dir", out]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    let text = std::fs::read_to_string(dir.path().join("generated/shop.yaml")).unwrap();
    let names: Vec<&str> = text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("name: "))
        .collect();
    assert_eq!(
        names,
        [
            "default-deny",
            "allow-api-to-api",
            "allow-database-to-db",
            "allow-storefront-to-web"
        ]
    );
    assert!(!text.contains("pod-template-hash"), "{text}");
}

#[test]
fn explain_names_a_workload_and_explains_each_of_its_pods() {
    let run = explain(
        &["live/cluster.yaml"],
        "shop/web",
        "shop/api",
        "9090",
        &["--exit-code"],
    );
    assert_eq!(run.code, 0, "{}", run.transcript());
    for web in WEB_PODS {
        assert_contains(
            &run.stdout,
            &format!("ALLOWED: {web} -> {API_POD} on 9090/TCP"),
        );
    }
    assert!(
        run.stdout.ends_with("\n2 of 2 connections allowed\n"),
        "{}",
        run.stdout
    );
    insta::assert_snapshot!(run.stdout);
    // One denied pair is a denied answer.
    let db = explain(
        &["live/cluster.yaml"],
        "shop/web",
        "shop/db",
        "5432",
        &["--exit-code"],
    );
    assert_eq!(db.code, 3, "{}", db.transcript());
    assert_contains(&db.stdout, "0 of 2 connections allowed");
}

#[test]
fn explain_follows_a_service_to_its_pods_and_target_port() {
    let by_name = explain(
        &["live/cluster.yaml"],
        "shop/api",
        "svc/shop/web",
        "80",
        &[],
    );
    assert_eq!(by_name.code, 0, "{}", by_name.transcript());
    for web in WEB_PODS {
        assert_contains(
            &by_name.stdout,
            &format!(
                "Service shop/web port 80/TCP -> targetPort http (8080) on {web}\nALLOWED: {API_POD} -> {web} on 8080/TCP"
            ),
        );
    }
    // Every way of naming the Service is the same answer; only the line
    // saying how the name was read differs.
    let body = |s: &str| s.split_once("\n\n").map(|(_, b)| b.to_string()).unwrap();
    for to in [
        "10.43.12.34",
        "web.shop.svc.cluster.local",
        "web.shop.svc",
        "web.shop",
        "svc/web",
    ] {
        let run = explain(
            &["live/cluster.yaml"],
            "shop/api",
            to,
            "80",
            &["-n", "shop"],
        );
        assert_eq!(run.code, 0, "{to}: {}", run.transcript());
        assert!(
            run.stdout.contains(&format!("{to} is Service shop/web")),
            "{to}: {}",
            run.stdout
        );
        assert_eq!(body(&run.stdout), body(&by_name.stdout), "{to}");
    }
    // A Service port by its name.
    let named = explain(
        &["live/cluster.yaml"],
        "shop/api",
        "svc/shop/web",
        "http",
        &[],
    );
    assert_eq!(named.stdout, by_name.stdout);
}

#[test]
fn a_port_the_destination_lacks_lists_the_ports_it_has() {
    let run = explain(
        &["live/cluster.yaml"],
        "shop/api",
        "svc/shop/web",
        "8080",
        &[],
    );
    assert_eq!(run.code, 2, "{}", run.transcript());
    assert_contains(
        &run.stderr,
        "Service shop/web has no port 8080/TCP; its ports: 80/TCP (http) -> targetPort http",
    );
    // Policies decide on any port, so a pod is still explained, with the
    // ports it declares and the Service that has the port asked for.
    let pod = explain(&["live/cluster.yaml"], API_POD, WEB_PODS[0], "80", &[]);
    assert_eq!(pod.code, 0, "{}", pod.transcript());
    assert!(
        pod.stdout.starts_with(&format!(
            "note: {} declares no port 80/TCP; it declares 8080/TCP (http). Service shop/web has port 80/TCP: --to svc/shop/web follows it to its targetPort\nDENIED: ",
            WEB_PODS[0]
        )),
        "{}",
        pod.stdout
    );
}

#[test]
fn a_service_target_port_the_pod_lacks_is_said() {
    let input = "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: a, labels: {app: p}}\nspec: {containers: [{name: c, ports: [{containerPort: 8080, name: http}]}]}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: s, namespace: a}\nspec: {selector: {app: p}, ports: [{port: 80, targetPort: 9999}]}\n";
    let run = support::netpol_with_stdin(
        &[
            "explain", "-", "--from", "a/p", "--to", "s.a.svc", "--port", "80",
        ],
        Some(input),
    );
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert_contains(
        &run.stdout,
        "Service a/s port 80/TCP -> targetPort 9999 on a/p\nnote: a/p declares no port 9999/TCP; it declares 8080/TCP (http)\nALLOWED: a/p -> a/p on 9999/TCP",
    );
}

#[test]
fn json_lists_every_connection_when_a_name_means_several() {
    let run = explain(
        &["live/cluster.yaml"],
        "shop/api",
        "svc/shop/web",
        "80",
        &["-o", "json"],
    );
    assert_eq!(run.code, 0, "{}", run.transcript());
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let connections = v["connections"].as_array().unwrap();
    assert_eq!(connections.len(), 2);
    for (c, web) in connections.iter().zip(WEB_PODS) {
        assert_eq!(c["verdict"]["dst"], web);
        assert_eq!(c["verdict"]["port"], 8080);
        assert_eq!(c["verdict"]["allowed"], true);
        assert_eq!(
            c["via"],
            format!("Service shop/web port 80/TCP -> targetPort http (8080) on {web}")
        );
    }
    // One pod to one pod stays a single verdict object.
    let one = explain(
        &["live/cluster.yaml"],
        API_POD,
        WEB_PODS[0],
        "8080",
        &["-o", "json"],
    );
    let v: serde_json::Value = serde_json::from_str(&one.stdout).unwrap();
    assert_eq!(v["dst"], WEB_PODS[0]);
}
