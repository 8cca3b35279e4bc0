//! `to: ingress-backends[:CLASS]` with `ports: backend`: the pods the
//! Ingresses route to, on the ports they receive on, read from the manifests
//! each time, so the flow follows the Ingresses.

use netpol_flows::{Destinations, Expansion, expand, parse_flows};
use netpol_model::{Cluster, LoadOptions, Source, load_paths, load_sources};

fn fixture() -> String {
    format!(
        "{}/tests/fixtures/ingress-backends/cluster.yaml",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn keep() -> LoadOptions {
    LoadOptions {
        keep_manifests: true,
        ..LoadOptions::default()
    }
}

fn load(extra: &str) -> Cluster {
    let mut sources = vec![Source {
        name: fixture(),
        text: std::fs::read_to_string(fixture()).unwrap(),
    }];
    if !extra.is_empty() {
        sources.push(Source {
            name: "extra.yaml".into(),
            text: extra.into(),
        });
    }
    load_sources(&sources, &keep()).unwrap_or_else(|e| panic!("{e}"))
}

fn flows(to: &str, ports: &str) -> netpol_flows::Flows {
    parse_flows(
        "flows.yaml",
        &format!("allowDns: false\nflows:\n  - from: ingress-nginx\n    to: {to}\n    ports: {ports}\n    purpose: External access\n"),
    )
    .unwrap()
}

/// `ns/name ports` per destination pod of the first flow.
fn members(x: &Expansion) -> Vec<String> {
    let Destinations::Pods { members, .. } = &x.expanded[0].destinations else {
        panic!("pods expected")
    };
    members
        .iter()
        .map(|m| {
            let ports: Vec<String> = m.ports.iter().map(|p| p.to_string()).collect();
            format!(
                "{} {}",
                x.cluster.endpoints[m.endpoint].id(),
                ports.join(",")
            )
        })
        .collect()
}

#[test]
fn backends_of_one_class_on_the_pods_ports() {
    let c = load("");
    let x = expand(&c, &flows("ingress-backends:nginx", "backend"));
    // Service port 80 -> targetPort http (8080); the admin port is no backend.
    assert_eq!(members(&x), ["shop/web 8080/TCP"]);
    assert!(x.findings.is_empty(), "{:?}", x.findings);

    let all = expand(&c, &flows("ingress-backends", "backend"));
    assert_eq!(members(&all), ["docs/wiki 3000/TCP", "shop/web 8080/TCP"]);

    // `service` keeps its meaning: every Service port in front of the backends.
    let svc = expand(&c, &flows("ingress-backends:nginx", "service"));
    assert_eq!(members(&svc), ["shop/web 8080/TCP,9000/TCP"]);
}

#[test]
fn a_new_ingress_is_followed_without_editing_the_flows() {
    let added = "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: wiki-nginx, namespace: docs}\nspec:\n  ingressClassName: nginx\n  rules:\n    - http:\n        paths:\n          - {path: /, pathType: Prefix, backend: {service: {name: wiki, port: {number: 80}}}}\n";
    let c = load(added);
    let x = expand(&c, &flows("ingress-backends:nginx", "backend"));
    assert_eq!(members(&x), ["docs/wiki 3000/TCP", "shop/web 8080/TCP"]);
}

#[test]
fn without_kept_manifests_the_flow_says_why_it_matches_nothing() {
    let c = load_paths(&[fixture()], &LoadOptions::default()).unwrap();
    let x = expand(&c, &flows("ingress-backends", "backend"));
    assert!(members(&x).is_empty());
    let codes: Vec<_> = x.findings.iter().map(|f| f.code).collect();
    assert!(codes.contains(&"no-manifests"), "{codes:?}");
    assert!(codes.contains(&"matches-nothing"), "{codes:?}");
}

#[test]
fn real_homelab_ingress_nginx_row_exactly() {
    let Some(dir) = netpol_testdata::shared("realcases/homelab/manifests") else {
        return;
    };
    let c = load_paths(&[dir], &keep()).unwrap();
    let x = expand(&c, &flows("ingress-backends:nginx", "backend"));
    let got = members(&x);
    // The page's "service ports" row is wrong for 8 of 13 backends; these are
    // the ports the pods receive on, read from the Services' targetPorts.
    for want in [
        "rkllama/rkllama 8082/TCP",
        "open-webui/open-webui 8080/TCP",
        "headlamp/headlamp 4466/TCP",
        "oauth2-proxy/oauth2-proxy 4180/TCP",
        "thoth/thoth-mcp 8765/TCP",
    ] {
        assert!(got.iter().any(|g| g == want), "missing {want}: {got:#?}");
    }
    assert_eq!(got.len(), 13, "{got:#?}");
}
