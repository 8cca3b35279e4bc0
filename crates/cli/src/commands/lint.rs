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
    let findings = netpol_lint::lint(cluster);
    let checked = checked(cluster);
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

/// What was checked, for the last line: policies and workloads, and the
/// endpoints when a live dump lists them as pods (10 replicas of a
/// Deployment are one workload and 10 endpoints).
fn checked(cluster: &netpol_model::Cluster) -> String {
    use netpol_model::text::plural;
    let workloads: std::collections::BTreeSet<String> = (0..cluster.endpoints.len())
        .map(|i| cluster.workload(i))
        .collect();
    let mut checked = format!(
        "{}, {}",
        plural(cluster.policies.len(), "policy", "policies"),
        plural(workloads.len(), "workload", "workloads")
    );
    if workloads.len() != cluster.endpoints.len() {
        let endpoints = plural(cluster.endpoints.len(), "endpoint", "endpoints");
        checked.push_str(&format!(" ({endpoints})"));
    }
    checked
}
