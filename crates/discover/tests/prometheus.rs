mod support;

use support::{assert_has, fixture, lines, real_case, run};

#[test]
fn monitors_resolve_through_the_prometheus_selectors() {
    let d = run("prometheus", &fixture("prometheus/cluster.yaml"));
    assert_eq!(
        lines(&d),
        [
            // The annotation job of a plain Prometheus that mounts it.
            "metrics/plain-prometheus -> apps/legacy 9999/TCP (likely)",
            // ServiceMonitor port `metrics` (Service port 9100) -> targetPort 9090.
            "monitoring/prometheus-k8s -> apps/api 9090/TCP (certain)",
            // spec.alerting.alertmanagers: the Service's port `web`.
            "monitoring/prometheus-k8s -> monitoring/alertmanager-main 9093/TCP (certain)",
            // PodMonitor in the Prometheus's own namespace, port by name.
            "monitoring/prometheus-k8s -> monitoring/exporter 9101/TCP (certain)",
        ]
    );
    let api: Vec<_> = d.connections[1]
        .evidence
        .iter()
        .map(|e| (e.object.as_str(), e.line, e.field.as_str(), e.text.as_str()))
        .collect();
    assert_eq!(
        api,
        [
            (
                "Prometheus monitoring/k8s",
                16,
                "spec.serviceMonitorSelector",
                r#"{"matchLabels":{"release":"k8s"}}"#
            ),
            (
                "ServiceMonitor apps/api",
                79,
                "spec.endpoints[0]",
                "port: metrics"
            ),
        ]
    );
    let legacy: Vec<_> = d.connections[0]
        .evidence
        .iter()
        .map(|e| (e.object.as_str(), e.line, e.field.as_str()))
        .collect();
    assert_eq!(
        legacy,
        [
            (
                "ConfigMap metrics/plain-prometheus",
                143,
                "data.prometheus.yml"
            ),
            (
                "Deployment apps/legacy",
                173,
                "spec.template.metadata.annotations.prometheus.io/port"
            ),
        ]
    );
}

#[test]
fn unselected_monitors_and_missing_statefulsets_are_unresolved() {
    let d = run("prometheus", &fixture("prometheus/cluster.yaml"));
    let got: Vec<_> = d
        .unresolved
        .iter()
        .map(|u| (u.subject.as_str(), u.reason.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (
                "PodMonitor apps/api",
                "no Prometheus object of the input selects it"
            ),
            (
                "ScrapeConfig monitoring/nas",
                "no Prometheus object of the input selects it"
            ),
            (
                "ServiceMonitor apps/api-unselected",
                "no Prometheus object of the input selects it"
            ),
            (
                "ServiceMonitor other/team",
                "Prometheus other/team selects it, but its StatefulSet prometheus-team (pods labelled operator.prometheus.io/name=team) is not in the input"
            ),
        ]
    );
}

#[test]
fn real_talos_servicemonitors_scrapeconfigs_and_kubelet() {
    let Some(dir) = real_case("talos-gitops") else {
        return;
    };
    let d = run("prometheus", &dir);
    let got = lines(&d);
    let p = "monitoring/prometheus-kube-prometheus-stack-prometheus";
    assert_has(
        &got,
        [
            // ServiceMonitor targetPort: metrics -> Traefik's container port 9100.
            format!("{p} -> traefik/traefik 9100/TCP (certain)"),
            // Service port http-metrics 8082 on argocd-metrics.
            format!("{p} -> argocd/argocd-application-controller 8082/TCP (certain)"),
            // ScrapeConfig static target through a Service name.
            format!("{p} -> home-assistant/home-assistant 8123/TCP (certain)"),
            // The operator-managed kubelet Service and default/kubernetes.
            format!("{p} -> nodes 10250/TCP (certain)"),
            format!("{p} -> kube-apiserver 6443/TCP (certain)"),
            format!("{p} -> 192.168.2.20/32 2381/TCP (certain)"),
            // Annotations nobody is seen honouring: a guess.
            format!("{p} -> metallb-system/metallb-controller 7472/TCP (guess)"),
        ],
    );
    // cert-manager is both annotated and ServiceMonitor'd: once, certain.
    let cm: Vec<_> = got
        .iter()
        .filter(|l| l.contains("-> cert-manager/cert-manager "))
        .collect();
    assert_eq!(
        cm,
        [&format!(
            "{p} -> cert-manager/cert-manager 9402/TCP (certain)"
        )]
    );
    assert!(d.unresolved.is_empty(), "{:#?}", d.unresolved);
}

#[test]
fn real_homelab_annotations_are_guesses() {
    let Some(dir) = real_case("homelab") else {
        return;
    };
    let d = run("prometheus", &dir);
    // kube-prometheus-stack does not read prometheus.io annotations: only guesses.
    assert!(!d.connections.is_empty());
    assert!(
        d.connections
            .iter()
            .all(|c| c.confidence == netpol_discover::Confidence::Guess),
        "{:#?}",
        lines(&d)
    );
    assert!(lines(&d).contains(&"monitoring/prometheus-grafana-prometheus-kube-pr-prometheus -> kube-system/coredns 9153/TCP (guess)".to_string()));
}
