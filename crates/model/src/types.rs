//! The normalized cluster model: what every other crate works on.

use rayon::prelude::*;
use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

use ipnet::IpNet;
use serde::Serialize;

pub type Labels = BTreeMap<String, String>;

/// Where an object came from, for diagnostics and findings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Origin {
    pub file: Arc<str>,
    /// 1-based index of the YAML document within the file.
    pub document: usize,
    /// 1-based line.
    pub line: usize,
}

impl Origin {
    pub fn at_line(&self, line: usize) -> Origin {
        Origin {
            line,
            ..self.clone()
        }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{} (document {})",
            self.file, self.line, self.document
        )
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
/// Declared in the order of the API spelling, so sorting follows the names.
pub enum Protocol {
    #[serde(rename = "SCTP")]
    Sctp,
    #[serde(rename = "TCP")]
    Tcp,
    #[serde(rename = "UDP")]
    Udp,
}

impl Protocol {
    pub const ALL: [Protocol; 3] = [Protocol::Sctp, Protocol::Tcp, Protocol::Udp];

    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "TCP",
            Protocol::Udp => "UDP",
            Protocol::Sctp => "SCTP",
        }
    }

    /// Parses the API spelling (`TCP`, `UDP`, `SCTP`); case-insensitive for
    /// command-line convenience only where the caller asks for it.
    pub fn parse(s: &str) -> Option<Protocol> {
        match s {
            "TCP" => Some(Protocol::Tcp),
            "UDP" => Some(Protocol::Udp),
            "SCTP" => Some(Protocol::Sctp),
            _ => None,
        }
    }

    pub fn parse_ignore_case(s: &str) -> Option<Protocol> {
        Protocol::parse(&s.to_ascii_uppercase())
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Namespace {
    pub name: String,
    /// Always includes `kubernetes.io/metadata.name`.
    pub labels: Labels,
    /// False when the namespace exists only because objects use it.
    pub declared: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum WorkloadKind {
    Pod,
    Deployment,
    StatefulSet,
    DaemonSet,
    ReplicaSet,
    ReplicationController,
    Job,
    CronJob,
}

impl WorkloadKind {
    pub fn as_str(self) -> &'static str {
        match self {
            WorkloadKind::Pod => "Pod",
            WorkloadKind::Deployment => "Deployment",
            WorkloadKind::StatefulSet => "StatefulSet",
            WorkloadKind::DaemonSet => "DaemonSet",
            WorkloadKind::ReplicaSet => "ReplicaSet",
            WorkloadKind::ReplicationController => "ReplicationController",
            WorkloadKind::Job => "Job",
            WorkloadKind::CronJob => "CronJob",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct ContainerPort {
    pub name: Option<String>,
    pub port: u16,
    pub protocol: Protocol,
}

/// An IP address family. A connection uses exactly one: its packets carry
/// either IPv4 or IPv6 addresses, never both.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Family {
    #[serde(rename = "IPv4")]
    V4,
    #[serde(rename = "IPv6")]
    V6,
}

impl Family {
    pub const ALL: [Family; 2] = [Family::V4, Family::V6];

    pub fn of(ip: IpAddr) -> Family {
        if ip.is_ipv6() { Family::V6 } else { Family::V4 }
    }

    pub fn of_net(net: &IpNet) -> Family {
        match net {
            IpNet::V4(_) => Family::V4,
            IpNet::V6(_) => Family::V6,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Family::V4 => "IPv4",
            Family::V6 => "IPv6",
        }
    }

    pub fn other(self) -> Family {
        match self {
            Family::V4 => Family::V6,
            Family::V6 => Family::V4,
        }
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Something that sends and receives traffic: a Pod, or a workload's pod template.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Endpoint {
    pub namespace: String,
    pub name: String,
    pub kind: WorkloadKind,
    pub labels: Labels,
    pub annotations: Labels,
    /// Sorted and de-duplicated.
    pub ports: Vec<ContainerPort>,
    /// `status.podIPs` (or `status.podIP`); the first is the primary address.
    pub ips: Vec<IpAddr>,
    pub host_network: bool,
    /// `spec.nodeName`; for a scheduled pod without one, the node whose
    /// address is its `status.hostIP` (see [`Cluster::normalize`]).
    pub node: Option<String>,
    /// `status.hostIP`: the address of the node the pod runs on.
    pub host_ip: Option<IpAddr>,
    /// How many pods this endpoint stands for: 1 for a Pod; a workload's
    /// `spec.replicas` (Jobs: `parallelism`), 1 when absent as the API server
    /// defaults it; `None` when unknown but possibly several (a DaemonSet runs
    /// one pod per node).
    pub replicas: Option<u32>,
    pub origin: Origin,
}

impl Endpoint {
    /// `namespace/name`, the name users type.
    pub fn id(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }

    /// The order of [`Endpoint::id`] strings, without formatting them.
    pub fn id_cmp(&self, other: &Endpoint) -> std::cmp::Ordering {
        let (a, b) = (self.namespace.as_str(), other.namespace.as_str());
        if a == b {
            self.name.cmp(&other.name)
        } else if !a.starts_with(b) && !b.starts_with(a) {
            a.cmp(b)
        } else {
            // One namespace a prefix of the other: the `/` after the shorter
            // one meets a character of the longer one.
            fn id(e: &Endpoint) -> impl Iterator<Item = u8> + '_ {
                let name = e.name.bytes();
                e.namespace.bytes().chain(std::iter::once(b'/')).chain(name)
            }
            id(self).cmp(id(other))
        }
    }

    pub fn primary_ip(&self) -> Option<IpAddr> {
        self.ips.first().copied()
    }

    /// The (port, protocol) pairs it declares, sorted, each once: a
    /// destination's columns in a matrix.
    pub fn declared_ports(&self) -> Vec<(u16, Protocol)> {
        let mut ports: Vec<(u16, Protocol)> =
            self.ports.iter().map(|p| (p.port, p.protocol)).collect();
        ports.sort();
        ports.dedup();
        ports
    }

    /// Whether the endpoint may be several pods, so that traffic from it to
    /// itself may be between two different pods, which policies decide.
    pub fn may_be_several_pods(&self) -> bool {
        self.replicas.is_none_or(|n| n >= 2)
    }

    /// Whether the endpoint can take part in a connection of `family`: it has
    /// an address of that family, or no known address at all (either is possible).
    pub fn can_use(&self, family: Family) -> bool {
        self.ips.is_empty() || self.ips.iter().any(|ip| Family::of(*ip) == family)
    }

    /// The container port a named port resolves to on this endpoint.
    pub fn resolve_named_port(&self, name: &str, protocol: Protocol) -> Option<u16> {
        self.ports
            .iter()
            .find(|p| p.protocol == protocol && p.name.as_deref() == Some(name))
            .map(|p| p.port)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(untagged)]
pub enum PortRef {
    Number(u16),
    Name(String),
}

impl fmt::Display for PortRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PortRef::Number(n) => write!(f, "{n}"),
            PortRef::Name(s) => f.write_str(s),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ServicePort {
    pub name: Option<String>,
    pub port: u16,
    pub protocol: Protocol,
    /// Defaults to `port` when the manifest leaves it out.
    pub target_port: PortRef,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Service {
    pub namespace: String,
    pub name: String,
    /// `None` for Services without a selector (manually managed endpoints).
    pub selector: Option<Labels>,
    pub ports: Vec<ServicePort>,
    pub cluster_ips: Vec<IpAddr>,
    pub service_type: String,
    pub annotations: Labels,
    pub origin: Origin,
}

impl Service {
    pub fn id(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }

    pub fn selects(&self, endpoint: &Endpoint) -> bool {
        match &self.selector {
            Some(sel) if !sel.is_empty() => {
                endpoint.namespace == self.namespace
                    && sel.iter().all(|(k, v)| endpoint.labels.get(k) == Some(v))
            }
            _ => false,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Operator {
    In,
    NotIn,
    Exists,
    DoesNotExist,
}

impl Operator {
    pub fn parse(s: &str) -> Option<Operator> {
        match s {
            "In" => Some(Operator::In),
            "NotIn" => Some(Operator::NotIn),
            "Exists" => Some(Operator::Exists),
            "DoesNotExist" => Some(Operator::DoesNotExist),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Requirement {
    pub key: String,
    pub operator: Operator,
    pub values: Vec<String>,
}

impl Requirement {
    pub fn matches(&self, labels: &Labels) -> bool {
        let value = labels.get(&self.key);
        match self.operator {
            Operator::In => value.is_some_and(|v| self.values.contains(v)),
            // NotIn also matches objects without the key, as in Kubernetes.
            Operator::NotIn => value.is_none_or(|v| !self.values.contains(v)),
            Operator::Exists => value.is_some(),
            Operator::DoesNotExist => value.is_none(),
        }
    }
}

/// A `metav1.LabelSelector`. The empty selector matches everything.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct LabelSelector {
    pub match_labels: Labels,
    pub match_expressions: Vec<Requirement>,
}

impl LabelSelector {
    pub fn is_empty(&self) -> bool {
        self.match_labels.is_empty() && self.match_expressions.is_empty()
    }

    /// The one selector matcher of the workspace: matchLabels and every
    /// requirement, ANDed; the empty selector matches everything.
    pub fn matches(&self, labels: &Labels) -> bool {
        self.match_labels
            .iter()
            .all(|(k, v)| labels.get(k) == Some(v))
            && self.match_expressions.iter().all(|r| r.matches(labels))
    }

    /// A selector as k8s-openapi reads it, without the loader's validation
    /// (which reports bad keys and values): for selectors in objects the
    /// loader does not check, such as monitors and Prometheus resources.
    /// `None` when an operator is not one of the four, since Kubernetes
    /// rejects such a selector and it selects nothing.
    pub fn from_k8s(
        sel: &k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector,
    ) -> Option<Self> {
        let match_expressions = sel
            .match_expressions
            .iter()
            .flatten()
            .map(|r| {
                Some(Requirement {
                    key: r.key.clone(),
                    operator: Operator::parse(&r.operator)?,
                    values: r.values.clone().unwrap_or_default(),
                })
            })
            .collect::<Option<Vec<_>>>()?;
        Some(LabelSelector {
            match_labels: sel.match_labels.clone().unwrap_or_default(),
            match_expressions,
        })
    }

    /// A selector as written in JSON (`{"matchLabels": ...}`); `None` when
    /// it is not a `metav1.LabelSelector` at all.
    pub fn from_json(value: &serde_json::Value) -> Option<Self> {
        serde_json::from_value(value.clone())
            .ok()
            .and_then(|sel| Self::from_k8s(&sel))
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Peer {
    /// `podSelector` and/or `namespaceSelector`; at least one is set.
    Pods {
        pod_selector: Option<LabelSelector>,
        namespace_selector: Option<LabelSelector>,
        line: usize,
    },
    IpBlock {
        cidr: IpNet,
        except: Vec<IpNet>,
        line: usize,
    },
}

impl Peer {
    pub fn line(&self) -> usize {
        match self {
            Peer::Pods { line, .. } | Peer::IpBlock { line, .. } => *line,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PortRule {
    pub protocol: Protocol,
    /// `None`: every port of `protocol`.
    pub port: Option<PortRef>,
    pub end_port: Option<u16>,
    pub line: usize,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Rule {
    /// Empty: every peer (the field was absent or `[]`).
    pub peers: Vec<Peer>,
    /// Empty: every port (the field was absent or `[]`).
    pub ports: Vec<PortRule>,
    pub line: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Direction {
    Ingress,
    Egress,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Ingress => "ingress",
            Direction::Egress => "egress",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Policy {
    pub namespace: String,
    pub name: String,
    pub pod_selector: LabelSelector,
    /// Effective policyTypes, after the API server's defaulting.
    pub affects_ingress: bool,
    pub affects_egress: bool,
    /// Whether `policyTypes` was written out (false: defaulted).
    pub policy_types_explicit: bool,
    /// Rules as written; a direction the policy does not affect is ignored by the engine.
    pub ingress: Vec<Rule>,
    pub egress: Vec<Rule>,
    pub labels: Labels,
    pub annotations: Labels,
    pub origin: Origin,
}

impl Policy {
    pub fn id(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }

    pub fn affects(&self, direction: Direction) -> bool {
        match direction {
            Direction::Ingress => self.affects_ingress,
            Direction::Egress => self.affects_egress,
        }
    }

    pub fn rules(&self, direction: Direction) -> &[Rule] {
        match direction {
            Direction::Ingress => &self.ingress,
            Direction::Egress => &self.egress,
        }
    }
}

/// Everything netpol knows about a cluster. Collections are sorted by
/// namespace and name so that every output derived from them is stable.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Cluster {
    pub namespaces: BTreeMap<String, Namespace>,
    pub endpoints: Vec<Endpoint>,
    pub services: Vec<Service>,
    pub policies: Vec<Policy>,
    /// ClusterNetworkPolicies (and legacy Admin/BaselineAdminNetworkPolicies),
    /// sorted by tier, priority and name: the order they are evaluated in.
    pub cluster_policies: Vec<crate::tiers::ClusterPolicy>,
    /// Node objects, sorted by name.
    pub nodes: Vec<crate::tiers::Node>,
    /// Kinds that were read but are not modelled, with counts.
    pub skipped: BTreeMap<String, usize>,
    /// Non-fatal remarks made while loading (skipped pods, replaced workloads).
    pub notes: Vec<String>,
    /// Pod endpoint id -> the workload that owns it (`namespace/name`), where known.
    pub workload_of: BTreeMap<String, String>,
    /// The objects as written, in input order; only with
    /// `LoadOptions::keep_manifests`. Of a workload's Pods only the first
    /// is kept: the others are replicas of its pod spec, which a live dump
    /// lists by the hundred thousand.
    #[serde(skip)]
    pub manifests: Vec<crate::manifest::Manifest>,
    /// Problems that did not stop loading (unknown fields with `--validate=warn`).
    pub warnings: Vec<crate::Diagnostic>,
}

impl Cluster {
    pub fn endpoint(&self, id: &str) -> Option<usize> {
        self.endpoints
            .binary_search_by(|e| e.id().as_str().cmp(id))
            .ok()
    }

    pub fn endpoint_by_ip(&self, ip: IpAddr) -> Option<usize> {
        self.endpoints
            .iter()
            .position(|e| !e.host_network && e.ips.contains(&ip))
    }

    /// The workload an endpoint belongs to: its owner for a Pod that has one,
    /// else the endpoint itself.
    pub fn workload(&self, endpoint: usize) -> String {
        let id = self.endpoints[endpoint].id();
        self.workload_of.get(&id).cloned().unwrap_or(id)
    }

    pub fn namespace_labels(&self, ns: &str) -> Option<&Labels> {
        self.namespaces.get(ns).map(|n| &n.labels)
    }

    /// Restores the ordering invariants and makes sure every namespace an
    /// object uses exists, with the label the API server would set. A pod
    /// known to run on a node only by `status.hostIP` is placed on the node
    /// another pod names with the same host IP, or on a node named after the IP.
    pub fn normalize(&mut self) {
        let mut node_of_ip: BTreeMap<IpAddr, String> = BTreeMap::new();
        for e in &self.endpoints {
            if let (Some(ip), Some(node)) = (e.host_ip, &e.node) {
                node_of_ip.entry(ip).or_insert_with(|| node.clone());
            }
        }
        for e in &mut self.endpoints {
            if let (Some(ip), None) = (e.host_ip, &e.node) {
                e.node = Some(
                    node_of_ip
                        .get(&ip)
                        .cloned()
                        .unwrap_or_else(|| ip.to_string()),
                );
            }
        }
        // By the `namespace/name` string users see, so outputs sort the same way.
        // Equal ids keep their order. An order of indices, then one move per
        // endpoint.
        let mut order: Vec<usize> = (0..self.endpoints.len()).collect();
        order.par_sort_by(|&a, &b| self.endpoints[a].id_cmp(&self.endpoints[b]));
        let mut slots: Vec<Option<Endpoint>> = self.endpoints.drain(..).map(Some).collect();
        self.endpoints = order.iter().filter_map(|&i| slots[i].take()).collect();
        self.services
            .sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
        self.policies
            .sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
        self.cluster_policies
            .sort_by(|a, b| (a.tier, a.priority, &a.name).cmp(&(b.tier, b.priority, &b.name)));
        self.nodes.sort_by(|a, b| a.name.cmp(&b.name));
        let used = self
            .endpoints
            .iter()
            .map(|e| &e.namespace)
            .chain(self.services.iter().map(|s| &s.namespace))
            .chain(self.policies.iter().map(|p| &p.namespace));
        for ns in used {
            if !self.namespaces.contains_key(ns) {
                self.namespaces.insert(
                    ns.clone(),
                    Namespace {
                        name: ns.clone(),
                        labels: Labels::new(),
                        declared: false,
                    },
                );
            }
        }
        for ns in self.namespaces.values_mut() {
            ns.labels
                .insert(NAMESPACE_NAME_LABEL.to_string(), ns.name.clone());
        }
    }
}

pub const NAMESPACE_NAME_LABEL: &str = "kubernetes.io/metadata.name";
