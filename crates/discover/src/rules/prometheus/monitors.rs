//! ServiceMonitor, PodMonitor and ScrapeConfig targets, from each Prometheus
//! that selects them.

use std::collections::BTreeSet;
use std::net::IpAddr;

use ipnet::IpNet;
use netpol_model::{Manifest, Protocol, Service};
use serde_json::Value;

use super::selector::{labels_at, matches};
use super::{NAME, Scraper, Server, scrapers};
use crate::json::Items;
use crate::resolve;
use crate::{Context, Evidence, Peer, ServicePortRef, Sink, url};

const GROUP: &str = "monitoring.coreos.com";

/// (scraper, target, port) pairs the monitors produced.
pub(super) type Covered = BTreeSet<(String, Peer, u16)>;

pub(super) fn run(ctx: &Context, sink: &mut Sink, servers: &[Server]) -> Covered {
    let mut covered = Covered::new();
    let sink = &mut Out {
        sink,
        covered: &mut covered,
    };
    for m in ctx
        .objects("ServiceMonitor")
        .iter()
        .filter(|m| m.group() == GROUP)
    {
        let scrapers = scrapers(ctx, sink.sink, servers, "serviceMonitor", m);
        service_monitor(ctx, sink, &scrapers, m);
    }
    for m in ctx
        .objects("PodMonitor")
        .iter()
        .filter(|m| m.group() == GROUP)
    {
        let scrapers = scrapers(ctx, sink.sink, servers, "podMonitor", m);
        pod_monitor(ctx, sink, &scrapers, m);
    }
    for m in ctx
        .objects("ScrapeConfig")
        .iter()
        .filter(|m| m.group() == GROUP)
    {
        let scrapers = scrapers(ctx, sink.sink, servers, "scrapeConfig", m);
        scrape_config(ctx, sink, &scrapers, m);
    }
    covered
}

/// The sink, remembering what was emitted.
struct Out<'a> {
    sink: &'a mut Sink,
    covered: &'a mut Covered,
}

impl Out<'_> {
    fn unresolved(
        &mut self,
        subject: String,
        rule: &'static str,
        reason: impl Into<String>,
        evidence: Evidence,
    ) {
        self.sink.unresolved(subject, rule, reason, evidence);
    }
}

fn emit(out: &mut Out, scrapers: &[Scraper], dst: Peer, port: u16, evidence: &Evidence) {
    for s in scrapers {
        if s.scrape(out.sink, &dst, port, evidence) {
            out.covered.insert((s.workload.clone(), dst.clone(), port));
        }
    }
}

/// The namespaces a monitor looks in: `spec.namespaceSelector` (`any`,
/// `matchNames`), by default its own.
fn namespaces(ctx: &Context, m: &Manifest) -> Vec<String> {
    let own = m.namespace.clone().unwrap_or_default();
    let Some(sel) = m.get("spec.namespaceSelector") else {
        return vec![own];
    };
    if sel.get("any").and_then(Value::as_bool) == Some(true) {
        return ctx.cluster.namespaces.keys().cloned().collect();
    }
    match sel.get("matchNames").and_then(Value::as_array) {
        Some(names) if !names.is_empty() => names
            .iter()
            .filter_map(|n| n.as_str().map(str::to_string))
            .collect(),
        _ => vec![own],
    }
}

fn service_monitor(ctx: &Context, sink: &mut Out, scrapers: &[Scraper], m: &Manifest) {
    if scrapers.is_empty() {
        return;
    }
    let nss = namespaces(ctx, m);
    let selector = m.get("spec.selector").cloned().unwrap_or(Value::Null);
    let services: Vec<&Service> = ctx
        .objects("Service")
        .iter()
        .filter(|s| s.namespace.as_ref().is_some_and(|ns| nss.contains(ns)))
        .filter(|s| matches(&selector, &labels_at(&s.value, "metadata.labels")))
        .filter_map(|s| ctx.service(s.namespace.as_deref()?, &s.name))
        .collect();
    if services.is_empty() {
        sink.unresolved(
            m.display_name(),
            NAME,
            "its selector matches no Service of the input",
            Evidence::at(m, "spec.selector", super::compact(&selector)),
        );
        return;
    }
    let endpoints = m.get("spec.endpoints").items();
    for (i, e) in endpoints.enumerate() {
        let field = format!("spec.endpoints[{i}]");
        let port_ref = match (e.get("port").and_then(Value::as_str), e.get("targetPort")) {
            (Some(p), _) => ServicePortRef::Name(p),
            (None, Some(Value::Number(n))) => n
                .as_u64()
                .and_then(|n| u16::try_from(n).ok())
                .map_or(ServicePortRef::All, ServicePortRef::Number),
            _ => ServicePortRef::All,
        };
        let mut outside: Vec<(Peer, u16)> = Vec::new();
        for s in services.iter().filter(|s| resolve::selectorless(s)) {
            outside.extend(selectorless(ctx, s, port_ref));
        }
        let services: Vec<&Service> = services
            .iter()
            .copied()
            .filter(|s| !resolve::selectorless(s))
            .collect();
        let (text, targets) = if let Some(port) = e.get("port").and_then(Value::as_str) {
            let t = services
                .iter()
                .flat_map(|s| ctx.backends(s, ServicePortRef::Name(port)))
                .map(|b| (b.peer, b.port))
                .collect::<Vec<_>>();
            (format!("port: {port}"), t)
        } else if let Some(tp) = e.get("targetPort") {
            let t = services
                .iter()
                .flat_map(|s| target_port(ctx, s, tp))
                .collect::<Vec<_>>();
            (format!("targetPort: {}", scalar(tp)), t)
        } else {
            let t = services
                .iter()
                .flat_map(|s| ctx.backends(s, ServicePortRef::All))
                .filter(|b| b.protocol == Protocol::Tcp)
                .map(|b| (b.peer, b.port))
                .collect::<Vec<_>>();
            ("every port of the selected Services".to_string(), t)
        };
        let evidence = Evidence::at(m, &field, text.clone());
        for (peer, port) in &outside {
            emit(sink, scrapers, peer.clone(), *port, &evidence);
        }
        if targets.is_empty() && outside.is_empty() {
            sink.unresolved(
                m.display_name(),
                NAME,
                format!("endpoint {text}: no pod port behind the selected Services"),
                Evidence::at(m, &field, text.clone()),
            );
            continue;
        }
        for (peer, port) in targets {
            emit(sink, scrapers, peer, port, &evidence);
        }
    }
}

/// A Service without a selector: the API server's own `default/kubernetes`,
/// the kubelet Service prometheus-operator keeps filled with the nodes'
/// addresses, or hand-written Endpoints.
fn selectorless(ctx: &Context, service: &Service, port: ServicePortRef) -> Vec<(Peer, u16)> {
    let ports = service.ports.iter().filter(|p| port.picks(p));
    if service.namespace == "default" && service.name == "kubernetes" {
        return ports
            .filter_map(|p| match p.target_port {
                netpol_model::PortRef::Number(n) => Some((Peer::KubeApiserver, n)),
                netpol_model::PortRef::Name(_) => None,
            })
            .collect();
    }
    let labels = ctx
        .objects("Service")
        .iter()
        .find(|m| m.name == service.name && m.namespace.as_deref() == Some(&service.namespace))
        .map(|m| labels_at(&m.value, "metadata.labels"))
        .unwrap_or_default();
    if labels.get("k8s-app").map(String::as_str) == Some("kubelet")
        && labels
            .get("app.kubernetes.io/managed-by")
            .map(String::as_str)
            == Some("prometheus-operator")
    {
        return ports.map(|p| (Peer::Nodes, p.port)).collect();
    }
    ctx.backends(service, port)
        .into_iter()
        .map(|b| (b.peer, b.port))
        .collect()
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A ServiceMonitor `targetPort`: the pods' own port, by number or by
/// container port name, on the pods the Service selects.
fn target_port(ctx: &Context, service: &Service, tp: &Value) -> Vec<(Peer, u16)> {
    let mut out = Vec::new();
    for &i in ctx.endpoints_in(&service.namespace) {
        let e = &ctx.cluster.endpoints[i];
        if !service.selects(e) {
            continue;
        }
        let port = match tp {
            Value::Number(n) => n.as_u64().and_then(|n| u16::try_from(n).ok()),
            Value::String(s) => s
                .parse()
                .ok()
                .or_else(|| e.resolve_named_port(s, Protocol::Tcp)),
            _ => None,
        };
        if let Some(p) = port {
            out.push((Peer::Workload(ctx.workload_of_endpoint(i)), p));
        }
    }
    out.sort();
    out.dedup();
    out
}

fn pod_monitor(ctx: &Context, sink: &mut Out, scrapers: &[Scraper], m: &Manifest) {
    if scrapers.is_empty() {
        return;
    }
    let nss = namespaces(ctx, m);
    let selector = m.get("spec.selector").cloned().unwrap_or(Value::Null);
    let pods: Vec<_> = ctx
        .workloads
        .iter()
        .filter(|w| nss.contains(&w.namespace) && matches(&selector, &w.labels))
        .collect();
    if pods.is_empty() {
        sink.unresolved(
            m.display_name(),
            NAME,
            "its selector matches no pods of the input",
            Evidence::at(m, "spec.selector", super::compact(&selector)),
        );
        return;
    }
    let endpoints = m.get("spec.podMetricsEndpoints").items();
    for (i, e) in endpoints.enumerate() {
        let field = format!("spec.podMetricsEndpoints[{i}]");
        let name = e.get("port").and_then(Value::as_str);
        let number = e
            .get("portNumber")
            .and_then(Value::as_u64)
            .and_then(|n| u16::try_from(n).ok());
        let target = e.get("targetPort");
        let text = match (name, number, target) {
            (Some(n), ..) => format!("port: {n}"),
            (None, Some(n), _) => format!("portNumber: {n}"),
            (None, None, Some(t)) => format!("targetPort: {}", scalar(t)),
            _ => "every declared port".to_string(),
        };
        let evidence = Evidence::at(m, &field, text.clone());
        let mut found = false;
        for w in &pods {
            let ports: Vec<&k8s_openapi::api::core::v1::ContainerPort> = w
                .pod_spec
                .containers
                .iter()
                .flat_map(|c| c.ports.iter().flatten())
                .filter(|p| p.protocol.as_deref().unwrap_or("TCP") == "TCP")
                .collect();
            let chosen: Vec<u16> = match (name, number, target) {
                (Some(n), ..) => ports
                    .iter()
                    .filter(|p| p.name.as_deref() == Some(n))
                    .filter_map(|p| u16::try_from(p.container_port).ok())
                    .collect(),
                (None, Some(n), _) => vec![n],
                (None, None, Some(Value::Number(n))) => n
                    .as_u64()
                    .and_then(|n| u16::try_from(n).ok())
                    .into_iter()
                    .collect(),
                (None, None, Some(Value::String(s))) => ports
                    .iter()
                    .filter(|p| p.name.as_deref() == Some(s.as_str()))
                    .filter_map(|p| u16::try_from(p.container_port).ok())
                    .collect(),
                _ => ports
                    .iter()
                    .filter_map(|p| u16::try_from(p.container_port).ok())
                    .collect(),
            };
            for port in chosen {
                found = true;
                emit(
                    sink,
                    scrapers,
                    Peer::Workload(w.id.clone()),
                    port,
                    &evidence,
                );
            }
        }
        if !found {
            sink.unresolved(
                m.display_name(),
                NAME,
                format!("endpoint {text}: no such port on the selected pods"),
                evidence,
            );
        }
    }
}

fn scrape_config(ctx: &Context, sink: &mut Out, scrapers: &[Scraper], m: &Manifest) {
    if scrapers.is_empty() {
        return;
    }
    let ns = m.namespace.clone().unwrap_or_default();
    let scheme = m
        .get("spec.scheme")
        .and_then(Value::as_str)
        .unwrap_or("http")
        .to_ascii_lowercase();
    let statics = m.get("spec.staticConfigs").items();
    for (i, sc) in statics.enumerate() {
        let targets = sc.get("targets").items();
        for (j, t) in targets.enumerate() {
            let Some(text) = t.as_str() else { continue };
            let field = format!("spec.staticConfigs[{i}].targets[{j}]");
            let evidence = Evidence::at(m, &field, text);
            let Some(target) = url::parse(&format!("{scheme}://{text}")) else {
                sink.unresolved(
                    m.display_name(),
                    NAME,
                    "a target netpol cannot read",
                    evidence,
                );
                continue;
            };
            let port = target.port.unwrap_or(80);
            if let Ok(ip) = target.host.trim_matches(['[', ']']).parse::<IpAddr>() {
                emit(sink, scrapers, Peer::Cidr(IpNet::from(ip)), port, &evidence);
            } else if let Some(svc) = ctx.service_for_host(&target.host, &ns) {
                let backends = ctx.backends(svc, ServicePortRef::Number(port));
                if backends.is_empty() {
                    sink.unresolved(
                        m.display_name(),
                        NAME,
                        format!(
                            "Service {} has no pods on port {port} in the input",
                            svc.id()
                        ),
                        evidence.clone(),
                    );
                }
                for b in backends {
                    emit(sink, scrapers, b.peer, b.port, &evidence);
                }
            } else if target.host.contains('.')
                && !target.host.ends_with(".svc")
                && !target.host.contains(".svc.")
            {
                emit(sink, scrapers, Peer::External, port, &evidence);
            } else {
                sink.unresolved(
                    m.display_name(),
                    NAME,
                    format!("target host {} names no Service of the input", target.host),
                    evidence,
                );
            }
        }
    }
    if let Some(obj) = m.get("spec").and_then(Value::as_object) {
        for key in obj.keys().filter(|k| k.ends_with("SDConfigs")) {
            sink.unresolved(
                m.display_name(),
                NAME,
                format!("{key} discover their targets at run time: not followed"),
                Evidence::at(m, &format!("spec.{key}"), key.clone()),
            );
        }
    }
}
