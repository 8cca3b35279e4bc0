//! `matrix --summary`: connections summed per pair of workloads.

use std::io::{self, Write};

use crate::grid::Grid;
use crate::grid::ordered;
use crate::grid::summary::{End, RowPair, Summary};

/// Bytes a summary line takes, about: for sizing the chunks written at once.
const LINE_BYTES: usize = 100;

/// Sums and formats every source's row (in parallel, a chunk of sources at
/// a time) and hands the bytes to `sink` in order: at 150,000 pods the
/// summary is 200 million lines.
fn write_rows(
    summary: &Summary,
    line: impl Fn(End, &RowPair, &mut Vec<u8>) + Sync,
    sink: impl FnMut(&[u8]) -> io::Result<()>,
) -> io::Result<()> {
    let per_row = summary.sums.len().max(1) * LINE_BYTES;
    ordered::write_in_order(
        &summary.sources,
        ordered::per_chunk(per_row),
        |&src, buf| {
            let mut row = Vec::new();
            summary.row(src, &mut row);
            for p in &row {
                line(src, p, buf);
            }
        },
        sink,
        |_| {},
    )
}

/// Each source's and each destination's name, formatted once by `piece`.
fn pieces(summary: &Summary, piece: impl Fn(&str) -> String) -> Vec<Vec<u8>> {
    summary.names().map(|n| piece(n).into_bytes()).collect()
}

pub fn json(out: &mut impl Write, grid: &Grid) -> io::Result<()> {
    let summary = grid.summary();
    let heads = pieces(&summary, |n| format!(",\n{{\"src\":{},\"dst\":", quote(n)));
    let dsts = pieces(&summary, |n| format!("{},\"allowed\":", quote(n)));
    out.write_all(b"{\"pairs\":[")?;
    let line = |src: End, p: &RowPair, buf: &mut Vec<u8>| {
        let mut numbers = itoa::Buffer::new();
        buf.extend_from_slice(&heads[summary.name_index(src)]);
        buf.extend_from_slice(&dsts[summary.name_index(p.dst)]);
        buf.extend_from_slice(numbers.format(p.allowed).as_bytes());
        buf.extend_from_slice(b",\"connections\":");
        buf.extend_from_slice(numbers.format(p.connections).as_bytes());
        buf.push(b'}');
    };
    write_rows(
        &summary,
        line,
        ordered::json_elements(|bytes| out.write_all(bytes)),
    )?;
    out.write_all(b"\n]}\n")
}

fn quote(s: &str) -> String {
    serde_json::to_string(s).expect("strings serialize")
}

pub fn csv(out: &mut impl Write, grid: &Grid) -> io::Result<()> {
    writeln!(out, "src,dst,allowed,connections")?;
    let summary = grid.summary();
    let heads = pieces(&summary, |n| format!("{n},"));
    let dsts = pieces(&summary, |n| format!("{n},"));
    let line = |src: End, p: &RowPair, buf: &mut Vec<u8>| {
        let mut numbers = itoa::Buffer::new();
        buf.extend_from_slice(&heads[summary.name_index(src)]);
        buf.extend_from_slice(&dsts[summary.name_index(p.dst)]);
        buf.extend_from_slice(numbers.format(p.allowed).as_bytes());
        buf.push(b',');
        buf.extend_from_slice(numbers.format(p.connections).as_bytes());
        buf.push(b'\n');
    };
    write_rows(&summary, line, |bytes| out.write_all(bytes))
}

const MAX_COLUMN: usize = 100;

/// Written row by row as the pairs come: the columns are as wide as the
/// longest workload name, known before the first row, so nothing is held.
pub fn table(out: &mut impl Write, grid: &Grid) -> io::Result<()> {
    let width = |nodes: &[crate::grid::Node]| {
        nodes
            .iter()
            .map(|&n| match n {
                crate::grid::Node::Endpoint(i) => grid.cluster.workload(i).len(),
                crate::grid::Node::External(_) => grid.name(n).len(),
            })
            .max()
            .unwrap_or(0)
    };
    // A longer name overflows its column rather than reach the 65,535 that
    // `format!` can pad.
    let w_src = width(&grid.rows).clamp("SOURCE".len(), MAX_COLUMN);
    let w_dst = width(&grid.cols).clamp("DESTINATION".len(), MAX_COLUMN);
    writeln!(
        out,
        "{:w_src$}  {:w_dst$}  CONNECTIONS",
        "SOURCE", "DESTINATION"
    )?;
    let summary = grid.summary();
    let heads = pieces(&summary, |n| format!("{n:w_src$}  "));
    let dsts = pieces(&summary, |n| format!("{n:w_dst$}  "));
    let colour = crate::color::enabled();
    let line = |src: End, p: &RowPair, buf: &mut Vec<u8>| {
        buf.extend_from_slice(&heads[summary.name_index(src)]);
        buf.extend_from_slice(&dsts[summary.name_index(p.dst)]);
        if colour {
            buf.extend_from_slice(crate::color::verdict(&verdict(p)).as_bytes());
        } else {
            let mut numbers = itoa::Buffer::new();
            match (p.allowed, p.connections) {
                (0, _) => buf.extend_from_slice(b"denied"),
                (a, c) if a == c => {
                    buf.extend_from_slice(b"allowed (");
                    buf.extend_from_slice(numbers.format(c).as_bytes());
                    buf.push(b')');
                }
                (a, c) => {
                    buf.extend_from_slice(b"partly: ");
                    buf.extend_from_slice(numbers.format(a).as_bytes());
                    buf.extend_from_slice(b" of ");
                    buf.extend_from_slice(numbers.format(c).as_bytes());
                }
            }
        }
        buf.push(b'\n');
    };
    write_rows(&summary, line, |bytes| out.write_all(bytes))
}

/// `denied`, `allowed (4)`, `partly: 1 of 4`.
fn verdict(p: &RowPair) -> String {
    match (p.allowed, p.connections) {
        (0, _) => "denied".to_string(),
        (a, c) if a == c => format!("allowed ({c})"),
        (a, c) => format!("partly: {a} of {c}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_huge_name_overflows_its_column_not_a_panic() {
        let source = netpol_model::Source {
            name: "t.yaml".into(),
            text: "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers: [{name: c, image: x, ports: [{containerPort: 80}]}]\n".into(),
        };
        let mut c = netpol_model::load_sources(&[source], &Default::default()).unwrap();
        // Longer than validation allows: renderers must cope all the same.
        let long = "x".repeat(65_530);
        c.endpoints[0].name = long.clone();
        let classes = netpol_engine::Classes::new(&c);
        let engine = netpol_engine::Engine::new(&classes.reduced);
        let matrix = netpol_engine::ClassMatrix::from_matrix(&c, &classes, engine.matrix());
        let grid = Grid::new(&c, &engine, &matrix, Vec::new(), Default::default());
        let mut out = Vec::new();
        table(&mut out, &grid).unwrap();
        let text = String::from_utf8(out).unwrap();
        let header = text.lines().next().unwrap();
        assert_eq!(header.find("DESTINATION"), Some(MAX_COLUMN + 2), "{header}");
        let row = format!("default/{long}  default/{long}  allowed (1)");
        assert!(
            text.lines().any(|l| l == row),
            "no full row for the long name"
        );
    }
}
