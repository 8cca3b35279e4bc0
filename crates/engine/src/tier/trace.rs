//! The tier steps of a side's trace, as data.

use netpol_model::{Action, Tier};
use serde::Serialize;

use crate::trace::Check;

/// What settled one side of a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Layer {
    Admin,
    NetworkPolicy,
    Baseline,
    /// No tier decided: Kubernetes' default, allow.
    Default,
}

/// How the tiers decided one side: the Admin and Baseline policies that
/// select the subject, each rule held against the connection up to the one
/// that decided, and the path taken.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TierTrace {
    pub admin: Vec<TierPolicyTrace>,
    /// Whether evaluation reached the Baseline tier.
    pub reached_baseline: bool,
    pub baseline: Vec<TierPolicyTrace>,
    pub decided_by: Option<Layer>,
    /// The path, one step per layer: `Pass in admin/x rule 2 (name)`,
    /// `NetworkPolicy: not isolated`, `Deny in baseline/default rule 0`.
    pub path: Vec<String>,
    /// Set when the answer depends on a rule netpol cannot decide offline
    /// (a `domainNames` peer): what it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub undecidable: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TierPolicyTrace {
    /// `admin/name` or `baseline/name`.
    pub policy: String,
    pub kind: String,
    pub tier: Tier,
    pub priority: u32,
    /// `file:line` of the policy.
    pub location: String,
    /// The rules evaluated, in order, up to the one that decided.
    pub rules: Vec<TierRuleTrace>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TierRuleTrace {
    /// `ingress[0]` or `egress[2]`.
    pub rule: String,
    pub index: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub action: Action,
    pub line: usize,
    pub matched: bool,
    /// A peer of the rule cannot be decided offline (domainNames).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub undecidable: bool,
    pub peers: Vec<Check>,
    pub ports: Vec<Check>,
}
