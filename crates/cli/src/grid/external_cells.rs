//! The cells with an external end, decided with the engine's own matching
//! (its policy index, `ip_in_block`, `ports_admit`, address families) but
//! without building a trace: a large cluster has hundreds of thousands of
//! them. `engine.verdict` decides the same cells with the trace; the tests
//! hold the two against each other. ClusterNetworkPolicy tiers decide in
//! order, not by union, so with them every cell goes through `verdict`.

use std::net::IpAddr;

use netpol_engine::{Engine, Party, ip_in_block, ports_admit};
use netpol_model::{Direction, Endpoint, Peer, Protocol};

use super::Decided;

const DENIED: Decided = Decided {
    allowed: false,
    only: None,
};
const ALLOWED: Decided = Decided {
    allowed: true,
    only: None,
};

/// From the address `ip` to endpoint `dst`. An address has one family, so a
/// connection from it is never allowed "over one family only".
pub fn from_external(
    engine: &Engine,
    ip: IpAddr,
    dst: usize,
    port: u16,
    protocol: Protocol,
) -> Decided {
    with_external(engine, dst, Direction::Ingress, ip, port, protocol)
}

/// From endpoint `src` to the address `ip`.
pub fn to_external(
    engine: &Engine,
    src: usize,
    ip: IpAddr,
    port: u16,
    protocol: Protocol,
) -> Decided {
    with_external(engine, src, Direction::Egress, ip, port, protocol)
}

/// The connection between endpoint `end` and the address `ip`, which
/// `direction` of `end`'s policies decides.
fn with_external(
    engine: &Engine,
    end: usize,
    direction: Direction,
    ip: IpAddr,
    port: u16,
    protocol: Protocol,
) -> Decided {
    let (src, dst) = match direction {
        Direction::Ingress => (Party::External(ip), Party::Endpoint(end)),
        Direction::Egress => (Party::Endpoint(end), Party::External(ip)),
    };
    if engine.tiers.is_some() {
        return by_verdict(engine, src, dst, port, protocol);
    }
    if engine.connection_families(src, dst).is_empty() {
        return DENIED;
    }
    // Named ports resolve on the destination, which only ingress has here.
    let d = (direction == Direction::Ingress).then(|| engine_endpoint(engine, end));
    if admits(engine, end, direction, ip, d, port, protocol) {
        ALLOWED
    } else {
        DENIED
    }
}

fn by_verdict(engine: &Engine, src: Party, dst: Party, port: u16, protocol: Protocol) -> Decided {
    let v = engine.verdict(src, dst, port, protocol);
    Decided {
        allowed: v.allowed,
        only: v.only_over(),
    }
}

fn engine_endpoint<'e>(engine: &Engine<'e>, i: usize) -> &'e Endpoint {
    &engine.cluster.endpoints[i]
}

/// Whether `subject`'s policies of `direction` let the address through:
/// none isolates it, or one has a rule whose peers take the address (no
/// peers, or an ipBlock holding it) and whose ports take the port.
fn admits(
    engine: &Engine,
    subject: usize,
    direction: Direction,
    ip: IpAddr,
    dst: Option<&Endpoint>,
    port: u16,
    protocol: Protocol,
) -> bool {
    if engine_endpoint(engine, subject).host_network {
        return true;
    }
    let selecting = engine.policies_selecting(subject, direction);
    selecting.is_empty()
        || selecting.iter().any(|&pi| {
            let (policy, compiled) = engine.policy(pi);
            compiled.rules(direction).iter().any(|cr| {
                let rule = &policy.rules(direction)[cr.index];
                let peer = rule.peers.is_empty()
                    || rule.peers.iter().any(|p| match p {
                        Peer::IpBlock { cidr, except, .. } => ip_in_block(ip, cidr, except),
                        Peer::Pods { .. } => false,
                    });
                peer && ports_admit(&rule.ports, dst, port, protocol)
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::external::{external_ports, externals};

    /// Every external cell of synthetic clusters (dual-stack pods, ipBlocks
    /// with excepts around pod addresses, named ports, endPort ranges, host
    /// network) decided both ways.
    #[test]
    fn the_fast_cells_are_the_engine_verdicts() {
        for seed in 1..=3 {
            let cluster = netpol_synth::generate(&netpol_synth::Params::new(60, seed));
            let engine = Engine::new(&cluster);
            let ext = externals(&cluster);
            assert!(ext.len() > 3, "seed {seed}: the cluster has ipBlocks");
            let ports = external_ports(&cluster);
            let mut checked = 0;
            for x in &ext {
                for e in 0..cluster.endpoints.len() {
                    for (port, protocol) in engine.declared_ports(e) {
                        let v = engine.verdict(
                            Party::External(x.address),
                            Party::Endpoint(e),
                            port,
                            protocol,
                        );
                        let fast = from_external(&engine, x.address, e, port, protocol);
                        assert_eq!(fast.allowed, v.allowed, "{} -> {} {port}", x.label, v.dst);
                        assert_eq!(fast.only, v.only_over());
                        checked += 1;
                    }
                    for &(port, protocol) in &ports {
                        let v = engine.verdict(
                            Party::Endpoint(e),
                            Party::External(x.address),
                            port,
                            protocol,
                        );
                        let fast = to_external(&engine, e, x.address, port, protocol);
                        assert_eq!(fast.allowed, v.allowed, "{} -> {} {port}", v.src, x.label);
                        assert_eq!(fast.only, v.only_over());
                        checked += 1;
                    }
                }
            }
            assert!(checked > 1000, "seed {seed}: {checked} cells");
        }
    }
}
