//! Where a client connects, read from text as written in a manifest
//! (`http://svc.ns/path`, `svc.ns:8080`, `postgres://u:p@db/app`), without
//! a URL library: the values are short, often templated, and the rules only
//! need the host and port. Every rule reads hosts and ports here, so that a
//! URL means the same place to each of them.

/// Where a client connects: the host (lowercase, no trailing dot) and the
/// port (the scheme's default when the URL names none; `None` when neither
/// says).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub host: String,
    pub port: Option<u16>,
    pub scheme: Option<String>,
}

/// `[scheme://][user@]host[:port][/path]`; `None` when the host is not one
/// (a template placeholder, a port that is no number).
pub fn parse(text: &str) -> Option<Target> {
    let text = text.trim();
    let (scheme, rest) = match text.split_once("://") {
        Some((s, r)) => (Some(s.to_ascii_lowercase()), r),
        None => (None, text),
    };
    let authority = rest.split(['/', '?', '#']).next()?;
    let authority = authority.rsplit('@').next()?;
    let (host, port) = split_host_port(authority)?;
    let host = host.trim_end_matches('.').to_string();
    if host.is_empty() {
        return None;
    }
    let port = port.or_else(|| scheme.as_deref().and_then(scheme_port));
    Some(Target { host, port, scheme })
}

/// Well-known default ports of URL schemes (clients connect there when the
/// URL names no port).
pub fn scheme_port(scheme: &str) -> Option<u16> {
    Some(match scheme.to_ascii_lowercase().as_str() {
        "http" | "ws" => 80,
        "https" | "wss" | "grpcs" => 443,
        "postgres" | "postgresql" => 5432,
        "mysql" | "mariadb" => 3306,
        "redis" => 6379,
        "rediss" => 6380,
        "mongodb" => 27017,
        "amqp" => 5672,
        "amqps" => 5671,
        "nats" => 4222,
        "mqtt" | "tcp+mqtt" => 1883,
        "mqtts" => 8883,
        "ldap" => 389,
        "ldaps" => 636,
        "smtp" => 25,
        "ftp" => 21,
        "ssh" | "git+ssh" => 22,
        "memcached" => 11211,
        "kafka" => 9092,
        "clickhouse" => 9000,
        "influxdb" => 8086,
        _ => return None,
    })
}

/// `host[:port]`, with IPv6 literals in brackets.
pub fn split_host_port(authority: &str) -> Option<(String, Option<u16>)> {
    if let Some(rest) = authority.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p.parse().ok()?),
            None => None,
        };
        return Some((host.to_ascii_lowercase(), port));
    }
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) => (h, Some(p.parse::<u16>().ok()?)),
        None => (authority, None),
    };
    is_host(host).then(|| (host.to_ascii_lowercase(), port))
}

/// A DNS name or an IPv4 address: labels of letters, digits and '-',
/// with at least one letter somewhere unless it is an address.
pub fn is_host(s: &str) -> bool {
    if s.parse::<std::net::Ipv4Addr>().is_ok() {
        return true;
    }
    let s = s.trim_end_matches('.');
    !s.is_empty()
        && s.len() <= 253
        && s.bytes().any(|b| b.is_ascii_alphabetic())
        && s.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        })
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
        assert_eq!(parse("svc.ns.:9090").unwrap().host, "svc.ns");
        let t = parse("http://[fd00::1]:9100/metrics").unwrap();
        assert_eq!((t.host.as_str(), t.port), ("fd00::1", Some(9100)));
        assert_eq!(parse("postgres://db/app").unwrap().port, Some(5432));
        assert_eq!(parse("http://$host/x"), None);
        assert_eq!(parse("http://svc:notaport/"), None);
    }
}
