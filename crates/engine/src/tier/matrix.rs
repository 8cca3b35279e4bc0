//! A matrix column when cluster policies exist: each source decided through
//! the tiers by [`Engine::decide`], from the same compiled rules as the
//! verdict.

use fixedbitset::FixedBitSet;
use netpol_model::{Family, Protocol};

use super::compile::CompiledTiers;
use crate::compile::Engine;
use crate::matrix::{Column, FamilySplit};
use crate::verdict::Party;

impl Engine<'_> {
    /// `_tiers`: the caller's proof that cluster policies exist (`decide`
    /// reads them from the engine).
    pub(crate) fn tier_column(
        &self,
        _tiers: &CompiledTiers,
        dst: usize,
        port: u16,
        protocol: Protocol,
    ) -> Column {
        let n = self.endpoint_count();
        let mut allowed = FixedBitSet::with_capacity(n);
        let mut v4_only = FixedBitSet::with_capacity(n);
        let mut v6_only = FixedBitSet::with_capacity(n);
        for src in 0..n {
            let o = self.decide(Party::Endpoint(src), Party::Endpoint(dst), port, protocol);
            allowed.set(src, o.allowed);
            match o.only {
                Some(Family::V4) => v4_only.insert(src),
                Some(Family::V6) => v6_only.insert(src),
                None => {}
            }
        }
        let split = (!v4_only.is_clear() || !v6_only.is_clear())
            .then(|| Box::new(FamilySplit { v4_only, v6_only }));
        Column {
            dst,
            port,
            protocol,
            allowed,
            split,
        }
    }
}
