//! `netpol report PATH... [--flows FLOWS] -o report.html`: the matrix, its
//! graph, lint and verify findings and the engine's traces, in one page.

use std::io::Write;
use std::path::{Path, PathBuf};

use netpol_engine::{ClassMatrix, Classes, Engine};
use netpol_flows::{expand, read_flows, verify_with};

use crate::commands::r#gen::flows_failure;
use crate::exit::Failure;
use crate::external::externals;
use crate::focus::Focus;
use crate::grid::Grid;
use crate::input::Input;
use crate::render::report::Page;
use crate::render::report::by_namespace::By;
use crate::render::report::data::{self, Item, Sources};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    input: Input,

    /// A flows file: the page adds what `netpol verify` finds
    #[arg(long = "flows", value_name = "FLOWS")]
    flows: Option<PathBuf>,

    /// The HTML file to write (`-` for stdout). Unlike the other commands'
    /// `-o`, a file, not a format: a report is always HTML
    #[arg(
        short = 'o',
        long = "output",
        value_name = "FILE",
        default_value = "netpol-report.html"
    )]
    output: PathBuf,

    /// What a box of the graph and a row of the matrix is: a workload or a
    /// namespace. `auto` draws namespaces past two million pairs of
    /// workloads (a 30 MB page); --namespace-filter, --from and --to then
    /// narrow the page to draw workloads again
    #[arg(long = "by", value_enum, value_name = "WHAT", default_value_t = By::Auto)]
    by: By,

    #[command(flatten)]
    focus: Focus,
}

pub fn run(args: Args) -> Result<(), Failure> {
    let flows = args
        .flows
        .as_ref()
        .map(|p| read_flows(p).map_err(flows_failure))
        .transpose()?;
    // Lint reports an input without policies itself (NP013). Only verify
    // reads the manifests as written (its evidence check, the flows'
    // ingress backends): kept, a live dump's pods would double the memory
    // and the load.
    let cluster = if flows.is_some() {
        args.input.load_with_manifests(false)?
    } else {
        args.input.load_without_policies()?
    };
    let externals = externals(cluster);
    let narrow = args.focus.narrow(cluster, &externals)?;
    // The grid per class, the traces per pod (of the pods traced); lint
    // runs beside the matrix over the same classes.
    let classes = Classes::new(cluster);
    let by_class = Engine::new(&classes.reduced);
    // Verified first: its per-pod engine is freed before the matrix and
    // the grid are built, not held beside them.
    let verify_items = flows.as_ref().map(|flows| {
        let expansion = expand(cluster, flows);
        let engine = Engine::new(cluster);
        let mut report = verify_with(&expansion, &engine, &classes, &by_class);
        report.would_break = netpol_flows::check_evidence(&expansion, &engine);
        verify_items(&flows.file, &report)
    });
    let (matrix, findings) = rayon::join(
        || by_class.matrix(),
        || netpol_lint::lint_with(cluster, &classes),
    );
    let matrix = ClassMatrix::from_matrix(cluster, &classes, matrix);
    let grid = Grid::new(cluster, &by_class, &matrix, externals, narrow);
    let lint: Vec<Item> = findings
        .into_iter()
        .map(|f| Item {
            source: "lint",
            severity: f.severity.to_string(),
            title: format!("{} {}", f.id, f.name),
            detail: format!("{} Hint: {}", f.message, f.hint),
            location: format!("{}:{}", f.location.file, f.location.line),
        })
        .collect();
    let mut inputs: Vec<String> = args
        .input
        .paths
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    if let Some(f) = &args.flows {
        inputs.push(format!("--flows {}", f.display()));
    }
    let sources = Sources {
        title: inputs.join(" "),
        inputs,
        lint,
        verify: verify_items,
        by_class: &by_class,
        classes: &classes,
    };
    let page = Page::new(&sources.title);
    let write =
        |out: &mut dyn Write| page.write(out, |out| data::write(&grid, &sources, args.by, out));
    if args.output.as_os_str() == "-" {
        let mut out = std::io::BufWriter::new(std::io::stdout().lock());
        write(&mut out)?;
        out.flush()?;
        return Ok(());
    }
    write_file(&args.output, write)?;
    eprintln!("wrote {}", args.output.display());
    Ok(())
}

/// Writes the page to a temporary file beside `path`, then moves it there:
/// an interrupted run leaves the old page whole. A file that is not a
/// netpol report is left alone.
fn write_file(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), Failure> {
    let cannot =
        |e: &dyn std::fmt::Display| Failure::Other(format!("cannot write {}: {e}", path.display()));
    if let Ok(mut existing) = std::fs::File::open(path) {
        let mut start = vec![0; Page::signature().len()];
        let ours = std::io::Read::read_exact(&mut existing, &mut start).is_ok()
            && start == Page::signature().as_bytes();
        if !ours {
            return Err(Failure::Usage(format!(
                "{} exists and is not a netpol report: not overwriting it (remove it or choose another -o)",
                path.display()
            )));
        }
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    // Created as `File::create` would (0666 less the umask), not with a
    // temporary file's 0600: a report is read by others and served.
    let file = tempfile::Builder::new()
        .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666))
        .prefix(".netpol-report-")
        .tempfile_in(dir)
        .map_err(|e| cannot(&e))?;
    let mut out = std::io::BufWriter::new(file);
    write(&mut out).map_err(|e| cannot(&e))?;
    let file = out.into_inner().map_err(|e| cannot(&e.error()))?;
    file.persist(path).map_err(|e| cannot(&e.error))?;
    Ok(())
}

/// The item that counts the connections of a kind verify does not list.
fn not_listed(kind: &str, severity: &str, n: usize) -> Option<Item> {
    (n > 0).then(|| Item {
        source: "verify",
        severity: severity.into(),
        title: format!("{kind}: {n} more connections not listed"),
        detail: "netpol verify lists the first ones and counts the rest".into(),
        location: String::new(),
    })
}

fn verify_items(flows_file: &str, r: &netpol_flows::Report) -> Vec<Item> {
    let mut items = Vec::new();
    for m in &r.missing {
        let family = m.family.map(|f| format!(" over {f}")).unwrap_or_default();
        items.push(Item {
            source: "verify",
            severity: "error".into(),
            title: format!("missing: {} -> {} {}/{}", m.src, m.dst, m.port, m.protocol),
            detail: format!(
                "{} ({}) is denied{family}: egress {}; ingress {}",
                m.flow, m.purpose, m.verdict.egress.reason, m.verdict.ingress.reason
            ),
            location: format!("{flows_file}:{}", m.line),
        });
    }
    items.extend(not_listed("missing", "error", r.missing_not_listed));
    for n in &r.without_default_deny {
        let dirs: Vec<&str> = n.directions.iter().map(|d| d.as_str()).collect();
        items.push(Item {
            source: "verify",
            severity: "error".into(),
            title: format!("no default deny: namespace {}", n.namespace),
            detail: format!(
                "no policy selecting every pod isolates {}",
                dirs.join(" and ")
            ),
            location: String::new(),
        });
    }
    for e in &r.extra {
        let only = e.only.map(|f| format!(" ({f} only)")).unwrap_or_default();
        items.push(Item {
            source: "verify",
            severity: "warning".into(),
            title: format!(
                "extra: {} -> {} {}/{}{only}",
                e.src, e.dst, e.port, e.protocol
            ),
            detail: format!(
                "allowed but no flow means it: egress {}; ingress {}",
                e.egress, e.ingress
            ),
            location: String::new(),
        });
    }
    items.extend(not_listed("extra", "warning", r.extra_not_listed));
    for f in &r.findings {
        items.push(Item {
            source: "verify",
            severity: format!("{:?}", f.severity).to_lowercase(),
            title: format!("{}: {}", f.code, f.flow),
            detail: f.message.clone(),
            location: format!("{flows_file}:{}", f.line),
        });
    }
    for w in &r.would_break {
        items.push(Item {
            source: "verify",
            severity: "warning".into(),
            title: format!(
                "would break: {} -> {} {}/{}",
                w.src, w.dst, w.port, w.protocol
            ),
            detail: format!("{} ({:?}): {}", w.rule, w.confidence, w.reasons.join("; ")),
            location: String::new(),
        });
    }
    items
}
