//! `explain` compiles the engine over the endpoints it asks about only
//! ([`Restricted`]): every verdict, trace included, must be the one the
//! engine over the whole cluster gives.

use std::net::IpAddr;

use netpol_engine::{Decision, Engine, Party, Restricted};
use netpol_model::{Cluster, Protocol};
use netpol_synth::{Params, generate, live};
use proptest::prelude::*;

#[path = "support/random_tiers.rs"]
mod random_tiers;
use random_tiers::{Rng, with_cluster_policies};

/// Ports worth asking about: every declared one, a few common ones.
fn probe_ports(c: &Cluster) -> Vec<(u16, Protocol)> {
    let mut ports: Vec<(u16, Protocol)> = c
        .endpoints
        .iter()
        .flat_map(|e| e.ports.iter().map(|p| (p.port, p.protocol)))
        .chain([
            (80, Protocol::Tcp),
            (53, Protocol::Udp),
            (1, Protocol::Sctp),
        ])
        .collect();
    ports.sort();
    ports.dedup();
    ports
}

/// `pairs` random connections (some from an endpoint to itself, some with
/// an outside address) decided both ways; returns how each was decided
/// and whether it was between two replicas of one endpoint.
fn check(c: &Cluster, seed: u64, pairs: usize) -> Result<Vec<(Decision, bool)>, String> {
    let full = Engine::new(c);
    let mut rng = Rng(seed | 1);
    let n = c.endpoints.len();
    let ports = probe_ports(c);
    let outside: Vec<IpAddr> = ["8.8.8.8", "2001:db8::1", "192.168.0.10"]
        .iter()
        .map(|s| s.parse().unwrap())
        .chain(c.nodes.iter().flat_map(|n| n.addresses.clone()))
        .collect();
    let party = |rng: &mut Rng| match rng.below(8) {
        0 => Party::External(*rng.pick(&outside).unwrap()),
        _ => Party::Endpoint(rng.below(n)),
    };
    let mut seen = Vec::new();
    for _ in 0..pairs {
        let src = party(&mut rng);
        let dst = match rng.below(5) {
            0 => src,
            _ => party(&mut rng),
        };
        let (port, protocol) = *rng.pick(&ports).unwrap();
        let kept = [src, dst].into_iter().filter_map(|p| match p {
            Party::Endpoint(i) => Some(i),
            Party::External(_) => None,
        });
        let restricted = Restricted::new(c, kept);
        let engine = Engine::new(&restricted.cluster);
        let want = full.verdict(src, dst, port, protocol);
        let got = engine.verdict(restricted.party(src), restricted.party(dst), port, protocol);
        let json = |v| serde_json::to_string_pretty(v).unwrap();
        if json(&want) != json(&got) {
            return Err(format!(
                "{src:?} -> {dst:?} {port}/{protocol}:\nfull engine: {}\nrestricted: {}",
                json(&want),
                json(&got)
            ));
        }
        seen.push((want.decided_by, want.between_replicas.is_some()));
    }
    Ok(seen)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    /// Live dumps (replicas with their own addresses and nodes, host-network
    /// pods, ipBlocks around pod addresses, named ports) and template-level
    /// clusters (workloads standing for several pods).
    #[test]
    fn restricted_verdicts_equal_the_full_engines(
        seed in any::<u64>(),
        workloads in 1usize..12,
        policies in 0usize..14,
        namespaces in 1usize..3,
        replicas in 1usize..4,
    ) {
        let template = generate(&Params { workloads, policies, namespaces, seed });
        for c in [live(&template, replicas), template] {
            if let Err(e) = check(&c, seed, 40) {
                prop_assert!(false, "{}", e);
            }
        }
    }

    #[test]
    fn restricted_verdicts_equal_the_full_engines_with_cluster_policies(
        seed in any::<u64>(),
        workloads in 1usize..10,
        policies in 0usize..8,
        cluster_policies in 1usize..6,
        namespaces in 1usize..3,
        replicas in 1usize..4,
    ) {
        let template = generate(&Params { workloads, policies, namespaces, seed });
        for c in [live(&template, replicas), template] {
            let c = with_cluster_policies(c, seed, cluster_policies);
            if let Err(e) = check(&c, seed, 40) {
                prop_assert!(false, "{}", e);
            }
        }
    }
}

/// Agreeing proves something only if the checked connections take every
/// path of the verdict: policies, the same pod, node traffic, and traffic
/// between replicas of one endpoint.
#[test]
fn the_checked_connections_take_every_path() {
    let mut decisions = Vec::new();
    for seed in 0..24u64 {
        let template = generate(&Params {
            workloads: 10,
            policies: 8,
            namespaces: 2,
            seed,
        });
        for c in [live(&template, 3), template] {
            let c = with_cluster_policies(c, seed, (seed % 3) as usize);
            decisions.extend(check(&c, seed, 60).unwrap());
        }
    }
    for d in [Decision::Policies, Decision::SamePod, Decision::NodeTraffic] {
        assert!(decisions.iter().any(|s| s.0 == d), "{d:?} never seen");
    }
    assert!(decisions.contains(&(Decision::Policies, true)));
}
