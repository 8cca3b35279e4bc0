//! Connections between endpoints and outside addresses decided in bulk
//! ([`Engine::to_addresses`], [`Engine::from_addresses`]) against the same
//! connections decided one at a time by `decide` (held against the verdict
//! and the reference evaluator elsewhere), and on a sample against the
//! verdict itself: every cell, over more than 64 ports so that port sets
//! span several words.

use std::net::IpAddr;

use ipnet::IpNet;
use netpol_engine::{Engine, Party};
use netpol_model::{Cluster, Peer, Protocol, TierPeer};
use netpol_synth::{Params, generate, live};
use proptest::prelude::*;

#[path = "support/random_tiers.rs"]
mod random_tiers;
use random_tiers::{Rng, with_cluster_policies};

/// Addresses worth asking about: the first and last address of every
/// network a policy names, node addresses, some pod addresses, the internet.
fn addresses(c: &Cluster) -> Vec<IpAddr> {
    let mut nets: Vec<IpNet> = Vec::new();
    for p in &c.policies {
        for rule in p.ingress.iter().chain(&p.egress) {
            for peer in &rule.peers {
                if let Peer::IpBlock { cidr, except, .. } = peer {
                    nets.push(*cidr);
                    nets.extend(except);
                }
            }
        }
    }
    for p in &c.cluster_policies {
        for rule in p.ingress.iter().chain(&p.egress) {
            for peer in &rule.peers {
                if let TierPeer::Networks { cidrs, .. } = peer {
                    nets.extend(cidrs);
                }
            }
        }
    }
    let mut out: Vec<IpAddr> = nets
        .iter()
        .flat_map(|n| [n.network(), n.broadcast()])
        .chain(c.nodes.iter().flat_map(|n| n.addresses.clone()))
        .chain(c.endpoints.iter().take(5).flat_map(|e| e.ips.clone()))
        .chain(["8.8.8.8", "2001:db8::1"].map(|s| s.parse().unwrap()))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Every port a rule or an endpoint names, and enough others to need
/// more than one word of port bits.
fn ports(c: &Cluster) -> Vec<(u16, Protocol)> {
    let mut ports: Vec<(u16, Protocol)> = c
        .endpoints
        .iter()
        .flat_map(|e| e.ports.iter().map(|p| (p.port, p.protocol)))
        .chain(c.policies.iter().flat_map(|p| {
            p.ingress
                .iter()
                .chain(&p.egress)
                .flat_map(|r| &r.ports)
                .filter_map(|pr| match pr.port {
                    Some(netpol_model::PortRef::Number(n)) => Some((n, pr.protocol)),
                    _ => None,
                })
        }))
        .chain((1..=66).map(|p| (p, Protocol::Tcp)))
        .chain([(53, Protocol::Udp), (9, Protocol::Sctp)])
        .collect();
    ports.sort();
    ports.dedup();
    ports
}

/// Every cell both ways; returns how many cells were allowed and denied.
fn check(c: &Cluster, seed: u64) -> Result<(usize, usize), String> {
    let engine = Engine::new(c);
    let (addresses, ports) = (addresses(c), ports(c));
    assert!(ports.len() > 64);
    let mut rng = Rng(seed | 1);
    let mut sample = || rng.below(16) == 0;
    let mut counts = (0, 0);
    let mut compare = |bulk: bool, src: Party, dst: Party, port: u16, protocol: Protocol| {
        let one = engine.decide(src, dst, port, protocol);
        if bulk != one.allowed || one.only.is_some() {
            return Err(format!(
                "{src:?} -> {dst:?} {port}/{protocol}: in bulk {bulk}, alone {one:?}"
            ));
        }
        if sample() && engine.verdict(src, dst, port, protocol).allowed != bulk {
            return Err(format!(
                "{src:?} -> {dst:?} {port}/{protocol}: verdict differs"
            ));
        }
        if bulk {
            counts.0 += 1
        } else {
            counts.1 += 1
        }
        Ok(())
    };
    let n = c.endpoints.len();
    let to = engine.to_addresses(|s| s % 5 != 4, &addresses, &ports);
    for src in (0..n).filter(|s| s % 5 != 4) {
        for (a, &ip) in addresses.iter().enumerate() {
            for (k, &(port, protocol)) in ports.iter().enumerate() {
                let bulk = to.allowed(src, a, k);
                compare(
                    bulk,
                    Party::Endpoint(src),
                    Party::External(ip),
                    port,
                    protocol,
                )?;
            }
        }
    }
    let from = engine.from_addresses(&addresses);
    for dst in 0..n {
        for &(port, protocol) in &ports {
            let column = from.column(dst, port, protocol);
            for (a, &ip) in addresses.iter().enumerate() {
                let bulk = column.contains(a);
                compare(
                    bulk,
                    Party::External(ip),
                    Party::Endpoint(dst),
                    port,
                    protocol,
                )?;
            }
        }
    }
    Ok(counts)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, failure_persistence: None, ..ProptestConfig::default() })]

    /// Live dumps and templates (ipBlocks with excepts around pod
    /// addresses, dual-stack, host network, named ports, endPort ranges),
    /// with random ClusterNetworkPolicies (every tier, action and peer
    /// form, `networks` and `nodes` peers that outside addresses match).
    #[test]
    fn cells_with_outside_addresses_in_bulk_are_decides(
        seed in any::<u64>(),
        workloads in 1usize..10,
        policies in 0usize..10,
        cluster_policies in 0usize..6,
        namespaces in 1usize..3,
        replicas in 1usize..3,
    ) {
        let template = generate(&Params { workloads, policies, namespaces, seed });
        for c in [live(&template, replicas), template] {
            let c = with_cluster_policies(c, seed, cluster_policies);
            if let Err(e) = check(&c, seed) {
                prop_assert!(false, "{}", e);
            }
        }
    }
}

/// The synthetic generator's larger clusters, with its own cluster
/// policies: both answers occur, so the comparison can fail.
#[test]
fn synthetic_clusters_in_bulk_are_decides() {
    for seed in 1..=2 {
        let template = generate(&Params::new(40, seed));
        let pods = live(&template, 2);
        for c in [template, pods] {
            let c = netpol_synth::with_cluster_policies(c, 10, seed);
            let (allowed, denied) = check(&c, seed).unwrap();
            assert!(
                allowed > 1000 && denied > 1000,
                "{allowed} allowed, {denied} denied"
            );
        }
    }
}

/// Sources that nothing tells apart share one row.
#[test]
fn sources_decided_alike_share_a_row() {
    let c = live(&generate(&Params::new(30, 3)), 3);
    let engine = Engine::new(&c);
    let to = engine.to_addresses(|_| true, &addresses(&c), &ports(&c));
    assert!(
        to.rows() > 1 && to.rows() < c.endpoints.len() / 2,
        "{} rows",
        to.rows()
    );
}
