//! The rules, one module per family. Each `check` appends its findings.

mod ipblock;
mod isolation;
mod peers;
mod policy_types;
mod ports;
mod redundancy;
mod selection;
mod tiers;

use std::collections::HashMap;

use fixedbitset::FixedBitSet;
use netpol_engine::{Classes, Engine};
use netpol_model::text::short_list;
use netpol_model::{Cluster, Direction, Endpoint, Policy};

use crate::finding::Finding;

/// What the rules read: the cluster as loaded, and the engine compiled over
/// its equivalence classes. The engine's endpoints (and so every compiled
/// bitset) are classes; findings that name pods expand them.
pub(crate) struct Ctx<'a> {
    /// Every pod, as loaded.
    pub cluster: &'a Cluster,
    /// Over `classes.reduced`: endpoint `c` is class `c`.
    pub engine: &'a Engine<'a>,
    pub classes: &'a Classes,
    /// Per namespace: its endpoints, ascending.
    by_namespace: HashMap<&'a str, Vec<usize>>,
}

impl<'a> Ctx<'a> {
    pub fn new(cluster: &'a Cluster, engine: &'a Engine<'a>, classes: &'a Classes) -> Ctx<'a> {
        let mut by_namespace: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, e) in cluster.endpoints.iter().enumerate() {
            by_namespace.entry(&e.namespace).or_default().push(i);
        }
        Ctx {
            cluster,
            engine,
            classes,
            by_namespace,
        }
    }

    /// The class of endpoint `i`.
    pub fn class(&self, i: usize) -> usize {
        self.classes.class_of[i] as usize
    }

    /// The endpoints of namespace `ns`, ascending.
    pub fn in_namespace(&self, ns: &str) -> &[usize] {
        self.by_namespace.get(ns).map_or(&[], Vec::as_slice)
    }

    /// The endpoints of the classes in `set`, ascending.
    pub fn pods(&self, set: &FixedBitSet) -> Vec<usize> {
        let mut pods: Vec<usize> = set
            .ones()
            .flat_map(|c| self.classes.members[c].iter().map(|&i| i as usize))
            .collect();
        pods.sort_unstable();
        pods
    }

    /// The classes in `set` in the order of their first member, each with
    /// its representative: iterating them finds what iterating the pods in
    /// order would first find.
    pub fn classes_in_pod_order(&self, set: &FixedBitSet) -> Vec<(usize, &'a Endpoint)> {
        let mut classes: Vec<usize> = set.ones().collect();
        classes.sort_unstable_by_key(|&c| self.classes.members[c][0]);
        classes
            .into_iter()
            .map(|c| (c, &self.classes.reduced.endpoints[c]))
            .collect()
    }
}

pub(crate) fn run_all(ctx: &Ctx) -> Vec<Finding> {
    let engine = ctx.engine;
    let mut out = Vec::new();
    selection::check(ctx, &mut out);
    peers::check(ctx, &mut out);
    isolation::check(ctx, &mut out);
    ports::check(ctx, &mut out);
    redundancy::check(engine, &mut out);
    ipblock::check(ctx, &mut out);
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
