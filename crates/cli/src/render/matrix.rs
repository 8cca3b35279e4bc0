//! The matrix as JSON (the contract other tools read), CSV, and a grid for people.

use std::io::{self, Write};

use netpol_engine::ClassMatrix;
use netpol_model::{Cluster, Family, Protocol};

use super::progress::Progress;

/// `{"connections":[...]}`, one connection per line so that it diffs well,
/// written as it is produced rather than built in memory. A connection
/// allowed over one address family and denied over the other is two lines,
/// one per family, each with `"family"`: no line claims more than is true.
/// Every piece of a line is formatted once (ids per endpoint, port and
/// protocol per column) and copied per cell: the output can be many GB.
pub fn json(out: &mut impl Write, cluster: &Cluster, matrix: &ClassMatrix) -> io::Result<()> {
    let ids = quoted_ids(cluster);
    let ports: Vec<Vec<u8>> = matrix
        .matrix
        .columns
        .iter()
        .map(|c| format!(",\"port\":{},\"protocol\":\"{}\",", c.port, c.protocol).into_bytes())
        .collect();
    out.write_all(b"{\"connections\":[")?;
    let mut progress = Progress::new("writing connections", matrix.len());
    let mut done = 0;
    let mut first = true;
    let n = matrix.endpoints();
    for src in 0..n {
        for dst in 0..n {
            let range = matrix.column_range(dst);
            progress.tick(done);
            done += range.len();
            for k in range {
                let c = &matrix.matrix.columns[k];
                let (allowed, only) = matrix.cell(src, dst, c);
                let port = &ports[k];
                let mut line = |family: Option<Family>, allowed: bool| {
                    if !first {
                        out.write_all(b",")?;
                    }
                    first = false;
                    out.write_all(b"\n{\"src\":")?;
                    out.write_all(ids[src].as_bytes())?;
                    out.write_all(b",\"dst\":")?;
                    out.write_all(ids[dst].as_bytes())?;
                    out.write_all(port)?;
                    if let Some(f) = family {
                        out.write_all(match f {
                            Family::V4 => b"\"family\":\"IPv4\",",
                            Family::V6 => b"\"family\":\"IPv6\",",
                        })?;
                    }
                    out.write_all(if allowed {
                        b"\"allowed\":true}"
                    } else {
                        b"\"allowed\":false}"
                    })
                };
                match only {
                    None => line(None, allowed)?,
                    Some(only) => {
                        for f in Family::ALL {
                            line(Some(f), f == only)?;
                        }
                    }
                }
            }
        }
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

pub fn csv(out: &mut impl Write, cluster: &Cluster, matrix: &ClassMatrix) -> io::Result<()> {
    // A `family` column only where some connection needs it, so that
    // single-stack clusters keep the five columns.
    let families = matrix.one_family_count() > 0;
    writeln!(
        out,
        "src,dst,port,protocol,allowed{}",
        if families { ",family" } else { "" }
    )?;
    // Built once: a large matrix has millions of cells per endpoint name.
    let ids: Vec<String> = cluster.endpoints.iter().map(|e| e.id()).collect();
    let mut progress = Progress::new("writing connections", matrix.len());
    let mut done = 0;
    let n = matrix.endpoints();
    let end: &[u8] = if families { b",\n" } else { b"\n" };
    let ports: Vec<String> = matrix
        .matrix
        .columns
        .iter()
        .map(|c| format!(",{},{},", c.port, c.protocol))
        .collect();
    for src in 0..n {
        for dst in 0..n {
            let range = matrix.column_range(dst);
            progress.tick(done);
            done += range.len();
            for k in range {
                let c = &matrix.matrix.columns[k];
                let (allowed, only) = matrix.cell(src, dst, c);
                let port = &ports[k];
                let mut row = |allowed: bool, family: &[u8]| {
                    out.write_all(ids[src].as_bytes())?;
                    out.write_all(b",")?;
                    out.write_all(ids[dst].as_bytes())?;
                    out.write_all(port.as_bytes())?;
                    out.write_all(if allowed { b"true" } else { b"false" })?;
                    out.write_all(family)
                };
                match only {
                    None => row(allowed, end)?,
                    // As in the JSON: one row per family when the answer differs.
                    Some(only) => {
                        for f in Family::ALL {
                            row(
                                f == only,
                                match f {
                                    Family::V4 => b",IPv4\n",
                                    Family::V6 => b",IPv6\n",
                                },
                            )?;
                        }
                    }
                }
            }
        }
    }
    Ok(())
}

const ALL: char = '#';
const SOME: char = '~';
const NONE: char = '.';

/// Sources down, destinations across (numbered, with their ports listed
/// first); one mark per cell: every declared port allowed, some, or none.
pub fn table(out: &mut impl Write, cluster: &Cluster, matrix: &ClassMatrix) -> io::Result<()> {
    let n = cluster.endpoints.len();
    if n == 0 {
        return writeln!(out, "no endpoints: the input has no pods or workloads");
    }
    // Per (source, destination): each declared port's (port, protocol, allowed, only).
    let row = |src: usize, dst: usize| {
        matrix.columns(dst).iter().map(move |c| {
            let (allowed, only) = matrix.cell(src, dst, c);
            (c.port, c.protocol, allowed, only)
        })
    };
    let width = n.to_string().len();
    writeln!(out, "Destinations:")?;
    for (i, e) in cluster.endpoints.iter().enumerate() {
        let ports: Vec<String> = matrix
            .columns(i)
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
        for dst in 0..n {
            // Allowed over one family only counts as partly allowed.
            let allowed = row(src, dst)
                .filter(|(_, _, a, only)| *a && only.is_none())
                .count();
            let some = row(src, dst).any(|(_, _, a, _)| a);
            line.push(match (allowed, matrix.columns(dst).len()) {
                (0, n) if n > 0 && some => SOME,
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
    if matrix.one_family_count() > 0 {
        writeln!(
            out,
            "{SOME} also marks a port allowed over one address family only (IPv4 or IPv6)"
        )?;
    }
    let some: Vec<String> = (0..n)
        .flat_map(|src| (0..n).map(move |dst| (src, dst)))
        .filter_map(|(src, dst)| {
            let allowed: Vec<String> = row(src, dst)
                .filter(|(_, _, a, _)| *a)
                .map(|(port, protocol, _, only)| match only {
                    Some(f) => format!("{port}/{protocol} ({f} only)"),
                    None => format!("{port}/{protocol}"),
                })
                .collect();
            let partly = allowed.len() < matrix.columns(dst).len()
                || row(src, dst).any(|(_, _, _, only)| only.is_some());
            (!allowed.is_empty() && partly).then(|| {
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
    let one_family = matrix.one_family_count();
    let one_family = if one_family > 0 {
        format!(" ({one_family} over one address family only)")
    } else {
        String::new()
    };
    writeln!(
        out,
        "\n{} endpoints, {} connections, {} allowed{one_family}",
        n,
        matrix.len(),
        matrix.allowed_count()
    )
}
