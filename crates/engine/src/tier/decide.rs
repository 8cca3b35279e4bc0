//! A connection decided without its trace, through the tiers when there are
//! cluster policies. [`Engine::verdict`] decides the same from the same
//! compiled rules and explains it; the tests hold the two against each
//! other, and hold the bulk paths (the matrix columns, the cells with an
//! outside address) against this one connection at a time.

use netpol_model::{Action, Direction, Endpoint, Family, Protocol, Tier};

use crate::compile::{Engine, ports_admit, rule_admits_address};
use crate::verdict::Party;

/// The answer of [`Engine::verdict`] without its trace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// Allowed over at least one address family (an undecidable connection
    /// is not allowed, as in the verdict).
    pub allowed: bool,
    /// Allowed over this family only, denied over the other both ends have.
    pub only: Option<Family>,
}

impl Engine<'_> {
    /// Decides `src -> dst:port/protocol` as [`Engine::verdict`] does,
    /// without building the trace.
    pub fn decide(&self, src: Party, dst: Party, port: u16, protocol: Protocol) -> Outcome {
        let allowed = Outcome {
            allowed: true,
            only: None,
        };
        if let (Party::Endpoint(a), Party::Endpoint(b)) = (src, dst) {
            if a == b && !self.cluster.endpoints[a].may_be_several_pods() {
                return allowed;
            }
        }
        if self.is_node_traffic(src, dst) {
            return allowed;
        }
        let families = self.connection_families(src, dst);
        let ok = |f: Family| {
            let f = Some(f);
            self.side_allows(Direction::Egress, src, dst, port, protocol, f)
                && self.side_allows(Direction::Ingress, dst, src, port, protocol, f)
        };
        // Without tiers or an ipBlock among the rules in play, every family
        // is decided alike.
        let alike = self.tiers.is_none()
            && !self.holds_ip_block(src, Direction::Egress)
            && !self.holds_ip_block(dst, Direction::Ingress);
        match families[..] {
            [] => Outcome {
                allowed: false,
                only: None,
            },
            [f] => Outcome {
                allowed: ok(f),
                only: None,
            },
            [f, _] if alike => Outcome {
                allowed: ok(f),
                only: None,
            },
            [f, g, ..] => {
                let (a, b) = (ok(f), ok(g));
                Outcome {
                    allowed: a || b,
                    only: match (a, b) {
                        (true, false) => Some(f),
                        (false, true) => Some(g),
                        _ => None,
                    },
                }
            }
        }
    }

    /// Whether `subject`'s side of the connection with `peer` is allowed in
    /// `direction`: the Admin tier, then NetworkPolicy for the pods it
    /// selects, then the Baseline tier, then the default (allow).
    pub(crate) fn side_allows(
        &self,
        direction: Direction,
        subject: Party,
        peer: Party,
        port: u16,
        protocol: Protocol,
        family: Option<Family>,
    ) -> bool {
        // Addresses outside the cluster and host-network pods are never
        // subjects of any policy.
        let Party::Endpoint(si) = subject else {
            return true;
        };
        let s = &self.cluster.endpoints[si];
        if s.host_network {
            return true;
        }
        // Named ports resolve on the destination, when it is a pod.
        let dst: Option<&Endpoint> = match (direction, peer) {
            (Direction::Ingress, _) => Some(s),
            (Direction::Egress, Party::Endpoint(d)) => Some(&self.cluster.endpoints[d]),
            (Direction::Egress, Party::External(_)) => None,
        };
        let tiers = self.tiers.as_deref();
        let tier = |t: Tier| {
            tiers.and_then(|tiers| {
                self.run_tier(
                    tiers, t, direction, si, peer, dst, port, protocol, family, None,
                )
                .decision
            })
        };
        match tier(Tier::Admin) {
            Some((Action::Accept, ..)) => return true,
            Some((Action::Deny, ..)) => return false,
            _ => {}
        }
        let selecting = self.policies_selecting(si, direction);
        if !selecting.is_empty() {
            return selecting.iter().any(|&pi| {
                let (policy, compiled) = self.policy(pi);
                compiled.rules(direction).iter().any(|cr| {
                    let rule = &policy.rules(direction)[cr.index];
                    let peer_ok = match peer {
                        Party::Endpoint(e) => cr.admitted_over(family).contains(e),
                        Party::External(ip) => rule_admits_address(rule, ip),
                    };
                    peer_ok && ports_admit(&rule.ports, dst, port, protocol)
                })
            });
        }
        !matches!(tier(Tier::Baseline), Some((Action::Deny, ..)))
    }
}
