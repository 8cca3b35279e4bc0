//! Split horizon outside CoreDNS: a DNS server run in the cluster (blocky,
//! dnsmasq, Pi-hole, ...) whose configuration, in a ConfigMap its pods
//! mount, answers an Ingress host (or a parent domain) with the ingress
//! controller Service's load-balancer address. Pods that call the host then
//! reach the controller through that address, provided the cluster's DNS
//! forwards to that server, which the manifests do not show: likely.

use std::collections::BTreeSet;
use std::net::IpAddr;

use netpol_model::{Manifest, Service};

use super::{connect, destinations, refs, service_ips, value_line};
use crate::rules::ingress::Host;
use crate::sources::{self, Kind, config_maps_seen, mounts};
use crate::{Confidence, Context, Evidence, Sink};

/// `(Service, controller)` pairs: the Services in front of Ingress
/// controllers, with the load-balancer addresses they answer on.
fn controller_services<'c>(
    ctx: &'c Context<'c>,
    hosts: &[Host],
) -> Vec<(&'c Service, Vec<IpAddr>)> {
    let controllers: BTreeSet<&str> = hosts
        .iter()
        .flat_map(|h| h.controllers.iter().map(|c| c.workload.as_str()))
        .collect();
    ctx.cluster
        .services
        .iter()
        .filter(|s| {
            ctx.backends(s, crate::ServicePortRef::All)
                .iter()
                .any(|b| b.workload().is_some_and(|w| controllers.contains(w)))
        })
        .map(|s| (s, service_ips(ctx, s, false)))
        .filter(|(_, ips)| !ips.is_empty())
        .collect()
}

fn mounted_by_a_workload(ctx: &Context, cm: &Manifest) -> bool {
    ctx.workloads.iter().any(|w| {
        Some(w.namespace.as_str()) == cm.namespace.as_deref()
            && mounts(w)
                .iter()
                .any(|m| m.kind == Kind::ConfigMap && m.name == cm.name)
    })
}

/// Tokens of a configuration line: words split at what DNS server configs
/// put around names and addresses (`elmstreet79.de: 1.2.3.4`,
/// `address=/example.com/1.2.3.4`, `1.2.3.4 host`).
fn tokens(line: &str) -> Vec<&str> {
    line.split(|c: char| {
        c.is_whitespace() || matches!(c, '/' | '=' | ',' | '"' | '\'' | '[' | ']' | '{' | '}')
    })
    .map(|t| t.trim_matches(|c: char| c == ':' || c == '.' || c == '*'))
    .filter(|t| !t.is_empty())
    .collect()
}

pub(super) fn run(ctx: &Context, sink: &mut Sink, hosts: &[Host], done: &BTreeSet<String>) {
    let services = controller_services(ctx, hosts);
    if services.is_empty() {
        return;
    }
    for cm in ctx.objects("ConfigMap") {
        if cm.namespace.as_deref() == Some("kube-system") && cm.name.contains("coredns") {
            continue;
        }
        if !mounted_by_a_workload(ctx, cm) {
            continue;
        }
        for entry in sources::data(cm).into_values() {
            for (n, line) in entry.value.lines().enumerate() {
                let toks = tokens(line.split('#').next().unwrap_or(""));
                for (svc, ips) in &services {
                    if !toks
                        .iter()
                        .any(|t| t.parse::<IpAddr>().is_ok_and(|ip| ips.contains(&ip)))
                    {
                        continue;
                    }
                    let domains: Vec<&str> = toks
                        .iter()
                        .copied()
                        .filter(|t| t.contains('.') && t.parse::<IpAddr>().is_err())
                        .map(|t| t.trim_end_matches('.'))
                        .collect();
                    let mut evidence = Evidence::at(cm, &entry.field, line.trim());
                    evidence.line = value_line(cm, &entry.field, n + 1);
                    let mut seen = BTreeSet::new();
                    for h in hosts {
                        let host = h.host.trim_start_matches("*.");
                        let mapped = domains.iter().any(|d| {
                            let d = d.to_ascii_lowercase();
                            host == d || host.ends_with(&format!(".{d}"))
                        });
                        if !mapped || done.contains(host) || !seen.insert(host.to_string()) {
                            continue;
                        }
                        callers(ctx, sink, svc, h, host, &evidence, cm);
                    }
                }
            }
        }
    }
}

/// Pods that call `host`, other than the DNS server that holds the mapping
/// and the host's own backends (an app's own public URL is configuration,
/// not a call).
fn callers(
    ctx: &Context,
    sink: &mut Sink,
    svc: &Service,
    h: &Host,
    host: &str,
    mapping: &Evidence,
    dns_config: &Manifest,
) {
    let declared = &h.evidence;
    for r in refs::references(ctx, host) {
        let server = ctx.workload_by_id(&r.workload).is_some_and(|w| {
            Some(w.namespace.as_str()) == dns_config.namespace.as_deref()
                && config_maps_seen(w).contains(&dns_config.name)
        });
        if server || h.backends.contains(&r.workload) {
            continue;
        }
        let (ports, confidence) = match r.port {
            Some(p) => (vec![p], Confidence::Likely),
            None => (vec![80, 443], Confidence::Guess),
        };
        for port in ports {
            let dsts = destinations(ctx, svc, port);
            connect(
                sink,
                &r.workload,
                dsts,
                confidence,
                &[&r.evidence, mapping, declared],
            );
        }
    }
}
