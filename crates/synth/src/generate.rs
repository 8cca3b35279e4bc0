//! Builds a random but deterministic [`Cluster`] that uses every construct the
//! engine understands, in proportions that resemble a real cluster.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use ipnet::IpNet;
use netpol_model::{
    Cluster, ContainerPort, Endpoint, LabelSelector, Labels, NAMESPACE_NAME_LABEL, Namespace,
    Operator, Origin, Peer, Policy, PortRef, PortRule, Protocol, Requirement, Rule, Service,
    ServicePort, WorkloadKind,
};

use crate::rng::Rng;

/// What to generate. `workloads` counts every endpoint, the DNS server included.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Params {
    pub workloads: usize,
    pub policies: usize,
    /// Application namespaces; `kube-system` (with the DNS server) comes on top.
    pub namespaces: usize,
    pub seed: u64,
}

impl Params {
    /// Half as many policies as workloads, one namespace per 20 workloads.
    pub fn new(workloads: usize, seed: u64) -> Params {
        Params {
            workloads,
            policies: workloads / 2,
            namespaces: (workloads / 20).clamp(1, 500),
            seed,
        }
    }
}

pub const DNS_NAMESPACE: &str = "kube-system";
const NODES: usize = 4;
const TIERS: [&str; 5] = ["web", "api", "db", "cache", "worker"];
const TEAMS: [&str; 3] = ["a", "b", "c"];
const ENVS: [&str; 3] = ["prod", "staging", "dev"];
const VERSIONS: [&str; 2] = ["v1", "v2"];
/// Names a port rule may ask for; `nope` is declared by no pod.
const PORT_NAMES: [(&str, Protocol); 11] = [
    ("http", Protocol::Tcp),
    ("https", Protocol::Tcp),
    ("grpc", Protocol::Tcp),
    ("db", Protocol::Tcp),
    ("cache", Protocol::Tcp),
    ("metrics", Protocol::Tcp),
    ("dns", Protocol::Udp),
    ("dns-tcp", Protocol::Tcp),
    ("sig", Protocol::Sctp),
    ("syslog", Protocol::Udp),
    ("nope", Protocol::Tcp),
];
const NUMBERED_PORTS: [(u16, Protocol); 11] = [
    (80, Protocol::Tcp),
    (443, Protocol::Tcp),
    (8080, Protocol::Tcp),
    (9000, Protocol::Tcp),
    (5432, Protocol::Tcp),
    (6379, Protocol::Tcp),
    (53, Protocol::Udp),
    (53, Protocol::Tcp),
    (9090, Protocol::Tcp),
    (3868, Protocol::Sctp),
    (514, Protocol::Udp),
];

pub fn generate(params: &Params) -> Cluster {
    let mut g = Gen {
        rng: Rng::new(params.seed),
        origin: Origin {
            file: Arc::from("synthetic"),
            document: 1,
            line: 1,
        },
        namespaces: Vec::new(),
        words: Vocabulary::default(),
        pod_ips: Vec::new(),
    };
    let mut cluster = Cluster::default();
    for ns in g.namespaces(params.namespaces.max(1)) {
        cluster.namespaces.insert(ns.name.clone(), ns);
    }
    g.words = Vocabulary::new(&g.namespaces);
    cluster.endpoints = (0..params.workloads).map(|i| g.endpoint(i)).collect();
    cluster.services = cluster
        .endpoints
        .iter()
        .enumerate()
        .filter_map(|(i, e)| g.service(i, e))
        .collect();
    cluster.policies = (0..params.policies).map(|i| g.policy(i)).collect();
    cluster.normalize();
    cluster
}

struct Gen {
    rng: Rng,
    origin: Origin,
    /// Application namespaces (not kube-system), for placing objects.
    namespaces: Vec<String>,
    words: Vocabulary,
    pod_ips: Vec<IpAddr>,
}

/// The values selectors may ask for, per label key. Kept as owned lists so
/// that picking one is O(1): rebuilding the `app` list per selector made
/// generation quadratic in the number of workloads.
#[derive(Default)]
struct Vocabulary {
    tiers: Vec<String>,
    teams: Vec<String>,
    envs: Vec<String>,
    versions: Vec<String>,
    apps: Vec<String>,
    /// Application namespaces, then kube-system.
    namespaces: Vec<String>,
    none: Vec<String>,
}

impl Vocabulary {
    fn new(namespaces: &[String]) -> Vocabulary {
        let owned = |words: &[&str]| words.iter().map(|s| s.to_string()).collect();
        Vocabulary {
            tiers: owned(&TIERS),
            teams: owned(&TEAMS),
            envs: owned(&ENVS),
            versions: owned(&VERSIONS),
            apps: Vec::new(),
            namespaces: namespaces
                .iter()
                .cloned()
                .chain([DNS_NAMESPACE.to_string()])
                .collect(),
            none: vec!["none".into()],
        }
    }

    fn for_key(&self, key: &str) -> &[String] {
        let words = match key {
            "tier" => &self.tiers,
            "team" => &self.teams,
            "env" => &self.envs,
            "version" => &self.versions,
            "app" => &self.apps,
            _ => &self.namespaces,
        };
        if words.is_empty() { &self.none } else { words }
    }
}

fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn pod_ip(i: usize) -> IpAddr {
    IpAddr::V4(Ipv4Addr::from(
        u32::from(Ipv4Addr::new(10, 128, 0, 0)) + 1 + i as u32,
    ))
}

fn node_ip(node: usize) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(192, 168, 0, 10 + node as u8))
}

impl Gen {
    fn namespaces(&mut self, count: usize) -> Vec<Namespace> {
        let mut out = vec![Namespace {
            name: DNS_NAMESPACE.to_string(),
            labels: labels(&[("team", "platform")]),
            declared: true,
        }];
        for i in 0..count {
            let name = format!("ns-{i}");
            // Some namespaces carry no labels but the name the API server sets.
            let mut l = if self.rng.chance(85) {
                labels(&[("team", *self.rng.pick(&TEAMS))])
            } else {
                Labels::new()
            };
            if self.rng.chance(75) {
                l.insert("env".into(), self.rng.pick(&ENVS).to_string());
            }
            self.namespaces.push(name.clone());
            // A few namespaces are only used, never declared: the loader makes them up.
            out.push(Namespace {
                name,
                labels: l,
                declared: i == 0 || self.rng.chance(90),
            });
        }
        out.retain(|n| n.declared);
        out
    }

    fn endpoint(&mut self, i: usize) -> Endpoint {
        if i == 0 {
            return Endpoint {
                namespace: DNS_NAMESPACE.into(),
                name: "coredns".into(),
                kind: WorkloadKind::Pod,
                labels: labels(&[("k8s-app", "kube-dns")]),
                annotations: Labels::new(),
                ports: sorted(vec![
                    port(Some("dns"), 53, Protocol::Udp),
                    port(Some("dns-tcp"), 53, Protocol::Tcp),
                    port(Some("metrics"), 9153, Protocol::Tcp),
                ]),
                ips: vec![pod_ip(0)],
                host_network: false,
                node: Some("node-0".into()),
                host_ip: None,
                replicas: Some(1),
                origin: self.origin.clone(),
            };
        }
        let tier = *self.rng.pick(&TIERS);
        let name = format!("{tier}-{i}");
        self.words.apps.push(name.clone());
        // A few pods carry no labels at all, which only empty selectors,
        // NotIn and DoesNotExist can match.
        let bare = self.rng.chance(6);
        let mut l = labels(&[("app", &name), ("tier", tier)]);
        if self.rng.chance(70) {
            l.insert("team".into(), self.rng.pick(&TEAMS).to_string());
        }
        if self.rng.chance(60) {
            l.insert("env".into(), self.rng.pick(&ENVS).to_string());
        }
        if self.rng.chance(50) {
            l.insert("version".into(), self.rng.pick(&VERSIONS).to_string());
        }
        if bare {
            l.clear();
        }
        let kind = match self.rng.below(20) {
            0..=13 => WorkloadKind::Pod,
            14 | 15 => WorkloadKind::Deployment,
            16 => WorkloadKind::StatefulSet,
            17 => WorkloadKind::DaemonSet,
            18 => WorkloadKind::Job,
            _ => WorkloadKind::CronJob,
        };
        let host_network =
            matches!(kind, WorkloadKind::Pod | WorkloadKind::DaemonSet) && self.rng.chance(4);
        let (ips, node) = if kind == WorkloadKind::Pod {
            let node = self.rng.below(NODES);
            let ips = if host_network {
                vec![node_ip(node)]
            } else if self.rng.chance(85) {
                let mut ips = vec![pod_ip(i)];
                if self.rng.chance(30) {
                    let v6 = IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, i as u16 + 1));
                    // Dual-stack either way round, and IPv6-only pods, so
                    // that connections of both families meet ipBlocks of both.
                    match i % 3 {
                        0 => ips.push(v6),
                        1 => ips.insert(0, v6),
                        _ => ips = vec![v6],
                    }
                }
                ips
            } else {
                Vec::new()
            };
            (ips, Some(format!("node-{node}")))
        } else {
            (Vec::new(), None)
        };
        self.pod_ips.extend(ips.iter().copied());
        // Without consuming randomness, so that the rest of the cluster stays as it was.
        let replicas = match kind {
            WorkloadKind::Pod => Some(1),
            WorkloadKind::DaemonSet => None,
            WorkloadKind::CronJob => Some(1),
            WorkloadKind::Job => Some(1 + (i % 2) as u32),
            _ => Some(1 + (i % 3) as u32),
        };
        // As the loader reads it: a host-network pod's address is its node's.
        let host_ip = ips.first().copied().filter(|_| host_network);
        Endpoint {
            namespace: self.rng.pick(&self.namespaces).clone(),
            name,
            kind,
            labels: l,
            annotations: Labels::new(),
            ports: self.ports(tier),
            ips,
            host_network,
            node,
            host_ip,
            replicas,
            origin: self.origin.clone(),
        }
    }

    fn ports(&mut self, tier: &str) -> Vec<ContainerPort> {
        let mut ports = match tier {
            "web" => vec![
                port(Some("http"), 80, Protocol::Tcp),
                port(Some("https"), 443, Protocol::Tcp),
            ],
            "api" => vec![
                port(Some("http"), 8080, Protocol::Tcp),
                port(Some("grpc"), 9000, Protocol::Tcp),
            ],
            "db" => vec![port(Some("db"), 5432, Protocol::Tcp)],
            "cache" => vec![port(Some("cache"), 6379, Protocol::Tcp)],
            _ => Vec::new(),
        };
        if self.rng.chance(30) {
            // The same name on different numbers: named ports resolve per pod.
            let n = if self.rng.chance(50) { 9090 } else { 9100 };
            ports.push(port(Some("metrics"), n, Protocol::Tcp));
        }
        if self.rng.chance(10) {
            ports.push(port(Some("sig"), 3868, Protocol::Sctp));
        }
        if self.rng.chance(10) {
            ports.push(port(Some("syslog"), 514, Protocol::Udp));
        }
        if self.rng.chance(15) {
            ports.push(port(None, 8000 + self.rng.below(50) as u16, Protocol::Tcp));
        }
        sorted(ports)
    }

    fn service(&mut self, i: usize, e: &Endpoint) -> Option<Service> {
        let first = e.ports.first()?;
        if e.host_network || e.labels.is_empty() || !self.rng.chance(50) {
            return None;
        }
        let target_port = match &first.name {
            Some(n) if self.rng.chance(70) => PortRef::Name(n.clone()),
            _ => PortRef::Number(first.port),
        };
        Some(Service {
            namespace: e.namespace.clone(),
            name: e.name.clone(),
            selector: Some(
                e.labels
                    .iter()
                    .filter(|(k, _)| *k == "app" || *k == "k8s-app")
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            ),
            ports: vec![ServicePort {
                name: first.name.clone(),
                port: if first.port == 53 { 53 } else { 80 },
                protocol: first.protocol,
                target_port,
            }],
            cluster_ips: vec![IpAddr::V4(Ipv4Addr::new(
                10,
                96,
                (i >> 8) as u8,
                (i & 255) as u8,
            ))],
            service_type: "ClusterIP".into(),
            annotations: Labels::new(),
            origin: self.origin.clone(),
        })
    }

    fn policy(&mut self, i: usize) -> Policy {
        let namespace = self.rng.pick(&self.namespaces).clone();
        let template = self.rng.below(12);
        let mut p = Policy {
            namespace,
            name: String::new(),
            pod_selector: LabelSelector::default(),
            affects_ingress: true,
            affects_egress: false,
            policy_types_explicit: true,
            ingress: Vec::new(),
            egress: Vec::new(),
            labels: Labels::new(),
            annotations: Labels::new(),
            origin: self.origin.clone(),
        };
        let name = match template {
            0 => "default-deny-ingress",
            1 => {
                p.affects_ingress = false;
                p.affects_egress = true;
                "default-deny-egress"
            }
            2 => {
                p.affects_egress = true;
                "default-deny-all"
            }
            3 => {
                p.pod_selector = self.pod_selector();
                p.affects_ingress = false;
                p.affects_egress = true;
                p.egress.push(dns_rule());
                "allow-dns"
            }
            4 => {
                p.pod_selector = self.pod_selector();
                p.policy_types_explicit = false;
                p.ingress.push(empty_rule());
                "allow-all-ingress"
            }
            _ => {
                p.pod_selector = self.pod_selector();
                let (ing, eg) = match self.rng.below(4) {
                    0 | 1 => (true, false),
                    2 => (false, true),
                    _ => (true, true),
                };
                p.affects_ingress = ing;
                p.affects_egress = eg;
                for _ in 0..self.rng.below(3) + usize::from(ing) {
                    let r = self.rule();
                    p.ingress.push(r);
                }
                for _ in 0..self.rng.below(3) + usize::from(eg) {
                    let r = self.rule();
                    p.egress.push(r);
                }
                // Rules of a direction the policy does not affect are kept, and ignored.
                if !ing && self.rng.chance(70) {
                    p.ingress.clear();
                }
                if !eg && self.rng.chance(70) {
                    p.egress.clear();
                }
                // Written without policyTypes when the API server's default gives the same types.
                if p.affects_ingress
                    && p.affects_egress != p.egress.is_empty()
                    && self.rng.chance(50)
                {
                    p.policy_types_explicit = false;
                }
                "allow"
            }
        };
        p.name = format!("{name}-{i}");
        p
    }

    fn pod_selector(&mut self) -> LabelSelector {
        if self.rng.chance(25) {
            LabelSelector::default()
        } else {
            self.selector(false)
        }
    }

    /// A selector over pod labels, or over namespace labels.
    fn selector(&mut self, for_namespace: bool) -> LabelSelector {
        let mut sel = LabelSelector::default();
        for _ in 0..self.rng.below(3) {
            let (k, v) = self.label(for_namespace);
            sel.match_labels.insert(k, v);
        }
        let expressions = if sel.match_labels.is_empty() {
            1 + self.rng.below(2)
        } else {
            self.rng.below(2)
        };
        for _ in 0..expressions {
            let (key, _) = self.label(for_namespace);
            let operator = *self.rng.pick(&[
                Operator::In,
                Operator::NotIn,
                Operator::Exists,
                Operator::DoesNotExist,
            ]);
            let values = match operator {
                Operator::In | Operator::NotIn => self.rng.subset(self.words.for_key(&key), 2),
                _ => Vec::new(),
            };
            sel.match_expressions.push(Requirement {
                key,
                operator,
                values,
            });
        }
        sel
    }

    fn label(&mut self, for_namespace: bool) -> (String, String) {
        let keys: &[&str] = if for_namespace {
            &["team", "env", NAMESPACE_NAME_LABEL]
        } else {
            &["tier", "team", "env", "version", "app"]
        };
        let key = self.rng.pick(keys).to_string();
        let value = self.rng.pick(self.words.for_key(&key)).clone();
        (key, value)
    }

    fn rule(&mut self) -> Rule {
        let peers = if self.rng.chance(20) {
            Vec::new()
        } else {
            (0..1 + self.rng.below(2)).map(|_| self.peer()).collect()
        };
        let ports = if self.rng.chance(30) {
            Vec::new()
        } else {
            (0..1 + self.rng.below(2))
                .map(|_| self.port_rule())
                .collect()
        };
        Rule {
            peers,
            ports,
            line: 0,
        }
    }

    fn peer(&mut self) -> Peer {
        match self.rng.below(20) {
            0..=6 => Peer::Pods {
                pod_selector: Some(self.selector(false)),
                namespace_selector: None,
                line: 0,
            },
            7..=9 => {
                let ns = if self.rng.chance(20) {
                    LabelSelector::default()
                } else {
                    self.selector(true)
                };
                Peer::Pods {
                    pod_selector: None,
                    namespace_selector: Some(ns),
                    line: 0,
                }
            }
            10..=14 => {
                let ns = if self.rng.chance(15) {
                    LabelSelector::default()
                } else {
                    self.selector(true)
                };
                let pods = if self.rng.chance(10) {
                    LabelSelector::default()
                } else {
                    self.selector(false)
                };
                Peer::Pods {
                    pod_selector: Some(pods),
                    namespace_selector: Some(ns),
                    line: 0,
                }
            }
            _ => self.ip_block(),
        }
    }

    fn ip_block(&mut self) -> Peer {
        let fixed = |cidr: &str, except: &[&str]| Peer::IpBlock {
            cidr: cidr.parse().expect("valid literal"),
            except: except
                .iter()
                .map(|e| e.parse().expect("valid literal"))
                .collect(),
            line: 0,
        };
        match self.rng.below(6) {
            0 => fixed("0.0.0.0/0", &["10.0.0.0/8", "192.168.0.0/16"]),
            1 => fixed("192.168.0.0/24", &[]),
            2 => fixed("fd00::/64", &["fd00::/120"]),
            3 => fixed("203.0.113.0/24", &["203.0.113.128/25"]),
            _ => {
                // Around a real pod address, so that ipBlocks match pods too.
                let Some(ip) = self
                    .pod_ips
                    .get(self.rng.below(self.pod_ips.len().max(1)))
                    .copied()
                else {
                    return fixed("10.128.0.0/16", &["10.128.0.0/24"]);
                };
                let max = if ip.is_ipv4() { 32 } else { 128 };
                let prefix = max - *self.rng.pick(&[0u8, 2, 4, 8, 16]);
                let cidr = IpNet::new(ip, prefix).expect("prefix within range").trunc();
                let except = if prefix < max && self.rng.chance(60) {
                    let other = self.pod_ips[self.rng.below(self.pod_ips.len())];
                    let sub = IpNet::new(
                        if cidr.contains(&other) { other } else { ip },
                        prefix + 1 + self.rng.below((max - prefix) as usize) as u8,
                    )
                    .expect("prefix within range")
                    .trunc();
                    vec![sub]
                } else {
                    Vec::new()
                };
                Peer::IpBlock {
                    cidr,
                    except,
                    line: 0,
                }
            }
        }
    }

    fn port_rule(&mut self) -> PortRule {
        let protocol = *self.rng.pick(&[
            Protocol::Tcp,
            Protocol::Tcp,
            Protocol::Tcp,
            Protocol::Udp,
            Protocol::Sctp,
        ]);
        let (protocol, port, end_port) = match self.rng.below(20) {
            0..=3 => (protocol, None, None),
            4..=10 => {
                let (n, proto) = *self.rng.pick(&NUMBERED_PORTS);
                (
                    if self.rng.chance(85) { proto } else { protocol },
                    Some(PortRef::Number(n)),
                    None,
                )
            }
            11..=13 => {
                let (start, span) =
                    *self
                        .rng
                        .pick(&[(8000u16, 30u16), (9000, 200), (1, 1024), (5000, 2000)]);
                let start = start + self.rng.below(10) as u16;
                (
                    Protocol::Tcp,
                    Some(PortRef::Number(start)),
                    Some(start + self.rng.below(span as usize) as u16),
                )
            }
            _ => {
                let (name, proto) = *self.rng.pick(&PORT_NAMES);
                (
                    if self.rng.chance(85) { proto } else { protocol },
                    Some(PortRef::Name(name.to_string())),
                    None,
                )
            }
        };
        PortRule {
            protocol,
            port,
            end_port,
            line: 0,
        }
    }
}

fn port(name: Option<&str>, port: u16, protocol: Protocol) -> ContainerPort {
    ContainerPort {
        name: name.map(str::to_string),
        port,
        protocol,
    }
}

fn sorted(mut ports: Vec<ContainerPort>) -> Vec<ContainerPort> {
    ports.sort();
    ports.dedup();
    ports
}

fn empty_rule() -> Rule {
    Rule {
        peers: Vec::new(),
        ports: Vec::new(),
        line: 0,
    }
}

/// The usual "let everything resolve names" rule.
fn dns_rule() -> Rule {
    let ns = LabelSelector {
        match_labels: labels(&[(NAMESPACE_NAME_LABEL, DNS_NAMESPACE)]),
        match_expressions: Vec::new(),
    };
    let pods = LabelSelector {
        match_labels: labels(&[("k8s-app", "kube-dns")]),
        match_expressions: Vec::new(),
    };
    Rule {
        peers: vec![Peer::Pods {
            pod_selector: Some(pods),
            namespace_selector: Some(ns),
            line: 0,
        }],
        ports: vec![
            PortRule {
                protocol: Protocol::Udp,
                port: Some(PortRef::Number(53)),
                end_port: None,
                line: 0,
            },
            PortRule {
                protocol: Protocol::Tcp,
                port: Some(PortRef::Number(53)),
                end_port: None,
                line: 0,
            },
        ],
        line: 0,
    }
}

/// Counts of what a cluster contains, for the command's summary line.
pub fn summary(cluster: &Cluster) -> String {
    let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
    for e in &cluster.endpoints {
        *kinds.entry(e.kind.as_str()).or_default() += 1;
    }
    let kinds: Vec<String> = kinds.iter().map(|(k, n)| format!("{n} {k}")).collect();
    format!(
        "{} namespaces, {} workloads ({}), {} services, {} policies",
        cluster.namespaces.len(),
        cluster.endpoints.len(),
        kinds.join(", "),
        cluster.services.len(),
        cluster.policies.len()
    )
}
