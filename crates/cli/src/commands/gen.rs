//! `netpol gen FLOWS PATH... -o DIR`: one file of policies per namespace,
//! rewritten only when it changed, never touching files netpol did not write.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use netpol_flows::{Expansion, FlowsErrors, HEADER, expand, generate, read_flows};

use crate::exit::{BAD_INPUT, FINDINGS, Failure};
use crate::input::Input;
use crate::render;

#[derive(clap::Args)]
pub struct Args {
    /// The flows file
    #[arg(value_name = "FLOWS")]
    flows: PathBuf,

    #[command(flatten)]
    input: Input,

    /// Directory of the generated files (one <namespace>.yaml each)
    #[arg(short = 'o', long = "output-dir", value_name = "DIR")]
    output_dir: PathBuf,

    /// Write nothing; exit 1 with a unified diff when DIR is not what gen would write
    #[arg(long = "check")]
    check: bool,
}

/// What gen would do to one file of DIR.
#[derive(Debug, PartialEq, Eq)]
pub enum Change {
    Create { new: String },
    Update { old: String, new: String },
    Unchanged,
    Remove { old: String },
}

pub fn run(args: Args) -> Result<(), Failure> {
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
    let expansion = expand(&cluster, &flows);
    let generated = generate(&expansion);
    report_findings(&expansion);
    let plan = plan(&args.output_dir, &generated.files)?;
    if args.check {
        let diff = render::r#gen::check_diff(&args.output_dir, &plan);
        if diff.is_empty() {
            eprintln!(
                "{} is up to date ({} files)",
                args.output_dir.display(),
                generated.files.len()
            );
            return Ok(());
        }
        print!("{diff}");
        eprintln!(
            "{} is stale: run netpol gen to update it",
            args.output_dir.display()
        );
        return Err(Failure::Status(FINDINGS));
    }
    apply(&args.output_dir, &plan)?;
    let counts: BTreeMap<String, usize> =
        generated.policies.iter().fold(BTreeMap::new(), |mut m, p| {
            *m.entry(format!("{}.yaml", p.namespace)).or_insert(0) += 1;
            m
        });
    print!(
        "{}",
        render::r#gen::summary(&args.output_dir, &plan, &counts)
    );
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

fn is_generated(text: &str) -> bool {
    text.starts_with(HEADER)
}

/// Compares DIR with the wanted files. Refuses (writing nothing) when a
/// wanted file exists and netpol did not write it.
pub fn plan(
    dir: &Path,
    wanted: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, Change>, Failure> {
    let mut plan = BTreeMap::new();
    let mut foreign = Vec::new();
    let mut existing: BTreeMap<String, String> = BTreeMap::new();
    match std::fs::read_dir(dir) {
        Ok(entries) => {
            for entry in entries {
                let entry = entry
                    .map_err(|e| Failure::Other(format!("cannot list {}: {e}", dir.display())))?;
                let name = entry.file_name().to_string_lossy().into_owned();
                let path = entry.path();
                if !path.is_file() || !(name.ends_with(".yaml") || wanted.contains_key(&name)) {
                    continue;
                }
                // Unreadable or non-UTF-8 files are someone else's.
                let text = std::fs::read(&path)
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok())
                    .unwrap_or_default();
                existing.insert(name, text);
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => {
            return Err(Failure::Other(format!(
                "cannot read {}: {e}",
                dir.display()
            )));
        }
    }
    for (name, new) in wanted {
        let change = match existing.get(name) {
            None => Change::Create { new: new.clone() },
            Some(old) if !is_generated(old) => {
                foreign.push(name.clone());
                continue;
            }
            Some(old) if old == new => Change::Unchanged,
            Some(old) => Change::Update {
                old: old.clone(),
                new: new.clone(),
            },
        };
        plan.insert(name.clone(), change);
    }
    for (name, old) in &existing {
        if !wanted.contains_key(name) && is_generated(old) {
            plan.insert(name.clone(), Change::Remove { old: old.clone() });
        }
    }
    if !foreign.is_empty() {
        let list: Vec<String> = foreign
            .iter()
            .map(|n| dir.join(n).display().to_string())
            .collect();
        return Err(Failure::Other(format!(
            "refusing to overwrite {}: not generated by netpol (no netpol header); move {} away or choose another -o directory. Nothing was written",
            list.join(", "),
            if list.len() == 1 { "it" } else { "them" }
        )));
    }
    Ok(plan)
}

fn apply(dir: &Path, plan: &BTreeMap<String, Change>) -> Result<(), Failure> {
    let io = |what: &str, path: &Path, e: std::io::Error| {
        Failure::Other(format!("cannot {what} {}: {e}", path.display()))
    };
    std::fs::create_dir_all(dir).map_err(|e| io("create", dir, e))?;
    for (name, change) in plan {
        let path = dir.join(name);
        match change {
            Change::Create { new } | Change::Update { new, .. } => {
                // Write beside the target and rename: readers never see half a file.
                let mut tmp = tempfile::Builder::new()
                    .prefix(".netpol-")
                    .suffix(".tmp")
                    .tempfile_in(dir)
                    .map_err(|e| io("write in", dir, e))?;
                std::io::Write::write_all(&mut tmp, new.as_bytes())
                    .map_err(|e| io("write", tmp.path(), e))?;
                tmp.as_file()
                    .sync_all()
                    .map_err(|e| io("write", &path, e))?;
                tmp.persist(&path)
                    .map_err(|e| io("write", &path, e.error))?;
            }
            Change::Remove { .. } => {
                std::fs::remove_file(&path).map_err(|e| io("remove", &path, e))?
            }
            Change::Unchanged => {}
        }
    }
    Ok(())
}
