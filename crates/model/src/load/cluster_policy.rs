//! ClusterNetworkPolicy (policy.networking.k8s.io/v1alpha2): conversion plus
//! the CRD's validation (OpenAPI limits and CEL rules), so that a policy the
//! API server would reject never reaches the engine.

use ipnet::IpNet;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector as K8sSelector, ObjectMeta};
use serde::Deserialize;
use serde_json::Value;

use super::ctx::{Ctx, idx, key};
use super::names;
use crate::tiers::{Action, ClusterPolicy, Tier, TierPeer, TierPort, TierRule, TierSubject};
use crate::types::{Direction, Protocol};

/// The CRD's `MaxItems` for rules, peers, protocols, networks and domain names.
pub(crate) const MAX_ITEMS: usize = 25;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Raw {
    #[allow(dead_code)]
    api_version: Option<String>,
    #[allow(dead_code)]
    kind: Option<String>,
    #[serde(default)]
    metadata: ObjectMeta,
    spec: Option<RawSpec>,
    #[allow(dead_code)]
    status: Option<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawSpec {
    tier: Option<String>,
    priority: Option<i64>,
    subject: Option<RawSubject>,
    ingress: Option<Vec<RawIngressRule>>,
    egress: Option<Vec<RawEgressRule>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RawSubject {
    namespaces: Option<K8sSelector>,
    pods: Option<RawNamespacedPod>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RawNamespacedPod {
    namespace_selector: Option<K8sSelector>,
    pod_selector: Option<K8sSelector>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawIngressRule {
    name: Option<String>,
    action: Option<String>,
    from: Option<Vec<RawIngressPeer>>,
    protocols: Option<Vec<RawProtocol>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawEgressRule {
    name: Option<String>,
    action: Option<String>,
    to: Option<Vec<RawEgressPeer>>,
    protocols: Option<Vec<RawProtocol>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RawIngressPeer {
    namespaces: Option<K8sSelector>,
    pods: Option<RawNamespacedPod>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RawEgressPeer {
    namespaces: Option<K8sSelector>,
    pods: Option<RawNamespacedPod>,
    nodes: Option<K8sSelector>,
    networks: Option<Vec<String>>,
    domain_names: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawProtocol {
    tcp: Option<RawProtocolPort>,
    udp: Option<RawProtocolPort>,
    sctp: Option<RawProtocolPort>,
    destination_named_port: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawProtocolPort {
    destination_port: Option<RawPort>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawPort {
    number: Option<i64>,
    range: Option<RawRange>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawRange {
    start: Option<i64>,
    end: Option<i64>,
}

/// A peer as either direction writes it; ingress peers have only the first two.
pub(crate) struct PeerFields<'a> {
    pub namespaces: Option<&'a K8sSelector>,
    pub pods: Option<&'a RawNamespacedPod>,
    pub nodes: Option<&'a K8sSelector>,
    pub networks: Option<&'a [String]>,
    pub domain_names: Option<&'a [String]>,
}

pub(crate) trait AsPeer {
    fn fields(&self) -> PeerFields<'_>;
}

impl AsPeer for RawIngressPeer {
    fn fields(&self) -> PeerFields<'_> {
        PeerFields {
            namespaces: self.namespaces.as_ref(),
            pods: self.pods.as_ref(),
            nodes: None,
            networks: None,
            domain_names: None,
        }
    }
}

impl AsPeer for RawEgressPeer {
    fn fields(&self) -> PeerFields<'_> {
        PeerFields {
            namespaces: self.namespaces.as_ref(),
            pods: self.pods.as_ref(),
            nodes: self.nodes.as_ref(),
            networks: self.networks.as_deref(),
            domain_names: self.domain_names.as_deref(),
        }
    }
}

pub(crate) fn load(ctx: &mut Ctx, value: &Value) -> Option<ClusterPolicy> {
    let raw: Raw = ctx.typed(value)?;
    let before = ctx.errors.len();
    let name = raw.metadata.name.clone().filter(|n| !n.is_empty());
    if name.is_none() {
        ctx.error("metadata.name", "a name is required");
    }
    let Some(spec) = raw.spec else {
        ctx.error("spec", "required value");
        return None;
    };
    let tier = match spec.tier.as_deref() {
        Some("Admin") => Some(Tier::Admin),
        Some("Baseline") => Some(Tier::Baseline),
        Some(other) => {
            ctx.error(
                "spec.tier",
                format!("unsupported value {other:?}: supported values: \"Admin\", \"Baseline\""),
            );
            None
        }
        None => {
            ctx.error("spec.tier", "required value");
            None
        }
    };
    let priority = priority(ctx, spec.priority);
    let subject = subject(ctx, "spec.subject", spec.subject.as_ref());
    let ingress = rules(
        ctx,
        Direction::Ingress,
        spec.ingress.as_deref(),
        |ctx, d, path, r| {
            let parts = RuleParts {
                name: r.name.as_deref(),
                action: r.action.as_deref(),
                peers: r.from.as_deref(),
            };
            let ports: RawPorts<'_, RawProtocol> = (r.protocols.as_deref(), "protocols", protocol);
            rule_common(ctx, d, path, parts, &["Accept", "Deny", "Pass"], ports)
        },
    );
    let egress = rules(
        ctx,
        Direction::Egress,
        spec.egress.as_deref(),
        |ctx, d, path, r| {
            let parts = RuleParts {
                name: r.name.as_deref(),
                action: r.action.as_deref(),
                peers: r.to.as_deref(),
            };
            let ports: RawPorts<'_, RawProtocol> = (r.protocols.as_deref(), "protocols", protocol);
            rule_common(ctx, d, path, parts, &["Accept", "Deny", "Pass"], ports)
        },
    );
    if ctx.errors.len() > before {
        return None;
    }
    Some(ClusterPolicy {
        name: name?,
        tier: tier?,
        priority: priority?,
        subject: subject?,
        ingress,
        egress,
        kind: "ClusterNetworkPolicy".into(),
        origin: ctx.origin(""),
    })
}

pub(crate) fn priority(ctx: &mut Ctx, p: Option<i64>) -> Option<u32> {
    match p {
        None => {
            ctx.error("spec.priority", "required value");
            None
        }
        Some(p) if (0..=1000).contains(&p) => Some(p as u32),
        Some(p) => {
            ctx.error(
                "spec.priority",
                format!("must be between 0 and 1000, inclusive (got {p})"),
            );
            None
        }
    }
}

pub(crate) fn subject(ctx: &mut Ctx, path: &str, raw: Option<&RawSubject>) -> Option<TierSubject> {
    let Some(raw) = raw else {
        ctx.error(path, "required value");
        return None;
    };
    match (&raw.namespaces, &raw.pods) {
        (Some(ns), None) => Some(TierSubject::Namespaces(names::selector(
            ctx,
            &key(path, "namespaces"),
            ns,
        ))),
        (None, Some(pods)) => {
            let (namespace_selector, pod_selector) = namespaced_pod(ctx, &key(path, "pods"), pods)?;
            Some(TierSubject::Pods {
                namespace_selector,
                pod_selector,
            })
        }
        _ => {
            ctx.error(
                path,
                "exactly one of namespaces or pods must be set (the CRD's minProperties/maxProperties 1)",
            );
            None
        }
    }
}

fn namespaced_pod(
    ctx: &mut Ctx,
    path: &str,
    pods: &RawNamespacedPod,
) -> Option<(crate::types::LabelSelector, crate::types::LabelSelector)> {
    let ns = pods
        .namespace_selector
        .as_ref()
        .map(|s| names::selector(ctx, &key(path, "namespaceSelector"), s))
        .unwrap_or_default();
    let Some(pod) = &pods.pod_selector else {
        ctx.error(&key(path, "podSelector"), "required value");
        return None;
    };
    Some((ns, names::selector(ctx, &key(path, "podSelector"), pod)))
}

/// A rule's fields, from whichever version wrote it.
pub(crate) struct RuleParts<'a, P> {
    pub name: Option<&'a str>,
    pub action: Option<&'a str>,
    pub peers: Option<&'a [P]>,
}

pub(crate) fn rules<R>(
    ctx: &mut Ctx,
    direction: Direction,
    raw: Option<&[R]>,
    convert: impl Fn(&mut Ctx, Direction, &str, &R) -> Option<TierRule>,
) -> Vec<TierRule> {
    let path = format!("spec.{}", direction.as_str());
    let raw = raw.unwrap_or_default();
    if raw.len() > MAX_ITEMS {
        ctx.error(
            &path,
            format!("must have at most {MAX_ITEMS} items (has {})", raw.len()),
        );
    }
    raw.iter()
        .enumerate()
        .filter_map(|(i, r)| convert(ctx, direction, &idx(&path, i), r))
        .collect()
}

/// A rule's ports as a version writes them: the list, its field name, and how
/// one item converts.
pub(crate) type RawPorts<'a, T> = (
    Option<&'a [T]>,
    &'a str,
    fn(&mut Ctx, &str, &T) -> Option<TierPort>,
);

/// Checks and converts a rule of either version: ports, name, action, peers,
/// and the CEL rule that named ports need pods.
pub(crate) fn rule_common<P: AsPeer, T>(
    ctx: &mut Ctx,
    direction: Direction,
    path: &str,
    r: RuleParts<'_, P>,
    actions: &[&str],
    (raw_ports, ports_field, convert): RawPorts<'_, T>,
) -> Option<TierRule> {
    let before = ctx.errors.len();
    let ports = port_list(ctx, &key(path, ports_field), raw_ports, convert);
    if let Some(name) = r.name {
        if name.chars().count() > 100 {
            ctx.error(&key(path, "name"), "must be no more than 100 characters");
        }
    }
    let action = match r.action {
        None => {
            ctx.error(&key(path, "action"), "required value");
            None
        }
        Some(a) => match actions.iter().position(|x| *x == a) {
            // The legacy `Allow` is the position of `Accept`.
            Some(0) => Some(Action::Accept),
            Some(1) => Some(Action::Deny),
            Some(_) => Some(Action::Pass),
            None => {
                ctx.error(
                    &key(path, "action"),
                    format!(
                        "unsupported value {a:?}: supported values: {}",
                        actions
                            .iter()
                            .map(|a| format!("{a:?}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                );
                None
            }
        },
    };
    let peer_field = match direction {
        Direction::Ingress => "from",
        Direction::Egress => "to",
    };
    let peers_path = key(path, peer_field);
    let raw_peers = r.peers.unwrap_or_default();
    if raw_peers.is_empty() {
        ctx.error(&peers_path, "must have at least 1 item");
    } else if raw_peers.len() > MAX_ITEMS {
        ctx.error(
            &peers_path,
            format!(
                "must have at most {MAX_ITEMS} items (has {})",
                raw_peers.len()
            ),
        );
    }
    let peers: Vec<TierPeer> = raw_peers
        .iter()
        .enumerate()
        .filter_map(|(i, p)| peer(ctx, &idx(&peers_path, i), &p.fields()))
        .collect();
    let named = ports.iter().any(|(p, _)| matches!(p, TierPort::Named(_)));
    let not_pods = peers.iter().any(|p| {
        matches!(
            p,
            TierPeer::Networks { .. } | TierPeer::Nodes { .. } | TierPeer::DomainNames { .. }
        )
    });
    if named && not_pods {
        ctx.error(
            path,
            "networks/nodes/domainNames peer cannot be set with namedPorts since there are no namedPorts for networks/nodes/domainNames",
        );
    }
    if action.is_some_and(|a| a != Action::Accept)
        && peers
            .iter()
            .any(|p| matches!(p, TierPeer::DomainNames { .. }))
    {
        ctx.error(
            path,
            "domainNames peers are only supported for Accept rules",
        );
    }
    if ctx.errors.len() > before {
        return None;
    }
    Some(TierRule {
        name: r.name.filter(|n| !n.is_empty()).map(str::to_string),
        action: action?,
        peers,
        ports,
        line: ctx.line(path),
    })
}

fn peer(ctx: &mut Ctx, path: &str, p: &PeerFields) -> Option<TierPeer> {
    let line = ctx.line(path);
    let set = [
        p.namespaces.is_some(),
        p.pods.is_some(),
        p.nodes.is_some(),
        p.networks.is_some(),
        p.domain_names.is_some(),
    ]
    .iter()
    .filter(|b| **b)
    .count();
    if set != 1 {
        ctx.error(
            path,
            "exactly one peer field must be set (the CRD's minProperties/maxProperties 1)",
        );
        return None;
    }
    if let Some(sel) = p.namespaces {
        return Some(TierPeer::Namespaces {
            selector: names::selector(ctx, &key(path, "namespaces"), sel),
            line,
        });
    }
    if let Some(pods) = p.pods {
        let (namespace_selector, pod_selector) = namespaced_pod(ctx, &key(path, "pods"), pods)?;
        return Some(TierPeer::Pods {
            namespace_selector,
            pod_selector,
            line,
        });
    }
    if let Some(sel) = p.nodes {
        return Some(TierPeer::Nodes {
            selector: names::selector(ctx, &key(path, "nodes"), sel),
            line,
        });
    }
    if let Some(nets) = p.networks {
        let path = key(path, "networks");
        list_size(ctx, &path, nets.len())?;
        let mut cidrs = Vec::new();
        for (i, n) in nets.iter().enumerate() {
            match n.parse::<IpNet>() {
                Ok(net) if n.len() <= 43 => cidrs.push(net.trunc()),
                _ => ctx.error(
                    &idx(&path, i),
                    format!("Invalid CIDR format provided: {n:?}"),
                ),
            }
        }
        return (cidrs.len() == nets.len()).then_some(TierPeer::Networks { cidrs, line });
    }
    let names_list = p.domain_names.unwrap_or_default();
    let path = key(path, "domainNames");
    list_size(ctx, &path, names_list.len())?;
    let mut ok = true;
    for (i, n) in names_list.iter().enumerate() {
        if !is_domain_name(n) {
            ctx.error(
                &idx(&path, i),
                format!(
                    "invalid domain name {n:?}: must be a DNS name, with an optional leading \"*.\""
                ),
            );
            ok = false;
        }
    }
    ok.then(|| TierPeer::DomainNames {
        names: names_list.to_vec(),
        line,
    })
}

pub(crate) fn list_size(ctx: &mut Ctx, path: &str, len: usize) -> Option<()> {
    if len == 0 {
        ctx.error(path, "must have at least 1 item");
        return None;
    }
    if len > MAX_ITEMS {
        ctx.error(
            path,
            format!("must have at most {MAX_ITEMS} items (has {len})"),
        );
        return None;
    }
    Some(())
}

/// The CRD's pattern for DomainName.
fn is_domain_name(n: &str) -> bool {
    let n = n.strip_prefix("*.").unwrap_or(n);
    let n = n.strip_suffix('.').unwrap_or(n);
    let labels: Vec<&str> = n.split('.').collect();
    labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.starts_with(|c: char| c.is_ascii_alphanumeric())
                && l.ends_with(|c: char| c.is_ascii_alphanumeric())
                && l.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        })
}

fn port_list<T>(
    ctx: &mut Ctx,
    path: &str,
    raw: Option<&[T]>,
    convert: fn(&mut Ctx, &str, &T) -> Option<TierPort>,
) -> Vec<(TierPort, usize)> {
    let Some(raw) = raw else {
        return Vec::new();
    };
    if list_size(ctx, path, raw.len()).is_none() {
        return Vec::new();
    }
    raw.iter()
        .enumerate()
        .filter_map(|(i, p)| {
            let path = idx(path, i);
            let line = ctx.line(&path);
            convert(ctx, &path, p).map(|port| (port, line))
        })
        .collect()
}

fn protocol(ctx: &mut Ctx, path: &str, p: &RawProtocol) -> Option<TierPort> {
    let forms = [
        (Protocol::Tcp, "tcp", p.tcp.as_ref()),
        (Protocol::Udp, "udp", p.udp.as_ref()),
        (Protocol::Sctp, "sctp", p.sctp.as_ref()),
    ];
    let set = forms.iter().filter(|(_, _, f)| f.is_some()).count()
        + usize::from(p.destination_named_port.is_some());
    if set != 1 {
        ctx.error(
            path,
            "exactly one of tcp, udp, sctp or destinationNamedPort must be set",
        );
        return None;
    }
    if let Some(name) = &p.destination_named_port {
        if let Some(e) = names::port_name_error(name) {
            ctx.error(&key(path, "destinationNamedPort"), e);
            return None;
        }
        return Some(TierPort::Named(name.clone()));
    }
    let (protocol, field, pp) = forms.into_iter().find(|(_, _, f)| f.is_some())?;
    let path = key(path, field);
    let Some(port) = pp.and_then(|pp| pp.destination_port.as_ref()) else {
        ctx.error(&key(&path, "destinationPort"), "required value");
        return None;
    };
    let path = key(&path, "destinationPort");
    match (port.number, &port.range) {
        (Some(n), None) => Some(TierPort::Number {
            protocol,
            port: port_number(ctx, &key(&path, "number"), n)?,
        }),
        (None, Some(r)) => {
            let path = key(&path, "range");
            let start = field_port(ctx, &key(&path, "start"), r.start);
            let end = field_port(ctx, &key(&path, "end"), r.end);
            let (start, end) = (start?, end?);
            if start >= end {
                ctx.error(&path, "Start port must be less than End port");
                return None;
            }
            Some(TierPort::Range {
                protocol,
                start,
                end,
            })
        }
        _ => {
            ctx.error(&path, "exactly one of number or range must be set");
            None
        }
    }
}

fn field_port(ctx: &mut Ctx, path: &str, n: Option<i64>) -> Option<u16> {
    match n {
        None => {
            ctx.error(path, "required value");
            None
        }
        Some(n) => port_number(ctx, path, n),
    }
}

pub(crate) fn port_number(ctx: &mut Ctx, path: &str, n: i64) -> Option<u16> {
    match u16::try_from(n) {
        Ok(v) if v > 0 => Some(v),
        _ => {
            ctx.error(
                path,
                format!("must be between 1 and 65535, inclusive (got {n})"),
            );
            None
        }
    }
}
