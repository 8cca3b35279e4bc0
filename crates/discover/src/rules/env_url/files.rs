//! The files a pod reads: the ConfigMaps and Secrets it mounts, and those
//! that a k8s-sidecar container copies into it by label (Grafana's
//! datasources and dashboards in the common charts).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1 as core;
use netpol_model::Manifest;
use serde_json::Value;

use super::env::Var;
use super::{Found, NAME, references, truncate};
use crate::rules::images::repository;
use crate::sources::{Entry, Kind, Mount, Source, lookup, mounts};
use crate::{Context, Evidence, Sink, Workload};

/// Files of the ConfigMaps and Secrets the pod mounts (only the listed keys
/// when `items` picks some).
pub(super) fn volumes(ctx: &Context, w: &Workload, sink: &mut Sink, found: &mut Vec<Found>) {
    for Mount {
        kind,
        name,
        items,
        path,
        volume,
    } in mounts(w)
    {
        let field = w.field(&path);
        let reference = Evidence::at(
            w.manifest,
            &field,
            format!("volume {volume} {} {name}", kind.as_str()),
        );
        match lookup(ctx, kind, &w.namespace, &name) {
            Source::Found { manifest, entries } => {
                let picked = entries
                    .iter()
                    .filter(|(key, _)| items.as_ref().is_none_or(|l| l.contains(key)));
                found.extend(scan_entries(manifest, picked, &reference));
            }
            // Mounted Secrets are mostly certificates and passwords: an
            // encrypted one is worth a note only when it is a ConfigMap's
            // stand-in, which the manifests cannot tell; stay quiet.
            Source::Encrypted { .. } => {}
            Source::Missing if kind == Kind::ConfigMap => sink.unresolved(
                w.id.clone(),
                NAME,
                format!(
                    "the files of ConfigMap {}/{name} are unknown: it is not in the input",
                    w.namespace
                ),
                reference,
            ),
            Source::Missing => {}
        }
    }
}

/// The references in some keys of a ConfigMap or Secret, each citing the
/// pod's reference to it and the line of the data.
fn scan_entries<'e>(
    manifest: &Manifest,
    entries: impl Iterator<Item = (&'e String, &'e Entry)>,
    reference: &Evidence,
) -> Vec<Found> {
    let mut out = Vec::new();
    for (key, entry) in entries {
        for r in references(&entry.value, Some(key)) {
            let text = if entry.value.contains('\n') {
                format!("{key} line {}: {}", r.line.0 + 1, truncate(&r.line.1))
            } else {
                format!("{key}: {}", truncate(&r.line.1))
            };
            out.push(Found {
                reference: r,
                paired_port: None,
                evidence: vec![
                    reference.clone(),
                    Evidence::at(manifest, &entry.field, text),
                ],
            });
        }
    }
    out
}

/// kiwigrid's k8s-sidecar copies every ConfigMap (and/or Secret) carrying
/// its `LABEL` (with `LABEL_VALUE`, when set) from `NAMESPACE` (its own by
/// default, `ALL`, or a list) into the pod: those files are the pod's too.
/// <https://github.com/kiwigrid/k8s-sidecar#configuration-environment-variables>
pub(super) fn labelled(
    ctx: &Context,
    w: &Workload,
    c: &core::Container,
    vars: &[Var],
    found: &mut Vec<Found>,
) {
    if c.image.as_deref().map(repository).as_deref() != Some("kiwigrid/k8s-sidecar") {
        return;
    }
    let var = |name: &str| vars.iter().find(|v| v.name == name);
    let value = |name: &str| var(name).and_then(|v| v.value.clone());
    let (Some(label_var), Some(label)) = (var("LABEL"), value("LABEL")) else {
        return;
    };
    let wanted = value("LABEL_VALUE");
    let resource = value("RESOURCE").unwrap_or_else(|| "configmap".to_string());
    let namespaces = value("NAMESPACE").unwrap_or_else(|| w.namespace.clone());
    let in_scope = |ns: &str| namespaces == "ALL" || namespaces.split(',').any(|n| n.trim() == ns);
    let reference = label_var.evidence[0].clone();
    for kind in [Kind::ConfigMap, Kind::Secret] {
        let takes = match kind {
            Kind::ConfigMap => resource == "configmap" || resource == "both",
            Kind::Secret => resource == "secret" || resource == "both",
        };
        if !takes {
            continue;
        }
        for m in ctx.objects(kind.as_str()) {
            let ns = m.namespace.as_deref().unwrap_or_default();
            let carries = m
                .get("metadata.labels")
                .and_then(|l| l.get(&label))
                .and_then(Value::as_str)
                .is_some_and(|v| wanted.as_deref().is_none_or(|want| v == want));
            if !carries || !in_scope(ns) {
                continue;
            }
            if let Source::Found { manifest, entries } = lookup(ctx, kind, ns, &m.name) {
                let entries: BTreeMap<&String, &Entry> = entries.iter().collect();
                found.extend(scan_entries(manifest, entries.into_iter(), &reference));
            }
        }
    }
}
