//! The cells with an external end, decided by `Engine::decide`: the
//! engine's own matching (NetworkPolicy and the ClusterNetworkPolicy tiers,
//! address families) without building a trace, since a large cluster has
//! hundreds of thousands of them. `engine.verdict` decides the same cells
//! with the trace; the tests hold the two against each other.

use std::net::IpAddr;

use netpol_engine::{Engine, Party};
use netpol_model::Protocol;

use super::Decided;

/// From the address `ip` to endpoint `dst`. An address has one family, so a
/// connection from it is never allowed "over one family only".
pub fn from_external(
    engine: &Engine,
    ip: IpAddr,
    dst: usize,
    port: u16,
    protocol: Protocol,
) -> Decided {
    decided(
        engine,
        Party::External(ip),
        Party::Endpoint(dst),
        port,
        protocol,
    )
}

/// From endpoint `src` to the address `ip`.
pub fn to_external(
    engine: &Engine,
    src: usize,
    ip: IpAddr,
    port: u16,
    protocol: Protocol,
) -> Decided {
    decided(
        engine,
        Party::Endpoint(src),
        Party::External(ip),
        port,
        protocol,
    )
}

fn decided(engine: &Engine, src: Party, dst: Party, port: u16, protocol: Protocol) -> Decided {
    let o = engine.decide(src, dst, port, protocol);
    Decided {
        allowed: o.allowed,
        only: o.only,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::external::{external_ports, externals};
    use netpol_model::Cluster;

    /// Every external cell of `cluster` decided both ways; returns how many
    /// cells, and how many of them a cluster policy tier decided.
    fn check(cluster: &Cluster) -> (usize, usize) {
        let engine = Engine::new(cluster);
        let ext = externals(cluster);
        assert!(ext.len() > 3, "the cluster has ipBlocks");
        let ports = external_ports(cluster);
        let (mut checked, mut by_tier) = (0, 0);
        let mut compare = |v: netpol_engine::Verdict, fast: Decided| {
            assert_eq!(fast.allowed, v.allowed, "{} -> {} {}", v.src, v.dst, v.port);
            assert_eq!(fast.only, v.only_over());
            checked += 1;
            let tiered = |s: &netpol_engine::SideTrace| {
                s.tiers
                    .as_ref()
                    .and_then(|t| t.decided_by)
                    .is_some_and(|l| {
                        matches!(
                            l,
                            netpol_engine::tier::Layer::Admin
                                | netpol_engine::tier::Layer::Baseline
                        )
                    })
            };
            by_tier += usize::from(tiered(&v.egress) || tiered(&v.ingress));
        };
        for x in &ext {
            for e in 0..cluster.endpoints.len() {
                for (port, protocol) in engine.declared_ports(e) {
                    let (src, dst) = (Party::External(x.address), Party::Endpoint(e));
                    let fast = from_external(&engine, x.address, e, port, protocol);
                    compare(engine.verdict(src, dst, port, protocol), fast);
                }
                for &(port, protocol) in &ports {
                    let (src, dst) = (Party::Endpoint(e), Party::External(x.address));
                    let fast = to_external(&engine, e, x.address, port, protocol);
                    compare(engine.verdict(src, dst, port, protocol), fast);
                }
            }
        }
        (checked, by_tier)
    }

    /// Synthetic clusters (dual-stack pods, ipBlocks with excepts around pod
    /// addresses, named ports, endPort ranges, host network), without and
    /// with ClusterNetworkPolicies (the template, and a live dump whose
    /// host-network pods `nodes` peers match).
    #[test]
    fn the_fast_cells_are_the_engine_verdicts() {
        for seed in 1..=3 {
            let cluster = netpol_synth::generate(&netpol_synth::Params::new(60, seed));
            let (checked, _) = check(&cluster);
            assert!(checked > 1000, "seed {seed}: {checked} cells");
            let pods = netpol_synth::live(&cluster, 2);
            for c in [cluster, pods] {
                let c = netpol_synth::with_cluster_policies(c, 12, seed);
                let (checked, by_tier) = check(&c);
                assert!(checked > 1000, "seed {seed}: {checked} cells");
                assert!(
                    by_tier > 20,
                    "seed {seed}: {by_tier} cells decided by a tier"
                );
            }
        }
    }

    /// The grid decides external cells once per class of pods, on the
    /// classes' representatives: under cluster policies too, each pod's
    /// cell is its class's.
    #[test]
    fn external_cells_per_class_are_the_per_pod_cells_under_cluster_policies() {
        for seed in 1..=3 {
            let template = netpol_synth::generate(&netpol_synth::Params::new(40, seed));
            let c = netpol_synth::with_cluster_policies(netpol_synth::live(&template, 3), 12, seed);
            let classes = netpol_engine::Classes::new(&c);
            assert!(
                classes.len() < c.endpoints.len(),
                "seed {seed}: nothing merged"
            );
            let (per_class, per_pod) = (Engine::new(&classes.reduced), Engine::new(&c));
            let ports = external_ports(&c);
            let mut checked = 0;
            for x in externals(&c) {
                for (i, &class) in classes.class_of.iter().enumerate() {
                    let class = class as usize;
                    for (port, protocol) in per_pod.declared_ports(i) {
                        assert_eq!(
                            from_external(&per_class, x.address, class, port, protocol),
                            from_external(&per_pod, x.address, i, port, protocol),
                            "{} -> {} {port}",
                            x.label,
                            c.endpoints[i].id()
                        );
                        checked += 1;
                    }
                    for &(port, protocol) in &ports {
                        assert_eq!(
                            to_external(&per_class, class, x.address, port, protocol),
                            to_external(&per_pod, i, x.address, port, protocol),
                            "{} -> {} {port}",
                            c.endpoints[i].id(),
                            x.label
                        );
                        checked += 1;
                    }
                }
            }
            assert!(checked > 1000, "seed {seed}: {checked} cells");
        }
    }
}
