//! `netpol verify FLOWS PATH...`: do the policies in PATH implement the flows?

use std::path::PathBuf;

use netpol_engine::{Classes, Engine};
use netpol_flows::{expand, read_flows, verify_with};

use crate::commands::r#gen::flows_failure;
use crate::exit::{FINDINGS, Failure};
use crate::format::{Format, only};
use crate::input::Input;
use crate::render;

const FORMATS: &[Format] = &[Format::Text, Format::Json];

#[derive(clap::Args)]
pub struct Args {
    /// The flows file
    #[arg(value_name = "FLOWS")]
    flows: PathBuf,

    #[command(flatten)]
    input: Input,

    /// Output format
    #[arg(short = 'o', long = "output", value_name = "FORMAT", value_parser = only(FORMATS), default_value = "text")]
    output: Format,

    /// Also fail on extra connections and on warnings about the flows
    #[arg(long = "strict")]
    strict: bool,
}

pub fn run(args: Args) -> Result<(), Failure> {
    let flows = read_flows(&args.flows).map_err(flows_failure)?;
    let cluster = args.input.load_with_manifests(true)?;
    let expansion = expand(cluster, &flows);
    let engine = Engine::new(cluster);
    let classes = Classes::new(cluster);
    let by_class = Engine::new(&classes.reduced);
    let mut report = verify_with(&expansion, &engine, &classes, &by_class);
    report.would_break = netpol_flows::check_evidence(&expansion, &engine);
    match args.output {
        Format::Text => print!(
            "{}",
            crate::color::verify(&render::verify::text(
                &flows.file,
                &report,
                cluster.policies.len(),
                args.strict
            ))
        ),
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&report).expect("reports serialize")
        ),
        other => unreachable!("clap lets only {FORMATS:?} through, not {other:?}"),
    }
    let ok = if args.strict {
        report.strict_ok()
    } else {
        report.ok()
    };
    if ok {
        Ok(())
    } else {
        Err(Failure::Status(FINDINGS))
    }
}
