//! Label and namespace indexes over endpoints, so that a selector is
//! evaluated as a few bitset operations instead of a scan of every pod.

use std::collections::HashMap;
use std::net::IpAddr;

use fixedbitset::FixedBitSet;
use ipnet::IpNet;
use netpol_model::{Cluster, LabelSelector, Operator};

use crate::compile::ip_in_block;
use crate::selector;

/// The endpoints carrying a label pair or key: a list while it is smaller
/// than a bitset. Most pairs of a live dump (a pod's own name, a revision
/// hash) hold a pod or ten; a bitset each was gigabytes at 150,000 pods.
enum Members {
    Few(Vec<u32>),
    Many(FixedBitSet),
}

impl Members {
    fn insert(&mut self, endpoint: usize, n: usize) {
        match self {
            Members::Few(list) => {
                list.push(endpoint as u32);
                // Past a bitset's size in bits, at 32 bits an entry.
                if list.len() * 32 > n {
                    let mut set = FixedBitSet::with_capacity(n);
                    set.extend(list.iter().map(|&e| e as usize));
                    *self = Members::Many(set);
                }
            }
            Members::Many(set) => set.insert(endpoint),
        }
    }

    fn intersect(&self, set: &mut FixedBitSet) {
        match self {
            Members::Many(m) => set.intersect_with(m),
            Members::Few(list) => {
                let mut kept = FixedBitSet::with_capacity(set.len());
                kept.extend(
                    list.iter()
                        .map(|&e| e as usize)
                        .filter(|&e| set.contains(e)),
                );
                *set = kept;
            }
        }
    }

    fn add_to(&self, set: &mut FixedBitSet) {
        match self {
            Members::Many(m) => set.union_with(m),
            Members::Few(list) => set.extend(list.iter().map(|&e| e as usize)),
        }
    }

    fn remove_from(&self, set: &mut FixedBitSet) {
        match self {
            Members::Many(m) => set.difference_with(m),
            Members::Few(list) => list.iter().for_each(|&e| set.remove(e as usize)),
        }
    }
}

pub(crate) struct LabelIndex<'c> {
    n: usize,
    by_pair: HashMap<(&'c str, &'c str), Members>,
    by_key: HashMap<&'c str, Members>,
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
        let mut by_pair: HashMap<(&str, &str), Members> = HashMap::new();
        let mut by_key: HashMap<&str, Members> = HashMap::new();
        let mut by_namespace: HashMap<&str, FixedBitSet> = HashMap::new();
        let mut pods = empty();
        let mut by_address = Vec::new();
        for (i, e) in cluster.endpoints.iter().enumerate() {
            by_address.extend(e.ips.iter().map(|ip| (*ip, i)));
            for (k, v) in &e.labels {
                by_pair
                    .entry((k.as_str(), v.as_str()))
                    .or_insert_with(|| Members::Few(Vec::new()))
                    .insert(i, n);
                by_key
                    .entry(k.as_str())
                    .or_insert_with(|| Members::Few(Vec::new()))
                    .insert(i, n);
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
                Some(s) => s.intersect(&mut set),
                None => return self.none(),
            }
        }
        for r in &sel.match_expressions {
            let values = || {
                let mut any = self.none();
                for v in &r.values {
                    if let Some(s) = self.by_pair.get(&(r.key.as_str(), v.as_str())) {
                        s.add_to(&mut any);
                    }
                }
                any
            };
            let keyed = || self.by_key.get(r.key.as_str());
            match r.operator {
                Operator::In => set.intersect_with(&values()),
                Operator::NotIn => set.difference_with(&values()),
                Operator::Exists => match keyed() {
                    Some(s) => s.intersect(&mut set),
                    None => return self.none(),
                },
                Operator::DoesNotExist => {
                    if let Some(s) = keyed() {
                        s.remove_from(&mut set);
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    type MembersOp = fn(&Members, &mut FixedBitSet);
    type BitsetOp = fn(&mut FixedBitSet, &FixedBitSet);

    fn bits(n: usize, members: &[usize]) -> FixedBitSet {
        let mut set = FixedBitSet::with_capacity(n);
        set.extend(members.iter().copied());
        set
    }

    proptest! {
        /// Whether a list or a bitset, a label's members act on a selection
        /// as the bitset of the same members does.
        #[test]
        fn members_act_like_their_bitset(
            n in 1usize..400,
            raw in proptest::collection::btree_set(0usize..400, 0..60),
            start in proptest::collection::btree_set(0usize..400, 0..200),
        ) {
            let list: Vec<usize> = raw.into_iter().filter(|&e| e < n).collect();
            let start: Vec<usize> = start.into_iter().filter(|&e| e < n).collect();
            let mut members = Members::Few(Vec::new());
            for &e in &list {
                members.insert(e, n);
            }
            // A list until it would outgrow the bitset.
            prop_assert_eq!(matches!(members, Members::Few(_)), list.len() * 32 <= n);
            let want = bits(n, &list);
            let ops: [(MembersOp, BitsetOp); 3] = [
                (Members::intersect, FixedBitSet::intersect_with),
                (Members::add_to, FixedBitSet::union_with),
                (Members::remove_from, FixedBitSet::difference_with),
            ];
            for (op, reference) in ops {
                let mut got = bits(n, &start);
                op(&members, &mut got);
                let mut expected = bits(n, &start);
                reference(&mut expected, &want);
                prop_assert_eq!(got.len(), n);
                prop_assert_eq!(got.ones().collect::<Vec<_>>(), expected.ones().collect::<Vec<_>>());
            }
        }
    }
}
