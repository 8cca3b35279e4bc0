//! The Endpoints and EndpointSlices written by hand for a Service without a
//! selector (typically something outside the cluster: a NAS, a database on
//! a VM): the addresses its clients reach, as the model has no pods for them.

use std::net::IpAddr;

use netpol_model::{Manifest, Protocol, Service, ServicePort};
use serde_json::Value;

use crate::Context;
use crate::json::Items;

/// Addresses and the port they receive on, for one Service port.
pub struct Manual {
    pub ips: Vec<IpAddr>,
    pub port: u16,
    pub protocol: Protocol,
}

/// Each Endpoints subset and EndpointSlice of `service`, on the port that
/// matches `sp` by name (or the only one, when both are unnamed).
pub fn manual(ctx: &Context, service: &Service, sp: &ServicePort) -> Vec<Manual> {
    let mut out = Vec::new();
    let same_namespace = |m: &&&Manifest| m.namespace.as_deref() == Some(&service.namespace);
    for m in ctx.objects("Endpoints").iter().filter(same_namespace) {
        if m.name != service.name {
            continue;
        }
        for subset in m.value.get("subsets").items() {
            let ips = addresses(subset.get("addresses"), |a| a.get("ip"));
            out.extend(matching(subset.get("ports"), sp, ips));
        }
    }
    for m in ctx.objects("EndpointSlice").iter().filter(same_namespace) {
        // The control plane links a slice to its Service by this label only.
        let owner = m
            .get("metadata.labels")
            .and_then(|l| l.get("kubernetes.io/service-name"))
            .and_then(Value::as_str);
        if owner != Some(service.name.as_str()) {
            continue;
        }
        let mut ips = Vec::new();
        for e in m.value.get("endpoints").items() {
            ips.extend(addresses(e.get("addresses"), |a| Some(a)));
        }
        out.extend(matching(m.value.get("ports"), sp, ips));
    }
    out
}

fn addresses(list: Option<&Value>, ip: impl Fn(&Value) -> Option<&Value>) -> Vec<IpAddr> {
    list.items()
        .filter_map(|a| ip(a)?.as_str()?.parse().ok())
        .collect()
}

/// The endpoint port whose name equals the Service port's name; an unnamed
/// single port matches an unnamed Service port. Without a protocol, the
/// Service port's.
fn matching(ports: Option<&Value>, sp: &ServicePort, ips: Vec<IpAddr>) -> Option<Manual> {
    let ports = ports.and_then(Value::as_array)?;
    let name = sp.name.as_deref();
    let found = ports.iter().find(|p| {
        let n = p
            .get("name")
            .and_then(Value::as_str)
            .filter(|n| !n.is_empty());
        n == name || (name.is_none() && ports.len() == 1)
    })?;
    let port = u16::try_from(found.get("port")?.as_u64()?).ok()?;
    let protocol = match found.get("protocol").and_then(Value::as_str) {
        Some("UDP") => Protocol::Udp,
        Some("SCTP") => Protocol::Sctp,
        Some(_) => Protocol::Tcp,
        None => sp.protocol,
    };
    Some(Manual {
        ips,
        port,
        protocol,
    })
}
