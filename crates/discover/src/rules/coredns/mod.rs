//! Split-horizon DNS: CoreDNS answers some outside names with an address in
//! the cluster (a `hosts` entry, a `rewrite name` rule in kube-system's
//! `coredns` ConfigMap or k3s's `coredns-custom` `*.server`/`*.override`
//! keys). A pod that calls such a name, typically an Ingress host such as
//! an OIDC issuer `https://auth.example.com`, connects to the pods behind
//! that address, usually the ingress controller, instead of leaving the
//! cluster.
//!
//! Sound only where both ends are in the manifests: the override (which
//! name, which Service) and the client (a URL with that host). Certain when
//! the override names the Service (a rewrite to its DNS name, a hosts entry
//! with its ClusterIP or load-balancer IP); likely when the hosts entry's
//! address is not in the input (allocated at run time, or a placeholder
//! filled in at deploy time) but the name is an Ingress host, whose
//! controller is then the only sensible target; unresolved otherwise.

mod corefile;
mod lan;
pub mod refs;

use std::net::IpAddr;

use netpol_model::{Manifest, Protocol, Service};
use serde_json::Value;

use crate::json::Items;
use crate::rules::ingress;
use crate::sources;
use crate::{Confidence, Context, Evidence, Peer, ServicePortRef, Sink};
use corefile::Entry;

pub const NAME: &str = "coredns-hosts";

/// Where an overridden name leads.
#[derive(Clone, Copy)]
enum Target<'c> {
    /// A Service, for certain.
    Service(&'c Service),
    /// An address the input does not know: the Ingress's controllers, likely.
    Unknown,
}

struct Override<'c> {
    /// A name, or `.suffix` for suffix rewrites.
    name: String,
    suffix: bool,
    target: Target<'c>,
    evidence: Evidence,
}

/// The ConfigMaps CoreDNS reads, by convention: kube-system `coredns`
/// (and RKE2's), and k3s's `coredns-custom` import keys.
fn corefiles<'c>(ctx: &Context<'c>) -> Vec<(&'c Manifest, String, String)> {
    let mut out = Vec::new();
    for cm in ctx.objects("ConfigMap") {
        if cm.namespace.as_deref() != Some("kube-system") || !cm.name.contains("coredns") {
            continue;
        }
        for (key, entry) in sources::data(cm) {
            let custom = key.ends_with(".server") || key.ends_with(".override");
            if key == "Corefile" || custom {
                out.push((*cm, key, entry.value));
            }
        }
    }
    out
}

/// Line of the `n`th line of a value at `field` (`data.<key>`): a block
/// scalar (`key: |`) starts on the line after its key; a quoted one is all
/// on the key's line.
pub(super) fn value_line(cm: &Manifest, field: &str, n: usize) -> usize {
    let key_line = cm.line(field);
    let block = std::fs::read_to_string(&*cm.origin.file)
        .ok()
        .and_then(|t| {
            t.lines()
                .nth(key_line.saturating_sub(1))
                .map(str::to_string)
        })
        .is_some_and(|l| {
            let l = l.trim_end();
            l.ends_with('|') || l.ends_with("|-") || l.ends_with("|+") || l.ends_with('>')
        });
    if block { key_line + n } else { key_line }
}

/// The addresses a Service answers on: its load-balancer and external
/// addresses (`spec.loadBalancerIP`, `status.loadBalancer.ingress`,
/// `spec.externalIPs`, the `*loadBalancerIPs` annotations of MetalLB and
/// kube-vip) and, with `cluster_ip`, its ClusterIPs.
pub(super) fn service_ips(ctx: &Context, s: &Service, cluster_ip: bool) -> Vec<IpAddr> {
    let mut out: Vec<IpAddr> = if cluster_ip {
        s.cluster_ips.clone()
    } else {
        Vec::new()
    };
    let m = ctx
        .objects("Service")
        .iter()
        .find(|m| m.name == s.name && m.namespace.as_deref() == Some(s.namespace.as_str()));
    let Some(m) = m else { return out };
    let mut texts: Vec<&str> = Vec::new();
    texts.extend(m.get("spec.loadBalancerIP").and_then(Value::as_str));
    for i in m.get("status.loadBalancer.ingress").items() {
        texts.extend(i.get("ip").and_then(Value::as_str));
    }
    for i in m.get("spec.externalIPs").items() {
        texts.extend(i.as_str());
    }
    for (k, v) in m
        .get("metadata.annotations")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        if k.ends_with("loadBalancerIPs") {
            texts.extend(v.as_str().into_iter().flat_map(|v| v.split(',')));
        }
    }
    out.extend(texts.iter().filter_map(|t| t.trim().parse::<IpAddr>().ok()));
    out
}

/// The Service that has `ip` as its ClusterIP or load-balancer address.
fn service_with_ip<'c>(ctx: &Context<'c>, ip: IpAddr) -> Option<&'c Service> {
    ctx.cluster
        .services
        .iter()
        .find(|s| service_ips(ctx, s, true).contains(&ip))
}

fn overrides<'c>(ctx: &'c Context<'c>, sink: &mut Sink) -> Vec<Override<'c>> {
    let mut out = Vec::new();
    for (cm, key, text) in corefiles(ctx) {
        let field = format!("data.{key}");
        for entry in corefile::parse(&text) {
            let evidence = |line: usize, text: &str| {
                let mut e = Evidence::at(cm, &field, text);
                e.line = value_line(cm, &field, line);
                e
            };
            match entry {
                Entry::Hosts {
                    address,
                    names,
                    line,
                    text,
                } => {
                    let target = match address.parse::<IpAddr>() {
                        Ok(ip) => match service_with_ip(ctx, ip) {
                            Some(s) => Target::Service(s),
                            None => Target::Unknown,
                        },
                        Err(_) => Target::Unknown,
                    };
                    for name in names {
                        out.push(Override {
                            name,
                            suffix: false,
                            target,
                            evidence: evidence(line, &text),
                        });
                    }
                }
                Entry::Rewrite {
                    suffix,
                    from,
                    to,
                    line,
                    text,
                } => {
                    let ev = evidence(line, &text);
                    if suffix {
                        // `.lan.example.com -> .svc.cluster.local`: resolved per host below.
                        out.push(Override {
                            name: format!("{from}\n{to}"),
                            suffix: true,
                            target: Target::Unknown,
                            evidence: ev,
                        });
                        continue;
                    }
                    match ctx.service_for_host(&to, "") {
                        Some(s) => out.push(Override {
                            name: from,
                            suffix: false,
                            target: Target::Service(s),
                            evidence: ev,
                        }),
                        None => sink.unresolved(
                            cm.display_name(),
                            NAME,
                            format!("rewrite target {to} is not a Service of the input"),
                            ev,
                        ),
                    }
                }
                Entry::Unsupported { line, text } => {
                    sink.unresolved(
                        cm.display_name(),
                        NAME,
                        "rewrite rule netpol does not follow (regex, prefix, substring)",
                        evidence(line, &text),
                    );
                }
            }
        }
    }
    out
}

/// Where `service` sends a client's TCP port (its Service port), with the
/// port the traffic arrives on.
pub(super) fn destinations(
    ctx: &Context,
    service: &Service,
    port: u16,
) -> Vec<(Peer, u16, Protocol)> {
    ctx.backends(service, ServicePortRef::Number(port))
        .into_iter()
        .filter(|b| b.protocol == Protocol::Tcp)
        .map(|b| (b.peer, b.port, b.protocol))
        .collect()
}

/// A client's connections to `dsts`, each citing every piece of
/// `evidence`; none to the client itself.
pub(super) fn connect(
    sink: &mut Sink,
    client: &str,
    dsts: Vec<(Peer, u16, Protocol)>,
    confidence: Confidence,
    evidence: &[&Evidence],
) {
    let client = Peer::Workload(client.to_string());
    for (dst, port, protocol) in dsts {
        if dst == client {
            continue;
        }
        for ev in evidence {
            sink.connect(
                client.clone(),
                dst.clone(),
                port,
                protocol,
                NAME,
                confidence,
                (*ev).clone(),
            );
        }
    }
}

/// For a controller workload reached through an unknown address: the
/// Services in front of it that have the client's port.
fn controller_destinations(
    ctx: &Context,
    controller: &str,
    port: u16,
) -> Vec<(Peer, u16, Protocol)> {
    let controller = Peer::Workload(controller.to_string());
    let mut out: Vec<_> = ctx
        .cluster
        .services
        .iter()
        .flat_map(|s| destinations(ctx, s, port))
        .filter(|(w, ..)| *w == controller)
        .collect();
    out.sort();
    out.dedup();
    out
}

fn host_matches(pattern: &str, host: &str) -> bool {
    match pattern.strip_prefix("*.") {
        Some(suffix) => host
            .strip_suffix(suffix)
            .is_some_and(|h| h.ends_with('.') && !h[..h.len() - 1].contains('.')),
        None => pattern == host,
    }
}

pub fn run(ctx: &Context, sink: &mut Sink) {
    let overrides = overrides(ctx, sink);
    let ingress_hosts = ingress::hosts(ctx);
    // Names CoreDNS answers itself: a LAN DNS server is never asked for them.
    let done: std::collections::BTreeSet<String> = overrides
        .iter()
        .filter(|o| !o.suffix)
        .map(|o| o.name.clone())
        .collect();
    lan::run(ctx, sink, &ingress_hosts, &done);
    for o in &overrides {
        // Suffix rewrites: every Ingress host under the suffix.
        let names: Vec<(String, Target)> = if o.suffix {
            let (from, to) = o.name.split_once('\n').unwrap_or_default();
            ingress_hosts
                .iter()
                .filter_map(|h| {
                    let stem = h.host.strip_suffix(from)?;
                    let s = ctx.service_for_host(&format!("{stem}{to}"), "")?;
                    Some((h.host.clone(), Target::Service(s)))
                })
                .collect()
        } else {
            vec![(o.name.clone(), o.target)]
        };
        for (name, target) in names {
            let ingress_host = ingress_hosts.iter().find(|h| host_matches(&h.host, &name));
            if matches!(target, Target::Unknown)
                && ingress_host.is_none_or(|h| h.controllers.is_empty())
            {
                sink.unresolved(
                    name.clone(),
                    NAME,
                    "CoreDNS answers this name with an address that is no Service of the input, and no Ingress of the input serves it",
                    o.evidence.clone(),
                );
                continue;
            }
            for r in refs::references(ctx, &name) {
                // An app's own public URL is configuration, not a call.
                if ingress_host.is_some_and(|h| h.backends.contains(&r.workload)) {
                    continue;
                }
                let (ports, port_known) = match r.port {
                    Some(p) => (vec![p], true),
                    None => (vec![80, 443], false),
                };
                for port in ports {
                    let (dsts, mut confidence, extra) = match &target {
                        Target::Service(s) => {
                            (destinations(ctx, s, port), Confidence::Certain, None)
                        }
                        Target::Unknown => {
                            let h = ingress_host.expect("checked above");
                            let mut d = Vec::new();
                            for c in &h.controllers {
                                d.extend(controller_destinations(ctx, &c.workload, port));
                            }
                            let confidence = h
                                .controllers
                                .iter()
                                .map(|c| c.confidence)
                                .min()
                                .unwrap_or(Confidence::Guess)
                                .min(Confidence::Likely);
                            (d, confidence, Some(h.evidence.clone()))
                        }
                    };
                    if !port_known {
                        confidence = Confidence::Guess;
                    }
                    let mut evidence = vec![&r.evidence, &o.evidence];
                    evidence.extend(extra.as_ref());
                    connect(sink, &r.workload, dsts, confidence, &evidence);
                }
            }
        }
    }
}
