//! Narrowing a matrix to the part a question is about: `--from`, `--to`,
//! `--namespace-filter`/`-A`, `--port`, `--only`. One set of flags for every
//! command that shows many connections.

use std::net::IpAddr;

use clap::ValueEnum;
use ipnet::IpNet;
use netpol_model::{Cluster, Labels, Protocol};

use crate::exit::Failure;
use crate::external::External;
use crate::grid::{Narrow, Node, all_nodes};

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum Only {
    Allowed,
    Denied,
}

#[derive(clap::Args, Debug, Clone, Default)]
pub struct Focus {
    /// Only connections from SEL: a namespace, `namespace/name` (a pod or a
    /// workload), a label selector (`app=web,tier!=db`, `app in (a,b)`), a
    /// CIDR or address, or `external` (every external peer)
    #[arg(long = "from", value_name = "SEL", help_heading = "Focus")]
    pub from: Option<String>,

    /// Only connections to SEL (as --from)
    #[arg(long = "to", value_name = "SEL", help_heading = "Focus")]
    pub to: Option<String>,

    /// Only endpoints in namespace NS (repeatable); external peers stay
    #[arg(
        long = "namespace-filter",
        value_name = "NS",
        help_heading = "Focus",
        conflicts_with = "all_namespaces"
    )]
    pub namespaces: Vec<String>,

    /// Every namespace (the default; as kubectl's -A)
    #[arg(short = 'A', long = "all-namespaces", help_heading = "Focus")]
    pub all_namespaces: bool,

    /// Only this destination port (`443`, `53/udp`)
    #[arg(long = "port", value_name = "PORT[/PROTO]", help_heading = "Focus")]
    pub port: Option<String>,

    /// Only allowed, or only denied, connections
    #[arg(long = "only", value_enum, help_heading = "Focus")]
    pub only: Option<Only>,
}

impl Focus {
    /// The rows, columns and filters the flags ask for; an error when a
    /// selector matches nothing or does not parse.
    pub fn narrow(&self, cluster: &Cluster, externals: &[External]) -> Result<Narrow, Failure> {
        let in_namespaces = |n: &Node| match n {
            Node::Endpoint(i) => {
                self.namespaces.is_empty()
                    || self.namespaces.contains(&cluster.endpoints[*i].namespace)
            }
            Node::External(_) => true,
        };
        let nodes: Vec<Node> = all_nodes(cluster, externals)
            .into_iter()
            .filter(in_namespaces)
            .collect();
        let pick = |flag: &str, sel: &Option<String>| -> Result<Option<Vec<Node>>, Failure> {
            let Some(text) = sel else {
                return Ok(if self.namespaces.is_empty() {
                    None
                } else {
                    Some(nodes.clone())
                });
            };
            let selector = Selector::parse(text)
                .map_err(|e| Failure::Usage(format!("{flag} {text:?}: {e}")))?;
            let kept: Vec<Node> = nodes
                .iter()
                .copied()
                .filter(|n| selector.matches(cluster, externals, *n))
                .collect();
            if kept.is_empty() {
                return Err(Failure::Usage(format!(
                    "{flag} {text:?} matches no endpoint and no external peer{}",
                    if self.namespaces.is_empty() {
                        String::new()
                    } else {
                        format!(" in namespaces {}", self.namespaces.join(", "))
                    }
                )));
            }
            Ok(Some(kept))
        };
        Ok(Narrow {
            rows: pick("--from", &self.from)?,
            cols: pick("--to", &self.to)?,
            port: self.port.as_deref().map(parse_port).transpose()?,
            only: self.only.map(|o| o == Only::Allowed),
        })
    }
}

fn parse_port(text: &str) -> Result<(u16, Option<Protocol>), Failure> {
    let (port, proto) = match text.split_once('/') {
        Some((p, proto)) => (p, Some(proto)),
        None => (text, None),
    };
    let bad = || {
        Failure::Usage(format!(
            "--port {text:?}: expected a port number 1-65535, optionally /tcp, /udp or /sctp"
        ))
    };
    let port: u16 = port.parse().ok().filter(|p| *p > 0).ok_or_else(bad)?;
    let proto = proto
        .map(|p| Protocol::parse_ignore_case(p).ok_or_else(bad))
        .transpose()?;
    Ok((port, proto))
}

/// What `--from`/`--to` select.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Selector {
    Net(IpNet),
    Labels(Vec<Requirement>),
    /// `namespace/name`: a pod, a workload, or an external peer's label.
    Name(String),
    Namespace(String),
    External,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Requirement {
    Equals(String, String),
    NotEquals(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    NotExists(String),
}

impl Requirement {
    fn matches(&self, labels: &Labels) -> bool {
        match self {
            Requirement::Equals(k, v) => labels.get(k) == Some(v),
            Requirement::NotEquals(k, v) => labels.get(k) != Some(v),
            Requirement::In(k, vs) => labels.get(k).is_some_and(|v| vs.contains(v)),
            Requirement::NotIn(k, vs) => labels.get(k).is_none_or(|v| !vs.contains(v)),
            Requirement::Exists(k) => labels.contains_key(k),
            Requirement::NotExists(k) => !labels.contains_key(k),
        }
    }
}

impl Selector {
    pub fn parse(text: &str) -> Result<Selector, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("empty selector".into());
        }
        if let Ok(net) = text.parse::<IpNet>() {
            return Ok(Selector::Net(net));
        }
        if let Ok(ip) = text.parse::<IpAddr>() {
            return Ok(Selector::Net(IpNet::from(ip)));
        }
        if text == "external" {
            return Ok(Selector::External);
        }
        if text.starts_with("external:") {
            return Ok(Selector::Name(text.to_string()));
        }
        let looks_like_labels = text.contains('=')
            || text.starts_with('!')
            || text.contains(" in ")
            || text.contains(" notin ")
            || text.contains(',');
        if looks_like_labels {
            return parse_labels(text).map(Selector::Labels);
        }
        if text.contains('/') {
            return Ok(Selector::Name(text.to_string()));
        }
        Ok(Selector::Namespace(text.to_string()))
    }

    pub fn matches(&self, cluster: &Cluster, externals: &[External], node: Node) -> bool {
        match (self, node) {
            (Selector::Net(net), Node::Endpoint(i)) => {
                cluster.endpoints[i].ips.iter().any(|ip| net.contains(ip))
            }
            (Selector::Net(net), Node::External(x)) => {
                let e = &externals[x];
                net.contains(&e.address) || e.net.is_some_and(|n| net.contains(&n))
            }
            (Selector::Labels(reqs), Node::Endpoint(i)) => {
                let labels = &cluster.endpoints[i].labels;
                reqs.iter().all(|r| r.matches(labels))
            }
            (Selector::Name(name), Node::Endpoint(i)) => {
                cluster.endpoints[i].id() == *name || cluster.workload(i) == *name
            }
            (Selector::Name(name), Node::External(x)) => externals[x].label == *name,
            (Selector::Namespace(ns), Node::Endpoint(i)) => cluster.endpoints[i].namespace == *ns,
            (Selector::External, Node::External(_)) => true,
            _ => false,
        }
    }
}

/// `app=web,tier!=db,!legacy,env in (prod,staging)`: kubectl's `-l` syntax.
fn parse_labels(text: &str) -> Result<Vec<Requirement>, String> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0i32, 0);
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
        .into_iter()
        .map(|p| parse_requirement(p.trim()))
        .collect()
}

fn parse_requirement(p: &str) -> Result<Requirement, String> {
    let key = |k: &str| -> Result<String, String> {
        let k = k.trim();
        if k.is_empty() || k.contains(char::is_whitespace) {
            Err(format!("bad label key in {p:?}"))
        } else {
            Ok(k.to_string())
        }
    };
    let set = |s: &str| -> Result<Vec<String>, String> {
        let inner = s
            .trim()
            .strip_prefix('(')
            .and_then(|s| s.strip_suffix(')'))
            .ok_or_else(|| format!("expected (a,b) in {p:?}"))?;
        Ok(inner.split(',').map(|v| v.trim().to_string()).collect())
    };
    if let Some((k, v)) = p.split_once("!=") {
        return Ok(Requirement::NotEquals(key(k)?, v.trim().to_string()));
    }
    if let Some((k, v)) = p.split_once("==").or_else(|| p.split_once('=')) {
        return Ok(Requirement::Equals(key(k)?, v.trim().to_string()));
    }
    if let Some((k, s)) = p.split_once(" notin ") {
        return Ok(Requirement::NotIn(key(k)?, set(s)?));
    }
    if let Some((k, s)) = p.split_once(" in ") {
        return Ok(Requirement::In(key(k)?, set(s)?));
    }
    if let Some(k) = p.strip_prefix('!') {
        return Ok(Requirement::NotExists(key(k)?));
    }
    Ok(Requirement::Exists(key(p)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn selectors_parse_as_kubectl_reads_them() {
        assert_eq!(
            Selector::parse("10.0.0.0/8"),
            Ok(Selector::Net("10.0.0.0/8".parse().unwrap()))
        );
        assert_eq!(
            Selector::parse("10.0.0.1"),
            Ok(Selector::Net("10.0.0.1/32".parse().unwrap()))
        );
        assert_eq!(
            Selector::parse("shop"),
            Ok(Selector::Namespace("shop".into()))
        );
        assert_eq!(
            Selector::parse("shop/web"),
            Ok(Selector::Name("shop/web".into()))
        );
        assert_eq!(Selector::parse("external"), Ok(Selector::External));
        assert_eq!(
            Selector::parse("external:10.0.0.0/8"),
            Ok(Selector::Name("external:10.0.0.0/8".into()))
        );
        let Ok(Selector::Labels(reqs)) =
            Selector::parse("app=web,tier!=db,!legacy,env in (prod, staging)")
        else {
            panic!("labels")
        };
        assert_eq!(reqs.len(), 4);
        let yes = labels(&[("app", "web"), ("env", "prod")]);
        let no = labels(&[("app", "web"), ("env", "dev")]);
        assert!(reqs.iter().all(|r| r.matches(&yes)));
        assert!(!reqs.iter().all(|r| r.matches(&no)));
        assert!(Selector::parse("a in b").is_err());
    }

    #[test]
    fn ports_parse_with_an_optional_protocol() {
        assert_eq!(parse_port("53/udp").ok(), Some((53, Some(Protocol::Udp))));
        assert_eq!(parse_port("443").ok(), Some((443, None)));
        assert!(parse_port("0").is_err());
        assert!(parse_port("http").is_err());
        assert!(parse_port("53/icmp").is_err());
    }
}
