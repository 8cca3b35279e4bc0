//! The fast writers (pieces formatted once, rows in parallel, the summary
//! summed per class) against a slow rendering of their own: every cell of
//! [`Grid::cells`] formatted on its own with `format!` and serde_json, and
//! the summary summed from those cells per pair of workloads.

use std::collections::{BTreeMap, BTreeSet};

use netpol_engine::{ClassMatrix, Classes, Engine};
use netpol_model::{Cluster, Family};
use netpol_synth::{Params, generate, live};
use serde_json::{Value, json};

use super::*;
use crate::external::externals;
use crate::render::{matrix, summary};

type Writer = fn(&mut Vec<u8>, &Grid) -> std::io::Result<()>;

fn write(writer: Writer, grid: &Grid) -> String {
    let mut out = Vec::new();
    writer(&mut out, grid).unwrap();
    String::from_utf8(out).unwrap()
}

/// Live dumps (replicas that classes merge, replicas an ipBlock singles
/// out, host-network pods, external peers), and a template-level cluster
/// with dual-stack workloads.
fn clusters() -> Vec<Cluster> {
    let mut out: Vec<Cluster> = (1..=3)
        .map(|seed| live(&generate(&Params::new(24, seed)), 3))
        .collect();
    out.push(generate(&Params::new(40, 7)));
    out
}

/// What to narrow the grid to: everything, each `--only`, one port, and
/// every other row and column.
fn narrows(grid: &Grid) -> Vec<(&'static str, Narrow)> {
    let port = grid
        .cells()
        .find(|c| matches!(c.dst, Node::Endpoint(_)))
        .map(|c| (c.port, Some(c.protocol)));
    let every_other = |nodes: &[Node]| nodes.iter().step_by(2).copied().collect::<Vec<_>>();
    vec![
        ("all", Narrow::default()),
        (
            "only allowed",
            Narrow {
                only: Some(true),
                ..Narrow::default()
            },
        ),
        (
            "only denied",
            Narrow {
                only: Some(false),
                ..Narrow::default()
            },
        ),
        (
            "port",
            Narrow {
                port,
                ..Narrow::default()
            },
        ),
        (
            "every other row and column",
            Narrow {
                rows: Some(every_other(&grid.rows)),
                cols: Some(every_other(&grid.cols[1..])),
                ..Narrow::default()
            },
        ),
    ]
}

/// Calls `check` with every cluster's grid under every narrowing, and the
/// whole grid.
fn each_grid(mut check: impl FnMut(&str, &Grid, &Grid)) {
    let (mut externals_seen, mut one_family_seen) = (false, false);
    for (i, c) in clusters().iter().enumerate() {
        let classes = Classes::new(c);
        let engine = Engine::new(&classes.reduced);
        let matrix = ClassMatrix::from_matrix(c, &classes, engine.matrix());
        let ext = externals(c);
        let whole = Grid::new(c, &engine, &matrix, ext.clone(), Narrow::default());
        for (what, narrow) in narrows(&whole) {
            let grid = Grid::new(c, &engine, &matrix, ext.clone(), narrow);
            externals_seen |= grid.cells().any(|c| matches!(c.src, Node::External(_)));
            one_family_seen |= grid.cells().any(|c| c.decided.only.is_some());
            check(&format!("cluster {i}, {what}"), &grid, &whole);
        }
    }
    assert!(externals_seen, "no cell from an external peer");
    assert!(one_family_seen, "no cell allowed over one family only");
}

/// The lines of a cell, one per family when the answer differs per family.
fn lines(c: &GridCell) -> Vec<(Option<Family>, bool)> {
    match c.decided.only {
        None => vec![(None, c.decided.allowed)],
        Some(only) => Family::ALL
            .into_iter()
            .map(|f| (Some(f), f == only))
            .collect(),
    }
}

#[test]
fn matrix_json_is_every_cell_as_serde_json_writes_it() {
    each_grid(|what, grid, _| {
        let mut expected = Vec::new();
        for c in grid.cells() {
            for (family, allowed) in lines(&c) {
                let mut line = json!({
                    "src": grid.name(c.src),
                    "dst": grid.name(c.dst),
                    "port": c.port,
                    "protocol": c.protocol.to_string(),
                    "allowed": allowed,
                });
                if let Some(f) = family {
                    line["family"] = json!(f.to_string());
                }
                if let Some(a) = grid.address(c.src) {
                    line["srcAddress"] = json!(a.to_string());
                }
                if let Some(a) = grid.address(c.dst) {
                    line["dstAddress"] = json!(a.to_string());
                }
                expected.push(line);
            }
        }
        let text = write(matrix::json, grid);
        let parsed: Value = serde_json::from_str(&text).unwrap();
        let got = parsed["connections"].as_array().unwrap();
        assert_eq!(got.len(), expected.len(), "{what}");
        if let Some((g, e)) = got.iter().zip(&expected).find(|(g, e)| g != e) {
            panic!("{what}: written {g}, expected {e}");
        }
        // One connection per line, in the documented key order.
        let body: Vec<&str> = text.lines().collect();
        assert_eq!(body.len(), expected.len() + 2, "{what}");
        assert_eq!(body[0], r#"{"connections":["#);
        if let Some(line) = body.get(1).filter(|_| !expected.is_empty()) {
            assert!(line.starts_with(r#"{"src":"#), "{what}: {line}");
            assert!(
                line.ends_with("},") || line.ends_with('}'),
                "{what}: {line}"
            );
        }
        assert_eq!(*body.last().unwrap(), "]}");
    });
}

#[test]
fn matrix_csv_is_every_cell_formatted_on_its_own() {
    each_grid(|what, grid, _| {
        let families = grid.has_one_family();
        let mut expected = format!(
            "src,dst,port,protocol,allowed{}\n",
            if families { ",family" } else { "" }
        );
        for c in grid.cells() {
            for (family, allowed) in lines(&c) {
                let family = match (family, families) {
                    (Some(f), _) => format!(",{f}"),
                    (None, true) => ",".to_string(),
                    (None, false) => String::new(),
                };
                expected += &format!(
                    "{},{},{},{},{allowed}{family}\n",
                    grid.name(c.src),
                    grid.name(c.dst),
                    c.port,
                    c.protocol
                );
            }
        }
        assert_eq!(write(matrix::csv, grid), expected, "{what}");
    });
}

/// (allowed, connections) per (source, destination) workload, summed from
/// the cells of the whole grid; an external peer is its own workload. A
/// workload is kept when one of its pods is, and counts with all its pods.
fn sums(grid: &Grid, whole: &Grid) -> BTreeMap<(String, String), (usize, usize)> {
    let workload = |n: Node| match n {
        Node::Endpoint(i) => grid.cluster.workload(i),
        Node::External(_) => grid.name(n).to_string(),
    };
    let src_kept: BTreeSet<String> = grid.rows.iter().map(|&n| workload(n)).collect();
    let dst_kept: BTreeSet<String> = grid.cols.iter().map(|&n| workload(n)).collect();
    let mut sums: BTreeMap<(String, String), (usize, usize)> = BTreeMap::new();
    // `--only` leaves out pairs, not cells: sum every cell, then filter the
    // pairs.
    let mut cells = Vec::new();
    for &src in &whole.rows {
        for &dst in &whole.cols {
            let key = (workload(src), workload(dst));
            if !src_kept.contains(&key.0) || !dst_kept.contains(&key.1) {
                continue;
            }
            whole.pair_into(src, dst, &mut cells);
            for c in &cells {
                let s = sums.entry(key.clone()).or_default();
                s.0 += usize::from(c.decided.allowed);
                s.1 += 1;
            }
        }
    }
    sums.retain(|_, &mut (allowed, connections)| match grid.only {
        None => true,
        Some(true) => allowed > 0,
        Some(false) => allowed < connections,
    });
    sums
}

/// The summary's own narrowings: `--summary` refuses `--port`.
fn each_summary_grid(mut check: impl FnMut(&str, &Grid, &Grid)) {
    each_grid(|what, grid, whole| {
        if grid.port.is_none() {
            check(what, grid, whole)
        }
    });
}

#[test]
fn summary_json_and_csv_are_the_cells_summed_per_workload() {
    each_summary_grid(|what, grid, whole| {
        let sums = sums(grid, whole);
        assert!(!sums.is_empty(), "{what}");
        let quote = |s: &str| serde_json::to_string(s).unwrap();
        let lines: Vec<String> = sums
            .iter()
            .map(|((s, d), (a, c))| {
                format!(
                    "\n{{\"src\":{},\"dst\":{},\"allowed\":{a},\"connections\":{c}}}",
                    quote(s),
                    quote(d)
                )
            })
            .collect();
        let expected = format!("{{\"pairs\":[{}\n]}}\n", lines.join(","));
        assert_eq!(write(summary::json, grid), expected, "{what}");
        let mut csv = "src,dst,allowed,connections\n".to_string();
        for ((s, d), (a, c)) in &sums {
            csv += &format!("{s},{d},{a},{c}\n");
        }
        assert_eq!(write(summary::csv, grid), csv, "{what}");
    });
}

#[test]
fn summary_table_is_the_cells_summed_per_workload() {
    each_summary_grid(|what, grid, whole| {
        let sums = sums(grid, whole);
        let width = |nodes: &[Node], at_least: usize| {
            nodes
                .iter()
                .map(|&n| match n {
                    Node::Endpoint(i) => grid.cluster.workload(i).len(),
                    Node::External(_) => grid.name(n).len(),
                })
                .max()
                .unwrap_or(0)
                .clamp(at_least, 100)
        };
        let (ws, wd) = (width(&grid.rows, 6), width(&grid.cols, 11));
        let mut expected = format!("{:ws$}  {:wd$}  CONNECTIONS\n", "SOURCE", "DESTINATION");
        for ((s, d), (a, c)) in &sums {
            let verdict = match (a, c) {
                (0, _) => "denied".to_string(),
                (a, c) if a == c => format!("allowed ({c})"),
                (a, c) => format!("partly: {a} of {c}"),
            };
            expected += &format!("{s:ws$}  {d:wd$}  {verdict}\n");
        }
        assert_eq!(write(summary::table, grid), expected, "{what}");
    });
}
