mod support;

use support::{fixture, lines, real_case, run};

#[test]
fn pods_calling_overridden_ingress_hosts_reach_the_controller() {
    let d = run("coredns-hosts", &fixture("coredns-hosts/cluster.yaml"));
    assert_eq!(
        lines(&d),
        [
            // A mounted ConfigMap names wiki.example.com; the hosts entry's
            // address is a placeholder, the name an Ingress host: likely.
            "apps/bot -> ingress-nginx/controller 8443/TCP (likely)",
            // hosts entry with the controller Service's ClusterIP; https -> 443 -> 8443.
            "apps/grafana -> ingress-nginx/controller 8443/TCP (certain)",
            // A bare host name says no port: both, as guesses.
            "apps/notes -> ingress-nginx/controller 80/TCP (guess)",
            "apps/notes -> ingress-nginx/controller 8443/TCP (guess)",
            // rewrite to the controller Service's DNS name, explicit port 80.
            "apps/runner -> ingress-nginx/controller 80/TCP (certain)",
            // A Secret's key the pod takes as env.
            "apps/sso -> ingress-nginx/controller 8443/TCP (certain)",
        ]
    );
    let sso = &d.connections[5].evidence;
    assert!(
        sso.iter().any(|e| e.object == "Secret apps/sso"
            && e.field == "stringData.issuer"
            && e.line == 131
            && e.text == "https://auth.example.com/realms/home"),
        "{sso:?}"
    );
    let grafana: Vec<_> = d.connections[1]
        .evidence
        .iter()
        .map(|e| (e.object.as_str(), e.line, e.field.as_str(), e.text.as_str()))
        .collect();
    assert_eq!(
        grafana,
        [
            (
                "ConfigMap kube-system/coredns-custom",
                22,
                "data.example.server",
                "10.43.0.20 auth.example.com"
            ),
            (
                "Deployment apps/grafana",
                79,
                "spec.template.spec.containers[0].env[0].value",
                "https://auth.example.com/realms/home/protocol/openid-connect/auth"
            ),
        ]
    );
    let runner = &d.connections[4].evidence;
    assert!(
        runner
            .iter()
            .any(|e| e.line == 11 && e.object == "ConfigMap kube-system/coredns"),
        "{runner:?}"
    );
    let bot = &d.connections[0].evidence;
    assert!(
        bot.iter()
            .any(|e| e.object == "Ingress apps/hosts" && e.field == "spec.rules[2].host"),
        "{bot:?}"
    );
    assert!(
        bot.iter()
            .any(|e| e.object == "ConfigMap apps/bot" && e.field == "data.config.yaml"),
        "{bot:?}"
    );
}

#[test]
fn an_override_to_nothing_known_is_unresolved() {
    let d = run("coredns-hosts", &fixture("coredns-hosts/cluster.yaml"));
    let got: Vec<_> = d
        .unresolved
        .iter()
        .map(|u| {
            (
                u.subject.as_str(),
                u.evidence.line,
                u.evidence.text.as_str(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [("other.example.com", 23, "192.0.2.99 other.example.com")]
    );
}

#[test]
fn real_homelab_oidc_through_the_ingress_controller() {
    let Some(dir) = real_case("homelab") else {
        return;
    };
    let d = run("coredns-hosts", &dir);
    // kube-system coredns-custom: `INGRESS_CONTROLLER_CLUSTER_IP argocd.gkcluster.org`
    // (a deploy-time placeholder); argocd.gkcluster.org is the argocd-server
    // Ingress host; open-webui's OPENID_PROVIDER_URL and argocd-monitor's
    // --oidc-issuer-url call it over https.
    assert_eq!(
        lines(&d),
        [
            "argocd-monitor/argocd-monitor -> ingress-nginx/ingress-ingress-nginx-controller 443/TCP (likely)",
            "open-webui/open-webui -> ingress-nginx/ingress-ingress-nginx-controller 443/TCP (likely)",
        ]
    );
    assert!(d.unresolved.is_empty());
}

#[test]
fn a_dns_server_in_the_cluster_mapping_the_domain_to_the_controller() {
    let d = run("coredns-hosts", &fixture("coredns-hosts/lan.yaml"));
    // web's own BASE_URL and the markdown link are no calls; dnsmasq itself neither.
    assert_eq!(
        lines(&d),
        ["apps/checker -> traefik/traefik 8443/TCP (likely)"]
    );
    let ev: Vec<_> = d.connections[0]
        .evidence
        .iter()
        .map(|e| (e.object.as_str(), e.line, e.text.as_str()))
        .collect();
    assert_eq!(
        ev,
        [
            (
                "ConfigMap dns/dnsmasq",
                9,
                "address=/example.org/192.0.2.50"
            ),
            ("Ingress apps/web", 74, "app.example.org"),
            (
                "Deployment apps/checker",
                90,
                "--url=https://app.example.org/health"
            ),
        ]
    );
}

#[test]
fn real_talos_blocky_maps_the_domain_to_traefik() {
    let Some(dir) = real_case("talos-gitops") else {
        return;
    };
    let d = run("coredns-hosts", &dir);
    // blocky's customDNS maps elmstreet79.de to 192.168.2.250, Traefik's
    // MetalLB address; Gatus checks the Ingress hosts over https (its config
    // says the checks run through Traefik), Homepage's widgets call pve/unifi/plex.
    let got: Vec<_> = lines(&d)
        .into_iter()
        .filter(|l| !l.ends_with("(guess)"))
        .collect();
    assert_eq!(
        got,
        [
            "gatus/gatus -> traefik/traefik 443/TCP (likely)",
            "homepage/homepage -> traefik/traefik 443/TCP (likely)",
        ]
    );
}
