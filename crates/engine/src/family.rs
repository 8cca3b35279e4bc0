//! Address families: a connection is IPv4 or IPv6, never both, so it can use
//! only the families both ends have, and an ipBlock decides in its own family.

use netpol_model::{Direction, Family};

use crate::compile::Engine;
use crate::trace::SideTrace;
use crate::verdict::Party;

impl Engine<'_> {
    /// Whether `p` can take part in a connection of `family`.
    pub fn can_use(&self, p: Party, family: Family) -> bool {
        match p {
            Party::Endpoint(i) => self.cluster.endpoints[i].can_use(family),
            Party::External(ip) => Family::of(ip) == family,
        }
    }

    /// The address families a connection between `src` and `dst` can use:
    /// a connection is IPv4 or IPv6, so both ends need an address of it.
    pub fn connection_families(&self, src: Party, dst: Party) -> Vec<Family> {
        Family::ALL
            .into_iter()
            .filter(|&f| self.can_use(src, f) && self.can_use(dst, f))
            .collect()
    }

    /// Whether a policy isolating `p` in `direction` has an ipBlock rule there.
    pub(crate) fn holds_ip_block(&self, p: Party, direction: Direction) -> bool {
        let Party::Endpoint(i) = p else { return false };
        self.policies_selecting(i, direction).iter().any(|&pi| {
            self.policies[pi]
                .rules(direction)
                .iter()
                .any(|r| r.admitted_by_family.is_some())
        })
    }
}

/// Whether two traces of one side reach the same outcome by the same checks.
pub(crate) fn same_outcome(a: &SideTrace, b: &SideTrace) -> bool {
    a.status == b.status
        && a.policies.len() == b.policies.len()
        && a.policies.iter().zip(&b.policies).all(|(p, q)| {
            p.allowed == q.allowed
                && p.rules.iter().zip(&q.rules).all(|(r, s)| {
                    r.allowed == s.allowed
                        && r.peers
                            .iter()
                            .zip(&s.peers)
                            .all(|(c, d)| c.matched == d.matched)
                })
        })
}
