mod support;

use support::{assert_has, fixture, lines, real_case, run};

#[test]
fn controllers_reach_every_backend_on_the_pod_port() {
    let d = run("ingress", &fixture("ingress/cluster.yaml"));
    assert_eq!(
        lines(&d),
        [
            // HTTPRoute -> Gateway gw/public -> the pods labelled with its name.
            "gw/public-istio -> shop/web 8080/TCP (certain)",
            // auth-url: the oauth2-proxy Service's port 80 -> named targetPort http.
            "ingress/nginx-controller -> auth/oauth2-proxy 4180/TCP (certain)",
            // --default-backend-service=$(POD_NAMESPACE)/default-http-backend.
            "ingress/nginx-controller -> ingress/default-http-backend 8080/TCP (certain)",
            // defaultBackend.
            "ingress/nginx-controller -> shop/fallback 9000/TCP (certain)",
            // Service port by name -> named targetPort.
            "ingress/nginx-controller -> shop/web 8080/TCP (certain)",
            // The class-less Ingress (default class) and the TraefikService.
            "traefik/traefik -> shop/whoami 8081/TCP (certain)",
            // IngressRoute -> a selector-less Service -> its Endpoints.
            "traefik/traefik -> 192.168.2.6/32 5001/TCP (certain)",
        ]
    );
    let web = &d.connections[4];
    let ev: Vec<_> = web
        .evidence
        .iter()
        .map(|e| (e.line, e.object.as_str(), e.field.as_str(), e.text.as_str()))
        .collect();
    assert_eq!(
        ev,
        [
            (
                28,
                "Deployment ingress/nginx-controller",
                "spec.template.spec.containers[0].args[1]",
                "--controller-class=k8s.io/ingress-nginx"
            ),
            (
                167,
                "Ingress shop/web",
                "spec.rules[0].http.paths[0].backend.service",
                "web:http"
            ),
        ]
    );
    let auth = &d.connections[1].evidence;
    assert!(
        auth.iter().any(|e| e.line == 154
            && e.field == "metadata.annotations.nginx.ingress.kubernetes.io/auth-url"),
        "{auth:?}"
    );
    let whoami: Vec<_> = d.connections[5]
        .evidence
        .iter()
        .map(|e| (e.object.as_str(), e.field.as_str()))
        .collect();
    assert_eq!(
        whoami,
        [
            (
                "Deployment traefik/traefik",
                "spec.template.spec.containers[0].args[0]"
            ),
            (
                "Deployment traefik/traefik",
                "spec.template.spec.containers[0].args[1]"
            ),
            (
                "Ingress shop/whoami",
                "spec.rules[0].http.paths[0].backend.service"
            ),
            ("TraefikService shop/split", "spec.weighted.services[0]"),
        ]
    );
}

#[test]
fn missing_backends_and_controllers_are_unresolved() {
    let d = run("ingress", &fixture("ingress/cluster.yaml"));
    let got: Vec<_> = d
        .unresolved
        .iter()
        .map(|u| (u.subject.as_str(), u.reason.as_str(), u.evidence.line))
        .collect();
    assert_eq!(
        got,
        [
            (
                "Ingress shop/legacy",
                "no ingress controller for class haproxy found in the input",
                193
            ),
            (
                "Ingress shop/web",
                "backend Service shop/gone is not in the input",
                171
            ),
        ]
    );
}

#[test]
fn real_homelab_ingress_nginx_backends() {
    let Some(dir) = real_case("homelab") else {
        return;
    };
    let d = run("ingress", &dir);
    let got = lines(&d);
    // Read from the manifests: Service port 80 -> the pods' targetPort.
    assert_has(
        &got,
        [
            "ingress-nginx/ingress-ingress-nginx-controller -> open-webui/open-webui 8080/TCP (certain)",
            "ingress-nginx/ingress-ingress-nginx-controller -> rkllama/rkllama 8082/TCP (certain)",
            "ingress-nginx/ingress-ingress-nginx-controller -> headlamp/headlamp 4466/TCP (certain)",
            "ingress-nginx/ingress-ingress-nginx-controller -> argo-cd/argocd-server 8080/TCP (certain)",
            // auth-url on three Ingresses, and oauth2-proxy's own Ingress.
            "ingress-nginx/ingress-ingress-nginx-controller -> oauth2-proxy/oauth2-proxy 4180/TCP (certain)",
        ],
    );
    assert_eq!(got.len(), 13, "{got:#?}");
    assert!(d.unresolved.is_empty(), "{:?}", d.unresolved);
}

#[test]
fn real_talos_traefik_ingresses_and_ingressroutes() {
    let Some(dir) = real_case("talos-gitops") else {
        return;
    };
    let d = run("ingress", &dir);
    let got = lines(&d);
    assert_has(
        &got,
        [
            "traefik/traefik -> home-assistant/home-assistant 8123/TCP (certain)",
            "traefik/traefik -> longhorn-system/longhorn-ui 8000/TCP (certain)",
            // IngressRoute to a selector-less Service: Endpoints port 8006.
            "traefik/traefik -> 192.168.2.8/32 8006/TCP (certain)",
        ],
    );
    // api@internal and noop@internal are Traefik itself: no connection.
    assert_eq!(got.len(), 20, "{got:#?}");
}
