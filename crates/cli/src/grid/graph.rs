//! The grid as a graph of workloads: pods count under the workload that owns
//! them, one edge per pair of workloads with the ports allowed between them.

use std::collections::BTreeMap;

use netpol_model::Protocol;

use super::{Grid, Node};

/// A workload or an external peer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Vertex {
    /// `namespace/name`, or the external peer's label.
    pub id: String,
    /// The name without its namespace.
    pub label: String,
    /// `None` for an external peer.
    pub namespace: Option<String>,
}

/// Ports between two vertices, each allowed for every pod pair or only some.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Edge {
    pub src: usize,
    pub dst: usize,
    /// Ports allowed between every pod of the source and every pod of the destination.
    pub allowed: Vec<(u16, Protocol)>,
    /// Ports allowed between some of their pods only (or over one address family only).
    pub partly: Vec<(u16, Protocol)>,
    /// Ports allowed between none of their pods.
    pub denied: Vec<(u16, Protocol)>,
}

impl Edge {
    pub fn is_allowed(&self) -> bool {
        !self.allowed.is_empty() || !self.partly.is_empty()
    }

    /// `80/TCP 443/TCP 9090/TCP (partly)`.
    pub fn allowed_label(&self) -> String {
        let mut parts: Vec<String> = self.allowed.iter().map(|p| port(*p)).collect();
        parts.extend(self.partly.iter().map(|p| format!("{} (partly)", port(*p))));
        parts.join(" ")
    }

    pub fn denied_label(&self) -> String {
        self.denied
            .iter()
            .map(|p| port(*p))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

fn port((p, proto): (u16, Protocol)) -> String {
    format!("{p}/{proto}")
}

#[derive(Clone, Debug, Default)]
pub struct Graph {
    /// Sorted by id.
    pub vertices: Vec<Vertex>,
    /// Sorted by source and destination; between distinct vertices only.
    pub edges: Vec<Edge>,
}

impl Graph {
    /// The vertices of each namespace, in name order; external peers under `None`.
    pub fn by_namespace(&self) -> BTreeMap<Option<&str>, Vec<usize>> {
        by_namespace(&self.vertices)
    }
}

/// The indexes of `vertices` in each namespace, in name order; external
/// peers under `None` (which sorts first).
pub fn by_namespace(vertices: &[Vertex]) -> BTreeMap<Option<&str>, Vec<usize>> {
    let mut groups: BTreeMap<Option<&str>, Vec<usize>> = BTreeMap::new();
    for (i, v) in vertices.iter().enumerate() {
        groups.entry(v.namespace.as_deref()).or_default().push(i);
    }
    groups
}

impl Grid<'_> {
    /// The workloads and external peers of the kept rows and columns, by
    /// id, and the vertex of each row and of each column.
    pub fn vertices(&self) -> (Vec<Vertex>, Vec<usize>, Vec<usize>) {
        let workload_of = |n: Node| match n {
            Node::Endpoint(i) => self.cluster.workload(i),
            Node::External(_) => self.name(n).to_string(),
        };
        let mut ids: BTreeMap<String, Option<String>> = BTreeMap::new();
        for &n in self.rows.iter().chain(&self.cols) {
            let ns = match n {
                Node::Endpoint(i) => Some(self.cluster.endpoints[i].namespace.clone()),
                Node::External(_) => None,
            };
            ids.insert(workload_of(n), ns);
        }
        let vertices: Vec<Vertex> = ids
            .into_iter()
            .map(|(id, namespace)| Vertex {
                label: match &namespace {
                    Some(ns) => id
                        .strip_prefix(&format!("{ns}/"))
                        .unwrap_or(&id)
                        .to_string(),
                    None => id.clone(),
                },
                id,
                namespace,
            })
            .collect();
        let index = |id: &str| {
            vertices
                .binary_search_by(|v| v.id.as_str().cmp(id))
                .expect("every workload is a vertex")
        };
        let row_v: Vec<usize> = self.rows.iter().map(|&n| index(&workload_of(n))).collect();
        let col_v: Vec<usize> = self.cols.iter().map(|&n| index(&workload_of(n))).collect();
        (vertices, row_v, col_v)
    }

    /// The kept cells summed per pair of workloads. A workload's traffic with
    /// itself is left out: a graph shows who talks to whom.
    pub fn graph(&self) -> Graph {
        let (vertices, row_v, col_v) = self.vertices();
        // One source vertex at a time, so that memory stays that of one row
        // of vertices: per (destination, port), the cells allowed outright,
        // allowed at all, and in all.
        let mut rows_of: Vec<Vec<Node>> = vec![Vec::new(); vertices.len()];
        for (r, &src) in self.rows.iter().enumerate() {
            rows_of[row_v[r]].push(src);
        }
        let mut edges: Vec<Edge> = Vec::new();
        let mut cells = Vec::new();
        for (sv, sources) in rows_of.iter().enumerate() {
            let mut row: BTreeMap<(usize, (u16, Protocol)), [usize; 3]> = BTreeMap::new();
            for &src in sources {
                for (c, &dst) in self.cols.iter().enumerate() {
                    if sv == col_v[c] {
                        continue;
                    }
                    self.pair_into(src, dst, &mut cells);
                    for cell in &cells {
                        let e = row
                            .entry((col_v[c], (cell.port, cell.protocol)))
                            .or_default();
                        // Over one family only is partly, never fully, allowed.
                        e[0] += usize::from(cell.decided.allowed && cell.decided.only.is_none());
                        e[1] += usize::from(cell.decided.allowed);
                        e[2] += 1;
                    }
                }
            }
            for ((dv, p), [full, any, all]) in row {
                if edges.last().is_none_or(|e| (e.src, e.dst) != (sv, dv)) {
                    edges.push(Edge {
                        src: sv,
                        dst: dv,
                        ..Edge::default()
                    });
                }
                let e = edges.last_mut().expect("just pushed");
                if full == all {
                    e.allowed.push(p);
                } else if any == 0 {
                    e.denied.push(p);
                } else {
                    e.partly.push(p);
                }
            }
        }
        Graph { vertices, edges }
    }
}
