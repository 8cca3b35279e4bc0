//! The diff as data; renderers turn it into text, JSON or markdown.

use std::sync::Arc;

use netpol_engine::{SideStatus, SideTrace};

use netpol_model::{Direction, Family, Protocol};
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Diff {
    pub summary: Summary,
    pub endpoints: EndpointChanges,
    /// Policies added, removed, renamed or edited, whether or not that changed connectivity.
    pub policies: Vec<PolicyChange>,
    /// Connections present on both sides whose verdict changed: those of
    /// the first pairs of endpoints ([`crate::PAIRS_LISTED`]), in (source,
    /// destination) order.
    pub connections: Vec<ConnectionChange>,
    /// Changed connections (a port and protocol of a pair, over one family
    /// when only one changed) after those, counted only.
    #[serde(skip_serializing_if = "is_zero")]
    pub connections_not_listed: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl Diff {
    /// Whether a connection present on both sides changed, listed or not.
    pub fn verdicts_changed(&self) -> bool {
        !self.connections.is_empty() || self.connections_not_listed > 0
    }

    /// Whether the set of allowed connections differs: a verdict changed, or
    /// endpoints or ports appeared or disappeared.
    pub fn connectivity_changed(&self) -> bool {
        self.verdicts_changed()
            || !self.endpoints.added.is_empty()
            || !self.endpoints.removed.is_empty()
            || !self.endpoints.ports_added.is_empty()
            || !self.endpoints.ports_removed.is_empty()
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// Connections (src, dst, port, protocol) denied before and allowed after;
    /// one that changes over one address family only counts once for it.
    pub newly_allowed: usize,
    pub newly_denied: usize,
    pub endpoints_added: usize,
    pub endpoints_removed: usize,
    pub policies_changed: usize,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EndpointChanges {
    pub added: Vec<String>,
    pub removed: Vec<String>,
    /// Ports an endpoint present on both sides declares only after / only before.
    pub ports_added: Vec<PortChange>,
    pub ports_removed: Vec<PortChange>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PortChange {
    pub endpoint: String,
    pub port: u16,
    pub protocol: Protocol,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PolicyChangeKind {
    Added,
    Removed,
    /// Same namespace and spec, another name.
    Renamed,
    /// Same name, different selector, policyTypes or rules.
    Changed,
}

impl PolicyChangeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PolicyChangeKind::Added => "added",
            PolicyChangeKind::Removed => "removed",
            PolicyChangeKind::Renamed => "renamed",
            PolicyChangeKind::Changed => "changed",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyChange {
    /// `namespace/name` (the new name for a rename).
    pub policy: String,
    pub change: PolicyChangeKind,
    /// The old name of a renamed policy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub renamed_from: Option<String>,
    /// `file:line` where the policy is (the old side for a removed one).
    pub location: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
/// The verdict after the change.
pub enum Verdict {
    Allowed,
    Denied,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct PortProto {
    pub port: u16,
    pub protocol: Protocol,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionChange {
    pub src: String,
    pub dst: String,
    /// `allowed`: newly allowed; `denied`: newly denied.
    pub change: Verdict,
    /// Set when the change is over this address family only: the policies
    /// decide the connection differently per family on one side or both
    /// (dual-stack pods, an ipBlock), and the other family's verdict is
    /// unchanged or changed the other way (a change of its own).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub family: Option<Family>,
    /// Sorted; every port shares the same explanation.
    pub ports: Vec<PortProto>,
    /// Shared by the connections of a class pair: a million connections
    /// changed by one policy have the same few sides.
    pub egress: Arc<SideChange>,
    pub ingress: Arc<SideChange>,
    pub causes: Vec<Cause>,
}

/// One side of the connection (the source's egress or the destination's ingress), before and after.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct SideChange {
    pub before: SideState,
    pub after: SideState,
}

impl SideChange {
    pub fn new(before: &SideTrace, after: &SideTrace) -> SideChange {
        SideChange {
            before: SideState::from(before),
            after: SideState::from(after),
        }
    }

    pub fn changed(&self) -> bool {
        self.before.allowed != self.after.allowed
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SideState {
    pub allowed: bool,
    pub status: Status,
    /// The policies that select the subject for this direction.
    pub isolated_by: Vec<String>,
    /// Those among them that allow the connection.
    pub allowed_by: Vec<String>,
}

impl From<&SideTrace> for SideState {
    fn from(t: &SideTrace) -> SideState {
        SideState {
            allowed: t.allowed,
            status: Status::from(t.status),
            isolated_by: t.policies.iter().map(|p| p.policy.clone()).collect(),
            allowed_by: t
                .policies
                .iter()
                .filter(|p| p.allowed)
                .map(|p| p.policy.clone())
                .collect(),
        }
    }
}

/// The engine's side status, as in `netpol explain`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Outside the cluster or on the host network: no policy can apply.
    NotApplicable,
    NotIsolated,
    Allowed,
    Denied,
    /// Depends on a cluster policy rule that cannot be decided offline.
    Undecidable,
}

impl From<SideStatus> for Status {
    fn from(s: SideStatus) -> Status {
        match s {
            SideStatus::NotApplicable => Status::NotApplicable,
            SideStatus::NotIsolated => Status::NotIsolated,
            SideStatus::Allowed => Status::Allowed,
            SideStatus::Denied => Status::Denied,
            SideStatus::Undecidable => Status::Undecidable,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CauseKind {
    PolicyAdded,
    PolicyRemoved,
    PolicyChanged,
    /// No policy changed: an endpoint's labels, ports or node, or a namespace's labels did.
    EndpointChanged,
}

/// Why one side of a connection flipped.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Cause {
    pub kind: CauseKind,
    /// The policy (`namespace/name`), endpoint or namespace concerned.
    pub subject: String,
    pub direction: Direction,
    /// What it does to the connection, for people.
    pub effect: String,
}
