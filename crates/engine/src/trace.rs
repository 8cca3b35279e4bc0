//! The explanation of a verdict, as data. Renderers turn it into text or JSON.

use netpol_model::{Direction, Family, Protocol};
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Verdict {
    pub src: String,
    pub dst: String,
    pub port: u16,
    pub protocol: Protocol,
    /// Allowed over at least one address family the connection can use; when
    /// the answer differs per family, `byFamily` says which.
    pub allowed: bool,
    /// What settled the verdict.
    pub decided_by: Decision,
    /// The address families the connection can use: those both ends have an
    /// address of (an end with no known address could use either). Empty when
    /// they have none in common.
    pub families: Vec<Family>,
    /// Set when source and destination are one workload template that
    /// stands for several pods (`namespace/name`): the verdict is then about
    /// traffic between two of its replicas, which policies decide.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub between_replicas: Option<String>,
    /// The trace of the first family in `families` (with no family in common:
    /// of addresses of either family).
    pub egress: SideTrace,
    pub ingress: SideTrace,
    /// Set when the answer depends on a rule netpol cannot decide offline (a
    /// ClusterNetworkPolicy `domainNames` peer); `allowed` is then false.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub undecidable: Option<String>,
    /// Only when the policies decide differently per family (both ends
    /// dual-stack, an ipBlock in play): each family's verdict and trace.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub by_family: Vec<FamilyVerdict>,
}

impl Verdict {
    /// The families the connection is allowed over, when that is some but
    /// not all of those it can use.
    pub fn only_over(&self) -> Option<Family> {
        let allowed: Vec<Family> = self
            .by_family
            .iter()
            .filter(|f| f.allowed)
            .map(|f| f.family)
            .collect();
        match allowed.as_slice() {
            [one] if self.by_family.len() > 1 => Some(*one),
            _ => None,
        }
    }
}

/// The verdict over one address family.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FamilyVerdict {
    pub family: Family,
    pub allowed: bool,
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
    /// The two ends have no address family in common (one IPv4-only, the
    /// other IPv6-only): no connection between them is possible.
    NoCommonFamily,
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
    /// Depends on a rule that cannot be decided offline (domainNames).
    Undecidable,
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
    /// The Admin and Baseline tiers, when the cluster has cluster policies
    /// and the subject is a pod they can select.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tiers: Option<Box<crate::tier::TierTrace>>,
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
