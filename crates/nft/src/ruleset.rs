//! The policies as one nftables table.
//!
//! Which pods a policy selects comes from the engine (`policies_selecting`),
//! and so do the pods a pod or namespace selector admits; everything about
//! addresses is left to the kernel: ipBlocks are the policies' own CIDRs and
//! excepts, matched per packet and per family (see [`crate::chain`]).
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

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::io;
use std::net::IpAddr;

use netpol_engine::Engine;
use netpol_model::{Direction, Tier};

use crate::chain::{Chains, allow_verdict, comment, direction_prefix, ident};
use crate::sets::write_sets;
use crate::text::Text;
use crate::tiers::domain_name_rules;

pub const TABLE: &str = "netpol";

/// Which pods a ruleset enforces for (all of them remain peers).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Scope {
    /// Every pod with an address.
    #[default]
    Every,
    /// The pods whose `spec.nodeName` is this node.
    Node(String),
    /// The pods with no `spec.nodeName` (the probe's default node).
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

/// Why a ruleset could not be written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error(transparent)]
    Compile(#[from] CompileError),
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// The ruleset text: input for `nft -f`. Applying it replaces `table inet
/// netpol` in one transaction (create if missing, delete, define) and touches
/// no other table.
pub fn compile(engine: &Engine, opts: &Options) -> Result<String, CompileError> {
    let mut text = Vec::new();
    match write(engine, opts, &mut text) {
        Ok(()) => Ok(String::from_utf8(text).expect("the ruleset is UTF-8")),
        Err(WriteError::Compile(e)) => Err(e),
        Err(WriteError::Io(e)) => unreachable!("writing to memory failed: {e}"),
    }
}

/// [`compile`] written to `out` as it goes: at 150,000 pods the text is
/// hundreds of megabytes. An address shared by two pods is found before
/// anything is written.
pub fn write(engine: &Engine, opts: &Options, out: &mut dyn io::Write) -> Result<(), WriteError> {
    write_ruleset(engine, opts, out, true)
}

/// [`write`]; `reuse: false` builds every selection's sets and every pod's rules anew,
/// the reference that tests hold the shared ones to.
pub(crate) fn write_ruleset(
    engine: &Engine,
    opts: &Options,
    out: &mut dyn io::Write,
    reuse: bool,
) -> Result<(), WriteError> {
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
                }
                .into());
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

    let mut compiler = Chains::new(engine);
    compiler.reuse = reuse;
    let mut chains = Text::default();
    // (family, field) -> [(ip, chain)] for the dispatch maps.
    let mut dispatch: BTreeMap<(Direction, bool), Vec<(IpAddr, String)>> = BTreeMap::new();
    let mut isolated = [0usize; 2];
    let mut after_admin = Text::default();
    for &i in &local {
        let pod = &cluster.endpoints[i];
        for (n, direction) in [Direction::Egress, Direction::Ingress]
            .into_iter()
            .enumerate()
        {
            let np = !engine.policies_selecting(i, direction).is_empty();
            let (admin, baseline) = match engine.tiers.as_deref() {
                Some(t) => (
                    t.selecting(Tier::Admin, direction, i),
                    t.selecting(Tier::Baseline, direction, i),
                ),
                None => (&[][..], &[][..]),
            };
            if !np && admin.is_empty() && baseline.is_empty() {
                continue;
            }
            if np {
                isolated[n] += 1;
            }
            let name = ident(
                direction_prefix(direction),
                &[&pod.namespace, &pod.name],
                &format!("e{i}"),
            );
            let what = format!("{} {}", pod.id(), direction.as_str());
            // The layers after the Admin tier: NetworkPolicy when one selects
            // the pod, else the Baseline tier and the default.
            let mut rest = Text::default();
            if np {
                if !admin.is_empty() || !baseline.is_empty() {
                    let _ = writeln!(rest, "\t\t# NetworkPolicy");
                }
                rest.push_shared(compiler.np_rules(i, direction));
            } else {
                let allow = allow_verdict(direction);
                rest.push_str(&compiler.tier_rules(baseline, i, direction, allow));
                let _ = writeln!(rest, "\t\t{allow} {}", comment("default: allow"));
            }
            let mut body = Text::default();
            compiler.always(i, direction, &mut body);
            if admin.is_empty() {
                body.append(rest);
            } else if !np && baseline.is_empty() {
                // Nothing after the Admin tier but the default: Pass allows.
                let allow = allow_verdict(direction);
                body.push_str(&compiler.tier_rules(admin, i, direction, allow));
                body.append(rest);
            } else {
                let after = ident(
                    &format!("{}2", direction_prefix(direction)),
                    &[&pod.namespace, &pod.name],
                    &format!("e{i}"),
                );
                let pass = format!("goto {after}");
                body.push_str(&compiler.tier_rules(admin, i, direction, &pass));
                let _ = writeln!(body, "\t\t{pass}");
                let _ = write!(
                    after_admin,
                    "\n\tchain {after} {{\n\t\t{}\n",
                    comment(&format!("{what} after the Admin tier"))
                );
                after_admin.append(rest);
                after_admin.push_str("\t}\n");
            }
            let _ = write!(chains, "\n\tchain {name} {{\n\t\t{}\n", comment(&what));
            chains.append(body);
            chains.push_str("\t}\n");
            for ip in &pod.ips {
                dispatch
                    .entry((direction, ip.is_ipv6()))
                    .or_default()
                    .push((*ip, name.clone()));
            }
        }
    }

    let scope = match &opts.scope {
        Scope::Node(n) => format!("the pods on node {n}"),
        Scope::Every => "every pod with an IP".to_string(),
        Scope::WithoutNode => "the pods on no known node".to_string(),
    };
    let table = &opts.table;
    writeln!(
        out,
        "# Generated by netpol: Kubernetes NetworkPolicies enforced for {scope}."
    )?;
    writeln!(
        out,
        "# {} pods, {} isolated for egress, {} for ingress, by {} NetworkPolicies.",
        local.len(),
        isolated[0],
        isolated[1],
        cluster.policies.len()
    )?;
    if !cluster.cluster_policies.is_empty() {
        writeln!(
            out,
            "# {} ClusterNetworkPolicies: each chain runs the Admin tier, then NetworkPolicy, then the Baseline tier, then the default (allow).",
            cluster.cluster_policies.len()
        )?;
        for note in domain_name_rules(cluster) {
            writeln!(out, "# {note}.")?;
        }
    }
    writeln!(
        out,
        "# Apply with `nft -f FILE`: it replaces table inet {table} atomically and nothing else."
    )?;
    writeln!(
        out,
        "# Pods on a shared Linux bridge need br_netfilter (net.bridge.bridge-nf-call-iptables=1)."
    )?;
    writeln!(out, "table inet {table} {{}}")?;
    writeln!(out, "delete table inet {table}")?;
    writeln!(out, "table inet {table} {{")?;
    write_sets(&compiler.sets, out)?;
    writeln!(out, "\tchain forward {{")?;
    writeln!(
        out,
        "\t\ttype filter hook forward priority filter; policy accept;"
    )?;
    writeln!(out, "\t\tct state established,related accept")?;
    writeln!(
        out,
        "\t\tfib saddr type local accept {}",
        comment("from the node itself")
    )?;
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
        write!(out, "\t\t{family} {field} vmap {{ ")?;
        for (k, (ip, chain)) in entries.iter().enumerate() {
            let sep = if k == 0 { "" } else { ", " };
            write!(out, "{sep}{ip} : jump {chain}")?;
        }
        writeln!(out, " }}")?;
    }
    writeln!(out, "\t}}")?;
    chains.write_to(out)?;
    after_admin.write_to(out)?;
    out.write_all(b"}\n")?;
    Ok(())
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
        assert_eq!(cut.len(), 184);
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
    fn an_ip_block_is_its_own_cidr_minus_its_excepts_and_selectors_are_pod_sets() {
        let policy = policy_p(
            "
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Egress]
  egress:
    - to:
        - podSelector: {}
        - ipBlock: {cidr: 192.168.0.0/16, except: [192.168.1.0/24, 192.168.1.128/25]}
",
        );
        let text = compile_yaml(&format!("{PODS}{policy}"), None);
        assert_eq!(
            body(&text, "eg_default_web")[3..],
            [
                "ip daddr @eg_default_p_0_pods_v4 return comment \"default/p egress[0]\"",
                "ip daddr 192.168.0.0/16 ip daddr != @eg_default_p_0_except1_v4 return comment \"default/p egress[0]\"",
                "drop",
            ]
        );
        // The excepts as written (nft merges overlapping ones), never the addresses of pods.
        assert!(
            text.contains("\tset eg_default_p_0_except1_v4 {\n\t\ttype ipv4_addr\n\t\tflags interval\n\t\tcomment \"default/p egress[0] ipBlock 192.168.0.0/16 except\"\n\t\tauto-merge\n\t\telements = { 192.168.1.0/24, 192.168.1.128/25 }\n"),
            "{text}"
        );
        // The pod selector never matches host-network pods.
        assert!(text.contains("elements = { 10.0.0.1 }"), "{text}");
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
    fn an_ip_block_is_matched_over_its_own_family_only() {
        let policy = policy_p(
            "
  podSelector: {matchLabels: {app: v6}}
  policyTypes: [Ingress, Egress]
  ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/24}}]}]
  egress: [{to: [{ipBlock: {cidr: 10.0.0.0/24}}], ports: [{port: http}]}]
",
        );
        let text = compile_yaml(&format!("{DUAL_STACK}{policy}"), None);
        // No set of pods inside the block: the kernel compares each packet with it.
        assert!(!text.contains("_pods_"), "{text}");
        assert_eq!(
            body(&text, "in_default_v6"),
            [
                "comment \"default/v6 ingress\"",
                "ip6 saddr fd00::6 accept comment \"the pod itself\"",
                "ip saddr 10.0.0.0/24 accept comment \"default/p ingress[0]\"",
                "drop",
            ]
        );
        // Named-port egress: the block, and the pods on which http is 80, over IPv4 only.
        assert_eq!(
            body(&text, "eg_default_v6")[2..],
            [
                "ip daddr 10.0.0.0/24 ip daddr @port_http_tcp_80_v4 meta l4proto tcp th dport 80 return comment \"default/p egress[0]\"",
                "drop",
            ]
        );
        assert!(
            text.contains("elements = { 10.0.0.5 }")
                && text.contains("elements = { fd00::5, fd00::6 }"),
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
