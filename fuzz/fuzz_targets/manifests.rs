//! The manifest loader on any text: an error or a cluster, never a panic,
//! and bounded time and memory (the expansion budget).
#![no_main]

use libfuzzer_sys::fuzz_target;
use netpol_model::{LoadOptions, Source, Validation, load_sources};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // The first byte picks the validation mode, so all three are fuzzed.
    let validation = match data.first().map(|b| b % 3) {
        Some(0) => Validation::Strict,
        Some(1) => Validation::Warn,
        _ => Validation::Ignore,
    };
    let opts = LoadOptions {
        validation,
        keep_manifests: data.len() % 2 == 0,
        ..LoadOptions::default()
    };
    let sources = [Source {
        name: "fuzz.yaml".into(),
        text: text.to_string(),
    }];
    if let Ok(cluster) = load_sources(&sources, &opts) {
        // A loaded cluster is one the engine must take.
        let engine = netpol_engine::Engine::new(&cluster);
        if cluster.endpoints.len() <= 32 {
            let _ = engine.matrix();
        }
    }
});
