//! The flows file's `guardrails:`: read, written as ClusterNetworkPolicies,
//! and checked against the cluster by `verify`.
//!
//! `baselineDenyAll` replaces the per-namespace default-deny NetworkPolicies
//! by one Baseline-tier policy: NetworkPolicy decides for the pods it selects
//! and the Baseline tier for the rest, so the result is the same, and a
//! namespace whose NetworkPolicies someone deletes stays closed. Each `deny`
//! entry is an Admin-tier Deny, which no NetworkPolicy can override.

use netpol_engine::{Engine, Party};
use netpol_model::{Direction, LabelSelector, NAMESPACE_NAME_LABEL, Protocol, Tier, TierPeer};

use crate::expand::{Finding, Severity, Sources, expand};
use crate::file::{Guardrails, PortValue};
use crate::parse::{FlowDef, Flows, slug};
use crate::spec::{EndpointSpec, PortSpec, parse_endpoint, parse_port_number, parse_port_text};
use crate::yaml_out::{Node, emit};

/// The guardrails, given meaning.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GuardrailDefs {
    pub baseline_deny_all: bool,
    /// Each a flow of what is denied (`field` is `guardrails.deny[i]`).
    pub deny: Vec<FlowDef>,
}

/// The name of the file `gen` writes them to: a namespace name has no dot,
/// so it never clashes with a namespace's file.
pub const GUARDRAILS_FILE: &str = "cluster.guardrails.yaml";

pub(crate) fn validate(
    raw: Option<&Guardrails>,
    lines: &netpol_model::yaml::LineIndex,
    error: &mut dyn FnMut(String, String),
) -> GuardrailDefs {
    let Some(raw) = raw else {
        return GuardrailDefs::default();
    };
    let mut deny = Vec::new();
    for (i, g) in raw.deny.iter().enumerate() {
        let field = format!("guardrails.deny[{i}]");
        let from = parse_endpoint(&g.from)
            .map_err(|e| error(format!("{field}.from"), e))
            .ok();
        let to = parse_endpoint(&g.to)
            .map_err(|e| error(format!("{field}.to"), e))
            .ok();
        if let Some(f) = &from {
            if !matches!(
                f,
                EndpointSpec::AllPods | EndpointSpec::Namespace(_) | EndpointSpec::Labels { .. }
            ) {
                error(
                    format!("{field}.from"),
                    format!(
                        "{f}: a guardrail applies to pods by namespace or labels (`*`, `ns`, `ns:k=v`, `*:k=v`)"
                    ),
                );
            }
        }
        if let Some(t) = &to {
            if matches!(
                t,
                EndpointSpec::Workload { .. } | EndpointSpec::IngressBackends { .. }
            ) {
                error(
                    format!("{field}.to"),
                    format!("{t}: a guardrail names pods by namespace or labels, or addresses"),
                );
            }
        }
        let mut ports = Vec::new();
        let items = g.ports.as_ref().map(|p| p.items()).unwrap_or_default();
        for p in items {
            let parsed = match p {
                PortValue::Number(n) => parse_port_number(*n),
                PortValue::Text(t) => parse_port_text(t),
            };
            match parsed {
                Ok(PortSpec::Name(..)) if !to.as_ref().is_some_and(EndpointSpec::is_pods) => error(
                    format!("{field}.ports"),
                    "named ports resolve on pods only: write numbers for addresses".into(),
                ),
                Ok(
                    p @ (PortSpec::Number(..)
                    | PortSpec::Range(..)
                    | PortSpec::Name(..)
                    | PortSpec::Any),
                ) => ports.push(p),
                Ok(other) => error(
                    format!("{field}.ports"),
                    format!("{other}: a guardrail takes numbers, ranges, names or `any`"),
                ),
                Err(e) => error(format!("{field}.ports"), e),
            }
        }
        if ports.is_empty() || ports.contains(&PortSpec::Any) {
            ports = vec![PortSpec::Any];
        }
        if g.purpose.trim().is_empty() {
            error(
                format!("{field}.purpose"),
                "say why this guardrail exists: it annotates the generated policy".into(),
            );
        }
        if let (Some(from), Some(to)) = (from, to) {
            deny.push(FlowDef {
                from,
                to,
                ports,
                purpose: g.purpose.trim().to_string(),
                name: slug(&g.purpose)
                    .chars()
                    .take(60)
                    .collect::<String>()
                    .trim_end_matches('-')
                    .to_string(),
                line: lines.line(&field),
                field,
            });
        }
    }
    GuardrailDefs {
        baseline_deny_all: raw.baseline_deny_all,
        deny,
    }
}

fn name_selector(ns: &str) -> LabelSelector {
    let mut sel = LabelSelector::default();
    sel.match_labels
        .insert(NAMESPACE_NAME_LABEL.to_string(), ns.to_string());
    sel
}

fn selector_node(sel: &LabelSelector) -> Node {
    if sel.is_empty() {
        return Node::Map(Vec::new());
    }
    let labels = sel
        .match_labels
        .iter()
        .map(|(k, v)| (k.clone(), Node::str(v.clone())))
        .collect();
    Node::map(vec![("matchLabels", Node::Map(labels))])
}

/// A pod end as a peer or subject: `namespaces` or `pods`.
fn pods_node(e: &EndpointSpec) -> Option<(&'static str, Node)> {
    Some(match e {
        EndpointSpec::AllPods => ("namespaces", Node::Map(Vec::new())),
        EndpointSpec::Namespace(ns) => ("namespaces", selector_node(&name_selector(ns))),
        EndpointSpec::Labels { namespace, labels } => {
            let ns = namespace.as_deref().map(name_selector).unwrap_or_default();
            let pods = LabelSelector {
                match_labels: labels.clone(),
                match_expressions: Vec::new(),
            };
            (
                "pods",
                Node::map(vec![
                    ("namespaceSelector", selector_node(&ns)),
                    ("podSelector", selector_node(&pods)),
                ]),
            )
        }
        _ => return None,
    })
}

fn networks(nets: &[ipnet::IpNet]) -> Node {
    Node::map(vec![(
        "networks",
        Node::Seq(nets.iter().map(|n| Node::str(n.to_string())).collect()),
    )])
}

fn protocols(ports: &[PortSpec], apiserver: Option<u16>) -> Option<Node> {
    let entry = |proto: Protocol, port: Node| {
        Node::map(vec![(
            proto.as_str().to_ascii_lowercase(),
            Node::map(vec![("destinationPort", port)]),
        )])
    };
    let mut out = Vec::new();
    for p in ports {
        match p {
            PortSpec::Any => {
                return apiserver.map(|n| {
                    Node::Seq(vec![entry(
                        Protocol::Tcp,
                        Node::map(vec![("number", Node::Int(u64::from(n)))]),
                    )])
                });
            }
            PortSpec::Number(n, proto) => out.push(entry(
                *proto,
                Node::map(vec![("number", Node::Int(u64::from(*n)))]),
            )),
            PortSpec::Range(a, b, proto) => out.push(entry(
                *proto,
                Node::map(vec![(
                    "range",
                    Node::map(vec![
                        ("start", Node::Int(u64::from(*a))),
                        ("end", Node::Int(u64::from(*b))),
                    ]),
                )]),
            )),
            PortSpec::Name(n, _) => out.push(Node::map(vec![(
                "destinationNamedPort",
                Node::str(n.clone()),
            )])),
            _ => {}
        }
    }
    Some(Node::Seq(out))
}

fn rule(name: &str, action: &str, peers: Vec<Node>, protocols: Option<Node>) -> Node {
    let mut entries = vec![
        ("name", Node::str(name)),
        ("action", Node::str(action)),
        ("to", Node::Seq(peers)),
    ];
    if let Some(p) = protocols {
        entries.push(("protocols", p));
    }
    Node::map(entries)
}

fn policy(
    name: &str,
    tier: Tier,
    priority: u32,
    purpose: &str,
    subject: (&str, Node),
    ingress: Vec<Node>,
    egress: Vec<Node>,
) -> String {
    let mut spec = vec![
        ("tier", Node::str(tier.as_str())),
        ("priority", Node::Int(u64::from(priority))),
        ("subject", Node::map(vec![subject])),
    ];
    if !ingress.is_empty() {
        spec.push(("ingress", Node::Seq(ingress)));
    }
    if !egress.is_empty() {
        spec.push(("egress", Node::Seq(egress)));
    }
    let doc = Node::map(vec![
        ("apiVersion", Node::str("policy.networking.k8s.io/v1alpha2")),
        ("kind", Node::str("ClusterNetworkPolicy")),
        (
            "metadata",
            Node::map(vec![
                ("name", Node::str(name)),
                (
                    "labels",
                    Node::map(vec![(
                        crate::MANAGED_BY_LABEL,
                        Node::str(crate::MANAGED_BY),
                    )]),
                ),
                (
                    "annotations",
                    Node::map(vec![(crate::PURPOSE_ANNOTATION, Node::str(purpose))]),
                ),
            ]),
        ),
        ("spec", Node::map(spec)),
    ]);
    emit(&doc)
}

/// The guardrails as ClusterNetworkPolicies (one YAML stream), or `None`
/// when the flows file has none.
pub(crate) fn generate(flows: &Flows, namespaces: &[String]) -> Option<String> {
    let g = &flows.guardrails;
    if !g.baseline_deny_all && g.deny.is_empty() {
        return None;
    }
    let mut docs = Vec::new();
    for (i, d) in g.deny.iter().enumerate() {
        let subject = pods_node(&d.from)?;
        let c = &flows.cluster;
        let (pass, deny): (Vec<Node>, Vec<Node>) = match &d.to {
            // Networks match pods too: pass the cluster's own ranges on first.
            EndpointSpec::External => {
                let own: Vec<ipnet::IpNet> = c.pod.iter().chain(&c.service).copied().collect();
                (
                    if own.is_empty() {
                        Vec::new()
                    } else {
                        vec![networks(&own)]
                    },
                    vec![networks(&[
                        "0.0.0.0/0".parse().unwrap(),
                        "::/0".parse().unwrap(),
                    ])],
                )
            }
            EndpointSpec::Cidr(n) => (Vec::new(), vec![networks(&[*n])]),
            EndpointSpec::Nodes => (Vec::new(), vec![networks(&c.nodes)]),
            EndpointSpec::KubeApiserver => (Vec::new(), vec![networks(&c.apiserver)]),
            other => {
                let (k, v) = pods_node(other)?;
                (Vec::new(), vec![Node::map(vec![(k, v)])])
            }
        };
        let apiserver = matches!(d.to, EndpointSpec::KubeApiserver).then_some(c.apiserver_port);
        let mut egress = Vec::new();
        if !pass.is_empty() {
            egress.push(rule(
                "cluster-addresses",
                "Pass",
                pass,
                protocols(&d.ports, apiserver),
            ));
        }
        egress.push(rule(&d.name, "Deny", deny, protocols(&d.ports, apiserver)));
        docs.push(policy(
            &format!("netpol-guardrail-{}", d.name),
            Tier::Admin,
            10 + i as u32,
            &d.purpose,
            subject,
            Vec::new(),
            egress,
        ));
    }
    if g.baseline_deny_all && !namespaces.is_empty() {
        let subject = Node::map(vec![(
            "matchExpressions",
            Node::Seq(vec![Node::map(vec![
                ("key", Node::str(NAMESPACE_NAME_LABEL)),
                ("operator", Node::str("In")),
                (
                    "values",
                    Node::Seq(namespaces.iter().map(|n| Node::str(n.clone())).collect()),
                ),
            ])]),
        )]);
        let everything = |peer: &str| {
            let mut peers = vec![Node::map(vec![("namespaces", Node::Map(Vec::new()))])];
            if peer == "to" {
                peers.push(networks(&[
                    "0.0.0.0/0".parse().unwrap(),
                    "::/0".parse().unwrap(),
                ]));
            }
            Node::map(vec![
                ("name", Node::str("deny-all")),
                ("action", Node::str("Deny")),
                (peer, Node::Seq(peers)),
            ])
        };
        let egress = if flows.egress() {
            vec![everything("to")]
        } else {
            Vec::new()
        };
        docs.push(policy(
            "netpol-baseline-deny-all",
            Tier::Baseline,
            1000,
            "Default deny: pods of the managed namespaces no NetworkPolicy selects receive (and send) only the traffic of the flows",
            ("namespaces", subject),
            vec![everything("from")],
            egress,
        ));
    }
    Some(docs.join("---\n"))
}

/// Whether a cluster policy denies everything in `direction` to the pods of
/// `namespace` that no NetworkPolicy selects: what `baselineDenyAll` writes.
pub(crate) fn baseline_closes(
    cluster: &netpol_model::Cluster,
    namespace: &str,
    direction: Direction,
) -> bool {
    let empty = Default::default();
    let labels = cluster.namespace_labels(namespace).unwrap_or(&empty);
    cluster.cluster_policies.iter().any(|p| {
        let selects = match &p.subject {
            netpol_model::TierSubject::Namespaces(sel) => sel.matches(labels),
            netpol_model::TierSubject::Pods { namespace_selector, pod_selector } => {
                namespace_selector.matches(labels) && pod_selector.is_empty()
            }
        };
        // The first rule decides: it must deny everything.
        let denies_all = p.rules(direction).first().is_some_and(|r| {
            r.action == netpol_model::Action::Deny
                && r.ports.is_empty()
                && r.peers.iter().any(|peer| matches!(peer, TierPeer::Namespaces { selector, .. } if selector.is_empty()))
                && (direction == Direction::Ingress
                    || ["0.0.0.0/0", "::/0"].iter().all(|all| {
                        r.peers.iter().any(|peer| matches!(peer, TierPeer::Networks { cidrs, .. } if cidrs.iter().any(|c| c.to_string() == *all)))
                    }))
        });
        selects && denies_all
    })
}

/// Each guardrail held against the cluster: a connection it covers that the
/// policies allow is an error finding (`guardrail-broken`).
pub(crate) fn check(engine: &Engine, flows: &Flows) -> Vec<Finding> {
    if flows.guardrails.deny.is_empty() {
        return Vec::new();
    }
    let as_flows = Flows {
        flows: flows.guardrails.deny.clone(),
        allow_dns: false,
        ..flows.clone()
    };
    let x = expand(engine.cluster, &as_flows);
    let mut out = Vec::new();
    for f in &x.expanded {
        let sources: Vec<Party> = match &f.sources {
            Sources::Pods(set) => set.endpoints.iter().map(|&i| Party::Endpoint(i)).collect(),
            Sources::Addresses { .. } => Vec::new(),
        };
        let mut broken = Vec::new();
        for (dst, ports) in &crate::verify::destinations(&f.destinations, false) {
            let probes = crate::verify::probe_set(engine, *dst, ports);
            for src in &sources {
                for &(port, protocol) in &probes {
                    let v = engine.verdict(*src, *dst, port, protocol);
                    if v.allowed {
                        broken.push(format!("{} -> {} on {port}/{protocol}", v.src, v.dst));
                    }
                }
            }
        }
        if !broken.is_empty() {
            let n = broken.len();
            broken.truncate(3);
            out.push(Finding {
                severity: Severity::Error,
                code: "guardrail-broken",
                flow: f.def.field.clone(),
                line: f.def.line,
                message: format!(
                    "guardrail {:?} does not hold: {n} connection{} it denies {} allowed ({}{}); apply the ClusterNetworkPolicies `netpol gen` writes",
                    f.def.summary(),
                    if n == 1 { "" } else { "s" },
                    if n == 1 { "is" } else { "are" },
                    broken.join(", "),
                    if n > 3 { ", ..." } else { "" }
                ),
            });
        }
    }
    out
}
