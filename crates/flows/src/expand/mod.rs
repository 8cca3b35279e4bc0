//! Flows held against a cluster: which pods or addresses each end means,
//! and which ports each destination pod actually receives the traffic on.
//! `generate` and `verify` both work from this one expansion.

mod coverage;
mod ports;
mod types;

use std::collections::{BTreeMap, BTreeSet};

use ipnet::IpNet;
use netpol_model::text::{plural, short_list};
use netpol_model::{Cluster, LabelSelector, Labels, Protocol, Service};

use crate::parse::{FlowDef, Flows};
use crate::select::{ByNamespace, Selection, group_selector_in, workload_groups, workload_members};
use crate::spec::{EndpointSpec, PortSpec};

pub use coverage::Coverage;
use ports::{Resolved, literal_port, resolve};
use types::normalize;
pub use types::*;

pub struct Expansion<'c> {
    pub cluster: &'c Cluster,
    pub flows: Flows,
    /// The file's flows, then the implicit DNS flow when `allowDns` is on.
    pub expanded: Vec<ExpandedFlow>,
    pub findings: Vec<Finding>,
    /// Built on first use and shared: `verify`'s extras and its evidence
    /// check both read it.
    coverage: std::sync::OnceLock<Coverage>,
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
        by_namespace: ByNamespace::new(cluster),
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
        coverage: std::sync::OnceLock::new(),
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
    by_namespace: ByNamespace<'a>,
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
        let names = self.by_workload(host.iter().copied());
        let hint = if side == "source" {
            "its traffic carries the node's address, which pod selectors never match: allow it with `from: nodes`"
        } else {
            "NetworkPolicies never isolate it, and other pods reach it only through an ipBlock of its node"
        };
        let verb = if host.len() == 1 { "uses" } else { "use" };
        self.finding(
            def,
            Severity::Warning,
            "host-network",
            format!(
                "{side} {} {verb} the host network: {hint}",
                short_list(&names)
            ),
        );
    }

    /// `pods` named by workload, in order, with their pod counts (a pod of
    /// its own by its name): a live dump has a pod per replica and node, and
    /// a finding naming each ran to thousands of names.
    fn by_workload(&self, pods: impl Iterator<Item = usize>) -> Vec<String> {
        let mut by: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for i in pods {
            by.entry(self.cluster.workload(i)).or_default().push(i);
        }
        by.iter()
            .map(|(workload, members)| match members.as_slice() {
                [one] if self.cluster.endpoints[*one].id() == *workload => workload.clone(),
                _ => format!("{workload} ({})", plural(members.len(), "pod", "pods")),
            })
            .collect()
    }

    /// The podSelector of `e`'s workload: all its replicas, nothing else.
    fn unique(&mut self, def: &FlowDef, e: usize) -> LabelSelector {
        let group = workload_members(self.cluster, &self.groups, e);
        self.unique_group(def, &group)
    }

    fn unique_group(&mut self, def: &FlowDef, group: &[usize]) -> LabelSelector {
        let in_namespace = group.first().map_or(&[][..], |&m| {
            self.by_namespace.get(&self.cluster.endpoints[m].namespace)
        });
        let Selection { selector, also } = group_selector_in(self.cluster, group, in_namespace);
        if !also.is_empty() {
            let names = self.by_workload(also.iter().chain(group).copied());
            let msg = format!(
                "{} have identical pod labels: every policy that selects one selects all of them, so what this flow allows for one applies to all",
                short_list(&names)
            );
            self.finding(def, Severity::Warning, "same-labels", msg);
        }
        selector
    }

    /// The policy-visible and the host-network pods one end of a flow means,
    /// with the findings when it means none or some use the host network.
    fn pods_of(
        &mut self,
        def: &FlowDef,
        spec: &EndpointSpec,
        side: &str,
    ) -> (Vec<usize>, Vec<usize>) {
        let (visible, host) = self.members(spec);
        self.host_network_note(def, &host, side);
        if visible.is_empty() && host.is_empty() && def.field != "allowDns" {
            self.finding(
                def,
                Severity::Error,
                "matches-nothing",
                format!(
                    "{side} {spec} matches no pod{}",
                    crate::suggest::endpoint(self.cluster, spec)
                ),
            );
        }
        (visible, host)
    }

    fn sources(&mut self, def: &FlowDef) -> Sources {
        if !def.from.is_pods() {
            return Sources::Addresses {
                blocks: self.blocks(def, &def.from.clone()),
            };
        }
        let (visible, host) = self.pods_of(def, &def.from, "source");
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
        let (visible, host) = self.pods_of(def, &def.to, "destination");
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
