//! The API server's syntax rules for object names and namespaces, label keys
//! and values, port names and selectors.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1 as meta;

use super::ctx::{Ctx, idx, key};
use crate::types::{LabelSelector, Operator, Requirement};

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')
}

/// A label value: at most 63 characters, empty or alphanumeric at both ends.
pub fn label_value_error(v: &str) -> Option<String> {
    if v.is_empty() {
        return None;
    }
    if v.len() > 63 {
        return Some(format!("label value {v:?} is longer than 63 characters"));
    }
    let ends_ok = v.starts_with(|c: char| c.is_ascii_alphanumeric())
        && v.ends_with(|c: char| c.is_ascii_alphanumeric());
    if !ends_ok || !v.chars().all(is_name_char) {
        return Some(format!(
            "label value {v:?} must consist of alphanumeric characters, '-', '_' or '.', and start and end with an alphanumeric character"
        ));
    }
    None
}

/// `[a-z0-9]([-a-z0-9]*[a-z0-9])?`, any length.
fn is_label_syntax(part: &str) -> bool {
    !part.is_empty()
        && part
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !part.starts_with('-')
        && !part.ends_with('-')
}

fn is_dns_subdomain(s: &str) -> bool {
    s.len() <= 253 && s.split('.').all(is_label_syntax)
}

/// A lowercase RFC 1123 label: Namespace names, StatefulSet names and the
/// namespace of every object.
pub fn dns_label_error(s: &str) -> Option<String> {
    if s.len() > 63 {
        return Some(format!(
            "invalid value {s:?}: must be no more than 63 characters"
        ));
    }
    (!is_label_syntax(s)).then(|| {
        format!(
            "invalid value {s:?}: a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name', or '123-abc')"
        )
    })
}

/// A lowercase RFC 1123 subdomain: the names of most objects.
pub fn dns_subdomain_error(s: &str) -> Option<String> {
    if s.len() > 253 {
        return Some(format!(
            "invalid value {s:?}: must be no more than 253 characters"
        ));
    }
    (!is_dns_subdomain(s)).then(|| {
        format!(
            "invalid value {s:?}: a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com')"
        )
    })
}

/// An RFC 1035 label (a letter first): Service names.
pub fn dns1035_label_error(s: &str) -> Option<String> {
    if s.len() > 63 {
        return Some(format!(
            "invalid value {s:?}: must be no more than 63 characters"
        ));
    }
    (!is_label_syntax(s) || !s.starts_with(|c: char| c.is_ascii_lowercase())).then(|| {
        format!(
            "invalid value {s:?}: a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name', or 'abc-123')"
        )
    })
}

/// A namespace name (also what `-n` accepts).
pub fn namespace_name_error(s: &str) -> Option<String> {
    dns_label_error(s)
}

/// The API server's name rule for `kind` (`ValidateObjectMeta` with the
/// kind's name validator).
pub fn object_name_error(kind: &str, name: &str) -> Option<String> {
    match kind {
        "Namespace" | "StatefulSet" => dns_label_error(name),
        "Service" => dns1035_label_error(name),
        // The Jobs it creates get `-<timestamp>` (11 characters) appended and
        // must stay within 63.
        "CronJob" if name.len() > 52 => Some(format!(
            "invalid value {name:?}: must be no more than 52 characters"
        )),
        _ => dns_subdomain_error(name),
    }
}

/// Checks `metadata.name` and, for namespaced kinds, `metadata.namespace`.
pub(crate) fn object_meta(ctx: &mut Ctx, kind: &str, name: &str, namespace: Option<&str>) {
    if !name.is_empty() {
        if let Some(e) = object_name_error(kind, name) {
            ctx.error("metadata.name", e);
        }
    }
    if let Some(ns) = namespace.filter(|_| kind != "Namespace") {
        if let Some(e) = namespace_name_error(ns) {
            ctx.error("metadata.namespace", e);
        }
    }
}

/// A qualified label key: `[prefix/]name`.
pub fn label_key_error(k: &str) -> Option<String> {
    let (prefix, name) = match k.split_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, k),
    };
    if let Some(p) = prefix {
        if !is_dns_subdomain(p) {
            return Some(format!("label key {k:?}: prefix must be a DNS subdomain"));
        }
    }
    let ok = !name.is_empty()
        && name.len() <= 63
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric())
        && name.chars().all(is_name_char);
    (!ok).then(|| {
        format!(
            "label key {k:?} must be a qualified name: at most 63 alphanumeric characters, '-', '_' or '.', starting and ending with an alphanumeric character, with an optional DNS subdomain prefix and '/'"
        )
    })
}

/// An IANA service name as used for named ports.
pub fn port_name_error(name: &str) -> Option<String> {
    let ok = !name.is_empty()
        && name.len() <= 15
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && name.chars().any(|c| c.is_ascii_lowercase())
        && !name.starts_with('-')
        && !name.ends_with('-')
        && !name.contains("--");
    (!ok).then(|| {
        format!(
            "port name {name:?} must be at most 15 lowercase letters, digits and '-', with at least one letter, no leading, trailing or double '-'"
        )
    })
}

pub(crate) fn labels(
    ctx: &mut Ctx,
    path: &str,
    labels: Option<&BTreeMap<String, String>>,
) -> BTreeMap<String, String> {
    checked_labels(ctx, path, labels.cloned())
}

/// [`labels`], taking them.
pub(crate) fn checked_labels(
    ctx: &mut Ctx,
    path: &str,
    labels: Option<BTreeMap<String, String>>,
) -> BTreeMap<String, String> {
    let labels = labels.unwrap_or_default();
    for (k, v) in &labels {
        // The path is formatted only for a label that has a problem.
        for e in [label_key_error(k), label_value_error(v)]
            .into_iter()
            .flatten()
        {
            ctx.error(&key(path, k), e);
        }
    }
    labels
}

pub(crate) fn selector(ctx: &mut Ctx, path: &str, sel: &meta::LabelSelector) -> LabelSelector {
    let match_labels = labels(ctx, &key(path, "matchLabels"), sel.match_labels.as_ref());
    let mut match_expressions = Vec::new();
    for (i, req) in sel.match_expressions.iter().flatten().enumerate() {
        let p = idx(&key(path, "matchExpressions"), i);
        if let Some(e) = label_key_error(&req.key) {
            ctx.error(&key(&p, "key"), e);
        }
        let values = req.values.clone().unwrap_or_default();
        for (j, v) in values.iter().enumerate() {
            if let Some(e) = label_value_error(v) {
                ctx.error(&idx(&key(&p, "values"), j), e);
            }
        }
        let Some(op) = Operator::parse(&req.operator) else {
            ctx.error(
                &key(&p, "operator"),
                format!(
                    "unsupported operator {:?}: supported values: \"In\", \"NotIn\", \"Exists\", \"DoesNotExist\"",
                    req.operator
                ),
            );
            continue;
        };
        match op {
            Operator::In | Operator::NotIn if values.is_empty() => ctx.error(
                &key(&p, "values"),
                format!("must be specified when `operator` is '{}'", req.operator),
            ),
            Operator::Exists | Operator::DoesNotExist if !values.is_empty() => ctx.error(
                &key(&p, "values"),
                format!("may not be specified when `operator` is '{}'", req.operator),
            ),
            _ => {}
        }
        match_expressions.push(Requirement {
            key: req.key.clone(),
            operator: op,
            values,
        });
    }
    LabelSelector {
        match_labels,
        match_expressions,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_syntax() {
        assert!(label_key_error("app.kubernetes.io/name").is_none());
        assert!(label_key_error("team").is_none());
        assert!(label_key_error("-bad").is_some());
        assert!(label_key_error("Bad_Prefix/x").is_some());
        assert!(label_value_error("").is_none());
        assert!(label_value_error("v1.2_x").is_none());
        assert!(label_value_error("a b").is_some());
        assert!(label_value_error(&"x".repeat(64)).is_some());
    }

    #[test]
    fn port_name_syntax() {
        assert!(port_name_error("http-metrics").is_none());
        assert!(port_name_error("8080").is_some());
        assert!(port_name_error("a--b").is_some());
        assert!(port_name_error("averyveryverylongname").is_some());
        assert!(port_name_error("HTTP").is_some());
    }
}
