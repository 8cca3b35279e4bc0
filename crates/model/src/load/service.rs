//! Services: which pods they front and how their ports map to container ports.

use std::net::IpAddr;

use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::Value;

use super::ctx::{Ctx, idx, key};
use super::names;
use crate::types::{PortRef, Protocol, Service, ServicePort};

pub(crate) fn load(ctx: &mut Ctx, value: &Value, default_ns: &str) -> Option<Service> {
    let svc: core::Service = ctx.typed(value)?;
    let Some(name) = svc.metadata.name.clone().filter(|n| !n.is_empty()) else {
        ctx.error("metadata.name", "a name is required");
        return None;
    };
    let spec = svc.spec.unwrap_or_default();
    let mut ports = Vec::new();
    for (i, p) in spec.ports.iter().flatten().enumerate() {
        let path = idx("spec.ports", i);
        let Some(port) = u16::try_from(p.port).ok().filter(|n| *n > 0) else {
            ctx.error(
                &key(&path, "port"),
                format!("must be between 1 and 65535, inclusive (got {})", p.port),
            );
            continue;
        };
        let protocol = match p.protocol.as_deref() {
            None | Some("") => Protocol::Tcp,
            Some(s) => match Protocol::parse(s) {
                Some(pr) => pr,
                None => {
                    ctx.error(&key(&path, "protocol"), format!("unsupported protocol {s:?}: supported values: \"TCP\", \"UDP\", \"SCTP\""));
                    continue;
                }
            },
        };
        let target_port = match &p.target_port {
            None => PortRef::Number(port),
            Some(IntOrString::Int(0)) => PortRef::Number(port),
            Some(IntOrString::Int(n)) => match u16::try_from(*n) {
                Ok(n) => PortRef::Number(n),
                Err(_) => {
                    ctx.error(
                        &key(&path, "targetPort"),
                        format!("must be between 1 and 65535, inclusive (got {n})"),
                    );
                    continue;
                }
            },
            Some(IntOrString::String(s)) => {
                if let Some(e) = names::port_name_error(s) {
                    ctx.error(&key(&path, "targetPort"), e);
                }
                PortRef::Name(s.clone())
            }
        };
        ports.push(ServicePort {
            name: p.name.clone(),
            port,
            protocol,
            target_port,
        });
    }
    let cluster_ips = spec
        .cluster_ips
        .clone()
        .or_else(|| spec.cluster_ip.clone().map(|ip| vec![ip]))
        .unwrap_or_default()
        .iter()
        .filter_map(|ip| ip.parse::<IpAddr>().ok())
        .collect();
    Some(Service {
        namespace: svc
            .metadata
            .namespace
            .clone()
            .unwrap_or_else(|| default_ns.to_string()),
        name,
        selector: spec.selector.clone(),
        ports,
        cluster_ips,
        service_type: spec
            .type_
            .clone()
            .unwrap_or_else(|| "ClusterIP".to_string()),
        annotations: svc.metadata.annotations.clone().unwrap_or_default(),
        origin: ctx.origin(""),
    })
}
