//! Which connections changed, found over classes rather than pods.
//!
//! A pod's cell is its class's cell on each side (see [`ClassMatrix`]), so
//! pods present on both sides are grouped by their pair of classes (old,
//! new): two pods of one such joint class have the same cells before and
//! after. A pair of joint classes is compared once per column, and only a
//! pair that changed is expanded to its pods. The pairs each side decides
//! per pod (a pod to itself, a pod and its own node) are taken out of that
//! expansion and compared one by one, as they may differ from their classes
//! on either side.

use std::collections::{HashMap, HashSet};

use netpol_engine::{ClassMatrix, Column};
use netpol_model::Protocol;
use rayon::prelude::*;

/// A connection present on both sides whose verdict differs (over some
/// address family), by endpoint index on each side.
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
}

impl Joint {
    fn new(old: &ClassMatrix, new: &ClassMatrix, old_of_new: &[Option<usize>]) -> Joint {
        let mut index: HashMap<(usize, usize), usize> = HashMap::new();
        let mut joint = Joint {
            members: Vec::new(),
            old_class: Vec::new(),
            new_class: Vec::new(),
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
        }
        joint
    }
}

/// The changed cells, in (src, dst, port, protocol) order of the new side.
/// `old_of_new` maps each new endpoint to the old one of the same name.
pub(crate) fn changed_cells(
    old: &ClassMatrix,
    new: &ClassMatrix,
    old_of_new: &[Option<usize>],
) -> Vec<ChangedCell> {
    let joint = Joint::new(old, new, old_of_new);
    let per_pod = per_pod_pairs(old, new, old_of_new);
    let mut cells: Vec<ChangedCell> = (0..joint.members.len())
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
                    for &(new_src, old_src) in &joint.members[js] {
                        for &(new_dst, old_dst) in &joint.members[jd] {
                            if !per_pod.contains(&(new_src, new_dst)) {
                                let pair = Some((js as u32, jd as u32));
                                out.push(ChangedCell::new(
                                    (old_src, old_dst),
                                    (new_src, new_dst),
                                    nc,
                                    pair,
                                ));
                            }
                        }
                    }
                }
            }
            out
        })
        .collect();
    for &(new_src, new_dst) in &per_pod {
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
                cells.push(ChangedCell::new(
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
    cells.par_sort_unstable_by_key(|c| (c.new_src, c.new_dst, c.port, c.protocol));
    cells
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
