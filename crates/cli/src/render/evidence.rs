//! `verify`'s "would break" section: needed connections, with the evidence
//! that shows the need, that the flows or the policies would block.

use std::fmt::Write;

use netpol_flows::WouldBreak;

/// Appends the section; nothing at all when nothing would break.
pub fn would_break(s: &mut String, list: &[WouldBreak]) {
    if list.is_empty() {
        return;
    }
    let _ = writeln!(
        s,
        "\nWould break: {} connection{} the manifests show a need for",
        list.len(),
        if list.len() == 1 { "" } else { "s" }
    );
    for w in list {
        let _ = writeln!(
            s,
            "\n  {} -> {} on {}/{} ({}, {})",
            w.src,
            w.dst,
            w.port,
            w.protocol,
            w.rule,
            w.confidence.as_str()
        );
        for r in &w.reasons {
            let _ = writeln!(s, "    {r}");
        }
        let proto = match w.protocol {
            netpol_model::Protocol::Tcp => String::new(),
            p => format!("/{}", p.as_str().to_ascii_lowercase()),
        };
        let _ = writeln!(
            s,
            "    missing flow: {{from: {}, to: {}, ports: [{}{proto}]}}",
            w.src, w.dst, w.port
        );
        for e in &w.evidence {
            let _ = writeln!(s, "    evidence: {e}");
        }
    }
}
