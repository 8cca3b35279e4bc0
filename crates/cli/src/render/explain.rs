//! A verdict's trace as text for people.

use std::fmt::Write;

use netpol_engine::tier::TierPolicyTrace;
use netpol_engine::{Decision, SideTrace, Verdict};
use serde::Serialize;

pub fn text(v: &Verdict) -> String {
    let mut s = String::new();
    let verdict = match v.only_over() {
        Some(f) => format!("ALLOWED over {f} only, DENIED over {}", f.other()),
        None if v.allowed => "ALLOWED".to_string(),
        None if v.undecidable.is_some() => "UNDECIDABLE".to_string(),
        None => "DENIED".to_string(),
    };
    let _ = writeln!(
        s,
        "{verdict}: {} -> {} on {}/{}",
        v.src, v.dst, v.port, v.protocol
    );
    match v.decided_by {
        Decision::SamePod => {
            let _ = writeln!(
                s,
                "  a pod can always reach itself: no policy can block this (policies below are not consulted)"
            );
        }
        Decision::NodeTraffic => {
            let _ = writeln!(
                s,
                "  traffic between a pod and the node it runs on is always allowed (policies below are not consulted)"
            );
        }
        Decision::NoCommonFamily => {
            let _ = writeln!(
                s,
                "  {} and {} have no address family in common (IPv4 on one side, IPv6 on the other): no connection between them is possible (policies below are not consulted)",
                v.src, v.dst
            );
        }
        Decision::Policies => {}
    }
    if let Some(why) = &v.undecidable {
        let _ = writeln!(s, "  undecidable offline: {why}");
    }
    if let Some(workload) = &v.between_replicas {
        let _ = writeln!(
            s,
            "  between two replicas of {workload}: decided by policy, as between any two pods (only a pod with itself is always allowed)"
        );
    }
    if v.by_family.is_empty() {
        side(&mut s, "Egress from", &v.egress);
        side(&mut s, "Ingress to", &v.ingress);
    }
    for f in &v.by_family {
        let verdict = if f.allowed { "ALLOWED" } else { "DENIED" };
        let _ = writeln!(s, "\nOver {}: {verdict}", f.family);
        side(&mut s, "Egress from", &f.egress);
        side(&mut s, "Ingress to", &f.ingress);
    }
    s
}

fn mark(ok: bool) -> &'static str {
    if ok { "+" } else { "-" }
}

/// The policies of one tier that select the subject, each rule evaluated up
/// to the one that decided: `+` matched, `-` did not (and why), `?` cannot be
/// decided offline.
fn tier(s: &mut String, name: &str, policies: &[TierPolicyTrace]) {
    if policies.is_empty() {
        let _ = writeln!(s, "  {name} tier: no policy selects it");
        return;
    }
    let _ = writeln!(s, "  {name} tier:");
    for p in policies {
        let decided = p.rules.last().filter(|r| r.matched);
        let what = match decided {
            Some(r) => format!("{} by {}", r.action, r.rule),
            None => "no rule matches".to_string(),
        };
        let _ = writeln!(
            s,
            "  [{}] {} {} (priority {}, {}): {what}",
            mark(decided.is_some()),
            p.kind,
            p.policy,
            p.priority,
            p.location
        );
        for r in &p.rules {
            let m = if r.undecidable { "?" } else { mark(r.matched) };
            let name = r.name.as_ref().map(|n| format!(" {n}")).unwrap_or_default();
            let _ = writeln!(
                s,
                "      [{m}] {}{name}: {} (line {})",
                r.rule, r.action, r.line
            );
            for c in r.peers.iter().chain(&r.ports) {
                let _ = writeln!(
                    s,
                    "          [{}] {} {}: {}",
                    mark(c.matched),
                    c.item,
                    c.description,
                    c.reason
                );
            }
        }
    }
}

fn side(s: &mut String, title: &str, t: &SideTrace) {
    let state = match t.status {
        netpol_engine::SideStatus::Undecidable => "undecidable",
        _ if t.allowed => "allowed",
        _ => "denied",
    };
    let _ = writeln!(s, "\n{title} {}: {state}", t.subject);
    let _ = writeln!(s, "  {}", t.reason);
    if let Some(tt) = &t.tiers {
        tier(s, "Admin", &tt.admin);
        if !t.policies.is_empty() {
            let _ = writeln!(s, "  NetworkPolicy:");
        }
    }
    network_policies(s, t);
    if let Some(tt) = t.tiers.as_ref().filter(|tt| tt.reached_baseline) {
        tier(s, "Baseline", &tt.baseline);
    }
}

fn network_policies(s: &mut String, t: &SideTrace) {
    for p in &t.policies {
        let verdict = if p.allowed {
            "allows"
        } else {
            "does not allow"
        };
        let _ = writeln!(
            s,
            "  [{}] policy {} ({}) {verdict}",
            mark(p.allowed),
            p.policy,
            p.location
        );
        if p.rules.is_empty() {
            let _ = writeln!(
                s,
                "      no {} rules: it only isolates",
                t.direction.as_str()
            );
        }
        for r in &p.rules {
            let _ = writeln!(
                s,
                "      [{}] {} (line {})",
                mark(r.allowed),
                r.rule,
                r.line
            );
            for c in r.peers.iter().chain(&r.ports) {
                let _ = writeln!(
                    s,
                    "          [{}] {} {}: {}",
                    mark(c.matched),
                    c.item,
                    c.description,
                    c.reason
                );
            }
        }
    }
}

/// One connection `explain` decided, and how its destination port was reached.
#[derive(Serialize)]
pub struct Explained {
    /// How a Service port led to this pod.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    pub verdict: Verdict,
}

/// Every connection between the pods `--from` and `--to` stand for.
#[derive(Serialize)]
pub struct Connections<'a> {
    /// How a name that means several pods, or a Service, was read.
    pub meaning: Vec<&'a String>,
    /// Destination pods the connection never reaches, and why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<String>,
    pub connections: Vec<Explained>,
}

impl Connections<'_> {
    /// The one connection, when the names meant one pod each and no Service.
    pub fn single(&self) -> Option<&Explained> {
        match self.connections.as_slice() {
            [e] if self.meaning.is_empty() && self.skipped.is_empty() && e.via.is_none() => Some(e),
            _ => None,
        }
    }
}

pub fn connections_text(c: &Connections) -> String {
    let mut s = String::new();
    for m in &c.meaning {
        let _ = writeln!(s, "{m}");
    }
    for why in &c.skipped {
        let _ = writeln!(s, "note: {why}");
    }
    for (i, e) in c.connections.iter().enumerate() {
        if i > 0 || !c.meaning.is_empty() || !c.skipped.is_empty() {
            s.push('\n');
        }
        if let Some(via) = &e.via {
            let _ = writeln!(s, "{via}");
        }
        for n in &e.notes {
            let _ = writeln!(s, "note: {n}");
        }
        s.push_str(&text(&e.verdict));
    }
    if c.connections.len() > 1 {
        let allowed = c.connections.iter().filter(|e| e.verdict.allowed).count();
        let _ = writeln!(
            s,
            "\n{allowed} of {} connections allowed",
            c.connections.len()
        );
    }
    s
}
