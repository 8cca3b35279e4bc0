//! The meaning of the endpoint and port strings of a flow.

use std::fmt;

use ipnet::IpNet;
use netpol_model::{Labels, Protocol, label_key_error, label_value_error, port_name_error};

/// One end of a flow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EndpointSpec {
    /// `*`: every pod in every namespace.
    AllPods,
    /// `ns`: every pod in a namespace.
    Namespace(String),
    /// `ns/name`: the pods of one workload.
    Workload {
        namespace: String,
        name: String,
    },
    /// `ns:k=v,...` or `*:k=v,...` (namespace `None`).
    Labels {
        namespace: Option<String>,
        labels: Labels,
    },
    /// `external`: every address outside the cluster's pod and service ranges.
    External,
    /// A CIDR or a single address.
    Cidr(IpNet),
    KubeApiserver,
    Nodes,
    /// `ingress-backends` or `ingress-backends:CLASS`: the pods the
    /// Ingresses (and Gateway API routes, Traefik IngressRoutes) route to,
    /// of every class or of one, as the manifests say today.
    IngressBackends {
        class: Option<String>,
    },
}

/// The endpoint keyword for the backends of the Ingresses.
pub const INGRESS_BACKENDS: &str = "ingress-backends";

impl EndpointSpec {
    pub fn is_pods(&self) -> bool {
        matches!(
            self,
            EndpointSpec::AllPods
                | EndpointSpec::Namespace(_)
                | EndpointSpec::Workload { .. }
                | EndpointSpec::Labels { .. }
                | EndpointSpec::IngressBackends { .. }
        )
    }
}

impl fmt::Display for EndpointSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EndpointSpec::AllPods => f.write_str("*"),
            EndpointSpec::Namespace(ns) => f.write_str(ns),
            EndpointSpec::Workload { namespace, name } => write!(f, "{namespace}/{name}"),
            EndpointSpec::Labels { namespace, labels } => {
                let l: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
                write!(f, "{}:{}", namespace.as_deref().unwrap_or("*"), l.join(","))
            }
            EndpointSpec::External => f.write_str("external"),
            EndpointSpec::Cidr(c) => write!(f, "{c}"),
            EndpointSpec::KubeApiserver => f.write_str("kube-apiserver"),
            EndpointSpec::Nodes => f.write_str("nodes"),
            EndpointSpec::IngressBackends { class: None } => f.write_str(INGRESS_BACKENDS),
            EndpointSpec::IngressBackends { class: Some(c) } => {
                write!(f, "{INGRESS_BACKENDS}:{c}")
            }
        }
    }
}

pub fn parse_endpoint(text: &str) -> Result<EndpointSpec, String> {
    let t = text.trim();
    match t {
        "" => return Err("empty endpoint".into()),
        "*" => return Ok(EndpointSpec::AllPods),
        "external" => return Ok(EndpointSpec::External),
        "kube-apiserver" => return Ok(EndpointSpec::KubeApiserver),
        "nodes" => return Ok(EndpointSpec::Nodes),
        INGRESS_BACKENDS => return Ok(EndpointSpec::IngressBackends { class: None }),
        _ => {}
    }
    if let Some(class) = t.strip_prefix("ingress-backends:") {
        // A class name is an object name (IngressClass, GatewayClass), never a
        // label selector: `ingress-backends` is no namespace of its own here.
        return dns_subdomain(class)
            .map(|c| EndpointSpec::IngressBackends { class: Some(c) })
            .map_err(|_| format!("{class:?} is not a valid ingress class name"));
    }
    if let Ok(net) = t.parse::<IpNet>() {
        if net.trunc() != net {
            return Err(format!(
                "{t} has host bits set; did you mean {}?",
                net.trunc()
            ));
        }
        return Ok(EndpointSpec::Cidr(net));
    }
    if let Ok(ip) = t.parse::<std::net::IpAddr>() {
        return Ok(EndpointSpec::Cidr(IpNet::from(ip)));
    }
    if let Some((ns, sel)) = t.split_once(':') {
        let namespace = if ns == "*" {
            None
        } else {
            Some(dns_label(ns, "namespace")?)
        };
        let mut labels = Labels::new();
        for part in sel.split(',') {
            let Some((k, v)) = part.split_once('=') else {
                return Err(format!("label selector item {part:?} is not key=value"));
            };
            let (k, v) = (k.trim(), v.trim());
            if let Some(e) = label_key_error(k) {
                return Err(e);
            }
            if let Some(e) = label_value_error(v) {
                return Err(e);
            }
            if labels.insert(k.to_string(), v.to_string()).is_some() {
                return Err(format!("label key {k:?} given twice"));
            }
        }
        return Ok(EndpointSpec::Labels { namespace, labels });
    }
    if let Some((ns, name)) = t.split_once('/') {
        return Ok(EndpointSpec::Workload {
            namespace: dns_label(ns, "namespace")?,
            name: dns_subdomain(name)?,
        });
    }
    Ok(EndpointSpec::Namespace(dns_label(t, "namespace").map_err(|e| {
        format!("{e} (endpoints are `ns`, `ns/name`, `ns:k=v`, `*`, `*:k=v`, `external`, a CIDR, `nodes` or `kube-apiserver`)")
    })?))
}

fn dns_label(s: &str, what: &str) -> Result<String, String> {
    let ok = !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-');
    if ok {
        Ok(s.to_string())
    } else {
        Err(format!("{s:?} is not a valid {what} name"))
    }
}

fn dns_subdomain(s: &str) -> Result<String, String> {
    let ok = !s.is_empty() && s.len() <= 253 && s.split('.').all(|l| dns_label(l, "").is_ok());
    if ok {
        Ok(s.to_string())
    } else {
        Err(format!("{s:?} is not a valid workload name"))
    }
}

/// One item of a flow's `ports`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PortSpec {
    Number(u16, Protocol),
    Range(u16, u16, Protocol),
    Name(String, Protocol),
    /// The ports of the Services that select the destination.
    Service,
    /// Ports named like metrics, or `prometheus.io/port`.
    Metrics,
    /// Every port of every protocol.
    Any,
    /// With `to: ingress-backends`: the ports the routes send each backend
    /// pod traffic on (the Service port translated to the pod's port).
    Backend,
}

impl fmt::Display for PortSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let suffix = |p: &Protocol| match p {
            Protocol::Tcp => String::new(),
            other => format!("/{}", other.as_str().to_ascii_lowercase()),
        };
        match self {
            PortSpec::Number(n, p) => write!(f, "{n}{}", suffix(p)),
            PortSpec::Range(a, b, p) => write!(f, "{a}-{b}{}", suffix(p)),
            PortSpec::Name(n, p) => write!(f, "{n}{}", suffix(p)),
            PortSpec::Service => f.write_str("service"),
            PortSpec::Metrics => f.write_str("metrics"),
            PortSpec::Any => f.write_str("any"),
            PortSpec::Backend => f.write_str("backend"),
        }
    }
}

pub fn parse_port_number(n: u16) -> Result<PortSpec, String> {
    if n == 0 {
        return Err("port 0 is not between 1 and 65535".into());
    }
    Ok(PortSpec::Number(n, Protocol::Tcp))
}

pub fn parse_port_text(text: &str) -> Result<PortSpec, String> {
    let t = text.trim();
    match t {
        "service" => return Ok(PortSpec::Service),
        "metrics" => return Ok(PortSpec::Metrics),
        "any" => return Ok(PortSpec::Any),
        "backend" => return Ok(PortSpec::Backend),
        "" => return Err("empty port".into()),
        _ => {}
    }
    let (body, protocol) = match t.rsplit_once('/') {
        Some((b, p)) => (
            b,
            Protocol::parse_ignore_case(p)
                .ok_or_else(|| format!("unknown protocol {p:?}: use tcp, udp or sctp"))?,
        ),
        None => (t, Protocol::Tcp),
    };
    let number = |s: &str| -> Result<u16, String> {
        match s.parse::<u32>() {
            Ok(n) if (1..=65535).contains(&n) => Ok(n as u16),
            _ => Err(format!("port {s:?} is not between 1 and 65535")),
        }
    };
    if body.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(PortSpec::Number(number(body)?, protocol));
    }
    if let Some((a, b)) = body.split_once('-') {
        if a.bytes().all(|c| c.is_ascii_digit()) && !a.is_empty() {
            let (a, b) = (number(a)?, number(b)?);
            if a > b {
                return Err(format!("range {a}-{b} ends before it starts"));
            }
            return Ok(if a == b {
                PortSpec::Number(a, protocol)
            } else {
                PortSpec::Range(a, b, protocol)
            });
        }
    }
    if let Some(e) = port_name_error(body) {
        return Err(format!(
            "{body:?} is neither a port number, a range, a keyword (service, metrics, backend, any) nor a valid port name: {e}"
        ));
    }
    Ok(PortSpec::Name(body.to_string(), protocol))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints() {
        assert_eq!(parse_endpoint("*").unwrap(), EndpointSpec::AllPods);
        assert_eq!(
            parse_endpoint("monitoring").unwrap(),
            EndpointSpec::Namespace("monitoring".into())
        );
        assert_eq!(
            parse_endpoint("monitoring/prometheus").unwrap(),
            EndpointSpec::Workload {
                namespace: "monitoring".into(),
                name: "prometheus".into()
            }
        );
        let EndpointSpec::Labels { namespace, labels } = parse_endpoint("*:app=x,tier=y").unwrap()
        else {
            panic!()
        };
        assert_eq!(namespace, None);
        assert_eq!(labels.len(), 2);
        let EndpointSpec::Labels { namespace, .. } = parse_endpoint("web:app=x").unwrap() else {
            panic!()
        };
        assert_eq!(namespace.as_deref(), Some("web"));
        assert_eq!(
            parse_endpoint("10.0.0.0/8").unwrap(),
            EndpointSpec::Cidr("10.0.0.0/8".parse().unwrap())
        );
        assert_eq!(
            parse_endpoint("192.168.1.5").unwrap(),
            EndpointSpec::Cidr("192.168.1.5/32".parse().unwrap())
        );
        assert_eq!(
            parse_endpoint("fd00::/64").unwrap(),
            EndpointSpec::Cidr("fd00::/64".parse().unwrap())
        );
        assert!(
            parse_endpoint("10.0.0.1/8")
                .unwrap_err()
                .contains("host bits")
        );
        assert_eq!(
            parse_endpoint("ingress-backends").unwrap(),
            EndpointSpec::IngressBackends { class: None }
        );
        assert_eq!(
            parse_endpoint("ingress-backends:nginx").unwrap(),
            EndpointSpec::IngressBackends {
                class: Some("nginx".into())
            }
        );
        assert!(parse_endpoint("ingress-backends:Bad_Class").is_err());
        assert!(parse_endpoint("Bad_NS").is_err());
        assert!(parse_endpoint("ns:app").is_err());
        assert!(parse_endpoint("ns:app=x,app=y").is_err());
    }

    #[test]
    fn ports() {
        assert_eq!(
            parse_port_text("53/udp").unwrap(),
            PortSpec::Number(53, Protocol::Udp)
        );
        assert_eq!(
            parse_port_text("8000-8100").unwrap(),
            PortSpec::Range(8000, 8100, Protocol::Tcp)
        );
        assert_eq!(
            parse_port_text("http").unwrap(),
            PortSpec::Name("http".into(), Protocol::Tcp)
        );
        assert_eq!(
            parse_port_text("sig/SCTP").unwrap(),
            PortSpec::Name("sig".into(), Protocol::Sctp)
        );
        assert_eq!(parse_port_text("service").unwrap(), PortSpec::Service);
        assert_eq!(parse_port_text("backend").unwrap(), PortSpec::Backend);
        assert!(parse_port_text("70000").is_err());
        assert!(parse_port_text("0").is_err());
        assert!(parse_port_text("90-80").is_err());
        assert!(parse_port_text("80/icmp").is_err());
        assert!(parse_port_text("way-too-long-port-name").is_err());
    }
}
