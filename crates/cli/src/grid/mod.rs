//! The matrix as people read it: the engine's endpoint matrix plus the
//! external peers, whose cells the engine decides one representative address
//! at a time, narrowed to the rows, columns and ports asked for.
//!
//! The endpoint matrix is held per class of pods ([`ClassMatrix`]) and read
//! per pod; the external cells are decided per class too (a class is what
//! policies can tell apart, an address included).

use netpol_engine::{ClassMatrix, Engine};

mod external_cells;
pub mod graph;
pub mod ordered;
pub mod summary;
#[cfg(test)]
mod writers_tests;
use netpol_model::{Cluster, Family, Protocol};

use crate::external::{External, external_ports};
use external_cells::ExternalCells;

/// A row or column: an endpoint, or an external peer (index into `Grid::externals`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Node {
    Endpoint(usize),
    External(usize),
}

/// One decided connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decided {
    /// Allowed over at least one address family.
    pub allowed: bool,
    /// Allowed over this family only, denied over the other both ends have.
    pub only: Option<Family>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GridCell {
    pub src: Node,
    pub dst: Node,
    pub port: u16,
    pub protocol: Protocol,
    pub decided: Decided,
}

/// Where a cell's port and protocol are: a column of the class matrix (an
/// endpoint destination), or one of the external ports (an external one).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PortAt {
    Column(usize),
    External(usize),
}

/// What to keep of the whole matrix.
#[derive(Clone, Debug, Default)]
pub struct Narrow {
    /// Sources kept, in name order; `None`: all.
    pub rows: Option<Vec<Node>>,
    /// Destinations kept, in name order; `None`: all.
    pub cols: Option<Vec<Node>>,
    /// Only this port (and protocol, when given).
    pub port: Option<(u16, Option<Protocol>)>,
    /// Only allowed (`Some(true)`) or only denied (`Some(false)`) cells.
    pub only: Option<bool>,
}

pub struct Grid<'a> {
    pub cluster: &'a Cluster,
    pub matrix: &'a ClassMatrix<'a>,
    pub externals: Vec<External>,
    pub external_ports: Vec<(u16, Protocol)>,
    /// Sources, in name order.
    pub rows: Vec<Node>,
    /// Destinations, in name order.
    pub cols: Vec<Node>,
    port: Option<(u16, Option<Protocol>)>,
    pub only: Option<bool>,
    names: Vec<String>,
    /// Per endpoint, its range of class matrix columns.
    ranges: Vec<(usize, usize)>,
    /// The cells with an external end.
    external: ExternalCells,
    /// Per-pod columns in all (every endpoint's ports).
    pod_columns: usize,
}

/// Every endpoint and external peer, in name order.
pub fn all_nodes(cluster: &Cluster, externals: &[External]) -> Vec<Node> {
    let mut nodes: Vec<(String, Node)> = (0..cluster.endpoints.len())
        .map(|i| (cluster.endpoints[i].id(), Node::Endpoint(i)))
        .chain(
            externals
                .iter()
                .enumerate()
                .map(|(i, e)| (e.label.clone(), Node::External(i))),
        )
        .collect();
    nodes.sort();
    nodes.into_iter().map(|(_, n)| n).collect()
}

impl<'a> Grid<'a> {
    /// `engine` is over the classes (`Classes::reduced`), whose endpoints
    /// `matrix`'s columns and bits index.
    pub fn new(
        cluster: &'a Cluster,
        engine: &Engine,
        matrix: &'a ClassMatrix<'a>,
        externals: Vec<External>,
        narrow: Narrow,
    ) -> Grid<'a> {
        let all = all_nodes(cluster, &externals);
        let (narrow_rows, narrow_cols) = (narrow.rows.is_some(), narrow.cols.is_some());
        let rows = narrow.rows.unwrap_or_else(|| all.clone());
        let cols = narrow.cols.unwrap_or(all);
        let external_ports = external_ports(cluster);
        let n = cluster.endpoints.len();
        let mut names: Vec<String> = cluster.endpoints.iter().map(|e| e.id()).collect();
        names.extend(externals.iter().map(|e| e.label.clone()));
        let ranges: Vec<(usize, usize)> = (0..n)
            .map(|i| {
                let r = matrix.column_range(i);
                (r.start, r.end)
            })
            .collect();
        let pod_columns = ranges.iter().map(|(a, b)| b - a).sum();
        let classes = matrix.matrix.endpoints;
        // Per class: whether one of its pods is a kept column (row), or in
        // the workload of one: the summary sums whole workloads.
        let narrowed = narrow_rows || narrow_cols;
        let workloads: Vec<String> = if narrowed {
            (0..n).map(|i| cluster.workload(i)).collect()
        } else {
            Vec::new()
        };
        let wanted = |nodes: &[Node]| {
            let mut w = vec![false; classes];
            let mut kept = std::collections::HashSet::new();
            for node in nodes {
                if let Node::Endpoint(i) = node {
                    w[matrix.class_of(*i)] = true;
                    if narrowed {
                        kept.insert(workloads[*i].as_str());
                    }
                }
            }
            for (i, workload) in workloads.iter().enumerate() {
                if kept.contains(workload.as_str()) {
                    w[matrix.class_of(i)] = true;
                }
            }
            w
        };
        let wanted_cols = wanted(&cols);
        let mut external_rows = vec![false; externals.len()];
        for node in &rows {
            if let Node::External(x) = node {
                external_rows[*x] = true;
            }
        }
        let external_cols: Vec<usize> = cols
            .iter()
            .filter_map(|c| match c {
                Node::External(x) => Some(*x),
                Node::Endpoint(_) => None,
            })
            .collect();
        let wanted_rows = wanted(&rows);
        let external = ExternalCells::new(
            engine,
            matrix,
            &externals,
            &external_ports,
            external_cells::Asked {
                rows: &wanted_rows,
                cols: &wanted_cols,
                external_rows: external_rows.contains(&true),
                external_cols: &external_cols,
            },
        );
        Grid {
            cluster,
            matrix,
            externals,
            external_ports,
            rows,
            cols,
            port: narrow.port,
            only: narrow.only,
            names,
            ranges,
            external,
            pod_columns,
        }
    }

    pub fn name(&self, node: Node) -> &str {
        match node {
            Node::Endpoint(i) => &self.names[i],
            Node::External(x) => &self.names[self.cluster.endpoints.len() + x],
        }
    }

    /// The representative address of an external node.
    pub fn address(&self, node: Node) -> Option<std::net::IpAddr> {
        match node {
            Node::External(x) => Some(self.externals[x].address),
            Node::Endpoint(_) => None,
        }
    }

    /// The (port, protocol) columns of a destination, after the port filter.
    pub fn ports(&self, dst: Node) -> Vec<(u16, Protocol)> {
        let all: Vec<(u16, Protocol)> = match dst {
            Node::Endpoint(i) => {
                let (s, t) = self.ranges[i];
                self.matrix.matrix.columns[s..t]
                    .iter()
                    .map(|c| (c.port, c.protocol))
                    .collect()
            }
            Node::External(_) => self.external_ports.clone(),
        };
        all.into_iter().filter(|p| self.port_kept(*p)).collect()
    }

    fn port_kept(&self, (port, protocol): (u16, Protocol)) -> bool {
        match self.port {
            None => true,
            Some((p, proto)) => p == port && proto.is_none_or(|x| x == protocol),
        }
    }

    /// Every cell between `src` and `dst` on the destination's ports, before
    /// the allowed/denied filter; none between two external peers, which no
    /// NetworkPolicy can see.
    #[cfg(test)]
    pub fn pair(&self, src: Node, dst: Node) -> Vec<GridCell> {
        let mut out = Vec::new();
        self.pair_into(src, dst, &mut out);
        out
    }

    /// [`Grid::pair`] into a buffer the caller reuses (`out` is cleared first).
    pub fn pair_into(&self, src: Node, dst: Node, out: &mut Vec<GridCell>) {
        out.clear();
        let cell = |port: u16, protocol: Protocol, decided: Decided| GridCell {
            src,
            dst,
            port,
            protocol,
            decided,
        };
        match (src, dst) {
            (Node::External(_), Node::External(_)) => {}
            (Node::Endpoint(s), Node::Endpoint(d)) => {
                let (a, b) = self.ranges[d];
                out.extend(
                    self.matrix.matrix.columns[a..b]
                        .iter()
                        .filter(|c| self.port_kept((c.port, c.protocol)))
                        .map(|c| {
                            let (allowed, only) = self.matrix.cell(s, d, c);
                            cell(c.port, c.protocol, Decided { allowed, only })
                        }),
                )
            }
            (Node::External(x), Node::Endpoint(d)) => {
                let (a, b) = self.ranges[d];
                out.extend(
                    (a..b)
                        .filter(|&k| {
                            let c = &self.matrix.matrix.columns[k];
                            self.port_kept((c.port, c.protocol))
                        })
                        .map(|k| {
                            let c = &self.matrix.matrix.columns[k];
                            cell(c.port, c.protocol, self.external.from(x, k))
                        }),
                )
            }
            (Node::Endpoint(s), Node::External(x)) => out.extend(
                self.external_ports
                    .iter()
                    .enumerate()
                    .filter(|(_, p)| self.port_kept(**p))
                    .map(|(k, &(port, protocol))| {
                        cell(
                            port,
                            protocol,
                            self.external.to(self.matrix.class_of(s), x, k),
                        )
                    }),
            ),
        }
    }

    /// Every kept cell of `src`'s row, in destination order, without
    /// building cells: `f` gets the destination's position in `cols`,
    /// where its port is, and the answer. Writers of many GB format from
    /// this, each piece once per column.
    pub fn for_each_in_row(&self, src: Node, mut f: impl FnMut(usize, PortAt, Decided)) {
        let only = self.only;
        let mut emit = |c: usize, at: PortAt, d: Decided| {
            if only.is_none_or(|a| a == d.allowed) {
                f(c, at, d)
            }
        };
        let columns = &self.matrix.matrix.columns;
        for (c, &dst) in self.cols.iter().enumerate() {
            match (src, dst) {
                (Node::External(_), Node::External(_)) => {}
                (Node::Endpoint(s), Node::Endpoint(d)) => {
                    let (a, b) = self.ranges[d];
                    let class = self.matrix.class_of(s);
                    let forced = self.matrix.forced(s, d);
                    for (k, column) in columns.iter().enumerate().take(b).skip(a) {
                        if self.port.is_some() && !self.port_kept((column.port, column.protocol)) {
                            continue;
                        }
                        let decided = if forced {
                            Decided {
                                allowed: true,
                                only: None,
                            }
                        } else {
                            Decided {
                                allowed: column.allowed.contains(class),
                                only: column.only_over(class),
                            }
                        };
                        emit(c, PortAt::Column(k), decided);
                    }
                }
                (Node::External(x), Node::Endpoint(d)) => {
                    let (a, b) = self.ranges[d];
                    for (k, column) in columns.iter().enumerate().take(b).skip(a) {
                        if self.port_kept((column.port, column.protocol)) {
                            emit(c, PortAt::Column(k), self.external.from(x, k));
                        }
                    }
                }
                (Node::Endpoint(s), Node::External(x)) => {
                    let class = self.matrix.class_of(s);
                    for (k, &port) in self.external_ports.iter().enumerate() {
                        if self.port_kept(port) {
                            emit(c, PortAt::External(k), self.external.to(class, x, k));
                        }
                    }
                }
            }
        }
    }

    pub fn keeps(&self, c: &GridCell) -> bool {
        self.only.is_none_or(|a| a == c.decided.allowed)
    }

    /// The cells of one source row, in destination order, after every filter.
    #[cfg(test)]
    pub fn row(&self, src: Node) -> impl Iterator<Item = GridCell> + '_ {
        self.cols
            .iter()
            .flat_map(move |&dst| self.pair(src, dst))
            .filter(|c| self.keeps(c))
    }

    /// Every cell kept, by source, destination, port and protocol: what
    /// the writers' fast path ([`Grid::for_each_in_row`]) is tested against.
    #[cfg(test)]
    pub fn cells(&self) -> impl Iterator<Item = GridCell> + '_ {
        self.rows.iter().flat_map(move |&src| self.row(src))
    }

    /// An upper bound of the number of cells, for progress reports.
    pub fn size_hint(&self) -> usize {
        self.rows.len() * self.pod_columns.max(1)
    }

    /// Whether some kept cell is allowed over one family only: a cell with
    /// an external end never is.
    pub fn has_one_family(&self) -> bool {
        self.matrix.one_family_count() > 0
    }
}

#[cfg(test)]
mod tests {
    use netpol_engine::{ClassMatrix, Classes, Engine, Party};
    use netpol_synth::{Params, generate, live};

    use super::*;
    use crate::external::externals;

    type Pairs = Vec<(String, String, usize, usize)>;

    /// Every cell, external peers included, and every summary pair.
    fn all(grid: &Grid) -> (Vec<GridCell>, Pairs) {
        let mut pairs = Vec::new();
        grid.for_each_pair(|p| {
            pairs.push((
                p.src.to_string(),
                p.dst.to_string(),
                p.allowed,
                p.connections,
            ));
            Ok::<(), ()>(())
        })
        .unwrap();
        (grid.cells().collect(), pairs)
    }

    /// Every cell with an external end, read from the grid over classes
    /// (decided in bulk), against the per-pod engine's verdict: without
    /// and with ClusterNetworkPolicies, on templates and live dumps, with
    /// more than 64 external ports once so that port sets span words.
    #[test]
    fn external_cells_are_the_engine_verdicts() {
        let (mut checked, mut allowed, mut wide) = (0, 0, false);
        for seed in 1..=3 {
            let template = generate(&Params::new(40, seed));
            let mut dumps = vec![template.clone(), live(&template, 2)];
            dumps.extend(
                dumps
                    .clone()
                    .into_iter()
                    .map(|c| netpol_synth::with_cluster_policies(c, 10, seed)),
            );
            for mut c in dumps {
                if seed == 3 {
                    widen_egress_ports(&mut c);
                }
                let externals = externals(&c);
                let classes = Classes::new(&c);
                let engine = Engine::new(&classes.reduced);
                let matrix = ClassMatrix::from_matrix(&c, &classes, engine.matrix());
                let grid = Grid::new(&c, &engine, &matrix, externals, Narrow::default());
                wide |= grid.external_ports.len() > 64;
                let per_pod = Engine::new(&c);
                for cell in grid.cells() {
                    let party = |n: Node| match n {
                        Node::Endpoint(i) => Party::Endpoint(i),
                        Node::External(x) => Party::External(grid.externals[x].address),
                    };
                    if !matches!((cell.src, cell.dst), (Node::Endpoint(_), Node::Endpoint(_))) {
                        let v = per_pod.verdict(
                            party(cell.src),
                            party(cell.dst),
                            cell.port,
                            cell.protocol,
                        );
                        assert_eq!(
                            (cell.decided.allowed, cell.decided.only),
                            (v.allowed, v.only_over()),
                            "seed {seed}: {} -> {} {}/{}",
                            v.src,
                            v.dst,
                            cell.port,
                            cell.protocol
                        );
                        checked += 1;
                        allowed += usize::from(v.allowed);
                    }
                }
            }
        }
        assert!(wide, "never more than 64 external ports");
        assert!(
            checked > 10_000 && allowed > 1000 && checked - allowed > 1000,
            "{checked} cells, {allowed} allowed"
        );
    }

    /// Gives every egress rule with an ipBlock 70 more ports, so that the
    /// external ports span two words.
    fn widen_egress_ports(c: &mut netpol_model::Cluster) {
        for p in &mut c.policies {
            for rule in &mut p.egress {
                if rule
                    .peers
                    .iter()
                    .any(|x| matches!(x, netpol_model::Peer::IpBlock { .. }))
                    && !rule.ports.is_empty()
                {
                    let template = rule.ports[0].clone();
                    for port in 2000..2070 {
                        let mut extra = template.clone();
                        extra.port = Some(netpol_model::PortRef::Number(port));
                        extra.end_port = None;
                        rule.ports.push(extra);
                    }
                }
            }
        }
    }

    /// The grid read through classes (external cells decided per class)
    /// against the grid over the per-pod engine, on live dumps whose
    /// replicas classes merge and whose ipBlocks make external peers, with
    /// and without ClusterNetworkPolicies.
    #[test]
    fn the_grid_through_classes_is_the_per_pod_grid() {
        let mut merged = false;
        let dumps = (1..=4).flat_map(|seed| {
            let c = live(&generate(&Params::new(24, seed)), 3);
            [c.clone(), netpol_synth::with_cluster_policies(c, 8, seed)].map(|c| (seed, c))
        });
        for (seed, c) in dumps {
            let externals = externals(&c);
            assert!(!externals.is_empty());
            let classes = Classes::new(&c);
            merged |= classes.len() < c.endpoints.len();
            let engine = Engine::new(&classes.reduced);
            let matrix = ClassMatrix::from_matrix(&c, &classes, engine.matrix());
            let grid = Grid::new(&c, &engine, &matrix, externals.clone(), Narrow::default());
            let pods = Classes::per_pod(&c);
            let per_pod = Engine::new(&c);
            let pod_matrix = ClassMatrix::from_matrix(&c, &pods, per_pod.matrix());
            let reference = Grid::new(&c, &per_pod, &pod_matrix, externals, Narrow::default());
            let (a, b) = (all(&grid), all(&reference));
            assert!(a.0.iter().any(|x| matches!(x.src, Node::External(_))));
            assert_eq!(a.0.len(), b.0.len(), "seed {seed}");
            if let Some((x, y)) = a.0.iter().zip(&b.0).find(|(x, y)| x != y) {
                panic!("seed {seed}: through classes {x:?}, per pod {y:?}");
            }
            assert_eq!(a.1, b.1, "seed {seed}");
        }
        assert!(merged, "no classes merged pods");
    }
}
