//! Loads a fixture or a real case with the manifests kept, and runs one
//! rule on it.

use netpol_discover::rules::{self, Rule};
use netpol_discover::{Context, Discovery, Options, Sink};
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

/// The rule that names its connections `name`.
pub fn rule(name: &str) -> &'static Rule {
    rules::ALL
        .iter()
        .find(|r| r.name == name)
        .unwrap_or_else(|| panic!("no rule {name}"))
}

/// The proposals of rule `name` alone on the manifests at `path`.
#[allow(dead_code)]
pub fn run(name: &str, path: &str) -> Discovery {
    run_rule(&load(path), rule(name))
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

/// Asserts that every line of `want` is among `got` (a real case's result
/// is too large to assert whole).
#[allow(dead_code)]
pub fn assert_has<S: AsRef<str>>(got: &[String], want: impl IntoIterator<Item = S>) {
    for w in want {
        let w = w.as_ref();
        assert!(got.iter().any(|g| g == w), "missing {w}: {got:#?}");
    }
}

/// The manifests of a real case, `../shared/realcases/<case>/manifests`,
/// or `None` when the shared data is absent (a failure instead when
/// NETPOL_REQUIRE_SHARED=1: see netpol-testdata).
#[allow(dead_code)]
pub fn real_case(case: &str) -> Option<String> {
    netpol_testdata::shared(&format!("realcases/{case}/manifests")).map(|p| p.display().to_string())
}
