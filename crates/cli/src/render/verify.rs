//! `netpol verify` as text for people.

use std::collections::BTreeMap;
use std::fmt::Write;

use netpol_flows::Report;

/// Sources listed per destination port before "and N more".
const SOURCES_SHOWN: usize = 6;

pub fn text(flows_file: &str, r: &Report, policies: usize, strict: bool) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Checked {} connection{} the flows mean against {policies} polic{}.",
        r.checked,
        if r.checked == 1 { "" } else { "s" },
        if policies == 1 { "y" } else { "ies" }
    );

    let _ = writeln!(
        s,
        "\nMissing: {} connection{} a flow means but the policies deny",
        r.missing_total(),
        plural(r.missing_total())
    );
    for m in &r.missing {
        let partly = match m.family {
            Some(f) => format!(" over {f} (allowed over {} only)", f.other()),
            None => String::new(),
        };
        let _ = writeln!(
            s,
            "\n  {}:{}: {} ({}): {} -> {} on {}/{}{partly}",
            flows_file, m.line, m.flow, m.purpose, m.src, m.dst, m.port, m.protocol
        );
        for line in crate::render::explain::text(&m.verdict).lines() {
            if line.is_empty() {
                continue;
            }
            let _ = writeln!(s, "    {line}");
        }
    }
    not_listed(&mut s, r.missing_not_listed, netpol_flows::MISSING_LISTED);

    let _ = writeln!(
        s,
        "\nExtra: {} allowed connection{} no flow means",
        r.extra_total(),
        plural(r.extra_total())
    );
    let mut grouped: BTreeMap<(&str, u16, String), Vec<String>> = BTreeMap::new();
    let mut reasons: BTreeMap<(&str, u16, String), &str> = BTreeMap::new();
    for e in &r.extra {
        let key = (e.dst.as_str(), e.port, e.protocol.to_string());
        let src = match e.only {
            Some(f) => format!("{} ({f} only)", e.src),
            None => e.src.clone(),
        };
        grouped.entry(key.clone()).or_default().push(src);
        reasons.entry(key).or_insert(&e.ingress);
    }
    for (key, sources) in &grouped {
        let (dst, port, proto) = key;
        let shown: Vec<&str> = sources
            .iter()
            .take(SOURCES_SHOWN)
            .map(String::as_str)
            .collect();
        let more = sources.len().saturating_sub(SOURCES_SHOWN);
        let more = if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        };
        let _ = writeln!(s, "  {dst} {port}/{proto} from {}{more}", shown.join(", "));
        let _ = writeln!(s, "      ingress: {}", reasons[key]);
    }
    not_listed(&mut s, r.extra_not_listed, netpol_flows::EXTRA_LISTED);

    let _ = writeln!(
        s,
        "\nNamespaces without a default-deny: {}",
        r.without_default_deny.len()
    );
    for n in &r.without_default_deny {
        let dirs: Vec<&str> = n.directions.iter().map(|d| d.as_str()).collect();
        let _ = writeln!(
            s,
            "  {}: no policy isolates every pod for {}",
            n.namespace,
            dirs.join(" and ")
        );
    }

    let _ = writeln!(s, "\nFindings about the flows: {}", r.findings.len());
    for f in &r.findings {
        let _ = writeln!(s, "  {}", crate::render::r#gen::finding(flows_file, f));
    }

    crate::render::evidence::would_break(&mut s, &r.would_break);

    let mut problems = Vec::new();
    if strict && !r.would_break.is_empty() {
        problems.push(format!("{} would break", r.would_break.len()));
    }
    if !r.missing.is_empty() {
        problems.push(format!("{} missing", r.missing_total()));
    }
    if !r.without_default_deny.is_empty() {
        problems.push(format!(
            "{} without default-deny",
            r.without_default_deny.len()
        ));
    }
    if r.errors() > 0 {
        problems.push(format!(
            "{} error{} in the flows",
            r.errors(),
            plural(r.errors())
        ));
    }
    if strict && !r.extra.is_empty() {
        problems.push(format!("{} extra", r.extra_total()));
    }
    let warnings = r.warnings();
    if strict && warnings > 0 {
        problems.push(format!("{warnings} warning{}", plural(warnings)));
    }
    if problems.is_empty() {
        let _ = writeln!(s, "\nOK: the policies implement the flows");
    } else {
        let _ = writeln!(s, "\nFAIL: {}", problems.join(", "));
    }
    s
}

/// The line that says how many connections a section counts but does not
/// list.
fn not_listed(s: &mut String, n: usize, listed: usize) {
    if n > 0 {
        let _ = writeln!(
            s,
            "\n  ... and {n} more not listed (netpol verify lists the first {listed})"
        );
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
