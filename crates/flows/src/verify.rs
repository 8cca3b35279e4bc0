//! Policies held against the flows, by the engine: what a flow means but is
//! denied, what is allowed but no flow means, which namespaces are open by
//! default, and what is odd about the flows themselves.

use netpol_engine::{Classes, Engine, Party, Verdict};
use netpol_model::{Direction, Family, Protocol};
use rayon::prelude::*;
use serde::Serialize;

use crate::expand::{Destinations, ExpandedFlow, Expansion, Finding, PortSel, Severity, Sources};

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Missing {
    /// `flows[2]` or `allowDns`.
    pub flow: String,
    pub line: usize,
    pub purpose: String,
    pub src: String,
    pub dst: String,
    pub port: u16,
    pub protocol: Protocol,
    /// Set when the connection is denied over this address family only: the
    /// policies allow it over the other one both ends have, so the flow is
    /// partly implemented (a client resolving the other family's address fails).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub family: Option<Family>,
    /// The engine's explanation of the denial.
    pub verdict: Verdict,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Extra {
    pub src: String,
    pub dst: String,
    pub port: u16,
    pub protocol: Protocol,
    /// Set when allowed over this address family only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub only: Option<Family>,
    /// Why the destination's ingress lets it in.
    pub ingress: String,
    /// Why the source's egress lets it out.
    pub egress: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OpenNamespace {
    pub namespace: String,
    /// Directions that no policy selecting every pod of the namespace isolates.
    pub directions: Vec<Direction>,
}

/// Missing connections a report lists, each explained; the others are
/// counted. A broad flow over policies that deny it (before any are
/// generated, say) means millions, quadratic in pods: explaining every one
/// would take more memory and output than anyone reads.
pub const MISSING_LISTED: usize = 1000;
/// Extra connections a report lists (then to the end of the destination
/// port the last one is on, so that no listed group is cut); the others
/// are counted.
pub const EXTRA_LISTED: usize = 10_000;

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// Connections the flows mean that were checked.
    pub checked: usize,
    /// The first [`MISSING_LISTED`] missing connections, in flow order.
    pub missing: Vec<Missing>,
    /// Missing connections after those, counted only.
    #[serde(skip_serializing_if = "is_zero")]
    pub missing_not_listed: usize,
    /// The first (about [`EXTRA_LISTED`]) extra connections, by destination.
    pub extra: Vec<Extra>,
    /// Extra connections after those, counted only.
    #[serde(skip_serializing_if = "is_zero")]
    pub extra_not_listed: usize,
    pub without_default_deny: Vec<OpenNamespace>,
    pub findings: Vec<Finding>,
    /// Needed connections (discovery's certain and likely evidence) that the
    /// flows or the policies would block; filled by [`crate::would_break`].
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub would_break: Vec<crate::evidence::WouldBreak>,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl Report {
    /// Every missing connection, listed or not.
    pub fn missing_total(&self) -> usize {
        self.missing.len() + self.missing_not_listed
    }

    /// Every extra connection, listed or not.
    pub fn extra_total(&self) -> usize {
        self.extra.len() + self.extra_not_listed
    }

    fn count(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == severity)
            .count()
    }

    pub fn warnings(&self) -> usize {
        self.count(Severity::Warning)
    }

    /// Flows (or their ports) that mean nothing in the cluster.
    pub fn errors(&self) -> usize {
        self.count(Severity::Error)
    }

    /// The policies implement the flows, and the flows mean something:
    /// nothing missing, every managed namespace default-denied, no flow that
    /// matches no pod or names what nobody declares (nothing checked for it
    /// would pass for "implemented").
    pub fn ok(&self) -> bool {
        self.missing.is_empty() && self.without_default_deny.is_empty() && self.errors() == 0
    }

    /// Also nothing extra and no warning about the flows.
    pub fn strict_ok(&self) -> bool {
        self.ok() && self.extra.is_empty() && self.warnings() == 0 && self.would_break.is_empty()
    }
}

/// Ports to probe for a port selection on a destination that declares `declared`.
pub(crate) fn probes(sel: &PortSel, declared: &[(u16, Protocol)]) -> Vec<(u16, Protocol)> {
    let mut out: Vec<(u16, Protocol)> = match *sel {
        PortSel::Range {
            start,
            end,
            protocol,
        } => {
            let mut v = vec![(start, protocol), (end, protocol)];
            v.extend(
                declared
                    .iter()
                    .filter(|(p, pr)| *pr == protocol && (start..=end).contains(p)),
            );
            v
        }
        PortSel::All { protocol } => {
            let mut v = vec![(1, protocol), (65535, protocol)];
            v.extend(declared.iter().filter(|(_, pr)| *pr == protocol));
            v
        }
        PortSel::Any => {
            let mut v: Vec<(u16, Protocol)> = declared.to_vec();
            for p in [Protocol::Tcp, Protocol::Udp] {
                v.push((1, p));
                v.push((65535, p));
            }
            v
        }
    };
    out.sort();
    out.dedup();
    out
}

pub fn verify(x: &Expansion) -> Report {
    let engine = Engine::new(x.cluster);
    let classes = Classes::new(x.cluster);
    let by_class = Engine::new(&classes.reduced);
    verify_with(x, &engine, &classes, &by_class)
}

/// [`verify`] with engines the caller already has for `x.cluster`: `engine`
/// per pod (the explanations, the pairs each pod decides itself, the
/// guardrails) and `by_class` over `classes` (the counts). A 150,000-pod
/// cluster takes seconds and gigabytes to compile: the `verify` and
/// `report` commands compile it once for this, the evidence check and the
/// matrix.
pub fn verify_with(x: &Expansion, engine: &Engine, classes: &Classes, by_class: &Engine) -> Report {
    let (checked, (missing, missing_not_listed)) =
        missing(x, engine, by_class, classes, MISSING_LISTED);
    let (extra, extra_not_listed) =
        crate::extras::extras(x, engine, by_class, classes, EXTRA_LISTED);
    Report {
        checked,
        missing,
        missing_not_listed,
        extra,
        extra_not_listed,
        without_default_deny: open_namespaces(x),
        findings: {
            let mut f = x.findings.clone();
            f.extend(crate::guardrails::check(engine, &x.flows));
            f
        },
        would_break: Vec::new(),
    }
}

/// Every connection a flow means: counted over classes between pods,
/// decided one by one otherwise (addresses are few samples); the first
/// `listed` denied ones explained. Flows are checked in parallel and their
/// results kept in file order.
fn missing(
    x: &Expansion,
    engine: &Engine,
    by_class: &Engine,
    classes: &Classes,
    listed: usize,
) -> (usize, (Vec<Missing>, usize)) {
    let per_flow: Vec<(usize, Vec<Missing>, usize)> = x
        .expanded
        .par_iter()
        .map(|f| {
            let sources = sources(f);
            let destinations: Vec<(Party, Vec<(u16, Protocol)>)> =
                destinations(&f.destinations, true)
                    .into_iter()
                    .map(|(dst, ports)| (dst, probe_set(engine, dst, &ports)))
                    .collect();
            let checked = destinations
                .iter()
                .map(|(_, probes)| sources.len() * probes.len())
                .sum();
            // Pods to pods, each destination's denied connections counted
            // over classes: only those with something denied are walked,
            // and only while something is left to list.
            let per_dst = crate::missing::denied_per_destination(
                engine,
                by_class,
                classes,
                &sources,
                &destinations,
            );
            let mut denied = 0;
            let mut missing = Vec::new();
            for (k, (dst, probes)) in destinations.iter().enumerate() {
                let count = per_dst.as_ref().map(|counts| counts[k]);
                match count {
                    Some(0) => continue,
                    Some(n) if missing.len() == listed => {
                        denied += n;
                        continue;
                    }
                    _ => {}
                }
                let before = denied;
                for src in &sources {
                    for &(port, protocol) in probes {
                        // A flow means the connection over every family both
                        // ends can use: one allowed over IPv4 only is still
                        // missing over IPv6.
                        let decided = engine.decide(*src, *dst, port, protocol);
                        if decided.allowed && decided.only.is_none() {
                            continue;
                        }
                        denied += 1;
                        // Earlier flows may list enough already; no flow
                        // lists more than all may.
                        if missing.len() == listed {
                            continue;
                        }
                        let verdict = engine.verdict(*src, *dst, port, protocol);
                        missing.push(Missing {
                            flow: f.def.field.clone(),
                            line: f.def.line,
                            purpose: f.def.purpose.clone(),
                            src: verdict.src.clone(),
                            dst: verdict.dst.clone(),
                            port,
                            protocol,
                            family: verdict.only_over().map(Family::other),
                            verdict,
                        });
                    }
                }
                debug_assert!(count.is_none_or(|n| denied - before == n));
            }
            (checked, missing, denied)
        })
        .collect();
    let checked = per_flow.iter().map(|(c, ..)| c).sum();
    let denied: usize = per_flow.iter().map(|(.., d)| d).sum();
    let missing: Vec<Missing> = per_flow
        .into_iter()
        .flat_map(|(_, m, _)| m)
        .take(listed)
        .collect();
    let not_listed = denied - missing.len();
    (checked, (missing, not_listed))
}

/// The parties a flow's connections start from. The implicit DNS flow
/// means pods on the pod network: host-network pods resolve names through
/// their node.
pub(crate) fn sources(f: &ExpandedFlow) -> Vec<Party> {
    let implicit = f.def.field == "allowDns";
    match &f.sources {
        Sources::Pods(set) => set
            .endpoints
            .iter()
            .chain(if implicit {
                &[][..]
            } else {
                &set.host_network[..]
            })
            .map(|&i| Party::Endpoint(i))
            .collect(),
        Sources::Addresses { blocks } => blocks
            .iter()
            .filter_map(|b| b.sample())
            .map(Party::External)
            .collect(),
    }
}

fn open_namespaces(x: &Expansion) -> Vec<OpenNamespace> {
    let mut wanted = vec![Direction::Ingress];
    if x.flows.egress() {
        wanted.push(Direction::Egress);
    }
    x.cluster
        .namespaces
        .keys()
        .filter(|ns| x.flows.managed(ns))
        .filter_map(|ns| {
            let directions: Vec<Direction> = wanted
                .iter()
                .copied()
                .filter(|&d| !crate::guardrails::baseline_closes(x.cluster, ns, d))
                .filter(|&d| {
                    !x.cluster
                        .policies
                        .iter()
                        .any(|p| &p.namespace == ns && p.pod_selector.is_empty() && p.affects(d))
                })
                .collect();
            (!directions.is_empty()).then(|| OpenNamespace {
                namespace: ns.clone(),
                directions,
            })
        })
        .collect()
}

/// A flow's destinations with the ports each takes: the member pods (with
/// the host-network ones when `with_host`), or one sample address a block.
pub(crate) fn destinations(d: &Destinations, with_host: bool) -> Vec<(Party, Vec<PortSel>)> {
    match d {
        Destinations::Pods {
            members,
            host_members,
            ..
        } => members
            .iter()
            .chain(if with_host { &host_members[..] } else { &[] })
            .map(|m| (Party::Endpoint(m.endpoint), m.ports.clone()))
            .collect(),
        Destinations::Addresses { blocks, ports } => blocks
            .iter()
            .filter_map(|b| b.sample())
            .map(|ip| (Party::External(ip), ports.clone()))
            .collect(),
    }
}

/// The (port, protocol) pairs to try on `dst` for `ports`, sorted, each once.
pub(crate) fn probe_set(engine: &Engine, dst: Party, ports: &[PortSel]) -> Vec<(u16, Protocol)> {
    let declared = match dst {
        Party::Endpoint(d) => engine.declared_ports(d),
        Party::External(_) => Vec::new(),
    };
    let mut v: Vec<(u16, Protocol)> = ports.iter().flat_map(|p| probes(p, &declared)).collect();
    v.sort();
    v.dedup();
    v
}

#[cfg(test)]
#[path = "verify_tests.rs"]
mod tests;
