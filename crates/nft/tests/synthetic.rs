//! Engine versus kernel on synthetic clusters that use every NetworkPolicy
//! construct (netpol-synth): the `netpol nft` rulesets applied in throwaway
//! namespaces must allow exactly what the engine allows. Real packets: needs
//! root, `ip` and `nft`, as CI has; never skipped.

use std::sync::Mutex;

use netpol_engine::Engine;
use netpol_model::Cluster;
use netpol_nft::probe::{self, Job, Outcome, ProbeOptions};
use netpol_nft::{Options, compile};
use netpol_synth::{Params, generate};

/// One probe at a time, so that timeouts are not stretched by a busy machine.
static SERIAL: Mutex<()> = Mutex::new(());

fn cluster(seed: u64) -> Cluster {
    let cluster = generate(&Params {
        workloads: 14,
        policies: 10,
        namespaces: 2,
        seed,
    });
    let mut cluster = probe::expand_replicas(&cluster, 2);
    probe::assign_addresses(&mut cluster).unwrap();
    cluster
}

/// Each node's own ruleset (`netpol nft --node`), as the probe applies them.
fn per_node(engine: &Engine, nodes: &probe::Nodes) -> Vec<Option<String>> {
    nodes
        .keys
        .iter()
        .map(|k| {
            k.scope().map(|scope| {
                compile(
                    engine,
                    &Options {
                        scope,
                        ..Options::default()
                    },
                )
                .unwrap()
            })
        })
        .collect()
}

/// Probes with `rulesets` (one per node) and returns (allowed, denied)
/// counts; panics on any disagreement.
fn agree(cluster: &Cluster, rulesets: &[Option<String>], what: &str) -> (usize, usize) {
    let engine = Engine::new(cluster);
    let nodes = probe::nodes(cluster);
    let cells = probe::jobs(&engine.matrix());
    let jobs: Vec<Job> = cells.iter().map(|(job, _)| *job).collect();
    let outcomes = probe::run(cluster, &nodes, rulesets, &jobs, &ProbeOptions::default())
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    let (mut allowed, mut denied) = (0, 0);
    let mut disagreements = Vec::new();
    for ((job, expected), outcome) in cells.iter().zip(&outcomes) {
        let measured = match outcome {
            Outcome::Allowed => true,
            Outcome::Denied => false,
            Outcome::Untestable(_) => continue,
        };
        if measured {
            allowed += 1;
        } else {
            denied += 1;
        }
        if measured != *expected {
            disagreements.push(format!(
                "{} -> {} {}/{} (family {:?}): engine {}, kernel {}",
                cluster.endpoints[job.src].id(),
                cluster.endpoints[job.dst].id(),
                job.port,
                job.protocol,
                job.family,
                expected,
                measured
            ));
        }
    }
    assert!(
        disagreements.is_empty(),
        "{what}:\n{}\n\nrulesets:\n{rulesets:?}",
        disagreements.join("\n")
    );
    assert!(probe::netns::existing_with_prefix(&format!("np-{}-", std::process::id())).is_empty());
    (allowed, denied)
}

#[test]
fn kernel_and_engine_agree_on_synthetic_clusters() {
    let _lock = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let (mut allowed, mut denied, mut per_family) = (0, 0, 0);
    // Seed 83 has dual-stack pods that an ipBlock admits over one family only.
    for seed in [1, 2, 3, 4, 83] {
        let cluster = cluster(seed);
        let engine = Engine::new(&cluster);
        let rulesets = per_node(&engine, &probe::nodes(&cluster));
        let (a, d) = agree(&cluster, &rulesets, &format!("seed {seed}"));
        allowed += a;
        denied += d;
        per_family += probe::jobs(&engine.matrix())
            .iter()
            .filter(|(job, _)| job.family.is_some())
            .count();
    }
    // The clusters are not trivial: both answers occur, and some connections
    // are allowed over one address family only.
    assert!(
        allowed > 100 && denied > 100,
        "allowed {allowed}, denied {denied}"
    );
    assert!(per_family > 0, "no connection allowed over one family only");
}

/// The whole cluster's ruleset (`netpol nft` without `--node`) on every
/// node enforces the same: a packet passes its source's egress chain and its
/// destination's ingress chain on each node it crosses, with the same answers.
#[test]
fn one_ruleset_for_every_pod_on_every_node_enforces_the_same() {
    let _lock = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    for seed in 5..=6 {
        let cluster = cluster(seed);
        let engine = Engine::new(&cluster);
        let nodes = probe::nodes(&cluster);
        assert!(
            nodes.keys.len() > 1,
            "the synthetic cluster spreads pods over nodes"
        );
        let whole = compile(&engine, &Options::default()).unwrap();
        let rulesets = vec![Some(whole); nodes.keys.len()];
        let (allowed, denied) = agree(&cluster, &rulesets, &format!("seed {seed}, one ruleset"));
        assert!(
            allowed > 0 && denied > 0,
            "allowed {allowed}, denied {denied}"
        );
    }
}
