//! Engine versus kernel on synthetic clusters that use every NetworkPolicy
//! construct (netpol-synth): the `netpol nft` rulesets applied in throwaway
//! namespaces must allow exactly what the engine allows. Real packets: needs
//! root, `ip` and `nft`, as CI has; never skipped.

use std::collections::BTreeSet;
use std::sync::Mutex;

use netpol_engine::Engine;
use netpol_model::Cluster;
use netpol_nft::probe::{self, Job, Outcome, ProbeOptions};
use netpol_nft::{Options, Scope, compile};
use netpol_synth::{Params, generate};

/// One probe at a time: a process's runs share its namespace names.
static SERIAL: Mutex<()> = Mutex::new(());

fn cluster(seed: u64) -> Cluster {
    let mut cluster = generate(&Params {
        workloads: 14,
        policies: 10,
        namespaces: 2,
        seed,
    });
    probe::assign_addresses(&mut cluster).unwrap();
    cluster
}

/// Probes `ruleset` and returns (allowed, denied) counts; panics on any disagreement.
fn agree(cluster: &Cluster, ruleset: &str, what: &str) -> (usize, usize) {
    let engine = Engine::new(cluster);
    let cells = probe::jobs(&engine.matrix());
    let jobs: Vec<Job> = cells.iter().map(|(job, _)| *job).collect();
    let outcomes = probe::run(cluster, ruleset, &jobs, &ProbeOptions::default())
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
        "{what}:\n{}\n\nruleset:\n{ruleset}",
        disagreements.join("\n")
    );
    assert!(
        probe::netns::existing_with_prefix(&format!("{}{}-", probe::PREFIX, std::process::id()))
            .is_empty()
    );
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
        let ruleset = compile(&engine, &Options::default()).unwrap();
        let (a, d) = agree(&cluster, &ruleset, &format!("seed {seed}"));
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

/// Each node enforces only its own pods (`netpol nft --node`): egress where a
/// connection starts, ingress where it ends. One table per node, all in the
/// same hook, gives exactly that: a packet must pass the source node's table
/// and the destination node's.
#[test]
fn per_node_rulesets_together_enforce_the_cluster() {
    let _lock = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    for seed in 5..=6 {
        let cluster = cluster(seed);
        let engine = Engine::new(&cluster);
        let nodes: BTreeSet<&String> = cluster
            .endpoints
            .iter()
            .filter_map(|e| e.node.as_ref())
            .collect();
        assert!(
            nodes.len() > 1,
            "the synthetic cluster spreads pods over nodes"
        );
        let mut ruleset = String::new();
        for (i, node) in nodes.iter().enumerate() {
            let opts = Options {
                scope: Scope::Node(node.to_string()),
                table: format!("netpol_node{i}"),
            };
            ruleset.push_str(&compile(&engine, &opts).unwrap());
        }
        let rest = Options {
            scope: Scope::WithoutNode,
            table: "netpol_nonode".into(),
        };
        ruleset.push_str(&compile(&engine, &rest).unwrap());
        let (allowed, denied) = agree(&cluster, &ruleset, &format!("seed {seed}, per node"));
        assert!(
            allowed > 0 && denied > 0,
            "allowed {allowed}, denied {denied}"
        );
    }
}
