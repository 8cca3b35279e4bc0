//! The page drawn by namespace: what a cluster with too many pairs of
//! workloads for one page (150,000 pods make 230 million pairs, a 4 GB page)
//! shows instead. Each namespace is one vertex, its pairs the sums of its
//! workloads' pairs; external peers stay as they are.

use std::collections::HashMap;

use crate::grid::graph::{Vertex, by_namespace};

/// What a vertex of the page stands for.
#[derive(Copy, Clone, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum By {
    /// Workloads, unless there are more than two million pairs of them;
    /// namespaces then
    Auto,
    /// Workloads, however large the page
    Workload,
    /// Namespaces (external peers stay as they are)
    Namespace,
}

/// Above this many pairs of workloads, `--by auto` draws the page by
/// namespace. Two million pairs (1,400 workloads and external peers) make
/// a page of about 30 MB, which a browser still draws; 1,000 workloads
/// stay drawn by workload.
pub const PAIR_LIMIT: usize = 2_000_000;

impl By {
    /// What the page is drawn by, for a cluster of `pairs` pairs of workloads.
    pub fn resolve(self, pairs: usize) -> By {
        match self {
            By::Auto if pairs > PAIR_LIMIT => By::Namespace,
            By::Auto => By::Workload,
            other => other,
        }
    }

    /// Whether `vertices` could make more pairs than the limit: when they
    /// cannot, `auto` needs no sums by namespace.
    pub fn may_be_namespace(self, vertices: usize) -> bool {
        match self {
            By::Auto => vertices.saturating_mul(vertices) > PAIR_LIMIT,
            By::Workload => false,
            By::Namespace => true,
        }
    }
}

/// The workload pairs summed by namespace as they stream past.
pub struct NamespacePairs {
    /// The page's vertex of each workload vertex.
    vertex_of: Vec<u32>,
    /// Per page vertex: the workload vertices it stands for.
    members: Vec<Vec<u32>>,
    /// (source, destination) page vertices -> (allowed, connections).
    sums: HashMap<(u32, u32), (usize, usize), foldhash::fast::RandomState>,
    /// The pair being summed: consecutive workload pairs mostly fall in
    /// the same pair of namespaces, and are added up before the map is.
    open: Option<((u32, u32), (usize, usize))>,
}

impl NamespacePairs {
    /// Namespaces sorted by name, then the external peers in their order.
    pub fn new(vertices: &[Vertex]) -> NamespacePairs {
        let mut groups = by_namespace(vertices);
        let externals = groups.remove(&None).unwrap_or_default();
        let index = |m: &[usize]| m.iter().map(|&i| i as u32).collect::<Vec<u32>>();
        let members: Vec<Vec<u32>> = groups
            .values()
            .map(|m| index(m))
            .chain(externals.iter().map(|&x| vec![x as u32]))
            .collect();
        let mut vertex_of = vec![0; vertices.len()];
        for (page, m) in members.iter().enumerate() {
            for &w in m {
                vertex_of[w as usize] = page as u32;
            }
        }
        NamespacePairs {
            vertex_of,
            members,
            sums: HashMap::default(),
            open: None,
        }
    }

    /// Adds the pair of workload vertices `s` and `d`.
    pub fn add(&mut self, s: u32, d: u32, allowed: usize, connections: usize) {
        let key = (self.vertex_of[s as usize], self.vertex_of[d as usize]);
        match &mut self.open {
            Some((open, sum)) if *open == key => {
                sum.0 += allowed;
                sum.1 += connections;
            }
            _ => {
                self.close();
                self.open = Some((key, (allowed, connections)));
            }
        }
    }

    fn close(&mut self) {
        if let Some((key, (allowed, connections))) = self.open.take() {
            let sum = self.sums.entry(key).or_default();
            sum.0 += allowed;
            sum.1 += connections;
        }
    }

    /// The workload vertices each page vertex stands for, in page order.
    pub fn members(&self) -> &[Vec<u32>] {
        &self.members
    }

    /// The page's pairs, sorted: (source, destination, allowed, connections).
    pub fn pairs(mut self) -> Vec<(u32, u32, usize, usize)> {
        self.close();
        let mut pairs: Vec<(u32, u32, usize, usize)> = self
            .sums
            .into_iter()
            .map(|((s, d), (a, c))| (s, d, a, c))
            .collect();
        pairs.sort_unstable();
        pairs
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn vertex(id: &str) -> Vertex {
        let namespace = id.split_once('/').map(|(ns, _)| ns.to_string());
        Vertex {
            id: id.into(),
            label: id.into(),
            namespace,
        }
    }

    #[test]
    fn auto_draws_by_namespace_only_past_the_limit() {
        assert_eq!(By::Auto.resolve(PAIR_LIMIT), By::Workload);
        assert_eq!(By::Auto.resolve(PAIR_LIMIT + 1), By::Namespace);
        assert_eq!(By::Workload.resolve(usize::MAX), By::Workload);
        assert_eq!(By::Namespace.resolve(1), By::Namespace);
        assert!(!By::Auto.may_be_namespace(1414));
        assert!(By::Auto.may_be_namespace(1415));
    }

    /// Sums per pair of page vertices, whatever order the pairs come in,
    /// against adding each pair straight into a map.
    #[test]
    fn the_sums_do_not_depend_on_the_order() {
        let vertices: Vec<Vertex> = ["a/x", "a/y", "b/z", "external:1.2.3.4/32", "c/w"]
            .into_iter()
            .map(vertex)
            .collect();
        let mut pairs = Vec::new();
        for s in 0..5u32 {
            for d in 0..5u32 {
                pairs.push((s, d, (s * 7 + d) as usize % 3, 3 + s as usize));
            }
        }
        let expected = |pairs: &[(u32, u32, usize, usize)]| {
            let page = [0u32, 0, 1, 3, 2];
            let mut sums: BTreeMap<(u32, u32), (usize, usize)> = BTreeMap::new();
            for &(s, d, a, c) in pairs {
                let e = sums
                    .entry((page[s as usize], page[d as usize]))
                    .or_default();
                e.0 += a;
                e.1 += c;
            }
            sums.into_iter()
                .map(|((s, d), (a, c))| (s, d, a, c))
                .collect::<Vec<_>>()
        };
        let want = expected(&pairs);
        for rotate in [0, 3, 11] {
            let mut shuffled = pairs.clone();
            shuffled.rotate_left(rotate);
            shuffled.reverse();
            let mut by_ns = NamespacePairs::new(&vertices);
            for &(s, d, a, c) in &shuffled {
                by_ns.add(s, d, a, c);
            }
            assert_eq!(by_ns.members(), [vec![0, 1], vec![2], vec![4], vec![3]]);
            assert_eq!(by_ns.pairs(), want);
        }
    }
}
