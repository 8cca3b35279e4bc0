//! The port `explain --port` reaches each destination pod on: a number, a
//! named port of the pod, or a Service's port followed to its targetPort.

use netpol_engine::Party;
use netpol_model::{Cluster, Endpoint, PortRef, Protocol, Service};

use super::resolve::Target;
use crate::exit::Failure;

/// `--port` as given: a number or a name, and the protocol.
pub enum PortArg {
    Number(u16),
    Name(String),
}

pub fn parse_port(text: &str) -> Result<(PortArg, Protocol), Failure> {
    let (port, proto) = match text.split_once('/') {
        Some((p, proto)) => (p, Some(proto)),
        None => (text, None),
    };
    let protocol = match proto {
        None => Protocol::Tcp,
        Some(p) => Protocol::parse_ignore_case(p).ok_or_else(|| {
            Failure::Usage(format!(
                "unknown protocol {p:?} in --port: use tcp, udp or sctp"
            ))
        })?,
    };
    match port.parse::<u16>() {
        Ok(0) => Err(Failure::Usage("--port must be between 1 and 65535".into())),
        Ok(n) => Ok((PortArg::Number(n), protocol)),
        Err(_) => Ok((PortArg::Name(port.to_string()), protocol)),
    }
}

#[derive(Clone)]
pub struct DstPort {
    pub port: u16,
    /// How a Service port led to this pod.
    pub via: Option<String>,
    pub notes: Vec<String>,
}

/// The port the connection reaches `dst` on. `Ok(Err(why))`: this pod of
/// several is not reached at all (a Service's named targetPort it lacks).
pub fn destination_port(
    cluster: &Cluster,
    target: &Target,
    dst: Party,
    port: &PortArg,
    protocol: Protocol,
) -> Result<Result<DstPort, String>, Failure> {
    let Party::Endpoint(d) = dst else {
        return match port {
            PortArg::Number(n) => Ok(Ok(DstPort {
                port: *n,
                via: None,
                notes: Vec::new(),
            })),
            PortArg::Name(name) => Err(Failure::Usage(format!(
                "named port {name:?} needs a destination pod to resolve on"
            ))),
        };
    };
    let e = &cluster.endpoints[d];
    if let Some(s) = target.service {
        return service_port(&cluster.services[s], e, port, protocol).map(|r| {
            r.map(|(n, via)| DstPort {
                port: n,
                via: Some(via),
                notes: undeclared(cluster, e, n, protocol, false)
                    .into_iter()
                    .collect(),
            })
        });
    }
    match port {
        PortArg::Number(n) => Ok(Ok(DstPort {
            port: *n,
            via: None,
            notes: undeclared(cluster, e, *n, protocol, true)
                .into_iter()
                .collect(),
        })),
        PortArg::Name(name) => match e.resolve_named_port(name, protocol) {
            Some(n) => Ok(Ok(DstPort {
                port: n,
                via: None,
                notes: Vec::new(),
            })),
            None => Err(Failure::Usage(format!(
                "{} declares no port named {name:?} for {protocol} ({})",
                e.id(),
                declared(e)
            ))),
        },
    }
}

/// A Service port goes to its targetPort on each pod, as kube-proxy sends it.
fn service_port(
    svc: &Service,
    e: &Endpoint,
    port: &PortArg,
    protocol: Protocol,
) -> Result<Result<(u16, String), String>, Failure> {
    let sp = svc.ports.iter().find(|sp| {
        sp.protocol == protocol
            && match port {
                PortArg::Number(n) => sp.port == *n,
                PortArg::Name(name) => sp.name.as_deref() == Some(name.as_str()),
            }
    });
    let Some(sp) = sp else {
        let ports: Vec<String> = svc
            .ports
            .iter()
            .map(|sp| {
                let name = sp
                    .name
                    .as_ref()
                    .map(|n| format!(" ({n})"))
                    .unwrap_or_default();
                format!(
                    "{}/{}{name} -> targetPort {}",
                    sp.port, sp.protocol, sp.target_port
                )
            })
            .collect();
        let asked = match port {
            PortArg::Number(n) => format!("{n}/{protocol}"),
            PortArg::Name(name) => format!("named {name} for {protocol}"),
        };
        let list = if ports.is_empty() {
            "it has no ports".to_string()
        } else {
            format!("its ports: {}", ports.join(", "))
        };
        return Err(Failure::Usage(format!(
            "Service {} has no port {asked}; {list}",
            svc.id()
        )));
    };
    let target = match &sp.target_port {
        PortRef::Number(t) => *t,
        PortRef::Name(n) => match e.resolve_named_port(n, sp.protocol) {
            Some(t) => t,
            None => {
                return Ok(Err(format!(
                    "Service {} port {}/{} targets port {n}, which {} does not declare ({}): the Service sends it nothing",
                    svc.id(),
                    sp.port,
                    sp.protocol,
                    e.id(),
                    declared(e)
                )));
            }
        },
    };
    let via = match &sp.target_port {
        PortRef::Name(n) => format!("targetPort {n} ({target})"),
        PortRef::Number(_) => format!("targetPort {target}"),
    };
    Ok(Ok((
        target,
        format!(
            "Service {} port {}/{} -> {via} on {}",
            svc.id(),
            sp.port,
            sp.protocol,
            e.id()
        ),
    )))
}

/// What `e` declares, for messages.
fn declared(e: &Endpoint) -> String {
    if e.ports.is_empty() {
        return "it declares no ports".to_string();
    }
    let ports: Vec<String> = e
        .ports
        .iter()
        .map(|p| match &p.name {
            Some(n) => format!("{}/{} ({n})", p.port, p.protocol),
            None => format!("{}/{}", p.port, p.protocol),
        })
        .collect();
    format!("it declares {}", ports.join(", "))
}

/// Policies decide on any port, declared or not; but a port the pod does not
/// declare is often a Service port meant for its targetPort.
fn undeclared(
    cluster: &Cluster,
    e: &Endpoint,
    port: u16,
    protocol: Protocol,
    service_hint: bool,
) -> Option<String> {
    if e.host_network
        || e.ports
            .iter()
            .any(|p| p.port == port && p.protocol == protocol)
    {
        return None;
    }
    let mut note = format!(
        "{} declares no port {port}/{protocol}; {}",
        e.id(),
        declared(e)
    );
    if let Some(svc) = cluster.services.iter().find(|s| {
        service_hint
            && s.selects(e)
            && s.ports
                .iter()
                .any(|sp| sp.port == port && sp.protocol == protocol)
    }) {
        note.push_str(&format!(
            ". Service {} has port {port}/{protocol}: --to svc/{} follows it to its targetPort",
            svc.id(),
            svc.id()
        ));
    }
    Some(note)
}
