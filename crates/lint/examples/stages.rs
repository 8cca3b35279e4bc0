//! Times what `netpol explain` and `netpol lint` do after loading, on a
//! directory of manifests (a live dump): `load`, then explain's stages
//! (the sub-cluster of the two endpoints, its engine, the verdict, over
//! several pairs: the slowest is printed) and lint's (the classes, the
//! engine over them, the rules).
//!
//! `cargo run --release -p netpol-lint --example stages -- DIR`
//!
//! Prints one tab-separated line per stage: `stage seconds detail`.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use netpol_engine::{Classes, Engine, Party, Restricted};
use netpol_model::{LoadOptions, load_paths};

fn main() -> ExitCode {
    let Some(dir) = std::env::args().nth(1) else {
        eprintln!("usage: stages DIR");
        return ExitCode::from(2);
    };
    let t = Instant::now();
    let cluster = match load_paths(&[std::path::PathBuf::from(dir)], &LoadOptions::default()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let n = cluster.endpoints.len();
    println!(
        "load\t{:.3}\t{n} endpoints, {} policies",
        t.elapsed().as_secs_f64(),
        cluster.policies.len()
    );

    // Pairs spread over the cluster, both ways, and an endpoint with itself.
    let picks: Vec<usize> = (0..12).map(|k| k * n.max(1) / 12).collect();
    let mut slowest = Duration::ZERO;
    let mut allowed = 0;
    for (k, &src) in picks.iter().enumerate() {
        let dst = picks[(k * 7 + 3) % picks.len()];
        for (s, d) in [(src, dst), (dst, src), (src, src)] {
            let t = Instant::now();
            let restricted = Restricted::new(&cluster, [s, d]);
            let engine = Engine::new(&restricted.cluster);
            let v = engine.verdict(
                restricted.party(Party::Endpoint(s)),
                restricted.party(Party::Endpoint(d)),
                80,
                netpol_model::Protocol::Tcp,
            );
            slowest = slowest.max(t.elapsed());
            allowed += usize::from(v.allowed);
        }
    }
    println!(
        "explain\t{:.4}\tslowest of {} (sub-cluster + compile + verdict), {allowed} allowed",
        slowest.as_secs_f64(),
        picks.len() * 3
    );

    let t = Instant::now();
    let classes = Classes::new(&cluster);
    println!(
        "classes\t{:.3}\t{} classes",
        t.elapsed().as_secs_f64(),
        classes.len()
    );
    let t = Instant::now();
    let findings = netpol_lint::lint_with(&cluster, &classes);
    println!(
        "lint\t{:.3}\t{} findings (compile over classes + rules)",
        t.elapsed().as_secs_f64(),
        findings.len()
    );
    ExitCode::SUCCESS
}
