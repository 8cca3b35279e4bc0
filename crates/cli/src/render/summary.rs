//! `matrix --summary`: connections summed per pair of workloads.

use std::io::{self, Write};

use crate::grid::Grid;
use crate::grid::summary::Pair;

pub fn json(out: &mut impl Write, grid: &Grid) -> io::Result<()> {
    out.write_all(b"{\"pairs\":[")?;
    let mut first = true;
    grid.for_each_pair(|p| {
        if !first {
            out.write_all(b",")?;
        }
        first = false;
        write!(
            out,
            "\n{{\"src\":{},\"dst\":{},\"allowed\":{},\"connections\":{}}}",
            quote(p.src),
            quote(p.dst),
            p.allowed,
            p.connections
        )
    })?;
    out.write_all(b"\n]}\n")
}

fn quote(s: &str) -> String {
    serde_json::to_string(s).expect("strings serialize")
}

pub fn csv(out: &mut impl Write, grid: &Grid) -> io::Result<()> {
    writeln!(out, "src,dst,allowed,connections")?;
    grid.for_each_pair(|p| writeln!(out, "{},{},{},{}", p.src, p.dst, p.allowed, p.connections))
}

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
    let w_src = width(&grid.rows).max("SOURCE".len());
    let w_dst = width(&grid.cols).max("DESTINATION".len());
    writeln!(
        out,
        "{:w_src$}  {:w_dst$}  CONNECTIONS",
        "SOURCE", "DESTINATION"
    )?;
    grid.for_each_pair(|p: Pair| {
        let verdict = match (p.allowed, p.connections) {
            (0, _) => "denied".to_string(),
            (a, c) if a == c => format!("allowed ({c})"),
            (a, c) => format!("partly: {a} of {c}"),
        };
        let verdict = crate::color::verdict(&verdict);
        writeln!(out, "{:w_src$}  {:w_dst$}  {verdict}", p.src, p.dst)
    })
}
