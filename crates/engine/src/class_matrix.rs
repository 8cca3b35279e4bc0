//! The matrix computed once per class and read per pod: a pod's cell is its
//! class's cell, except where NetworkPolicy does not apply (a pod reaching
//! itself, a pod and its own node), which is decided per pod here.

use std::collections::HashMap;
use std::ops::Range;

use fixedbitset::FixedBitSet;
use netpol_model::{Cluster, Family};
use rayon::prelude::*;

use crate::classes::Classes;
use crate::compile::Engine;
use crate::matrix::{Cell, Column, Matrix, PairSummary};
use crate::node_pods::NodePods;

/// Every connection between the pods of a cluster, held per class.
pub struct ClassMatrix<'a> {
    cluster: &'a Cluster,
    classes: &'a Classes,
    /// Over the classes: a column's `dst` and its bits are class indexes.
    pub matrix: Matrix,
    /// Per class: its columns in `matrix.columns`.
    ranges: Vec<Range<usize>>,
}

impl<'a> ClassMatrix<'a> {
    /// Compiles the classes' representatives and computes their matrix.
    pub fn new(cluster: &'a Cluster, classes: &'a Classes) -> ClassMatrix<'a> {
        ClassMatrix::from_matrix(cluster, classes, Engine::new(&classes.reduced).matrix())
    }

    /// From the matrix of `classes.reduced` (computed by the caller, to time
    /// compiling and evaluating apart).
    pub fn from_matrix(
        cluster: &'a Cluster,
        classes: &'a Classes,
        matrix: Matrix,
    ) -> ClassMatrix<'a> {
        let mut ranges = vec![0..0; classes.len()];
        let mut start = 0;
        while start < matrix.columns.len() {
            let dst = matrix.columns[start].dst;
            let end = start
                + matrix.columns[start..]
                    .iter()
                    .take_while(|c| c.dst == dst)
                    .count();
            ranges[dst] = start..end;
            start = end;
        }
        ClassMatrix {
            cluster,
            classes,
            matrix,
            ranges,
        }
    }

    /// The class of pod `i`: the engine endpoint (of `Classes::reduced`) that
    /// stands for it.
    pub fn class_of(&self, i: usize) -> usize {
        self.classes.class_of[i] as usize
    }

    /// How many pods (endpoints) the matrix is over.
    pub fn endpoints(&self) -> usize {
        self.cluster.endpoints.len()
    }

    /// The columns of destination pod `dst` (its declared ports, sorted).
    /// Their `dst` is its class: read cells through [`ClassMatrix::cell`].
    pub fn columns(&self, dst: usize) -> &[Column] {
        &self.matrix.columns[self.column_range(dst)]
    }

    /// Where [`ClassMatrix::columns`] of `dst` are in `matrix.columns`.
    pub fn column_range(&self, dst: usize) -> Range<usize> {
        self.ranges[self.classes.class_of[dst] as usize].clone()
    }

    /// `src -> dst` on one of `dst`'s columns: allowed (over some family),
    /// and the one family it is allowed over when denied over the other.
    pub fn cell(&self, src: usize, dst: usize, column: &Column) -> (bool, Option<Family>) {
        if self.forced(src, dst) {
            return (true, None);
        }
        let class = self.classes.class_of[src] as usize;
        (column.allowed.contains(class), column.only_over(class))
    }

    /// Allowed whatever the policies say: a pod to itself, and a pod and its
    /// own node (a host-network pod on it).
    pub fn forced(&self, src: usize, dst: usize) -> bool {
        if self.classes.per_pod {
            return false;
        }
        let (s, d) = (&self.cluster.endpoints[src], &self.cluster.endpoints[dst]);
        (src == dst && !d.may_be_several_pods())
            || ((s.host_network || d.host_network) && s.node.is_some() && s.node == d.node)
    }

    /// Cells ordered by source, destination, port and protocol, as
    /// [`Matrix::cells`] orders them.
    pub fn cells(&self) -> impl Iterator<Item = Cell> + '_ {
        let n = self.endpoints();
        (0..n).flat_map(move |src| {
            (0..n).flat_map(move |dst| {
                self.columns(dst).iter().map(move |c| {
                    let (allowed, only) = self.cell(src, dst, c);
                    Cell {
                        src,
                        dst,
                        port: c.port,
                        protocol: c.protocol,
                        allowed,
                        only,
                    }
                })
            })
        })
    }

    /// Number of cells.
    pub fn len(&self) -> usize {
        let columns: usize = (0..self.endpoints()).map(|d| self.columns(d).len()).sum();
        self.endpoints() * columns
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn class_size(&self, class: usize) -> usize {
        self.classes.members[class].len()
    }

    /// Pods in the classes of `set`.
    fn pods_in(&self, set: &FixedBitSet) -> usize {
        set.ones().map(|c| self.class_size(c)).sum()
    }

    /// Allowed cells, as [`Matrix::allowed_count`] counts them per pod.
    pub fn allowed_count(&self) -> usize {
        let by_class: usize = self
            .matrix
            .columns
            .par_iter()
            .map(|c| self.class_size(c.dst) * self.pods_in(&c.allowed))
            .sum();
        let mut forced = 0;
        self.for_each_forced(|src, dst| {
            let class = self.classes.class_of[src] as usize;
            forced += self
                .columns(dst)
                .iter()
                .filter(|c| !c.allowed.contains(class))
                .count();
        });
        by_class + forced
    }

    /// Cells allowed over one address family only.
    pub fn one_family_count(&self) -> usize {
        let by_class: usize = self
            .matrix
            .columns
            .iter()
            .filter_map(|c| Some((c.dst, c.split.as_ref()?)))
            .map(|(dst, s)| {
                self.class_size(dst) * (self.pods_in(&s.v4_only) + self.pods_in(&s.v6_only))
            })
            .sum();
        let mut forced = 0;
        self.for_each_forced(|src, dst| {
            let class = self.classes.class_of[src] as usize;
            forced += self
                .columns(dst)
                .iter()
                .filter(|c| c.only_over(class).is_some())
                .count();
        });
        by_class - forced
    }

    /// Calls `f` for every pair of pods whose connections are allowed
    /// whatever the policies say (see [`ClassMatrix::cell`]).
    pub fn for_each_forced(&self, mut f: impl FnMut(usize, usize)) {
        if self.classes.per_pod {
            return;
        }
        let n = self.endpoints();
        let nodes = NodePods::new(self.cluster, 0..n);
        for dst in 0..n {
            if self.forced(dst, dst) {
                f(dst, dst);
            }
            for src in nodes.node_traffic_sources(dst) {
                f(src, dst);
            }
        }
    }

    /// [`Matrix::for_each_workload_pair`] computed from the classes: the
    /// per-pod cells are never visited, so the cost grows with classes and
    /// workloads rather than with pods squared.
    pub fn for_each_workload_pair<E>(
        &self,
        mut f: impl FnMut(PairSummary<'_>) -> Result<(), E>,
    ) -> Result<(), E> {
        let sums = self.workload_sums();
        let nw = sums.len();
        const CHUNK: usize = 64;
        for start in (0..nw).step_by(CHUNK) {
            let end = (start + CHUNK).min(nw);
            let counts: Vec<Vec<usize>> = (start..end)
                .into_par_iter()
                .map(|src| sums.allowed_row(src))
                .collect();
            for (src, allowed) in (start..end).zip(counts) {
                for (dst, &allowed) in allowed.iter().enumerate() {
                    let connections = sums.connections(src, dst);
                    if connections > 0 {
                        f(PairSummary {
                            src: &sums.workloads[src],
                            dst: &sums.workloads[dst],
                            src_index: src,
                            dst_index: dst,
                            allowed,
                            connections,
                        })?;
                    }
                }
            }
        }
        Ok(())
    }

    /// What summing the matrix per pair of workloads needs, prepared once;
    /// each source workload's row is then summed on its own (in parallel,
    /// by callers that write rows as they come).
    pub fn workload_sums(&self) -> WorkloadSums {
        let n = self.endpoints();
        let names: Vec<String> = (0..n).map(|i| self.cluster.workload(i)).collect();
        let mut workloads: Vec<String> = names.clone();
        workloads.sort_unstable();
        workloads.dedup();
        let nw = workloads.len();
        let workload_of: Vec<usize> = names
            .iter()
            .map(|name| workloads.binary_search(name).expect("every name is listed"))
            .collect();
        drop(names);
        let mut pods_of = vec![0usize; nw];
        let mut columns_of = vec![0usize; nw];
        let mut groups: Vec<(usize, u32)> = Vec::with_capacity(n);
        for (i, &w) in workload_of.iter().enumerate() {
            pods_of[w] += 1;
            columns_of[w] += self.columns(i).len();
            groups.push((w, self.classes.class_of[i]));
        }
        groups.sort_unstable();
        // Per workload its classes, per class its workloads, with pod counts.
        let mut classes_of: Vec<Vec<(usize, usize)>> = vec![Vec::new(); nw];
        let mut workloads_of: Vec<Vec<(usize, usize)>> = vec![Vec::new(); self.classes.len()];
        for run in groups.chunk_by(|a, b| a == b) {
            let (w, c) = (run[0].0, run[0].1 as usize);
            classes_of[w].push((c, run.len()));
            workloads_of[c].push((w, run.len()));
        }
        // Per class matrix column, the workloads of its class: what one
        // allowed bit adds to, without going through the class.
        let mut targets_start = Vec::with_capacity(self.matrix.columns.len() + 1);
        let mut targets = Vec::new();
        for c in &self.matrix.columns {
            targets_start.push(targets.len());
            targets.extend(workloads_of[c.dst].iter().copied());
        }
        targets_start.push(targets.len());
        let mut forced: Vec<Vec<(usize, usize)>> = vec![Vec::new(); nw];
        let mut forced_map: HashMap<(usize, usize), usize> = HashMap::new();
        self.for_each_forced(|src, dst| {
            let class = self.classes.class_of[src] as usize;
            let denied = self
                .columns(dst)
                .iter()
                .filter(|c| !c.allowed.contains(class))
                .count();
            if denied > 0 {
                *forced_map
                    .entry((workload_of[src], workload_of[dst]))
                    .or_default() += denied;
            }
        });
        for ((src, dst), extra) in forced_map {
            forced[src].push((dst, extra));
        }
        WorkloadSums {
            workloads,
            workload_of,
            pods_of,
            columns_of,
            classes_of,
            rows: self.rows(),
            targets_start,
            targets,
            forced,
        }
    }
    /// The class matrix transposed: per source class, the columns that allow it.
    fn rows(&self) -> Vec<FixedBitSet> {
        let columns = &self.matrix.columns;
        let k = columns.len();
        // Each worker fills a band of source classes (whole words of the
        // columns' bitsets), reading every column.
        const WORDS: usize = 4;
        let bits = usize::BITS as usize;
        let mut rows = vec![FixedBitSet::with_capacity(k); self.classes.len()];
        rows.par_chunks_mut(WORDS * bits)
            .enumerate()
            .for_each(|(b, band)| {
                for (ki, c) in columns.iter().enumerate() {
                    let words = c.allowed.as_slice();
                    for w in 0..WORDS {
                        let Some(&word) = words.get(b * WORDS + w) else {
                            break;
                        };
                        let mut word = word;
                        while word != 0 {
                            let r = w * bits + word.trailing_zeros() as usize;
                            word &= word - 1;
                            band[r].insert(ki);
                        }
                    }
                }
            });
        rows
    }
}

/// The matrix summed per pair of workloads, one source row at a time; see
/// [`ClassMatrix::workload_sums`].
pub struct WorkloadSums {
    /// Workload names, sorted: a workload's index is its position here.
    pub workloads: Vec<String>,
    /// Per pod, its workload.
    pub workload_of: Vec<usize>,
    pods_of: Vec<usize>,
    columns_of: Vec<usize>,
    classes_of: Vec<Vec<(usize, usize)>>,
    /// Per source class, the class matrix columns that allow it.
    rows: Vec<FixedBitSet>,
    targets_start: Vec<usize>,
    /// Per class matrix column (from `targets_start`), the (workload, pods)
    /// of its destination class.
    targets: Vec<(usize, usize)>,
    /// Per source workload: connections allowed whatever the policies say
    /// (and denied by them), per destination workload.
    forced: Vec<Vec<(usize, usize)>>,
}

impl WorkloadSums {
    /// Number of workloads.
    pub fn len(&self) -> usize {
        self.workloads.len()
    }

    pub fn is_empty(&self) -> bool {
        self.workloads.is_empty()
    }

    /// Pods of workload `w`.
    pub fn pods(&self, w: usize) -> usize {
        self.pods_of[w]
    }

    /// Connections from the pods of `src` to those of `dst`, one per pod
    /// pair and destination port.
    pub fn connections(&self, src: usize, dst: usize) -> usize {
        self.pods_of[src] * self.columns_of[dst]
    }

    /// Allowed connections from workload `src` to every workload (indexed
    /// by workload).
    pub fn allowed_row(&self, src: usize) -> Vec<usize> {
        let mut allowed = vec![0usize; self.len()];
        for &(class, pods) in &self.classes_of[src] {
            for k in self.rows[class].ones() {
                let targets = &self.targets[self.targets_start[k]..self.targets_start[k + 1]];
                for &(dst, dst_pods) in targets {
                    allowed[dst] += pods * dst_pods;
                }
            }
        }
        for &(dst, extra) in &self.forced[src] {
            allowed[dst] += extra;
        }
        allowed
    }
}
