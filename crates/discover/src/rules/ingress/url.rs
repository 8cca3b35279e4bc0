//! The host and port of a URL as written in a manifest (`http://svc.ns/path`,
//! `svc.ns:8080`, `https://auth.example.com`), without a URL library: the
//! values are short and the rules only need where a client connects.

/// Where a client connects: host (lowercase) and port (the scheme's default
/// when the URL names none; `None` when neither says).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub host: String,
    pub port: Option<u16>,
    pub scheme: Option<String>,
}

pub fn parse(text: &str) -> Option<Target> {
    let text = text.trim();
    let (scheme, rest) = match text.split_once("://") {
        Some((s, r)) => (Some(s.to_ascii_lowercase()), r),
        None => (None, text),
    };
    let authority = rest.split(['/', '?', '#']).next()?;
    let authority = authority.rsplit('@').next()?;
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !h.contains(']') || h.ends_with(']') => (h, Some(p.parse::<u16>().ok()?)),
        _ => (authority, None),
    };
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    if host.is_empty()
        || !host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '[' | ']' | ':'))
    {
        return None;
    }
    let port = port.or(match scheme.as_deref() {
        Some("http" | "ws") => Some(80),
        Some("https" | "wss") => Some(443),
        _ => None,
    });
    Some(Target { host, port, scheme })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_and_ports() {
        let t = parse("http://oauth2-proxy.oauth2-proxy.svc.cluster.local/oauth2/auth").unwrap();
        assert_eq!(
            (t.host.as_str(), t.port),
            ("oauth2-proxy.oauth2-proxy.svc.cluster.local", Some(80))
        );
        let t = parse("https://Auth.Example.com/.well-known/openid-configuration").unwrap();
        assert_eq!((t.host.as_str(), t.port), ("auth.example.com", Some(443)));
        let t = parse("http://user:pw@svc:8080?x=1").unwrap();
        assert_eq!((t.host.as_str(), t.port), ("svc", Some(8080)));
        assert_eq!(parse("svc.ns").unwrap().port, None);
        assert_eq!(parse("http://$host/x"), None);
        assert_eq!(parse("http://svc:notaport/"), None);
    }
}
