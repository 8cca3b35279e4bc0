//! Compile, full-matrix and explain cost on synthetic clusters (netpol-synth),
//! plus loading the same cluster from YAML. Run:
//! `cargo bench -p netpol-engine --bench matrix -- --warm-up-time 1 --measurement-time 3`
//! `NETPOL_BENCH_LARGE=1` adds 10,000 workloads / 5,000 policies (minutes).
//! The matrix written as JSON is timed on the real binary by `scripts/bench`,
//! not here, so that the CLI's renderer is measured rather than a copy of it.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use netpol_engine::{Engine, Party};
use netpol_model::{LoadOptions, Source, load_sources};
use netpol_synth::{Params, generate, to_files};

/// Workloads; policies are half as many.
fn sizes() -> Vec<usize> {
    let mut sizes = vec![100, 1000];
    if std::env::var_os("NETPOL_BENCH_LARGE").is_some_and(|v| v == "1") {
        sizes.push(10_000);
    }
    sizes
}

fn engine(c: &mut Criterion) {
    let mut group = c.benchmark_group("engine");
    group.sample_size(10);
    for workloads in sizes() {
        let cluster = generate(&Params::new(workloads, 1));
        let label = format!("{workloads}w-{}p", cluster.policies.len());
        group.bench_with_input(BenchmarkId::new("compile", &label), &cluster, |b, cl| {
            b.iter(|| black_box(Engine::new(cl)))
        });
        let compiled = Engine::new(&cluster);
        group.bench_with_input(BenchmarkId::new("matrix", &label), &compiled, |b, e| {
            b.iter(|| black_box(e.matrix()))
        });
        // One explain: a pair in the middle of the cluster, on the first
        // port its destination declares.
        let n = compiled.endpoint_count();
        let (dst, (port, protocol)) = (n / 2..n)
            .chain(0..n / 2)
            .find_map(|d| Some((d, *compiled.declared_ports(d).first()?)))
            .expect("some workload declares a port");
        let src = Party::Endpoint((dst * 7919 + 13) % n);
        group.bench_with_input(BenchmarkId::new("explain", &label), &compiled, |b, e| {
            b.iter(|| black_box(e.verdict(src, Party::Endpoint(dst), port, protocol)))
        });
        group.bench_with_input(
            BenchmarkId::new("compile+matrix", &label),
            &cluster,
            |b, cl| b.iter(|| black_box(Engine::new(cl).matrix().allowed_count())),
        );
    }
    group.finish();
}

fn load(c: &mut Criterion) {
    let mut group = c.benchmark_group("load");
    group.sample_size(10);
    for workloads in sizes() {
        let cluster = generate(&Params::new(workloads, 1));
        let sources: Vec<Source> = to_files(&cluster)
            .into_iter()
            .map(|f| Source {
                name: f.path.display().to_string(),
                text: f.text,
            })
            .collect();
        let label = format!("{workloads}w-{}p", cluster.policies.len());
        group.bench_with_input(BenchmarkId::new("yaml", &label), &sources, |b, s| {
            b.iter(|| {
                black_box(load_sources(s, &LoadOptions::default()).expect("generated YAML loads"))
            })
        });
    }
    group.finish();
}

criterion_group!(benches, engine, load);
criterion_main!(benches);
