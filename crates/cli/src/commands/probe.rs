//! `netpol probe`: real packets through the `netpol nft` rulesets, in
//! network namespaces built for the run and removed after it.

use std::collections::HashSet;
use std::io::{BufWriter, Write};
use std::time::Duration;

use clap::ValueEnum;
use netpol_engine::Engine;
use netpol_model::Cluster;
use netpol_nft::probe::{self, Job, Outcome, ProbeOptions};
use netpol_nft::{Options, compile, domain_name_rules};

use crate::exit::{FINDINGS, Failure};
use crate::focus::Focus;
use crate::grid::{Narrow, Node};
use crate::input::Input;
use crate::render;

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// `netpol matrix -o json` with what was measured
    Json,
    /// `netpol matrix`'s table of what was measured
    Table,
}

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    input: Input,

    /// Also decide every connection with the engine and list each disagreement (exit 1 if any)
    #[arg(long)]
    compare: bool,

    /// Milliseconds to wait for each connection; a denied one costs this long
    #[arg(long, value_name = "MS", default_value_t = 1500, value_parser = clap::value_parser!(u64).range(50..=60_000))]
    timeout: u64,

    /// Pods per workload: its spec.replicas (DaemonSets: this many), at most N
    #[arg(long, value_name = "N", default_value_t = probe::DEFAULT_MAX_REPLICAS, value_parser = clap::value_parser!(u32).range(1..=64))]
    max_replicas: u32,

    /// Apply this nftables ruleset on every node instead of the ones `netpol nft --node` compiles
    #[arg(long, value_name = "FILE")]
    ruleset: Option<std::path::PathBuf>,

    #[arg(short = 'o', long = "output", value_enum, default_value_t = Format::Json)]
    output: Format,

    #[command(flatten)]
    focus: Focus,
}

pub fn run(args: Args) -> Result<(), Failure> {
    // Before reading anything: a missing requirement is the first thing to fix.
    probe::check_requirements().map_err(|e| Failure::Other(e.to_string()))?;
    let loaded = args.input.load()?;
    // Selectors name workloads and pods as loaded; the probe's replicas
    // (`web#0`, `web#1`) are kept with the endpoint they copy.
    let focus = args.focus.narrow(loaded, &[])?;
    let mut cluster = probe::expand_replicas(loaded, args.max_replicas);
    let narrow = replicas_narrow(loaded, &cluster, &focus);
    for (pod, ip) in
        probe::assign_addresses(&mut cluster).map_err(|e| Failure::Other(e.to_string()))?
    {
        eprintln!("note: {pod} has no status.podIP; probing it as {ip}");
    }
    // Test hook: an engine that is wrong on purpose, which --compare must catch.
    match std::env::var_os("NETPOL_TEST_BREAK_ENGINE") {
        Some(v) if v == "ip-block-except" => netpol_engine::test_hook::break_ip_block_excepts(),
        Some(v) if v == "tier-pass" => netpol_engine::test_hook::break_tier_pass(),
        _ => {}
    }
    // Between pods a domain name never matches (the engine takes names to
    // denote addresses outside the cluster), so the kernel, without them,
    // still measures every connection the probe makes.
    if args.ruleset.is_none() {
        for note in domain_name_rules(&cluster) {
            eprintln!("note: {note}");
        }
    }
    let engine = Engine::new(&cluster);
    let nodes = probe::nodes(&cluster);
    let file = match &args.ruleset {
        Some(path) => Some(
            std::fs::read_to_string(path)
                .map_err(|e| Failure::Other(format!("cannot read {}: {e}", path.display())))?,
        ),
        None => None,
    };
    let mut rulesets = Vec::with_capacity(nodes.keys.len());
    for key in &nodes.keys {
        rulesets.push(match (&file, key.scope()) {
            (Some(text), _) => Some(text.clone()),
            (None, Some(scope)) => Some(
                compile(
                    &engine,
                    &Options {
                        scope,
                        ..Options::default()
                    },
                )
                .map_err(|e| Failure::Other(e.to_string()))?,
            ),
            (None, None) => None,
        });
    }
    let matrix = engine.matrix();
    let (jobs, expected): (Vec<Job>, Vec<bool>) = probe::jobs(&matrix)
        .into_iter()
        .filter(|(job, _)| in_focus(&narrow, job))
        .unzip();
    let opts = ProbeOptions {
        timeout: Duration::from_millis(args.timeout),
        progress: true,
        ..ProbeOptions::default()
    };
    let outcomes = probe::run(&cluster, &nodes, &rulesets, &jobs, &opts)
        .map_err(|e| Failure::Other(format!("netpol probe: {e}")))?;

    let stdout = std::io::stdout().lock();
    let mut out = BufWriter::new(stdout);
    match args.output {
        Format::Json => {
            // --only is about what was measured, so it applies after the run;
            // the table applies it to its cells itself.
            let kept: Vec<usize> = (0..jobs.len())
                .filter(|&k| match (&outcomes[k], narrow.only) {
                    (_, None) => true,
                    (Outcome::Allowed, Some(allowed)) => allowed,
                    (Outcome::Denied, Some(allowed)) => !allowed,
                    (Outcome::Untestable(_), Some(_)) => false,
                })
                .collect();
            let (jobs, outcomes, expected) = (
                pick(&jobs, &kept),
                pick(&outcomes, &kept),
                pick(&expected, &kept),
            );
            render::probe::json(
                &mut out,
                &cluster,
                &jobs,
                &outcomes,
                args.compare.then_some(expected.as_slice()),
            )?
        }
        Format::Table => render::probe::table(
            &mut out, &cluster, &engine, &matrix, &jobs, &outcomes, narrow,
        )?,
    }
    out.flush()?;
    if args.compare {
        let mut err = std::io::stderr().lock();
        let summary = render::probe::comparison(&mut err, &cluster, &jobs, &outcomes, &expected)?;
        if summary.disagree > 0 {
            return Err(Failure::Status(FINDINGS));
        }
    }
    Ok(())
}

/// The focus of the loaded cluster carried over to the probe's pods: a
/// replica is in it when the endpoint it was made from is.
fn replicas_narrow(loaded: &Cluster, pods: &Cluster, focus: &Narrow) -> Narrow {
    let carry = |kept: &Option<Vec<Node>>| -> Option<Vec<Node>> {
        let kept = kept.as_ref()?;
        let ids: HashSet<String> = kept
            .iter()
            .filter_map(|n| match n {
                Node::Endpoint(i) => Some(loaded.endpoints[*i].id()),
                Node::External(_) => None,
            })
            .collect();
        Some(
            (0..pods.endpoints.len())
                .filter(|&i| ids.contains(&probe::replica_of(&pods.endpoints[i])))
                .map(Node::Endpoint)
                .collect(),
        )
    };
    Narrow {
        rows: carry(&focus.rows),
        cols: carry(&focus.cols),
        port: focus.port,
        only: focus.only,
    }
}

fn in_focus(narrow: &Narrow, job: &Job) -> bool {
    let has = |kept: &Option<Vec<Node>>, i: usize| {
        kept.as_ref().is_none_or(|k| k.contains(&Node::Endpoint(i)))
    };
    has(&narrow.rows, job.src)
        && has(&narrow.cols, job.dst)
        && narrow
            .port
            .is_none_or(|(p, proto)| p == job.port && proto.is_none_or(|x| x == job.protocol))
}

fn pick<T: Clone>(items: &[T], kept: &[usize]) -> Vec<T> {
    kept.iter().map(|&k| items[k].clone()).collect()
}
