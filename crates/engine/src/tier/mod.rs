//! The Admin and Baseline tiers of ClusterNetworkPolicy around NetworkPolicy.
//!
//! Per direction: the Admin tier, then NetworkPolicy, then the Baseline tier,
//! then the default (allow). Within a tier, policies by priority (then name,
//! since the API leaves equal priorities undefined) and rules in order; the
//! first rule that matches decides, and Pass skips the rest of its tier.
//! A connection needs its egress side and its ingress side allowed, so an
//! egress Accept still leaves the destination's ingress to decide.

mod compile;
mod decide;
mod eval;
mod matrix;
mod trace;

pub use compile::{CompiledClusterPolicy, CompiledTierPeer, CompiledTierRule, CompiledTiers};
pub use decide::Outcome;
pub use eval::{describe_tier_peer, describe_tier_port, tier_port_admits};
pub(crate) use eval::{peer_matches_address, rule_ports_admit};
pub use trace::{Layer, TierPolicyTrace, TierRuleTrace, TierTrace};
