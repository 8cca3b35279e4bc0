//! Times each stage of netpol on one synthetic cluster and reports the
//! process's peak resident memory during it. Used by `scripts/bench`.
//!
//! `cargo run --release -p netpol-engine --example phases -- WORKLOADS [SEED] [REPLICAS] [POLICIES] [CLUSTER_POLICIES]`
//!
//! With REPLICAS, the cluster is the live dump of `netpol-synth --replicas`
//! (every workload as that many pods), and the matrix is computed through
//! equivalence classes as `netpol matrix` does: stages `classes` (the
//! partition), `compile` and `matrix` over the classes, and `summary` (the
//! per-workload sums of `matrix --summary`, without writing them). Explain
//! then compiles only the two endpoints it asks about (`Restricted`), as
//! `netpol explain` does, and each explain's time includes that compile.
//!
//! With CLUSTER_POLICIES, the files also hold that many Admin and Baseline
//! ClusterNetworkPolicies and the Nodes they select, as `netpol-synth
//! --cluster-policies` writes them.
//!
//! Prints one tab-separated line per stage: `stage seconds peak_kib detail`.
//! Peak memory is the kernel's high-water mark (VmHWM), reset before each
//! stage through /proc/self/clear_refs, so it counts what earlier stages
//! still hold (the YAML text, the cluster) plus what the stage allocates.

use std::hint::black_box;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use netpol_engine::{ClassMatrix, Classes, Engine, Party, Restricted};
use netpol_model::{LoadOptions, Source, load_sources};
use netpol_synth::{Params, generate, to_files, to_live_files};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let parse = |i: usize, default: u64| -> Option<u64> {
        args.get(i).map_or(Some(default), |a| a.parse().ok())
    };
    let (Some(workloads), Some(seed), Some(replicas)) = (parse(0, 1000), parse(1, 1), parse(2, 0))
    else {
        eprintln!("usage: phases [WORKLOADS] [SEED] [REPLICAS] [POLICIES] [CLUSTER_POLICIES]");
        return ExitCode::from(2);
    };
    let mut params = Params::new(workloads as usize, seed);
    if let Some(p) = args.get(3).and_then(|a| a.parse().ok()) {
        params.policies = p;
    }

    // The YAML is produced outside any measured stage, as a user's files would be.
    let template = generate(&params);
    let mut files = if replicas > 0 {
        to_live_files(&template, replicas as usize)
    } else {
        to_files(&template)
    };
    let cluster_policies = args.get(4).and_then(|a| a.parse().ok()).unwrap_or(0);
    if cluster_policies > 0 {
        // The Nodes are those the written pods name.
        let written = if replicas > 0 {
            netpol_synth::live(&template, replicas as usize)
        } else {
            template.clone()
        };
        files.extend(netpol_synth::cluster_policy_files(
            &written,
            cluster_policies,
            seed,
        ));
    }
    drop(template);
    let sources: Vec<Source> = files
        .into_iter()
        .map(|f| Source {
            name: f.path.display().to_string(),
            text: f.text,
        })
        .collect();
    let bytes: usize = sources.iter().map(|s| s.text.len()).sum();

    let (cluster, t, peak) = stage(|| load_sources(&sources, &LoadOptions::default()));
    let cluster = match cluster {
        Ok(c) => c,
        Err(e) => {
            eprintln!("generated YAML failed to load: {e:?}");
            return ExitCode::FAILURE;
        }
    };
    report(
        "load",
        t,
        peak,
        &format!(
            "{} files, {:.1} MiB YAML, {} workloads, {} policies, {} cluster policies",
            sources.len(),
            bytes as f64 / (1 << 20) as f64,
            cluster.endpoints.len(),
            cluster.policies.len(),
            cluster.cluster_policies.len()
        ),
    );

    if replicas > 0 {
        let (classes, t, peak) = stage(|| Classes::new(&cluster));
        report(
            "classes",
            t,
            peak,
            &format!(
                "{} classes of {} pods",
                classes.len(),
                cluster.endpoints.len()
            ),
        );
        let (engine, t, peak) = stage(|| Engine::new(&classes.reduced));
        report("compile", t, peak, "over classes");
        let (matrix, t, peak) = stage(|| engine.matrix());
        report(
            "matrix",
            t,
            peak,
            &format!("over classes: {} class cells", matrix.len()),
        );
        drop(engine);
        let matrix = ClassMatrix::from_matrix(&cluster, &classes, matrix);
        let ((pairs, allowed), t, peak) = stage(|| {
            let (mut pairs, mut allowed) = (0usize, 0usize);
            matrix
                .for_each_workload_pair(|p| {
                    pairs += 1;
                    allowed += p.allowed;
                    Ok::<(), ()>(())
                })
                .expect("counting cannot fail");
            (pairs, allowed)
        });
        report(
            "summary",
            t,
            peak,
            &format!(
                "{pairs} workload pairs, {allowed} of {} pod connections allowed",
                matrix.len()
            ),
        );
    }

    // Explain: a spread of (source, destination port) pairs, each decided
    // with its full trace; the slowest and the mean are reported.
    let n = cluster.endpoints.len();
    let pairs: Vec<(usize, usize, u16, netpol_model::Protocol)> = (0..n)
        .step_by((n / 200).max(1))
        .filter_map(|dst| {
            let mut ports: Vec<_> = cluster.endpoints[dst]
                .ports
                .iter()
                .map(|p| (p.port, p.protocol))
                .collect();
            ports.sort();
            let (port, proto) = *ports.first()?;
            Some(((dst * 7919 + 13) % n, dst, port, proto))
        })
        .collect();
    if replicas > 0 {
        let mut slowest = Duration::ZERO;
        let (_, total, peak) = stage(|| {
            for &(src, dst, port, proto) in &pairs {
                let start = Instant::now();
                let sub = Restricted::new(&cluster, [src, dst]);
                let engine = Engine::new(&sub.cluster);
                black_box(engine.verdict(
                    sub.party(Party::Endpoint(src)),
                    sub.party(Party::Endpoint(dst)),
                    port,
                    proto,
                ));
                slowest = slowest.max(start.elapsed());
            }
        });
        report_explain(
            slowest,
            total,
            peak,
            pairs.len(),
            " (each compiling its two endpoints)",
        );
        return ExitCode::SUCCESS;
    }

    let (engine, t, peak) = stage(|| Engine::new(&cluster));
    report("compile", t, peak, "");
    let (matrix, t, peak) = stage(|| engine.matrix());
    report(
        "matrix",
        t,
        peak,
        &format!("{} cells, {} allowed", matrix.len(), matrix.allowed_count()),
    );

    let mut slowest = Duration::ZERO;
    let (_, total, peak) = stage(|| {
        for &(src, dst, port, proto) in &pairs {
            let start = Instant::now();
            black_box(engine.verdict(Party::Endpoint(src), Party::Endpoint(dst), port, proto));
            slowest = slowest.max(start.elapsed());
        }
    });
    report_explain(slowest, total, peak, pairs.len(), "");
    drop(matrix);
    ExitCode::SUCCESS
}

fn report_explain(slowest: Duration, total: Duration, peak: u64, count: usize, how: &str) {
    let mean = total / count.max(1) as u32;
    report(
        "explain",
        slowest,
        peak,
        &format!(
            "slowest of {count} verdicts{how}; mean {:.3} ms",
            mean.as_secs_f64() * 1e3
        ),
    );
}

/// Runs `f` and returns its result, its wall time and the peak RSS (KiB) while it ran.
fn stage<T>(f: impl FnOnce() -> T) -> (T, Duration, u64) {
    reset_peak();
    let start = Instant::now();
    let out = black_box(f());
    let elapsed = start.elapsed();
    (out, elapsed, peak_kib())
}

fn report(stage: &str, t: Duration, peak_kib: u64, detail: &str) {
    println!("{stage}\t{:.6}\t{peak_kib}\t{detail}", t.as_secs_f64());
}

/// Writing 5 to clear_refs resets VmHWM to the current RSS (Linux 4.0+).
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn peak_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}
