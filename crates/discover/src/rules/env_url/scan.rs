//! Finding host references in text: URLs, `host:port`, names qualified with
//! `.svc`, and bare host names where the text's context says it is a host
//! (a variable or flag named `..._HOST`, `..._URL`, ...). A word that merely
//! equals a Service name (`MODE=web`) is not a reference.

use crate::url::{is_host, scheme_port, split_host_port};

/// How a reference was written, which decides how sure its port is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Form {
    /// `scheme://host[:port]`.
    Url,
    /// `host:port`.
    HostPort,
    /// A bare name qualified with `.svc`: a Service name by construction.
    Qualified,
    /// A bare name in a host-like context (`DB_HOST=db`).
    Named,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reference {
    pub host: String,
    /// The port written, or the scheme's default port for a URL without one.
    pub port: Option<u16>,
    /// True when `port` is the scheme's default rather than written.
    pub default_port: bool,
    pub scheme: Option<String>,
    pub form: Form,
    /// The token as written.
    pub token: String,
    /// The line of the text it is on (0 for the first), and that line.
    pub line: (usize, String),
}

/// Whether a variable, flag or key name says its value is a host or an
/// address: `DB_HOST`, `REDIS_URL`, `--upstream`, `address`.
pub fn host_like_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    let words: Vec<&str> = upper
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    const WORDS: [&str; 15] = [
        "HOST",
        "HOSTNAME",
        "HOSTS",
        "ADDR",
        "ADDRESS",
        "URL",
        "URLS",
        "URI",
        "ENDPOINT",
        "ENDPOINTS",
        "SERVER",
        "SERVERS",
        "SERVICE",
        "UPSTREAM",
        "DSN",
    ];
    // `SERVICE_NAME`, `SERVER_PORT`, `SERVICE_ACCOUNT`: about a host, not one.
    const NOT: [&str; 12] = [
        "NAME", "ACCOUNT", "PORT", "KEY", "ID", "USER", "PASSWORD", "PATH", "MODE", "TYPE",
        "TOKEN", "SECRET",
    ];
    const STRONG: [&str; 8] = [
        "HOST", "HOSTNAME", "ADDR", "ADDRESS", "URL", "URLS", "URI", "ENDPOINT",
    ];
    if words.iter().any(|w| NOT.contains(w)) && !words.iter().any(|w| STRONG.contains(w)) {
        return false;
    }
    // `PGHOST`, `DBHOST`, `REDISURL`: the suffix glued to a prefix.
    words.iter().any(|w| {
        WORDS.contains(w)
            || ["HOST", "ADDR", "URL", "SERVER"]
                .iter()
                .any(|s| w.ends_with(s) && w.len() > s.len() + 1)
    })
}

/// Every reference in `text`; `context` is the name of what holds it (a
/// variable, a flag, a key), if any.
pub fn references(text: &str, context: Option<&str>) -> Vec<Reference> {
    let mut out = Vec::new();
    let multiline = text.contains('\n');
    for (n, line) in text.lines().enumerate() {
        // In a file (`key: value`, `KEY=value`), each line's key is the context.
        let (line_context, body) = match (multiline, key_value(line)) {
            (true, Some((k, v))) => (Some(k), v),
            _ => (context, line),
        };
        let before = out.len();
        for token in body.split(is_separator).filter(|t| !t.is_empty()) {
            scan_token(token, line_context, &mut out);
        }
        for r in &mut out[before..] {
            r.line = (n, line.trim().to_string());
        }
    }
    out
}

fn is_separator(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            ',' | ';' | '"' | '\'' | '(' | ')' | '<' | '>' | '`' | '{' | '}' | '|' | '\\'
        )
}

/// `key: value`, `KEY=value`, `- key: value`.
fn key_value(line: &str) -> Option<(&str, &str)> {
    let t = line.trim_start().trim_start_matches("- ").trim_start();
    let end = t.find([':', '='])?;
    let key = t[..end].trim().trim_start_matches("export ").trim();
    let ok = !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
    let value = t[end + 1..].trim();
    (ok && !value.starts_with("//")).then_some((key, value))
}

fn scan_token(token: &str, context: Option<&str>, out: &mut Vec<Reference>) {
    let token = token.trim_matches(|c: char| matches!(c, '.' | ':' | '[' | ']'));
    if token.is_empty() {
        return;
    }
    if let Some(i) = token.find("://") {
        let scheme = &token[..i];
        // `--url=http://x`: the scheme starts after the last non-scheme character.
        let start = scheme
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
            .map_or(0, |j| j + 1);
        let scheme = &scheme[start..];
        if scheme.is_empty() || !scheme.starts_with(|c: char| c.is_ascii_alphabetic()) {
            return;
        }
        let rest = &token[i + 3..];
        let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
        let authority = authority.rsplit('@').next().unwrap_or("");
        let Some((host, port)) = split_host_port(authority) else {
            return;
        };
        let (port, default_port) = match port {
            Some(p) => (Some(p), false),
            None => (scheme_port(scheme), true),
        };
        out.push(Reference {
            host,
            port,
            default_port: default_port && port.is_some(),
            scheme: Some(scheme.to_ascii_lowercase()),
            form: Form::Url,
            token: token[start..].to_string(),
            line: (0, String::new()),
        });
        return;
    }
    // `--flag=value`, `KEY=value`: the part before `=` is the context.
    if let Some((k, v)) = token.split_once('=') {
        let k = k.trim_start_matches('-');
        scan_token(v, Some(k), out);
        return;
    }
    // `host:port` (and `host:port/path`).
    let head = token.split('/').next().unwrap_or("");
    if let Some((h, p)) = head.rsplit_once(':') {
        if let (true, Ok(port)) = (is_host(h), p.parse::<u16>()) {
            if port > 0 && p.bytes().all(|b| b.is_ascii_digit()) {
                out.push(Reference {
                    host: h.to_ascii_lowercase(),
                    port: Some(port),
                    default_port: false,
                    scheme: None,
                    form: Form::HostPort,
                    token: token.to_string(),
                    line: (0, String::new()),
                });
            }
        }
        return;
    }
    if token.contains('/') || !is_host(token) {
        return;
    }
    let host = token.to_ascii_lowercase();
    let form = if host.ends_with(".svc") || host.contains(".svc.") {
        Form::Qualified
    } else if context.is_some_and(host_like_name) {
        Form::Named
    } else {
        return;
    };
    out.push(Reference {
        host,
        port: None,
        default_port: false,
        scheme: None,
        form,
        token: token.to_string(),
        line: (0, String::new()),
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts(text: &str, ctx: Option<&str>) -> Vec<(String, Option<u16>, Form)> {
        references(text, ctx)
            .into_iter()
            .map(|r| (r.host, r.port, r.form))
            .collect()
    }

    #[test]
    fn urls_with_and_without_ports() {
        assert_eq!(
            hosts("http://rkllama.rkllama.svc.cluster.local:8080/v1", None),
            [(
                "rkllama.rkllama.svc.cluster.local".into(),
                Some(8080),
                Form::Url
            )]
        );
        let r = &references("postgres://u:p@db/app?sslmode=disable", None)[0];
        assert_eq!(
            (r.host.as_str(), r.port, r.default_port),
            ("db", Some(5432), true)
        );
        assert_eq!(
            hosts("--oidc-issuer-url=https://auth.example.org/dex", None),
            [("auth.example.org".into(), Some(443), Form::Url)]
        );
    }

    #[test]
    fn bare_words_need_a_host_like_context() {
        assert!(hosts("web", Some("MODE")).is_empty());
        assert_eq!(
            hosts("db", Some("DB_HOST")),
            [("db".into(), None, Form::Named)]
        );
        assert_eq!(
            hosts("db", Some("PGHOST")),
            [("db".into(), None, Form::Named)]
        );
        assert_eq!(
            hosts("api.shop.svc", Some("MODE")),
            [("api.shop.svc".into(), None, Form::Qualified)]
        );
        assert_eq!(
            hosts("redis:6379", None),
            [("redis".into(), Some(6379), Form::HostPort)]
        );
        assert!(hosts("10m", Some("TIMEOUT")).is_empty());
    }

    #[test]
    fn files_use_each_line_key_as_context() {
        let text =
            "redis:\n  address: redis.blocky.svc.cluster.local:6379\n  host: cache\nmode: web\n";
        assert_eq!(
            hosts(text, Some("config.yml")),
            [
                (
                    "redis.blocky.svc.cluster.local".into(),
                    Some(6379),
                    Form::HostPort
                ),
                ("cache".into(), None, Form::Named),
            ]
        );
    }

    #[test]
    fn names_that_say_host() {
        for n in [
            "DB_HOST",
            "PGHOST",
            "REDIS_URL",
            "upstream",
            "METRICS_ADDR",
            "api-server",
        ] {
            assert!(host_like_name(n), "{n}");
        }
        for n in [
            "MODE",
            "PORT",
            "USER",
            "OTEL_SERVICE_NAME",
            "SERVER_PORT",
            "SERVICE_ACCOUNT",
        ] {
            assert!(!host_like_name(n), "{n}");
        }
    }
}
