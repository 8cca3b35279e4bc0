//! `netpol nft`: the policies as an nftables ruleset, for `nft -f`.

use std::io::{BufWriter, Write};

use netpol_engine::Engine;
use netpol_nft::{Options, WriteError, domain_name_rules, write};

use crate::exit::Failure;
use crate::input::Input;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    input: Input,

    /// Enforce for the pods on this node (spec.nodeName); default: every pod with an IP
    #[arg(long, value_name = "NAME")]
    node: Option<String>,
}

pub fn run(args: Args) -> Result<(), Failure> {
    let cluster = args.input.load()?;
    if let Some(node) = &args.node
        && !cluster
            .endpoints
            .iter()
            .any(|e| e.node.as_ref() == Some(node))
    {
        eprintln!("note: no pod in the input runs on node {node}; the ruleset enforces nothing");
    }
    let unaddressed = cluster
        .endpoints
        .iter()
        .filter(|e| !e.host_network && e.ips.is_empty())
        .count();
    if unaddressed > 0 {
        eprintln!(
            "note: {unaddressed} pods or workloads have no status.podIP: the ruleset can neither enforce for them nor match them as peers"
        );
    }
    for note in domain_name_rules(cluster) {
        eprintln!("note: {note}");
    }
    let engine = Engine::new(cluster);
    let mut out = BufWriter::new(std::io::stdout().lock());
    write(&engine, &Options::for_node(args.node), &mut out).map_err(|e| match e {
        WriteError::Compile(e) => Failure::Other(e.to_string()),
        WriteError::Io(e) => Failure::from(e),
    })?;
    out.flush()?;
    Ok(())
}
