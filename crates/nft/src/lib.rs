//! NetworkPolicies enforced by the Linux kernel, and checked with real packets.
//!
//! [`ruleset`] compiles the policies into one nftables table, `table inet
//! netpol`: selectors as sets of the selected pods' addresses, ipBlocks as
//! their own CIDRs and excepts, so the kernel, not the engine, decides which
//! addresses a block admits.
//! [`probe`] builds throwaway network namespaces, applies that ruleset and
//! measures every connection with real TCP, UDP and SCTP packets.
//! [`tiers`] adds the ClusterNetworkPolicy tiers: an Admin part before the
//! NetworkPolicy rules and a Baseline part after them in each pod's chains.

pub mod addr;
mod chain;
mod ports;
pub mod probe;
pub mod ruleset;
mod sets;
mod text;
mod tiers;

pub use ruleset::{CompileError, Options, Scope, WriteError, compile, write};
pub use tiers::domain_name_rules;
