//! From a backend reference (a Service and one of its ports) to where the
//! traffic lands: the selected pods on their targetPort, or, for a Service
//! without a selector, the addresses its hand-written Endpoints or
//! EndpointSlices list (typically something outside the cluster).

use std::net::IpAddr;

use ipnet::IpNet;
use netpol_model::{Protocol, Service};
use serde_json::Value;

use crate::{Context, Peer, ServicePortRef};

/// One place a backend reference sends traffic to.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Destination {
    pub peer: Peer,
    pub port: u16,
    pub protocol: Protocol,
}

/// The destinations of `namespace/name` on `port`, or why there are none
/// (said as a sentence for an `Unresolved`).
pub fn resolve(
    ctx: &Context,
    namespace: &str,
    name: &str,
    port: ServicePortRef,
) -> Result<Vec<Destination>, String> {
    let Some(service) = ctx.service(namespace, name) else {
        return Err(format!(
            "backend Service {namespace}/{name} is not in the input"
        ));
    };
    if service.service_type == "ExternalName" {
        return Err(format!(
            "backend Service {namespace}/{name} is an ExternalName Service: the traffic leaves the cluster"
        ));
    }
    if service.selector.as_ref().is_none_or(|s| s.is_empty()) {
        let out = manual_endpoints(ctx, service, port);
        return if out.is_empty() {
            Err(format!(
                "backend Service {namespace}/{name} has no selector and no Endpoints for {} in the input",
                describe(port)
            ))
        } else {
            Ok(out)
        };
    }
    let out: Vec<Destination> = ctx
        .backends(service, port)
        .into_iter()
        .map(|b| Destination {
            peer: Peer::Workload(b.workload),
            port: b.port,
            protocol: b.protocol,
        })
        .collect();
    if out.is_empty() {
        let has_port = service.ports.iter().any(|p| match port {
            ServicePortRef::Number(n) => p.port == n,
            ServicePortRef::Name(n) => p.name.as_deref() == Some(n),
            ServicePortRef::All => true,
        });
        return Err(if has_port {
            format!("backend Service {namespace}/{name} selects no pods in the input")
        } else {
            format!(
                "backend Service {namespace}/{name} has no {}",
                describe(port)
            )
        });
    }
    Ok(out)
}

fn describe(port: ServicePortRef) -> String {
    match port {
        ServicePortRef::Number(n) => format!("port {n}"),
        ServicePortRef::Name(n) => format!("port named {n}"),
        ServicePortRef::All => "port".to_string(),
    }
}

/// Endpoints (and EndpointSlices labelled with the Service's name) written
/// by hand for a selector-less Service: their addresses on the port that
/// matches the Service port by name (or the only one, when unnamed).
pub(crate) fn manual_endpoints(
    ctx: &Context,
    service: &Service,
    port: ServicePortRef,
) -> Vec<Destination> {
    let wanted: Vec<_> = service
        .ports
        .iter()
        .filter(|p| match port {
            ServicePortRef::Number(n) => p.port == n,
            ServicePortRef::Name(n) => p.name.as_deref() == Some(n),
            ServicePortRef::All => true,
        })
        .collect();
    let mut out = Vec::new();
    let same_object =
        |m: &&&netpol_model::Manifest| m.namespace.as_deref() == Some(&service.namespace);
    for m in ctx.objects("Endpoints").iter().filter(same_object) {
        if m.name != service.name {
            continue;
        }
        for subset in array(&m.value, "subsets") {
            let ips = addresses(subset.get("addresses"), |a| a.get("ip"));
            for sp in &wanted {
                if let Some((p, proto)) = matching_port(subset.get("ports"), sp.name.as_deref()) {
                    push(&mut out, &ips, p, proto.unwrap_or(sp.protocol));
                }
            }
        }
    }
    for m in ctx.objects("EndpointSlice").iter().filter(same_object) {
        let owner = m
            .get("metadata.labels")
            .and_then(|l| l.get("kubernetes.io/service-name"))
            .and_then(Value::as_str);
        if owner != Some(service.name.as_str()) {
            continue;
        }
        let mut ips = Vec::new();
        for e in array(&m.value, "endpoints") {
            ips.extend(addresses(e.get("addresses"), |a| Some(a)));
        }
        for sp in &wanted {
            if let Some((p, proto)) = matching_port(m.value.get("ports"), sp.name.as_deref()) {
                push(&mut out, &ips, p, proto.unwrap_or(sp.protocol));
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

fn array<'v>(v: &'v Value, key: &str) -> &'v [Value] {
    v.get(key)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

fn addresses(list: Option<&Value>, ip: impl Fn(&Value) -> Option<&Value>) -> Vec<IpAddr> {
    list.and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice)
        .iter()
        .filter_map(|a| ip(a)?.as_str()?.parse().ok())
        .collect()
}

/// The endpoint port whose name equals the Service port's name; an unnamed
/// single port matches an unnamed Service port.
fn matching_port(ports: Option<&Value>, name: Option<&str>) -> Option<(u16, Option<Protocol>)> {
    let ports = ports.and_then(Value::as_array)?;
    let found = ports.iter().find(|p| {
        let n = p
            .get("name")
            .and_then(Value::as_str)
            .filter(|n| !n.is_empty());
        n == name || (name.is_none() && ports.len() == 1)
    })?;
    let port = u16::try_from(found.get("port")?.as_u64()?).ok()?;
    let proto = match found.get("protocol").and_then(Value::as_str) {
        Some("UDP") => Some(Protocol::Udp),
        Some("SCTP") => Some(Protocol::Sctp),
        Some(_) => Some(Protocol::Tcp),
        None => None,
    };
    Some((port, proto))
}

fn push(out: &mut Vec<Destination>, ips: &[IpAddr], port: u16, protocol: Protocol) {
    for ip in ips {
        out.push(Destination {
            peer: Peer::Cidr(IpNet::from(*ip)),
            port,
            protocol,
        });
    }
}
