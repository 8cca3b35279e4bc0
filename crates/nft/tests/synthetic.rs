//! Engine versus kernel on synthetic clusters that use every NetworkPolicy
//! construct (netpol-synth): the `netpol nft` ruleset applied in throwaway
//! namespaces must allow exactly what the engine allows. Real packets: needs
//! root, `ip` and `nft`, as CI has; never skipped.

use std::sync::Mutex;

use netpol_engine::Engine;
use netpol_nft::probe::{self, Job, Outcome, ProbeOptions};
use netpol_nft::{Options, compile};
use netpol_synth::{Params, generate};

/// One probe at a time: a process's runs share its namespace names.
static SERIAL: Mutex<()> = Mutex::new(());

#[test]
fn kernel_and_engine_agree_on_synthetic_clusters() {
    let _lock = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let (mut allowed, mut denied) = (0, 0);
    for seed in 1..=4 {
        let mut cluster = generate(&Params { workloads: 14, policies: 10, namespaces: 2, seed });
        probe::assign_addresses(&mut cluster).unwrap();
        let engine = Engine::new(&cluster);
        let ruleset = compile(&engine, &Options::default()).unwrap();
        let matrix = engine.matrix();
        let cells: Vec<_> = matrix.cells().collect();
        let jobs: Vec<Job> =
            cells.iter().map(|c| Job { src: c.src, dst: c.dst, port: c.port, protocol: c.protocol }).collect();
        let outcomes = probe::run(&cluster, &ruleset, &jobs, &ProbeOptions::default())
            .unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        let mut disagreements = Vec::new();
        for (cell, outcome) in cells.iter().zip(&outcomes) {
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
            if measured != cell.allowed {
                disagreements.push(format!(
                    "{} -> {} {}/{}: engine {}, kernel {}",
                    cluster.endpoints[cell.src].id(),
                    cluster.endpoints[cell.dst].id(),
                    cell.port,
                    cell.protocol,
                    cell.allowed,
                    measured
                ));
            }
        }
        assert!(disagreements.is_empty(), "seed {seed}:\n{}\n\nruleset:\n{ruleset}", disagreements.join("\n"));
        assert!(probe::netns::existing_with_prefix(&format!("{}{}-", probe::PREFIX, std::process::id())).is_empty());
    }
    // The clusters are not trivial: both answers occur.
    assert!(allowed > 100 && denied > 100, "allowed {allowed}, denied {denied}");
}
