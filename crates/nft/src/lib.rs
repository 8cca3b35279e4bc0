//! NetworkPolicies enforced by the Linux kernel, and checked with real packets.
//!
//! [`ruleset`] compiles the engine's decisions (the same compiled bitsets
//! `netpol matrix` reads) into one nftables table, `table inet netpol`.
//! [`probe`] builds throwaway network namespaces, applies that ruleset and
//! measures every connection with real TCP, UDP and SCTP packets.

pub mod addr;
mod ports;
pub mod probe;
pub mod ruleset;

pub use ruleset::{CompileError, Options, Scope, compile};
