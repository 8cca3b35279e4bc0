mod support;

use netpol_discover::Discovery;
use netpol_discover::rules::images::TABLE;
use support::{assert_has, fixture, lines, real_case, run};

fn images(path: &str) -> Discovery {
    run("image", path)
}

#[test]
fn well_known_images_and_their_documented_needs() {
    let d = images(&fixture("images/cluster.yaml"));
    assert_eq!(
        lines(&d),
        [
            // --redis's default, argocd-redis:6379 (its Service is in the input).
            "argocd/argocd-repo-server -> argocd/argocd-redis 6379/TCP (likely)",
            // SSH only for repositories cloned over SSH: a guess.
            "argocd/argocd-repo-server -> external 22/TCP (guess)",
            "argocd/argocd-repo-server -> external 443/TCP (likely)",
            // argocd-server: the same image, told apart by its command; no
            // argocd-dex-server Service here, so no dex flow.
            "argocd/argocd-server -> argocd/argocd-redis 6379/TCP (likely)",
            "argocd/argocd-server -> argocd/argocd-repo-server 8081/TCP (likely)",
            "argocd/argocd-server -> kube-apiserver 6443/TCP (likely)",
            "kube-system/metrics-server -> kube-apiserver 6443/TCP (likely)",
            "kube-system/metrics-server -> nodes 10250/TCP (likely)",
            "tunnel/cloudflared -> external 7844/TCP (likely)",
            "tunnel/cloudflared -> external 7844/UDP (likely)",
            // The aggregated API metrics.k8s.io: the API server calls it on
            // its --secure-port.
            "kube-apiserver -> kube-system/metrics-server 4443/TCP (likely)",
        ]
    );
    // The evidence is the image line and says where the need is documented.
    let tunnel = &d.connections[8].evidence[0];
    assert_eq!(tunnel.line, 12);
    assert_eq!(tunnel.field, "spec.template.spec.containers[0].image");
    assert!(
        tunnel
            .text
            .starts_with("cloudflare/cloudflared:2026.5.0: tunnel to Cloudflare's edge")
            && tunnel.text.contains("https://developers.cloudflare.com/"),
        "{}",
        tunnel.text
    );
}

#[test]
fn every_entry_of_the_table_cites_its_source() {
    for k in TABLE {
        assert!(k.source.starts_with("https://"), "{:?}", k.images);
        assert!(!k.needs.is_empty() && !k.images.is_empty());
    }
}

#[test]
fn real_homelab_images() {
    let Some(dir) = real_case("homelab") else {
        return;
    };
    let l = lines(&images(&dir));
    assert_has(
        &l,
        [
            "cloudflared/cloudflared -> external 7844/UDP (likely)",
            "cert-manager/cert-manager -> external 443/TCP (likely)",
            "kube-system/metrics-server -> nodes 10250/TCP (likely)",
            "kube-system/coredns -> external 53/UDP (likely)",
            "kube-apiserver -> cert-manager/cert-manager-webhook 10250/TCP (likely)",
            // argo-cd.yaml runs argocd-server with only --port: its defaults apply.
            "argo-cd/argocd-server -> argo-cd/argocd-repo-server 8081/TCP (likely)",
            "argo-cd/argocd-server -> argo-cd/argocd-dex-server 5556/TCP (likely)",
        ],
    );
    // Images outside the table propose nothing (open-webui, supabase, ...).
    assert!(
        !l.iter()
            .any(|x| x.starts_with("open-webui/") || x.starts_with("supabase/"))
    );
}
