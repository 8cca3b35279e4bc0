use std::io::{BufWriter, Write};

use clap::ValueEnum;
use netpol_engine::{ClassMatrix, Classes};

use crate::exit::Failure;
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
}

pub fn run(args: Args) -> Result<(), Failure> {
    let cluster = args.input.load()?;
    // Computed per class of pods that no policy can tell apart; read per pod.
    let classes = Classes::new(&cluster);
    let matrix = ClassMatrix::new(&cluster, &classes);
    let stdout = std::io::stdout().lock();
    let mut out = BufWriter::with_capacity(1 << 20, stdout);
    match (args.summary, args.output) {
        (false, Format::Json) => render::matrix::json(&mut out, &cluster, &matrix)?,
        (false, Format::Csv) => render::matrix::csv(&mut out, &cluster, &matrix)?,
        (false, Format::Table) => render::matrix::table(&mut out, &cluster, &matrix)?,
        (true, Format::Json) => render::summary::json(&mut out, &matrix)?,
        (true, Format::Csv) => render::summary::csv(&mut out, &matrix)?,
        (true, Format::Table) => render::summary::table(&mut out, &matrix)?,
    }
    out.flush()?;
    Ok(())
}
