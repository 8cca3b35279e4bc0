//! A container's environment as Kubernetes builds it: `envFrom` first, then
//! `env` in order, each value's `$(VAR)` expanded with what came before.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1 as core;

use super::{NAME, truncate};
use crate::sources::{Kind, Source, lookup};
use crate::{Context, Evidence, Sink, Workload};

/// One variable: its value if the input shows it, and where it comes from
/// (the env entry, and the ConfigMap/Secret key when it is one).
pub struct Var {
    pub name: String,
    pub value: Option<String>,
    pub evidence: Vec<Evidence>,
}

/// `$(VAR)` expanded as the kubelet does: `$$` is a literal `$`, a name it
/// does not know stays as written.
pub fn expand(text: &str, vars: &BTreeMap<String, String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(inner) = after.strip_prefix('(') {
            match inner.find(')') {
                Some(j) => {
                    let name = &inner[..j];
                    match vars.get(name) {
                        Some(v) => out.push_str(v),
                        None => {
                            out.push_str("$(");
                            out.push_str(name);
                            out.push(')');
                        }
                    }
                    rest = &inner[j + 1..];
                }
                None => {
                    out.push_str("$(");
                    rest = inner;
                }
            }
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

/// The environment of one container at `path` (`containers[0]`). Sources
/// that cannot be read are reported on `sink` when they may hold hosts.
pub fn environment(
    ctx: &Context,
    w: &Workload,
    c: &core::Container,
    path: &str,
    sink: &mut Sink,
) -> Vec<Var> {
    let mut vars: Vec<Var> = Vec::new();
    let mut known: BTreeMap<String, String> = BTreeMap::new();
    for (i, from) in c.env_from.iter().flatten().enumerate() {
        let field = w.field(&format!("{path}.envFrom[{i}]"));
        let (kind, name) = match (&from.config_map_ref, &from.secret_ref) {
            (Some(r), _) => (Kind::ConfigMap, r.name.as_str()),
            (None, Some(r)) => (Kind::Secret, r.name.as_str()),
            _ => continue,
        };
        let prefix = from.prefix.as_deref().unwrap_or("");
        let reference = Evidence::at(
            w.manifest,
            &field,
            format!("envFrom {} {name}", kind.as_str()),
        );
        match lookup(ctx, kind, &w.namespace, name) {
            Source::Found { manifest, entries } => {
                for (key, entry) in entries {
                    let name = format!("{prefix}{key}");
                    known.insert(name.clone(), entry.value.clone());
                    let text = format!("{key}={}", truncate(&entry.value));
                    vars.push(Var {
                        name,
                        value: Some(entry.value),
                        evidence: vec![
                            reference.clone(),
                            Evidence::at(manifest, &entry.field, text),
                        ],
                    });
                }
            }
            Source::Encrypted { manifest, how } => sink.unresolved(
                w.id.clone(),
                NAME,
                format!(
                    "all variables of {} {}/{name} are unknown: it is {how} ({}); add the hosts it names as flows by hand",
                    kind.as_str(),
                    w.namespace,
                    place(manifest),
                ),
                reference,
            ),
            Source::Missing => sink.unresolved(
                w.id.clone(),
                NAME,
                format!(
                    "all variables of {} {}/{name} are unknown: it is not in the input",
                    kind.as_str(),
                    w.namespace
                ),
                reference,
            ),
        }
    }
    for (i, e) in c.env.iter().flatten().enumerate() {
        let base = format!("{path}.env[{i}]");
        if let Some(v) = &e.value {
            let value = expand(v, &known);
            let field = w.field(&format!("{base}.value"));
            known.insert(e.name.clone(), value.clone());
            vars.push(Var {
                name: e.name.clone(),
                evidence: vec![Evidence::at(
                    w.manifest,
                    &field,
                    format!("{}={}", e.name, truncate(v)),
                )],
                value: Some(value),
            });
            continue;
        }
        let Some(from) = &e.value_from else {
            continue;
        };
        if let Some(f) = &from.field_ref {
            // Only the namespace is known before the pod exists.
            if f.field_path == "metadata.namespace" {
                known.insert(e.name.clone(), w.namespace.clone());
            }
            continue;
        }
        let (kind, name, key, sub) = match (&from.config_map_key_ref, &from.secret_key_ref) {
            (Some(r), _) => (Kind::ConfigMap, &r.name, &r.key, "configMapKeyRef"),
            (None, Some(r)) => (Kind::Secret, &r.name, &r.key, "secretKeyRef"),
            _ => continue,
        };
        let field = w.field(&format!("{base}.valueFrom.{sub}"));
        let reference = Evidence::at(
            w.manifest,
            &field,
            format!("{}: {} {name} key {key}", e.name, kind.as_str()),
        );
        let may_hold_host =
            super::scan::host_like_name(&e.name) || super::scan::host_like_name(key);
        match lookup(ctx, kind, &w.namespace, name) {
            Source::Found { manifest, entries } => {
                if let Some(entry) = entries.get(key) {
                    known.insert(e.name.clone(), entry.value.clone());
                    vars.push(Var {
                        name: e.name.clone(),
                        value: Some(entry.value.clone()),
                        evidence: vec![
                            reference,
                            Evidence::at(
                                manifest,
                                &entry.field,
                                format!("{key}={}", truncate(&entry.value)),
                            ),
                        ],
                    });
                } else if may_hold_host {
                    sink.unresolved(
                        w.id.clone(),
                        NAME,
                        format!("{} {}/{name} has no key {key}", kind.as_str(), w.namespace),
                        reference,
                    );
                }
            }
            Source::Encrypted { manifest, how } if may_hold_host => sink.unresolved(
                w.id.clone(),
                NAME,
                format!(
                    "{} may name a host, but {} {}/{name} is {how} ({}): its value is unknown",
                    e.name,
                    kind.as_str(),
                    w.namespace,
                    place(manifest),
                ),
                reference,
            ),
            Source::Missing if may_hold_host => sink.unresolved(
                w.id.clone(),
                NAME,
                format!(
                    "{} may name a host, but {} {}/{name} is not in the input",
                    e.name,
                    kind.as_str(),
                    w.namespace
                ),
                reference,
            ),
            _ => {}
        }
    }
    vars
}

fn place(m: &netpol_model::Manifest) -> String {
    format!("{}:{}", m.origin.file, m.line(""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expansion_follows_the_kubelet() {
        let vars: BTreeMap<String, String> = [("NS".to_string(), "shop".to_string())]
            .into_iter()
            .collect();
        assert_eq!(expand("api.$(NS).svc", &vars), "api.shop.svc");
        assert_eq!(expand("$$(NS) $(OTHER) $x", &vars), "$(NS) $(OTHER) $x");
        assert_eq!(expand("$(NS", &vars), "$(NS");
    }
}
