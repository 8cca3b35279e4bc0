//! Policies held against the flows, by the engine: what a flow means but is
//! denied, what is allowed but no flow means, which namespaces are open by
//! default, and what is odd about the flows themselves.

use netpol_engine::{ClassMatrix, Classes, Column, Decision, Engine, Party, Verdict};
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

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// Connections the flows mean that were checked.
    pub checked: usize,
    pub missing: Vec<Missing>,
    pub extra: Vec<Extra>,
    pub without_default_deny: Vec<OpenNamespace>,
    pub findings: Vec<Finding>,
    /// Needed connections (discovery's certain and likely evidence) that the
    /// flows or the policies would block; filled by [`crate::would_break`].
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub would_break: Vec<crate::evidence::WouldBreak>,
}

impl Report {
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
    let (checked, missing) = missing(x, &engine);
    let extra = extras(x, &engine);
    Report {
        checked,
        missing,
        extra,
        without_default_deny: open_namespaces(x),
        findings: {
            let mut f = x.findings.clone();
            f.extend(crate::guardrails::check(&engine, &x.flows));
            f
        },
        would_break: Vec::new(),
    }
}

/// Every connection a flow means, decided without a trace (most are
/// allowed); the denied ones explained. Flows are checked in parallel and
/// their results kept in file order.
fn missing(x: &Expansion, engine: &Engine) -> (usize, Vec<Missing>) {
    let per_flow: Vec<(usize, Vec<Missing>)> = x
        .expanded
        .par_iter()
        .map(|f| {
            let mut checked = 0;
            let mut missing = Vec::new();
            let sources = sources(f);
            for (dst, ports) in &destinations(&f.destinations, true) {
                let probes = probe_set(engine, *dst, ports);
                for src in &sources {
                    for &(port, protocol) in &probes {
                        checked += 1;
                        // A flow means the connection over every family both
                        // ends can use: one allowed over IPv4 only is still
                        // missing over IPv6.
                        let decided = engine.decide(*src, *dst, port, protocol);
                        if decided.allowed && decided.only.is_none() {
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
            }
            (checked, missing)
        })
        .collect();
    let checked = per_flow.iter().map(|(c, _)| c).sum();
    (checked, per_flow.into_iter().flat_map(|(_, m)| m).collect())
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

/// Every connection the policies allow that no flow means, read from the
/// matrix over classes of pods (what no policy tells apart) and explained
/// per pod by `engine`, the engine over every pod.
fn extras(x: &Expansion, engine: &Engine) -> Vec<Extra> {
    let cluster = x.cluster;
    let classes = Classes::new(cluster);
    let by_class = Engine::new(&classes.reduced);
    let matrix = ClassMatrix::from_matrix(cluster, &classes, by_class.matrix());
    let coverage = x.coverage();
    let mut extra: Vec<Extra> = (0..cluster.endpoints.len())
        .into_par_iter()
        .flat_map_iter(|dst| {
            let mut out = Vec::new();
            for column in matrix.columns(dst) {
                for class in column.allowed.ones() {
                    for &src in &classes.members[class] {
                        let src = src as usize;
                        // A pod reaching itself is no connection a policy
                        // could deny; two replicas of one workload are two
                        // pods, which policies decide.
                        let same_pod = src == dst && !cluster.endpoints[dst].may_be_several_pods();
                        if same_pod
                            || engine.is_node_traffic(Party::Endpoint(src), Party::Endpoint(dst))
                            || !x.in_scope(src, dst)
                            || coverage.covers(src, dst, column.port, column.protocol)
                        {
                            continue;
                        }
                        out.push(extra(engine, src, dst, column, column.only_over(class)));
                    }
                }
            }
            out
        })
        .collect();
    extra.sort_by(|a, b| {
        (&a.dst, a.port, a.protocol, &a.src).cmp(&(&b.dst, b.port, b.protocol, &b.src))
    });
    extra
}

fn extra(engine: &Engine, src: usize, dst: usize, column: &Column, only: Option<Family>) -> Extra {
    let v = engine.verdict(
        Party::Endpoint(src),
        Party::Endpoint(dst),
        column.port,
        column.protocol,
    );
    debug_assert!(v.allowed && v.decided_by == Decision::Policies);
    // The reasons of the family that lets it through.
    let (ingress, egress) = match v.by_family.iter().find(|f| Some(f.family) == only) {
        Some(f) => (f.ingress.reason.clone(), f.egress.reason.clone()),
        None => (v.ingress.reason, v.egress.reason),
    };
    Extra {
        src: v.src,
        dst: v.dst,
        port: column.port,
        protocol: column.protocol,
        only,
        ingress,
        egress,
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
