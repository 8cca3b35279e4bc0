//! The flows file as written: serde types, from which the published JSON
//! Schema is generated. Endpoint and port strings are kept as text here and
//! given meaning by `spec`, so that errors can name the exact field.

use std::fmt;

use schemars::JsonSchema;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};

/// The traffic a cluster is meant to carry, one flow per line of the table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(title = "netpol flows file")]
pub struct FlowsFile {
    /// Which directions every managed namespace isolates with its default-deny
    /// policy: `ingress` (the default) or `ingress+egress`.
    #[serde(default)]
    pub default_deny: DefaultDeny,
    /// Add the flow "every pod -> kube-system's kube-dns pods on 53/UDP and
    /// 53/TCP" (default true). Without it, egress isolation or an isolated
    /// kube-system breaks name resolution.
    #[serde(default = "yes")]
    pub allow_dns: bool,
    /// Namespaces netpol leaves alone: no policies are generated for them and
    /// `verify` neither asks them for a default-deny nor reports connections
    /// that only their own policies could restrict.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unmanaged_namespaces: Vec<String>,
    /// Addresses of the cluster itself; the defaults are k3s's.
    #[serde(default)]
    pub cluster: ClusterSettings,
    /// The allowed traffic. Everything else is denied.
    pub flows: Vec<Flow>,
    /// Cluster-wide guardrails, written as ClusterNetworkPolicies
    /// (policy.networking.k8s.io/v1alpha2) around the flows' NetworkPolicies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guardrails: Option<Guardrails>,
}

/// What must hold whatever the namespaces' NetworkPolicies say.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Guardrails {
    /// Write one Baseline-tier ClusterNetworkPolicy that denies what
    /// `defaultDeny` isolates, for every managed namespace, instead of a
    /// default-deny NetworkPolicy in each: the flows' NetworkPolicies decide
    /// for the pods they select, the baseline denies the rest.
    #[serde(default)]
    pub baseline_deny_all: bool,
    /// Admin-tier Deny rules: traffic no NetworkPolicy can allow.
    #[serde(default)]
    pub deny: Vec<Guardrail>,
}

/// Traffic denied in the Admin tier.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Guardrail {
    /// The pods it applies to: `*`, `ns`, `ns:k=v` or `*:k=v`.
    #[schemars(extend("examples" = ["backups", "*:app=untrusted"]))]
    pub from: String,
    /// What they may never reach: `*`, `ns`, `ns:k=v`, `*:k=v`, `external`, a
    /// CIDR or an IP, `nodes`, `kube-apiserver`.
    #[schemars(extend("examples" = ["external", "kube-system", "nodes"]))]
    pub to: String,
    /// Ports as in a flow (numbers, ranges, names, `any`); absent: every port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ports: Option<Ports>,
    /// Why: it annotates the generated policy.
    pub purpose: String,
}

fn yes() -> bool {
    true
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum DefaultDeny {
    /// Isolate the ingress of every pod: only flows let traffic in.
    #[default]
    #[serde(rename = "ingress")]
    Ingress,
    /// Isolate ingress and egress: flows are allowed on both ends.
    #[serde(rename = "ingress+egress")]
    IngressEgress,
}

impl DefaultDeny {
    pub fn egress(self) -> bool {
        self == DefaultDeny::IngressEgress
    }
}

/// The cluster's own address ranges. `external` means every address outside
/// the pod and service ranges; `nodes` and `kube-apiserver` need node addresses.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClusterSettings {
    /// Pod network ranges (k3s default: 10.42.0.0/16).
    #[serde(default = "k3s_pod_cidrs", rename = "podCIDRs")]
    pub pod_cidrs: Vec<String>,
    /// Service (ClusterIP) ranges (k3s default: 10.43.0.0/16).
    #[serde(default = "k3s_service_cidrs", rename = "serviceCIDRs")]
    pub service_cidrs: Vec<String>,
    /// Addresses of the nodes (no default): what `nodes` means.
    #[serde(default, rename = "nodeCIDRs")]
    pub node_cidrs: Vec<String>,
    /// Where the Kubernetes API server listens.
    #[serde(default)]
    pub apiserver: ApiServer,
}

impl Default for ClusterSettings {
    fn default() -> Self {
        ClusterSettings {
            pod_cidrs: k3s_pod_cidrs(),
            service_cidrs: k3s_service_cidrs(),
            node_cidrs: Vec::new(),
            apiserver: ApiServer::default(),
        }
    }
}

fn k3s_pod_cidrs() -> Vec<String> {
    vec!["10.42.0.0/16".into()]
}

fn k3s_service_cidrs() -> Vec<String> {
    vec!["10.43.0.0/16".into()]
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApiServer {
    /// Addresses of the API server (default: `nodeCIDRs`, where k3s runs it).
    #[serde(default)]
    pub addresses: Option<Vec<String>>,
    /// The port the API server receives on after the `kubernetes` Service's
    /// translation of 443 (k3s default: 6443).
    #[serde(default = "apiserver_port")]
    pub port: u16,
}

impl Default for ApiServer {
    fn default() -> Self {
        ApiServer {
            addresses: None,
            port: apiserver_port(),
        }
    }
}

fn apiserver_port() -> u16 {
    6443
}

/// One allowed kind of traffic: from whom, to whom, on which ports, and why.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Flow {
    /// The client: `ns` (a namespace), `ns/name` (a workload), `ns:app=x,tier=y`
    /// or `*:app=x` (pods by label), `*` (every pod), `external`, a CIDR or an
    /// IP, `nodes`, `kube-apiserver`.
    #[schemars(extend("examples" = ["ingress-nginx", "monitoring/prometheus", "*:app=web", "*", "external"]))]
    pub from: String,
    /// The server, in the same syntax as `from`, or `ingress-backends` /
    /// `ingress-backends:CLASS`: the pods the Ingresses (of one class) route
    /// to, found in the manifests each time.
    #[schemars(extend("examples" = ["monitoring/prometheus", "ingress-backends", "ingress-backends:nginx"]))]
    pub to: String,
    /// What the client connects to: numbers, ranges (`8000-8100`), port
    /// names, each with an optional `/udp` or `/sctp` suffix; `service` (the
    /// ports of the Services in front of the destination), `metrics` (ports
    /// named like metrics, or `prometheus.io/port`), `backend` (with
    /// `to: ingress-backends`: the pod ports the routes send traffic to), `any`.
    pub ports: Ports,
    /// Why this traffic exists; it annotates every generated policy.
    pub purpose: String,
    /// A short name for generated policy names (default: from `purpose`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// One port item or a list of them.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum Ports {
    One(PortValue),
    Many(Vec<PortValue>),
}

impl Ports {
    pub fn items(&self) -> Vec<&PortValue> {
        match self {
            Ports::One(p) => vec![p],
            Ports::Many(v) => v.iter().collect(),
        }
    }
}

/// A port number, or text: `8080/udp`, `8000-8100`, `http`, `service`, `metrics`, `backend`, `any`.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum PortValue {
    Number(u16),
    Text(String),
}

impl fmt::Display for PortValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PortValue::Number(n) => write!(f, "{n}"),
            PortValue::Text(s) => f.write_str(s),
        }
    }
}

const PORT_EXPECTED: &str =
    "a port: a number, a range such as 8000-8100, a name, service, metrics, backend or any";

struct PortValueVisitor;

impl<'de> Visitor<'de> for PortValueVisitor {
    type Value = PortValue;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(PORT_EXPECTED)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<PortValue, E> {
        match u16::try_from(v) {
            Ok(n) if n > 0 => Ok(PortValue::Number(n)),
            _ => Err(E::custom(format!("port {v} is not between 1 and 65535"))),
        }
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<PortValue, E> {
        Err(E::custom(format!("port {v} is not between 1 and 65535")))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<PortValue, E> {
        Ok(PortValue::Text(v.to_string()))
    }
}

impl<'de> Deserialize<'de> for PortValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(PortValueVisitor)
    }
}

struct PortsVisitor;

impl<'de> Visitor<'de> for PortsVisitor {
    type Value = Ports;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{PORT_EXPECTED}, or a list of them")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Ports, E> {
        PortValueVisitor.visit_u64(v).map(Ports::One)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Ports, E> {
        PortValueVisitor.visit_i64(v).map(Ports::One)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Ports, E> {
        PortValueVisitor.visit_str(v).map(Ports::One)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Ports, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<PortValue>()? {
            items.push(item);
        }
        if items.is_empty() {
            return Err(de::Error::custom(
                "an empty list allows nothing; write `any` for every port",
            ));
        }
        Ok(Ports::Many(items))
    }
}

impl<'de> Deserialize<'de> for Ports {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(PortsVisitor)
    }
}

/// The JSON Schema of the flows file, as published in `schema/flows.schema.json`.
pub fn json_schema() -> String {
    let schema = schemars::schema_for!(FlowsFile);
    let mut text = serde_json::to_string_pretty(&schema).expect("schemas serialize");
    text.push('\n');
    text
}
