//! The connections the policies allow that no flow means: found over the
//! matrix of classes, listed in order up to a bound, the rest counted
//! (a live dump has billions), without holding them.

use netpol_engine::{ClassMatrix, Classes, Decision, Engine, NodePods, Party};
use netpol_model::{Family, Protocol};
use rayon::prelude::*;

use crate::expand::Expansion;
use crate::verify::Extra;

/// Every connection the policies allow that no flow means, read from the
/// matrix over classes of pods (what no policy tells apart), in the order
/// of destination, port and source; the first `listed` (to the end of the
/// destination port the last one is on) explained per pod by `engine`,
/// the engine over every pod, the others counted. Destinations are taken
/// in chunks, in order: once enough are listed the rest are only counted,
/// never held (a live dump has billions).
pub(crate) fn extras(
    x: &Expansion,
    engine: &Engine,
    by_class: &Engine,
    classes: &Classes,
    listed: usize,
) -> (Vec<Extra>, usize) {
    extras_in_chunks(x, engine, by_class, classes, listed, 256)
}

/// [`extras`], destinations taken `chunk` at a time.
pub(crate) fn extras_in_chunks(
    x: &Expansion,
    engine: &Engine,
    by_class: &Engine,
    classes: &Classes,
    listed: usize,
    chunk: usize,
) -> (Vec<Extra>, usize) {
    let cluster = x.cluster;
    let matrix = ClassMatrix::from_matrix(cluster, classes, by_class.matrix());
    let coverage = x.coverage();
    // A class a flow covers whole has no extra connection where the flow
    // asks for the destination's port: `* -> *` over 150,000 pods would
    // otherwise look at each of 36 billion allowed connections.
    let covers_class = coverage.covers_groups(&classes.members);
    // As their `namespace/name` strings sort (a loaded cluster's endpoints
    // are in that order already), without formatting them.
    let endpoints = &cluster.endpoints;
    let mut order: Vec<usize> = (0..endpoints.len()).collect();
    order.par_sort_by(|&a, &b| endpoints[a].id_cmp(&endpoints[b]));
    let mut rank = vec![0; order.len()];
    for (r, &i) in order.iter().enumerate() {
        rank[i] = r;
    }
    // Per class column: the pods its allowed classes hold.
    let allowed_pods: Vec<usize> = matrix
        .matrix
        .columns
        .par_iter()
        .map(|c| c.allowed.ones().map(|k| classes.members[k].len()).sum())
        .collect();
    let nodes = NodePods::new(cluster, 0..endpoints.len());
    // `dst`'s extra connections, sorted; `keep` false: only counted.
    let of_destination = |dst: usize, keep: bool| {
        let mut found: Vec<(u16, Protocol, usize, Option<Family>)> = Vec::new();
        let mut count = 0;
        let restrictable = x.restrictable(dst);
        if !restrictable && !x.flows.egress() {
            return (0, found);
        }
        for (k, column) in matrix.column_range(dst).zip(matrix.columns(dst)) {
            let flows = coverage.flows_to(dst, column.port, column.protocol);
            // A pod reaching itself is no connection a policy could deny
            // (two replicas of one workload are two pods, which policies
            // decide), nor is node traffic.
            let special = |src: usize| {
                (src == dst && !endpoints[dst].may_be_several_pods())
                    || engine.is_node_traffic(Party::Endpoint(src), Party::Endpoint(dst))
            };
            if !keep && restrictable && flows.is_empty() {
                // Every allowed source is extra but the special ones.
                let specials = nodes
                    .node_traffic_sources(dst)
                    .chain([dst])
                    .filter(|&s| special(s) && column.allowed.contains(matrix.class_of(s)))
                    .count();
                count += allowed_pods[k] - specials;
                continue;
            }
            let start = found.len();
            for class in column.allowed.ones() {
                if flows.iter().any(|&f| covers_class[f][class]) {
                    continue;
                }
                for &src in &classes.members[class] {
                    let src = src as usize;
                    // In scope: `dst` restrictable, or (with egress
                    // isolation, the only way here otherwise) `src`.
                    if special(src)
                        || !(restrictable || x.restrictable(src))
                        || flows.iter().any(|&f| coverage.covers_source(f, src))
                    {
                        continue;
                    }
                    count += 1;
                    if keep {
                        let only = column.only_over(class);
                        found.push((column.port, column.protocol, src, only));
                    }
                }
            }
            found[start..].sort_unstable_by_key(|e| rank[e.2]);
        }
        (count, found)
    };
    let mut kept: Vec<(usize, u16, Protocol, usize, Option<Family>)> = Vec::new();
    let mut not_listed = 0;
    // Listing stops at the end of a destination port, so past `listed` the
    // port of the last one listed is still listed to its end.
    let done = |kept: &[(usize, u16, Protocol, usize, Option<Family>)]| kept.len() >= listed;
    for chunk in order.chunks(chunk) {
        let keep = !done(&kept);
        let found: Vec<(usize, Vec<_>)> = chunk
            .par_iter()
            .map(|&dst| of_destination(dst, keep))
            .collect();
        for (&dst, (count, list)) in chunk.iter().zip(found) {
            let mut listed_here = 0;
            for (port, protocol, src, only) in list {
                let open_port = kept
                    .last()
                    .is_some_and(|l| (l.0, l.1, l.2) == (dst, port, protocol));
                if !done(&kept) || open_port {
                    kept.push((dst, port, protocol, src, only));
                    listed_here += 1;
                }
            }
            not_listed += count - listed_here;
        }
    }
    let extra = kept
        .par_iter()
        .map(|&(dst, port, protocol, src, only)| extra(engine, src, dst, (port, protocol), only))
        .collect();
    (extra, not_listed)
}

pub(crate) fn extra(
    engine: &Engine,
    src: usize,
    dst: usize,
    (port, protocol): (u16, Protocol),
    only: Option<Family>,
) -> Extra {
    let v = engine.verdict(Party::Endpoint(src), Party::Endpoint(dst), port, protocol);
    debug_assert!(v.allowed && v.decided_by == Decision::Policies);
    // The reasons of the family that lets it through.
    let (ingress, egress) = match v.by_family.iter().find(|f| Some(f.family) == only) {
        Some(f) => (f.ingress.reason.clone(), f.egress.reason.clone()),
        None => (v.ingress.reason, v.egress.reason),
    };
    Extra {
        src: v.src,
        dst: v.dst,
        port,
        protocol,
        only,
        ingress,
        egress,
    }
}
