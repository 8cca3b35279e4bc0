//! The engine's decisions as one nftables table.
//!
//! Everything is read from the engine's compiled policies: which pods a
//! policy selects (`CompiledPolicy::selected`, via `policies_selecting`),
//! which endpoints a rule admits (`CompiledRule::admitted`), and which ports
//! a port entry admits (named ports resolved on the destination pod, as the
//! engine does). ipBlocks add the addresses outside the cluster.
//!
//! Shape of the table: the `forward` base chain accepts established and
//! related packets and traffic from the node's own addresses, then sends a
//! new connection from an egress-isolated pod to that pod's `eg_` chain
//! (`return` when a rule allows it, `drop` otherwise), then a connection to an
//! ingress-isolated pod to its `in_` chain (`accept` or `drop`). Both checks
//! must pass, as in Kubernetes. Traffic the node itself sends never crosses
//! the forward hook, so it is always accepted. On a node whose pods share a
//! Linux bridge, bridged packets reach this hook only with br_netfilter
//! (`net.bridge.bridge-nf-call-iptables=1`), which bridge CNIs such as
//! Flannel already require.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::net::IpAddr;

use netpol_engine::{CompiledRule, Engine, ip_in_block};
use netpol_model::{Direction, Endpoint, Peer, PortRef, Protocol};

use crate::addr::AddrSet;
use crate::ports::{nft_protocol, numeric_ports, ports_towards};

pub const TABLE: &str = "netpol";

/// Which pods a ruleset enforces for (all of them remain peers).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Scope {
    /// Every pod with an address.
    #[default]
    Every,
    /// The pods whose `spec.nodeName` is this node.
    Node(String),
    /// The pods with no `spec.nodeName` (for tests that give each node its own table).
    WithoutNode,
}

#[derive(Clone, Debug)]
pub struct Options {
    pub scope: Scope,
    /// The table's name: `netpol` unless a test runs several side by side.
    pub table: String,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            scope: Scope::Every,
            table: TABLE.to_string(),
        }
    }
}

impl Options {
    /// Enforce for the pods on `node`, or for every pod when `None`.
    pub fn for_node(node: Option<String>) -> Options {
        Options {
            scope: node.map_or(Scope::Every, Scope::Node),
            ..Options::default()
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CompileError {
    #[error("{first} and {second} both have the address {ip}: packets cannot tell them apart")]
    SharedAddress {
        ip: IpAddr,
        first: String,
        second: String,
    },
}

/// nft identifiers: Kubernetes names only use `[a-z0-9.-]`, which nft accepts
/// after the first character; `_` separates the parts, so names cannot collide.
/// nft allows 256 bytes: a longer name is cut and ends in `..UNIQUE` instead
/// (`..` never occurs in a Kubernetes name).
fn ident(prefix: &str, parts: &[&str], unique: &str) -> String {
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
    if s.len() > 240 {
        s.truncate(220);
        s.push_str("..");
        s.push_str(unique);
    }
    s
}

fn comment(text: &str) -> String {
    // nft limits comments to 128 bytes.
    let mut t: String = text.chars().filter(|c| *c != '"').collect();
    while t.len() > 120 {
        t.pop();
    }
    format!("comment \"{t}\"")
}

fn addresses_of(endpoints: &[&Endpoint]) -> (Vec<String>, Vec<String>) {
    let mut set = AddrSet::default();
    for e in endpoints {
        for ip in &e.ips {
            set.add_ip(*ip);
        }
    }
    (set.v4_elements(), set.v6_elements())
}

fn inline_set(elements: &[String]) -> String {
    if elements.len() == 1 {
        elements[0].clone()
    } else {
        format!("{{ {} }}", elements.join(", "))
    }
}

/// A named set of the addresses one rule admits.
struct RuleSet {
    name: String,
    addrs: AddrSet,
}

struct Compiler<'a, 'c> {
    engine: &'a Engine<'c>,
    /// (policy, direction, rule) -> set; filled as chains need them.
    sets: BTreeMap<(usize, Direction, usize), RuleSet>,
}

impl Compiler<'_, '_> {
    fn rule_set(&mut self, pi: usize, direction: Direction, ri: usize) -> &RuleSet {
        let engine = self.engine;
        self.sets.entry((pi, direction, ri)).or_insert_with(|| {
            let (policy, compiled) = engine.policy(pi);
            let crule = compiled
                .rules(direction)
                .iter()
                .find(|r| r.index == ri)
                .expect("compiled rule");
            let mut addrs = AddrSet::default();
            for (ip, _) in peer_addresses(engine, &policy.rules(direction)[ri].peers, crule) {
                addrs.add_ip(ip);
            }
            // Addresses outside the cluster too, each block in its own family.
            for peer in &policy.rules(direction)[ri].peers {
                if let Peer::IpBlock { cidr, except, .. } = peer {
                    addrs.add_block(cidr, except);
                }
            }
            let dir = match direction {
                Direction::Ingress => "in",
                Direction::Egress => "eg",
            };
            let idx = ri.to_string();
            RuleSet {
                name: ident(
                    dir,
                    &[&policy.namespace, &policy.name, &idx],
                    &format!("p{pi}r{ri}"),
                ),
                addrs,
            }
        })
    }

    /// Address matches for a rule: `None` when it has no peers (every address);
    /// otherwise one per family with elements (empty: the rule admits no address).
    fn addr_matches(
        &mut self,
        pi: usize,
        direction: Direction,
        ri: usize,
        field: &str,
    ) -> Option<Vec<String>> {
        let (policy, _) = self.engine.policy(pi);
        if policy.rules(direction)[ri].peers.is_empty() {
            return None;
        }
        let set = self.rule_set(pi, direction, ri);
        let mut out = Vec::new();
        if !set.addrs.v4.is_empty() {
            out.push(format!("ip {field} @{}_v4", set.name));
        }
        if !set.addrs.v6.is_empty() {
            out.push(format!("ip6 {field} @{}_v6", set.name));
        }
        Some(out)
    }

    /// Always-allowed addresses: the pod itself and host-network pods on its node.
    fn always_allowed(&self, i: usize, field: &str, verdict: &str, out: &mut String) {
        let cluster = self.engine.cluster;
        let pod = &cluster.endpoints[i];
        let mut lines = |eps: Vec<&Endpoint>, why: &str| {
            let (v4, v6) = addresses_of(&eps);
            if !v4.is_empty() {
                let _ = writeln!(
                    out,
                    "\t\tip {field} {} {verdict} {}",
                    inline_set(&v4),
                    comment(why)
                );
            }
            if !v6.is_empty() {
                let _ = writeln!(
                    out,
                    "\t\tip6 {field} {} {verdict} {}",
                    inline_set(&v6),
                    comment(why)
                );
            }
        };
        lines(vec![pod], "the pod itself");
        if let Some(node) = &pod.node {
            let hosts: Vec<&Endpoint> = cluster
                .endpoints
                .iter()
                .filter(|e| e.host_network && e.node.as_ref() == Some(node))
                .collect();
            lines(hosts, &format!("host-network pods on its node {node}"));
        }
    }

    fn chain(&mut self, i: usize, direction: Direction) -> String {
        let engine = self.engine;
        let pod = &engine.cluster.endpoints[i];
        let (field, verdict) = match direction {
            Direction::Ingress => ("saddr", "accept"),
            Direction::Egress => ("daddr", "return"),
        };
        let mut out = String::new();
        self.always_allowed(i, field, verdict, &mut out);
        for &pi in engine.policies_selecting(i, direction) {
            let (policy, compiled) = engine.policy(pi);
            for crule in compiled.rules(direction) {
                let ri = crule.index;
                let rule = &policy.rules(direction)[ri];
                let what = format!("{} {}[{}]", policy.id(), direction.as_str(), ri);
                let addrs = self.addr_matches(pi, direction, ri, field);
                if addrs.as_ref().is_some_and(|a| a.is_empty()) {
                    let _ = writeln!(out, "\t\t# {what}: its peers admit no address");
                    continue;
                }
                let addrs = addrs.unwrap_or_else(|| vec![String::new()]);
                let ports = match direction {
                    Direction::Ingress => ports_towards(&rule.ports, pod),
                    Direction::Egress => numeric_ports(&rule.ports),
                };
                let named = direction == Direction::Egress
                    && rule
                        .ports
                        .iter()
                        .any(|p| matches!(p.port, Some(PortRef::Name(_))));
                if ports.admits_nothing() && !named {
                    let _ = writeln!(out, "\t\t# {what}: no port of it applies to this pod");
                    continue;
                }
                if !ports.admits_nothing() {
                    for a in &addrs {
                        for p in ports.render() {
                            let m: Vec<&str> = [a.as_str(), p.as_str()]
                                .into_iter()
                                .filter(|s| !s.is_empty())
                                .collect();
                            let m = if m.is_empty() {
                                String::new()
                            } else {
                                format!("{} ", m.join(" "))
                            };
                            let _ = writeln!(out, "\t\t{m}{verdict} {}", comment(&what));
                        }
                    }
                }
                if named {
                    self.named_egress(&mut out, pi, ri, crule, &what);
                }
            }
        }
        let _ = writeln!(out, "\t\tdrop");
        out
    }

    /// Egress to named ports: each admitted destination with the port the name resolves to on it.
    fn named_egress(
        &self,
        out: &mut String,
        pi: usize,
        ri: usize,
        crule: &CompiledRule,
        what: &str,
    ) {
        let cluster = self.engine.cluster;
        let (policy, _) = self.engine.policy(pi);
        let rule = &policy.egress[ri];
        let mut addresses: BTreeMap<usize, Vec<IpAddr>> = BTreeMap::new();
        if rule.peers.is_empty() {
            for (i, e) in cluster.endpoints.iter().enumerate() {
                addresses.insert(i, e.ips.clone());
            }
        }
        for (ip, e) in peer_addresses(self.engine, &rule.peers, crule) {
            addresses.entry(e).or_default().push(ip);
        }
        let mut groups: BTreeMap<(Protocol, u16), AddrSet> = BTreeMap::new();
        for (e, ips) in addresses {
            let e = &cluster.endpoints[e];
            if e.host_network || ips.is_empty() {
                continue;
            }
            let resolved: BTreeSet<(Protocol, u16)> = rule
                .ports
                .iter()
                .filter_map(|p| match &p.port {
                    Some(PortRef::Name(name)) => e
                        .resolve_named_port(name, p.protocol)
                        .map(|port| (p.protocol, port)),
                    _ => None,
                })
                .collect();
            for key in resolved {
                let set = groups.entry(key).or_default();
                for ip in &ips {
                    set.add_ip(*ip);
                }
            }
        }
        if groups.is_empty() {
            let _ = writeln!(
                out,
                "\t\t# {what}: its named ports resolve on no admitted pod"
            );
        }
        for ((proto, port), set) in groups {
            let (v4, v6) = (set.v4_elements(), set.v6_elements());
            let p = nft_protocol(proto);
            let c = comment(&format!("{what} named port"));
            if !v4.is_empty() {
                let _ = writeln!(
                    out,
                    "\t\tip daddr {} meta l4proto {p} th dport {port} return {c}",
                    inline_set(&v4)
                );
            }
            if !v6.is_empty() {
                let _ = writeln!(
                    out,
                    "\t\tip6 daddr {} meta l4proto {p} th dport {port} return {c}",
                    inline_set(&v6)
                );
            }
        }
    }
}

/// The pod addresses through which a rule's peers admit pods, with the pod:
/// every address of a pod a selector matches, but of a pod inside an ipBlock
/// only its addresses in the block, so that the block's family is kept (an
/// IPv4 block admits a dual-stack pod's IPv4 connections, never its IPv6 ones).
fn peer_addresses(engine: &Engine, peers: &[Peer], crule: &CompiledRule) -> Vec<(IpAddr, usize)> {
    let mut out = Vec::new();
    for (peer, compiled) in peers.iter().zip(&crule.peers) {
        for e in compiled.endpoints.ones() {
            let ips = &engine.cluster.endpoints[e].ips;
            match peer {
                Peer::Pods { .. } => out.extend(ips.iter().map(|ip| (*ip, e))),
                Peer::IpBlock { cidr, except, .. } => out.extend(
                    ips.iter()
                        .filter(|ip| ip_in_block(**ip, cidr, except))
                        .map(|ip| (*ip, e)),
                ),
            }
        }
    }
    out
}

/// The ruleset text: input for `nft -f`. Applying it replaces `table inet
/// netpol` in one transaction (create if missing, delete, define) and touches
/// no other table.
pub fn compile(engine: &Engine, opts: &Options) -> Result<String, CompileError> {
    let cluster = engine.cluster;
    let mut owner: HashMap<IpAddr, usize> = HashMap::new();
    for (i, e) in cluster.endpoints.iter().enumerate() {
        if e.host_network {
            continue;
        }
        for ip in &e.ips {
            if let Some(&j) = owner.get(ip) {
                return Err(CompileError::SharedAddress {
                    ip: *ip,
                    first: cluster.endpoints[j].id(),
                    second: e.id(),
                });
            }
            owner.insert(*ip, i);
        }
    }
    let local: Vec<usize> = cluster
        .endpoints
        .iter()
        .enumerate()
        .filter(|(_, e)| !e.host_network && !e.ips.is_empty())
        .filter(|(_, e)| match &opts.scope {
            Scope::Every => true,
            Scope::Node(n) => e.node.as_ref() == Some(n),
            Scope::WithoutNode => e.node.is_none(),
        })
        .map(|(i, _)| i)
        .collect();

    let mut compiler = Compiler {
        engine,
        sets: BTreeMap::new(),
    };
    let mut chains = String::new();
    // (family, field) -> [(ip, chain)] for the dispatch maps.
    let mut dispatch: BTreeMap<(Direction, bool), Vec<(IpAddr, String)>> = BTreeMap::new();
    let mut isolated = [0usize; 2];
    for &i in &local {
        let pod = &cluster.endpoints[i];
        for (n, direction) in [Direction::Egress, Direction::Ingress]
            .into_iter()
            .enumerate()
        {
            if engine.policies_selecting(i, direction).is_empty() {
                continue;
            }
            isolated[n] += 1;
            let name = ident(
                if direction == Direction::Egress {
                    "eg"
                } else {
                    "in"
                },
                &[&pod.namespace, &pod.name],
                &format!("e{i}"),
            );
            let body = compiler.chain(i, direction);
            let _ = write!(
                chains,
                "\n\tchain {name} {{\n\t\t{}\n{body}\t}}\n",
                comment(&format!("{} {}", pod.id(), direction.as_str()))
            );
            for ip in &pod.ips {
                dispatch
                    .entry((direction, ip.is_ipv6()))
                    .or_default()
                    .push((*ip, name.clone()));
            }
        }
    }

    let mut text = String::new();
    let scope = match &opts.scope {
        Scope::Node(n) => format!("the pods on node {n}"),
        Scope::Every => "every pod with an IP".to_string(),
        Scope::WithoutNode => "the pods on no known node".to_string(),
    };
    let table = &opts.table;
    let _ = writeln!(
        text,
        "# Generated by netpol: Kubernetes NetworkPolicies enforced for {scope}."
    );
    let _ = writeln!(
        text,
        "# {} pods, {} isolated for egress, {} for ingress, by {} NetworkPolicies.",
        local.len(),
        isolated[0],
        isolated[1],
        cluster.policies.len()
    );
    let _ = writeln!(
        text,
        "# Apply with `nft -f FILE`: it replaces table inet {table} atomically and nothing else."
    );
    let _ = writeln!(
        text,
        "# Pods on a shared Linux bridge need br_netfilter (net.bridge.bridge-nf-call-iptables=1)."
    );
    let _ = writeln!(text, "table inet {table} {{}}");
    let _ = writeln!(text, "delete table inet {table}");
    let _ = writeln!(text, "table inet {table} {{");
    for set in compiler.sets.values() {
        for (family, elements) in [
            ("v4", set.addrs.v4_elements()),
            ("v6", set.addrs.v6_elements()),
        ] {
            if elements.is_empty() {
                continue;
            }
            let ty = if family == "v4" {
                "ipv4_addr"
            } else {
                "ipv6_addr"
            };
            let _ = writeln!(
                text,
                "\tset {}_{family} {{\n\t\ttype {ty}\n\t\tflags interval",
                set.name
            );
            let _ = writeln!(text, "\t\telements = {{ {} }}\n\t}}\n", elements.join(", "));
        }
    }
    let _ = writeln!(text, "\tchain forward {{");
    let _ = writeln!(
        text,
        "\t\ttype filter hook forward priority filter; policy accept;"
    );
    let _ = writeln!(text, "\t\tct state established,related accept");
    let _ = writeln!(
        text,
        "\t\tfib saddr type local accept {}",
        comment("from the node itself")
    );
    // Egress first: a connection must leave its source before it may enter its destination.
    for key in [
        (Direction::Egress, false),
        (Direction::Egress, true),
        (Direction::Ingress, false),
        (Direction::Ingress, true),
    ] {
        let Some(mut entries) = dispatch.remove(&key) else {
            continue;
        };
        let (direction, v6) = key;
        entries.sort();
        let family = if v6 { "ip6" } else { "ip" };
        let field = if direction == Direction::Egress {
            "saddr"
        } else {
            "daddr"
        };
        let items: Vec<String> = entries
            .iter()
            .map(|(ip, chain)| format!("{ip} : jump {chain}"))
            .collect();
        let _ = writeln!(text, "\t\t{family} {field} vmap {{ {} }}", items.join(", "));
    }
    let _ = writeln!(text, "\t}}");
    text.push_str(&chains);
    text.push_str("}\n");
    Ok(text)
}

#[cfg(test)]
mod tests {
    use netpol_model::{LoadOptions, Source, load_sources};

    use super::*;

    fn compile_yaml(yaml: &str, node: Option<&str>) -> String {
        let cluster = load_sources(
            &[Source {
                name: "t.yaml".into(),
                text: yaml.into(),
            }],
            &LoadOptions::default(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let engine = Engine::new(&cluster);
        compile(&engine, &Options::for_node(node.map(str::to_string))).unwrap()
    }

    const PODS: &str = "
apiVersion: v1
kind: Pod
metadata: {name: web, labels: {app: web}}
spec:
  nodeName: n1
  containers: [{name: m, image: i, ports: [{containerPort: 8080, name: http}]}]
status: {podIP: 10.0.0.1}
---
apiVersion: v1
kind: Pod
metadata: {name: agent}
spec:
  nodeName: n1
  hostNetwork: true
  containers: [{name: m, image: i}]
status: {podIP: 192.168.1.10}
---
apiVersion: v1
kind: Pod
metadata: {name: other-node-agent}
spec:
  nodeName: n2
  hostNetwork: true
  containers: [{name: m, image: i}]
status: {podIP: 192.168.1.11}
";

    fn body(text: &str, chain: &str) -> Vec<String> {
        let start = text
            .find(&format!("\tchain {chain} {{"))
            .unwrap_or_else(|| panic!("no chain {chain}:\n{text}"));
        text[start..]
            .lines()
            .skip(1)
            .take_while(|l| *l != "\t}")
            .map(|l| l.trim().to_string())
            .collect()
    }

    /// A NetworkPolicy `p` in the default namespace; `spec` is its indented
    /// fields, starting on a new line.
    fn policy_p(spec: &str) -> String {
        format!(
            "\n---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: p}}\nspec:{spec}"
        )
    }

    #[test]
    fn host_network_pods_on_the_same_node_are_always_allowed() {
        let text = compile_yaml(
            &format!(
                "{PODS}---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: deny}}\nspec: {{podSelector: {{}}, policyTypes: [Ingress, Egress]}}\n"
            ),
            None,
        );
        let expected_in = [
            "comment \"default/web ingress\"",
            "ip saddr 10.0.0.1 accept comment \"the pod itself\"",
            "ip saddr 192.168.1.10 accept comment \"host-network pods on its node n1\"",
            "drop",
        ];
        assert_eq!(body(&text, "in_default_web"), expected_in);
        assert_eq!(
            body(&text, "eg_default_web")[2],
            "ip daddr 192.168.1.10 return comment \"host-network pods on its node n1\""
        );
        // Host-network pods are never selected: no chain of their own.
        assert!(!text.contains("chain in_default_agent"));
    }

    #[test]
    fn ports_merge_and_unusable_entries_admit_nothing() {
        let policy = policy_p(
            "
  podSelector: {matchLabels: {app: web}}
  ingress:
    - ports:
        - {port: 80}
        - {port: 81, endPort: 90}
        - {port: 85, endPort: 100}
        - {port: http}
        - {port: 53, protocol: UDP}
        - {protocol: UDP}
    - ports:
        - {port: metrics}
        - {port: http, protocol: UDP}
",
        );
        let text = compile_yaml(&format!("{PODS}{policy}"), None);
        let lines = body(&text, "in_default_web");
        assert_eq!(
            lines[3],
            "meta l4proto tcp th dport { 80-100, 8080 } accept comment \"default/p ingress[0]\""
        );
        assert_eq!(
            lines[4],
            "meta l4proto udp accept comment \"default/p ingress[0]\""
        );
        assert_eq!(
            lines[5],
            "# default/p ingress[1]: no port of it applies to this pod"
        );
        assert_eq!(lines[6], "drop");
    }

    #[test]
    fn names_too_long_for_nft_are_cut_and_stay_unique() {
        let long = "a".repeat(250);
        assert_eq!(ident("in", &["ns", "pod"], "e1"), "in_ns_pod");
        let cut = ident("in", &["ns", &long], "e7");
        assert_eq!(cut.len(), 224);
        assert!(cut.ends_with("aaaa..e7"), "{cut}");
        assert_ne!(cut, ident("in", &["ns", &long], "e8"));
    }

    #[test]
    fn only_the_nodes_pods_get_chains() {
        let policy = "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny}\nspec: {podSelector: {}}\n";
        assert!(
            compile_yaml(&format!("{PODS}{policy}"), Some("n1")).contains("chain in_default_web")
        );
        let other = compile_yaml(&format!("{PODS}{policy}"), Some("n2"));
        assert!(!other.contains("chain in_"), "{other}");
        assert!(
            other.contains("# 0 pods, 0 isolated for egress, 0 for ingress, by 1 NetworkPolicies.")
        );
    }

    #[test]
    fn an_ip_block_and_pod_peers_share_one_set() {
        let policy = policy_p(
            "
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Egress]
  egress:
    - to:
        - podSelector: {}
        - ipBlock: {cidr: 192.168.0.0/16, except: [192.168.1.0/24]}
",
        );
        let text = compile_yaml(&format!("{PODS}{policy}"), None);
        // The agents' addresses are in the except range; the pod selector never matches host-network pods.
        assert!(
            text.contains("elements = { 10.0.0.1, 192.168.0.0/24, 192.168.2.0/23, 192.168.4.0/22"),
            "{text}"
        );
        assert!(!text.contains("192.168.1.11 return"), "{text}");
    }

    const DUAL_STACK: &str = "
apiVersion: v1
kind: Pod
metadata: {name: ds, labels: {app: ds}}
spec:
  containers: [{name: m, image: i, ports: [{containerPort: 80, name: http}]}]
status:
  podIP: 10.0.0.5
  podIPs: [{ip: 10.0.0.5}, {ip: \"fd00::5\"}]
---
apiVersion: v1
kind: Pod
metadata: {name: v6, labels: {app: v6}}
spec:
  containers: [{name: m, image: i, ports: [{containerPort: 80, name: http}]}]
status: {podIP: \"fd00::6\"}
";

    #[test]
    fn an_ip_block_admits_a_dual_stack_pod_over_its_own_family_only() {
        let policy = policy_p(
            "
  podSelector: {matchLabels: {app: v6}}
  policyTypes: [Ingress, Egress]
  ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/24}}]}]
  egress: [{to: [{ipBlock: {cidr: 10.0.0.0/24}}], ports: [{port: http}]}]
",
        );
        let text = compile_yaml(&format!("{DUAL_STACK}{policy}"), None);
        // ds is inside the IPv4 block by its IPv4 address: its IPv6 address must not be admitted.
        assert!(!text.contains("fd00::5"), "{text}");
        assert_eq!(
            body(&text, "in_default_v6"),
            [
                "comment \"default/v6 ingress\"",
                "ip6 saddr fd00::6 accept comment \"the pod itself\"",
                "ip saddr @in_default_p_0_v4 accept comment \"default/p ingress[0]\"",
                "drop",
            ]
        );
        // Named-port egress too: only ds's IPv4 address, with the port resolved on ds.
        assert!(
            body(&text, "eg_default_v6").contains(
                &"ip daddr 10.0.0.5 meta l4proto tcp th dport 80 return comment \"default/p egress[0] named port\"".to_string()
            ),
            "{text}"
        );
    }

    #[test]
    fn a_pod_selector_admits_a_dual_stack_pod_over_both_families() {
        let policy = policy_p(
            "
  podSelector: {matchLabels: {app: v6}}
  ingress: [{from: [{podSelector: {matchLabels: {app: ds}}}]}]
",
        );
        let text = compile_yaml(&format!("{DUAL_STACK}{policy}"), None);
        assert!(text.contains("elements = { 10.0.0.5 }"), "{text}");
        assert!(text.contains("elements = { fd00::5 }"), "{text}");
    }
}
