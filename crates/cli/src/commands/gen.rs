//! `netpol gen FLOWS PATH... --dir DIR`: one file of policies per namespace,
//! rewritten only when it changed, never touching files netpol did not write
//! (crate::write); or `--stdout`, every policy as one YAML stream.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use netpol_flows::{Expansion, FlowsErrors, expand, generate, read_flows};

use crate::exit::{BAD_INPUT, FINDINGS, Failure};
use crate::input::Input;
use crate::render;
pub use crate::write::Change;

#[derive(clap::Args)]
#[command(group(clap::ArgGroup::new("output").required(true).multiple(false)))]
pub struct Args {
    /// The flows file
    #[arg(value_name = "FLOWS")]
    flows: PathBuf,

    #[command(flatten)]
    input: Input,

    /// Directory of the generated files (one <namespace>.yaml each)
    #[arg(long = "dir", value_name = "DIR", group = "output")]
    dir: Option<PathBuf>,

    /// Print every policy on stdout as one multi-document YAML (for `kubectl apply -f -`)
    #[arg(long = "stdout", group = "output", conflicts_with = "check")]
    stdout: bool,

    /// Deprecated spelling of --dir (`-o` is the output format elsewhere); `-o yaml` and `-o -` are --stdout
    #[arg(short = 'o', long = "output-dir", value_name = "DIR", group = "output")]
    legacy_dir: Option<PathBuf>,

    /// Write nothing; exit 1 with a unified diff when DIR is not what gen would write
    #[arg(long = "check")]
    check: bool,
}

enum Output {
    Dir(PathBuf),
    Stdout,
}

impl Args {
    fn output(&self) -> Result<Output, Failure> {
        if let Some(dir) = &self.dir {
            return Ok(Output::Dir(dir.clone()));
        }
        match &self.legacy_dir {
            // `-o yaml` is the format, as `-o` is everywhere else: gen's one.
            Some(d) if d.as_os_str() == "-" || d.as_os_str() == "yaml" => {
                if self.check {
                    return Err(Failure::Usage(format!(
                        "--check compares a directory: give it --dir DIR, not -o {}",
                        d.display()
                    )));
                }
                Ok(Output::Stdout)
            }
            Some(d) => {
                eprintln!(
                    "note: `gen -o DIR` is deprecated (-o is the output format elsewhere): write `--dir {}`",
                    d.display()
                );
                Ok(Output::Dir(d.clone()))
            }
            None => Ok(Output::Stdout),
        }
    }
}

pub fn run(args: Args) -> Result<(), Failure> {
    let output = args.output()?;
    let flows = read_flows(&args.flows).map_err(flows_failure)?;
    // Only `ingress-backends` reads more than the connectivity model.
    let cluster = if flows
        .flows
        .iter()
        .any(|f| matches!(f.to, netpol_flows::EndpointSpec::IngressBackends { .. }))
    {
        args.input.load_with_manifests(false)?
    } else {
        args.input.load_without_policies()?
    };
    let expansion = expand(cluster, &flows);
    let generated = generate(&expansion);
    report_findings(&expansion);
    let dir = match output {
        Output::Dir(dir) => dir,
        Output::Stdout => {
            // File order (namespace order): the same bytes for the same input.
            let mut out = std::io::stdout().lock();
            for text in generated.files.values() {
                out.write_all(text.as_bytes())?;
            }
            out.flush()?;
            return Ok(());
        }
    };
    if args.check {
        let plan = crate::write::plan(&dir, &generated.files).map_err(Failure::Other)?;
        let diff = render::r#gen::check_diff(&dir, &plan);
        if diff.is_empty() {
            eprintln!(
                "{} is up to date ({} files)",
                dir.display(),
                generated.files.len()
            );
            return Ok(());
        }
        print!("{diff}");
        eprintln!("{} is stale: run netpol gen to update it", dir.display());
        return Err(Failure::Status(FINDINGS));
    }
    let session = crate::write::Session::open(&dir).map_err(Failure::Other)?;
    let plan = session.plan(&generated.files).map_err(Failure::Other)?;
    session.apply(&plan).map_err(Failure::Other)?;
    let mut counts: BTreeMap<String, usize> =
        generated.policies.iter().fold(BTreeMap::new(), |mut m, p| {
            *m.entry(format!("{}.yaml", p.namespace)).or_insert(0) += 1;
            m
        });
    if let Some(text) = generated.files.get(netpol_flows::GUARDRAILS_FILE) {
        let n = text.matches("\nkind: ClusterNetworkPolicy\n").count();
        counts.insert(netpol_flows::GUARDRAILS_FILE.to_string(), n);
    }
    print!("{}", render::r#gen::summary(&dir, &plan, &counts));
    Ok(())
}

pub fn flows_failure(errors: FlowsErrors) -> Failure {
    eprintln!("{errors}");
    let n = errors.0.len();
    eprintln!(
        "netpol: {n} error{} in the flows file; nothing was done",
        if n == 1 { "" } else { "s" }
    );
    Failure::Status(BAD_INPUT)
}

pub fn report_findings(x: &Expansion) {
    for f in &x.findings {
        eprintln!("{}", render::r#gen::finding(&x.flows.file, f));
    }
}
