//! Times what `netpol explain` and `netpol lint` do after loading, on a
//! directory of manifests (a live dump): `load`, then explain's stages
//! (the sub-cluster of the two endpoints, its engine, the verdict, over
//! several pairs: the slowest is printed) and lint's (the classes, the
//! engine over them, the rules).
//!
//! `cargo run --release -p netpol-lint --example stages -- DIR`
//!
//! Prints one tab-separated line per stage: `stage seconds detail`.
//!
//! The directory's entries are loaded in groups of under 64 MiB each and
//! merged: the loader's one budget for a whole input (256 MiB of expanded
//! text) refuses a 150,000-pod dump, and the stages timed here come after
//! loading.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use netpol_engine::{Classes, Engine, Party, Restricted};
use std::path::PathBuf;

use netpol_model::{Cluster, LoadOptions, load_paths};

fn main() -> ExitCode {
    let Some(dir) = std::env::args().nth(1) else {
        eprintln!("usage: stages DIR");
        return ExitCode::from(2);
    };
    let t = Instant::now();
    let cluster = match load_in_groups(std::path::Path::new(&dir)) {
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
    let mut cut = Duration::ZERO;
    let mut allowed = 0;
    for (k, &src) in picks.iter().enumerate() {
        let dst = picks[(k * 7 + 3) % picks.len()];
        for (s, d) in [(src, dst), (dst, src), (src, src)] {
            let t = Instant::now();
            let restricted = Restricted::new(&cluster, [s, d]);
            cut = cut.max(t.elapsed());
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
        "explain\t{:.4}\tslowest of {} (sub-cluster + compile + verdict; sub-cluster alone at most {:.4} s), {allowed} allowed",
        slowest.as_secs_f64(),
        picks.len() * 3,
        cut.as_secs_f64()
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

/// The entries of `dir` loaded in groups of under 64 MiB, merged.
fn load_in_groups(dir: &std::path::Path) -> Result<Cluster, String> {
    const GROUP: u64 = 64 << 20;
    let mut entries: Vec<(PathBuf, u64)> = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| e.to_string())? {
        let path = entry.map_err(|e| e.to_string())?.path();
        entries.push((path.clone(), size(&path)));
    }
    entries.sort();
    let mut groups: Vec<Vec<PathBuf>> = vec![Vec::new()];
    let mut bytes = 0;
    for (path, n) in entries {
        if bytes + n > GROUP && !groups.last().is_some_and(Vec::is_empty) {
            groups.push(Vec::new());
            bytes = 0;
        }
        bytes += n;
        groups.last_mut().expect("one group at least").push(path);
    }
    let mut all = Cluster::default();
    for group in groups {
        let c = load_paths(&group, &LoadOptions::default()).map_err(|e| e.to_string())?;
        all.namespaces.extend(c.namespaces);
        all.endpoints.extend(c.endpoints);
        all.services.extend(c.services);
        all.policies.extend(c.policies);
        all.cluster_policies.extend(c.cluster_policies);
        all.nodes.extend(c.nodes);
        all.workload_of.extend(c.workload_of);
    }
    all.normalize();
    Ok(all)
}

fn size(path: &std::path::Path) -> u64 {
    if path.is_dir() {
        std::fs::read_dir(path)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| size(&e.path()))
            .sum()
    } else {
        path.metadata().map_or(0, |m| m.len())
    }
}
