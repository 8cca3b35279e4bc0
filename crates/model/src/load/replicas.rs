//! Of a workload's Pods, only the first keeps its manifest. A live dump
//! lists every replica, and discovery reads one pod spec per workload: at
//! 150,000 pods the others' manifests were gigabytes kept for nothing, and
//! each was parsed into a tree instead of read straight into its Pod.
//!
//! Pods with the same key belong to the same workload, whatever else is
//! loaded: owner resolution walks from the first owner reference, and a
//! ReplicaSet that is not loaded is named with the Pod's
//! `pod-template-hash`. A Pod without owners is a workload of its own and
//! always keeps its manifest.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::Value;

use crate::manifest::Manifest;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct ReplicaKey {
    namespace: String,
    owner_kind: String,
    owner_name: String,
    template_hash: Option<String>,
}

const TEMPLATE_HASH: &str = "pod-template-hash";

/// The key of a Pod read as a tree, in namespace `ns` (its own or the
/// default one).
fn of_value(pod: &Value, ns: &str) -> Option<ReplicaKey> {
    let meta = pod.get("metadata")?;
    let owner = meta.get("ownerReferences")?.get(0)?;
    Some(ReplicaKey {
        namespace: ns.to_string(),
        owner_kind: owner.get("kind")?.as_str()?.to_string(),
        owner_name: owner.get("name")?.as_str()?.to_string(),
        template_hash: meta
            .get("labels")
            .and_then(|l| l.get(TEMPLATE_HASH))
            .and_then(Value::as_str)
            .map(str::to_string),
    })
}

/// The same key for a Pod read straight into its typed form.
fn of_meta(meta: &ObjectMeta, ns: &str) -> Option<ReplicaKey> {
    let owner = meta.owner_references.as_ref()?.first()?;
    Some(ReplicaKey {
        namespace: ns.to_string(),
        owner_kind: owner.kind.clone(),
        owner_name: owner.name.clone(),
        template_hash: meta
            .labels
            .as_ref()
            .and_then(|l| l.get(TEMPLATE_HASH))
            .cloned(),
    })
}

/// The workloads whose first Pod kept its manifest.
#[derive(Default)]
pub(super) struct Kept(foldhash::HashSet<ReplicaKey>);

impl Kept {
    /// Whether object `value` of `kind` in `ns` keeps its manifest (it is
    /// not a Pod of a workload already kept), noting it as kept.
    pub(super) fn first(&mut self, kind: &str, value: &Value, ns: &str) -> bool {
        kind != "Pod" || of_value(value, ns).is_none_or(|k| self.0.insert(k))
    }

    /// The same for a manifest a later part kept.
    pub(super) fn first_manifest(&mut self, m: &Manifest) -> bool {
        self.first(
            &m.kind,
            &m.value,
            m.namespace.as_deref().unwrap_or_default(),
        )
    }

    /// Whether the workload of the Pod with `meta` in `ns` kept a manifest.
    pub(super) fn has(&self, meta: &ObjectMeta, ns: &str) -> bool {
        of_meta(meta, ns).is_some_and(|k| self.0.contains(&k))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(owners: &str, labels: &str) -> Value {
        serde_json::from_str(&format!(
            r#"{{"metadata": {{"name": "p", "ownerReferences": {owners}, "labels": {labels}}}}}"#
        ))
        .unwrap()
    }

    #[test]
    fn the_tree_and_the_typed_pod_give_the_same_key() {
        for (owners, labels) in [
            (
                r#"[{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-5d8f", "uid": "u"}]"#,
                r#"{"pod-template-hash": "5d8f", "app": "web"}"#,
            ),
            (
                r#"[{"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "db", "uid": "u"}, {"apiVersion": "v1", "kind": "Other", "name": "x", "uid": "v"}]"#,
                r#"{}"#,
            ),
            (r#"[]"#, r#"{"app": "web"}"#),
        ] {
            let value = pod(owners, labels);
            let meta: ObjectMeta = serde_json::from_value(value["metadata"].clone()).unwrap();
            assert_eq!(
                of_value(&value, "ns"),
                of_meta(&meta, "ns"),
                "{owners} {labels}"
            );
        }
    }

    #[test]
    fn the_key_is_the_first_owner_and_the_template_hash() {
        let rs =
            r#"[{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-5d8f", "uid": "u"}]"#;
        let a = of_value(&pod(rs, r#"{"pod-template-hash": "5d8f"}"#), "ns").unwrap();
        assert_eq!(a.owner_kind, "ReplicaSet");
        assert_eq!(a.owner_name, "web-5d8f");
        // Another hash may name another workload (`web` against `web-5d8f`).
        let b = of_value(&pod(rs, r#"{"pod-template-hash": "77aa"}"#), "ns").unwrap();
        assert_ne!(a, b);
        assert_ne!(
            a,
            of_value(&pod(rs, r#"{"pod-template-hash": "5d8f"}"#), "other").unwrap()
        );
        assert_eq!(of_value(&pod("[]", "{}"), "ns"), None);
        assert_eq!(of_value(&serde_json::json!({"metadata": {}}), "ns"), None);
    }
}
