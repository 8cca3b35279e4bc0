//! The explanation of a verdict, as data. Renderers turn it into text or JSON.

use netpol_model::{Direction, Protocol};
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Verdict {
    pub src: String,
    pub dst: String,
    pub port: u16,
    pub protocol: Protocol,
    pub allowed: bool,
    /// What settled the verdict.
    pub decided_by: Decision,
    pub egress: SideTrace,
    pub ingress: SideTrace,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Decision {
    /// A pod can always reach itself.
    SamePod,
    /// Traffic between a pod and the node it runs on is always allowed.
    NodeTraffic,
    /// Both the source's egress and the destination's ingress were evaluated.
    Policies,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SideStatus {
    /// No policy can apply: the party is outside the cluster or on the host network.
    NotApplicable,
    /// No policy of this direction selects the party.
    NotIsolated,
    Allowed,
    Denied,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SideTrace {
    pub direction: Direction,
    /// The party whose policies are evaluated: the source for egress, the destination for ingress.
    pub subject: String,
    pub status: SideStatus,
    pub allowed: bool,
    pub reason: String,
    pub policies: Vec<PolicyTrace>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyTrace {
    pub policy: String,
    /// `file:line` of the policy.
    pub location: String,
    pub allowed: bool,
    pub rules: Vec<RuleTrace>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleTrace {
    /// `ingress[0]` or `egress[1]`.
    pub rule: String,
    pub line: usize,
    pub allowed: bool,
    pub peers: Vec<Check>,
    pub ports: Vec<Check>,
}

/// One peer or port entry held against the connection.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Check {
    /// `from[1]`, `to[0]`, `ports[0]`; just `from` / `ports` when the rule leaves it out.
    pub item: String,
    pub description: String,
    pub matched: bool,
    pub reason: String,
}
