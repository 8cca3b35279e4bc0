//! `matrix --summary`: connections summed per pair of workloads.

use std::io::{self, Write};

use netpol_engine::{ClassMatrix, PairSummary};

/// Names are quoted once each and numbers formatted by hand: a cluster of
/// 15,000 workloads has 150 million pairs.
pub fn json(out: &mut impl Write, matrix: &ClassMatrix) -> io::Result<()> {
    out.write_all(b"{\"pairs\":[")?;
    let mut first = true;
    let mut names = Names::default();
    let mut line = Vec::with_capacity(256);
    matrix.for_each_workload_pair(|p| {
        line.clear();
        if !first {
            line.push(b',');
        }
        first = false;
        line.extend_from_slice(b"\n{\"src\":");
        line.extend_from_slice(names.get(p.src_index, p.src, quote).as_bytes());
        line.extend_from_slice(b",\"dst\":");
        line.extend_from_slice(names.get(p.dst_index, p.dst, quote).as_bytes());
        line.extend_from_slice(b",\"allowed\":");
        push_number(&mut line, p.allowed);
        line.extend_from_slice(b",\"connections\":");
        push_number(&mut line, p.connections);
        line.push(b'}');
        out.write_all(&line)
    })?;
    out.write_all(b"\n]}\n")
}

fn quote(s: &str) -> String {
    serde_json::to_string(s).expect("strings serialize")
}

/// Each workload's name as written, made on first use.
#[derive(Default)]
struct Names(Vec<Option<String>>);

impl Names {
    fn get(&mut self, index: usize, name: &str, write: fn(&str) -> String) -> &str {
        if self.0.len() <= index {
            self.0.resize(index + 1, None);
        }
        self.0[index].get_or_insert_with(|| write(name))
    }
}

fn push_number(out: &mut Vec<u8>, mut n: usize) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

pub fn csv(out: &mut impl Write, matrix: &ClassMatrix) -> io::Result<()> {
    writeln!(out, "src,dst,allowed,connections")?;
    let mut line = Vec::with_capacity(256);
    matrix.for_each_workload_pair(|p| {
        line.clear();
        line.extend_from_slice(p.src.as_bytes());
        line.push(b',');
        line.extend_from_slice(p.dst.as_bytes());
        line.push(b',');
        push_number(&mut line, p.allowed);
        line.push(b',');
        push_number(&mut line, p.connections);
        line.push(b'\n');
        out.write_all(&line)
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
