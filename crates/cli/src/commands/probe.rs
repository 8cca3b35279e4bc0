//! `netpol probe`: real packets through the `netpol nft` ruleset, in
//! network namespaces built for the run and removed after it.

use std::io::{BufWriter, Write};
use std::time::Duration;

use netpol_engine::Engine;
use netpol_nft::probe::{self, Job, ProbeOptions};
use netpol_nft::{Options, compile};

use crate::exit::{FINDINGS, Failure};
use crate::input::Input;
use crate::render;

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

    /// Apply this nftables ruleset (in the node namespace) instead of the one `netpol nft` compiles
    #[arg(long, value_name = "FILE")]
    ruleset: Option<std::path::PathBuf>,
}

pub fn run(args: Args) -> Result<(), Failure> {
    // Before reading anything: a missing requirement is the first thing to fix.
    probe::check_requirements().map_err(|e| Failure::Other(e.to_string()))?;
    let mut cluster = args.input.load()?;
    for (pod, ip) in
        probe::assign_addresses(&mut cluster).map_err(|e| Failure::Other(e.to_string()))?
    {
        eprintln!("note: {pod} has no status.podIP; probing it as {ip}");
    }
    // Test hook: an engine that is wrong on purpose, which --compare must catch.
    if std::env::var_os("NETPOL_TEST_BREAK_ENGINE").is_some_and(|v| v == "ip-block-except") {
        netpol_engine::test_hook::break_ip_block_excepts();
    }
    let engine = Engine::new(&cluster);
    let ruleset = match &args.ruleset {
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| Failure::Other(format!("cannot read {}: {e}", path.display())))?,
        None => compile(&engine, &Options::default()).map_err(|e| Failure::Other(e.to_string()))?,
    };
    let (jobs, expected): (Vec<Job>, Vec<bool>) = probe::jobs(&engine.matrix()).into_iter().unzip();
    let opts = ProbeOptions {
        timeout: Duration::from_millis(args.timeout),
        ..ProbeOptions::default()
    };
    let outcomes = probe::run(&cluster, &ruleset, &jobs, &opts)
        .map_err(|e| Failure::Other(format!("netpol probe: {e}")))?;

    let stdout = std::io::stdout().lock();
    let mut out = BufWriter::new(stdout);
    render::probe::json(
        &mut out,
        &cluster,
        &jobs,
        &outcomes,
        args.compare.then_some(expected.as_slice()),
    )?;
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
