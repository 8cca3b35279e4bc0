//! The matrix as JSON (the contract other tools read), CSV, and a grid for people.

use std::io::{self, Write};

use netpol_engine::Matrix;
use netpol_model::{Cluster, Protocol};

use super::progress::Progress;

/// `{"connections":[...]}`, one connection per line so that it diffs well,
/// written as it is produced rather than built in memory.
pub fn json(out: &mut impl Write, cluster: &Cluster, matrix: &Matrix) -> io::Result<()> {
    let ids = quoted_ids(cluster);
    out.write_all(b"{\"connections\":[")?;
    let mut progress = Progress::new("writing connections", matrix.len());
    for (i, c) in matrix.cells().enumerate() {
        progress.tick(i);
        if i > 0 {
            out.write_all(b",")?;
        }
        connection_start(out, &ids, c.src, c.dst, c.port, c.protocol)?;
        write!(out, "\"allowed\":{}}}", c.allowed)?;
    }
    out.write_all(b"\n]}\n")
}

/// Every endpoint's id as a JSON string, quoted once for all its connections.
pub fn quoted_ids(cluster: &Cluster) -> Vec<String> {
    cluster
        .endpoints
        .iter()
        .map(|e| serde_json::to_string(&e.id()).expect("strings serialize"))
        .collect()
}

/// The keys every connection object of the matrix contract starts with; the
/// caller adds `allowed` (and, for probe, what was measured) and the `}`.
pub fn connection_start(
    out: &mut impl Write,
    ids: &[String],
    src: usize,
    dst: usize,
    port: u16,
    protocol: Protocol,
) -> io::Result<()> {
    write!(
        out,
        "\n{{\"src\":{},\"dst\":{},\"port\":{port},\"protocol\":\"{protocol}\",",
        ids[src], ids[dst]
    )
}

pub fn csv(out: &mut impl Write, cluster: &Cluster, matrix: &Matrix) -> io::Result<()> {
    writeln!(out, "src,dst,port,protocol,allowed")?;
    // Built once: a large matrix has millions of cells per endpoint name.
    let ids: Vec<String> = cluster.endpoints.iter().map(|e| e.id()).collect();
    let mut progress = Progress::new("writing connections", matrix.len());
    for (i, c) in matrix.cells().enumerate() {
        progress.tick(i);
        writeln!(
            out,
            "{},{},{},{},{}",
            ids[c.src], ids[c.dst], c.port, c.protocol, c.allowed
        )?;
    }
    Ok(())
}

const ALL: char = '#';
const SOME: char = '~';
const NONE: char = '.';

/// Sources down, destinations across (numbered, with their ports listed
/// first); one mark per cell: every declared port allowed, some, or none.
pub fn table(out: &mut impl Write, cluster: &Cluster, matrix: &Matrix) -> io::Result<()> {
    let n = cluster.endpoints.len();
    if n == 0 {
        return writeln!(out, "no endpoints: the input has no pods or workloads");
    }
    // Per destination, the range of its columns in the matrix.
    let mut ranges = vec![(0usize, 0usize); n];
    let mut start = 0;
    while start < matrix.columns.len() {
        let dst = matrix.columns[start].dst;
        let mut end = start;
        while end < matrix.columns.len() && matrix.columns[end].dst == dst {
            end += 1;
        }
        ranges[dst] = (start, end);
        start = end;
    }
    let width = n.to_string().len();
    writeln!(out, "Destinations:")?;
    for (i, e) in cluster.endpoints.iter().enumerate() {
        let (s, t) = ranges[i];
        let ports: Vec<String> = matrix.columns[s..t]
            .iter()
            .map(|c| format!("{}/{}", c.port, c.protocol))
            .collect();
        let ports = if ports.is_empty() {
            "(no declared ports)".to_string()
        } else {
            ports.join(" ")
        };
        writeln!(out, "  {:>width$}  {}  {}", i + 1, e.id(), ports)?;
    }
    writeln!(out)?;
    let name_width = cluster
        .endpoints
        .iter()
        .map(|e| e.id().len())
        .max()
        .unwrap_or(0)
        .max(6);
    // Column headers: destination numbers written vertically.
    for digit in 0..width {
        let mut line = format!(
            "{:name_width$}  ",
            if digit + 1 == width { "source" } else { "" }
        );
        for i in 1..=n {
            let label = format!("{i:>width$}");
            line.push(label.as_bytes()[digit] as char);
        }
        writeln!(out, "{}", line.trim_end())?;
    }
    for src in 0..n {
        let mut line = format!("{:name_width$}  ", cluster.endpoints[src].id());
        for &(s, t) in &ranges {
            let cols = &matrix.columns[s..t];
            let allowed = cols.iter().filter(|c| c.allowed.contains(src)).count();
            line.push(match (allowed, cols.len()) {
                (_, 0) => ' ',
                (a, total) if a == total => ALL,
                (0, _) => NONE,
                _ => SOME,
            });
        }
        writeln!(out, "{}", line.trim_end())?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "{ALL} every declared port allowed   {SOME} some ports allowed   {NONE} denied   (blank: no declared ports)"
    )?;
    let some: Vec<String> = (0..n)
        .flat_map(|src| {
            ranges
                .iter()
                .enumerate()
                .map(move |(dst, r)| (src, dst, *r))
        })
        .filter_map(|(src, dst, (s, t))| {
            let cols = &matrix.columns[s..t];
            let allowed: Vec<String> = cols
                .iter()
                .filter(|c| c.allowed.contains(src))
                .map(|c| format!("{}/{}", c.port, c.protocol))
                .collect();
            (!allowed.is_empty() && allowed.len() < cols.len()).then(|| {
                format!(
                    "  {} -> {}: {}",
                    cluster.endpoints[src].id(),
                    cluster.endpoints[dst].id(),
                    allowed.join(" ")
                )
            })
        })
        .collect();
    if !some.is_empty() {
        writeln!(out, "\nPartly allowed (ports allowed):")?;
        for line in some {
            writeln!(out, "{line}")?;
        }
    }
    writeln!(
        out,
        "\n{} endpoints, {} connections, {} allowed",
        n,
        matrix.len(),
        matrix.allowed_count()
    )
}
