//! A matrix column when cluster policies exist, as set operations over the
//! sources: the same decision as [`Engine::decide`] (the tests hold every
//! cell against the verdict and the reference evaluator), without deciding
//! each source alone. The first match in a tier is found per rule for all
//! sources still undecided: on the destination's ingress side the rule's
//! peers are a set of sources; on a source's egress side whether a rule
//! matches depends on the destination only, so a policy decides all of its
//! undecided subjects at once.

use fixedbitset::FixedBitSet;
use netpol_model::{Action, Direction, Endpoint, Family, Protocol, Tier};

use super::compile::CompiledTiers;
use super::eval::rule_ports_admit;
use crate::compile::{Engine, family_index, ports_admit};
use crate::matrix::{Column, FamilySplit};

/// Sources a tier accepted and denied; the others went on (no match, or Pass).
struct TierSets {
    accept: FixedBitSet,
    deny: FixedBitSet,
}

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
        let mut host_network = FixedBitSet::with_capacity(n);
        for (i, e) in self.cluster.endpoints.iter().enumerate() {
            host_network.set(i, e.host_network);
        }
        let per_family: Vec<(Family, FixedBitSet)> = Family::ALL
            .into_iter()
            .filter(|&f| d.can_use(f))
            .map(|f| {
                let mut set = self.tier_ingress(tiers, dst, d, port, protocol, f);
                set.intersect_with(&self.tier_egress(
                    tiers,
                    dst,
                    d,
                    &host_network,
                    port,
                    protocol,
                    f,
                ));
                set.intersect_with(&self.can_use[family_index(f)]);
                (f, set)
            })
            .collect();
        let mut allowed = FixedBitSet::with_capacity(n);
        for (_, set) in &per_family {
            allowed.union_with(set);
        }
        let mut split = match &per_family[..] {
            [(_, v4), (_, v6)] => {
                let mut v4_only = v4.clone();
                v4_only.difference_with(v6);
                v4_only.intersect_with(&self.can_use[family_index(Family::V6)]);
                let mut v6_only = v6.clone();
                v6_only.difference_with(v4);
                v6_only.intersect_with(&self.can_use[family_index(Family::V4)]);
                Some(FamilySplit { v4_only, v6_only })
            }
            _ => None,
        };
        // Always allowed, whatever the policies: a pod to itself, a pod and its own node.
        for (src, s) in self.cluster.endpoints.iter().enumerate() {
            let itself = src == dst && !d.may_be_several_pods();
            let node = (s.host_network || d.host_network) && s.node.is_some() && s.node == d.node;
            if itself || node {
                allowed.insert(src);
                if let Some(split) = &mut split {
                    split.v4_only.set(src, false);
                    split.v6_only.set(src, false);
                }
            }
        }
        let split = split
            .filter(|s| !s.v4_only.is_clear() || !s.v6_only.is_clear())
            .map(Box::new);
        Column {
            dst,
            port,
            protocol,
            allowed,
            split,
        }
    }

    /// Sources whose connection to `dst` over `family` its ingress side allows.
    fn tier_ingress(
        &self,
        tiers: &CompiledTiers,
        dst: usize,
        d: &Endpoint,
        port: u16,
        protocol: Protocol,
        family: Family,
    ) -> FixedBitSet {
        let n = self.endpoint_count();
        let mut all = FixedBitSet::with_capacity(n);
        all.insert_range(..);
        if d.host_network {
            return all;
        }
        let fi = family_index(family);
        let run = |tier: Tier, candidates: &FixedBitSet| {
            let mut remaining = candidates.clone();
            let mut sets = TierSets {
                accept: FixedBitSet::with_capacity(n),
                deny: FixedBitSet::with_capacity(n),
            };
            for &pi in tiers.selecting(tier, Direction::Ingress, dst) {
                let pi = pi as usize;
                let policy = &self.cluster.cluster_policies[pi];
                for (rule, crule) in policy.ingress.iter().zip(&tiers.policies[pi].ingress) {
                    if remaining.is_clear() {
                        return sets;
                    }
                    if !rule_ports_admit(rule, Some(d), port, protocol) {
                        continue;
                    }
                    let mut matched = FixedBitSet::with_capacity(n);
                    for p in &crule.peers {
                        matched.union_with(&p.by_family[fi]);
                    }
                    matched.intersect_with(&remaining);
                    remaining.difference_with(&matched);
                    sets.add(crate::test_hook::tier_action(rule.action), &matched);
                }
                // Past its policy, a source a Pass skipped stays skipped:
                // `remaining` no longer holds it.
            }
            sets
        };
        let admin = run(Tier::Admin, &all);
        let mut undecided = all;
        undecided.difference_with(&admin.accept);
        undecided.difference_with(&admin.deny);
        let mut allowed = admin.accept;
        let selecting = self.policies_selecting(dst, Direction::Ingress);
        if !selecting.is_empty() {
            let mut np = FixedBitSet::with_capacity(n);
            for &pi in selecting {
                let (policy, compiled) = self.policy(pi);
                for cr in &compiled.ingress {
                    if ports_admit(&policy.ingress[cr.index].ports, Some(d), port, protocol) {
                        np.union_with(cr.admitted_over(Some(family)));
                    }
                }
            }
            undecided.intersect_with(&np);
        } else {
            let baseline = run(Tier::Baseline, &undecided);
            undecided.difference_with(&baseline.deny);
        }
        allowed.union_with(&undecided);
        allowed
    }

    /// Sources whose egress side allows their connection to `dst` over `family`.
    #[allow(clippy::too_many_arguments)]
    fn tier_egress(
        &self,
        tiers: &CompiledTiers,
        dst: usize,
        d: &Endpoint,
        host_network: &FixedBitSet,
        port: u16,
        protocol: Protocol,
        family: Family,
    ) -> FixedBitSet {
        let n = self.endpoint_count();
        let fi = family_index(family);
        // The first rule of each policy that matches `dst`: the same for
        // every source the policy selects.
        let first_match = |pi: usize| {
            let policy = &self.cluster.cluster_policies[pi];
            policy
                .egress
                .iter()
                .zip(&tiers.policies[pi].egress)
                .find(|(rule, crule)| {
                    rule_ports_admit(rule, Some(d), port, protocol)
                        && crule.peers.iter().any(|p| p.by_family[fi].contains(dst))
                })
                .map(|(rule, _)| crate::test_hook::tier_action(rule.action))
        };
        let run = |tier: Tier, candidates: &FixedBitSet| {
            let mut remaining = candidates.clone();
            let mut sets = TierSets {
                accept: FixedBitSet::with_capacity(n),
                deny: FixedBitSet::with_capacity(n),
            };
            for (pi, (policy, compiled)) in self
                .cluster
                .cluster_policies
                .iter()
                .zip(&tiers.policies)
                .enumerate()
            {
                if policy.tier != tier || policy.egress.is_empty() || remaining.is_clear() {
                    continue;
                }
                let Some(action) = first_match(pi) else {
                    continue;
                };
                let mut matched = compiled.subject.clone();
                matched.intersect_with(&remaining);
                remaining.difference_with(&matched);
                sets.add(action, &matched);
            }
            sets
        };
        // Host-network sources are never subjects: their egress is open.
        let mut pods = FixedBitSet::with_capacity(n);
        pods.insert_range(..);
        pods.difference_with(host_network);
        let admin = run(Tier::Admin, &pods);
        let mut undecided = pods;
        undecided.difference_with(&admin.accept);
        undecided.difference_with(&admin.deny);
        let mut allowed = admin.accept;
        allowed.union_with(host_network);
        // NetworkPolicy decides for the sources it isolates: allowed when a
        // rule of theirs admits `dst` (`np` holds only isolated sources).
        let mut np = FixedBitSet::with_capacity(n);
        for a in self.egress_rules_admitting(dst) {
            let (policy, compiled) = self.policy(a.policy as usize);
            let rule = a.rule as usize;
            if compiled.egress[rule]
                .admitted_over(Some(family))
                .contains(dst)
                && ports_admit(&policy.egress[rule].ports, Some(d), port, protocol)
            {
                for &s in &compiled.selected_list {
                    np.insert(s);
                }
            }
        }
        np.intersect_with(&undecided);
        allowed.union_with(&np);
        // The others go to the Baseline tier.
        undecided.intersect_with(&self.egress_open);
        let baseline = run(Tier::Baseline, &undecided);
        undecided.difference_with(&baseline.deny);
        allowed.union_with(&undecided);
        allowed
    }
}

impl TierSets {
    fn add(&mut self, action: Action, sources: &FixedBitSet) {
        match action {
            Action::Accept => self.accept.union_with(sources),
            Action::Deny => self.deny.union_with(sources),
            Action::Pass => {}
        }
    }
}
