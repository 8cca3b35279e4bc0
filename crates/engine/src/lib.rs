//! netpol's semantic core: `networking.k8s.io/v1` NetworkPolicy, exactly, and
//! the Admin and Baseline tiers of ClusterNetworkPolicy around it ([`tier`]).
//!
//! [`Engine::new`] compiles a cluster's policies once. [`Engine::verdict`]
//! decides one connection and explains it; [`Engine::matrix`] decides every
//! connection at once from the same compiled rules, so the two cannot disagree.
//! Pure functions on the model: no I/O.

mod addresses;
mod class_matrix;
mod classes;
mod column;
mod compile;
mod family;
mod index;
mod matrix;
mod node_pods;
mod restrict;
pub mod selector;
#[doc(hidden)]
pub mod test_hook;
pub mod tier;
mod trace;
mod verdict;

pub use addresses::{FromAddresses, ToAddresses};
pub use class_matrix::{ClassMatrix, WorkloadSums};
pub use classes::Classes;
pub use compile::{
    CompiledPeer, CompiledPolicy, CompiledRule, Engine, family_index, ip_in_block,
    port_rule_admits, ports_admit,
};
pub use matrix::{Cell, Column, FamilySplit, Matrix, PairSummary};
pub use node_pods::NodePods;
pub use restrict::Restricted;
pub use tier::Outcome;
pub use trace::{
    Check, Decision, FamilyVerdict, PolicyTrace, RuleTrace, SideStatus, SideTrace, Verdict,
};
pub use verdict::{Party, describe_peer, describe_port};
