//! Which port a destination pod really receives a flow's traffic on: a
//! literal port as written, a named, `service` or `metrics` port resolved on
//! the pod and through the Services in front of it.

use netpol_model::{Endpoint, PortRef, Protocol, Service};

use super::types::PortSel;
use crate::spec::PortSpec;

pub(super) fn literal_port(spec: &PortSpec) -> Option<PortSel> {
    match *spec {
        PortSpec::Number(n, p) => Some(PortSel::single(n, p)),
        PortSpec::Range(a, b, p) => Some(PortSel::Range {
            start: a,
            end: b,
            protocol: p,
        }),
        PortSpec::Any => Some(PortSel::Any),
        _ => None,
    }
}

pub(super) struct Resolved {
    pub(super) ports: Vec<PortSel>,
    pub(super) notes: Vec<String>,
    /// The destination listens on it (declares it, or a Service leads to it).
    pub(super) listened: bool,
    /// A Service port led to a different pod port.
    pub(super) translated: bool,
}

const METRICS_ANNOTATION: &str = "prometheus.io/port";

/// The pod ports `spec` means on `e`, which `services` select.
pub(super) fn resolve(e: &Endpoint, services: &[&Service], spec: &PortSpec) -> Resolved {
    let mut r = Resolved {
        ports: Vec::new(),
        notes: Vec::new(),
        listened: false,
        translated: false,
    };
    let declares =
        |port: u16, p: Protocol| e.ports.iter().any(|c| c.port == port && c.protocol == p);
    // A Service port leads to its targetPort on the pod, a number or a name.
    let via_service = |r: &mut Resolved,
                       svc: &Service,
                       sp: &netpol_model::ServicePort,
                       always_note: bool| {
        let target = match &sp.target_port {
            PortRef::Number(t) => Some(*t),
            PortRef::Name(n) => e.resolve_named_port(n, sp.protocol),
        };
        match target {
            Some(t) => {
                r.ports.push(PortSel::single(t, sp.protocol));
                r.listened = true;
                if t != sp.port || always_note {
                    r.translated |= t != sp.port;
                    let via = match &sp.target_port {
                        PortRef::Name(n) => format!("targetPort {n} ({t})"),
                        PortRef::Number(_) => format!("targetPort {t}"),
                    };
                    r.notes.push(format!(
                        "{}/{} is Service {} port {}, which sends it to {via} on {}: the policy allows {t}/{}",
                        sp.port,
                        sp.protocol,
                        svc.id(),
                        sp.port,
                        e.id(),
                        sp.protocol
                    ));
                }
            }
            None => r.notes.push(format!(
                "Service {} port {}/{} targets port {}, which {} does not declare: nothing to allow",
                svc.id(),
                sp.port,
                sp.protocol,
                sp.target_port,
                e.id()
            )),
        }
    };
    match spec {
        PortSpec::Any => {
            r.ports.push(PortSel::Any);
            r.listened = true;
        }
        PortSpec::Number(n, p) => {
            if declares(*n, *p) {
                r.ports.push(PortSel::single(*n, *p));
                r.listened = true;
            }
            let mut by_service = false;
            for svc in services {
                for sp in svc
                    .ports
                    .iter()
                    .filter(|sp| sp.port == *n && sp.protocol == *p)
                {
                    by_service = true;
                    via_service(&mut r, svc, sp, false);
                }
            }
            if !r.listened && !by_service {
                // Nothing says the pod listens there; the flow says so, and
                // pods need not declare their ports.
                r.ports.push(PortSel::single(*n, *p));
            }
        }
        PortSpec::Range(a, b, p) => {
            r.ports.push(PortSel::Range {
                start: *a,
                end: *b,
                protocol: *p,
            });
            r.listened = e
                .ports
                .iter()
                .any(|c| c.protocol == *p && (*a..=*b).contains(&c.port));
        }
        PortSpec::Name(n, p) => {
            if let Some(port) = e.resolve_named_port(n, *p) {
                r.ports.push(PortSel::single(port, *p));
                r.listened = true;
            } else {
                for svc in services {
                    for sp in svc
                        .ports
                        .iter()
                        .filter(|sp| sp.name.as_deref() == Some(n) && sp.protocol == *p)
                    {
                        via_service(&mut r, svc, sp, true);
                    }
                }
            }
        }
        PortSpec::Service => {
            for svc in services {
                for sp in &svc.ports {
                    via_service(&mut r, svc, sp, false);
                }
            }
        }
        // Only with ingress-backends, which `destinations` answers itself.
        PortSpec::Backend => {}
        PortSpec::Metrics => {
            for c in &e.ports {
                if c.name.as_deref().is_some_and(|n| n.contains("metrics")) {
                    r.ports.push(PortSel::single(c.port, c.protocol));
                }
            }
            let annotated =
                std::iter::once(&e.annotations).chain(services.iter().map(|s| &s.annotations));
            for a in annotated {
                if let Some(port) = a
                    .get(METRICS_ANNOTATION)
                    .and_then(|v| v.trim().parse::<u16>().ok())
                    .filter(|p| *p > 0)
                {
                    r.ports.push(PortSel::single(port, Protocol::Tcp));
                }
            }
            r.listened = !r.ports.is_empty();
        }
    }
    r
}
