//! The rules, one module per family. Each `check` appends its findings.

mod ipblock;
mod isolation;
mod peers;
mod policy_types;
mod ports;
mod redundancy;
mod selection;
mod tiers;

use netpol_engine::Engine;
use netpol_model::text::short_list;
use netpol_model::{Direction, Policy};

use crate::finding::Finding;

pub(crate) fn run_all(engine: &Engine) -> Vec<Finding> {
    let mut out = Vec::new();
    selection::check(engine, &mut out);
    peers::check(engine, &mut out);
    isolation::check(engine, &mut out);
    ports::check(engine, &mut out);
    redundancy::check(engine, &mut out);
    ipblock::check(engine, &mut out);
    policy_types::check(engine, &mut out);
    tiers::check(engine, &mut out);
    out
}

/// The directions whose rules the engine applies for this policy; rules of
/// the others are ignored (NP011 reports them), so other rules skip them.
fn effective_directions(policy: &Policy) -> impl Iterator<Item = Direction> + '_ {
    [Direction::Ingress, Direction::Egress]
        .into_iter()
        .filter(|d| policy.affects(*d))
}

/// `ns/a (app=web), ns/b (no labels)`: what a selector had to choose from.
fn pods_with_labels<'a>(pods: impl Iterator<Item = &'a netpol_model::Endpoint>) -> String {
    let described: Vec<String> = pods
        .map(|e| {
            let labels: Vec<String> = e.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
            if labels.is_empty() {
                format!("{} (no labels)", e.id())
            } else {
                format!("{} ({})", e.id(), labels.join(","))
            }
        })
        .collect();
    short_list(&described)
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}
