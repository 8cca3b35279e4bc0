//! A matrix column when cluster policies exist: each source decided through
//! the tiers from the same compiled rules as the verdict.

use fixedbitset::FixedBitSet;
use netpol_model::{Direction, Family, Protocol};

use super::compile::CompiledTiers;
use crate::compile::Engine;
use crate::matrix::{Column, FamilySplit};

impl Engine<'_> {
    pub(crate) fn tier_column(
        &self,
        tiers: &CompiledTiers,
        dst: usize,
        port: u16,
        protocol: Protocol,
    ) -> Column {
        let n = self.endpoint_count();
        let d = &self.cluster.endpoints[dst];
        let mut allowed = FixedBitSet::with_capacity(n);
        let mut v4_only = FixedBitSet::with_capacity(n);
        let mut v6_only = FixedBitSet::with_capacity(n);
        for src in 0..n {
            let s = &self.cluster.endpoints[src];
            // Always allowed, whatever the policies: a pod to itself, a pod and its own node.
            let itself = src == dst && !d.may_be_several_pods();
            let node = (s.host_network || d.host_network) && s.node.is_some() && s.node == d.node;
            if itself || node {
                allowed.insert(src);
                continue;
            }
            let families: Vec<Family> = Family::ALL
                .into_iter()
                .filter(|&f| s.can_use(f) && d.can_use(f))
                .collect();
            let ok: Vec<bool> = families
                .iter()
                .map(|&f| {
                    self.tiered_allows(tiers, Direction::Egress, src, dst, port, protocol, f)
                        && self.tiered_allows(
                            tiers,
                            Direction::Ingress,
                            dst,
                            src,
                            port,
                            protocol,
                            f,
                        )
                })
                .collect();
            if ok.iter().any(|b| *b) {
                allowed.insert(src);
            }
            if let [a, b] = ok[..] {
                if a && !b {
                    v4_only.insert(src);
                } else if b && !a {
                    v6_only.insert(src);
                }
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
