//! Which connections changed, found over classes rather than pods.
//!
//! A pod's cell is its class's cell on each side (see [`ClassMatrix`]), so
//! pods present on both sides are grouped by their pair of classes (old,
//! new): two pods of one such joint class have the same cells before and
//! after. A pair of joint classes is compared once per column; one that
//! changed is a group, counted by its pods' pairs and expanded to them only
//! for the sources a diff lists. The pairs each side decides per pod (a pod
//! to itself, a pod and its own node) are taken out of the groups and
//! compared one by one, as they may differ from their classes on either
//! side.

use std::collections::{HashMap, HashSet};

use netpol_engine::{ClassMatrix, Column};
use netpol_model::Protocol;
use rayon::prelude::*;

/// A connection present on both sides whose verdict differs (over some
/// address family), by endpoint index on each side.
#[derive(Clone, Copy)]
pub(crate) struct ChangedCell {
    pub old_src: usize,
    pub old_dst: usize,
    pub new_src: usize,
    pub new_dst: usize,
    pub port: u16,
    pub protocol: Protocol,
    /// The (source, destination) joint classes whose comparison found it;
    /// `None` for a pair decided per pod. Every cell of one class pair and
    /// port has the same verdicts but for the names.
    pub class_pair: Option<(u32, u32)>,
}

impl ChangedCell {
    fn new(
        (old_src, old_dst): (usize, usize),
        (new_src, new_dst): (usize, usize),
        column: &Column,
        class_pair: Option<(u32, u32)>,
    ) -> ChangedCell {
        ChangedCell {
            old_src,
            old_dst,
            new_src,
            new_dst,
            port: column.port,
            protocol: column.protocol,
            class_pair,
        }
    }
}

/// Pods present on both sides, grouped by (old class, new class).
struct Joint {
    /// Per joint class: its pods as (new index, old index), ascending.
    members: Vec<Vec<(usize, usize)>>,
    old_class: Vec<usize>,
    new_class: Vec<usize>,
    /// Per new endpoint: its joint class, when it is on both sides.
    of_new: Vec<Option<u32>>,
    /// Per new endpoint: the old one of the same name.
    old_of_new: Vec<Option<usize>>,
}

impl Joint {
    fn new(old: &ClassMatrix, new: &ClassMatrix, old_of_new: &[Option<usize>]) -> Joint {
        let mut index: HashMap<(usize, usize), usize> = HashMap::new();
        let mut joint = Joint {
            members: Vec::new(),
            old_class: Vec::new(),
            new_class: Vec::new(),
            of_new: vec![None; old_of_new.len()],
            old_of_new: old_of_new.to_vec(),
        };
        for (n, o) in old_of_new.iter().enumerate() {
            let Some(o) = *o else { continue };
            let key = (old.class_of(o), new.class_of(n));
            let j = *index.entry(key).or_insert_with(|| {
                joint.members.push(Vec::new());
                joint.old_class.push(key.0);
                joint.new_class.push(key.1);
                joint.members.len() - 1
            });
            joint.members[j].push((n, o));
            joint.of_new[n] = Some(j as u32);
        }
        joint
    }
}

/// The cells one pair of joint classes changed on one port: the pairs of
/// their pods that neither side decides per pod.
pub(crate) struct Group {
    /// One of them, standing for all: they have the same verdicts but for
    /// the names.
    pub first: ChangedCell,
    /// How many there are.
    pub cells: usize,
}

/// Every changed cell, held as groups of cells that change alike plus the
/// cells decided per pod: at 150,000 pods one removed allow changes tens of
/// millions of cells, and only those listed are ever built one by one.
pub(crate) struct Changes {
    joint: Joint,
    /// Pairs of pods (new indexes) that either side decides per pod.
    per_pod_pairs: HashSet<(usize, usize)>,
    pub groups: Vec<Group>,
    /// The changed cells decided per pod, in (src, dst, port, protocol)
    /// order of the new side.
    pub per_pod: Vec<ChangedCell>,
}

/// The changed cells. `old_of_new` maps each new endpoint to the old one of
/// the same name.
pub(crate) fn changed_cells(
    old: &ClassMatrix,
    new: &ClassMatrix,
    old_of_new: &[Option<usize>],
) -> Changes {
    let joint = Joint::new(old, new, old_of_new);
    let per_pod_pairs = per_pod_pairs(old, new, old_of_new);
    let mut per_pod_of_classes: HashMap<(u32, u32), usize> = HashMap::new();
    for &(s, d) in &per_pod_pairs {
        if let (Some(js), Some(jd)) = (joint.of_new[s], joint.of_new[d]) {
            *per_pod_of_classes.entry((js, jd)).or_default() += 1;
        }
    }
    let groups: Vec<Group> = (0..joint.members.len())
        .into_par_iter()
        .flat_map_iter(|jd| {
            let mut out = Vec::new();
            let (new_dst, old_dst) = joint.members[jd][0];
            let old_columns = old.columns(old_dst);
            for nc in new.columns(new_dst) {
                let Some(oc) = same_column(old_columns, nc) else {
                    continue;
                };
                for js in 0..joint.members.len() {
                    let (os, ns) = (joint.old_class[js], joint.new_class[js]);
                    let before = (oc.allowed.contains(os), oc.only_over(os));
                    let after = (nc.allowed.contains(ns), nc.only_over(ns));
                    if before == after {
                        continue;
                    }
                    let class_pair = (js as u32, jd as u32);
                    let (sources, destinations) = (&joint.members[js], &joint.members[jd]);
                    let cells = sources.len() * destinations.len()
                        - per_pod_of_classes.get(&class_pair).copied().unwrap_or(0);
                    let first = sources
                        .iter()
                        .flat_map(|&s| destinations.iter().map(move |&d| (s, d)))
                        .find(|&((new_src, _), (new_dst, _))| {
                            !per_pod_pairs.contains(&(new_src, new_dst))
                        });
                    if let Some(((new_src, old_src), (new_dst, old_dst))) = first {
                        let first = ChangedCell::new(
                            (old_src, old_dst),
                            (new_src, new_dst),
                            nc,
                            Some(class_pair),
                        );
                        out.push(Group { first, cells });
                    }
                }
            }
            out
        })
        .collect();
    let mut per_pod = Vec::new();
    for &(new_src, new_dst) in &per_pod_pairs {
        let (old_src, old_dst) = (
            old_of_new[new_src].expect("matched"),
            old_of_new[new_dst].expect("matched"),
        );
        let old_columns = old.columns(old_dst);
        for nc in new.columns(new_dst) {
            let Some(oc) = same_column(old_columns, nc) else {
                continue;
            };
            if old.cell(old_src, old_dst, oc) != new.cell(new_src, new_dst, nc) {
                per_pod.push(ChangedCell::new(
                    (old_src, old_dst),
                    (new_src, new_dst),
                    nc,
                    None,
                ));
            }
        }
    }
    // Endpoint order is `namespace/name` on both sides, so sorting by the new
    // indexes is sorting by name.
    per_pod.sort_unstable_by_key(ChangedCell::order);
    Changes {
        joint,
        per_pod_pairs,
        groups,
        per_pod,
    }
}

impl ChangedCell {
    /// (src, dst, port, protocol) on the new side: the order cells are
    /// listed in.
    pub fn order(&self) -> (usize, usize, u16, Protocol) {
        (self.new_src, self.new_dst, self.port, self.protocol)
    }

    /// (src, dst) on the new side: the pair of endpoints it connects.
    pub fn pair(&self) -> (usize, usize) {
        (self.new_src, self.new_dst)
    }
}

impl Changes {
    /// The changed cells of the first `pairs` pairs of endpoints, in
    /// [`ChangedCell::order`]: a source's cells are built from its class's
    /// groups only when the listing reaches it.
    pub fn listed(&self, pairs: usize) -> Vec<ChangedCell> {
        let mut by_source: Vec<Vec<&Group>> = vec![Vec::new(); self.joint.members.len()];
        for g in &self.groups {
            if let Some((js, _)) = g.first.class_pair {
                by_source[js as usize].push(g);
            }
        }
        let mut per_pod = self.per_pod.iter().peekable();
        let mut listed: Vec<ChangedCell> = Vec::new();
        let mut listed_pairs = 0;
        for (new_src, js) in self.joint.of_new.iter().enumerate() {
            let mut cells = Vec::new();
            if let (Some(js), Some(old_src)) = (js, self.joint.old_of_new[new_src]) {
                for g in &by_source[*js as usize] {
                    let Some((_, jd)) = g.first.class_pair else {
                        continue;
                    };
                    for &(new_dst, old_dst) in &self.joint.members[jd as usize] {
                        if !self.per_pod_pairs.contains(&(new_src, new_dst)) {
                            cells.push(ChangedCell {
                                old_src,
                                old_dst,
                                new_src,
                                new_dst,
                                ..g.first
                            });
                        }
                    }
                }
            }
            while let Some(c) = per_pod.next_if(|c| c.new_src == new_src) {
                cells.push(*c);
            }
            cells.sort_unstable_by_key(ChangedCell::order);
            for cell in cells {
                if listed.last().is_none_or(|l| l.pair() != cell.pair()) {
                    if listed_pairs == pairs {
                        return listed;
                    }
                    listed_pairs += 1;
                }
                listed.push(cell);
            }
        }
        listed
    }

    /// The cells decided per pod that [`Changes::listed`] leaves out when
    /// it lists `listed`.
    pub fn per_pod_not_listed(&self, listed: &[ChangedCell]) -> &[ChangedCell] {
        let last = listed.last().map(ChangedCell::pair);
        let from = self
            .per_pod
            .partition_point(|c| last.is_some_and(|l| c.pair() <= l));
        &self.per_pod[from..]
    }
}

/// The column of `columns` (one destination's, sorted) on the port of `c`.
fn same_column<'a>(columns: &'a [Column], c: &Column) -> Option<&'a Column> {
    let k = columns
        .binary_search_by_key(&(c.port, c.protocol), |x| (x.port, x.protocol))
        .ok()?;
    Some(&columns[k])
}

/// Pairs of pods present on both sides that either side decides per pod,
/// by new index.
fn per_pod_pairs(
    old: &ClassMatrix,
    new: &ClassMatrix,
    old_of_new: &[Option<usize>],
) -> HashSet<(usize, usize)> {
    let mut new_of_old = vec![None; old.endpoints()];
    for (n, o) in old_of_new.iter().enumerate() {
        if let Some(o) = *o {
            new_of_old[o] = Some(n);
        }
    }
    let mut pairs = HashSet::new();
    new.for_each_forced(|s, d| {
        if old_of_new[s].is_some() && old_of_new[d].is_some() {
            pairs.insert((s, d));
        }
    });
    old.for_each_forced(|s, d| {
        if let (Some(s), Some(d)) = (new_of_old[s], new_of_old[d]) {
            pairs.insert((s, d));
        }
    });
    pairs
}
