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
