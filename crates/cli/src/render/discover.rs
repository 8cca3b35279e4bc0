//! What `netpol discover` prints: the flows file to review, JSON, and text.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use ipnet::IpNet;
use netpol_discover::{Confidence, Connection, Discovery, Evidence, Peer};
use netpol_model::Protocol;

/// How many pieces of evidence a flow's comment cites before "and N more".
const CITED: usize = 3;

/// `{"connections":[...],"unresolved":[...]}`, one item per line, sorted
/// by src, dst, port, protocol and rule as they are written.
pub fn json(d: &Discovery) -> String {
    let mut connections: Vec<&Connection> = d.connections.iter().collect();
    connections.sort_by_cached_key(|c| {
        (
            c.src.to_string(),
            c.dst.to_string(),
            c.port,
            c.protocol,
            c.rule,
        )
    });
    let mut out = String::from("{\"connections\":[");
    for (i, c) in connections.iter().enumerate() {
        out.push_str(if i == 0 { "\n" } else { ",\n" });
        out.push_str(&serde_json::to_string(c).expect("serializable"));
    }
    out.push_str("\n],\"unresolved\":[");
    for (i, u) in d.unresolved.iter().enumerate() {
        out.push_str(if i == 0 { "\n" } else { ",\n" });
        out.push_str(&serde_json::to_string(u).expect("serializable"));
    }
    out.push_str("\n]}\n");
    out
}

fn one_line(s: &str) -> String {
    s.replace(['\n', '\r'], " ")
}

fn cite(e: &Evidence) -> String {
    one_line(&format!(
        "{}:{} {} {}: {}",
        e.file, e.line, e.object, e.field, e.text
    ))
}

/// Grouped by destination, then source; the ports one rule proposes for
/// the same pair on the same evidence share a line.
pub fn text(d: &Discovery) -> String {
    type Line<'a> = (&'a Peer, &'static str, Confidence, &'a [Evidence]);
    let mut by_dst: BTreeMap<&Peer, BTreeMap<Line, Vec<String>>> = BTreeMap::new();
    for c in &d.connections {
        by_dst
            .entry(&c.dst)
            .or_default()
            .entry((&c.src, c.rule, c.confidence, c.evidence.as_slice()))
            .or_default()
            .push(format!("{}/{}", c.port, c.protocol));
    }
    let mut out = String::new();
    for (dst, lines) in by_dst {
        let _ = writeln!(out, "{dst}");
        for ((src, rule, confidence, evidence), ports) in lines {
            let _ = writeln!(
                out,
                "  <- {src} on {}  [{rule} {}]",
                ports.join(", "),
                confidence.as_str()
            );
            for e in evidence {
                let _ = writeln!(out, "       {}", cite(e));
            }
        }
        out.push('\n');
    }
    if !d.unresolved.is_empty() {
        let _ = writeln!(out, "unresolved");
        for u in &d.unresolved {
            let _ = writeln!(out, "  {} [{}]: {}", u.subject, u.rule, one_line(&u.reason));
            let _ = writeln!(out, "       {}", cite(&u.evidence));
        }
        out.push('\n');
    }
    let guesses = d
        .connections
        .iter()
        .filter(|c| c.confidence == Confidence::Guess)
        .count();
    let _ = writeln!(
        out,
        "{} connections ({} {}), {} unresolved",
        d.connections.len(),
        guesses,
        if guesses == 1 { "guess" } else { "guesses" },
        d.unresolved.len()
    );
    out
}

pub struct FlowsSettings {
    /// The PATH arguments, for the header.
    pub inputs: Vec<String>,
    pub node_cidrs: Vec<IpNet>,
    /// Workloads whose pods use the host network.
    pub host_network: BTreeSet<String>,
    /// Workloads whose pods carry the same labels as other workloads of
    /// their namespace, with those others: no policy can tell them apart.
    pub look_alikes: BTreeMap<String, Vec<String>>,
    /// How to write look-alike workloads when they all share a need: their
    /// namespace when they fill it, else `ns:labels` when those labels select
    /// exactly them.
    pub group_endpoint: BTreeMap<String, String>,
}

/// One flow: what every rule proposes between the same two ends, on all the
/// ports that share one fate (written, guessed, or not expressible).
struct Flow<'a> {
    /// The ends as the flows file writes them.
    src: String,
    dst: String,
    dst_is_apiserver: bool,
    /// Host-network workloads written as `nodes`: their traffic has their
    /// node's address, which is what a policy can name.
    on_host: BTreeSet<&'a str>,
    ports: BTreeSet<(u16, Protocol)>,
    /// `(rule, confidence)` pairs, strongest first when printed.
    rules: BTreeSet<(&'static str, Confidence)>,
    evidence: Vec<&'a Evidence>,
    /// The first evidence of the strongest connection: what the purpose quotes.
    lead: (&'static str, Confidence, &'a Evidence),
    off: Option<String>,
}

type Need<'a> = (&'a Peer, &'a Peer, u16, Protocol);

/// Why a connection cannot be an active flow of this file, if it cannot.
/// `needs` holds every certain or likely connection, so that a need that all
/// look-alike workloads share can still be written.
fn blocker(c: &Connection, s: &FlowsSettings, needs: &BTreeSet<Need>) -> Option<String> {
    if c.confidence == Confidence::Guess {
        return Some("a guess: uncomment it if the workload needs it".to_string());
    }
    let selectable = |p: &Peer| matches!(p, Peer::Workload(id) if !s.host_network.contains(id));
    if !selectable(&c.src) && !selectable(&c.dst) {
        return Some(
            "no NetworkPolicy selects either end (host network, or an address), so there is nothing to allow: listed for the record"
                .to_string(),
        );
    }
    let addressless = |p: &Peer| matches!(p, Peer::Nodes | Peer::KubeApiserver);
    if s.node_cidrs.is_empty() && (addressless(&c.src) || addressless(&c.dst)) {
        return Some(format!(
            "{} has no addresses here: set cluster.nodeCIDRs (netpol discover --node-cidr) and uncomment",
            if addressless(&c.src) { &c.src } else { &c.dst }
        ));
    }
    for (side, p) in [("source", &c.src), ("destination", &c.dst)] {
        if let Peer::Workload(id) = p {
            if s.host_network.contains(id) && s.node_cidrs.is_empty() {
                return Some(format!(
                    "the {side} {id} uses the host network, which NetworkPolicies cannot select: its traffic has its node's address; set cluster.nodeCIDRs (netpol discover --node-cidr) to write it as `nodes`"
                ));
            }
            let shared_by_all = |others: &Vec<String>| {
                others.iter().all(|o| {
                    let o = Peer::Workload(o.clone());
                    let need = if side == "source" {
                        (&o, &c.dst, c.port, c.protocol)
                    } else {
                        (&c.src, &o, c.port, c.protocol)
                    };
                    needs.contains(&need)
                })
            };
            if let Some(others) = s.look_alikes.get(id).filter(|o| !shared_by_all(o)) {
                return Some(format!(
                    "the {side} {id} has the same pod labels as {}: a policy for it would cover them too; give its pods a label of their own",
                    others.join(", ")
                ));
            }
        }
    }
    None
}

/// How the flows file names a peer.
struct Written<'a> {
    text: String,
    /// The host-network workload written as `nodes`.
    on_host: Option<&'a str>,
}

/// A host-network workload is written as `nodes` once the nodes' addresses
/// are known; in an active flow, look-alikes by the endpoint that means all
/// of them (they all share the need, or the flow would be off).
fn written<'a>(p: &'a Peer, s: &FlowsSettings, active: bool) -> Written<'a> {
    let (text, on_host) = match p {
        Peer::Workload(id) if s.host_network.contains(id) && !s.node_cidrs.is_empty() => {
            (Peer::Nodes.to_string(), Some(id.as_str()))
        }
        Peer::Workload(id) if active && s.group_endpoint.contains_key(id) => {
            (s.group_endpoint[id].clone(), None)
        }
        other => (other.to_string(), None),
    };
    Written { text, on_host }
}

fn flows_of<'a>(d: &'a Discovery, s: &FlowsSettings) -> Vec<Flow<'a>> {
    let needs: BTreeSet<Need> = d
        .connections
        .iter()
        .filter(|c| c.confidence >= Confidence::Likely)
        .map(|c| (&c.src, &c.dst, c.port, c.protocol))
        .collect();
    let mut map: BTreeMap<(String, String, Option<String>), Flow> = BTreeMap::new();
    for c in &d.connections {
        let Some(first) = c.evidence.first() else {
            continue;
        };
        let off = blocker(c, s, &needs);
        let (src, dst) = (
            written(&c.src, s, off.is_none()),
            written(&c.dst, s, off.is_none()),
        );
        let (src_host, dst_host) = (src.on_host, dst.on_host);
        let (src, dst) = (src.text, dst.text);
        let f = map
            .entry((src.clone(), dst.clone(), off.clone()))
            .or_insert_with(|| Flow {
                src,
                dst,
                dst_is_apiserver: c.dst == Peer::KubeApiserver,
                on_host: BTreeSet::new(),
                ports: BTreeSet::new(),
                rules: BTreeSet::new(),
                evidence: Vec::new(),
                lead: (c.rule, c.confidence, first),
                off,
            });
        if c.confidence > f.lead.1 {
            f.lead = (c.rule, c.confidence, first);
        }
        f.on_host.extend(src_host.into_iter().chain(dst_host));
        f.ports.insert((c.port, c.protocol));
        f.rules.insert((c.rule, c.confidence));
        for e in &c.evidence {
            if !f.evidence.contains(&e) {
                f.evidence.push(e);
            }
        }
    }
    // Written flows first, then the ones to review, each in peer order.
    let mut out: Vec<Flow> = map.into_values().collect();
    out.sort_by(|a, b| {
        (a.off.is_some(), &a.src, &a.dst, &a.off).cmp(&(b.off.is_some(), &b.src, &b.dst, &b.off))
    });
    out
}

fn ports_text(f: &Flow) -> String {
    if f.dst_is_apiserver {
        // The API server's port is the file's `cluster.apiserver.port`.
        return "service".to_string();
    }
    let list: Vec<String> = f
        .ports
        .iter()
        .map(|(port, protocol)| match protocol {
            Protocol::Tcp => port.to_string(),
            other => format!("{port}/{}", other.as_str().to_ascii_lowercase()),
        })
        .collect();
    list.join(", ")
}

/// Policy names come from the flow's name: the destination and first port.
fn flow_name(f: &Flow) -> String {
    let dst = f.dst.rsplit('/').next().unwrap_or(&f.dst);
    let port = f.ports.iter().next().map_or(0, |p| p.0);
    let mut s = String::new();
    for c in dst.chars() {
        if c.is_ascii_alphanumeric() {
            s.push(c.to_ascii_lowercase());
        } else if !s.is_empty() && !s.ends_with('-') {
            s.push('-');
        }
    }
    let suffix = format!("-{port}");
    s.truncate(40 - suffix.len());
    format!("{}{suffix}", s.trim_end_matches('-'))
}

fn purpose(f: &Flow) -> String {
    let (rule, _, e) = f.lead;
    let mut p = one_line(&format!("{rule}: {}", e.text));
    if p.chars().count() > 120 {
        p = p.chars().take(117).collect::<String>() + "...";
    }
    p
}

fn quote(s: &str) -> String {
    // A JSON string is a valid YAML double-quoted scalar.
    serde_json::to_string(s).expect("serializable")
}

/// A flows file that `netpol gen` takes as is: certain and likely needs as
/// flows, guesses and needs that the file cannot express commented out,
/// each with the evidence it comes from; unresolved evidence listed last.
pub fn flows(d: &Discovery, s: &FlowsSettings) -> String {
    let all = flows_of(d, s);
    let active = all.iter().filter(|f| f.off.is_none()).count();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Proposed by `netpol discover {}`.",
        s.inputs.join(" ")
    );
    out.push_str(
        "# Every flow cites the evidence it comes from. Review each one: a flow that\n\
         # is not needed is a hole in the policies, a need without a flow breaks.\n\
         # Guesses, and needs this file cannot express, are commented out (OFF);\n\
         # evidence that could not be resolved is listed at the end. Then:\n\
         #   netpol gen FLOWS PATH... --dir DIR\n\
         #   netpol verify FLOWS PATH... DIR --strict\n",
    );
    let _ = writeln!(
        out,
        "# {active} flows, {} commented out, {} unresolved.\n",
        all.len() - active,
        d.unresolved.len()
    );
    out.push_str(
        "# Egress is isolated too, so that the needs found on the sending side (the\n\
         # API server, the outside, DNS) are enforced; write `ingress` to isolate only\n\
         # incoming traffic while you review.\n\
         defaultDeny: ingress+egress\n\n\
         # DNS is written as flows of its own (rule dns), only for the pods that use it.\n\
         allowDns: false\n\n",
    );
    if s.node_cidrs.is_empty() {
        out.push_str(
            "# The nodes' addresses (the API server's too, as on k3s): flows to or from\n\
             # `nodes` and `kube-apiserver` need them (netpol discover --node-cidr CIDR).\n\
             # cluster:\n#   nodeCIDRs: [192.168.1.0/24]\n\n",
        );
    } else {
        let list: Vec<String> = s.node_cidrs.iter().map(|n| n.to_string()).collect();
        let _ = writeln!(out, "cluster:\n  nodeCIDRs: [{}]\n", list.join(", "));
    }
    out.push_str("flows:\n");
    if active == 0 {
        out.push_str("  []\n");
    }
    for f in &all {
        let mut rules: Vec<&(&str, Confidence)> = f.rules.iter().collect();
        rules.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let rules: Vec<String> = rules
            .iter()
            .map(|(r, c)| format!("{r} ({})", c.as_str()))
            .collect();
        let _ = writeln!(out, "  # {}", rules.join(", "));
        for e in f.evidence.iter().take(CITED) {
            let _ = writeln!(out, "  #   {}", cite(e));
        }
        if f.evidence.len() > CITED {
            let _ = writeln!(out, "  #   and {} more", f.evidence.len() - CITED);
        }
        if !f.on_host.is_empty() {
            let names: Vec<&str> = f.on_host.iter().copied().collect();
            let _ = writeln!(
                out,
                "  #   nodes: {} {} the host network, so the traffic has the node's address",
                names.join(", "),
                if names.len() == 1 { "uses" } else { "use" }
            );
        }
        let prefix = match &f.off {
            Some(why) => {
                let _ = writeln!(out, "  # OFF: {}", one_line(why));
                "  # "
            }
            None => "  ",
        };
        let _ = writeln!(out, "{prefix}- from: {}", f.src);
        let _ = writeln!(out, "{prefix}  to: {}", f.dst);
        let _ = writeln!(out, "{prefix}  ports: [{}]", ports_text(f));
        let _ = writeln!(out, "{prefix}  name: {}", flow_name(f));
        let _ = writeln!(out, "{prefix}  purpose: {}", quote(&purpose(f)));
        out.push('\n');
    }
    if !d.unresolved.is_empty() {
        out.push_str("# Unresolved: evidence of needs that discover could not turn into flows.\n");
        for u in &d.unresolved {
            let _ = writeln!(
                out,
                "#   {} [{}]: {}",
                u.subject,
                u.rule,
                one_line(&u.reason)
            );
            let _ = writeln!(out, "#     {}", cite(&u.evidence));
        }
    }
    out
}
