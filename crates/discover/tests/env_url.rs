mod support;

use netpol_discover::{Confidence, Discovery, Peer};
use support::{fixture, lines, real_case, run};

fn env_url(path: &str) -> Discovery {
    run("env-url", path)
}

fn fixture_result() -> Discovery {
    env_url(&fixture("env_url/cluster.yaml"))
}

#[test]
fn every_form_of_reference_resolves_to_the_pods_and_their_port() {
    let d = fixture_result();
    assert_eq!(
        lines(&d),
        [
            // https://kubernetes.default.svc:443 is the API server.
            "default/kubectl -> kube-apiserver 6443/TCP (certain)",
            // A ConfigMap labelled for Grafana's k8s-sidecar, in another
            // namespace (NAMESPACE=ALL); the one labelled "0" is not copied.
            "monitoring/grafana -> shop/db 5433/TCP (certain)",
            // REPORTS_URL from a plain Secret's base64 data.
            "shop/web -> other/reports 9000/TCP (certain)",
            // API_URL (default port 80), API_ADDR after $(NS) expansion, --upstream.
            "shop/web -> shop/api 8080/TCP (certain)",
            // CACHE_URL from a ConfigMap key.
            "shop/web -> shop/cache 6379/TCP (certain)",
            // DB_HOST + DB_PORT, the named targetPort resolved on the pod.
            "shop/web -> shop/db 5433/TCP (certain)",
            "shop/web -> external 443/TCP (guess)",
            // `host: cache` in a mounted file: cache has two ports.
            "shop/worker -> shop/cache 6379/TCP (guess)",
            "shop/worker -> shop/cache 9121/TCP (certain)",
            // `site: http://web`: port 80 by the scheme, 3000 on the pod.
            "shop/worker -> shop/web 3000/TCP (likely)",
        ]
    );
}

#[test]
fn evidence_names_file_line_object_and_field() {
    let d = fixture_result();
    let db = d
        .connections
        .iter()
        .find(|c| c.dst == Peer::workload("shop", "db") && c.src == Peer::workload("shop", "web"))
        .unwrap();
    let cited: Vec<(usize, &str, &str)> = db
        .evidence
        .iter()
        .map(|e| (e.line, e.field.as_str(), e.text.as_str()))
        .collect();
    assert_eq!(
        cited,
        [
            (
                140,
                "spec.template.spec.containers[0].env[1].value",
                "DB_HOST=db"
            ),
            (
                141,
                "spec.template.spec.containers[0].env[2].value",
                "DB_PORT=5432"
            ),
        ]
    );
    assert!(db.evidence[0].file.ends_with("env_url/cluster.yaml"));
    assert_eq!(db.evidence[0].object, "Deployment shop/web");

    // A value from a ConfigMap cites both the reference and the data.
    let cache = d
        .connections
        .iter()
        .find(|c| {
            c.dst == Peer::workload("shop", "cache") && c.src == Peer::workload("shop", "web")
        })
        .unwrap();
    let cited: Vec<(usize, &str, &str)> = cache
        .evidence
        .iter()
        .map(|e| (e.line, e.object.as_str(), e.field.as_str()))
        .collect();
    assert_eq!(
        cited,
        [
            (101, "ConfigMap shop/web-config", "data.CACHE_URL"),
            (
                147,
                "Deployment shop/web",
                "spec.template.spec.containers[0].env[6].valueFrom.configMapKeyRef"
            ),
        ]
    );
    // A mounted file cites the line within the file.
    let site = d
        .connections
        .iter()
        .find(|c| c.dst == Peer::workload("shop", "web"))
        .unwrap();
    assert_eq!(
        site.evidence[0].text,
        "config.yaml line 5: site: http://web"
    );
    assert_eq!(
        site.evidence[1].field,
        "spec.jobTemplate.spec.template.spec.volumes[0].configMap"
    );
}

#[test]
fn files_a_sidecar_copies_by_label_cite_the_label_and_the_data() {
    let d = fixture_result();
    let grafana = &d.connections[1];
    assert_eq!(grafana.src, Peer::workload("monitoring", "grafana"));
    let cited: Vec<(usize, &str, &str)> = grafana
        .evidence
        .iter()
        .map(|e| (e.line, e.field.as_str(), e.text.as_str()))
        .collect();
    assert_eq!(
        cited,
        [
            (
                202,
                "spec.template.spec.containers[0].env[0].value",
                "LABEL=grafana_datasource"
            ),
            (
                214,
                "data.datasource.yaml",
                "datasource.yaml line 3: url: postgres://db.shop:5432/orders"
            ),
        ]
    );
}

#[test]
fn words_that_only_equal_a_service_name_are_not_evidence() {
    let d = fixture_result();
    // MODE=api and `mode: db` name Services but say nothing about hosts;
    // PUBLIC_URL=http://web is web's own address; 0.0.0.0 is a bind address.
    for c in &d.connections {
        for e in &c.evidence {
            assert!(
                !e.text.starts_with("MODE=")
                    && !e.text.contains("mode: db")
                    && !e.text.starts_with("PUBLIC_URL")
                    && !e.text.contains("0.0.0.0"),
                "{e}"
            );
        }
    }
    assert!(!d.connections.iter().any(|c| c.src == c.dst));
}

#[test]
fn encrypted_secrets_are_reported_unresolved_and_not_guessed() {
    let d = fixture_result();
    let reasons: Vec<(&str, &str, usize)> = d
        .unresolved
        .iter()
        .map(|u| (u.subject.as_str(), u.reason.as_str(), u.evidence.line))
        .collect();
    let sealed = reasons
        .iter()
        .find(|(_, r, _)| r.contains("SealedSecret"))
        .expect("the SealedSecret is reported");
    assert_eq!(sealed.0, "shop/web");
    assert!(sealed.1.starts_with(
        "DATABASE_URL may name a host, but Secret shop/web-db is a SealedSecret (encrypted)"
    ));
    assert_eq!(sealed.2, 151);
    let sops = reasons
        .iter()
        .find(|(_, r, _)| r.contains("SOPS"))
        .expect("the SOPS Secret is reported");
    assert!(
        sops.1
            .starts_with("all variables of Secret shop/web-sops are unknown: it is SOPS-encrypted")
    );
    assert_eq!(sops.2, 137);
    // Nothing is proposed from their (encrypted) values.
    for c in &d.connections {
        for e in &c.evidence {
            assert!(
                !e.text.contains("ENC[") && !e.text.contains("web-db"),
                "{e}"
            );
        }
    }
}

#[test]
fn in_cluster_names_without_a_service_and_unusable_services_are_unresolved() {
    let d = fixture_result();
    let reasons: Vec<&str> = d.unresolved.iter().map(|u| u.reason.as_str()).collect();
    assert!(reasons.contains(
        &"ghost.shop.svc.cluster.local looks like a Service name, but no Service of the input has it"
    ));
    assert!(
        reasons
            .contains(&"Service shop/legacy has no selector: its endpoints are not in the input")
    );
    assert!(reasons.contains(&"Service other/reports has no port 80"));
    assert_eq!(d.unresolved.len(), 5, "{reasons:#?}");
}

fn has(d: &Discovery, src: &str, dst: &str, port: u16, confidence: Confidence) -> bool {
    d.connections.iter().any(|c| {
        c.src.to_string() == src
            && c.dst.to_string() == dst
            && c.port == port
            && c.confidence == confidence
    })
}

#[test]
fn real_homelab_env_references() {
    let Some(dir) = real_case("homelab") else {
        return;
    };
    let d = env_url(&dir);
    // open-webui.yaml: OLLAMA_BASE_URLS=http://rkllama.rkllama.svc.cluster.local:8080,
    // and rkllama's Service sends 8080 to the pods' 8082.
    assert!(has(
        &d,
        "open-webui/open-webui",
        "rkllama/rkllama",
        8082,
        Confidence::Certain
    ));
    // backups.yaml: PGHOST=supabase-supabase-db.supabase.svc.cluster.local + PGPORT=5432.
    assert!(has(
        &d,
        "backups/supabase-db-daily",
        "supabase/supabase-supabase-db",
        5432,
        Confidence::Certain
    ));
    // supabase.yaml: POSTGREST_URL=http://supabase-supabase-rest:3000.
    assert!(has(
        &d,
        "supabase/supabase-supabase-storage",
        "supabase/supabase-supabase-rest",
        3000,
        Confidence::Certain
    ));
    // open-brain-mcp.yaml: SUPABASE_URL=http://supabase-supabase-kong.supabase.svc.cluster.local:8000.
    assert!(has(
        &d,
        "open-brain-mcp/open-brain-mcp",
        "supabase/supabase-supabase-kong",
        8000,
        Confidence::Certain
    ));
    // The OpenAI API is outside: proposed for review only.
    assert!(has(
        &d,
        "open-webui/open-webui",
        "external",
        443,
        Confidence::Guess
    ));
    // The OIDC issuer is an Ingress host of the cluster: not guessed.
    assert!(d.unresolved.iter().any(|u| {
        u.subject == "open-webui/open-webui"
            && u.reason
                .starts_with("argocd.gkcluster.org is a host of an Ingress")
    }));
    // Nothing is certain or likely but Services of the input.
    assert!(
        d.connections
            .iter()
            .all(|c| c.confidence == Confidence::Guess || matches!(c.dst, Peer::Workload(_)))
    );
}

#[test]
fn real_talos_gitops_env_references() {
    let Some(dir) = real_case("talos-gitops") else {
        return;
    };
    let d = env_url(&dir);
    // paperless-ngx.yaml: PAPERLESS_REDIS=redis://redis:6379.
    assert!(has(
        &d,
        "paperless-ngx/paperless-ngx",
        "paperless-ngx/redis",
        6379,
        Confidence::Certain
    ));
    // blocky.yaml, mounted config-redis.yml: address: redis.blocky.svc.cluster.local:6379.
    assert!(has(
        &d,
        "blocky/blocky",
        "blocky/redis",
        6379,
        Confidence::Certain
    ));
    // argocd-cmd-params-cm through envFrom/configMapKeyRef: repo.server=argocd-repo-server:8081.
    assert!(has(
        &d,
        "argocd/argocd-server",
        "argocd/argocd-repo-server",
        8081,
        Confidence::Certain
    ));
    // mealie backup script: API="http://mealie:80/api", Service port 80 -> pod 9000.
    assert!(has(
        &d,
        "mealie/mealie-backup",
        "mealie/mealie",
        9000,
        Confidence::Certain
    ));
    // Grafana's datasource ConfigMap, copied in by its sidecar by label.
    assert!(has(
        &d,
        "monitoring/kube-prometheus-stack-grafana",
        "monitoring/prometheus-kube-prometheus-stack-prometheus",
        9090,
        Confidence::Certain
    ));
    // A SealedSecret holds the Proxmox host: reported, not guessed.
    assert!(
        d.unresolved.iter().any(
            |u| u.subject == "monitoring/proxmox-exporter" && u.reason.contains("SealedSecret")
        )
    );
}

#[test]
fn services_without_a_selector_lead_to_their_endpoints_addresses() {
    let d = env_url(&fixture("env_url/selectorless.yaml"));
    assert_eq!(
        lines(&d),
        [
            // NAS_URL: port 80 by the scheme, 5000 on the Endpoints' port of that name.
            "shop/app -> 192.168.1.20/32 5000/TCP (likely)",
            // RSYNC_HOST + RSYNC_PORT: the EndpointSlice's only port.
            "shop/app -> 192.168.1.30/32 873/TCP (certain)",
        ]
    );
    let reasons: Vec<&str> = d.unresolved.iter().map(|u| u.reason.as_str()).collect();
    assert_eq!(
        reasons,
        [
            "Service shop/empty has no selector: its endpoints are not in the input",
            "Service shop/legacy has no selector: its endpoints are not in the input",
        ]
    );
}
