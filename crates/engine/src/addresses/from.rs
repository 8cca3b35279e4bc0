//! From outside addresses to endpoints: the destination's ingress side
//! decides. Each rule's matching addresses are found once; a column (one
//! destination port) is then a few set operations over the addresses, the
//! first match in a tier taken per rule for every address still undecided.

use std::net::IpAddr;

use fixedbitset::FixedBitSet;
use netpol_model::{Direction, Family, Protocol, Tier};
use rayon::prelude::*;

use super::FirstMatch;
use crate::compile::{Engine, family_index, ports_admit, rule_admits_address};
use crate::tier::{peer_matches_address, rule_ports_admit};

/// The addresses' matches compiled once, for columns asked one at a time.
pub struct FromAddresses<'e, 'c> {
    engine: &'e Engine<'c>,
    /// Per family (indexed by `family_index`): the addresses of that family.
    by_family: [FixedBitSet; 2],
    /// Per NetworkPolicy, per compiled ingress rule: the addresses its peers admit.
    policies: Vec<Vec<FixedBitSet>>,
    /// Per cluster policy, per ingress rule: the addresses its peers match.
    tiers: Vec<Vec<FixedBitSet>>,
}

impl<'c> Engine<'c> {
    /// Ready to decide connections from each of `addresses` to the
    /// endpoints, a column at a time ([`FromAddresses::column`]).
    pub fn from_addresses<'e>(&'e self, addresses: &[IpAddr]) -> FromAddresses<'e, 'c> {
        let n = addresses.len();
        let matching = |admits: &dyn Fn(IpAddr) -> bool| {
            let mut set = FixedBitSet::with_capacity(n);
            for (a, &ip) in addresses.iter().enumerate() {
                set.set(a, admits(ip));
            }
            set
        };
        let by_family = Family::ALL.map(|f| matching(&|ip| Family::of(ip) == f));
        let policies = (0..self.cluster.policies.len())
            .into_par_iter()
            .map(|p| {
                let (policy, compiled) = self.policy(p);
                compiled
                    .ingress
                    .iter()
                    .map(|cr| {
                        let rule = &policy.ingress[cr.index];
                        matching(&|ip| rule_admits_address(rule, ip))
                    })
                    .collect()
            })
            .collect();
        let tiers = match &self.tiers {
            Some(tiers) => self
                .cluster
                .cluster_policies
                .iter()
                .zip(&tiers.policies)
                .map(|(policy, compiled)| {
                    policy
                        .ingress
                        .iter()
                        .zip(&compiled.ingress)
                        .map(|(rule, crule)| {
                            matching(&|ip| {
                                rule.peers
                                    .iter()
                                    .zip(&crule.peers)
                                    .any(|(peer, cp)| peer_matches_address(peer, cp, ip))
                            })
                        })
                        .collect()
                })
                .collect(),
            None => Vec::new(),
        };
        FromAddresses {
            engine: self,
            by_family,
            policies,
            tiers,
        }
    }
}

impl FromAddresses<'_, '_> {
    /// The addresses allowed to reach `dst` on `port`/`protocol`, as
    /// [`Engine::decide`] would decide each.
    pub fn column(&self, dst: usize, port: u16, protocol: Protocol) -> FixedBitSet {
        let engine = self.engine;
        let d = &engine.cluster.endpoints[dst];
        let mut reachable = FixedBitSet::with_capacity(self.by_family[0].len());
        for f in Family::ALL.into_iter().filter(|&f| d.can_use(f)) {
            reachable.union_with(&self.by_family[family_index(f)]);
        }
        if d.host_network {
            return reachable;
        }
        let run = |tier: Tier, candidates: &FixedBitSet| {
            let mut left = candidates.clone();
            let mut first = FirstMatch {
                accept: FixedBitSet::with_capacity(left.len()),
                deny: FixedBitSet::with_capacity(left.len()),
                pass: FixedBitSet::with_capacity(left.len()),
            };
            let Some(tiers) = &engine.tiers else {
                return first;
            };
            for &p in tiers.selecting(tier, Direction::Ingress, dst) {
                let p = p as usize;
                let rules = &engine.cluster.cluster_policies[p].ingress;
                for (rule, matched) in rules.iter().zip(&self.tiers[p]) {
                    if !rule_ports_admit(rule, Some(d), port, protocol) {
                        continue;
                    }
                    let mut hit = matched.clone();
                    hit.intersect_with(&left);
                    left.difference_with(&hit);
                    let set = match crate::test_hook::tier_action(rule.action) {
                        netpol_model::Action::Accept => &mut first.accept,
                        netpol_model::Action::Deny => &mut first.deny,
                        netpol_model::Action::Pass => &mut first.pass,
                    };
                    set.union_with(&hit);
                }
            }
            first
        };
        let admin = run(Tier::Admin, &reachable);
        let mut undecided = reachable;
        undecided.difference_with(&admin.accept);
        undecided.difference_with(&admin.deny);
        let selecting = engine.policies_selecting(dst, Direction::Ingress);
        if selecting.is_empty() {
            let baseline = run(Tier::Baseline, &undecided);
            undecided.difference_with(&baseline.deny);
        } else {
            let mut admitted = FixedBitSet::with_capacity(undecided.len());
            for &p in selecting {
                let (policy, compiled) = engine.policy(p);
                for (cr, matched) in compiled.ingress.iter().zip(&self.policies[p]) {
                    if ports_admit(&policy.ingress[cr.index].ports, Some(d), port, protocol) {
                        admitted.union_with(matched);
                    }
                }
            }
            undecided.intersect_with(&admitted);
        }
        undecided.union_with(&admin.accept);
        undecided
    }
}
