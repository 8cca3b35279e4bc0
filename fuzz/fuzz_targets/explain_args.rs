//! `explain --from/--to/--port` on any text, against a fixed synthetic
//! cluster: the argument parsing of the CLI itself (its modules, included
//! by path because `netpol` is a binary crate), then the engine's verdict.
#![no_main]
#![allow(dead_code)]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use netpol_model::Cluster;

#[path = "../../crates/cli/src/exit.rs"]
mod exit;

// At the crate root, so that their `super::resolve` and `crate::exit` resolve.
#[path = "../../crates/cli/src/commands/explain_port.rs"]
mod explain_port;
#[path = "../../crates/cli/src/commands/resolve.rs"]
mod resolve;

fn cluster() -> &'static Cluster {
    static CLUSTER: OnceLock<Cluster> = OnceLock::new();
    CLUSTER.get_or_init(|| netpol_synth::generate(&netpol_synth::Params::new(24, 3)))
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // FROM \0 TO \0 PORT [\0 NAMESPACE]
    let mut parts = text.split('\0');
    let (Some(from), Some(to), Some(port)) = (parts.next(), parts.next(), parts.next()) else {
        return;
    };
    let namespace = parts.next().unwrap_or("default");
    let cluster = cluster();
    let Ok((port, protocol)) = explain_port::parse_port(port) else {
        return;
    };
    let (Ok(src), Ok(dst)) = (
        resolve::resolve(cluster, from, namespace),
        resolve::resolve(cluster, to, namespace),
    ) else {
        return;
    };
    let engine = netpol_engine::Engine::new(cluster);
    for &d in dst.parties.iter().take(4) {
        let Ok(Ok(p)) = explain_port::destination_port(cluster, &dst, d, &port, protocol) else {
            continue;
        };
        for &s in src.parties.iter().take(4) {
            let _ = engine.verdict(s, d, p.port, protocol);
        }
    }
});
