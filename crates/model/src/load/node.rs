//! Node objects: the labels `nodes` peers select and the addresses they match.

use std::net::IpAddr;

use k8s_openapi::api::core::v1 as core;
use serde_json::Value;

use super::ctx::Ctx;
use super::names;
use crate::tiers::Node;

pub(crate) fn load(ctx: &mut Ctx, value: &Value) -> Option<Node> {
    let node: core::Node = ctx.typed(value)?;
    let Some(name) = node.metadata.name.clone().filter(|n| !n.is_empty()) else {
        ctx.error("metadata.name", "a name is required");
        return None;
    };
    let labels = names::labels(ctx, "metadata.labels", node.metadata.labels.as_ref());
    // Hostname and DNS entries are names, not addresses: only IPs can match.
    let mut addresses: Vec<IpAddr> = node
        .status
        .iter()
        .flat_map(|s| s.addresses.iter().flatten())
        .filter_map(|a| a.address.parse().ok())
        .collect();
    addresses.sort();
    addresses.dedup();
    Some(Node {
        name,
        labels,
        addresses,
        origin: ctx.origin(""),
    })
}
