//! Rule 1: Service references in what a container is given to read: env
//! values (literal, from ConfigMap/Secret keys, `envFrom`), command and args
//! (after `$(VAR)` expansion), and the ConfigMap/Secret files the pod mounts.
//!
//! Only host-like text counts: a URL, `host:port`, a name qualified with
//! `.svc`, or a bare name held by something named like a host (`DB_HOST`).
//! A bare word that happens to equal a Service name (`MODE=web`) is not
//! evidence. Hosts that look in-cluster but name no Service of the input,
//! and encrypted or absent ConfigMaps/Secrets, are reported unresolved.

mod env;
mod files;
mod scan;

use std::collections::BTreeMap;
use std::net::IpAddr;

use k8s_openapi::api::core::v1 as core;
use netpol_model::{Protocol, Service};

use crate::json::Items;
use crate::rules::apiserver::APISERVER_PORT;
use crate::{Confidence, Context, Evidence, Peer, ServicePortRef, Sink, Workload};
use scan::{Form, Reference};

pub use env::expand;
pub use scan::{host_like_name, references};

pub const NAME: &str = "env-url";

/// A reference found in one place of a workload, with the evidence for it.
struct Found {
    reference: Reference,
    /// A port given beside the host (`DB_HOST` + `DB_PORT`).
    paired_port: Option<u16>,
    evidence: Vec<Evidence>,
}

pub fn run(ctx: &Context, out: &mut Sink) {
    for w in &ctx.workloads {
        // One workload's findings, so that what its init and main containers
        // share (an envFrom, a host) is reported once.
        let mut local = Sink::default();
        let sink = &mut local;
        let mut found = Vec::new();
        for (path, c) in w.containers() {
            container(ctx, w, c, &path, sink, &mut found);
        }
        files::volumes(ctx, w, sink, &mut found);
        for f in found {
            resolve(ctx, w, f, sink);
        }
        let d = local.finish();
        for c in d.connections {
            for e in c.evidence {
                out.connect(
                    c.src.clone(),
                    c.dst.clone(),
                    c.port,
                    c.protocol,
                    c.rule,
                    c.confidence,
                    e,
                );
            }
        }
        let mut reported = std::collections::BTreeSet::new();
        for u in d.unresolved {
            if reported.insert(u.reason.clone()) {
                out.unresolved(u.subject, u.rule, u.reason, u.evidence);
            }
        }
    }
}

fn container(
    ctx: &Context,
    w: &Workload,
    c: &core::Container,
    path: &str,
    sink: &mut Sink,
    found: &mut Vec<Found>,
) {
    let vars = env::environment(ctx, w, c, path, sink);
    files::labelled(ctx, w, c, &vars, found);
    let values: BTreeMap<&str, &str> = vars
        .iter()
        .filter_map(|v| Some((v.name.as_str(), v.value.as_deref()?)))
        .collect();
    for var in &vars {
        let Some(value) = &var.value else { continue };
        for reference in references(value, Some(&var.name)) {
            let (paired_port, port_evidence) = match reference.port {
                None => paired_port(&var.name, &vars),
                Some(_) => (None, None),
            };
            let mut evidence = var.evidence.clone();
            evidence.extend(port_evidence);
            found.push(Found {
                reference,
                paired_port,
                evidence,
            });
        }
    }
    let known: BTreeMap<String, String> = values
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    for (list, items) in [("command", &c.command), ("args", &c.args)] {
        let items = items.as_deref().unwrap_or_default();
        for (i, raw) in items.iter().enumerate() {
            let item = expand(raw, &known);
            // `--upstream host`: the flag before a value is its context.
            let flag = i
                .checked_sub(1)
                .map(|j| items[j].as_str())
                .filter(|p| p.starts_with('-') && !p.contains('=') && !item.starts_with('-'))
                .map(|p| p.trim_start_matches('-'));
            let field = w.field(&format!("{path}.{list}[{i}]"));
            for reference in references(&item, flag) {
                let text = match raw.lines().nth(reference.line.0) {
                    Some(line) if raw.contains('\n') => {
                        format!("line {}: {}", reference.line.0 + 1, truncate(line.trim()))
                    }
                    _ => truncate(raw),
                };
                found.push(Found {
                    reference,
                    paired_port: None,
                    evidence: vec![Evidence::at(w.manifest, &field, text)],
                });
            }
        }
    }
}

/// `FOO_HOST` + `FOO_PORT`, `PGHOST` + `PGPORT`, `DB_HOSTNAME` + `DB_PORT`.
fn paired_port(name: &str, vars: &[env::Var]) -> (Option<u16>, Option<Evidence>) {
    let upper = name.to_ascii_uppercase();
    for suffix in ["HOSTNAME", "HOST", "ADDRESS", "ADDR", "SERVER"] {
        // A bare `HOST` + `PORT` is mostly where the app itself listens.
        let Some(prefix) = upper.strip_suffix(suffix).filter(|p| !p.is_empty()) else {
            continue;
        };
        let want = format!("{prefix}PORT");
        if let Some(v) = vars.iter().find(|v| v.name.to_ascii_uppercase() == want) {
            if let Some(port) = v
                .value
                .as_deref()
                .and_then(|p| p.trim().parse::<u16>().ok())
            {
                return (Some(port), v.evidence.first().cloned());
            }
        }
    }
    (None, None)
}

/// The evidence that holds the reference's text itself (a ConfigMap's line
/// rather than the volume that mounts it), for unresolved reports.
fn holder(f: &Found) -> Evidence {
    f.evidence
        .iter()
        .rev()
        .find(|e| e.text.contains(&f.reference.token))
        .unwrap_or(&f.evidence[0])
        .clone()
}

/// Where a host ends up: a Service of the input, an address, the outside.
fn resolve(ctx: &Context, w: &Workload, f: Found, sink: &mut Sink) {
    let r = &f.reference;
    let host = r.host.trim_end_matches('.');
    if let Ok(ip) = host.parse::<IpAddr>() {
        if ip.is_loopback() || ip.is_unspecified() {
            return;
        }
        if let (Some(port), Form::Url | Form::HostPort) = (r.port, r.form) {
            // An address outside the Services: the port is the only doubt.
            let confidence = Confidence::Likely;
            connect_all(
                sink,
                w,
                Peer::Cidr(ip.into()),
                port,
                Protocol::Tcp,
                confidence,
                &f.evidence,
            );
        }
        return;
    }
    if host == "localhost" || host.ends_with(".localhost") {
        return;
    }
    // The `kubernetes` Service of `default` is the API server's, whose
    // endpoints are no pods: its 443 leads to the API server's own port.
    let domain = &ctx.options.cluster_domain;
    let apiserver = ["kubernetes.default", "kubernetes.default.svc"].contains(&host)
        || host == format!("kubernetes.default.svc.{domain}")
        || (host == "kubernetes" && w.namespace == "default");
    if apiserver {
        if r.port.is_none_or(|p| p == 443) {
            let confidence = if r.port.is_some() && !r.default_port {
                Confidence::Certain
            } else {
                Confidence::Likely
            };
            connect_all(
                sink,
                w,
                Peer::KubeApiserver,
                APISERVER_PORT,
                Protocol::Tcp,
                confidence,
                &f.evidence,
            );
        }
        return;
    }
    if let Some(service) = ctx.service_for_host(host, &w.namespace) {
        to_service(ctx, w, service, &f, sink);
        return;
    }
    if looks_in_cluster(ctx, host) {
        sink.unresolved(
            w.id.clone(),
            NAME,
            format!("{host} looks like a Service name, but no Service of the input has it"),
            holder(&f),
        );
        return;
    }
    if ingress_hosts(ctx).iter().any(|h| h == host) {
        sink.unresolved(
            w.id.clone(),
            NAME,
            format!(
                "{host} is a host of an Ingress of this cluster: the traffic goes to the ingress controller or out and back in, depending on DNS"
            ),
            holder(&f),
        );
        return;
    }
    // Outside the cluster: a URL is often the app's own public address or a
    // browser redirect rather than a connection, so propose it for review only.
    if let (Some(port), true, Form::Url | Form::HostPort) = (r.port, host.contains('.'), r.form) {
        connect_all(
            sink,
            w,
            Peer::External,
            port,
            Protocol::Tcp,
            Confidence::Guess,
            &f.evidence,
        );
    }
}

fn connect_all(
    sink: &mut Sink,
    w: &Workload,
    dst: Peer,
    port: u16,
    protocol: Protocol,
    confidence: Confidence,
    evidence: &[Evidence],
) {
    for e in evidence {
        sink.connect(
            Peer::Workload(w.id.clone()),
            dst.clone(),
            port,
            protocol,
            NAME,
            confidence,
            e.clone(),
        );
    }
}

fn to_service(ctx: &Context, w: &Workload, service: &Service, f: &Found, sink: &mut Sink) {
    let r = &f.reference;
    let tcp: Vec<u16> = service
        .ports
        .iter()
        .filter(|p| p.protocol == Protocol::Tcp)
        .map(|p| p.port)
        .collect();
    let (port, confidence) = match (r.port, f.paired_port) {
        (Some(p), _) if !r.default_port => (ServicePortRef::Number(p), Confidence::Certain),
        (Some(p), _) => (ServicePortRef::Number(p), Confidence::Likely),
        (None, Some(p)) => (ServicePortRef::Number(p), Confidence::Certain),
        (None, None) if tcp.len() == 1 => (ServicePortRef::Number(tcp[0]), Confidence::Likely),
        (None, None) => (ServicePortRef::All, Confidence::Guess),
    };
    let backends: Vec<_> = ctx
        .backends(service, port)
        .into_iter()
        .filter(|b| b.protocol == Protocol::Tcp)
        .collect();
    let id = format!("{}/{}", service.namespace, service.name);
    if backends.is_empty() {
        let reason = if crate::resolve::selectorless(service) {
            format!("Service {id} has no selector: its endpoints are not in the input")
        } else if let ServicePortRef::Number(p) = port {
            if service.ports.iter().any(|sp| sp.port == p) {
                format!("Service {id} selects no pod of the input that serves port {p}")
            } else {
                format!("Service {id} has no port {p}")
            }
        } else {
            format!("Service {id} selects no pod of the input")
        };
        sink.unresolved(w.id.clone(), NAME, reason, holder(f));
        return;
    }
    for b in backends {
        // A workload naming its own Service (`--web.external-url`, its
        // serving certificate's names) is no connection to allow.
        if b.workload() == Some(&w.id) {
            continue;
        }
        connect_all(
            sink,
            w,
            b.peer.clone(),
            b.port,
            b.protocol,
            confidence,
            &f.evidence,
        );
    }
}

/// `x.svc`, `x.svc.<domain>`, `x.<domain>`, or `x.<namespace of the input>`.
fn looks_in_cluster(ctx: &Context, host: &str) -> bool {
    let domain = &ctx.options.cluster_domain;
    if host.ends_with(".svc") || host.contains(".svc.") || host.ends_with(&format!(".{domain}")) {
        return true;
    }
    match host.split('.').collect::<Vec<_>>().as_slice() {
        [_, ns] => ctx.cluster.namespaces.contains_key(*ns),
        _ => false,
    }
}

fn ingress_hosts(ctx: &Context) -> Vec<String> {
    let mut out = Vec::new();
    for m in ctx.objects("Ingress") {
        for list in ["spec.rules", "spec.tls"] {
            for item in m.get(list).items() {
                if let Some(h) = item.get("host").and_then(|h| h.as_str()) {
                    out.push(h.to_ascii_lowercase());
                }
                for h in item.get("hosts").items() {
                    if let Some(h) = h.as_str() {
                        out.push(h.to_ascii_lowercase());
                    }
                }
            }
        }
    }
    out
}

pub(crate) fn truncate(s: &str) -> String {
    const MAX: usize = 160;
    if s.chars().count() <= MAX {
        s.to_string()
    } else {
        let cut: String = s.chars().take(MAX).collect();
        format!("{cut}...")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn var(name: &str, value: &str) -> env::Var {
        env::Var {
            name: name.to_string(),
            value: Some(value.to_string()),
            evidence: vec![Evidence {
                file: "f.yaml".into(),
                line: 1,
                object: "Deployment a/b".into(),
                field: "env".into(),
                text: format!("{name}={value}"),
            }],
        }
    }

    #[test]
    fn host_and_port_variables_pair_by_prefix() {
        let vars = [
            var("DB_HOSTNAME", "db"),
            var("DB_PORT", "5433"),
            var("PGHOST", "pg"),
            var("PGPORT", "5432"),
            var("HOST", "api"),
            var("PORT", "3000"),
        ];
        assert_eq!(paired_port("DB_HOSTNAME", &vars).0, Some(5433));
        assert_eq!(paired_port("PGHOST", &vars).0, Some(5432));
        // PORT alone is where the app itself listens.
        assert_eq!(paired_port("HOST", &vars).0, None);
        assert_eq!(paired_port("CACHE_HOST", &vars).0, None);
    }
}
