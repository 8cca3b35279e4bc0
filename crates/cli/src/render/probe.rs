//! `netpol probe` output: the matrix JSON with what was measured, and the
//! comparison with the engine.

use std::collections::HashMap;
use std::io::{self, Write};

use netpol_engine::{ClassMatrix, Classes, Column, Engine, FamilySplit, Matrix};

use crate::grid::{Grid, Narrow};
use netpol_model::{Cluster, Family, Protocol};
use netpol_nft::probe::{Job, Outcome};

use super::matrix::{connection_start, quoted_ids};

/// The `netpol matrix -o json` document, each connection with `"measured"`:
/// true with the kernel's answer in `"allowed"`, or false with `"allowed":
/// null` and the reason in `"untestable"`. With `engine`, each connection
/// also carries the engine's answer.
pub fn json(
    out: &mut impl Write,
    cluster: &Cluster,
    jobs: &[Job],
    outcomes: &[Outcome],
    engine: Option<&[bool]>,
) -> io::Result<()> {
    let ids = quoted_ids(cluster);
    out.write_all(b"{\"connections\":[")?;
    for (k, (job, outcome)) in jobs.iter().zip(outcomes).enumerate() {
        if k > 0 {
            out.write_all(b",")?;
        }
        connection_start(
            out,
            &ids,
            job.src,
            job.dst,
            job.port,
            job.protocol,
            job.family,
        )?;
        match outcome {
            Outcome::Allowed => out.write_all(b"\"allowed\":true,\"measured\":true")?,
            Outcome::Denied => out.write_all(b"\"allowed\":false,\"measured\":true")?,
            Outcome::Untestable(why) => write!(
                out,
                "\"allowed\":null,\"measured\":false,\"untestable\":{}",
                serde_json::to_string(why).expect("strings serialize")
            )?,
        }
        if let Some(engine) = engine {
            write!(out, ",\"engine\":{}", engine[k])?;
        }
        out.write_all(b"}")?;
    }
    out.write_all(b"\n]}\n")
}

/// Counts of the comparison.
pub struct Comparison {
    pub agree: usize,
    pub disagree: usize,
    pub untestable: usize,
}

/// Every disagreement, then a summary line.
pub fn comparison(
    out: &mut impl Write,
    cluster: &Cluster,
    jobs: &[Job],
    outcomes: &[Outcome],
    engine: &[bool],
) -> io::Result<Comparison> {
    let mut c = Comparison {
        agree: 0,
        disagree: 0,
        untestable: 0,
    };
    let verb = |allowed: bool| if allowed { "allowed" } else { "denied" };
    for ((job, outcome), &expected) in jobs.iter().zip(outcomes).zip(engine) {
        let measured = match outcome {
            Outcome::Allowed => true,
            Outcome::Denied => false,
            Outcome::Untestable(_) => {
                c.untestable += 1;
                continue;
            }
        };
        if measured == expected {
            c.agree += 1;
            continue;
        }
        c.disagree += 1;
        let family = job.family.map(|f| format!(" over {f}")).unwrap_or_default();
        writeln!(
            out,
            "DISAGREE {} -> {} {}/{}{family}: engine {}, kernel {}",
            cluster.endpoints[job.src].id(),
            cluster.endpoints[job.dst].id(),
            job.port,
            job.protocol,
            verb(expected),
            verb(measured)
        )?;
    }
    writeln!(
        out,
        "{} connections: {} agree, {} disagree, {} not testable",
        jobs.len(),
        c.agree,
        c.disagree,
        c.untestable
    )?;
    Ok(c)
}

/// `netpol matrix`'s table, of what the kernel allowed: a connection is
/// allowed when it was measured allowed (over some family), and the
/// connections that could not be measured are counted below it.
pub fn table(
    out: &mut impl Write,
    cluster: &Cluster,
    decider: &Engine,
    engine: &Matrix,
    jobs: &[Job],
    outcomes: &[Outcome],
    narrow: Narrow,
) -> io::Result<()> {
    let mut columns: Vec<Column> = engine
        .columns
        .iter()
        .map(|c| {
            let mut empty = c.allowed.clone();
            empty.clear();
            Column {
                dst: c.dst,
                port: c.port,
                protocol: c.protocol,
                allowed: empty.clone(),
                split: Some(Box::new(FamilySplit {
                    v4_only: empty.clone(),
                    v6_only: empty,
                })),
            }
        })
        .collect();
    let index: HashMap<(usize, u16, Protocol), usize> = columns
        .iter()
        .enumerate()
        .map(|(k, c)| ((c.dst, c.port, c.protocol), k))
        .collect();
    // Per cell, the families measured allowed.
    let mut allowed_over: HashMap<(usize, usize), Vec<Option<Family>>> = HashMap::new();
    let mut untestable = 0;
    for (job, outcome) in jobs.iter().zip(outcomes) {
        let k = index[&(job.dst, job.port, job.protocol)];
        match outcome {
            Outcome::Allowed => allowed_over
                .entry((k, job.src))
                .or_default()
                .push(job.family),
            Outcome::Denied => {}
            Outcome::Untestable(_) => untestable += 1,
        }
    }
    for ((k, src), families) in allowed_over {
        let column = &mut columns[k];
        column.allowed.insert(src);
        if let ([Some(only)], Some(split)) = (families.as_slice(), column.split.as_mut()) {
            match only {
                Family::V4 => split.v4_only.insert(src),
                Family::V6 => split.v6_only.insert(src),
            }
        }
    }
    for c in &mut columns {
        if c.split
            .as_ref()
            .is_some_and(|s| s.v4_only.is_clear() && s.v6_only.is_clear())
        {
            c.split = None;
        }
    }
    let measured = Matrix {
        endpoints: engine.endpoints,
        columns,
    };
    // Measured per pod: every pod its own class. The probe measures pods
    // only, so the grid has no external peers.
    let classes = Classes::per_pod(cluster);
    let measured = ClassMatrix::from_matrix(cluster, &classes, measured);
    let grid = Grid::new(cluster, decider, &measured, Vec::new(), narrow);
    super::matrix::table(out, &grid)?;
    if untestable > 0 {
        writeln!(
            out,
            "{untestable} connections could not be measured and show as denied (-o json says why)"
        )?;
    }
    Ok(())
}
