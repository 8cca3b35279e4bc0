//! `matrix --summary`: connections summed per pair of workloads.

use std::io::{self, Write};

use netpol_engine::{ClassMatrix, PairSummary};

pub fn json(out: &mut impl Write, matrix: &ClassMatrix) -> io::Result<()> {
    out.write_all(b"{\"pairs\":[")?;
    let mut first = true;
    matrix.for_each_workload_pair(|p| {
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

pub fn csv(out: &mut impl Write, matrix: &ClassMatrix) -> io::Result<()> {
    writeln!(out, "src,dst,allowed,connections")?;
    matrix.for_each_workload_pair(|p| {
        writeln!(out, "{},{},{},{}", p.src, p.dst, p.allowed, p.connections)
    })
}

pub fn table(out: &mut impl Write, matrix: &ClassMatrix) -> io::Result<()> {
    let mut rows: Vec<(String, String, String)> = Vec::new();
    matrix.for_each_workload_pair(|p: PairSummary| {
        let verdict = match (p.allowed, p.connections) {
            (0, _) => "denied".to_string(),
            (a, c) if a == c => format!("allowed ({c})"),
            (a, c) => format!("partly: {a} of {c}"),
        };
        rows.push((p.src.to_string(), p.dst.to_string(), verdict));
        Ok::<(), io::Error>(())
    })?;
    let w_src = rows
        .iter()
        .map(|r| r.0.len())
        .max()
        .unwrap_or(0)
        .max("SOURCE".len());
    let w_dst = rows
        .iter()
        .map(|r| r.1.len())
        .max()
        .unwrap_or(0)
        .max("DESTINATION".len());
    writeln!(
        out,
        "{:w_src$}  {:w_dst$}  CONNECTIONS",
        "SOURCE", "DESTINATION"
    )?;
    for (src, dst, verdict) in rows {
        writeln!(out, "{src:w_src$}  {dst:w_dst$}  {verdict}")?;
    }
    Ok(())
}
