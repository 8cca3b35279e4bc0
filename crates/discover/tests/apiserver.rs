mod support;

use netpol_discover::Discovery;
use support::{assert_has, fixture, lines, real_case, run};

fn apiserver(path: &str) -> Discovery {
    run("apiserver", path)
}

fn cited(d: &Discovery, i: usize) -> Vec<(usize, String, String)> {
    d.connections[i]
        .evidence
        .iter()
        .map(|e| (e.line, e.object.clone(), e.field.clone()))
        .collect()
}

#[test]
fn webhooks_aggregated_apis_and_bound_accounts() {
    let d = apiserver(&fixture("apiserver/cluster.yaml"));
    assert_eq!(
        lines(&d),
        [
            // RoleBinding subject without a namespace: the binding's own.
            "apps/operator -> kube-apiserver 6443/TCP (likely)",
            // A projected token for the API server (not the one for vault).
            "apps/tokens -> kube-apiserver 6443/TCP (likely)",
            // APIService port defaults to 443; the Service sends it to 10250.
            "kube-apiserver -> hooks/metrics 10250/TCP (certain)",
            // Both webhook configurations and the CRD conversion, named targetPort.
            "kube-apiserver -> hooks/webhook 9443/TCP (certain)",
        ]
    );
    // Not proposed: apps/reader (its ServiceAccount does not automount a
    // token), hooks/metrics as a client (its pods opt out), apps/plain (an
    // account no binding names), the local APIService and the URL webhook.
    let s = |a: &str, b: &str| (a.to_string(), b.to_string());
    assert_eq!(
        cited(&d, 0)
            .into_iter()
            .map(|(l, o, f)| (l, s(&o, &f)))
            .collect::<Vec<_>>(),
        [
            (110, s("RoleBinding apps/operator", "subjects[0]")),
            (
                134,
                s(
                    "Deployment apps/operator",
                    "spec.template.spec.serviceAccountName"
                )
            ),
        ]
    );
    assert_eq!(
        cited(&d, 3)
            .into_iter()
            .map(|(l, o, f)| (l, s(&o, &f)))
            .collect::<Vec<_>>(),
        [
            (
                48,
                s(
                    "ValidatingWebhookConfiguration checks",
                    "webhooks[0].clientConfig.service"
                )
            ),
            (
                68,
                s(
                    "MutatingWebhookConfiguration defaults",
                    "webhooks[0].clientConfig.service"
                )
            ),
            (
                102,
                s(
                    "CustomResourceDefinition widgets.example.com",
                    "spec.conversion.webhook.clientConfig.service"
                )
            ),
        ]
    );
    assert_eq!(d.unresolved.len(), 1);
    assert_eq!(
        d.unresolved[0].reason,
        "Service hooks/webhook has no port 8443"
    );
    assert_eq!(d.unresolved[0].evidence.line, 53);
}

#[test]
fn real_talos_gitops_webhooks_and_bindings() {
    let Some(dir) = real_case("talos-gitops") else {
        return;
    };
    let l = lines(&apiserver(&dir));
    assert_has(
        &l,
        [
            // cert-manager's webhook Service 443 -> the pods' https port 10250.
            "kube-apiserver -> cert-manager/cert-manager-webhook 10250/TCP (certain)",
            // Longhorn's admission webhook on its own port 9502.
            "kube-apiserver -> longhorn-system/longhorn-manager 9502/TCP (certain)",
            // MetalLB's webhook Service 443 -> 9443.
            "kube-apiserver -> metallb-system/metallb-controller 9443/TCP (certain)",
            // metrics-server's APIService.
            "kube-apiserver -> kube-system/metrics-server 10250/TCP (certain)",
            // ClusterRoleBinding homepage -> ServiceAccount homepage/homepage.
            "homepage/homepage -> kube-apiserver 6443/TCP (likely)",
        ],
    );
}
