//! From a backend reference (a Service and one of its ports) to where the
//! traffic lands, as [`Context::backends`] resolves every Service, or why
//! nowhere, said for the Ingress's reader.

use netpol_model::Protocol;

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
    let selectorless = crate::resolve::selectorless(service);
    let mut out: Vec<Destination> = ctx
        .backends(service, port)
        .into_iter()
        .map(|b| Destination {
            peer: b.peer,
            port: b.port,
            protocol: b.protocol,
        })
        .collect();
    // Two Service ports may lead to the same place.
    out.dedup();
    if !out.is_empty() {
        return Ok(out);
    }
    let has_port = service.ports.iter().any(|p| port.picks(p));
    Err(if selectorless {
        format!(
            "backend Service {namespace}/{name} has no selector and no Endpoints for {} in the input",
            describe(port)
        )
    } else if has_port {
        format!("backend Service {namespace}/{name} selects no pods in the input")
    } else {
        format!(
            "backend Service {namespace}/{name} has no {}",
            describe(port)
        )
    })
}

fn describe(port: ServicePortRef) -> String {
    match port {
        ServicePortRef::Number(n) => format!("port {n}"),
        ServicePortRef::Name(n) => format!("port named {n}"),
        ServicePortRef::All => "port".to_string(),
    }
}
