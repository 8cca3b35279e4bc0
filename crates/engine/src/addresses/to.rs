//! From endpoints to outside addresses: the source's egress side decides,
//! and it depends on the source only through its address families, host
//! network, the NetworkPolicies isolating its egress and the cluster
//! policies whose subject it is. Sources alike in these share one row; a
//! row holds, per address, the allowed ports as bits, so a tier or a
//! policy decides up to 64 ports at once.

use std::collections::HashMap;
use std::net::IpAddr;

use netpol_model::{Direction, Family, Protocol, Tier};
use rayon::prelude::*;

use super::{FirstMatch, PortBits, port_bits};
use crate::compile::{Engine, family_index, ports_admit, rule_admits_address};
use crate::tier::{peer_matches_address, rule_ports_admit};

/// Which ports each asked-for source may reach each address on.
pub struct ToAddresses {
    /// Words of port bits per address.
    words: usize,
    addresses: usize,
    /// Per endpoint, its row; `None` when the endpoint was not asked about.
    row_of: Vec<Option<u32>>,
    /// `[row][address][word]`.
    bits: Vec<u64>,
}

impl ToAddresses {
    /// The ports (bit `k`: the `k`th port asked about) over which `src`
    /// may reach address `a`. Panics when `src` was not asked about.
    pub fn ports_allowed(&self, src: usize, a: usize) -> &[u64] {
        let row = self.row_of[src].expect("the source was asked about") as usize;
        let start = (row * self.addresses + a) * self.words;
        &self.bits[start..start + self.words]
    }

    /// Whether `src` may reach address `a` on the `k`th port asked about.
    pub fn allowed(&self, src: usize, a: usize, k: usize) -> bool {
        self.ports_allowed(src, a)[k / 64] >> (k % 64) & 1 == 1
    }

    /// How many distinct rows the sources needed.
    pub fn rows(&self) -> usize {
        self.bits.len() / (self.addresses * self.words).max(1)
    }
}

/// What decides a source's egress to an address.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct Egress<'a> {
    families: [bool; 2],
    host_network: bool,
    admin: &'a [u32],
    policies: &'a [usize],
    baseline: &'a [u32],
}

impl Engine<'_> {
    /// Decides every connection from the endpoints `asked` holds to every
    /// address on every port of `ports`, as [`Engine::decide`] would.
    pub fn to_addresses(
        &self,
        asked: impl Fn(usize) -> bool,
        addresses: &[IpAddr],
        ports: &[(u16, Protocol)],
    ) -> ToAddresses {
        let words = ports.len().div_ceil(64);
        let mut row_of = vec![None; self.endpoint_count()];
        let mut rows: Vec<Egress> = Vec::new();
        let mut seen: HashMap<Egress, u32> = HashMap::new();
        for (src, row) in row_of.iter_mut().enumerate() {
            if asked(src) {
                let key = self.egress_of(src);
                *row = Some(*seen.entry(key).or_insert_with(|| {
                    rows.push(key);
                    (rows.len() - 1) as u32
                }));
            }
        }
        let mut policies: Vec<usize> = rows.iter().flat_map(|r| r.policies).copied().collect();
        policies.sort_unstable();
        policies.dedup();
        let np: HashMap<usize, PortBits> = policies
            .into_par_iter()
            .map(|p| (p, self.policy_to_addresses(p, addresses, ports)))
            .collect();
        let tiers: Vec<FirstMatch<PortBits>> = match &self.tiers {
            Some(_) => (0..self.cluster.cluster_policies.len())
                .into_par_iter()
                .map(|p| self.tier_policy_to_addresses(p, addresses, ports))
                .collect(),
            None => Vec::new(),
        };
        let all = port_bits(ports, |_, _| true);
        let stride = addresses.len() * words;
        let mut bits = vec![0u64; rows.len() * stride];
        if stride > 0 {
            bits.par_chunks_mut(stride)
                .zip(&rows)
                .for_each(|(out, key)| {
                    for (a, &ip) in addresses.iter().enumerate() {
                        let out = &mut out[a * words..(a + 1) * words];
                        if !key.families[family_index(Family::of(ip))] {
                            continue;
                        }
                        for (w, o) in out.iter_mut().enumerate() {
                            *o = if key.host_network {
                                all[w]
                            } else {
                                decide_word(key, &np, &tiers, a * words + w, all[w])
                            };
                        }
                    }
                });
        }
        ToAddresses {
            words,
            addresses: addresses.len(),
            row_of,
            bits,
        }
    }

    fn egress_of(&self, src: usize) -> Egress<'_> {
        let e = &self.cluster.endpoints[src];
        let tier = |t: Tier| match &self.tiers {
            Some(tiers) if !e.host_network => tiers.selecting(t, Direction::Egress, src),
            _ => &[],
        };
        Egress {
            families: Family::ALL.map(|f| e.can_use(f)),
            host_network: e.host_network,
            admin: tier(Tier::Admin),
            policies: if e.host_network {
                &[]
            } else {
                self.policies_selecting(src, Direction::Egress)
            },
            baseline: tier(Tier::Baseline),
        }
    }

    /// Per address, the ports NetworkPolicy `p`'s egress rules admit it on.
    fn policy_to_addresses(
        &self,
        p: usize,
        addresses: &[IpAddr],
        ports: &[(u16, Protocol)],
    ) -> Vec<u64> {
        let words = ports.len().div_ceil(64);
        let (policy, compiled) = self.policy(p);
        let mut out = vec![0u64; addresses.len() * words];
        for cr in &compiled.egress {
            let rule = &policy.egress[cr.index];
            let admitted = port_bits(ports, |port, protocol| {
                ports_admit(&rule.ports, None, port, protocol)
            });
            for (a, &ip) in addresses.iter().enumerate() {
                if rule_admits_address(rule, ip) {
                    for (o, b) in out[a * words..].iter_mut().zip(&admitted) {
                        *o |= b;
                    }
                }
            }
        }
        out
    }

    /// Per address, what cluster policy `p`'s first matching egress rule
    /// does on each port.
    fn tier_policy_to_addresses(
        &self,
        p: usize,
        addresses: &[IpAddr],
        ports: &[(u16, Protocol)],
    ) -> FirstMatch<PortBits> {
        let words = ports.len().div_ceil(64);
        let policy = &self.cluster.cluster_policies[p];
        let compiled = &self.tiers.as_ref().expect("cluster policies").policies[p];
        let mut out = FirstMatch {
            accept: vec![0u64; addresses.len() * words],
            deny: vec![0u64; addresses.len() * words],
            pass: vec![0u64; addresses.len() * words],
        };
        let rules: Vec<_> = policy
            .egress
            .iter()
            .zip(&compiled.egress)
            .map(|(rule, crule)| {
                let admitted = port_bits(ports, |port, protocol| {
                    rule_ports_admit(rule, None, port, protocol)
                });
                (rule, crule, admitted)
            })
            .collect();
        for (a, &ip) in addresses.iter().enumerate() {
            let mut left = port_bits(ports, |_, _| true);
            for (rule, crule, admitted) in &rules {
                let matches = rule
                    .peers
                    .iter()
                    .zip(&crule.peers)
                    .any(|(peer, cp)| peer_matches_address(peer, cp, ip));
                if !matches {
                    continue;
                }
                let action = crate::test_hook::tier_action(rule.action);
                for (w, l) in left.iter_mut().enumerate() {
                    let hit = admitted[w] & *l;
                    out.add(action, a * words + w, hit);
                    *l &= !hit;
                }
            }
        }
        out
    }
}

/// One word of ports to one address decided for a source that is not on
/// the host network: the Admin tier, then NetworkPolicy when one isolates
/// the source, else the Baseline tier, else allowed.
fn decide_word(
    key: &Egress,
    np: &HashMap<usize, PortBits>,
    tiers: &[FirstMatch<PortBits>],
    at: usize,
    all: u64,
) -> u64 {
    // Per tier: the ports its first match accepted and denied; a Pass, or
    // no match, leaves a port to the next layer.
    let run = |policies: &[u32], mut left: u64| {
        let (mut accepted, mut denied) = (0, 0);
        for &p in policies {
            let t = &tiers[p as usize];
            accepted |= t.accept[at] & left;
            denied |= t.deny[at] & left;
            left &= !(t.accept[at] | t.deny[at] | t.pass[at]);
        }
        (accepted, denied)
    };
    let (accepted, denied) = run(key.admin, all);
    let undecided = all & !accepted & !denied;
    let below = if key.policies.is_empty() {
        let (_, denied) = run(key.baseline, undecided);
        undecided & !denied
    } else {
        let admitted = key.policies.iter().fold(0, |acc, p| acc | np[p][at]);
        undecided & admitted
    };
    accepted | below
}
