//! Rule 4: the API server's own traffic. It calls the Services of admission
//! webhooks, aggregated APIs (APIService) and CRD conversion webhooks; and
//! workloads whose ServiceAccount is granted API access by a RoleBinding or
//! ClusterRoleBinding (or that mount a token by hand) call it.

use serde_json::Value;

use netpol_model::{Manifest, Protocol};

use crate::json::Items;
use crate::{Confidence, Context, Evidence, Peer, ServicePortRef, Sink, Workload};

pub const NAME: &str = "apiserver";

/// The port the API server receives on after the `kubernetes` Service's
/// translation of 443: k3s's, kubeadm's and Talos's default, and the flows
/// file's `cluster.apiserver.port` default.
pub const APISERVER_PORT: u16 = 6443;

pub fn run(ctx: &Context, sink: &mut Sink) {
    for kind in [
        "ValidatingWebhookConfiguration",
        "MutatingWebhookConfiguration",
    ] {
        for m in ctx.objects(kind) {
            let hooks = m.get("webhooks").and_then(Value::as_array);
            for i in 0..hooks.map_or(0, Vec::len) {
                served(ctx, m, &format!("webhooks[{i}].clientConfig.service"), sink);
            }
        }
    }
    for m in ctx.objects("APIService") {
        served(ctx, m, "spec.service", sink);
    }
    for m in ctx.objects("CustomResourceDefinition") {
        if m.get("spec.conversion.strategy").and_then(Value::as_str) == Some("Webhook") {
            served(ctx, m, "spec.conversion.webhook.clientConfig.service", sink);
        }
    }
    clients(ctx, sink);
}

/// kube-apiserver -> the pods behind a `{namespace, name, port}` service
/// reference (port 443 when unset, as the API defaults it).
fn served(ctx: &Context, m: &Manifest, field: &str, sink: &mut Sink) {
    let Some(svc) = m.get(field) else { return };
    let (Some(ns), Some(name)) = (
        svc.get("namespace").and_then(Value::as_str),
        svc.get("name").and_then(Value::as_str),
    ) else {
        return;
    };
    let port = svc
        .get("port")
        .and_then(Value::as_u64)
        .and_then(|p| u16::try_from(p).ok())
        .unwrap_or(443);
    let evidence = Evidence::at(m, field, format!("service {ns}/{name} port {port}"));
    let Some(service) = ctx.service(ns, name) else {
        sink.unresolved(
            m.display_name(),
            NAME,
            format!("the API server calls Service {ns}/{name}, which is not in the input"),
            evidence,
        );
        return;
    };
    let backends = ctx.backends(service, ServicePortRef::Number(port));
    if backends.is_empty() {
        let reason = if service.ports.iter().any(|p| p.port == port) {
            format!("Service {ns}/{name} port {port} reaches no pod of the input")
        } else {
            format!("Service {ns}/{name} has no port {port}")
        };
        sink.unresolved(m.display_name(), NAME, reason, evidence);
        return;
    }
    for b in backends {
        sink.connect(
            Peer::KubeApiserver,
            b.peer,
            b.port,
            b.protocol,
            NAME,
            Confidence::Certain,
            evidence.clone(),
        );
    }
}

/// ServiceAccounts named as subjects of bindings: `(namespace, name)` and
/// the evidence. A RoleBinding's subject without a namespace is in the
/// binding's namespace, as the authorizer reads it.
fn bound_accounts(ctx: &Context) -> Vec<(String, String, Evidence)> {
    let mut out = Vec::new();
    for kind in ["RoleBinding", "ClusterRoleBinding"] {
        for m in ctx.objects(kind) {
            let subjects = m.get("subjects").items();
            for (i, s) in subjects.enumerate() {
                if s.get("kind").and_then(Value::as_str) != Some("ServiceAccount") {
                    continue;
                }
                let Some(name) = s.get("name").and_then(Value::as_str) else {
                    continue;
                };
                let Some(ns) = s
                    .get("namespace")
                    .and_then(Value::as_str)
                    .or(m.namespace.as_deref())
                else {
                    continue;
                };
                let role = m.get("roleRef.name").and_then(Value::as_str).unwrap_or("?");
                out.push((
                    ns.to_string(),
                    name.to_string(),
                    Evidence::at(
                        m,
                        &format!("subjects[{i}]"),
                        format!("ServiceAccount {ns}/{name} bound to {role}"),
                    ),
                ));
            }
        }
    }
    out
}

fn clients(ctx: &Context, sink: &mut Sink) {
    let bound = bound_accounts(ctx);
    let any_rbac =
        !ctx.objects("RoleBinding").is_empty() || !ctx.objects("ClusterRoleBinding").is_empty();
    for w in &ctx.workloads {
        let spec = &w.pod_spec;
        let account = spec
            .service_account_name
            .as_deref()
            .or(spec.service_account.as_deref())
            .unwrap_or("default");
        let account_field = w.field("serviceAccountName");
        let mut connect = |confidence: Confidence, evidence: Evidence| {
            sink.connect(
                Peer::Workload(w.id.clone()),
                Peer::KubeApiserver,
                APISERVER_PORT,
                Protocol::Tcp,
                NAME,
                confidence,
                evidence,
            )
        };
        let token = automounts(ctx, w, account);
        let grants: Vec<&Evidence> = bound
            .iter()
            .filter(|(ns, name, _)| *ns == w.namespace && name == account)
            .map(|(_, _, e)| e)
            .collect();
        if !grants.is_empty() && token {
            for e in grants {
                connect(Confidence::Likely, e.clone());
            }
            connect(
                Confidence::Likely,
                Evidence::at(
                    w.manifest,
                    &account_field,
                    format!("serviceAccountName: {account}"),
                ),
            );
        }
        for (field, text) in hand_mounted_tokens(w) {
            connect(Confidence::Likely, Evidence::at(w.manifest, &field, text));
        }
        if !any_rbac && account != "default" && token {
            // Without any RBAC object in the input, a dedicated account is
            // the only hint; charts create one mostly to grant it API access.
            connect(
                Confidence::Guess,
                Evidence::at(
                    w.manifest,
                    &account_field,
                    format!(
                        "serviceAccountName: {account} (the input has no RBAC bindings to confirm it)"
                    ),
                ),
            );
        }
    }
}

/// Whether the pods get the account's token: the pod's
/// `automountServiceAccountToken`, else the ServiceAccount's, else yes.
fn automounts(ctx: &Context, w: &Workload, account: &str) -> bool {
    if let Some(v) = w.pod_spec.automount_service_account_token {
        return v;
    }
    ctx.objects("ServiceAccount")
        .iter()
        .find(|m| m.namespace.as_deref() == Some(w.namespace.as_str()) && m.name == account)
        .and_then(|m| {
            m.get("automountServiceAccountToken")
                .and_then(Value::as_bool)
        })
        .unwrap_or(true)
}

/// Projected `serviceAccountToken` volumes written by hand for the API
/// server (no other audience); the kubelet's own `kube-api-access-*`
/// volume of a live dump is every pod's and says nothing.
fn hand_mounted_tokens(w: &Workload) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (i, v) in w.pod_spec.volumes.iter().flatten().enumerate() {
        if v.name.starts_with("kube-api-access-") {
            continue;
        }
        let Some(p) = &v.projected else { continue };
        for (j, s) in p.sources.iter().flatten().enumerate() {
            let Some(t) = &s.service_account_token else {
                continue;
            };
            let for_apiserver = t
                .audience
                .as_deref()
                .is_none_or(|a| a.is_empty() || a.contains("kubernetes.default"));
            if for_apiserver {
                out.push((
                    w.field(&format!(
                        "volumes[{i}].projected.sources[{j}].serviceAccountToken"
                    )),
                    format!("volume {}: projected serviceAccountToken", v.name),
                ));
            }
        }
    }
    out
}
