//! Every connection at once: for each destination port, the set of sources
//! allowed to reach it, computed as unions of the compiled rules' bitsets.

use fixedbitset::FixedBitSet;
use netpol_model::{Cluster, Family, Protocol};
use rayon::prelude::*;

use crate::compile::Engine;

/// One destination port and the sources allowed to reach it.
pub struct Column {
    pub dst: usize,
    pub port: u16,
    pub protocol: Protocol,
    /// Bit `s` set: source endpoint `s` may connect, over at least one
    /// address family the two have in common.
    pub allowed: FixedBitSet,
    /// Sources allowed over one family and denied over the other, though
    /// both ends could use either (dual-stack, with an ipBlock deciding).
    /// `None` when there are none, as in every single-stack cluster.
    pub split: Option<Box<FamilySplit>>,
}

/// Sources that a column allows over one address family only.
pub struct FamilySplit {
    pub v4_only: FixedBitSet,
    pub v6_only: FixedBitSet,
}

impl Column {
    /// The one family `src` is allowed over, when it is denied over the other.
    pub fn only_over(&self, src: usize) -> Option<Family> {
        let split = self.split.as_ref()?;
        if split.v4_only.contains(src) {
            Some(Family::V4)
        } else if split.v6_only.contains(src) {
            Some(Family::V6)
        } else {
            None
        }
    }
}

pub struct Matrix {
    pub endpoints: usize,
    /// Sorted by destination, port, protocol.
    pub columns: Vec<Column>,
}

/// One cell of the matrix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cell {
    pub src: usize,
    pub dst: usize,
    pub port: u16,
    pub protocol: Protocol,
    /// Allowed over at least one address family.
    pub allowed: bool,
    /// Set when allowed over this family only, and denied over the other one
    /// both ends have.
    pub only: Option<Family>,
}

impl Matrix {
    /// Cells ordered by source, destination, port and protocol.
    pub fn cells(&self) -> impl Iterator<Item = Cell> + '_ {
        (0..self.endpoints).flat_map(move |src| {
            self.columns.iter().map(move |c| Cell {
                src,
                dst: c.dst,
                port: c.port,
                protocol: c.protocol,
                allowed: c.allowed.contains(src),
                only: c.only_over(src),
            })
        })
    }

    pub fn len(&self) -> usize {
        self.endpoints * self.columns.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn allowed_count(&self) -> usize {
        self.columns.iter().map(|c| c.allowed.count_ones(..)).sum()
    }

    /// Connections allowed over one address family only.
    pub fn one_family_count(&self) -> usize {
        self.columns
            .iter()
            .filter_map(|c| c.split.as_ref())
            .map(|s| s.v4_only.count_ones(..) + s.v6_only.count_ones(..))
            .sum()
    }
}

impl Engine<'_> {
    /// The (port, protocol) pairs a destination declares, the matrix's columns for it.
    pub fn declared_ports(&self, dst: usize) -> Vec<(u16, Protocol)> {
        self.cluster.endpoints[dst].declared_ports()
    }

    pub fn matrix(&self) -> Matrix {
        let n = self.endpoint_count();
        let nodes = self.node_groups();
        let columns: Vec<Column> = (0..n)
            .into_par_iter()
            .flat_map_iter(|dst| {
                let nodes = &nodes;
                self.declared_ports(dst)
                    .into_iter()
                    .map(move |(port, protocol)| self.column(dst, port, protocol, nodes))
            })
            .collect();
        Matrix {
            endpoints: n,
            columns,
        }
    }

    /// The columns of `dst` on each of `probes`, declared ports or not.
    pub fn columns_on(&self, dst: usize, probes: &[(u16, Protocol)]) -> Vec<Column> {
        let nodes = self.node_groups();
        probes
            .iter()
            .map(|&(port, protocol)| self.column(dst, port, protocol, &nodes))
            .collect()
    }

    /// Sources allowed to reach `dst` on `port`/`protocol` (over some family).
    pub fn allowed_sources_for(&self, dst: usize, port: u16, protocol: Protocol) -> FixedBitSet {
        self.column(dst, port, protocol, &self.node_groups())
            .allowed
    }
}

/// Connections between two workloads, summed over their pods and ports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PairSummary<'a> {
    pub src: &'a str,
    pub dst: &'a str,
    /// The workloads' positions in name order, for callers that format
    /// each name once.
    pub src_index: usize,
    pub dst_index: usize,
    pub allowed: usize,
    pub connections: usize,
}

impl Matrix {
    /// Calls `f` for every (source workload, destination workload) pair that
    /// has connections, in name order. Pods count under the workload that owns
    /// them, so a cluster of many replicas shrinks to its workloads; memory
    /// stays proportional to the number of workloads.
    pub fn for_each_workload_pair<E>(
        &self,
        cluster: &Cluster,
        mut f: impl FnMut(PairSummary<'_>) -> Result<(), E>,
    ) -> Result<(), E> {
        let names: Vec<String> = (0..self.endpoints).map(|i| cluster.workload(i)).collect();
        let mut workloads: Vec<&str> = names.iter().map(String::as_str).collect();
        workloads.sort_unstable();
        workloads.dedup();
        let index_of = |name: &str| {
            workloads
                .binary_search(&name)
                .expect("every name is listed")
        };
        let mut members = vec![Vec::new(); workloads.len()];
        for (endpoint, name) in names.iter().enumerate() {
            members[index_of(name)].push(endpoint);
        }
        let column_workload: Vec<usize> = self
            .columns
            .iter()
            .map(|c| index_of(&names[c.dst]))
            .collect();
        let mut counts = vec![(0usize, 0usize); workloads.len()];
        for (src, sources) in members.iter().enumerate() {
            counts.fill((0, 0));
            for (column, &dst) in self.columns.iter().zip(&column_workload) {
                let allowed = sources
                    .iter()
                    .filter(|&&s| column.allowed.contains(s))
                    .count();
                counts[dst].0 += allowed;
                counts[dst].1 += sources.len();
            }
            for (dst, &(allowed, connections)) in counts.iter().enumerate() {
                if connections > 0 {
                    f(PairSummary {
                        src: workloads[src],
                        dst: workloads[dst],
                        src_index: src,
                        dst_index: dst,
                        allowed,
                        connections,
                    })?;
                }
            }
        }
        Ok(())
    }
}
