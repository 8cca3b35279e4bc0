//! The grid summed per pair of workloads, external peers counting as their
//! own workload, streamed one source workload at a time.

use std::collections::{BTreeMap, BTreeSet};

use netpol_engine::PairSummary;

use super::{Grid, Node};

/// Connections between two workloads (or a workload and an external peer).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pair<'s> {
    pub src: &'s str,
    pub dst: &'s str,
    pub allowed: usize,
    pub connections: usize,
}

impl Grid<'_> {
    /// Calls `f` for every pair of workloads (and external peers) with
    /// connections, in name order, among the kept rows and columns (a
    /// workload is kept when one of its pods is). Only one source's pairs
    /// are held at a time. With `--only allowed` a pair needs one allowed
    /// connection, with `--only denied` one denied.
    pub fn for_each_pair<E>(&self, f: impl FnMut(Pair<'_>) -> Result<(), E>) -> Result<(), E> {
        let workloads: Vec<String> = (0..self.cluster.endpoints.len())
            .map(|i| self.cluster.workload(i))
            .collect();
        let kept = |nodes: &[Node]| -> BTreeSet<&str> {
            nodes
                .iter()
                .filter_map(|n| match n {
                    Node::Endpoint(i) => Some(workloads[*i].as_str()),
                    Node::External(_) => None,
                })
                .collect()
        };
        let (src_kept, dst_kept) = (kept(&self.rows), kept(&self.cols));
        let mut members: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (i, w) in workloads.iter().enumerate() {
            members.entry(w.as_str()).or_default().push(i);
        }
        let ext_rows: Vec<usize> = externals_in(&self.rows);
        let ext_cols: Vec<usize> = externals_in(&self.cols);
        let only = self.only;
        let keep = move |p: &Pair| {
            p.connections > 0
                && match only {
                    None => true,
                    Some(true) => p.allowed > 0,
                    Some(false) => p.allowed < p.connections,
                }
        };
        let mut next_ext_row = 0;
        // Rows of external peers whose label sorts before `before`.
        let mut emit_ext_rows =
            |before: Option<&str>, f: &mut dyn FnMut(Pair<'_>) -> Result<(), E>| -> Result<(), E> {
                while next_ext_row < ext_rows.len() {
                    let x = ext_rows[next_ext_row];
                    let label = self.externals[x].label.as_str();
                    if before.is_some_and(|b| label >= b) {
                        break;
                    }
                    next_ext_row += 1;
                    let mut sums: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
                    for (d, w) in workloads.iter().enumerate() {
                        let w = w.as_str();
                        if !dst_kept.contains(w) {
                            continue;
                        }
                        let (a, b) = self.ranges[d];
                        for k in a..b {
                            let c = &self.matrix.matrix.columns[k];
                            if !self.port_kept((c.port, c.protocol)) {
                                continue;
                            }
                            let s = sums.entry(w).or_default();
                            s.0 += usize::from(self.from_external[x][k].allowed);
                            s.1 += 1;
                        }
                    }
                    for (dst, (allowed, connections)) in sums {
                        let p = Pair {
                            src: label,
                            dst,
                            allowed,
                            connections,
                        };
                        if keep(&p) {
                            f(p)?;
                        }
                    }
                }
                Ok(())
            };
        let to_externals = |src: &str| -> Vec<Pair<'_>> {
            let Some(ms) = members.get(src) else {
                return Vec::new();
            };
            ext_cols
                .iter()
                .map(|&x| {
                    let mut p = Pair {
                        src: "",
                        dst: self.externals[x].label.as_str(),
                        allowed: 0,
                        connections: 0,
                    };
                    for &m in ms {
                        for (k, port) in self.external_ports.iter().enumerate() {
                            if self.port_kept(*port) {
                                p.connections += 1;
                                p.allowed += usize::from(
                                    self.to_external[self.matrix.class_of(m)][x][k].allowed,
                                );
                            }
                        }
                    }
                    p
                })
                .collect()
        };
        let mut row: Vec<(String, usize, usize)> = Vec::new();
        let mut current: Option<String> = None;
        let flush = |src: &str,
                     row: &mut Vec<(String, usize, usize)>,
                     f: &mut dyn FnMut(Pair<'_>) -> Result<(), E>|
         -> Result<(), E> {
            let mut pairs: Vec<Pair> = row
                .iter()
                .map(|(dst, allowed, connections)| Pair {
                    src,
                    dst,
                    allowed: *allowed,
                    connections: *connections,
                })
                .collect();
            pairs.extend(to_externals(src).into_iter().map(|p| Pair { src, ..p }));
            pairs.sort_by(|a, b| a.dst.cmp(b.dst));
            for p in pairs {
                if keep(&p) {
                    f(p)?;
                }
            }
            row.clear();
            Ok(())
        };
        let mut f = f;
        self.matrix.for_each_workload_pair(|p: PairSummary<'_>| {
            if !src_kept.contains(p.src) {
                return Ok(());
            }
            if current.as_deref() != Some(p.src) {
                if let Some(prev) = current.take() {
                    flush(&prev, &mut row, &mut f)?;
                }
                emit_ext_rows(Some(p.src), &mut f)?;
                current = Some(p.src.to_string());
            }
            if dst_kept.contains(p.dst) {
                row.push((p.dst.to_string(), p.allowed, p.connections));
            }
            Ok(())
        })?;
        if let Some(prev) = current.take() {
            flush(&prev, &mut row, &mut f)?;
        }
        emit_ext_rows(None, &mut f)
    }
}

fn externals_in(nodes: &[Node]) -> Vec<usize> {
    nodes
        .iter()
        .filter_map(|n| match n {
            Node::External(x) => Some(*x),
            Node::Endpoint(_) => None,
        })
        .collect()
}
