//! The matrix as JSON (the contract other tools read), CSV, and a grid for people.

use std::io::{self, Write};

use netpol_engine::Matrix;
use netpol_model::{Cluster, Family, Protocol};

use super::progress::Progress;

/// `{"connections":[...]}`, one connection per line so that it diffs well,
/// written as it is produced rather than built in memory. A connection
/// allowed over one address family and denied over the other is two lines,
/// one per family, each with `"family"`: no line claims more than is true.
pub fn json(out: &mut impl Write, cluster: &Cluster, matrix: &Matrix) -> io::Result<()> {
    let ids = quoted_ids(cluster);
    out.write_all(b"{\"connections\":[")?;
    let mut progress = Progress::new("writing connections", matrix.len());
    for (i, c) in matrix.cells().enumerate() {
        progress.tick(i);
        if i > 0 {
            out.write_all(b",")?;
        }
        match c.only {
            None => {
                connection_start(out, &ids, c.src, c.dst, c.port, c.protocol, None)?;
                write!(out, "\"allowed\":{}}}", c.allowed)?;
            }
            Some(only) => {
                for (k, f) in Family::ALL.into_iter().enumerate() {
                    if k > 0 {
                        out.write_all(b",")?;
                    }
                    connection_start(out, &ids, c.src, c.dst, c.port, c.protocol, Some(f))?;
                    write!(out, "\"allowed\":{}}}", f == only)?;
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

pub fn csv(out: &mut impl Write, cluster: &Cluster, matrix: &Matrix) -> io::Result<()> {
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
    for (i, c) in matrix.cells().enumerate() {
        progress.tick(i);
        let (src, dst) = (&ids[c.src], &ids[c.dst]);
        match c.only {
            None => writeln!(
                out,
                "{src},{dst},{},{},{}{}",
                c.port,
                c.protocol,
                c.allowed,
                if families { "," } else { "" }
            )?,
            // As in the JSON: one row per family when the answer differs.
            Some(only) => {
                for f in Family::ALL {
                    writeln!(
                        out,
                        "{src},{dst},{},{},{},{f}",
                        c.port,
                        c.protocol,
                        f == only
                    )?;
                }
            }
        }
    }
    Ok(())
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
        .map(|e| e.id().chars().count())
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
    for src in 0..n {
        let mut line = fit(&cluster.endpoints[src].id(), name_width);
        line.push_str("  ");
        for &(s, t) in &ranges {
            let cols = &matrix.columns[s..t];
            // Allowed over one family only counts as partly allowed.
            let allowed = cols
                .iter()
                .filter(|c| c.allowed.contains(src) && c.only_over(src).is_none())
                .count();
            let some = cols.iter().any(|c| c.allowed.contains(src));
            line.push(match (allowed, cols.len()) {
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
                .map(|c| match c.only_over(src) {
                    Some(f) => format!("{}/{} ({f} only)", c.port, c.protocol),
                    None => format!("{}/{}", c.port, c.protocol),
                })
                .collect();
            let partly =
                allowed.len() < cols.len() || cols.iter().any(|c| c.only_over(src).is_some());
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
        let matrix = netpol_engine::Engine::new(c).matrix();
        let mut out = Vec::new();
        table(&mut out, c, &matrix).unwrap();
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
        assert!(
            text.contains(&format!("  1  default/{long}  80/TCP")),
            "list"
        );
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
