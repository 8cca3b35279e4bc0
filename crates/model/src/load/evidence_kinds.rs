//! The kinds that only discovery reads (ConfigMaps, Ingresses, webhook
//! configurations, RBAC, ...), validated like the modelled ones when the
//! objects are kept: a typo in an Ingress backend must be an error, not a
//! need that discovery silently misses. Custom resources (monitors,
//! IngressRoutes, HTTPRoutes) have no schema here and are read as written.

use k8s_openapi::api::{
    admissionregistration::v1 as admission, core::v1 as core, discovery::v1 as discovery,
    networking::v1 as net, rbac::v1 as rbac,
};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1 as apiextensions;
use k8s_openapi::kube_aggregator::pkg::apis::apiregistration::v1 as apiregistration;
use serde_json::Value;

use super::ctx::Ctx;

/// Validates `value` when `api_version`/`kind` is one of the built-in kinds
/// discovery reads; returns whether it was one.
pub(crate) fn validate(ctx: &mut Ctx, api_version: &str, kind: &str, value: &Value) -> bool {
    // A SOPS-encrypted file carries its key metadata in a top-level `sops:`
    // that the decrypting tool removes before the API server sees the object;
    // the encrypted values keep their types.
    let decrypted;
    let value = match value.as_object() {
        Some(object) if object.contains_key("sops") => {
            let mut object = object.clone();
            object.remove("sops");
            decrypted = Value::Object(object);
            &decrypted
        }
        _ => value,
    };
    macro_rules! check {
        ($t:ty) => {{
            let _: Option<$t> = ctx.typed(value);
            true
        }};
    }
    match (api_version, kind) {
        ("v1", "ConfigMap") => check!(core::ConfigMap),
        ("v1", "Secret") => check!(core::Secret),
        ("v1", "ServiceAccount") => check!(core::ServiceAccount),
        ("v1", "Endpoints") => check!(core::Endpoints),
        ("discovery.k8s.io/v1", "EndpointSlice") => check!(discovery::EndpointSlice),
        ("networking.k8s.io/v1", "Ingress") => check!(net::Ingress),
        ("networking.k8s.io/v1", "IngressClass") => check!(net::IngressClass),
        ("rbac.authorization.k8s.io/v1", "RoleBinding") => check!(rbac::RoleBinding),
        ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding") => {
            check!(rbac::ClusterRoleBinding)
        }
        ("admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration") => {
            check!(admission::ValidatingWebhookConfiguration)
        }
        ("admissionregistration.k8s.io/v1", "MutatingWebhookConfiguration") => {
            check!(admission::MutatingWebhookConfiguration)
        }
        ("apiregistration.k8s.io/v1", "APIService") => check!(apiregistration::APIService),
        ("apiextensions.k8s.io/v1", "CustomResourceDefinition") => {
            check!(apiextensions::CustomResourceDefinition)
        }
        _ => false,
    }
}
