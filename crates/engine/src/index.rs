//! Label and namespace indexes over endpoints, so that a selector is
//! evaluated as a few bitset operations instead of a scan of every pod.

use std::collections::HashMap;
use std::net::IpAddr;

use fixedbitset::FixedBitSet;
use ipnet::IpNet;
use netpol_model::{Cluster, LabelSelector, Operator};

use crate::compile::ip_in_block;
use crate::selector;

pub(crate) struct LabelIndex<'c> {
    n: usize,
    by_pair: HashMap<(&'c str, &'c str), FixedBitSet>,
    by_key: HashMap<&'c str, FixedBitSet>,
    by_namespace: HashMap<&'c str, FixedBitSet>,
    /// Endpoints that are pods in their own network namespace (not host-network).
    pub pods: FixedBitSet,
    /// Every endpoint address, sorted, so that an ipBlock is a range lookup.
    by_address: Vec<(IpAddr, usize)>,
    cluster: &'c Cluster,
}

impl<'c> LabelIndex<'c> {
    pub fn new(cluster: &'c Cluster) -> LabelIndex<'c> {
        let n = cluster.endpoints.len();
        let empty = || FixedBitSet::with_capacity(n);
        let mut by_pair: HashMap<(&str, &str), FixedBitSet> = HashMap::new();
        let mut by_key: HashMap<&str, FixedBitSet> = HashMap::new();
        let mut by_namespace: HashMap<&str, FixedBitSet> = HashMap::new();
        let mut pods = empty();
        let mut by_address = Vec::new();
        for (i, e) in cluster.endpoints.iter().enumerate() {
            by_address.extend(e.ips.iter().map(|ip| (*ip, i)));
            for (k, v) in &e.labels {
                by_pair
                    .entry((k.as_str(), v.as_str()))
                    .or_insert_with(empty)
                    .insert(i);
                by_key.entry(k.as_str()).or_insert_with(empty).insert(i);
            }
            by_namespace
                .entry(e.namespace.as_str())
                .or_insert_with(empty)
                .insert(i);
            if !e.host_network {
                pods.insert(i);
            }
        }
        by_address.sort_unstable();
        LabelIndex {
            n,
            by_pair,
            by_key,
            by_namespace,
            pods,
            by_address,
            cluster,
        }
    }

    fn none(&self) -> FixedBitSet {
        FixedBitSet::with_capacity(self.n)
    }

    /// Endpoints (of any namespace) whose labels the selector matches.
    pub fn select(&self, sel: &LabelSelector) -> FixedBitSet {
        let mut set = self.none();
        set.insert_range(..);
        for (k, v) in &sel.match_labels {
            match self.by_pair.get(&(k.as_str(), v.as_str())) {
                Some(s) => set.intersect_with(s),
                None => return self.none(),
            }
        }
        for r in &sel.match_expressions {
            let values = || {
                let mut any = self.none();
                for v in &r.values {
                    if let Some(s) = self.by_pair.get(&(r.key.as_str(), v.as_str())) {
                        any.union_with(s);
                    }
                }
                any
            };
            let keyed = || self.by_key.get(r.key.as_str());
            match r.operator {
                Operator::In => set.intersect_with(&values()),
                Operator::NotIn => set.difference_with(&values()),
                Operator::Exists => match keyed() {
                    Some(s) => set.intersect_with(s),
                    None => return self.none(),
                },
                Operator::DoesNotExist => {
                    if let Some(s) = keyed() {
                        set.difference_with(s);
                    }
                }
            }
        }
        set
    }

    pub fn in_namespace(&self, ns: &str) -> FixedBitSet {
        self.by_namespace
            .get(ns)
            .cloned()
            .unwrap_or_else(|| self.none())
    }

    /// Endpoints in the namespaces whose labels the selector matches.
    pub fn in_namespaces_matching(&self, sel: &LabelSelector) -> FixedBitSet {
        let mut set = self.none();
        for ns in self.cluster.namespaces.values() {
            if selector::matches(sel, &ns.labels) {
                if let Some(s) = self.by_namespace.get(ns.name.as_str()) {
                    set.union_with(s);
                }
            }
        }
        set
    }

    /// Endpoints with an address in `cidr` and in none of `except`.
    pub fn in_block(&self, cidr: &IpNet, except: &[IpNet]) -> FixedBitSet {
        let mut set = self.none();
        let start = self
            .by_address
            .partition_point(|(ip, _)| *ip < cidr.network());
        let end = self
            .by_address
            .partition_point(|(ip, _)| *ip <= cidr.broadcast());
        for &(ip, endpoint) in &self.by_address[start..end.max(start)] {
            if ip_in_block(ip, cidr, except) {
                set.insert(endpoint);
            }
        }
        set
    }
}
