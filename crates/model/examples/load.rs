//! Times `load_paths` alone (no compile, no output): the loader's throughput
//! on real files. Used by `scripts/bench` for its load rows.
//!
//! `cargo run --release -p netpol-model --example load -- PATH... [--repeat N]`
//!
//! Prints `bytes seconds MB/s objects` for the best of N runs (default 1).

use std::process::ExitCode;
use std::time::Instant;

use netpol_model::{LoadOptions, load_paths, read_paths};

fn main() -> ExitCode {
    let mut paths = Vec::new();
    let mut repeat = 1usize;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--repeat" {
            repeat = args.next().and_then(|n| n.parse().ok()).unwrap_or(1);
        } else {
            paths.push(a);
        }
    }
    let bytes: usize = match read_paths(&paths) {
        Ok(s) => s.iter().map(|s| s.text.len()).sum(),
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let mut best = f64::INFINITY;
    let mut objects = 0;
    for _ in 0..repeat.max(1) {
        let start = Instant::now();
        match load_paths(&paths, &LoadOptions::default()) {
            Ok(c) => {
                objects = c.endpoints.len() + c.policies.len() + c.services.len();
                best = best.min(start.elapsed().as_secs_f64());
            }
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::from(2);
            }
        }
    }
    println!(
        "{bytes}\t{best:.3}\t{:.1}\t{objects}",
        bytes as f64 / best / 1e6
    );
    ExitCode::SUCCESS
}
