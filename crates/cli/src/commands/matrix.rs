use std::io::{BufWriter, Write};

use netpol_engine::{ClassMatrix, Classes, Engine};

use crate::exit::Failure;
use crate::external::externals;
use crate::focus::Focus;
use crate::format::{Format, only};
use crate::grid::Grid;
use crate::input::Input;
use crate::render;
use crate::render::graph::Edges;

const FORMATS: &[Format] = &[
    Format::Text,
    Format::Json,
    Format::Csv,
    Format::Dot,
    Format::Mermaid,
];

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    input: Input,

    /// Output format: a grid, the matrix as data, or a graph of workloads
    /// grouped by namespace (one edge per pair, labelled with its ports)
    #[arg(short = 'o', long = "output", value_name = "FORMAT", value_parser = only(FORMATS), default_value = "text")]
    output: Format,

    /// With `-o dot|mermaid`: also draw the pairs no port is allowed between, dashed
    #[arg(long = "show-denied")]
    show_denied: bool,

    /// One row per (source workload, destination workload): allowed and total
    /// connections, with pods counted under the workload that owns them
    #[arg(long = "summary")]
    summary: bool,

    #[command(flatten)]
    focus: Focus,

    /// Leave out the external peers (the networks ipBlocks name and the rest
    /// of the internet): endpoints only
    #[arg(long = "no-external")]
    no_external: bool,
}

pub fn run(args: Args) -> Result<(), Failure> {
    let cluster = args.input.load()?;
    // Compiled and evaluated per class of pods that no policy can tell
    // apart; read per pod.
    let classes = Classes::new(cluster);
    let engine = Engine::new(&classes.reduced);
    let matrix = ClassMatrix::from_matrix(cluster, &classes, engine.matrix());
    let externals = if args.no_external {
        Vec::new()
    } else {
        externals(cluster)
    };
    let narrow = args.focus.narrow(cluster, &externals)?;
    if args.summary && narrow.port.is_some() {
        return Err(Failure::Usage(
            "--summary counts every port of a pair: leave out --port".into(),
        ));
    }
    let grid = Grid::new(cluster, &engine, &matrix, externals, narrow);
    let stdout = std::io::stdout().lock();
    let mut out = BufWriter::with_capacity(1 << 20, stdout);
    let edges = Edges {
        allowed: grid.only != Some(false),
        denied: args.show_denied || grid.only == Some(false),
    };
    match (args.summary, args.output) {
        (_, Format::Dot) => render::graph::dot(&mut out, &grid.graph(), edges)?,
        (_, Format::Mermaid) => render::graph::mermaid(&mut out, &grid.graph(), edges)?,
        (false, Format::Json) => render::matrix::json(&mut out, &grid)?,
        (false, Format::Csv) => render::matrix::csv(&mut out, &grid)?,
        (false, _) => render::matrix::table(&mut out, &grid)?,
        (true, Format::Json) => render::summary::json(&mut out, &grid)?,
        (true, Format::Csv) => render::summary::csv(&mut out, &grid)?,
        (true, _) => render::summary::table(&mut out, &grid)?,
    }
    out.flush()?;
    Ok(())
}
