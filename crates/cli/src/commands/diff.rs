use std::path::PathBuf;

use crate::exit::{BAD_INPUT, FINDINGS, Failure};
use crate::format::{Format, only};
use crate::input::{Input, Validate, byte_size, namespace_name};
use crate::render;

const FORMATS: &[Format] = &[Format::Text, Format::Json, Format::Markdown];

#[derive(clap::Args)]
pub struct Args {
    /// OLD and NEW: each a manifest file or directory (or use --old/--new)
    #[arg(value_name = "OLD NEW", num_args = 0..=2)]
    paths: Vec<PathBuf>,

    /// A path of the old side; repeat for several
    #[arg(long = "old", value_name = "PATH")]
    old: Vec<PathBuf>,

    /// A path of the new side; repeat for several
    #[arg(long = "new", value_name = "PATH")]
    new: Vec<PathBuf>,

    /// Namespace for objects that name none
    #[arg(
        short = 'n',
        long = "namespace",
        value_name = "NS",
        default_value = "default",
        value_parser = namespace_name
    )]
    namespace: String,

    /// Unknown fields, as `kubectl apply --validate`: an error, a warning, or dropped silently
    #[arg(long = "validate", value_enum, value_name = "MODE", default_value_t = Validate::Strict)]
    validate: Validate,

    /// The most read from each side's PATHs together, e.g. 1Gi (Ki, Mi, Gi, Ti; k, M, G, T)
    #[arg(long = "max-input-size", value_name = "SIZE", default_value = "256Mi", value_parser = byte_size)]
    max_input_size: u64,

    /// Output format
    #[arg(short = 'o', long = "output", value_name = "FORMAT", value_parser = only(FORMATS), default_value = "text")]
    output: Format,

    /// Exit 1 when connectivity changed (a verdict flipped, or endpoints or ports appeared or disappeared)
    #[arg(long = "exit-code")]
    exit_code: bool,
}

/// Positional paths fill whichever of OLD and NEW `--old`/`--new` left empty, in that order.
fn sides(args: &Args) -> Result<(Vec<PathBuf>, Vec<PathBuf>), Failure> {
    let mut positional = args.paths.iter().cloned();
    let mut side = |given: &[PathBuf], name: &str| -> Result<Vec<PathBuf>, Failure> {
        if !given.is_empty() {
            return Ok(given.to_vec());
        }
        positional.next().map(|p| vec![p]).ok_or_else(|| {
            Failure::Usage(format!(
                "missing the {name} side: netpol diff OLD NEW, or --old PATH --new PATH"
            ))
        })
    };
    let old = side(&args.old, "OLD")?;
    let new = side(&args.new, "NEW")?;
    if let Some(extra) = positional.next() {
        return Err(Failure::Usage(format!(
            "unexpected path {}: both sides are already given (repeat --old/--new for several paths)",
            extra.display()
        )));
    }
    let stdin = |paths: &[PathBuf]| paths.iter().any(|p| p.as_os_str() == "-");
    if stdin(&old) && stdin(&new) {
        return Err(Failure::Usage("only one side can read stdin (`-`)".into()));
    }
    Ok((old, new))
}

pub fn run(args: Args) -> Result<(), Failure> {
    let (old, new) = sides(&args)?;
    let load = |paths: Vec<PathBuf>| {
        Input {
            paths,
            namespace: args.namespace.clone(),
            validate: args.validate,
            max_input_size: args.max_input_size,
        }
        // One side without policies is the usual "what do these policies change".
        .load_without_policies()
    };
    let old = load(old)?;
    let new = load(new)?;
    if old.endpoints.is_empty() && new.endpoints.is_empty() {
        // Policies alone decide nothing: "no change" would be an answer
        // about connections that do not exist.
        eprintln!(
            "warning: neither side has any workload (Pod, Deployment, StatefulSet, ...), so no verdict can change: give the workloads' manifests on both sides too, e.g. --old apps --old main/policies --new apps --new pr/policies"
        );
        return Err(Failure::Status(BAD_INPUT));
    }
    let diff = netpol_diff::diff(old, new);
    let out = match args.output {
        Format::Text => render::diff::text(&diff),
        Format::Json => render::diff::json(&diff),
        Format::Markdown => render::diff::markdown(&diff),
        other => unreachable!("clap lets only {FORMATS:?} through, not {other:?}"),
    };
    use std::io::Write;
    std::io::stdout().lock().write_all(out.as_bytes())?;
    if args.exit_code && diff.connectivity_changed() {
        return Err(Failure::Status(FINDINGS));
    }
    Ok(())
}
