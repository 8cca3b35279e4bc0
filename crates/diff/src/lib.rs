//! What a change does to connectivity.
//!
//! [`diff`] compares two clusters (before and after a change) through the
//! engine: the connections whose verdict differs, grouped by source,
//! destination and verdict, each with the policy changes that explain it,
//! read from the engine's verdict traces on both sides.
//!
//! Endpoints are matched by `namespace/name`, ports by number and protocol.
//! Only connections that exist on both sides are compared: an endpoint (or a
//! declared port) present on one side only is listed as added or removed, and
//! its connections are not reported one by one, since no policy decided to
//! open or close them.

mod cause;
mod family;
mod model;
mod policies;
mod tiers;

pub use model::{
    Cause, CauseKind, ConnectionChange, Diff, EndpointChanges, PolicyChange, PolicyChangeKind,
    PortChange, PortProto, SideChange, SideState, Status, Summary, Verdict,
};

use std::collections::HashMap;

use netpol_engine::{Engine, Party};
use netpol_model::{Cluster, Family, Protocol};

/// The connectivity difference from `old` to `new`.
pub fn diff(old: &Cluster, new: &Cluster) -> Diff {
    let old_engine = Engine::new(old);
    let new_engine = Engine::new(new);
    let mut policies = policies::compare(old, new);
    let (tier_changes, tier_what) = tiers::compare(old, new);
    policies.extend(tier_changes);
    policies.sort_by(|a, b| a.policy.cmp(&b.policy).then(a.change.cmp(&b.change)));
    let endpoints = endpoint_changes(&old_engine, &new_engine);
    let cells = changed_cells(&old_engine, &new_engine);
    let explainer = cause::Explainer::new(old, new, &policies, tier_what);
    let mut connections: Vec<ConnectionChange> = Vec::new();
    let mut group_of: HashMap<ConnectionKey, usize> = HashMap::new();
    let mut summary = Summary::default();
    for cell in cells {
        let before = old_engine.verdict(
            Party::Endpoint(cell.old_src),
            Party::Endpoint(cell.old_dst),
            cell.port,
            cell.protocol,
        );
        let after = new_engine.verdict(
            Party::Endpoint(cell.new_src),
            Party::Endpoint(cell.new_dst),
            cell.port,
            cell.protocol,
        );
        for family::Flip {
            family,
            before,
            after,
        } in family::flips(before, after)
        {
            let change = if after.allowed {
                Verdict::Allowed
            } else {
                Verdict::Denied
            };
            match change {
                Verdict::Allowed => summary.newly_allowed += 1,
                Verdict::Denied => summary.newly_denied += 1,
            }
            let egress = SideChange::new(&before.egress, &after.egress);
            let ingress = SideChange::new(&before.ingress, &after.ingress);
            let causes = explainer.causes(&cell, &before, &after);
            let key = ConnectionKey {
                src: before.src.clone(),
                dst: before.dst.clone(),
                change,
                family,
                egress: egress.clone(),
                ingress: ingress.clone(),
                causes: causes.clone(),
            };
            let port = PortProto {
                port: cell.port,
                protocol: cell.protocol,
            };
            match group_of.get(&key) {
                Some(&i) => connections[i].ports.push(port),
                None => {
                    group_of.insert(key, connections.len());
                    connections.push(ConnectionChange {
                        src: before.src,
                        dst: before.dst,
                        change,
                        family,
                        ports: vec![port],
                        egress,
                        ingress,
                        causes,
                    });
                }
            }
        }
    }
    summary.endpoints_added = endpoints.added.len();
    summary.endpoints_removed = endpoints.removed.len();
    summary.policies_changed = policies.len();
    Diff {
        summary,
        endpoints,
        policies,
        connections,
    }
}

#[derive(PartialEq, Eq, Hash)]
struct ConnectionKey {
    src: String,
    dst: String,
    change: Verdict,
    family: Option<Family>,
    egress: SideChange,
    ingress: SideChange,
    causes: Vec<Cause>,
}

/// A connection present on both sides whose verdict differs (over some
/// address family), by endpoint index on each side.
pub(crate) struct ChangedCell {
    pub old_src: usize,
    pub old_dst: usize,
    pub new_src: usize,
    pub new_dst: usize,
    pub port: u16,
    pub protocol: Protocol,
}

/// Cells compared through the two matrices, in (src, dst, port, protocol) order.
fn changed_cells(old: &Engine, new: &Engine) -> Vec<ChangedCell> {
    let old_matrix = old.matrix();
    let new_matrix = new.matrix();
    let old_of_new: Vec<Option<usize>> = new
        .cluster
        .endpoints
        .iter()
        .map(|e| old.cluster.endpoint(&e.id()))
        .collect();
    let old_columns: HashMap<(usize, u16, Protocol), usize> = old_matrix
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| ((c.dst, c.port, c.protocol), i))
        .collect();
    let mut cells = Vec::new();
    for column in &new_matrix.columns {
        let Some(old_dst) = old_of_new[column.dst] else {
            continue;
        };
        let Some(&oc) = old_columns.get(&(old_dst, column.port, column.protocol)) else {
            continue;
        };
        let old_column = &old_matrix.columns[oc];
        for (new_src, old_src) in old_of_new.iter().enumerate() {
            let Some(old_src) = *old_src else { continue };
            // Also a change: allowed over both families before, one after (or back).
            if old_column.allowed.contains(old_src) != column.allowed.contains(new_src)
                || old_column.only_over(old_src) != column.only_over(new_src)
            {
                cells.push(ChangedCell {
                    old_src,
                    old_dst,
                    new_src,
                    new_dst: column.dst,
                    port: column.port,
                    protocol: column.protocol,
                });
            }
        }
    }
    // Endpoint order is `namespace/name` on both sides, so sorting by the new
    // indexes is sorting by name.
    cells.sort_by_key(|c| (c.new_src, c.new_dst, c.port, c.protocol));
    cells
}

fn endpoint_changes(old: &Engine, new: &Engine) -> EndpointChanges {
    let mut changes = EndpointChanges::default();
    for e in &new.cluster.endpoints {
        if old.cluster.endpoint(&e.id()).is_none() {
            changes.added.push(e.id());
        }
    }
    for e in &old.cluster.endpoints {
        if new.cluster.endpoint(&e.id()).is_none() {
            changes.removed.push(e.id());
        }
    }
    for (ni, e) in new.cluster.endpoints.iter().enumerate() {
        let Some(oi) = old.cluster.endpoint(&e.id()) else {
            continue;
        };
        let before = old.declared_ports(oi);
        let after = new.declared_ports(ni);
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
