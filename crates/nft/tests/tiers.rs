//! ClusterNetworkPolicy tiers in the ruleset, on a hand-written cluster
//! (tests/fixtures/tiers.yaml) whose every connection is worked out from the
//! API's semantics in the comments below, independently of the engine. Real
//! packets: needs root, `ip` and `nft`, as CI has; never skipped.

use std::collections::BTreeSet;
use std::sync::Mutex;

use netpol_engine::Engine;
use netpol_model::{Cluster, LoadOptions, Source, load_sources};
use netpol_nft::probe::{self, Job, Outcome, ProbeOptions};
use netpol_nft::{Options, compile, domain_name_rules};

static SERIAL: Mutex<()> = Mutex::new(());

fn fixture() -> Cluster {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tiers.yaml");
    load_sources(
        &[Source {
            name: "tiers.yaml".into(),
            text: std::fs::read_to_string(path).unwrap(),
        }],
        &LoadOptions::default(),
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

/// The allowed connections, by the API's rules (everything else is denied):
/// - db's ingress: guard-db (Admin, priority 10) passes app's 5432/TCP to
///   NetworkPolicy, which admits app/web only, and denies the rest, even
///   cache's 6379 that the NetworkPolicy allows to everyone; late-accept
///   (priority 40) is never reached.
/// - app/api's egress: an Accept to 10.2.0.0/24 on 5000-6500/TCP (pg and
///   cache still deny it on their ingress), a Deny to storage nodes (n2:
///   ops/agent), a Deny to app's named port http.
/// - app's ingress (no NetworkPolicy selects it): app-baseline passes app/web
///   to the default, accepts 53/UDP from ops, denies the other pods;
///   `namespaces` never match ops/agent, a host-network pod.
/// - ops/tool's egress: 6379/TCP to 10.2.0.0/16 denied; its domainNames rule
///   matches no pod.
/// - a pod and itself, a host-network pod and the pods on its node: always.
const ALLOWED: [(&str, &str, u16); 26] = [
    ("app/api", "app/api", 8080),
    ("app/api", "ops/tool", 80),
    ("app/web", "app/api", 8080),
    ("app/web", "app/web", 53),
    ("app/web", "app/web", 80),
    ("app/web", "db/pg", 5432),
    ("app/web", "ops/agent", 9100),
    ("app/web", "ops/tool", 80),
    ("db/cache", "db/cache", 6000),
    ("db/cache", "db/cache", 6379),
    ("db/cache", "ops/agent", 9100),
    ("db/cache", "ops/tool", 80),
    ("db/pg", "db/pg", 5432),
    ("db/pg", "ops/agent", 9100),
    ("db/pg", "ops/tool", 80),
    ("ops/agent", "app/api", 8080),
    ("ops/agent", "app/web", 53),
    ("ops/agent", "app/web", 80),
    ("ops/agent", "db/cache", 6000),
    ("ops/agent", "db/cache", 6379),
    ("ops/agent", "db/pg", 5432),
    ("ops/agent", "ops/agent", 9100),
    ("ops/agent", "ops/tool", 80),
    ("ops/tool", "app/web", 53),
    ("ops/tool", "ops/agent", 9100),
    ("ops/tool", "ops/tool", 80),
];

#[test]
fn ruleset_of_the_tiers() {
    let cluster = fixture();
    let engine = Engine::new(&cluster);
    insta::assert_snapshot!("tiers", compile(&engine, &Options::default()).unwrap());
}

#[test]
fn domain_names_are_named_as_left_out() {
    assert_eq!(
        domain_name_rules(&fixture()),
        [
            "admin/ops-egress egress[0]: domainNames registry.example.com cannot be compiled (names, not addresses): the ruleset leaves them out, so they match nothing"
        ]
    );
}

/// Each node's ruleset applied, every declared port measured: the kernel
/// must allow exactly [`ALLOWED`], and so must the engine.
#[test]
fn kernel_measures_what_the_tiers_say() {
    let _lock = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let cluster = fixture();
    let engine = Engine::new(&cluster);
    let nodes = probe::nodes(&cluster);
    let rulesets: Vec<Option<String>> = nodes
        .keys
        .iter()
        .map(|k| {
            k.scope().map(|scope| {
                compile(
                    &engine,
                    &Options {
                        scope,
                        ..Options::default()
                    },
                )
                .unwrap()
            })
        })
        .collect();
    let cells = probe::jobs(&engine.matrix());
    let jobs: Vec<Job> = cells.iter().map(|(job, _)| *job).collect();
    let outcomes = probe::run(&cluster, &nodes, &rulesets, &jobs, &ProbeOptions::default())
        .unwrap_or_else(|e| panic!("{e}"));
    let expected: BTreeSet<(String, String, u16)> = ALLOWED
        .iter()
        .map(|(s, d, p)| (s.to_string(), d.to_string(), *p))
        .collect();
    let mut kernel = BTreeSet::new();
    let mut wrong = Vec::new();
    for ((job, engine_says), outcome) in cells.iter().zip(&outcomes) {
        let key = (
            cluster.endpoints[job.src].id(),
            cluster.endpoints[job.dst].id(),
            job.port,
        );
        let measured = match outcome {
            Outcome::Allowed => true,
            Outcome::Denied => false,
            Outcome::Untestable(why) => panic!("{key:?} not measured: {why}"),
        };
        if measured {
            kernel.insert(key.clone());
        }
        if measured != *engine_says {
            wrong.push(format!("{key:?}: engine {engine_says}, kernel {measured}"));
        }
    }
    assert_eq!(jobs.len(), 48, "six endpoints, eight declared ports");
    assert_eq!(kernel, expected, "\nrulesets:\n{rulesets:?}");
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
