//! Compile and full-matrix cost on synthetic clusters (netpol-synth), plus
//! loading the same cluster from YAML. Run:
//! `cargo bench -p netpol-engine --bench matrix -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use netpol_engine::Engine;
use netpol_model::{LoadOptions, Source, load_sources};
use netpol_synth::{Params, generate, to_files};

/// (workloads, policies): policies are half the workloads.
const SIZES: [usize; 2] = [100, 1000];

fn engine(c: &mut Criterion) {
    let mut group = c.benchmark_group("engine");
    group.sample_size(10);
    for workloads in SIZES {
        let cluster = generate(&Params::new(workloads, 1));
        let label = format!("{workloads}w-{}p", cluster.policies.len());
        group.bench_with_input(BenchmarkId::new("compile", &label), &cluster, |b, cl| {
            b.iter(|| black_box(Engine::new(cl)))
        });
        let compiled = Engine::new(&cluster);
        group.bench_with_input(BenchmarkId::new("matrix", &label), &compiled, |b, e| {
            b.iter(|| black_box(e.matrix()))
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
    for workloads in SIZES {
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
