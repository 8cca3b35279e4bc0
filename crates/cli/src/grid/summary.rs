//! The grid summed per pair of workloads, external peers counting as their
//! own workload. Each source's row is summed on its own, so that writers
//! can sum and format rows in parallel and write them in order, holding a
//! few rows at a time.

use netpol_engine::WorkloadSums;

use super::{Grid, Node};

/// Connections between two workloads (or a workload and an external peer).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pair<'s> {
    pub src: &'s str,
    pub dst: &'s str,
    pub allowed: usize,
    pub connections: usize,
}

/// A source or destination of the summary: a workload (its index in
/// [`WorkloadSums::workloads`]) or an external peer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    Workload(usize),
    External(usize),
}

/// One destination of a source's row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RowPair {
    pub dst: End,
    pub allowed: usize,
    pub connections: usize,
}

pub struct Summary<'g, 'a> {
    grid: &'g Grid<'a>,
    pub sums: WorkloadSums,
    /// Every source, in name order (a source whose row is empty included).
    pub sources: Vec<End>,
    /// Destination workloads kept, in name order.
    dst_workloads: Vec<usize>,
    /// External peers among the columns, in name order.
    ext_cols: Vec<usize>,
    /// Per workload, its pods.
    members: Vec<Vec<usize>>,
    /// Per workload, the classes of its pods and how many pods each:
    /// replicas are mostly of one class, and a class decides alike.
    member_classes: Vec<Vec<(usize, usize)>>,
}

impl<'a> Grid<'a> {
    /// The summary of the kept rows and columns: a workload is kept when one
    /// of its pods is.
    pub fn summary(&self) -> Summary<'_, 'a> {
        let sums = self.matrix.workload_sums();
        let nw = sums.len();
        let kept = |nodes: &[Node]| {
            let mut kept = vec![false; nw];
            for n in nodes {
                if let Node::Endpoint(i) = n {
                    kept[sums.workload_of[*i]] = true;
                }
            }
            kept
        };
        let (src_kept, dst_kept) = (kept(&self.rows), kept(&self.cols));
        let mut members = vec![Vec::new(); nw];
        for (i, &w) in sums.workload_of.iter().enumerate() {
            members[w].push(i);
        }
        let member_classes = members
            .iter()
            .map(|pods| {
                let mut classes: Vec<usize> =
                    pods.iter().map(|&m| self.matrix.class_of(m)).collect();
                classes.sort_unstable();
                let mut counted: Vec<(usize, usize)> = Vec::new();
                for c in classes {
                    match counted.last_mut() {
                        Some((last, n)) if *last == c => *n += 1,
                        _ => counted.push((c, 1)),
                    }
                }
                counted
            })
            .collect();
        // Workload rows in name order, each external peer's row before the
        // first workload whose name sorts after its label.
        let ext_rows = externals_in(&self.rows);
        let mut sources = Vec::new();
        let mut next = 0;
        for w in (0..nw).filter(|&w| src_kept[w]) {
            while next < ext_rows.len()
                && self.externals[ext_rows[next]].label.as_str() < sums.workloads[w].as_str()
            {
                sources.push(End::External(ext_rows[next]));
                next += 1;
            }
            sources.push(End::Workload(w));
        }
        sources.extend(ext_rows[next..].iter().map(|&x| End::External(x)));
        Summary {
            grid: self,
            dst_workloads: (0..nw).filter(|&w| dst_kept[w]).collect(),
            sums,
            sources,
            ext_cols: externals_in(&self.cols),
            members,
            member_classes,
        }
    }

    /// Calls `f` for every pair of workloads (and external peers) with
    /// connections, in name order, among the kept rows and columns. With
    /// `--only allowed` a pair needs one allowed connection, with `--only
    /// denied` one denied.
    pub fn for_each_pair<E>(&self, mut f: impl FnMut(Pair<'_>) -> Result<(), E>) -> Result<(), E> {
        let summary = self.summary();
        let mut row = Vec::new();
        for &src in &summary.sources {
            summary.row(src, &mut row);
            for p in &row {
                f(Pair {
                    src: summary.name(src),
                    dst: summary.name(p.dst),
                    allowed: p.allowed,
                    connections: p.connections,
                })?;
            }
        }
        Ok(())
    }
}

impl Summary<'_, '_> {
    pub fn name(&self, end: End) -> &str {
        match end {
            End::Workload(w) => &self.sums.workloads[w],
            End::External(x) => &self.grid.externals[x].label,
        }
    }

    /// Every name a source or destination can have, for writers that
    /// format each name once: workloads first, then external peers.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.sums
            .workloads
            .iter()
            .map(String::as_str)
            .chain(self.grid.externals.iter().map(|e| e.label.as_str()))
    }

    /// The position of `end`'s name in [`Summary::names`].
    pub fn name_index(&self, end: End) -> usize {
        match end {
            End::Workload(w) => w,
            End::External(x) => self.sums.len() + x,
        }
    }

    /// The pairs of source `src` that the `--only` filter keeps, in
    /// destination name order (`out` is cleared first).
    pub fn row(&self, src: End, out: &mut Vec<RowPair>) {
        out.clear();
        match src {
            End::Workload(w) => self.workload_row(w, out),
            End::External(x) => self.external_row(x, out),
        }
        let only = self.grid.only;
        out.retain(|p| {
            p.connections > 0
                && match only {
                    None => true,
                    Some(true) => p.allowed > 0,
                    Some(false) => p.allowed < p.connections,
                }
        });
    }

    fn workload_row(&self, src: usize, out: &mut Vec<RowPair>) {
        let grid = self.grid;
        let allowed = self.sums.allowed_row(src);
        let mut to_workloads = self.dst_workloads.iter().map(|&dst| RowPair {
            dst: End::Workload(dst),
            allowed: allowed[dst],
            connections: self.sums.connections(src, dst),
        });
        let mut kept = vec![0u64; grid.external_ports.len().div_ceil(64)];
        let mut ports = 0;
        for (k, &port) in grid.external_ports.iter().enumerate() {
            if grid.port_kept(port) {
                kept[k / 64] |= 1 << (k % 64);
                ports += 1;
            }
        }
        let to_externals = self.ext_cols.iter().map(|&x| {
            let mut p = RowPair {
                dst: End::External(x),
                allowed: 0,
                connections: 0,
            };
            for &(class, pods) in &self.member_classes[src] {
                p.connections += ports * pods;
                p.allowed += pods * grid.external.allowed_to(class, x, &kept);
            }
            p
        });
        // Both in name order: merged, a workload first when names tie.
        let mut next = to_workloads.next();
        for e in to_externals {
            let label = self.name(e.dst);
            while let Some(w) = next.filter(|w| self.name(w.dst) <= label) {
                out.push(w);
                next = to_workloads.next();
            }
            out.push(e);
        }
        out.extend(next);
        out.extend(to_workloads);
    }

    fn external_row(&self, x: usize, out: &mut Vec<RowPair>) {
        let grid = self.grid;
        for &w in &self.dst_workloads {
            let mut p = RowPair {
                dst: End::Workload(w),
                allowed: 0,
                connections: 0,
            };
            for &d in &self.members[w] {
                let (a, b) = grid.ranges[d];
                for k in a..b {
                    let c = &grid.matrix.matrix.columns[k];
                    if grid.port_kept((c.port, c.protocol)) {
                        p.allowed += usize::from(grid.external.from(x, k).allowed);
                        p.connections += 1;
                    }
                }
            }
            out.push(p);
        }
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
