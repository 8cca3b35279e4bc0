//! The flows held against the evidence: every connection discovery finds
//! with confidence certain or likely (an env URL, an Ingress backend, a
//! ServiceMonitor, ...) that the flows do not mean, where netpol's policies
//! would then block it, or that the policies given already deny. This is the
//! guard for "a service changed and the flows did not": a new env URL or
//! Ingress in a pull request makes `verify` name the missing flow.

use std::collections::BTreeMap;

use netpol_discover::{Confidence, Connection, Discovery, Evidence, Peer};
use netpol_engine::{Decision, Engine, Party, SideTrace};
use netpol_model::Protocol;
use serde::Serialize;

use crate::expand::{Coverage, Destinations, Expansion, Sources};
use crate::spec::EndpointSpec;

/// A needed connection the flows or the policies would block.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WouldBreak {
    pub src: String,
    pub dst: String,
    pub port: u16,
    pub protocol: Protocol,
    /// The discovery rule that found the need (`env-url`, `ingress`, ...).
    pub rule: &'static str,
    pub confidence: Confidence,
    /// `no flow means it` (and the generated policies would deny it), `the
    /// policies deny it` (with the engine's reason).
    pub reasons: Vec<String>,
    pub evidence: Vec<Evidence>,
}

/// Runs discovery on the expansion's cluster (loaded with its manifests
/// kept) and returns what would break, as `engine` (the cluster's, per pod)
/// decides it. Without manifests there is no evidence, and nothing to report.
pub fn check_evidence(x: &Expansion, engine: &Engine) -> Vec<WouldBreak> {
    let Ok(discovery) = netpol_discover::discover(x.cluster, netpol_discover::Options::default())
    else {
        return Vec::new();
    };
    would_break(x, engine, &discovery)
}

/// The connections of `discovery` (certain and likely ones) that would break.
pub fn would_break(x: &Expansion, engine: &Engine, discovery: &Discovery) -> Vec<WouldBreak> {
    let mut by_workload: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for i in 0..x.cluster.endpoints.len() {
        by_workload
            .entry(x.cluster.workload(i))
            .or_default()
            .push(i);
    }
    let coverage = x.coverage();
    let mut out = Vec::new();
    for c in &discovery.connections {
        if c.confidence < Confidence::Likely || c.src == c.dst {
            continue;
        }
        let ends = |p: &Peer| -> Vec<End> {
            match p {
                Peer::Workload(id) => by_workload
                    .get(id)
                    .map(|v| v.iter().map(|&i| End::Pod(i)).collect())
                    .unwrap_or_default(),
                other => vec![End::Other(other.clone())],
            }
        };
        let (srcs, dsts) = (ends(&c.src), ends(&c.dst));
        let mut reasons = Vec::new();
        'pairs: for s in &srcs {
            for d in &dsts {
                if let Some(r) = check(x, engine, coverage, c, s, d) {
                    reasons = r;
                    break 'pairs;
                }
            }
        }
        if !reasons.is_empty() {
            out.push(WouldBreak {
                src: c.src.to_string(),
                dst: c.dst.to_string(),
                port: c.port,
                protocol: c.protocol,
                rule: c.rule,
                confidence: c.confidence,
                reasons,
                evidence: c.evidence.clone(),
            });
        }
    }
    out.sort_by(|a, b| {
        (&a.dst, a.port, a.protocol, &a.src, a.rule)
            .cmp(&(&b.dst, b.port, b.protocol, &b.src, b.rule))
    });
    out
}

#[derive(Clone, Debug)]
enum End {
    Pod(usize),
    Other(Peer),
}

/// Why `s -> d` breaks, if it does.
fn check(
    x: &Expansion,
    engine: &Engine,
    coverage: &Coverage,
    c: &Connection,
    s: &End,
    d: &End,
) -> Option<Vec<String>> {
    let e = &x.cluster.endpoints;
    let restrictable = |end: &End| matches!(end, End::Pod(i) if x.restrictable(*i));
    if let (End::Pod(a), End::Pod(b)) = (s, d) {
        if engine.is_node_traffic(Party::Endpoint(*a), Party::Endpoint(*b)) {
            return None;
        }
    }
    let mut reasons = Vec::new();
    let in_scope = restrictable(d) || (x.flows.egress() && restrictable(s));
    if in_scope && !covered(x, coverage, s, d, c.port, c.protocol) {
        reasons.push("no flow means it: the generated policies would deny it".to_string());
    }
    let party = |end: &End| match end {
        // A host-network pod of a template has its node's address, which the
        // manifests do not give: only the flows can be checked for it.
        End::Pod(i) if at_unknown_node(&e[*i]) => None,
        End::Pod(i) => Some(Party::Endpoint(*i)),
        End::Other(Peer::Cidr(net)) => Some(Party::External(net.addr())),
        End::Other(_) => None,
    };
    let traced = |ps, pd| {
        // Explained only when it is not plainly allowed: most needs are,
        // and a verdict's trace costs far more than the decision.
        let o = engine.decide(ps, pd, c.port, c.protocol);
        (!o.allowed || o.only.is_some()).then(|| engine.verdict(ps, pd, c.port, c.protocol))
    };
    if let (Some(ps), Some(pd)) = (party(s), party(d))
        && let Some(v) = traced(ps, pd)
    {
        if !v.allowed && v.decided_by == Decision::Policies {
            reasons.push(format!(
                "the policies deny it: {}",
                denying_side(&v.ingress, &v.egress)
            ));
        } else if let Some(allowed) = v.only_over() {
            // Both ends can use either family, so the app may well use the other one.
            if let Some(f) = v.by_family.iter().find(|f| f.family != allowed) {
                reasons.push(format!(
                    "the policies deny it over {} (allowed over {allowed} only): {}",
                    f.family,
                    denying_side(&f.ingress, &f.egress)
                ));
            }
        }
    }
    (!reasons.is_empty()).then_some(reasons)
}

/// The reason of the side that denies (ingress first, as the engine reports it).
fn denying_side<'t>(ingress: &'t SideTrace, egress: &'t SideTrace) -> &'t str {
    if ingress.allowed {
        &egress.reason
    } else {
        &ingress.reason
    }
}

/// Whether a flow (the file's or the implicit DNS one) means `s -> d:port`:
/// between pods as `verify` reads the flows (`coverage`), and a flow end
/// `nodes` also meaning a host-network pod whose address is unknown.
fn covered(
    x: &Expansion,
    coverage: &Coverage,
    s: &End,
    d: &End,
    port: u16,
    protocol: Protocol,
) -> bool {
    let e = &x.cluster.endpoints;
    x.expanded.iter().enumerate().any(|(k, f)| {
        let src_ok = match (&f.sources, s) {
            (Sources::Pods(_), End::Pod(i)) => coverage.covers_source(k, *i),
            (Sources::Addresses { .. }, End::Pod(i)) => {
                coverage.covers_source(k, *i) || on_the_nodes(&f.def.from, &e[*i])
            }
            (Sources::Addresses { blocks }, End::Other(p)) => same_place(&f.def.from, blocks, p),
            (Sources::Pods(_), End::Other(_)) => false,
        };
        if !src_ok {
            return false;
        }
        match (&f.destinations, d) {
            (Destinations::Pods { .. }, End::Pod(i)) => {
                coverage.covers_destination(k, *i, port, protocol)
            }
            (Destinations::Addresses { ports, .. }, End::Pod(i)) => {
                coverage.covers_destination(k, *i, port, protocol)
                    || (on_the_nodes(&f.def.to, &e[*i])
                        && ports.iter().any(|sel| sel.admits(port, protocol)))
            }
            (Destinations::Addresses { blocks, ports }, End::Other(p)) => {
                same_place(&f.def.to, blocks, p)
                    && ports.iter().any(|sel| sel.admits(port, protocol))
            }
            (Destinations::Pods { .. }, End::Other(_)) => false,
        }
    })
}

/// A host-network pod whose address is not in the input (a DaemonSet's template).
fn at_unknown_node(e: &netpol_model::Endpoint) -> bool {
    e.host_network && e.ips.is_empty()
}

/// A flow end `nodes` is where a host-network pod without a known address is.
fn on_the_nodes(spec: &EndpointSpec, e: &netpol_model::Endpoint) -> bool {
    matches!(spec, EndpointSpec::Nodes) && at_unknown_node(e)
}

/// Whether a flow end written as `spec` (expanded to `blocks`) is `peer`.
fn same_place(spec: &EndpointSpec, blocks: &[crate::expand::Block], peer: &Peer) -> bool {
    match (spec, peer) {
        (EndpointSpec::KubeApiserver, Peer::KubeApiserver)
        | (EndpointSpec::Nodes, Peer::Nodes)
        | (EndpointSpec::External, Peer::External) => true,
        (_, Peer::Cidr(net)) => blocks
            .iter()
            .any(|b| b.cidr.contains(net) && !b.except.iter().any(|x| x.contains(&net.addr()))),
        _ => false,
    }
}
