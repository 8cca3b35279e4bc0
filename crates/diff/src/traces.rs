//! The verdicts behind the changed cells, computed once per class pair.
//!
//! The cells that one pair of joint classes changed on one port have the
//! same verdicts on both sides but for their endpoints' names (see
//! [`crate::cells`]), so one cell of each is traced, and every cell decided
//! per pod is traced on its own. Past the listed cells only the number of
//! flips counts, and it is read from the engine's decisions instead.

use std::collections::HashMap;
use std::sync::Arc;

use netpol_engine::{Engine, Party, Restricted};
use netpol_model::{Cluster, Protocol};
use rayon::prelude::*;

use crate::{ChangedCell, SideChange, Verdict, family};

/// One family's flip of a traced cell, with what its connections report.
pub(crate) struct Flip {
    pub change: Verdict,
    pub egress: Arc<SideChange>,
    pub ingress: Arc<SideChange>,
    pub traces: family::Flip,
}

/// What one slot's verdicts hold for the diff.
pub(crate) enum Slot {
    /// The flips, for a slot of a listed cell.
    Traced(Vec<Flip>),
    /// Only how many flips are to allowed and to denied, for a slot of
    /// cells that are only counted: decided without a trace.
    Counted { allowed: usize, denied: usize },
}

impl Slot {
    /// (to allowed, to denied) of one of the slot's cells.
    pub fn counts(&self) -> (usize, usize) {
        match self {
            Slot::Traced(flips) => {
                let allowed = flips
                    .iter()
                    .filter(|f| f.change == Verdict::Allowed)
                    .count();
                (allowed, flips.len() - allowed)
            }
            Slot::Counted { allowed, denied } => (*allowed, *denied),
        }
    }
}

/// Per cell, its slot; per slot, the flips of its verdicts, traced for the
/// slots of the first `listed` cells and counted for the others.
pub(crate) fn flips(
    old: &Cluster,
    new: &Cluster,
    cells: &[ChangedCell],
    listed: usize,
) -> (Vec<usize>, Vec<Slot>) {
    // One pair of traces per class pair and port, and per cell decided per
    // pod; the other cells of a class pair differ from its first only in
    // their endpoints' names.
    let mut slot_of_key: HashMap<(u32, u32, u16, Protocol), usize> = HashMap::new();
    let mut traced: Vec<usize> = Vec::new();
    let slot_of_cell: Vec<usize> = cells
        .iter()
        .enumerate()
        .map(|(k, c)| {
            let mut fresh = || {
                traced.push(k);
                traced.len() - 1
            };
            match c.class_pair {
                None => fresh(),
                Some((s, d)) => *slot_of_key
                    .entry((s, d, c.port, c.protocol))
                    .or_insert_with(fresh),
            }
        })
        .collect();
    drop(slot_of_key);
    // A verdict reads its two endpoints only: each side's engine is
    // compiled over the traced cells' endpoints.
    let old_side = Restricted::new(
        old,
        traced
            .iter()
            .flat_map(|&k| [cells[k].old_src, cells[k].old_dst]),
    );
    let new_side = Restricted::new(
        new,
        traced
            .iter()
            .flat_map(|&k| [cells[k].new_src, cells[k].new_dst]),
    );
    let (old_engine, new_engine) = rayon::join(
        || Engine::new(&old_side.cluster),
        || Engine::new(&new_side.cluster),
    );
    // A slot is traced in full when a listed cell reads it; cells are
    // numbered in order, so that is when its first cell is listed.
    let flips: Vec<Slot> = traced
        .par_iter()
        .map(|&k| {
            let cell = &cells[k];
            let (old_src, old_dst) = (
                old_side.party(Party::Endpoint(cell.old_src)),
                old_side.party(Party::Endpoint(cell.old_dst)),
            );
            let (new_src, new_dst) = (
                new_side.party(Party::Endpoint(cell.new_src)),
                new_side.party(Party::Endpoint(cell.new_dst)),
            );
            if k >= listed {
                let before = old_engine.decide(old_src, old_dst, cell.port, cell.protocol);
                let after = new_engine.decide(new_src, new_dst, cell.port, cell.protocol);
                let (allowed, denied) = family::flip_counts(
                    (before, &old_engine.connection_families(old_src, old_dst)),
                    (after, &new_engine.connection_families(new_src, new_dst)),
                );
                return Slot::Counted { allowed, denied };
            }
            let before = old_engine.verdict(old_src, old_dst, cell.port, cell.protocol);
            let after = new_engine.verdict(new_src, new_dst, cell.port, cell.protocol);
            Slot::Traced(
                family::flips(before, after)
                    .into_iter()
                    .map(|f| Flip {
                        change: if f.after.allowed {
                            Verdict::Allowed
                        } else {
                            Verdict::Denied
                        },
                        egress: Arc::new(SideChange::new(&f.before.egress, &f.after.egress)),
                        ingress: Arc::new(SideChange::new(&f.before.ingress, &f.after.ingress)),
                        traces: f,
                    })
                    .collect(),
            )
        })
        .collect();
    (slot_of_cell, flips)
}
