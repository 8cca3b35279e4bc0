//! Objects kept as written, for rules that read more of a manifest than the
//! connectivity model needs (discovering flows from env URLs, Ingresses,
//! monitors, webhooks). Kept only on request, so plain loading stays lean.

use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::diag::Diagnostic;
use crate::types::Origin;
use crate::yaml::{LineIndex, child_index, child_key};

/// One Kubernetes object of the input, with what it takes to point at any
/// of its fields.
#[derive(Clone, Debug, PartialEq)]
pub struct Manifest {
    pub api_version: String,
    pub kind: String,
    /// `None` for objects without `metadata.namespace` whose kind is
    /// cluster-scoped (webhook configurations, ClusterRoleBindings, ...); namespaced
    /// kinds without one get the default namespace, as for the model.
    pub namespace: Option<String>,
    pub name: String,
    /// Where the object starts.
    pub origin: Origin,
    pub value: Value,
    /// Path of the object within its document (`items[3]` inside a List).
    pub(crate) prefix: String,
    pub(crate) lines: Arc<LineIndex>,
}

impl Manifest {
    /// The API group, `""` for the core group.
    pub fn group(&self) -> &str {
        self.api_version.rsplit_once('/').map_or("", |(g, _)| g)
    }

    /// `Kind namespace/name`, or `Kind name` when cluster-scoped: how
    /// diagnostics and evidence name the object.
    pub fn display_name(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{} {ns}/{}", self.kind, self.name),
            None => format!("{} {}", self.kind, self.name),
        }
    }

    /// 1-based line of `field` (`spec.rules[0].host`), or of its nearest
    /// ancestor that has one.
    pub fn line(&self, field: &str) -> usize {
        self.lines
            .line(&crate::yaml::full_path(&self.prefix, field))
    }

    /// The origin of `field`.
    pub fn origin_of(&self, field: &str) -> Origin {
        self.origin.at_line(self.line(field))
    }

    /// The value at a field path such as `spec.template.spec.containers[0].env`.
    pub fn get(&self, field: &str) -> Option<&Value> {
        get_path(&self.value, field)
    }

    /// Deserializes the object into a typed form (a `k8s-openapi` type or a
    /// rule's own struct); a mismatch is a diagnostic at the offending field.
    pub fn typed<T: DeserializeOwned>(&self) -> Result<T, Diagnostic> {
        serde_path_to_error::deserialize::<_, T>(&self.value).map_err(|err| {
            let path = err.path().to_string();
            let path = if path == "." { String::new() } else { path };
            let message = err.into_inner().to_string();
            self.diagnostic(&path, message)
        })
    }

    /// A diagnostic about `field` of this object.
    pub fn diagnostic(&self, field: &str, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            file: self.origin.file.to_string(),
            document: self.origin.document,
            line: self.line(field),
            object: Some(self.display_name()),
            field: (!field.is_empty()).then(|| field.to_string()),
            message: message.into(),
        }
    }
}

/// Kinds whose objects have no namespace; everything else gets the default
/// namespace when it names none, as `kubectl apply` would.
pub fn is_cluster_scoped(kind: &str) -> bool {
    matches!(
        kind,
        "Namespace"
            | "Node"
            | "PersistentVolume"
            | "ClusterRole"
            | "ClusterRoleBinding"
            | "ValidatingWebhookConfiguration"
            | "MutatingWebhookConfiguration"
            | "ValidatingAdmissionPolicy"
            | "ValidatingAdmissionPolicyBinding"
            | "APIService"
            | "CustomResourceDefinition"
            | "IngressClass"
            | "GatewayClass"
            | "StorageClass"
            | "PriorityClass"
            | "RuntimeClass"
            | "CSIDriver"
            | "ClusterIssuer"
            | "ClusterNetworkPolicy"
            | "AdminNetworkPolicy"
            | "BaselineAdminNetworkPolicy"
            | "ClusterSecretStore"
    )
}

/// Follows `a.b[2].c` through a JSON value. Keys with dots cannot be
/// addressed this way; rules that need them index the value directly.
pub fn get_path<'v>(value: &'v Value, path: &str) -> Option<&'v Value> {
    let mut current = value;
    for segment in path.split('.').filter(|s| !s.is_empty()) {
        let (key, indexes) = match segment.find('[') {
            Some(i) => (&segment[..i], &segment[i..]),
            None => (segment, ""),
        };
        if !key.is_empty() {
            current = current.get(key)?;
        }
        for index in indexes.split('[').filter(|s| !s.is_empty()) {
            let n: usize = index.strip_suffix(']')?.parse().ok()?;
            current = current.get(n)?;
        }
    }
    Some(current)
}

/// `path.key`, for building the field paths that evidence cites.
pub fn field(path: &str, key: &str) -> String {
    child_key(path, key)
}

/// `path[index]`.
pub fn item(path: &str, index: usize) -> String {
    child_index(path, index)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_reach_nested_fields() {
        let v: Value = serde_json::json!({"spec": {"rules": [{"host": "a"}, {"host": "b"}]}});
        assert_eq!(get_path(&v, "spec.rules[1].host"), Some(&Value::from("b")));
        assert_eq!(get_path(&v, "spec.rules[2].host"), None);
        assert_eq!(get_path(&v, ""), Some(&v));
    }
}
