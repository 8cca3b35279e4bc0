//! ConfigMaps and Secrets as a pod sees them: their keys and values, with
//! the field each value sits in; encrypted Secrets (SealedSecret, SOPS,
//! ExternalSecret) are recognized so that they are reported, never guessed.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1 as core;
use netpol_model::Manifest;
use serde_json::Value;

use crate::Context;

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

#[derive(Clone, Copy, PartialEq, Eq)]
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
