//! What a change does to connectivity.
//!
//! [`diff`] compares two clusters (before and after a change) through the
//! engine: the connections whose verdict differs, grouped by source,
//! destination and verdict, each with the policy changes that explain it,
//! read from the engine's verdict traces on both sides. Both sides are
//! evaluated over classes of pods, as the matrix is (modules `cells` and
//! `traces`): a live dump's 150,000 pods are some 30,000 classes.
//!
//! Endpoints are matched by `namespace/name`, ports by number and protocol.
//! Only connections that exist on both sides are compared: an endpoint (or a
//! declared port) present on one side only is listed as added or removed, and
//! its connections are not reported one by one, since no policy decided to
//! open or close them.

mod cause;
mod cells;
mod family;
mod model;
mod policies;
mod tiers;
mod traces;

pub use model::{
    Cause, CauseKind, ConnectionChange, Diff, EndpointChanges, PolicyChange, PolicyChangeKind,
    PortChange, PortProto, SideChange, SideState, Status, Summary, Verdict,
};

use netpol_engine::{ClassMatrix, Classes, Engine};
use netpol_model::{Cluster, Protocol};

pub(crate) use cells::ChangedCell;
use cells::changed_cells;
use traces::Slot;

/// The pairs of endpoints whose changes are listed, at most; the summary
/// counts them all. Removing one broad allow at 150,000 pods changes tens
/// of millions of connections: traced and held whole they were more than
/// 24 GiB.
pub const PAIRS_LISTED: usize = 10_000;

/// The connectivity difference from `old` to `new`.
pub fn diff(old: &Cluster, new: &Cluster) -> Diff {
    let (old_classes, new_classes) = rayon::join(|| Classes::new(old), || Classes::new(new));
    diff_over(old, new, &old_classes, &new_classes, PAIRS_LISTED)
}

/// [`diff`] with the classes of each side given (`Classes::per_pod` on both
/// reads every pod on its own, which tests hold the classes to), listing
/// the changes of the first `listed` pairs of endpoints in (source,
/// destination) order.
pub fn diff_over(
    old: &Cluster,
    new: &Cluster,
    old_classes: &Classes,
    new_classes: &Classes,
    listed: usize,
) -> Diff {
    let (old_matrix, new_matrix) = rayon::join(
        || class_matrix(old, old_classes),
        || class_matrix(new, new_classes),
    );
    let mut policies = policies::compare(old, new);
    let (tier_changes, tier_what) = tiers::compare(old, new);
    policies.extend(tier_changes);
    policies.sort_by(|a, b| a.policy.cmp(&b.policy).then(a.change.cmp(&b.change)));
    let endpoints = endpoint_changes(old, new);
    let old_of_new: Vec<Option<usize>> = new
        .endpoints
        .iter()
        .map(|e| old.endpoint(&e.id()))
        .collect();
    let changes = changed_cells(&old_matrix, &new_matrix, &old_of_new);
    drop((old_matrix, new_matrix));
    // The listed cells are traced; after them one cell of every group and
    // every other cell decided per pod, which are only counted.
    let mut cells = changes.listed(listed);
    let listed_cells = cells.len();
    let per_pod_not_listed = changes.per_pod_not_listed(&cells);
    let first_group = cells.len() + per_pod_not_listed.len();
    cells.extend_from_slice(per_pod_not_listed);
    cells.extend(changes.groups.iter().map(|g| g.first));
    let (slot_of_cell, slots) = traces::flips(old, new, &cells, listed_cells);
    let explainer = cause::Explainer::new(old, new, &policies, tier_what);
    let mut connections: Vec<ConnectionChange> = Vec::new();
    let mut summary = Summary::default();
    // Cells are sorted by endpoint pair: the connections of one pair are
    // the last ones pushed, from `pair_start` on.
    let mut pair_start = 0;
    for (k, cell) in cells[..listed_cells].iter().enumerate() {
        if k > 0 && starts_pair(&cells, k) {
            pair_start = connections.len();
        }
        let Slot::Traced(flips) = &slots[slot_of_cell[k]] else {
            unreachable!("a listed cell's slot is traced");
        };
        for flip in flips {
            let causes = explainer.causes(cell, &flip.traces.before, &flip.traces.after);
            let port = PortProto {
                port: cell.port,
                protocol: cell.protocol,
            };
            let same = connections[pair_start..].iter_mut().find(|c| {
                c.change == flip.change
                    && c.family == flip.traces.family
                    && c.egress == flip.egress
                    && c.ingress == flip.ingress
                    && c.causes == causes
            });
            match same {
                Some(c) => c.ports.push(port),
                None => connections.push(ConnectionChange {
                    src: new.endpoints[cell.new_src].id(),
                    dst: new.endpoints[cell.new_dst].id(),
                    change: flip.change,
                    family: flip.traces.family,
                    ports: vec![port],
                    egress: flip.egress.clone(),
                    ingress: flip.ingress.clone(),
                    causes,
                }),
            }
        }
    }
    // Every change counted once: a cell decided per pod for itself (listed
    // or not), a group's cells through its first one.
    let weights = cells[..first_group]
        .iter()
        .map(|c| usize::from(c.class_pair.is_none()))
        .chain(changes.groups.iter().map(|g| g.cells));
    for (weight, &slot) in weights.zip(&slot_of_cell) {
        let (allowed, denied) = slots[slot].counts();
        summary.newly_allowed += weight * allowed;
        summary.newly_denied += weight * denied;
    }
    // Each listed flip is one port of a listed connection.
    let listed_flips: usize = connections.iter().map(|c| c.ports.len()).sum();
    let connections_not_listed = summary.newly_allowed + summary.newly_denied - listed_flips;
    summary.endpoints_added = endpoints.added.len();
    summary.endpoints_removed = endpoints.removed.len();
    summary.policies_changed = policies.len();
    Diff {
        summary,
        endpoints,
        policies,
        connections,
        connections_not_listed,
    }
}

/// Whether cell `k` of `cells` (sorted by pair) is its pair's first.
fn starts_pair(cells: &[ChangedCell], k: usize) -> bool {
    k == 0 || cells[k - 1].pair() != cells[k].pair()
}

fn class_matrix<'a>(cluster: &'a Cluster, classes: &'a Classes) -> ClassMatrix<'a> {
    ClassMatrix::from_matrix(cluster, classes, Engine::new(&classes.reduced).matrix())
}

fn endpoint_changes(old: &Cluster, new: &Cluster) -> EndpointChanges {
    let mut changes = EndpointChanges::default();
    for e in &new.endpoints {
        if old.endpoint(&e.id()).is_none() {
            changes.added.push(e.id());
        }
    }
    for e in &old.endpoints {
        if new.endpoint(&e.id()).is_none() {
            changes.removed.push(e.id());
        }
    }
    for (ni, e) in new.endpoints.iter().enumerate() {
        let Some(oi) = old.endpoint(&e.id()) else {
            continue;
        };
        let before = old.endpoints[oi].declared_ports();
        let after = new.endpoints[ni].declared_ports();
        let entry = |&(port, protocol): &(u16, Protocol)| PortChange {
            endpoint: e.id(),
            port,
            protocol,
        };
        changes
            .ports_added
            .extend(after.iter().filter(|p| !before.contains(p)).map(entry));
        changes
            .ports_removed
            .extend(before.iter().filter(|p| !after.contains(p)).map(entry));
    }
    changes
}
