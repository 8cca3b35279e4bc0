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
use netpol_model::text::{SHOWN, plural, short_list};
use netpol_model::{Cluster, Direction, Endpoint, LabelSelector, Policy};

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
    /// Per namespace: its host-network endpoints, ascending.
    host_by_namespace: HashMap<&'a str, Vec<usize>>,
    namespace_order: Vec<&'a str>,
    /// Per label: the classes that carry it, ascending.
    by_label: HashMap<(&'a str, &'a str), Vec<usize>>,
}

impl<'a> Ctx<'a> {
    pub fn new(cluster: &'a Cluster, engine: &'a Engine<'a>, classes: &'a Classes) -> Ctx<'a> {
        let mut by_namespace: HashMap<&str, Vec<usize>> = HashMap::new();
        let mut namespace_order = Vec::new();
        for (i, e) in cluster.endpoints.iter().enumerate() {
            let pods = by_namespace.entry(&e.namespace).or_default();
            if pods.is_empty() {
                namespace_order.push(e.namespace.as_str());
            }
            pods.push(i);
        }
        let mut host_by_namespace: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, e) in cluster.endpoints.iter().enumerate() {
            if e.host_network {
                host_by_namespace.entry(&e.namespace).or_default().push(i);
            }
        }
        let mut by_label: HashMap<(&str, &str), Vec<usize>> = HashMap::new();
        for (c, e) in classes.reduced.endpoints.iter().enumerate() {
            for (k, v) in &e.labels {
                by_label.entry((k, v)).or_default().push(c);
            }
        }
        Ctx {
            cluster,
            engine,
            classes,
            by_namespace,
            host_by_namespace,
            namespace_order,
            by_label,
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

    /// How many pods the classes in `set` hold, and the first `SHOWN + 1` of
    /// them, ascending: what [`short_list`] shows of them.
    pub fn first_pods(&self, classes: impl Iterator<Item = usize>) -> (usize, Vec<usize>) {
        let mut count = 0;
        let mut first = Vec::new();
        for c in classes {
            let members = &self.classes.members[c];
            count += members.len();
            // Members are ascending: the first pods overall are among each
            // class's first.
            first.extend(members.iter().take(SHOWN + 1).map(|&i| i as usize));
        }
        first.sort_unstable();
        first.truncate(SHOWN + 1);
        (count, first)
    }

    /// `short_list` of the ids of the pods of the classes in `set`.
    pub fn short_pods(&self, classes: impl Iterator<Item = usize>) -> String {
        let (count, first) = self.first_pods(classes);
        short_list_of(count, |i| self.cluster.endpoints[first[i]].id())
    }

    /// Classes that may match `sel`, ascending: those carrying the rarest of
    /// its matchLabels, or every class when it has none.
    pub fn classes_with_labels(&self, sel: &LabelSelector) -> Vec<usize> {
        let rarest = sel.match_labels.iter().map(|(k, v)| {
            self.by_label
                .get(&(k.as_str(), v.as_str()))
                .map_or(&[][..], Vec::as_slice)
        });
        match rarest.min_by_key(|classes| classes.len()) {
            Some(classes) => classes.to_vec(),
            None => (0..self.classes.len()).collect(),
        }
    }

    /// The namespaces with endpoints, in the order of their endpoints.
    pub fn namespaces(&self) -> &[&'a str] {
        &self.namespace_order
    }

    /// The host-network endpoints of namespace `ns`, ascending.
    pub fn host_in_namespace(&self, ns: &str) -> &[usize] {
        self.host_by_namespace.get(ns).map_or(&[], Vec::as_slice)
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
    tiers::check(ctx, &mut out);
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
fn pods_with_labels(pods: &[&Endpoint]) -> String {
    pods_with_labels_of(pods.len(), pods)
}

/// [`pods_with_labels`] of `len` pods of which `first` are the first
/// (at least as many as the list shows).
fn pods_with_labels_of(len: usize, first: &[&Endpoint]) -> String {
    short_list_of(len, |i| {
        let e = first[i];
        let labels: Vec<String> = e.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
        if labels.is_empty() {
            format!("{} (no labels)", e.id())
        } else {
            format!("{} ({})", e.id(), labels.join(","))
        }
    })
}

/// [`short_list`] of `len` items, formatting only the ones it shows: the
/// lists of a large cluster's pods run to thousands.
fn short_list_of(len: usize, item: impl Fn(usize) -> String) -> String {
    if len <= SHOWN + 1 {
        return short_list(&(0..len).map(item).collect::<Vec<_>>());
    }
    let shown: Vec<String> = (0..SHOWN).map(item).collect();
    format!("{} and {} more", shown.join(", "), len - SHOWN)
}
