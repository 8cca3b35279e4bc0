//! From a name a client uses (a Service's DNS name and port) to the pods
//! that receive the traffic and the port they receive it on.

use ipnet::IpNet;
use netpol_model::{PortRef, Protocol, Service, ServicePort};

use crate::context::Context;
use crate::{Peer, endpoints};

/// Which of a Service's ports a client uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServicePortRef<'a> {
    Number(u16),
    Name(&'a str),
    /// Every port of the Service (a client that names no port, where the
    /// Service has exactly one, or a rule that means them all).
    All,
}

impl<'a> ServicePortRef<'a> {
    /// An IntOrString port as routes write it (`servicePort`, Traefik's
    /// `port`): a number, or a name (a string of digits read as the number).
    /// `None` for anything else.
    pub fn from_json(value: &'a serde_json::Value) -> Option<Self> {
        match value {
            serde_json::Value::Number(n) => n
                .as_u64()
                .and_then(|n| u16::try_from(n).ok())
                .map(ServicePortRef::Number),
            serde_json::Value::String(p) => Some(
                p.parse()
                    .map_or(ServicePortRef::Name(p), ServicePortRef::Number),
            ),
            _ => None,
        }
    }

    pub fn picks(self, port: &ServicePort) -> bool {
        match self {
            ServicePortRef::Number(n) => port.port == n,
            ServicePortRef::Name(name) => port.name.as_deref() == Some(name),
            ServicePortRef::All => true,
        }
    }
}

/// Where a Service sends a client's traffic, and the port it arrives on:
/// a selected pod's workload, or an address of the Endpoints written by
/// hand for a Service without a selector.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Backend {
    pub peer: Peer,
    pub port: u16,
    pub protocol: Protocol,
    /// The Service port the client used, for explanations.
    pub service_port: u16,
}

impl Backend {
    /// The workload behind it, when it is one (so a rule can skip a
    /// workload that names its own Service).
    pub fn workload(&self) -> Option<&str> {
        match &self.peer {
            Peer::Workload(id) => Some(id),
            _ => None,
        }
    }
}

/// A Service whose endpoints are written by hand: no selector, or an empty
/// one (which the model's `Service::selects` also reads as selecting nothing).
pub fn selectorless(service: &Service) -> bool {
    service.selector.as_ref().is_none_or(|s| s.is_empty())
}

impl Context<'_> {
    /// The Service a DNS name means, seen from a pod in `client_namespace`:
    /// `svc`, `svc.ns`, `svc.ns.svc`, `svc.ns.svc.<domain>`, and a StatefulSet
    /// pod's `pod.svc.ns[.svc[.<domain>]]`. Case-insensitive, trailing dot allowed.
    pub fn service_for_host(&self, host: &str, client_namespace: &str) -> Option<&Service> {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        let domain_suffix = format!(".svc.{}", self.options.cluster_domain);
        let (name, qualified) = if let Some(h) = host.strip_suffix(&domain_suffix) {
            (h, true)
        } else if let Some(h) = host.strip_suffix(".svc") {
            (h, true)
        } else {
            (host.as_str(), false)
        };
        let parts: Vec<&str> = name.split('.').collect();
        let (svc, ns) = match parts.as_slice() {
            [svc] if !qualified => (*svc, client_namespace),
            [svc, ns] => (*svc, *ns),
            [_pod, svc, ns] if qualified => (*svc, *ns),
            _ => return None,
        };
        self.service(ns, svc)
    }

    pub fn service(&self, namespace: &str, name: &str) -> Option<&Service> {
        self.cluster
            .services
            .binary_search_by(|s| (s.namespace.as_str(), s.name.as_str()).cmp(&(namespace, name)))
            .ok()
            .map(|i| &self.cluster.services[i])
    }

    /// Where `service` sends traffic on `port`: the pods it selects, by
    /// workload, on their targetPort (a named one resolved on each pod);
    /// for a Service without a selector, the addresses of its hand-written
    /// Endpoints/EndpointSlices. Empty for a port the Service lacks.
    /// Every rule resolves Services here, so that they all agree.
    pub fn backends(&self, service: &Service, port: ServicePortRef) -> Vec<Backend> {
        let ports: Vec<_> = service.ports.iter().filter(|p| port.picks(p)).collect();
        let mut out = Vec::new();
        if selectorless(service) {
            for sp in &ports {
                for m in endpoints::manual(self, service, sp) {
                    out.extend(m.ips.iter().map(|ip| Backend {
                        peer: Peer::Cidr(IpNet::from(*ip)),
                        port: m.port,
                        protocol: m.protocol,
                        service_port: sp.port,
                    }));
                }
            }
        }
        // A Service selects pods of its own namespace only.
        for &i in self.endpoints_in(&service.namespace) {
            let endpoint = &self.cluster.endpoints[i];
            if !service.selects(endpoint) {
                continue;
            }
            for sp in &ports {
                let target = match &sp.target_port {
                    PortRef::Number(n) => Some(*n),
                    PortRef::Name(name) => endpoint.resolve_named_port(name, sp.protocol),
                };
                if let Some(target) = target {
                    out.push(Backend {
                        peer: Peer::Workload(self.workload_of_endpoint(i)),
                        port: target,
                        protocol: sp.protocol,
                        service_port: sp.port,
                    });
                }
            }
        }
        out.sort();
        out.dedup();
        out
    }
}
