//! One isolated pod's chain for one direction: what each rule of each policy
//! selecting it admits, as nft matches.
//!
//! Peers are matched the way CNIs match them, not through the engine's
//! decisions about addresses: an ipBlock is its own CIDR (`ip saddr
//! 10.0.0.0/8`, `ip6 saddr fd00::/64`) minus a named interval set of its
//! excepts, so the kernel checks every packet's address and family against the
//! policy's text. Pod and namespace selectors are named sets of the addresses
//! of the pods they select (as kube-router's ipsets are); which pods that is
//! comes from the engine's selector matching. Named ports are resolved on each
//! destination pod: ingress on the chain's own pod, egress through a set of
//! the destination pods on which the name means that port.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::net::IpAddr;
use std::rc::Rc;

use netpol_engine::Engine;
use netpol_model::{ContainerPort, Direction, Endpoint, Peer, PortRef, Protocol};

use crate::addr::AddrSet;
use crate::ports::{nft_protocol, numeric_ports, ports_towards};
use crate::sets::{BySelection, NamedSet};
use crate::text::Text;

/// One address match of a rule; `v6: None` matches every family.
#[derive(Clone)]
pub(crate) struct Match {
    pub v6: Option<bool>,
    pub expr: String,
}

/// nft identifiers: Kubernetes names only use `[a-z0-9.-]`, which nft accepts
/// after the first character; `_` separates the parts, so names cannot collide.
/// nft allows 256 bytes: a longer name is cut and ends in `..UNIQUE` instead
/// (`..` never occurs in a Kubernetes name).
pub(crate) fn ident(prefix: &str, parts: &[&str], unique: &str) -> String {
    let mut s = prefix.to_string();
    for p in parts {
        s.push('_');
        s.extend(p.chars().map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        }));
    }
    if s.len() > 200 {
        s.truncate(180);
        s.push_str("..");
        s.push_str(unique);
    }
    s
}

pub(crate) fn comment(text: &str) -> String {
    // nft limits comments to 128 bytes.
    let mut t: String = text.chars().filter(|c| *c != '"').collect();
    while t.len() > 120 {
        t.pop();
    }
    format!("comment \"{t}\"")
}

pub(crate) fn inline_set(elements: &[String]) -> String {
    if elements.len() == 1 {
        elements[0].clone()
    } else {
        format!("{{ {} }}", elements.join(", "))
    }
}

pub(crate) fn family_words(v6: bool) -> (&'static str, &'static str) {
    if v6 { ("ip6", "v6") } else { ("ip", "v4") }
}

pub(crate) struct Chains<'a, 'c> {
    pub engine: &'a Engine<'c>,
    /// By name, so the ruleset lists them sorted.
    pub sets: BTreeMap<String, NamedSet>,
    /// Each rule's peer matches and each named port's, computed once for
    /// every chain that uses them, and shared rather than copied into each.
    pub peers: HashMap<(usize, Direction, usize), Rc<[Match]>>,
    pub named: HashMap<(String, Protocol), Rc<[Match]>>,
    /// The same for the rules of cluster policies.
    pub tier_peers: HashMap<(usize, Direction, usize), Rc<[Match]>>,
    /// The host-network pods of each node, in cluster order: every chain
    /// of a pod on the node lets them in.
    host_pods: HashMap<&'c str, Vec<&'c Endpoint>>,
    /// The address sets written so far, by family and a hash of their
    /// elements: rules that select the same pods share one set (in a live
    /// dump thousands of rules select a namespace's pods).
    pub(crate) by_content: HashMap<(bool, u64), Vec<String>>,
    pub(crate) by_selection: BySelection<'a>,
    /// Off only in tests, which compare with every selection's sets and
    /// every pod's rules built anew.
    pub(crate) reuse: bool,
    /// [`Chains::np_rules`] by what it depends on: the direction, the
    /// policies, and for ingress the pod's ports (named ports resolve on it).
    np_texts: HashMap<NpKey<'a>, Rc<str>>,
    /// [`Chains::node_lines`] by node and direction.
    host_lines: HashMap<(&'c str, Direction), Rc<str>>,
    /// Every endpoint's addresses, endpoint `e`'s at
    /// `address_starts[e]..address_starts[e + 1]`: read in a row, not one
    /// endpoint struct and one heap vector each, when a selection of
    /// thousands of pods becomes a set.
    pub(crate) addresses: Vec<IpAddr>,
    pub(crate) address_starts: Vec<usize>,
}

type NpKey<'a> = (Direction, &'a [usize], Option<&'a [ContainerPort]>);

impl<'a, 'c> Chains<'a, 'c> {
    pub(crate) fn new(engine: &'a Engine<'c>) -> Self {
        let mut host_pods: HashMap<&str, Vec<&Endpoint>> = HashMap::new();
        for e in engine.cluster.endpoints.iter().filter(|e| e.host_network) {
            if let Some(node) = &e.node {
                host_pods.entry(node.as_str()).or_default().push(e);
            }
        }
        let endpoints = &engine.cluster.endpoints;
        Chains {
            engine,
            sets: BTreeMap::new(),
            peers: HashMap::new(),
            named: HashMap::new(),
            tier_peers: HashMap::new(),
            host_pods,
            by_content: HashMap::new(),
            by_selection: HashMap::new(),
            reuse: true,
            np_texts: HashMap::new(),
            host_lines: HashMap::new(),
            addresses: endpoints
                .iter()
                .flat_map(|e| e.ips.iter().copied())
                .collect(),
            address_starts: std::iter::once(0)
                .chain(endpoints.iter().scan(0, |at, e| {
                    *at += e.ips.len();
                    Some(*at)
                }))
                .collect(),
        }
    }
}

impl<'a, 'c> Chains<'a, 'c> {
    /// The address matches of a rule's peers: `[every address]` without peers,
    /// empty when its peers can admit no address.
    fn peer_matches(&mut self, pi: usize, direction: Direction, ri: usize) -> Rc<[Match]> {
        if let Some(m) = self.peers.get(&(pi, direction, ri)) {
            return m.clone();
        }
        let m: Rc<[Match]> = self.compute_peer_matches(pi, direction, ri).into();
        self.peers.insert((pi, direction, ri), m.clone());
        m
    }

    fn compute_peer_matches(&mut self, pi: usize, direction: Direction, ri: usize) -> Vec<Match> {
        let engine = self.engine;
        let (policy, compiled) = engine.policy(pi);
        let rule = &policy.rules(direction)[ri];
        if rule.peers.is_empty() {
            return vec![Match {
                v6: None,
                expr: String::new(),
            }];
        }
        let field = match direction {
            Direction::Ingress => "saddr",
            Direction::Egress => "daddr",
        };
        let (dir, idx) = (direction_prefix(direction), ri.to_string());
        let base = ident(
            dir,
            &[&policy.namespace, &policy.name, &idx],
            &format!("p{pi}r{ri}"),
        );
        let crule = compiled
            .rules(direction)
            .iter()
            .find(|r| r.index == ri)
            .expect("every rule is compiled");
        let mut out = Vec::new();
        // The pods the selectors pick, every address of each.
        let mut selectors = rule
            .peers
            .iter()
            .zip(&crule.peers)
            .filter(|(peer, _)| matches!(peer, Peer::Pods { .. }))
            .map(|(_, cpeer)| &cpeer.endpoints);
        let selected = selectors.next().map(|first| {
            selectors.fold(Cow::Borrowed(first), |mut all, more| {
                all.to_mut().union_with(more);
                all
            })
        });
        let why = format!("{} {}[{ri}] selected pods", policy.id(), direction.as_str());
        let sets = match selected {
            Some(selected) => self.pod_sets(selected, &format!("{base}_pods"), &why),
            None => Vec::new(),
        };
        for (v6, name) in sets {
            let fam = family_words(v6).0;
            out.push(Match {
                v6: Some(v6),
                expr: format!("{fam} {field} @{name}"),
            });
        }
        // Each ipBlock as written: its CIDR, minus its excepts of that family.
        for (k, peer) in rule.peers.iter().enumerate() {
            let Peer::IpBlock { cidr, except, .. } = peer else {
                continue;
            };
            let v6 = matches!(cidr, ipnet::IpNet::V6(_));
            let (fam, suffix) = family_words(v6);
            let mut expr = format!("{fam} {field} {}", cidr.trunc());
            let excepts: Vec<String> = except
                .iter()
                .filter(|x| matches!(x, ipnet::IpNet::V6(_)) == v6)
                .map(|x| x.trunc().to_string())
                .collect();
            let excepts = excepts.join(", ");
            if !excepts.is_empty() {
                let name = format!("{base}_except{k}_{suffix}");
                self.sets.entry(name.clone()).or_insert_with(|| NamedSet {
                    v6,
                    elements: excepts,
                    auto_merge: true,
                    shared_by: 0,
                    comment: format!(
                        "{} {}[{ri}] ipBlock {cidr} except",
                        policy.id(),
                        direction.as_str()
                    ),
                });
                let _ = write!(expr, " {fam} {field} != @{name}");
            }
            out.push(Match { v6: Some(v6), expr });
        }
        out
    }

    /// Destination pods on which the port name `name` means `port`, per family:
    /// a set for each, shared by every rule naming that port.
    pub(crate) fn named_port_sets(&mut self, name: &str, protocol: Protocol) -> Rc<[Match]> {
        let key = (name.to_string(), protocol);
        if let Some(m) = self.named.get(&key) {
            return m.clone();
        }
        let m: Rc<[Match]> = self.compute_named_port_sets(name, protocol).into();
        self.named.insert(key, m.clone());
        m
    }

    fn compute_named_port_sets(&mut self, name: &str, protocol: Protocol) -> Vec<Match> {
        let mut by_port: BTreeMap<u16, Vec<IpAddr>> = BTreeMap::new();
        for e in &self.engine.cluster.endpoints {
            if e.host_network {
                continue;
            }
            if let Some(port) = e.resolve_named_port(name, protocol) {
                by_port.entry(port).or_default().extend(&e.ips);
            }
        }
        let proto = nft_protocol(protocol);
        let mut out = Vec::new();
        for (port, ips) in by_port {
            let mut addrs = AddrSet::default();
            addrs.add_ips(&ips);
            let base = ident(
                "port",
                &[name, proto, &port.to_string()],
                &format!("{port}"),
            );
            let why = format!("pods whose {proto} port {name} is {port}");
            for (v6, set) in self.add_sets(&base, &addrs, &why) {
                let fam = family_words(v6).0;
                out.push(Match {
                    v6: Some(v6),
                    expr: format!("{fam} daddr @{set} meta l4proto {proto} th dport {port}"),
                });
            }
        }
        out
    }

    /// The first lines of pod `i`'s chain for `direction`: what no policy
    /// can deny, the pod itself and the host-network pods on its node.
    pub(crate) fn always(&mut self, i: usize, direction: Direction, out: &mut Text) {
        let cluster = self.engine.cluster;
        let pod = &cluster.endpoints[i];
        let mut own = String::new();
        always_lines(&[pod], direction, "the pod itself", &mut own);
        out.push_str(&own);
        if let Some(node) = &pod.node {
            out.push_shared(self.node_lines(node, direction));
        }
    }

    /// The host-network lines of every chain of a pod on `node`: made once
    /// per node, not once per pod.
    fn node_lines(&mut self, node: &'c str, direction: Direction) -> Rc<str> {
        if let Some(text) = self.host_lines.get(&(node, direction)) {
            return text.clone();
        }
        let hosts = self.host_pods.get(node).map_or(&[][..], Vec::as_slice);
        let mut text = String::new();
        let why = format!("host-network pods on its node {node}");
        always_lines(hosts, direction, &why, &mut text);
        let text: Rc<str> = text.into();
        self.host_lines.insert((node, direction), text.clone());
        text
    }

    /// What the NetworkPolicies selecting pod `i` admit in `direction`, then
    /// `drop`: the same text for every pod with the same policies (and, for
    /// ingress, the same named ports), so made once for all of them.
    pub(crate) fn np_rules(&mut self, i: usize, direction: Direction) -> Rc<str> {
        let engine = self.engine;
        let pod = &engine.cluster.endpoints[i];
        let key = (
            direction,
            engine.policies_selecting(i, direction),
            (direction == Direction::Ingress).then_some(pod.ports.as_slice()),
        );
        if let Some(text) = self.np_texts.get(&key).filter(|_| self.reuse) {
            return text.clone();
        }
        let text: Rc<str> = self.compute_np_rules(i, direction).into();
        self.np_texts.insert(key, text.clone());
        text
    }

    fn compute_np_rules(&mut self, i: usize, direction: Direction) -> String {
        let engine = self.engine;
        let pod = &engine.cluster.endpoints[i];
        let verdict = allow_verdict(direction);
        let mut out = String::new();
        for &pi in engine.policies_selecting(i, direction) {
            let (policy, compiled) = engine.policy(pi);
            for crule in compiled.rules(direction) {
                let ri = crule.index;
                let rule = &policy.rules(direction)[ri];
                let what = format!("{} {}[{}]", policy.id(), direction.as_str(), ri);
                let peers = self.peer_matches(pi, direction, ri);
                if peers.is_empty() {
                    let _ = writeln!(out, "\t\t# {what}: its peers admit no address");
                    continue;
                }
                let mut ports: Vec<Match> = Vec::new();
                let numeric = match direction {
                    Direction::Ingress => ports_towards(&rule.ports, pod),
                    Direction::Egress => numeric_ports(&rule.ports),
                };
                if !numeric.admits_nothing() {
                    ports.extend(
                        numeric
                            .render()
                            .into_iter()
                            .map(|expr| Match { v6: None, expr }),
                    );
                }
                if direction == Direction::Egress {
                    for p in &rule.ports {
                        if let Some(PortRef::Name(name)) = &p.port {
                            ports.extend(self.named_port_sets(name, p.protocol).iter().cloned());
                        }
                    }
                }
                if ports.is_empty() {
                    let _ = writeln!(out, "\t\t# {what}: no port of it applies to this pod");
                    continue;
                }
                combine(&mut out, &peers, &ports, verdict, &what);
            }
        }
        let _ = writeln!(out, "\t\tdrop");
        out
    }
}

/// The lines that allow the addresses of `eps` in `direction`, one per family.
fn always_lines(eps: &[&Endpoint], direction: Direction, why: &str, out: &mut String) {
    let field = match direction {
        Direction::Ingress => "saddr",
        Direction::Egress => "daddr",
    };
    let verdict = allow_verdict(direction);
    let mut set = AddrSet::default();
    set.add_ips(eps.iter().flat_map(|e| &e.ips));
    for (v6, elements) in [(false, set.v4_elements()), (true, set.v6_elements())] {
        if !elements.is_empty() {
            let fam = family_words(v6).0;
            let _ = writeln!(
                out,
                "\t\t{fam} {field} {} {verdict} {}",
                inline_set(&elements),
                comment(why)
            );
        }
    }
}

/// One rule line per peer match and port match of the same family (or of any).
pub(crate) fn combine(
    out: &mut String,
    peers: &[Match],
    ports: &[Match],
    verdict: &str,
    what: &str,
) {
    for peer in peers {
        for port in ports {
            if peer.v6.is_some() && port.v6.is_some() && peer.v6 != port.v6 {
                continue;
            }
            let m: Vec<&str> = [peer.expr.as_str(), port.expr.as_str()]
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect();
            let m = if m.is_empty() {
                String::new()
            } else {
                format!("{} ", m.join(" "))
            };
            let _ = writeln!(out, "\t\t{m}{verdict} {}", comment(what));
        }
    }
}

/// Ends one side's evaluation allowing it: egress returns to the forward
/// chain, where the destination's ingress still decides; ingress accepts.
pub(crate) fn allow_verdict(direction: Direction) -> &'static str {
    match direction {
        Direction::Ingress => "accept",
        Direction::Egress => "return",
    }
}

pub(crate) fn direction_prefix(direction: Direction) -> &'static str {
    match direction {
        Direction::Ingress => "in",
        Direction::Egress => "eg",
    }
}
