//! Flows held against a cluster: which pods or addresses each end means,
//! and which ports each destination pod actually receives the traffic on.
//! `generate` and `verify` both work from this one expansion.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use ipnet::IpNet;
use netpol_model::{
    Cluster, Endpoint, LabelSelector, Labels, NAMESPACE_NAME_LABEL, PortRef, Protocol, Service,
};
use serde::Serialize;

use crate::parse::{FlowDef, Flows};
use crate::select::{Selection, group_selector, workload_groups, workload_members};
use crate::spec::{EndpointSpec, PortSpec};

/// Ports as a policy's `ports` entry can say them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum PortSel {
    /// Every port of every protocol.
    Any,
    /// Every port of one protocol.
    All { protocol: Protocol },
    /// `start..=end` (a single port when equal).
    Range {
        start: u16,
        end: u16,
        protocol: Protocol,
    },
}

impl PortSel {
    pub fn single(port: u16, protocol: Protocol) -> PortSel {
        PortSel::Range {
            start: port,
            end: port,
            protocol,
        }
    }

    pub fn admits(&self, port: u16, protocol: Protocol) -> bool {
        match *self {
            PortSel::Any => true,
            PortSel::All { protocol: p } => p == protocol,
            PortSel::Range {
                start,
                end,
                protocol: p,
            } => p == protocol && (start..=end).contains(&port),
        }
    }
}

impl std::fmt::Display for PortSel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PortSel::Any => f.write_str("any port"),
            PortSel::All { protocol } => write!(f, "every {protocol} port"),
            PortSel::Range {
                start,
                end,
                protocol,
            } if start == end => write!(f, "{start}/{protocol}"),
            PortSel::Range {
                start,
                end,
                protocol,
            } => write!(f, "{start}-{end}/{protocol}"),
        }
    }
}

/// Sorts, removes duplicates and lets `Any` absorb everything.
fn normalize(ports: &mut Vec<PortSel>) {
    ports.sort();
    ports.dedup();
    if ports.contains(&PortSel::Any) {
        *ports = vec![PortSel::Any];
    }
}

/// An ipBlock.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Block {
    pub cidr: IpNet,
    pub except: Vec<IpNet>,
}

impl Block {
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.cidr.contains(&ip) && !self.except.iter().any(|x| x.contains(&ip))
    }

    /// An address inside the block, for probing it.
    pub fn sample(&self) -> Option<IpAddr> {
        // A few well-spread candidates; the first one the block admits wins.
        let candidates: Vec<IpAddr> = match self.cidr {
            IpNet::V4(_) => [
                "198.51.100.7",
                "203.0.113.7",
                "8.8.8.8",
                "1.1.1.1",
                "192.0.2.7",
                "100.64.0.7",
            ]
            .iter()
            .map(|s| s.parse().expect("literal"))
            .collect(),
            IpNet::V6(_) => ["2001:db8::7", "2606:4700::1111"]
                .iter()
                .map(|s| s.parse().expect("literal"))
                .collect(),
        };
        let own = match self.cidr {
            IpNet::V4(n) => n.hosts().next().map(IpAddr::V4),
            IpNet::V6(n) => n.hosts().next().map(IpAddr::V6),
        };
        candidates
            .into_iter()
            .chain(own.into_iter().chain(Some(self.cidr.addr())))
            .find(|ip| self.contains(*ip))
    }
}

/// How a policy peer (or podSelector) picks a set of pods.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PodPeer {
    /// `None`: every namespace (`namespaceSelector: {}`).
    pub namespace: Option<String>,
    /// `None`: every pod of the namespaces.
    pub pods: Option<LabelSelector>,
}

impl PodPeer {
    pub fn namespace_selector(&self) -> LabelSelector {
        let mut sel = LabelSelector::default();
        if let Some(ns) = &self.namespace {
            sel.match_labels
                .insert(NAMESPACE_NAME_LABEL.to_string(), ns.clone());
        }
        sel
    }
}

/// The pods on one end of a flow.
#[derive(Clone, Debug, Serialize)]
pub struct PodSet {
    /// Endpoints meant that policies can see (never host-network ones).
    pub endpoints: Vec<usize>,
    /// Host-network endpoints meant: no selector matches them, so nothing is
    /// generated for them, but `verify` checks their connections.
    pub host_network: Vec<usize>,
    /// How a peer selects exactly them; `None` when the end matches nothing
    /// that a selector could name (an unknown workload).
    pub peer: Option<PodPeer>,
    /// Egress subjects: per namespace, the podSelector of these pods there.
    pub subjects: Vec<(String, LabelSelector)>,
}

/// One end of a flow.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum Sources {
    Pods(PodSet),
    Addresses { blocks: Vec<Block> },
}

/// A destination pod and the ports it receives the flow on.
#[derive(Clone, Debug, Serialize)]
pub struct DstEndpoint {
    pub endpoint: usize,
    pub ports: Vec<PortSel>,
    /// The podSelector that picks this workload alone.
    pub selector: LabelSelector,
    /// Why a port differs from what the flow says (Service translation).
    pub notes: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum Destinations {
    Pods {
        /// Policy-visible destination pods.
        members: Vec<DstEndpoint>,
        /// Host-network destination pods: checked by `verify`, never selected.
        host_members: Vec<DstEndpoint>,
        /// One peer and port list for egress rules, when the flow's selector
        /// and literal ports say exactly what every member receives.
        uniform: Option<(PodPeer, Vec<PortSel>)>,
    },
    Addresses {
        blocks: Vec<Block>,
        ports: Vec<PortSel>,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    /// Worth knowing; nothing is wrong.
    Note,
    /// The flow probably does not mean what it says.
    Warning,
    /// The flow, or one of its ports, means nothing in this cluster: it
    /// matches no pod, names a port nobody declares, or has no addresses.
    /// Nothing (or not all of it) is generated, and verify fails.
    Error,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    pub severity: Severity,
    /// A stable identifier: `matches-nothing`, `no-listener`, `service-port`,
    /// `host-network`, `not-pod-traffic`, `same-labels`, `no-addresses`; for
    /// `ingress-backends`: `ingress-outside`, `ingress-unresolved`, `no-manifests`.
    pub code: &'static str,
    /// `flows[2]` or `allowDns`.
    pub flow: String,
    pub line: usize,
    pub message: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct ExpandedFlow {
    #[serde(skip)]
    pub def: FlowDef,
    pub sources: Sources,
    pub destinations: Destinations,
}

pub struct Expansion<'c> {
    pub cluster: &'c Cluster,
    pub flows: Flows,
    /// The file's flows, then the implicit DNS flow when `allowDns` is on.
    pub expanded: Vec<ExpandedFlow>,
    pub findings: Vec<Finding>,
}

/// The implicit flow that `allowDns` adds.
pub fn dns_flow(cluster: &Cluster) -> FlowDef {
    let labels = cluster
        .services
        .iter()
        .find(|s| s.namespace == "kube-system" && s.name == "kube-dns")
        .and_then(|s| s.selector.clone())
        .filter(|l| !l.is_empty())
        .unwrap_or_else(|| Labels::from([("k8s-app".to_string(), "kube-dns".to_string())]));
    FlowDef {
        from: EndpointSpec::AllPods,
        to: EndpointSpec::Labels {
            namespace: Some("kube-system".into()),
            labels,
        },
        ports: vec![
            PortSpec::Number(53, Protocol::Tcp),
            PortSpec::Number(53, Protocol::Udp),
        ],
        purpose: "DNS (allowDns)".into(),
        name: "dns".into(),
        field: "allowDns".into(),
        line: 0,
    }
}

pub fn expand<'c>(cluster: &'c Cluster, flows: &Flows) -> Expansion<'c> {
    let wants_ingress = flows
        .flows
        .iter()
        .any(|f| matches!(f.to, EndpointSpec::IngressBackends { .. }));
    let mut ctx = Ctx {
        cluster,
        flows,
        findings: Vec::new(),
        ingress: if wants_ingress {
            crate::ingress::IngressRoutes::of(cluster)
        } else {
            crate::ingress::IngressRoutes::default()
        },
        groups: workload_groups(cluster),
    };
    let mut defs = flows.flows.clone();
    if flows.allow_dns {
        defs.push(dns_flow(cluster));
    }
    let expanded = defs.into_iter().map(|def| ctx.flow(def)).collect();
    let mut findings = ctx.findings;
    findings.sort_by(|a, b| {
        (a.line, &a.flow, a.code, &a.message).cmp(&(b.line, &b.flow, b.code, &b.message))
    });
    findings.dedup();
    Expansion {
        cluster,
        flows: flows.clone(),
        expanded,
        findings,
    }
}

struct Ctx<'a> {
    cluster: &'a Cluster,
    flows: &'a Flows,
    findings: Vec<Finding>,
    /// What `ingress-backends` means, read from the manifests once.
    ingress: crate::ingress::IngressRoutes,
    /// Workload -> its Pods, in a live dump.
    groups: BTreeMap<String, Vec<usize>>,
}

impl Ctx<'_> {
    fn finding(&mut self, def: &FlowDef, severity: Severity, code: &'static str, message: String) {
        self.findings.push(Finding {
            severity,
            code,
            flow: def.field.clone(),
            line: def.line,
            message,
        });
    }

    fn flow(&mut self, def: FlowDef) -> ExpandedFlow {
        if let EndpointSpec::IngressBackends { class } = &def.to {
            for (code, message) in self.ingress.findings(class.as_deref()) {
                self.finding(&def, Severity::Note, code, message);
            }
        }
        let sources = self.sources(&def);
        let destinations = self.destinations(&def);
        if !self.flows.egress() {
            if let Destinations::Addresses { .. } = destinations {
                self.finding(
                    &def,
                    Severity::Note,
                    "not-pod-traffic",
                    format!(
                        "{} is not a pod: only the source's egress can restrict this traffic, and with defaultDeny: ingress egress is open, so nothing is generated for it",
                        def.to
                    ),
                );
            }
        }
        ExpandedFlow {
            def,
            sources,
            destinations,
        }
    }

    /// Endpoints an end means, split into policy-visible and host-network ones.
    fn members(&self, spec: &EndpointSpec) -> (Vec<usize>, Vec<usize>) {
        let (mut visible, mut host) = (Vec::new(), Vec::new());
        for (i, e) in self.cluster.endpoints.iter().enumerate() {
            let meant = match spec {
                EndpointSpec::AllPods => true,
                EndpointSpec::Namespace(ns) => &e.namespace == ns,
                // A Pod by its name, or the Pods a workload of that name owns
                // (a live dump, where the Pods are the endpoints).
                EndpointSpec::Workload { namespace, name } => {
                    &e.namespace == namespace
                        && (&e.name == name
                            || self
                                .groups
                                .get(&format!("{namespace}/{name}"))
                                .is_some_and(|g| g.contains(&i)))
                }
                EndpointSpec::Labels { namespace, labels } => {
                    namespace.as_ref().is_none_or(|ns| &e.namespace == ns)
                        && labels.iter().all(|(k, v)| e.labels.get(k) == Some(v))
                }
                EndpointSpec::IngressBackends { class } => !self
                    .ingress
                    .ports_of(class.as_deref(), &self.cluster.workload(i))
                    .is_empty(),
                _ => false,
            };
            if meant {
                if e.host_network {
                    host.push(i)
                } else {
                    visible.push(i)
                }
            }
        }
        (visible, host)
    }

    fn blocks(&mut self, def: &FlowDef, spec: &EndpointSpec) -> Vec<Block> {
        let c = &self.flows.cluster;
        let (list, what) = match spec {
            EndpointSpec::External => return external_blocks(&c.pod, &c.service),
            EndpointSpec::Cidr(n) => {
                return vec![Block {
                    cidr: *n,
                    except: Vec::new(),
                }];
            }
            EndpointSpec::Nodes => (c.nodes.clone(), "nodes needs cluster.nodeCIDRs"),
            EndpointSpec::KubeApiserver => (
                c.apiserver.clone(),
                "kube-apiserver needs cluster.apiserver.addresses or cluster.nodeCIDRs",
            ),
            _ => return Vec::new(),
        };
        if list.is_empty() {
            self.finding(
                def,
                Severity::Error,
                "no-addresses",
                format!("{what}: without addresses nothing is generated for this flow"),
            );
        }
        list.into_iter()
            .map(|cidr| Block {
                cidr,
                except: Vec::new(),
            })
            .collect()
    }

    fn host_network_note(&mut self, def: &FlowDef, host: &[usize], side: &str) {
        if host.is_empty() {
            return;
        }
        let ids: Vec<String> = host
            .iter()
            .map(|&i| self.cluster.endpoints[i].id())
            .collect();
        let hint = if side == "source" {
            "its traffic carries the node's address, which pod selectors never match: allow it with `from: nodes`"
        } else {
            "NetworkPolicies never isolate it, and other pods reach it only through an ipBlock of its node"
        };
        let verb = if ids.len() == 1 { "uses" } else { "use" };
        self.finding(
            def,
            Severity::Warning,
            "host-network",
            format!("{side} {} {verb} the host network: {hint}", ids.join(", ")),
        );
    }

    /// The podSelector of `e`'s workload: all its replicas, nothing else.
    fn unique(&mut self, def: &FlowDef, e: usize) -> LabelSelector {
        let group = workload_members(self.cluster, &self.groups, e);
        self.unique_group(def, &group)
    }

    fn unique_group(&mut self, def: &FlowDef, group: &[usize]) -> LabelSelector {
        let Selection { selector, also } = group_selector(self.cluster, group);
        if !also.is_empty() {
            let mut ids: Vec<String> = also
                .iter()
                .chain(group)
                .map(|&i| self.cluster.endpoints[i].id())
                .collect();
            ids.sort();
            let msg = format!(
                "{} have identical pod labels: every policy that selects one selects all of them, so what this flow allows for one applies to all",
                ids.join(", ")
            );
            self.finding(def, Severity::Warning, "same-labels", msg);
        }
        selector
    }

    fn sources(&mut self, def: &FlowDef) -> Sources {
        if !def.from.is_pods() {
            return Sources::Addresses {
                blocks: self.blocks(def, &def.from.clone()),
            };
        }
        let (visible, host) = self.members(&def.from);
        self.host_network_note(def, &host, "source");
        if visible.is_empty() && host.is_empty() && def.field != "allowDns" {
            self.finding(
                def,
                Severity::Error,
                "matches-nothing",
                format!(
                    "source {} matches no pod{}",
                    def.from,
                    crate::suggest::endpoint(self.cluster, &def.from)
                ),
            );
        }
        let mut pod_set = self.pod_set(def, &def.from.clone(), &visible);
        pod_set.host_network = host;
        Sources::Pods(pod_set)
    }

    fn pod_set(&mut self, def: &FlowDef, spec: &EndpointSpec, visible: &[usize]) -> PodSet {
        let namespaces_of = |members: &[usize]| -> BTreeSet<String> {
            members
                .iter()
                .map(|&i| self.cluster.endpoints[i].namespace.clone())
                .collect()
        };
        let (peer, subjects) = match spec {
            EndpointSpec::AllPods => (
                Some(PodPeer {
                    namespace: None,
                    pods: None,
                }),
                namespaces_of(visible)
                    .into_iter()
                    .map(|ns| (ns, LabelSelector::default()))
                    .collect(),
            ),
            EndpointSpec::Namespace(ns) => (
                Some(PodPeer {
                    namespace: Some(ns.clone()),
                    pods: None,
                }),
                namespaces_of(visible)
                    .into_iter()
                    .map(|ns| (ns, LabelSelector::default()))
                    .collect(),
            ),
            EndpointSpec::Labels { namespace, labels } => {
                let sel = LabelSelector {
                    match_labels: labels.clone(),
                    match_expressions: Vec::new(),
                };
                (
                    Some(PodPeer {
                        namespace: namespace.clone(),
                        pods: Some(sel.clone()),
                    }),
                    namespaces_of(visible)
                        .into_iter()
                        .map(|ns| (ns, sel.clone()))
                        .collect(),
                )
            }
            EndpointSpec::Workload { namespace, .. } => match visible {
                [] => (None, Vec::new()),
                // One pod, or the replicas of the workload.
                members => {
                    let sel = self.unique_group(def, members);
                    (
                        Some(PodPeer {
                            namespace: Some(namespace.clone()),
                            pods: Some(sel.clone()),
                        }),
                        vec![(namespace.clone(), sel)],
                    )
                }
            },
            _ => (None, Vec::new()),
        };
        PodSet {
            endpoints: visible.to_vec(),
            host_network: Vec::new(),
            peer,
            subjects,
        }
    }

    fn destinations(&mut self, def: &FlowDef) -> Destinations {
        if !def.to.is_pods() {
            let blocks = self.blocks(def, &def.to.clone());
            let ports = self.address_ports(def);
            return Destinations::Addresses { blocks, ports };
        }
        let (visible, host) = self.members(&def.to);
        self.host_network_note(def, &host, "destination");
        if visible.is_empty() && host.is_empty() && def.field != "allowDns" {
            self.finding(
                def,
                Severity::Error,
                "matches-nothing",
                format!(
                    "destination {} matches no pod{}",
                    def.to,
                    crate::suggest::endpoint(self.cluster, &def.to)
                ),
            );
        }
        let mut listened: BTreeSet<&PortSpec> = BTreeSet::new();
        let mut members = Vec::new();
        let mut host_members = Vec::new();
        let mut translated = false;
        for &e in visible.iter().chain(&host) {
            let endpoint = &self.cluster.endpoints[e];
            let services: Vec<&Service> = self
                .cluster
                .services
                .iter()
                .filter(|s| s.selects(endpoint))
                .collect();
            let mut ports = Vec::new();
            let mut notes = Vec::new();
            for spec in &def.ports {
                let r = match (spec, &def.to) {
                    (PortSpec::Backend, EndpointSpec::IngressBackends { class }) => {
                        let backend = self
                            .ingress
                            .ports_of(class.as_deref(), &self.cluster.workload(e));
                        Resolved {
                            listened: !backend.is_empty(),
                            ports: backend
                                .into_iter()
                                .map(|(p, proto)| PortSel::single(p, proto))
                                .collect(),
                            notes: Vec::new(),
                            translated: false,
                        }
                    }
                    _ => resolve(endpoint, &services, spec),
                };
                if r.listened {
                    listened.insert(spec);
                }
                if r.translated {
                    translated = true;
                    if let PortSpec::Number(..) | PortSpec::Name(..) = spec {
                        for n in &r.notes {
                            self.findings.push(Finding {
                                severity: Severity::Note,
                                code: "service-port",
                                flow: def.field.clone(),
                                line: def.line,
                                message: n.clone(),
                            });
                        }
                    }
                }
                ports.extend(r.ports);
                notes.extend(r.notes);
            }
            normalize(&mut ports);
            if ports.is_empty() {
                continue;
            }
            if endpoint.host_network {
                host_members.push(DstEndpoint {
                    endpoint: e,
                    ports,
                    selector: LabelSelector::default(),
                    notes,
                });
                continue;
            }
            let selector = self.unique(def, e);
            members.push(DstEndpoint {
                endpoint: e,
                ports,
                selector,
                notes,
            });
        }
        if !visible.is_empty() || !host.is_empty() {
            for spec in &def.ports {
                if !listened.contains(spec) && *spec != PortSpec::Any {
                    let msg = match spec {
                        PortSpec::Service => format!("no pod of {} is behind a Service", def.to),
                        PortSpec::Backend => format!("no route of {} reaches a pod", def.to),
                        PortSpec::Metrics => format!(
                            "no pod of {} declares a metrics port or a prometheus.io/port annotation",
                            def.to
                        ),
                        PortSpec::Name(n, p) => format!(
                            "no pod of {} declares a port named {n} for {p}, and no Service in front of one has a port of that name{}",
                            def.to,
                            crate::suggest::port_name(
                                self.cluster,
                                &[&visible[..], &host[..]].concat(),
                                n,
                                *p
                            )
                        ),
                        other => format!(
                            "no pod of {} declares port {other}, and no Service in front of one has that port",
                            def.to
                        ),
                    };
                    // Numbers are allowed as written (pods need not declare
                    // their ports); names, `service` and `metrics` resolve to nothing.
                    let severity = match spec {
                        PortSpec::Number(..) | PortSpec::Range(..) => Severity::Warning,
                        _ => Severity::Error,
                    };
                    self.finding(def, severity, "no-listener", msg);
                }
            }
        }
        let literal = def.ports.iter().all(|p| {
            matches!(
                p,
                PortSpec::Number(..) | PortSpec::Range(..) | PortSpec::Any
            )
        });
        let uniform = if literal && !translated && !matches!(def.to, EndpointSpec::Workload { .. })
        {
            let peer = self.pod_set(def, &def.to.clone(), &visible).peer;
            let mut ports: Vec<PortSel> = def.ports.iter().filter_map(literal_port).collect();
            normalize(&mut ports);
            peer.map(|p| (p, ports))
        } else {
            None
        };
        Destinations::Pods {
            members,
            host_members,
            uniform,
        }
    }

    fn address_ports(&mut self, def: &FlowDef) -> Vec<PortSel> {
        let mut out = Vec::new();
        let apiserver = def.to == EndpointSpec::KubeApiserver;
        let port = self.flows.cluster.apiserver_port;
        for spec in &def.ports {
            match spec {
                PortSpec::Number(443, Protocol::Tcp) if apiserver && port != 443 => {
                    out.push(PortSel::single(port, Protocol::Tcp));
                    self.finding(
                        def,
                        Severity::Note,
                        "service-port",
                        format!("kube-apiserver: port 443 is the kubernetes Service's port, which sends it to {port}: the policy allows {port}"),
                    );
                }
                PortSpec::Service if apiserver => out.push(PortSel::single(port, Protocol::Tcp)),
                PortSpec::Service | PortSpec::Metrics | PortSpec::Name(..) | PortSpec::Backend => {
                    self.finding(
                        def,
                        Severity::Error,
                        "not-pod-traffic",
                        format!(
                            "port {spec} only means something on a pod, and {} is not one: ignored",
                            def.to
                        ),
                    )
                }
                other => out.extend(literal_port(other)),
            }
        }
        normalize(&mut out);
        out
    }
}

fn literal_port(spec: &PortSpec) -> Option<PortSel> {
    match *spec {
        PortSpec::Number(n, p) => Some(PortSel::single(n, p)),
        PortSpec::Range(a, b, p) => Some(PortSel::Range {
            start: a,
            end: b,
            protocol: p,
        }),
        PortSpec::Any => Some(PortSel::Any),
        _ => None,
    }
}

/// `0.0.0.0/0` (and `::/0` when the cluster has IPv6 ranges) minus the pod and service ranges.
fn external_blocks(pod: &[IpNet], service: &[IpNet]) -> Vec<Block> {
    let own: Vec<IpNet> = pod.iter().chain(service).copied().collect();
    let mut out = Vec::new();
    let v4: IpNet = "0.0.0.0/0".parse().expect("literal");
    let v6: IpNet = "::/0".parse().expect("literal");
    for (any, want) in [
        (v4, true),
        (v6, own.iter().any(|n| matches!(n, IpNet::V6(_)))),
    ] {
        if !want {
            continue;
        }
        let mut except: Vec<IpNet> = own
            .iter()
            .filter(|n| any.contains(*n) && **n != any)
            .copied()
            .collect();
        except.sort();
        except.dedup();
        // Ranges inside other listed ranges add nothing.
        let kept: Vec<IpNet> = except
            .iter()
            .filter(|n| !except.iter().any(|m| m != *n && m.contains(*n)))
            .copied()
            .collect();
        out.push(Block {
            cidr: any,
            except: kept,
        });
    }
    out
}

struct Resolved {
    ports: Vec<PortSel>,
    notes: Vec<String>,
    /// The destination listens on it (declares it, or a Service leads to it).
    listened: bool,
    /// A Service port led to a different pod port.
    translated: bool,
}

const METRICS_ANNOTATION: &str = "prometheus.io/port";

/// The pod ports `spec` means on `e`, which `services` select.
fn resolve(e: &Endpoint, services: &[&Service], spec: &PortSpec) -> Resolved {
    let mut r = Resolved {
        ports: Vec::new(),
        notes: Vec::new(),
        listened: false,
        translated: false,
    };
    let declares =
        |port: u16, p: Protocol| e.ports.iter().any(|c| c.port == port && c.protocol == p);
    // A Service port leads to its targetPort on the pod, a number or a name.
    let via_service = |r: &mut Resolved,
                       svc: &Service,
                       sp: &netpol_model::ServicePort,
                       always_note: bool| {
        let target = match &sp.target_port {
            PortRef::Number(t) => Some(*t),
            PortRef::Name(n) => e.resolve_named_port(n, sp.protocol),
        };
        match target {
            Some(t) => {
                r.ports.push(PortSel::single(t, sp.protocol));
                r.listened = true;
                if t != sp.port || always_note {
                    r.translated |= t != sp.port;
                    let via = match &sp.target_port {
                        PortRef::Name(n) => format!("targetPort {n} ({t})"),
                        PortRef::Number(_) => format!("targetPort {t}"),
                    };
                    r.notes.push(format!(
                        "{}/{} is Service {} port {}, which sends it to {via} on {}: the policy allows {t}/{}",
                        sp.port,
                        sp.protocol,
                        svc.id(),
                        sp.port,
                        e.id(),
                        sp.protocol
                    ));
                }
            }
            None => r.notes.push(format!(
                "Service {} port {}/{} targets port {}, which {} does not declare: nothing to allow",
                svc.id(),
                sp.port,
                sp.protocol,
                sp.target_port,
                e.id()
            )),
        }
    };
    match spec {
        PortSpec::Any => {
            r.ports.push(PortSel::Any);
            r.listened = true;
        }
        PortSpec::Number(n, p) => {
            if declares(*n, *p) {
                r.ports.push(PortSel::single(*n, *p));
                r.listened = true;
            }
            let mut by_service = false;
            for svc in services {
                for sp in svc
                    .ports
                    .iter()
                    .filter(|sp| sp.port == *n && sp.protocol == *p)
                {
                    by_service = true;
                    via_service(&mut r, svc, sp, false);
                }
            }
            if !r.listened && !by_service {
                // Nothing says the pod listens there; the flow says so, and
                // pods need not declare their ports.
                r.ports.push(PortSel::single(*n, *p));
            }
        }
        PortSpec::Range(a, b, p) => {
            r.ports.push(PortSel::Range {
                start: *a,
                end: *b,
                protocol: *p,
            });
            r.listened = e
                .ports
                .iter()
                .any(|c| c.protocol == *p && (*a..=*b).contains(&c.port));
        }
        PortSpec::Name(n, p) => {
            if let Some(port) = e.resolve_named_port(n, *p) {
                r.ports.push(PortSel::single(port, *p));
                r.listened = true;
            } else {
                for svc in services {
                    for sp in svc
                        .ports
                        .iter()
                        .filter(|sp| sp.name.as_deref() == Some(n) && sp.protocol == *p)
                    {
                        via_service(&mut r, svc, sp, true);
                    }
                }
            }
        }
        PortSpec::Service => {
            for svc in services {
                for sp in &svc.ports {
                    via_service(&mut r, svc, sp, false);
                }
            }
        }
        // Only with ingress-backends, which `destinations` answers itself.
        PortSpec::Backend => {}
        PortSpec::Metrics => {
            for c in &e.ports {
                if c.name.as_deref().is_some_and(|n| n.contains("metrics")) {
                    r.ports.push(PortSel::single(c.port, c.protocol));
                }
            }
            let annotated =
                std::iter::once(&e.annotations).chain(services.iter().map(|s| &s.annotations));
            for a in annotated {
                if let Some(port) = a
                    .get(METRICS_ANNOTATION)
                    .and_then(|v| v.trim().parse::<u16>().ok())
                    .filter(|p| *p > 0)
                {
                    r.ports.push(PortSel::single(port, Protocol::Tcp));
                }
            }
            r.listened = !r.ports.is_empty();
        }
    }
    r
}

impl Expansion<'_> {
    /// Per flow: which endpoints it covers as a source (pods it means, or
    /// pods whose address is in its blocks) and, per destination endpoint,
    /// the ports. The reference for "is this connection asked for?".
    pub fn coverage(&self) -> Coverage {
        let n = self.cluster.endpoints.len();
        let mut flows = Vec::new();
        for f in &self.expanded {
            let mut src = vec![false; n];
            match &f.sources {
                Sources::Pods(set) => set
                    .endpoints
                    .iter()
                    .chain(&set.host_network)
                    .for_each(|&i| src[i] = true),
                Sources::Addresses { blocks } => {
                    for (i, e) in self.cluster.endpoints.iter().enumerate() {
                        src[i] = e
                            .ips
                            .iter()
                            .any(|ip| blocks.iter().any(|b| b.contains(*ip)));
                    }
                }
            }
            let mut dst: BTreeMap<usize, Vec<PortSel>> = BTreeMap::new();
            match &f.destinations {
                Destinations::Pods {
                    members,
                    host_members,
                    ..
                } => {
                    for m in members.iter().chain(host_members) {
                        dst.insert(m.endpoint, m.ports.clone());
                    }
                }
                Destinations::Addresses { blocks, ports } => {
                    for (i, e) in self.cluster.endpoints.iter().enumerate() {
                        if e.ips
                            .iter()
                            .any(|ip| blocks.iter().any(|b| b.contains(*ip)))
                        {
                            dst.insert(i, ports.clone());
                        }
                    }
                }
            }
            flows.push((src, dst));
        }
        Coverage { flows }
    }

    /// Whether the policies netpol manages could restrict `src -> dst`: the
    /// destination's ingress, or with egress isolation the source's egress.
    /// Host-network pods are never isolated, so they cannot be the one side.
    pub fn in_scope(&self, src: usize, dst: usize) -> bool {
        let e = &self.cluster.endpoints;
        let restrictable = |i: usize| self.flows.managed(&e[i].namespace) && !e[i].host_network;
        restrictable(dst) || (self.flows.egress() && restrictable(src))
    }
}

/// One flow's reach: which endpoints it covers as a source, and per
/// destination endpoint the ports.
type FlowReach = (Vec<bool>, BTreeMap<usize, Vec<PortSel>>);

pub struct Coverage {
    flows: Vec<FlowReach>,
}

impl Coverage {
    /// Indexes of the flows that ask for `src -> dst:port/protocol`.
    pub fn flows_covering(
        &self,
        src: usize,
        dst: usize,
        port: u16,
        protocol: Protocol,
    ) -> Vec<usize> {
        self.flows
            .iter()
            .enumerate()
            .filter(|(_, (s, d))| {
                s[src]
                    && d.get(&dst)
                        .is_some_and(|ports| ports.iter().any(|p| p.admits(port, protocol)))
            })
            .map(|(i, _)| i)
            .collect()
    }

    pub fn covers(&self, src: usize, dst: usize, port: u16, protocol: Protocol) -> bool {
        self.flows.iter().any(|(s, d)| {
            s[src]
                && d.get(&dst)
                    .is_some_and(|ports| ports.iter().any(|p| p.admits(port, protocol)))
        })
    }
}
