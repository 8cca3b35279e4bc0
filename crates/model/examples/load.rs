//! Times `load_paths` alone (no compile, no output): the loader's throughput
//! on real files. Used by `scripts/bench` for its load rows.
//!
//! `cargo run --release -p netpol-model --example load -- PATH... [--repeat N] [--max-input-bytes B]`
//!
//! Prints `bytes seconds MB/s objects` for the best of N runs (default 1).
//! `--max-input-bytes` raises the input cap, as `netpol --max-input-size`
//! does (a 150,000-pod dump with every field kubectl shows is past the
//! default 256 MiB).

use std::process::ExitCode;
use std::time::Instant;

use netpol_model::{LoadOptions, load_paths, read_paths_within};

fn main() -> ExitCode {
    let mut paths = Vec::new();
    let mut repeat = 1usize;
    let mut opts = LoadOptions::default();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--repeat" {
            repeat = args.next().and_then(|n| n.parse().ok()).unwrap_or(1);
        } else if a == "--max-input-bytes" {
            let cap = args.next().and_then(|n| n.parse().ok());
            opts.max_input_bytes = cap.unwrap_or(opts.max_input_bytes);
        } else {
            paths.push(a);
        }
    }
    let bytes: usize = match read_paths_within(&paths, opts.max_input_bytes) {
        Ok((s, _)) => s.iter().map(|s| s.text.len()).sum(),
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let mut best = f64::INFINITY;
    let mut objects = 0;
    for _ in 0..repeat.max(1) {
        let start = Instant::now();
        match load_paths(&paths, &opts) {
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
