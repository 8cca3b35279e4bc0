//! What an expansion is made of: port selections, address blocks, the pods
//! and destinations of each flow, and findings about the flows.

use std::net::IpAddr;

use ipnet::IpNet;
use netpol_model::{LabelSelector, NAMESPACE_NAME_LABEL, Protocol};
use serde::Serialize;

use crate::parse::FlowDef;

/// Ports as a policy's `ports` entry can say them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum PortSel {
    /// Every port of every protocol.
    Any,
    /// Every port of one protocol.
    All { protocol: Protocol },
    /// `start..=end` (a single port when equal).
    Range {
        start: u16,
        end: u16,
        protocol: Protocol,
    },
}

impl PortSel {
    pub fn single(port: u16, protocol: Protocol) -> PortSel {
        PortSel::Range {
            start: port,
            end: port,
            protocol,
        }
    }

    pub fn admits(&self, port: u16, protocol: Protocol) -> bool {
        match *self {
            PortSel::Any => true,
            PortSel::All { protocol: p } => p == protocol,
            PortSel::Range {
                start,
                end,
                protocol: p,
            } => p == protocol && (start..=end).contains(&port),
        }
    }
}

impl std::fmt::Display for PortSel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PortSel::Any => f.write_str("any port"),
            PortSel::All { protocol } => write!(f, "every {protocol} port"),
            PortSel::Range {
                start,
                end,
                protocol,
            } if start == end => write!(f, "{start}/{protocol}"),
            PortSel::Range {
                start,
                end,
                protocol,
            } => write!(f, "{start}-{end}/{protocol}"),
        }
    }
}

/// Sorts, removes duplicates and lets `Any` absorb everything.
pub(super) fn normalize(ports: &mut Vec<PortSel>) {
    ports.sort();
    ports.dedup();
    if ports.contains(&PortSel::Any) {
        *ports = vec![PortSel::Any];
    }
}

/// An ipBlock.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Block {
    pub cidr: IpNet,
    pub except: Vec<IpNet>,
}

impl Block {
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.cidr.contains(&ip) && !self.except.iter().any(|x| x.contains(&ip))
    }

    /// An address inside the block, for probing it.
    pub fn sample(&self) -> Option<IpAddr> {
        // A few well-spread candidates; the first one the block admits wins.
        let candidates: Vec<IpAddr> = match self.cidr {
            IpNet::V4(_) => [
                "198.51.100.7",
                "203.0.113.7",
                "8.8.8.8",
                "1.1.1.1",
                "192.0.2.7",
                "100.64.0.7",
            ]
            .iter()
            .map(|s| s.parse().expect("literal"))
            .collect(),
            IpNet::V6(_) => ["2001:db8::7", "2606:4700::1111"]
                .iter()
                .map(|s| s.parse().expect("literal"))
                .collect(),
        };
        let own = match self.cidr {
            IpNet::V4(n) => n.hosts().next().map(IpAddr::V4),
            IpNet::V6(n) => n.hosts().next().map(IpAddr::V6),
        };
        candidates
            .into_iter()
            .chain(own.into_iter().chain(Some(self.cidr.addr())))
            .find(|ip| self.contains(*ip))
    }
}

/// How a policy peer (or podSelector) picks a set of pods.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PodPeer {
    /// `None`: every namespace (`namespaceSelector: {}`).
    pub namespace: Option<String>,
    /// `None`: every pod of the namespaces.
    pub pods: Option<LabelSelector>,
}

impl PodPeer {
    pub fn namespace_selector(&self) -> LabelSelector {
        let mut sel = LabelSelector::default();
        if let Some(ns) = &self.namespace {
            sel.match_labels
                .insert(NAMESPACE_NAME_LABEL.to_string(), ns.clone());
        }
        sel
    }
}

/// The pods on one end of a flow.
#[derive(Clone, Debug, Serialize)]
pub struct PodSet {
    /// Endpoints meant that policies can see (never host-network ones).
    pub endpoints: Vec<usize>,
    /// Host-network endpoints meant: no selector matches them, so nothing is
    /// generated for them, but `verify` checks their connections.
    pub host_network: Vec<usize>,
    /// How a peer selects exactly them; `None` when the end matches nothing
    /// that a selector could name (an unknown workload).
    pub peer: Option<PodPeer>,
    /// Egress subjects: per namespace, the podSelector of these pods there.
    pub subjects: Vec<(String, LabelSelector)>,
}

/// One end of a flow.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum Sources {
    Pods(PodSet),
    Addresses { blocks: Vec<Block> },
}

/// A destination pod and the ports it receives the flow on.
#[derive(Clone, Debug, Serialize)]
pub struct DstEndpoint {
    pub endpoint: usize,
    pub ports: Vec<PortSel>,
    /// The podSelector that picks this workload alone.
    pub selector: LabelSelector,
    /// Why a port differs from what the flow says (Service translation).
    pub notes: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum Destinations {
    Pods {
        /// Policy-visible destination pods.
        members: Vec<DstEndpoint>,
        /// Host-network destination pods: checked by `verify`, never selected.
        host_members: Vec<DstEndpoint>,
        /// One peer and port list for egress rules, when the flow's selector
        /// and literal ports say exactly what every member receives.
        uniform: Option<(PodPeer, Vec<PortSel>)>,
    },
    Addresses {
        blocks: Vec<Block>,
        ports: Vec<PortSel>,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    /// Worth knowing; nothing is wrong.
    Note,
    /// The flow probably does not mean what it says.
    Warning,
    /// The flow, or one of its ports, means nothing in this cluster: it
    /// matches no pod, names a port nobody declares, or has no addresses.
    /// Nothing (or not all of it) is generated, and verify fails.
    Error,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    pub severity: Severity,
    /// A stable identifier: `matches-nothing`, `no-listener`, `service-port`,
    /// `host-network`, `not-pod-traffic`, `same-labels`, `no-addresses`; for
    /// `ingress-backends`: `ingress-outside`, `ingress-unresolved`, `no-manifests`.
    pub code: &'static str,
    /// `flows[2]` or `allowDns`.
    pub flow: String,
    pub line: usize,
    pub message: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct ExpandedFlow {
    #[serde(skip)]
    pub def: FlowDef,
    pub sources: Sources,
    pub destinations: Destinations,
}
