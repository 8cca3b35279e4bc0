//! Common NetworkPolicy mistakes, found before they reach the cluster.
//!
//! [`lint`] runs every rule of the [`CATALOG`] over a loaded [`Cluster`] and
//! returns findings with a stable id (`NP001`...), a severity, the file and
//! line they point at, and a hint on how to fix them. Rules that depend on
//! what a selector matches ask the engine, so lint and the verdicts agree.

mod finding;
mod rules;

pub use finding::{CATALOG, Finding, Location, RuleInfo, Severity, rule_info};

use netpol_engine::Engine;
use netpol_model::Cluster;

/// Every finding for `cluster`, sorted by file, line, id and message.
pub fn lint(cluster: &Cluster) -> Vec<Finding> {
    let engine = Engine::new(cluster);
    let mut findings = rules::run_all(&engine);
    findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    findings.dedup();
    findings
}
