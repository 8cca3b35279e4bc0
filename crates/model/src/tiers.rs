//! ClusterNetworkPolicy (policy.networking.k8s.io/v1alpha2) and the Nodes its
//! `nodes` peers select: the Admin and Baseline tiers around NetworkPolicy.
//! The legacy AdminNetworkPolicy and BaselineAdminNetworkPolicy (v1alpha1)
//! load into the same types.

use std::fmt;
use std::net::IpAddr;

use ipnet::IpNet;
use serde::Serialize;

use crate::types::{Direction, LabelSelector, Labels, Origin, Protocol};

/// The two tiers a ClusterNetworkPolicy can use; NetworkPolicy sits between them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Tier {
    Admin,
    Baseline,
}

impl Tier {
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Admin => "Admin",
            Tier::Baseline => "Baseline",
        }
    }
}

impl fmt::Display for Tier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Action {
    Accept,
    Deny,
    Pass,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Accept => "Accept",
            Action::Deny => "Deny",
            Action::Pass => "Pass",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The pods a cluster policy applies to (never host-network ones).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum TierSubject {
    /// Every pod in the namespaces the selector matches.
    Namespaces(LabelSelector),
    Pods {
        namespace_selector: LabelSelector,
        pod_selector: LabelSelector,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum TierPeer {
    /// Every pod (not host-network) in the matching namespaces.
    Namespaces {
        selector: LabelSelector,
        line: usize,
    },
    Pods {
        namespace_selector: LabelSelector,
        pod_selector: LabelSelector,
        line: usize,
    },
    /// Egress only: addresses, pods' and nodes' included.
    Networks { cidrs: Vec<IpNet>, line: usize },
    /// Egress only: the addresses of the matching Node objects.
    Nodes {
        selector: LabelSelector,
        line: usize,
    },
    /// Egress only: cannot be decided offline.
    DomainNames { names: Vec<String>, line: usize },
}

impl TierPeer {
    pub fn line(&self) -> usize {
        match self {
            TierPeer::Namespaces { line, .. }
            | TierPeer::Pods { line, .. }
            | TierPeer::Networks { line, .. }
            | TierPeer::Nodes { line, .. }
            | TierPeer::DomainNames { line, .. } => *line,
        }
    }
}

/// One entry of a rule's `protocols`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum TierPort {
    /// One port of one protocol.
    Number { protocol: Protocol, port: u16 },
    /// `start..=end` of one protocol.
    Range {
        protocol: Protocol,
        start: u16,
        end: u16,
    },
    /// A container port name on the destination pod, whatever its protocol.
    Named(String),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TierRule {
    pub name: Option<String>,
    pub action: Action,
    /// At least one (the CRD requires it).
    pub peers: Vec<TierPeer>,
    /// Empty: every port of every protocol.
    pub ports: Vec<(TierPort, usize)>,
    pub line: usize,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterPolicy {
    pub name: String,
    pub tier: Tier,
    /// 0-1000; lower is evaluated first within the tier.
    pub priority: u32,
    pub subject: TierSubject,
    pub ingress: Vec<TierRule>,
    pub egress: Vec<TierRule>,
    /// The kind as written: `ClusterNetworkPolicy`, or a legacy
    /// `AdminNetworkPolicy` / `BaselineAdminNetworkPolicy`.
    pub kind: String,
    pub origin: Origin,
}

impl ClusterPolicy {
    /// `admin/name` or `baseline/name`, the name traces and findings use.
    pub fn id(&self) -> String {
        let tier = match self.tier {
            Tier::Admin => "admin",
            Tier::Baseline => "baseline",
        };
        format!("{tier}/{}", self.name)
    }

    pub fn rules(&self, direction: Direction) -> &[TierRule] {
        match direction {
            Direction::Ingress => &self.ingress,
            Direction::Egress => &self.egress,
        }
    }
}

/// A Node: its labels (for `nodes` peers) and its addresses.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Node {
    pub name: String,
    pub labels: Labels,
    /// The IP addresses among `status.addresses` (host names are left out).
    pub addresses: Vec<IpAddr>,
    pub origin: Origin,
}
