//! Loads a fixture with the manifests kept, and runs one rule on it.

use netpol_discover::{Context, Discovery, Options, Sink, rules::Rule};
use netpol_model::{Cluster, LoadOptions, load_paths};

pub fn fixture(name: &str) -> String {
    format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
}

pub fn load(path: &str) -> Cluster {
    let opts = LoadOptions {
        keep_manifests: true,
        ..LoadOptions::default()
    };
    load_paths(&[path], &opts).unwrap_or_else(|e| panic!("{e}"))
}

/// The proposals of one rule alone.
pub fn run_rule(cluster: &Cluster, rule: &Rule) -> Discovery {
    let ctx = Context::new(cluster, Options::default()).unwrap_or_else(|e| panic!("{e:?}"));
    let mut sink = Sink::default();
    (rule.run)(&ctx, &mut sink);
    sink.finish()
}

/// `src -> dst port/PROTO (confidence)`, one line per connection: compact
/// enough to assert whole results.
#[allow(dead_code)]
pub fn lines(d: &Discovery) -> Vec<String> {
    d.connections
        .iter()
        .map(|c| {
            format!(
                "{} -> {} {}/{} ({})",
                c.src,
                c.dst,
                c.port,
                c.protocol,
                c.confidence.as_str()
            )
        })
        .collect()
}

/// A path below the shared real-world data (`/work/wt/shared`), or `None`
/// when it is absent, which fails instead when NETPOL_REQUIRE_SHARED=1.
#[allow(dead_code)]
pub fn shared(below: &str) -> Option<String> {
    let path = format!("{}/../../../shared/{below}", env!("CARGO_MANIFEST_DIR"));
    if std::path::Path::new(&path).exists() {
        return Some(path);
    }
    assert!(
        std::env::var("NETPOL_REQUIRE_SHARED").as_deref() != Ok("1"),
        "NETPOL_REQUIRE_SHARED=1 but {path} is missing"
    );
    None
}
