use clap::ValueEnum;
use netpol_lint::Severity;

use crate::exit::{FINDINGS, Failure};
use crate::format::{Format, only};
use crate::input::Input;
use crate::render;

const FORMATS: &[Format] = &[Format::Text, Format::Json, Format::Sarif];

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Error,
    Warning,
    Info,
    /// Always exit 0 when the input loads
    Never,
}

impl FailOn {
    fn threshold(self) -> Option<Severity> {
        match self {
            FailOn::Error => Some(Severity::Error),
            FailOn::Warning => Some(Severity::Warning),
            FailOn::Info => Some(Severity::Info),
            FailOn::Never => None,
        }
    }
}

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    input: Input,

    /// Output format
    #[arg(short = 'o', long = "output", value_name = "FORMAT", value_parser = only(FORMATS), default_value = "text")]
    output: Format,

    /// Exit 1 when a finding at or above this severity exists
    #[arg(long = "fail-on", value_enum, default_value_t = FailOn::Error)]
    fail_on: FailOn,
}

pub fn run(args: Args) -> Result<(), Failure> {
    // NP013 is the finding for an input without any NetworkPolicy.
    let cluster = args.input.load_without_policies()?;
    let findings = netpol_lint::lint(&cluster);
    let checked = format!(
        "{} polic{}, {} workload{}",
        cluster.policies.len(),
        if cluster.policies.len() == 1 {
            "y"
        } else {
            "ies"
        },
        cluster.endpoints.len(),
        if cluster.endpoints.len() == 1 {
            ""
        } else {
            "s"
        }
    );
    let out = match args.output {
        Format::Text => crate::color::findings(&render::lint::text(&findings, &checked)),
        Format::Json => render::lint::json(&findings),
        Format::Sarif => render::lint::sarif(&findings),
        other => unreachable!("clap lets only {FORMATS:?} through, not {other:?}"),
    };
    use std::io::Write;
    std::io::stdout().lock().write_all(out.as_bytes())?;
    let failing = args
        .fail_on
        .threshold()
        .is_some_and(|t| findings.iter().any(|f| f.severity >= t));
    if failing {
        return Err(Failure::Status(FINDINGS));
    }
    Ok(())
}
