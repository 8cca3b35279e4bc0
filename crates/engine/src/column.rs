//! One column of the matrix: the sources allowed to reach one destination
//! port, over each address family, as unions of the compiled rules' bitsets.

use std::collections::HashMap;

use fixedbitset::FixedBitSet;
use netpol_model::{Direction, Family, Protocol};

use crate::compile::{Engine, family_index, ports_admit};
use crate::matrix::{Column, FamilySplit};

impl Engine<'_> {
    /// The matrix column of `dst` on `port`/`protocol`: who is allowed, and
    /// who only over one family.
    pub(crate) fn column(
        &self,
        dst: usize,
        port: u16,
        protocol: Protocol,
        nodes: &NodeGroups,
    ) -> Column {
        if let Some(tiers) = &self.tiers {
            return self.tier_column(tiers, dst, port, protocol);
        }
        let d = &self.cluster.endpoints[dst];
        let dst_families: Vec<Family> = Family::ALL.into_iter().filter(|&f| d.can_use(f)).collect();
        let mut split = None;
        let mut allowed = match self.policy_sources(dst, port, protocol) {
            // Every family decides alike: keep the sources that share a
            // family with the destination.
            Sources::Same(mut set) => {
                if dst_families.len() == 1 {
                    set.intersect_with(&self.can_use[family_index(dst_families[0])]);
                }
                set
            }
            Sources::PerFamily(mut per_family) => {
                for f in Family::ALL {
                    let set = &mut per_family[family_index(f)];
                    if d.can_use(f) {
                        set.intersect_with(&self.can_use[family_index(f)]);
                    } else {
                        set.clear();
                    }
                }
                let [v4, v6] = &per_family;
                if dst_families.len() == 2 {
                    let mut v4_only = v4.clone();
                    v4_only.difference_with(v6);
                    v4_only.intersect_with(&self.can_use[family_index(Family::V6)]);
                    let mut v6_only = v6.clone();
                    v6_only.difference_with(v4);
                    v6_only.intersect_with(&self.can_use[family_index(Family::V4)]);
                    split = Some(Box::new(FamilySplit { v4_only, v6_only }));
                }
                let mut set = v4.clone();
                set.union_with(v6);
                set
            }
        };
        // Always allowed, whatever the family and the policies.
        let same_node = d.node.as_ref().and_then(|node| {
            if d.host_network {
                nodes.all.get(node)
            } else {
                nodes.host_network.get(node)
            }
        });
        let itself = !d.may_be_several_pods();
        if itself {
            allowed.insert(dst);
        }
        if let Some(set) = same_node {
            allowed.union_with(set);
        }
        if let Some(s) = &mut split {
            for only in [&mut s.v4_only, &mut s.v6_only] {
                if itself {
                    only.set(dst, false);
                }
                if let Some(set) = same_node {
                    only.difference_with(set);
                }
            }
        }
        let split = split.filter(|s| !s.v4_only.is_clear() || !s.v6_only.is_clear());
        Column {
            dst,
            port,
            protocol,
            allowed,
            split,
        }
    }

    /// Sources whose egress and `dst`'s ingress policies allow the
    /// connection: one set when no ipBlock can make the families differ,
    /// else one per family, both from one pass over the rules.
    fn policy_sources(&self, dst: usize, port: u16, protocol: Protocol) -> Sources {
        let n = self.endpoint_count();
        let d = &self.cluster.endpoints[dst];
        let per_family = self.family_dependent.contains(dst);
        let empty = || FixedBitSet::with_capacity(n);
        let mut ingress = empty();
        // What ipBlock rules add over each family.
        let mut ingress_by_family = if per_family {
            [empty(), empty()]
        } else {
            [FixedBitSet::new(), FixedBitSet::new()]
        };
        let selecting = self.policies_selecting(dst, Direction::Ingress);
        if d.host_network || selecting.is_empty() {
            ingress.insert_range(..);
        } else {
            for &pi in selecting {
                let (policy, compiled) = self.policy(pi);
                for crule in &compiled.ingress {
                    if !ports_admit(&policy.ingress[crule.index].ports, Some(d), port, protocol) {
                        continue;
                    }
                    match &crule.admitted_by_family {
                        Some(sets) if per_family => {
                            for (extra, set) in ingress_by_family.iter_mut().zip(sets.iter()) {
                                extra.union_with(set);
                            }
                        }
                        _ => ingress.union_with(crule.admitted()),
                    }
                }
            }
        }
        // Egress allowed over every family, and what ipBlock rules add per family.
        let mut egress = self.egress_open.clone();
        let mut egress_by_family = if per_family {
            [empty(), empty()]
        } else {
            [FixedBitSet::new(), FixedBitSet::new()]
        };
        let mut last_added = None;
        let mut last_added_by_family = [None; 2];
        // Sorted by policy: once one rule of a policy admits, its other rules add nothing.
        for a in self.egress_rules_admitting(dst) {
            let (pi, ri) = (a.policy as usize, a.rule as usize);
            if last_added == Some(pi) {
                continue;
            }
            let (policy, compiled) = self.policy(pi);
            let admits = || ports_admit(&policy.egress[ri].ports, Some(d), port, protocol);
            let by_family = (a.by_family && per_family)
                .then(|| compiled.egress[ri].admitted_by_family.as_deref())
                .flatten();
            match by_family {
                Some(sets) => {
                    let wanted =
                        |f: usize| last_added_by_family[f] != Some(pi) && sets[f].contains(dst);
                    let (v4, v6) = (wanted(0), wanted(1));
                    if !(v4 || v6) || !admits() {
                        continue;
                    }
                    for f in [(0, v4), (1, v6)]
                        .into_iter()
                        .filter_map(|(f, w)| w.then_some(f))
                    {
                        for &s in &compiled.selected_list {
                            egress_by_family[f].insert(s);
                        }
                        last_added_by_family[f] = Some(pi);
                    }
                }
                _ => {
                    if !admits() {
                        continue;
                    }
                    for &s in &compiled.selected_list {
                        egress.insert(s);
                    }
                    last_added = Some(pi);
                }
            }
        }
        if !per_family {
            ingress.intersect_with(&egress);
            return Sources::Same(ingress);
        }
        let [mut v4, mut v6] = ingress_by_family;
        let [mut egress_v4, mut egress_v6] = egress_by_family;
        for (allowed, egress_f) in [(&mut v4, &mut egress_v4), (&mut v6, &mut egress_v6)] {
            allowed.union_with(&ingress);
            egress_f.union_with(&egress);
            allowed.intersect_with(egress_f);
        }
        Sources::PerFamily([v4, v6])
    }

    pub(crate) fn node_groups(&self) -> NodeGroups {
        let n = self.endpoint_count();
        let mut groups = NodeGroups::default();
        for (i, e) in self.cluster.endpoints.iter().enumerate() {
            let Some(node) = &e.node else { continue };
            groups
                .all
                .entry(node.clone())
                .or_insert_with(|| FixedBitSet::with_capacity(n))
                .insert(i);
            if e.host_network {
                groups
                    .host_network
                    .entry(node.clone())
                    .or_insert_with(|| FixedBitSet::with_capacity(n))
                    .insert(i);
            }
        }
        groups
    }
}

/// The sources policies allow to one destination port.
enum Sources {
    /// The same over every family.
    Same(FixedBitSet),
    /// Indexed by `family_index`.
    PerFamily([FixedBitSet; 2]),
}

/// Endpoints per node, for the rule that a pod's own node may always reach it.
#[derive(Default)]
pub(crate) struct NodeGroups {
    all: HashMap<String, FixedBitSet>,
    host_network: HashMap<String, FixedBitSet>,
}
