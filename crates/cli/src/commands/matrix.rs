use std::io::{BufWriter, Write};

use clap::ValueEnum;
use netpol_engine::Engine;

use crate::exit::Failure;
use crate::external::externals;
use crate::grid::{Grid, Narrow};
use crate::input::Input;
use crate::render;

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
    Csv,
}

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    input: Input,

    /// Output format
    #[arg(short = 'o', long = "output", value_enum, default_value_t = Format::Table)]
    output: Format,

    /// One row per (source workload, destination workload): allowed and total
    /// connections, with pods counted under the workload that owns them
    #[arg(long = "summary")]
    summary: bool,

    /// Leave out the external peers (the networks ipBlocks name and the rest
    /// of the internet): endpoints only
    #[arg(long = "no-external")]
    no_external: bool,
}

pub fn run(args: Args) -> Result<(), Failure> {
    let cluster = args.input.load()?;
    let engine = Engine::new(&cluster);
    let matrix = engine.matrix();
    let grid = Grid::new(
        &cluster,
        &engine,
        &matrix,
        if args.no_external {
            Vec::new()
        } else {
            externals(&cluster)
        },
        Narrow::default(),
    );
    let stdout = std::io::stdout().lock();
    let mut out = BufWriter::new(stdout);
    match (args.summary, args.output) {
        (false, Format::Json) => render::matrix::json(&mut out, &grid)?,
        (false, Format::Csv) => render::matrix::csv(&mut out, &grid)?,
        (false, Format::Table) => render::matrix::table(&mut out, &grid)?,
        (true, Format::Json) => render::summary::json(&mut out, &grid)?,
        (true, Format::Csv) => render::summary::csv(&mut out, &grid)?,
        (true, Format::Table) => render::summary::table(&mut out, &grid)?,
    }
    out.flush()?;
    Ok(())
}
