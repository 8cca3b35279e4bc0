//! ConfigMaps and Secrets as a pod sees them: the ones its volumes mount,
//! their keys and values, with the field each value sits in; encrypted
//! Secrets (SealedSecret, SOPS, ExternalSecret) are recognized so that they
//! are reported, never guessed. Shared by the rules that read what a pod is
//! given (env-url, coredns-hosts), so that they read the same places.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1 as core;
use netpol_model::Manifest;
use serde_json::Value;

use crate::{Context, Workload};

/// One key's value and the field it sits in (`data.DATABASE_URL`).
pub struct Entry {
    pub value: String,
    pub field: String,
}

pub enum Source<'c> {
    Found {
        manifest: &'c Manifest,
        entries: BTreeMap<String, Entry>,
    },
    /// The values exist only encrypted (or outside the input).
    Encrypted {
        manifest: &'c Manifest,
        how: &'static str,
    },
    Missing,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    ConfigMap,
    Secret,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::ConfigMap => "ConfigMap",
            Kind::Secret => "Secret",
        }
    }
}

fn find<'c>(ctx: &Context<'c>, kind: &str, namespace: &str, name: &str) -> Option<&'c Manifest> {
    ctx.objects(kind)
        .iter()
        .copied()
        .find(|m| m.namespace.as_deref() == Some(namespace) && m.name == name)
}

pub fn lookup<'c>(ctx: &Context<'c>, kind: Kind, namespace: &str, name: &str) -> Source<'c> {
    match kind {
        Kind::ConfigMap => match find(ctx, "ConfigMap", namespace, name) {
            Some(m) => Source::Found {
                manifest: m,
                entries: string_map(m, "data"),
            },
            None => Source::Missing,
        },
        Kind::Secret => secret(ctx, namespace, name),
    }
}

/// A ConfigMap's `data`, the text values by key.
pub fn data(m: &Manifest) -> BTreeMap<String, Entry> {
    string_map(m, "data")
}

fn string_map(m: &Manifest, key: &str) -> BTreeMap<String, Entry> {
    let mut out = BTreeMap::new();
    if let Some(Value::Object(map)) = m.value.get(key) {
        for (k, v) in map {
            if let Some(s) = v.as_str() {
                out.insert(
                    k.clone(),
                    Entry {
                        value: s.to_string(),
                        field: format!("{key}.{k}"),
                    },
                );
            }
        }
    }
    out
}

fn secret<'c>(ctx: &Context<'c>, namespace: &str, name: &str) -> Source<'c> {
    if let Some(m) = find(ctx, "Secret", namespace, name) {
        let raw = string_map(m, "data")
            .into_values()
            .chain(string_map(m, "stringData").into_values());
        if m.value.get("sops").is_some() || raw.into_iter().any(|e| e.value.contains("ENC[")) {
            return Source::Encrypted {
                manifest: m,
                how: "SOPS-encrypted",
            };
        }
        let mut entries = BTreeMap::new();
        // The loader accepted the object as it is; base64 that does not
        // decode leaves that key unknown rather than failing discovery.
        if let Ok(s) = m.typed::<core::Secret>() {
            for (k, v) in s.data.unwrap_or_default() {
                if let Ok(text) = String::from_utf8(v.0) {
                    let field = format!("data.{k}");
                    entries.insert(k, Entry { value: text, field });
                }
            }
        }
        entries.extend(string_map(m, "stringData"));
        return Source::Found {
            manifest: m,
            entries,
        };
    }
    let named = |m: &&Manifest, path: &str| {
        m.namespace.as_deref() == Some(namespace)
            && (m.get(path).and_then(Value::as_str).unwrap_or(&m.name) == name)
    };
    if let Some(m) = ctx
        .objects("SealedSecret")
        .iter()
        .find(|m| named(m, "spec.template.metadata.name"))
    {
        return Source::Encrypted {
            manifest: m,
            how: "a SealedSecret (encrypted)",
        };
    }
    if let Some(m) = ctx
        .objects("ExternalSecret")
        .iter()
        .find(|m| named(m, "spec.target.name"))
    {
        return Source::Encrypted {
            manifest: m,
            how: "an ExternalSecret (its values live outside the cluster's manifests)",
        };
    }
    Source::Missing
}

/// A ConfigMap or Secret a volume mounts.
pub struct Mount {
    pub kind: Kind,
    pub name: String,
    /// The keys `items` picks; `None`: every key.
    pub items: Option<Vec<String>>,
    /// Below the pod spec: `volumes[0].configMap`.
    pub path: String,
    /// The volume's name.
    pub volume: String,
}

/// The ConfigMaps and Secrets the pod's volumes mount, plain or projected.
pub fn mounts(w: &Workload) -> Vec<Mount> {
    let keys = |items: &Option<Vec<core::KeyToPath>>| {
        items
            .as_ref()
            .map(|l| l.iter().map(|k| k.key.clone()).collect())
    };
    let mut out = Vec::new();
    for (i, v) in w.pod_spec.volumes.iter().flatten().enumerate() {
        let mut mount = |kind, name: &str, items, path: String| {
            out.push(Mount {
                kind,
                name: name.to_string(),
                items,
                path,
                volume: v.name.clone(),
            });
        };
        if let Some(cm) = &v.config_map {
            let path = format!("volumes[{i}].configMap");
            mount(Kind::ConfigMap, &cm.name, keys(&cm.items), path);
        }
        if let Some(s) = &v.secret {
            if let Some(name) = &s.secret_name {
                mount(
                    Kind::Secret,
                    name,
                    keys(&s.items),
                    format!("volumes[{i}].secret"),
                );
            }
        }
        for (j, src) in v
            .projected
            .iter()
            .flat_map(|p| p.sources.iter().flatten())
            .enumerate()
        {
            let path = format!("volumes[{i}].projected.sources[{j}]");
            if let Some(cm) = &src.config_map {
                mount(
                    Kind::ConfigMap,
                    &cm.name,
                    keys(&cm.items),
                    format!("{path}.configMap"),
                );
            }
            if let Some(s) = &src.secret {
                mount(
                    Kind::Secret,
                    &s.name,
                    keys(&s.items),
                    format!("{path}.secret"),
                );
            }
        }
    }
    out
}

/// ConfigMaps and Secrets whose every key the pods see: `envFrom` and
/// volumes.
pub fn seen(w: &Workload) -> Vec<(Kind, String)> {
    let mut out: Vec<(Kind, String)> = Vec::new();
    for e in w
        .containers()
        .flat_map(|(_, c)| c.env_from.iter().flatten())
    {
        out.extend(
            e.config_map_ref
                .as_ref()
                .map(|r| (Kind::ConfigMap, r.name.clone())),
        );
        out.extend(
            e.secret_ref
                .as_ref()
                .map(|r| (Kind::Secret, r.name.clone())),
        );
    }
    out.extend(mounts(w).into_iter().map(|m| (m.kind, m.name)));
    out.sort();
    out.dedup();
    out
}

/// The ConfigMaps of [`seen`].
pub fn config_maps_seen(w: &Workload) -> Vec<String> {
    seen(w)
        .into_iter()
        .filter(|(kind, _)| *kind == Kind::ConfigMap)
        .map(|(_, name)| name)
        .collect()
}
