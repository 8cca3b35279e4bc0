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
    // (path of the count, its value): `None` when the kind has none.
    let mut count: Option<(&str, Option<i32>)> = None;
    let split = match kind {
        WorkloadKind::Pod => {
            let typed = ctx.typed(value)?;
            return pod(ctx, typed, default_ns);
        }
        WorkloadKind::Deployment => {
            let d: apps::Deployment = ctx.typed(value)?;
            count = Some(("spec.replicas", d.spec.as_ref().and_then(|s| s.replicas)));
            let t = d.spec.map(|s| s.template);
            split_template(d.metadata, t, "spec.template")
        }
        WorkloadKind::StatefulSet => {
            let d: apps::StatefulSet = ctx.typed(value)?;
            count = Some(("spec.replicas", d.spec.as_ref().and_then(|s| s.replicas)));
            split_template(d.metadata, d.spec.map(|s| s.template), "spec.template")
        }
        WorkloadKind::DaemonSet => {
            let d: apps::DaemonSet = ctx.typed(value)?;
            split_template(d.metadata, d.spec.map(|s| s.template), "spec.template")
        }
        WorkloadKind::ReplicaSet => {
            let d: apps::ReplicaSet = ctx.typed(value)?;
            count = Some(("spec.replicas", d.spec.as_ref().and_then(|s| s.replicas)));
            split_template(d.metadata, d.spec.and_then(|s| s.template), "spec.template")
        }
        WorkloadKind::ReplicationController => {
            let d: core::ReplicationController = ctx.typed(value)?;
            count = Some(("spec.replicas", d.spec.as_ref().and_then(|s| s.replicas)));
            split_template(d.metadata, d.spec.and_then(|s| s.template), "spec.template")
        }
        WorkloadKind::Job => {
            let d: batch::Job = ctx.typed(value)?;
            count = Some((
                "spec.parallelism",
                d.spec.as_ref().and_then(|s| s.parallelism),
            ));
            split_template(d.metadata, d.spec.map(|s| s.template), "spec.template")
        }
        WorkloadKind::CronJob => {
            let d: batch::CronJob = ctx.typed(value)?;
            let parallelism = d
                .spec
                .as_ref()
                .and_then(|s| s.job_template.spec.as_ref())
                .and_then(|s| s.parallelism);
            count = Some(("spec.jobTemplate.spec.parallelism", parallelism));
            let t = d.spec.and_then(|s| s.job_template.spec).map(|s| s.template);
            split_template(d.metadata, t, "spec.jobTemplate.spec.template")
        }
    };
    endpoint(ctx, kind, split, count, default_ns)
}

/// A Pod, however it was read.
pub(crate) fn pod(ctx: &mut Ctx, mut pod: core::Pod, default_ns: &str) -> Option<Loaded> {
    // A Pod is its own template: its labels and annotations move there.
    let template = ObjectMeta {
        labels: pod.metadata.labels.take(),
        annotations: pod.metadata.annotations.take(),
        ..ObjectMeta::default()
    };
    let split = (
        pod.metadata,
        Some(template),
        pod.spec,
        "spec".to_string(),
        pod.status,
    );
    endpoint(ctx, WorkloadKind::Pod, split, None, default_ns)
}

/// The endpoint of a workload's pods: `count` is where its replica count
/// is and what it says, when its kind has one.
fn endpoint(
    ctx: &mut Ctx,
    kind: WorkloadKind,
    (meta, template_meta, spec, spec_path, status): Split,
    count: Option<(&str, Option<i32>)>,
    default_ns: &str,
) -> Option<Loaded> {
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
    let labels = names::checked_labels(ctx, &labels_path, template_meta.labels);
    let annotations: Labels = template_meta.annotations.unwrap_or_default();
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
    let mut ips = status.as_ref().map(|s| pod_ips(ctx, s)).unwrap_or_default();
    let host_ips = status
        .as_ref()
        .map(|s| host_ips(ctx, s))
        .unwrap_or_default();
    // A host-network pod's address is its node's: status.podIP equals
    // status.hostIP, and the host IP stands in when only it is given.
    if host_network && ips.is_empty() {
        ips.clone_from(&host_ips);
    }
    // A host-network pod's own address is its node's.
    let host_ip = host_ips
        .first()
        .or(ips.first().filter(|_| host_network))
        .copied();
    let replicas = match (kind, count) {
        (WorkloadKind::Pod, _) => Some(1),
        // One pod per eligible node: how many is not in the manifest.
        (WorkloadKind::DaemonSet, _) => None,
        (_, None | Some((_, None))) => Some(1),
        (_, Some((path, Some(n)))) => match u32::try_from(n) {
            Ok(n) => Some(n),
            Err(_) => {
                ctx.error(path, format!("must be greater than or equal to 0, got {n}"));
                Some(1)
            }
        },
    };
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
            host_ip,
            replicas,
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
        .map(|(i, c)| (("containers", i), c));
    // Only restartable init containers (sidecars) keep running and listening.
    let sidecars = spec
        .init_containers
        .iter()
        .flatten()
        .enumerate()
        .filter(|(_, c)| c.restart_policy.as_deref() == Some("Always"))
        .map(|(i, c)| (("initContainers", i), c));
    for ((list, i), container) in containers.chain(sidecars) {
        for (j, port) in container.ports.iter().flatten().enumerate() {
            // Formatted only for a port that has a problem.
            let p = || idx(&key(&idx(&key(spec_path, list), i), "ports"), j);
            let Some(number) = u16::try_from(port.container_port).ok().filter(|n| *n > 0) else {
                ctx.error(
                    &key(&p(), "containerPort"),
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
                        ctx.error(&key(&p(), "protocol"), format!("unsupported protocol {s:?}: supported values: \"TCP\", \"UDP\", \"SCTP\""));
                        continue;
                    }
                },
            };
            if let Some(name) = &port.name {
                if let Some(e) = names::port_name_error(name) {
                    ctx.error(&key(&p(), "name"), e);
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
    let list = status.pod_ips.iter().flatten().map(|ip| ip.ip.as_str());
    parse_ips(
        ctx,
        ("status.podIP", status.pod_ip.as_deref()),
        ("status.podIPs", list),
    )
}

/// `status.hostIP` then `status.hostIPs`, the node's addresses.
fn host_ips(ctx: &mut Ctx, status: &core::PodStatus) -> Vec<IpAddr> {
    let list = status.host_ips.iter().flatten().map(|ip| ip.ip.as_str());
    parse_ips(
        ctx,
        ("status.hostIP", status.host_ip.as_deref()),
        ("status.hostIPs", list),
    )
}

/// The primary address first, then the list; de-duplicated, invalid ones
/// reported (the path of one formatted then).
fn parse_ips<'a>(
    ctx: &mut Ctx,
    (primary_path, primary): (&str, Option<&'a str>),
    (list_path, list): (&str, impl Iterator<Item = &'a str>),
) -> Vec<IpAddr> {
    let listed = list.enumerate().map(|(i, ip)| (Some(i), ip));
    let raw = primary.map(|ip| (None, ip)).into_iter().chain(listed);
    let mut ips = Vec::new();
    for (at, text) in raw {
        if text.is_empty() {
            continue;
        }
        match text.parse::<IpAddr>() {
            Ok(ip) if !ips.contains(&ip) => ips.push(ip),
            Ok(_) => {}
            Err(_) => {
                let path = match at {
                    Some(i) => idx(list_path, i) + ".ip",
                    None => primary_path.to_string(),
                };
                ctx.error(&path, format!("invalid IP address {text:?}"));
            }
        }
    }
    ips
}
