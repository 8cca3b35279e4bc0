//! The matrix as JSON (the contract other tools read), CSV, and a grid for people.

use std::io::{self, Write};

use netpol_model::{Cluster, Family, Protocol};

use super::progress::Progress;
use crate::grid::{Grid, GridCell, Node, PortAt, ordered};

/// `{"connections":[...]}`, one connection per line so that it diffs well,
/// written as it is produced rather than built in memory. A connection
/// allowed over one address family and denied over the other is two lines,
/// one per family, each with `"family"`: no line claims more than is true.
/// An external end adds the address it was decided with (`srcAddress`,
/// `dstAddress`).
///
/// The output can be many GB: every piece of a line is formatted once (a
/// row's source, a column's destination, a port), rows are formatted in
/// parallel and written in order.
pub fn json(out: &mut impl Write, grid: &Grid) -> io::Result<()> {
    let heads: Vec<Vec<u8>> = grid
        .rows
        .iter()
        .map(|&n| format!(",\n{{\"src\":{},\"dst\":", quote(grid.name(n))).into_bytes())
        .collect();
    let dsts: Vec<Vec<u8>> = grid
        .cols
        .iter()
        .map(|&n| quote(grid.name(n)).into_bytes())
        .collect();
    let address = |key: &str, n: Node| match grid.address(n) {
        Some(a) => format!("\"{key}\":\"{a}\",").into_bytes(),
        None => Vec::new(),
    };
    let src_addresses: Vec<Vec<u8>> = grid
        .rows
        .iter()
        .map(|&n| address("srcAddress", n))
        .collect();
    let dst_addresses: Vec<Vec<u8>> = grid
        .cols
        .iter()
        .map(|&n| address("dstAddress", n))
        .collect();
    let ports = PortPieces::new(grid, |port, protocol| {
        format!(",\"port\":{port},\"protocol\":\"{protocol}\",")
    });
    let families = Family::ALL.map(|f| format!("\"family\":\"{f}\",").into_bytes());
    let row = |&r: &usize, buf: &mut Vec<u8>| {
        let mut line = |c: usize, port: &[u8], family: Option<usize>, allowed: bool| {
            buf.extend_from_slice(&heads[r]);
            buf.extend_from_slice(&dsts[c]);
            buf.extend_from_slice(port);
            if let Some(f) = family {
                buf.extend_from_slice(&families[f]);
            }
            buf.extend_from_slice(&src_addresses[r]);
            buf.extend_from_slice(&dst_addresses[c]);
            buf.extend_from_slice(if allowed {
                b"\"allowed\":true}"
            } else {
                b"\"allowed\":false}"
            });
        };
        grid.for_each_in_row(grid.rows[r], |c, at, decided| {
            let port = ports.get(at);
            match decided.only {
                None => line(c, port, None, decided.allowed),
                Some(only) => {
                    for (i, f) in Family::ALL.into_iter().enumerate() {
                        line(c, port, Some(i), f == only);
                    }
                }
            }
        });
    };
    out.write_all(b"{\"connections\":[")?;
    write_rows(
        grid,
        100,
        row,
        ordered::json_elements(|bytes| out.write_all(bytes)),
    )?;
    out.write_all(b"\n]}\n")
}

/// Formats every row with `row` and hands the bytes to `sink` in row
/// order, reporting progress; `cell_bytes` is about what one cell takes.
fn write_rows(
    grid: &Grid,
    cell_bytes: usize,
    row: impl Fn(&usize, &mut Vec<u8>) + Sync,
    sink: impl FnMut(&[u8]) -> io::Result<()>,
) -> io::Result<()> {
    let mut progress = Progress::new("writing connections", grid.size_hint());
    let row_cells = grid.size_hint() / grid.rows.len().max(1);
    let rows: Vec<usize> = (0..grid.rows.len()).collect();
    ordered::write_in_order(
        &rows,
        ordered::per_chunk(row_cells * cell_bytes),
        row,
        sink,
        |done| progress.tick(done * row_cells),
    )
}

/// A piece of every line formatted once per port: per class matrix column
/// and per external port.
struct PortPieces {
    columns: Vec<Vec<u8>>,
    external: Vec<Vec<u8>>,
}

impl PortPieces {
    fn new(grid: &Grid, piece: impl Fn(u16, Protocol) -> String) -> PortPieces {
        PortPieces {
            columns: grid
                .matrix
                .matrix
                .columns
                .iter()
                .map(|c| piece(c.port, c.protocol).into_bytes())
                .collect(),
            external: grid
                .external_ports
                .iter()
                .map(|&(p, proto)| piece(p, proto).into_bytes())
                .collect(),
        }
    }

    fn get(&self, at: PortAt) -> &[u8] {
        match at {
            PortAt::Column(k) => &self.columns[k],
            PortAt::External(k) => &self.external[k],
        }
    }
}

fn quote(s: &str) -> String {
    serde_json::to_string(s).expect("strings serialize")
}

/// Every endpoint's id as a JSON string, quoted once for all its connections.
pub fn quoted_ids(cluster: &Cluster) -> Vec<String> {
    cluster
        .endpoints
        .iter()
        .map(|e| serde_json::to_string(&e.id()).expect("strings serialize"))
        .collect()
}

/// The keys every connection object of the matrix contract starts with
/// (`family` only for a connection whose answer differs per family); the
/// caller adds `allowed` (and, for probe, what was measured) and the `}`.
pub fn connection_start(
    out: &mut impl Write,
    ids: &[String],
    src: usize,
    dst: usize,
    port: u16,
    protocol: Protocol,
    family: Option<Family>,
) -> io::Result<()> {
    write!(
        out,
        "\n{{\"src\":{},\"dst\":{},\"port\":{port},\"protocol\":\"{protocol}\",",
        ids[src], ids[dst]
    )?;
    if let Some(f) = family {
        write!(out, "\"family\":\"{f}\",")?;
    }
    Ok(())
}

pub fn csv(out: &mut impl Write, grid: &Grid) -> io::Result<()> {
    // A `family` column only where some connection needs it, so that
    // single-stack clusters keep the five columns.
    let families = grid.has_one_family();
    writeln!(
        out,
        "src,dst,port,protocol,allowed{}",
        if families { ",family" } else { "" }
    )?;
    let heads: Vec<Vec<u8>> = grid
        .rows
        .iter()
        .map(|&n| format!("{},", grid.name(n)).into_bytes())
        .collect();
    let dsts: Vec<&[u8]> = grid.cols.iter().map(|&n| grid.name(n).as_bytes()).collect();
    let ports = PortPieces::new(grid, |port, protocol| format!(",{port},{protocol},"));
    let end: &[u8] = if families { b",\n" } else { b"\n" };
    let family_ends = Family::ALL.map(|f| format!(",{f}\n").into_bytes());
    let row = |&r: &usize, buf: &mut Vec<u8>| {
        let mut line = |c: usize, port: &[u8], allowed: bool, end: &[u8]| {
            buf.extend_from_slice(&heads[r]);
            buf.extend_from_slice(dsts[c]);
            buf.extend_from_slice(port);
            buf.extend_from_slice(if allowed { b"true" } else { b"false" });
            buf.extend_from_slice(end);
        };
        grid.for_each_in_row(grid.rows[r], |c, at, decided| {
            let port = ports.get(at);
            match decided.only {
                None => line(c, port, decided.allowed, end),
                // As in the JSON: one row per family when the answer differs.
                Some(only) => {
                    for (i, f) in Family::ALL.into_iter().enumerate() {
                        line(c, port, f == only, &family_ends[i]);
                    }
                }
            }
        });
    };
    write_rows(grid, 60, row, |bytes| out.write_all(bytes))
}

/// Row labels longer than this are cut with an ellipsis: the grid stays
/// readable, and no width reaches what `format!` can pad (65,535). The
/// destination list above the grid has every name in full.
const MAX_LABEL: usize = 100;

/// `text` in exactly `width` characters: cut with `…`, or padded.
fn fit(text: &str, width: usize) -> String {
    let len = text.chars().count();
    if len > width {
        let mut cut: String = text.chars().take(width.saturating_sub(1)).collect();
        cut.push('…');
        cut
    } else {
        let mut padded = text.to_string();
        padded.extend(std::iter::repeat_n(' ', width - len));
        padded
    }
}

const ALL: char = '#';
const SOME: char = '~';
const NONE: char = '.';

/// The mark of one (source, destination) square: every port allowed, some, or none.
pub fn mark(cells: &[GridCell], ports: usize) -> char {
    // Allowed over one family only counts as partly allowed.
    let fully = cells
        .iter()
        .filter(|c| c.decided.allowed && c.decided.only.is_none())
        .count();
    let some = cells.iter().any(|c| c.decided.allowed);
    match (fully, ports) {
        (_, 0) => ' ',
        (f, p) if f == p => ALL,
        (0, _) if !some => NONE,
        _ => SOME,
    }
}

/// Sources down, destinations across (numbered, with their ports listed
/// first); one mark per cell: every declared port allowed, some, or none.
pub fn table(out: &mut impl Write, grid: &Grid) -> io::Result<()> {
    if grid.cluster.endpoints.is_empty() {
        return writeln!(out, "no endpoints: the input has no pods or workloads");
    }
    let n = grid.cols.len();
    let width = n.to_string().len();
    let col_ports: Vec<Vec<(u16, Protocol)>> = grid.cols.iter().map(|&d| grid.ports(d)).collect();
    writeln!(out, "Destinations:")?;
    for (i, &dst) in grid.cols.iter().enumerate() {
        let ports: Vec<String> = col_ports[i]
            .iter()
            .map(|(p, proto)| format!("{p}/{proto}"))
            .collect();
        let ports = if ports.is_empty() {
            "(no declared ports)".to_string()
        } else {
            ports.join(" ")
        };
        writeln!(out, "  {:>width$}  {}  {}", i + 1, grid.name(dst), ports)?;
    }
    writeln!(out)?;
    let name_width = grid
        .rows
        .iter()
        .map(|&r| grid.name(r).chars().count())
        .max()
        .unwrap_or(0)
        .clamp(6, MAX_LABEL);
    // Column headers: destination numbers written vertically.
    for digit in 0..width {
        let mut line = fit(if digit + 1 == width { "source" } else { "" }, name_width);
        line.push_str("  ");
        for i in 1..=n {
            let label = format!("{i:>width$}");
            line.push(label.as_bytes()[digit] as char);
        }
        writeln!(out, "{}", line.trim_end())?;
    }
    let mut partly = Vec::new();
    let (mut total, mut allowed, mut one_family) = (0usize, 0usize, 0usize);
    let mut cells: Vec<GridCell> = Vec::new();
    for &src in &grid.rows {
        let mut line = fit(grid.name(src), name_width);
        line.push_str("  ");
        for (k, &dst) in grid.cols.iter().enumerate() {
            grid.pair_into(src, dst, &mut cells);
            cells.retain(|c| grid.keeps(c));
            total += cells.len();
            allowed += cells.iter().filter(|c| c.decided.allowed).count();
            one_family += cells.iter().filter(|c| c.decided.only.is_some()).count();
            // With --only, a square none of whose cells is kept stays blank.
            let filtered_out = grid.only.is_some() && cells.is_empty();
            let m = if filtered_out || matches!((src, dst), (Node::External(_), Node::External(_)))
            {
                ' '
            } else {
                mark(&cells, col_ports[k].len())
            };
            line.push_str(&crate::color::mark(m));
            if m == SOME {
                let ports: Vec<String> = cells
                    .iter()
                    .filter(|c| c.decided.allowed)
                    .map(|c| match c.decided.only {
                        Some(f) => format!("{}/{} ({f} only)", c.port, c.protocol),
                        None => format!("{}/{}", c.port, c.protocol),
                    })
                    .collect();
                partly.push(format!(
                    "  {} -> {}: {}",
                    grid.name(src),
                    grid.name(dst),
                    ports.join(" ")
                ));
            }
        }
        writeln!(out, "{}", line.trim_end())?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "{ALL} every declared port allowed   {SOME} some ports allowed   {NONE} denied   (blank: no declared ports)"
    )?;
    if one_family > 0 {
        writeln!(
            out,
            "{SOME} also marks a port allowed over one address family only (IPv4 or IPv6)"
        )?;
    }
    if !grid.externals.is_empty() {
        writeln!(out, "external peers, each decided at one address of it:")?;
        for e in &grid.externals {
            let stands = match e.net {
                Some(net) => format!("the part of {net} no smaller ipBlock network holds"),
                None => "every address no ipBlock names".to_string(),
            };
            writeln!(out, "  {} at {}: {stands}", e.label, e.address)?;
        }
    }
    if !partly.is_empty() {
        writeln!(out, "\nPartly allowed (ports allowed):")?;
        for line in partly {
            writeln!(out, "{line}")?;
        }
    }
    let one_family = if one_family > 0 {
        format!(" ({one_family} over one address family only)")
    } else {
        String::new()
    };
    writeln!(
        out,
        "\n{} endpoints, {} external peers, {} connections, {} allowed{one_family}",
        grid.cluster.endpoints.len(),
        grid.externals.len(),
        total,
        allowed
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cluster(names: &[&str]) -> Cluster {
        let text: String = names
            .iter()
            .enumerate()
            .map(|(i, _)| {
                format!(
                    "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: p{i}\nspec:\n  containers: [{{name: c, image: x, ports: [{{containerPort: 80}}]}}]\n"
                )
            })
            .collect();
        let source = netpol_model::Source {
            name: "t.yaml".into(),
            text,
        };
        let mut c = netpol_model::load_sources(&[source], &Default::default()).unwrap();
        // Longer than validation allows: renderers must cope all the same.
        for (e, name) in c.endpoints.iter_mut().zip(names) {
            e.name = name.to_string();
        }
        c
    }

    fn render(c: &Cluster) -> String {
        let classes = netpol_engine::Classes::new(c);
        let engine = netpol_engine::Engine::new(&classes.reduced);
        let matrix = netpol_engine::ClassMatrix::from_matrix(c, &classes, engine.matrix());
        let grid = Grid::new(c, &engine, &matrix, Vec::new(), Default::default());
        let mut out = Vec::new();
        table(&mut out, &grid).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn a_huge_name_is_cut_in_the_grid_not_a_panic() {
        // `default/` makes the id longer than the 65,535 `format!` can pad.
        let long = "x".repeat(65_530);
        let c = cluster(&[&long, "web"]);
        let text = render(&c);
        let row = text
            .lines()
            .find(|l| l.starts_with("default/xxx"))
            .expect("a row for the long name");
        let label: String = row.chars().take(MAX_LABEL).collect();
        assert_eq!(label, format!("default/{}…", "x".repeat(MAX_LABEL - 9)));
        assert_eq!(row.chars().count(), MAX_LABEL + 2 + 2, "{row}");
        let web = text
            .lines()
            .find(|l| l.starts_with("default/web "))
            .unwrap();
        assert_eq!(web.chars().count(), MAX_LABEL + 2 + 2, "{web}");
        // The destination list names it in full.
        assert!(text.contains(&format!("  default/{long}  80/TCP")), "list");
    }

    #[test]
    fn short_names_are_padded_as_before() {
        let text = render(&cluster(&["a", "web"]));
        assert!(
            text.contains("\nsource       12\ndefault/a    ##\ndefault/web  ##\n"),
            "{text}"
        );
    }
}
