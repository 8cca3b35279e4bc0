//! The cells with an external end, decided in bulk by the engine
//! ([`Engine::from_addresses`], [`Engine::to_addresses`]) with
//! `Engine::decide`'s answers: at 150,000 pods they are billions of cells,
//! too many to decide one at a time. An address has one family, so none
//! of them is allowed "over one family only".

use fixedbitset::FixedBitSet;
use netpol_engine::{ClassMatrix, Engine, ToAddresses};
use netpol_model::Protocol;
use rayon::prelude::*;

use super::Decided;
use crate::external::External;

pub struct ExternalCells {
    /// Per class matrix column: the external peers allowed to reach it;
    /// empty for the columns not asked about.
    from: Vec<FixedBitSet>,
    /// From the classes asked about to the external peers among the
    /// columns, by their place there (`slot`).
    to: ToAddresses,
    /// Per external peer, its place among the columns' external peers.
    slot: Vec<usize>,
}

/// What to decide: the classes and class matrix columns kept, and the
/// external peers among the rows and among the columns.
pub struct Asked<'a> {
    pub rows: &'a [bool],
    pub cols: &'a [bool],
    pub external_rows: bool,
    pub external_cols: &'a [usize],
}

impl ExternalCells {
    /// `engine` is over the classes, whose endpoints `matrix`'s columns index.
    pub fn new(
        engine: &Engine,
        matrix: &ClassMatrix,
        externals: &[External],
        ports: &[(u16, Protocol)],
        asked: Asked,
    ) -> ExternalCells {
        let addresses: Vec<_> = externals.iter().map(|e| e.address).collect();
        let from = if asked.external_rows {
            let from = engine.from_addresses(&addresses);
            matrix
                .matrix
                .columns
                .par_iter()
                .map(|c| {
                    if asked.cols[c.dst] {
                        from.column(c.dst, c.port, c.protocol)
                    } else {
                        FixedBitSet::new()
                    }
                })
                .collect()
        } else {
            Vec::new()
        };
        let mut slot = vec![usize::MAX; externals.len()];
        for (s, &x) in asked.external_cols.iter().enumerate() {
            slot[x] = s;
        }
        let to_addresses: Vec<_> = asked.external_cols.iter().map(|&x| addresses[x]).collect();
        let to = engine.to_addresses(|class| asked.rows[class], &to_addresses, ports);
        ExternalCells { from, to, slot }
    }

    /// From external peer `x` (among the rows) to class matrix column `k`
    /// (of a destination kept).
    pub fn from(&self, x: usize, k: usize) -> Decided {
        decided(self.from[k].contains(x))
    }

    /// From a pod of `class` (among the rows) to external peer `x` (among
    /// the columns) on the `k`th external port.
    pub fn to(&self, class: usize, x: usize, k: usize) -> Decided {
        decided(self.to.allowed(class, self.slot[x], k))
    }

    /// How many of the external ports `kept` holds (bit `k`: the `k`th)
    /// a pod of `class` may reach `x` on.
    pub fn allowed_to(&self, class: usize, x: usize, kept: &[u64]) -> usize {
        let bits = self.to.ports_allowed(class, self.slot[x]);
        bits.iter()
            .zip(kept)
            .map(|(b, k)| (b & k).count_ones() as usize)
            .sum()
    }
}

fn decided(allowed: bool) -> Decided {
    Decided {
        allowed,
        only: None,
    }
}
