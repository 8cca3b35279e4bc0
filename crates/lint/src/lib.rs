//! Common NetworkPolicy mistakes, found before they reach the cluster.
//!
//! [`lint`] runs every rule of the [`CATALOG`] over a loaded [`Cluster`] and
//! returns findings with a stable id (`NP001`...), a severity, the file and
//! line they point at, and a hint on how to fix them. Rules that depend on
//! what a selector matches ask the engine, so lint and the verdicts agree.

mod finding;
mod rules;

pub use finding::{CATALOG, Finding, Location, RuleInfo, Severity, rule_info};

use netpol_engine::{Classes, Engine};
use netpol_model::Cluster;

/// Every finding for `cluster`, sorted by file, line, id and message.
///
/// The engine is compiled over equivalence classes (pods no policy can tell
/// apart), not every pod; findings that name pods list the classes' members.
pub fn lint(cluster: &Cluster) -> Vec<Finding> {
    lint_with(cluster, &Classes::new(cluster))
}

/// [`lint`] through the given `classes` of `cluster`'s endpoints:
/// [`Classes::per_pod`] lints with the engine over every pod, which must
/// give the same findings as any other classes.
pub fn lint_with(cluster: &Cluster, classes: &Classes) -> Vec<Finding> {
    let engine = Engine::new(&classes.reduced);
    let ctx = rules::Ctx::new(cluster, &engine, classes);
    let mut findings = rules::run_all(&ctx);
    findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    findings.dedup();
    findings
}
