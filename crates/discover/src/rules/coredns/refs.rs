//! Which workloads name a host, and on which port: a scan of the places a
//! client writes where it connects (env values, args, command, and the
//! ConfigMaps and Secrets its pods take env from or mount), found through the same
//! `Workload::containers` and `crate::sources` as rule env-url. It differs
//! from env-url in what it looks for: one known host, wherever it stands
//! in the text (links for people excepted), rather than host-like tokens.

use netpol_model::Manifest;

use crate::sources::{Kind, Source, lookup, seen};
use crate::url::scheme_port;
use crate::{Context, Evidence};

pub struct Reference {
    pub workload: String,
    /// From the URL: explicit, or the scheme's default; `None` when neither.
    pub port: Option<u16>,
    pub evidence: Evidence,
}

fn is_host_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '.'
}

/// The ports `host` is used with in `text` (one entry per occurrence).
pub fn occurrences(text: &str, host: &str) -> Vec<Option<u16>> {
    let lower = text.to_ascii_lowercase();
    let mut out = Vec::new();
    for (i, _) in lower.match_indices(host) {
        let before = lower[..i].chars().next_back();
        let after = lower[i + host.len()..].chars().next();
        if before.is_some_and(is_host_char) || after.is_some_and(|c| is_host_char(c) && c != '.') {
            continue;
        }
        if after == Some('.')
            && lower[i + host.len() + 1..].starts_with(|c: char| c.is_ascii_alphanumeric())
        {
            continue;
        }
        let rest = &lower[i + host.len()..];
        let port = rest
            .strip_prefix(':')
            .map(|r| {
                r.chars()
                    .take_while(char::is_ascii_digit)
                    .collect::<String>()
            })
            .and_then(|p| p.parse::<u16>().ok());
        if is_link(&lower[..i]) {
            continue;
        }
        let scheme = lower[..i].strip_suffix("://").map(|s| {
            s.rsplit(|c: char| !c.is_ascii_alphanumeric() && c != '+')
                .next()
                .unwrap_or("")
                .to_string()
        });
        out.push(port.or_else(|| scheme.as_deref().and_then(scheme_port)));
    }
    out
}

/// Whether the text before a host makes it a link for people, not a place
/// the program connects to: a markdown link target `](https://host`, an
/// `href`.
fn is_link(before: &str) -> bool {
    let start = before
        .strip_suffix("://")
        .map(|s| s.trim_end_matches(|c: char| c.is_ascii_alphanumeric() || c == '+'))
        .unwrap_or(before);
    start.ends_with("](")
        || start
            .trim_end_matches([' ', '"', '\'', ':', '='])
            .ends_with("href")
}

/// Every place a workload names `host`.
pub fn references(ctx: &Context, host: &str) -> Vec<Reference> {
    let mut out = Vec::new();
    for w in &ctx.workloads {
        // The ConfigMap and Secret values the pods read: (object, field, text).
        let mut pending: Vec<(&Manifest, String, String)> = Vec::new();
        let mut read = |kind, name: &str, key: Option<&str>| {
            if let Source::Found { manifest, entries } = lookup(ctx, kind, &w.namespace, name) {
                for (k, entry) in entries {
                    if key.is_none_or(|key| key == k) {
                        pending.push((manifest, entry.field, entry.value));
                    }
                }
            }
        };
        for (_, c) in w.containers() {
            for e in c.env.iter().flatten() {
                let Some(from) = &e.value_from else { continue };
                if let Some(r) = &from.config_map_key_ref {
                    read(Kind::ConfigMap, &r.name, Some(&r.key));
                }
                if let Some(r) = &from.secret_key_ref {
                    read(Kind::Secret, &r.name, Some(&r.key));
                }
            }
        }
        for (kind, name) in seen(w) {
            read(kind, &name, None);
        }
        let mut push = |manifest: &Manifest, field: String, text: &str| {
            for port in occurrences(text, host) {
                out.push(Reference {
                    workload: w.id.clone(),
                    port,
                    evidence: Evidence::at(manifest, &field, text),
                });
            }
        };
        for (path, c) in w.containers() {
            for (list, items) in [("command", &c.command), ("args", &c.args)] {
                for (ai, a) in items.iter().flatten().enumerate() {
                    push(w.manifest, w.field(&format!("{path}.{list}[{ai}]")), a);
                }
            }
            for (ei, e) in c.env.iter().flatten().enumerate() {
                if let Some(v) = &e.value {
                    push(w.manifest, w.field(&format!("{path}.env[{ei}].value")), v);
                }
            }
        }
        // A ConfigMap or Secret value line by line: each line that names the
        // host is its own evidence, at its own line.
        for (m, field, value) in pending {
            for (n, line) in value.lines().enumerate() {
                for port in occurrences(line, host) {
                    let mut evidence = Evidence::at(m, &field, line.trim());
                    evidence.line = super::value_line(m, &field, n + 1);
                    out.push(Reference {
                        workload: w.id.clone(),
                        port,
                        evidence,
                    });
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_occurrences_with_ports() {
        let h = "auth.example.com";
        assert_eq!(
            occurrences("https://auth.example.com/realms/x", h),
            [Some(443)]
        );
        assert_eq!(
            occurrences("--issuer=http://auth.example.com:8080/", h),
            [Some(8080)]
        );
        assert_eq!(occurrences("auth.example.com", h), [None]);
        // Default ports as every rule reads them (crate::url): LDAP over TLS.
        assert_eq!(occurrences("ldaps://auth.example.com", h), [Some(636)]);
        // Other hosts that merely contain it, and sentences ending with it.
        assert!(occurrences("https://myauth.example.com", h).is_empty());
        assert!(occurrences("https://auth.example.com.evil.org", h).is_empty());
        assert_eq!(occurrences("see auth.example.com.", h), [None]);
        // Links for people: a markdown link, an href.
        assert!(occurrences("[Auth](https://auth.example.com)", h).is_empty());
        assert!(occurrences("href: https://auth.example.com", h).is_empty());
        assert_eq!(occurrences("url: https://auth.example.com", h), [Some(443)]);
    }
}
