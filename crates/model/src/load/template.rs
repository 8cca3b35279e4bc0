//! A controller's `spec.selector` against its pod template's labels: the API
//! server rejects a workload whose selector does not pick its own pods, which
//! would otherwise stand for pods that can never exist.

use k8s_openapi::apimachinery::pkg::apis::meta::v1 as meta;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::ctx::Ctx;
use super::names;
use crate::types::{Labels, WorkloadKind};

const MISMATCH: &str = "`selector` does not match template `labels`";

/// Type errors are not reported here: the whole object is deserialized, and
/// its errors reported, by the workload loader.
fn at<T: DeserializeOwned>(value: &Value, pointer: &str) -> Option<T> {
    value
        .pointer(pointer)
        .filter(|v| !v.is_null())
        .and_then(|v| serde_json::from_value(v.clone()).ok())
}

pub(crate) fn check_selector(ctx: &mut Ctx, kind: WorkloadKind, value: &Value) {
    let labels: Labels = at(value, "/spec/template/metadata/labels").unwrap_or_default();
    let what = match kind {
        WorkloadKind::Deployment => "deployment",
        WorkloadKind::StatefulSet => "statefulset",
        WorkloadKind::DaemonSet => "daemonset",
        WorkloadKind::ReplicaSet => "replicaset",
        WorkloadKind::Job => {
            // Optional: the API server generates it when it is left out.
            if let Some(sel) = at::<meta::LabelSelector>(value, "/spec/selector") {
                let sel = names::selector(ctx, "spec.selector", &sel);
                if !sel.is_empty() && !sel.matches(&labels) {
                    ctx.error("spec.template.metadata.labels", MISMATCH);
                }
            }
            return;
        }
        WorkloadKind::ReplicationController => {
            // A map; left out or empty, it defaults to the template's labels.
            let sel: Labels = at(value, "/spec/selector").unwrap_or_default();
            if !sel.iter().all(|(k, v)| labels.get(k) == Some(v)) {
                ctx.error("spec.template.metadata.labels", MISMATCH);
            }
            return;
        }
        WorkloadKind::Pod | WorkloadKind::CronJob => return,
    };
    // apps/v1 requires the selector; a missing one is still read as the
    // template's labels (what the old API versions defaulted it to), so that
    // label-less workloads (synthetic clusters) keep loading.
    let Some(sel) = at::<meta::LabelSelector>(value, "/spec/selector") else {
        return;
    };
    let sel = names::selector(ctx, "spec.selector", &sel);
    if sel.is_empty() {
        ctx.error(
            "spec.selector",
            format!("empty selector is invalid for {what}"),
        );
    } else if !sel.matches(&labels) {
        ctx.error("spec.template.metadata.labels", MISMATCH);
    }
}
