//! A verdict's trace as text for people.

use std::fmt::Write;

use netpol_engine::{Decision, SideTrace, Verdict};

pub fn text(v: &Verdict) -> String {
    let mut s = String::new();
    let verdict = if v.allowed { "ALLOWED" } else { "DENIED" };
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
        Decision::Policies => {}
    }
    side(&mut s, "Egress from", &v.egress);
    side(&mut s, "Ingress to", &v.ingress);
    s
}

fn mark(ok: bool) -> &'static str {
    if ok { "+" } else { "-" }
}

fn side(s: &mut String, title: &str, t: &SideTrace) {
    let state = if t.allowed { "allowed" } else { "denied" };
    let _ = writeln!(s, "\n{title} {}: {state}", t.subject);
    let _ = writeln!(s, "  {}", t.reason);
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
