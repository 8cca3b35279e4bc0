//! Pods and the workloads whose pod template is the endpoint.

use std::net::IpAddr;

use k8s_openapi::api::{apps::v1 as apps, batch::v1 as batch, core::v1 as core};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::Value;

use super::ctx::{Ctx, idx, key};
use super::names;
use crate::types::{ContainerPort, Endpoint, Labels, Protocol, WorkloadKind};

/// An endpoint plus what is needed to drop workloads whose pods are also given.
pub(crate) struct Loaded {
    pub endpoint: Endpoint,
    pub owners: Vec<(String, String)>,
    /// Completed pods hold no address and receive nothing.
    pub finished: bool,
}

pub(crate) fn load(
    ctx: &mut Ctx,
    kind: WorkloadKind,
    value: &Value,
    default_ns: &str,
) -> Option<Loaded> {
    let (meta, template_meta, spec, spec_path, status) = match kind {
        WorkloadKind::Pod => {
            let pod: core::Pod = ctx.typed(value)?;
            (
                pod.metadata.clone(),
                Some(pod.metadata),
                pod.spec,
                "spec".to_string(),
                pod.status,
            )
        }
        WorkloadKind::Deployment => {
            let d: apps::Deployment = ctx.typed(value)?;
            let t = d.spec.map(|s| s.template);
            split_template(d.metadata, t, "spec.template")
        }
        WorkloadKind::StatefulSet => {
            let d: apps::StatefulSet = ctx.typed(value)?;
            split_template(d.metadata, d.spec.map(|s| s.template), "spec.template")
        }
        WorkloadKind::DaemonSet => {
            let d: apps::DaemonSet = ctx.typed(value)?;
            split_template(d.metadata, d.spec.map(|s| s.template), "spec.template")
        }
        WorkloadKind::ReplicaSet => {
            let d: apps::ReplicaSet = ctx.typed(value)?;
            split_template(d.metadata, d.spec.and_then(|s| s.template), "spec.template")
        }
        WorkloadKind::ReplicationController => {
            let d: core::ReplicationController = ctx.typed(value)?;
            split_template(d.metadata, d.spec.and_then(|s| s.template), "spec.template")
        }
        WorkloadKind::Job => {
            let d: batch::Job = ctx.typed(value)?;
            split_template(d.metadata, d.spec.map(|s| s.template), "spec.template")
        }
        WorkloadKind::CronJob => {
            let d: batch::CronJob = ctx.typed(value)?;
            let t = d.spec.and_then(|s| s.job_template.spec).map(|s| s.template);
            split_template(d.metadata, t, "spec.jobTemplate.spec.template")
        }
    };
    let Some(name) = meta.name.clone().filter(|n| !n.is_empty()) else {
        ctx.error("metadata.name", "a name is required");
        return None;
    };
    let namespace = meta
        .namespace
        .clone()
        .unwrap_or_else(|| default_ns.to_string());
    let labels_path = match kind {
        WorkloadKind::Pod => "metadata.labels".to_string(),
        _ => key(&spec_path, "metadata.labels"),
    };
    let template_meta = template_meta.unwrap_or_default();
    let labels = names::labels(ctx, &labels_path, template_meta.labels.as_ref());
    let annotations: Labels = template_meta.annotations.clone().unwrap_or_default();
    let spec_path = if kind == WorkloadKind::Pod {
        spec_path
    } else {
        key(&spec_path, "spec")
    };
    let (ports, host_network, node) = match &spec {
        Some(spec) => (
            container_ports(ctx, &spec_path, spec),
            spec.host_network.unwrap_or(false),
            spec.node_name.clone().filter(|n| !n.is_empty()),
        ),
        None => (Vec::new(), false, None),
    };
    let ips = status.as_ref().map(|s| pod_ips(ctx, s)).unwrap_or_default();
    let finished = status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .is_some_and(|p| p == "Succeeded" || p == "Failed");
    let owners = meta
        .owner_references
        .iter()
        .flatten()
        .map(|o| (o.kind.clone(), o.name.clone()))
        .collect();
    Some(Loaded {
        endpoint: Endpoint {
            namespace,
            name,
            kind,
            labels,
            annotations,
            ports,
            ips,
            host_network,
            node,
            origin: ctx.origin(""),
        },
        owners,
        finished,
    })
}

type Split = (
    ObjectMeta,
    Option<ObjectMeta>,
    Option<core::PodSpec>,
    String,
    Option<core::PodStatus>,
);

fn split_template(meta: ObjectMeta, template: Option<core::PodTemplateSpec>, path: &str) -> Split {
    let (tmeta, spec) = match template {
        Some(t) => (t.metadata, t.spec),
        None => (None, None),
    };
    (meta, tmeta, spec, path.to_string(), None)
}

fn container_ports(ctx: &mut Ctx, spec_path: &str, spec: &core::PodSpec) -> Vec<ContainerPort> {
    let mut out = Vec::new();
    let containers = spec
        .containers
        .iter()
        .enumerate()
        .map(|(i, c)| (idx(&key(spec_path, "containers"), i), c));
    // Only restartable init containers (sidecars) keep running and listening.
    let sidecars = spec
        .init_containers
        .iter()
        .flatten()
        .enumerate()
        .filter(|(_, c)| c.restart_policy.as_deref() == Some("Always"))
        .map(|(i, c)| (idx(&key(spec_path, "initContainers"), i), c));
    for (cpath, container) in containers.chain(sidecars) {
        for (j, port) in container.ports.iter().flatten().enumerate() {
            let p = idx(&key(&cpath, "ports"), j);
            let Some(number) = u16::try_from(port.container_port).ok().filter(|n| *n > 0) else {
                ctx.error(
                    &key(&p, "containerPort"),
                    format!(
                        "must be between 1 and 65535, inclusive (got {})",
                        port.container_port
                    ),
                );
                continue;
            };
            let protocol = match port.protocol.as_deref() {
                None | Some("") => Protocol::Tcp,
                Some(s) => match Protocol::parse(s) {
                    Some(p) => p,
                    None => {
                        ctx.error(&key(&p, "protocol"), format!("unsupported protocol {s:?}: supported values: \"TCP\", \"UDP\", \"SCTP\""));
                        continue;
                    }
                },
            };
            if let Some(name) = &port.name {
                if let Some(e) = names::port_name_error(name) {
                    ctx.error(&key(&p, "name"), e);
                }
            }
            out.push(ContainerPort {
                name: port.name.clone().filter(|n| !n.is_empty()),
                port: number,
                protocol,
            });
        }
    }
    out.sort();
    out.dedup();
    out
}

fn pod_ips(ctx: &mut Ctx, status: &core::PodStatus) -> Vec<IpAddr> {
    let mut raw: Vec<(String, String)> = status
        .pod_ips
        .iter()
        .flatten()
        .enumerate()
        .map(|(i, ip)| (idx("status.podIPs", i) + ".ip", ip.ip.clone()))
        .collect();
    if let Some(ip) = &status.pod_ip {
        raw.insert(0, ("status.podIP".to_string(), ip.clone()));
    }
    let mut ips = Vec::new();
    for (path, text) in raw {
        if text.is_empty() {
            continue;
        }
        match text.parse::<IpAddr>() {
            Ok(ip) if !ips.contains(&ip) => ips.push(ip),
            Ok(_) => {}
            Err(_) => ctx.error(&path, format!("invalid IP address {text:?}")),
        }
    }
    ips
}
