//! A connectivity diff as text for a terminal, JSON for tools, and markdown
//! for a pull-request comment.

use std::fmt::Write;

use netpol_diff::{
    Cause, ConnectionChange, Diff, PolicyChange, PolicyChangeKind, PortProto, Verdict,
};

pub fn json(diff: &Diff) -> String {
    let mut s = serde_json::to_string_pretty(diff).expect("diffs serialize");
    s.push('\n');
    s
}

fn ports(ports: &[PortProto]) -> String {
    ports
        .iter()
        .map(|p| format!("{}/{}", p.port, p.protocol))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The ports of a change, with the address family when it is over one only.
fn ports_over(c: &ConnectionChange) -> String {
    match c.family {
        Some(f) => format!("{} over {f} only", ports(&c.ports)),
        None => ports(&c.ports),
    }
}

fn cause(c: &Cause) -> String {
    format!("{}: {}", c.subject, c.effect)
}

fn policy_line(p: &PolicyChange) -> String {
    let mark = match p.change {
        PolicyChangeKind::Added => '+',
        PolicyChangeKind::Removed => '-',
        PolicyChangeKind::Changed => '~',
        PolicyChangeKind::Renamed => '>',
    };
    let what = match &p.renamed_from {
        Some(old) => format!("renamed from {old}, same spec"),
        None => p.change.as_str().to_string(),
    };
    format!("{mark} {} ({what})  {}", p.policy, p.location)
}

fn headline(diff: &Diff) -> String {
    let s = &diff.summary;
    if !diff.connectivity_changed() {
        return "No connectivity change.".to_string();
    }
    format!(
        "{} connection{} newly allowed, {} newly denied.",
        s.newly_allowed,
        if s.newly_allowed == 1 { "" } else { "s" },
        s.newly_denied
    )
}

/// Endpoints and ports present on one side only, one line each.
fn endpoint_lines(diff: &Diff) -> Vec<String> {
    let e = &diff.endpoints;
    let mut lines = Vec::new();
    lines.extend(
        e.added
            .iter()
            .map(|id| format!("+ {id} (added; its connections are not compared)")),
    );
    lines.extend(e.removed.iter().map(|id| format!("- {id} (removed)")));
    lines.extend(e.ports_added.iter().map(|p| {
        format!(
            "+ {} port {}/{} (declared only after)",
            p.endpoint, p.port, p.protocol
        )
    }));
    lines.extend(e.ports_removed.iter().map(|p| {
        format!(
            "- {} port {}/{} (declared only before)",
            p.endpoint, p.port, p.protocol
        )
    }));
    lines
}

/// Connections with the same destination, ports and causes, merged so that
/// a default-deny reads as one entry with its sources rather than one per source.
fn merged(diff: &Diff, verdict: Verdict) -> Vec<(Vec<&str>, &ConnectionChange)> {
    let mut groups: Vec<(Vec<&str>, &ConnectionChange)> = Vec::new();
    let mut index: std::collections::HashMap<_, usize> = std::collections::HashMap::new();
    for c in diff.connections.iter().filter(|c| c.change == verdict) {
        let key = (
            c.dst.as_str(),
            c.ports.as_slice(),
            c.family,
            c.causes.as_slice(),
        );
        match index.get(&key) {
            Some(&g) => groups[g].0.push(c.src.as_str()),
            None => {
                index.insert(key, groups.len());
                groups.push((vec![&c.src], c));
            }
        }
    }
    groups.sort_by(|a, b| (&a.1.dst, a.0[0]).cmp(&(&b.1.dst, b.0[0])));
    groups
}

pub fn text(diff: &Diff) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "{}", headline(diff));
    if !diff.policies.is_empty() {
        let _ = writeln!(s, "\nPolicies:");
        for p in &diff.policies {
            let _ = writeln!(s, "  {}", policy_line(p));
        }
        if !diff.verdicts_changed() {
            let _ = writeln!(s, "  (none of these edits changes a verdict)");
        }
    }
    let endpoints = endpoint_lines(diff);
    if !endpoints.is_empty() {
        let _ = writeln!(s, "\nEndpoints:");
        for line in endpoints {
            let _ = writeln!(s, "  {line}");
        }
    }
    for (verdict, title, mark) in [
        (Verdict::Allowed, "Newly allowed", '+'),
        (Verdict::Denied, "Newly denied", '-'),
    ] {
        let groups = merged(diff, verdict);
        if groups.is_empty() {
            continue;
        }
        let _ = writeln!(s, "\n{title}:");
        for (sources, c) in groups {
            match sources.as_slice() {
                [one] => {
                    let _ = writeln!(s, "  {mark} {one} -> {}  {}", c.dst, ports_over(c));
                }
                many => {
                    let _ = writeln!(
                        s,
                        "  {mark} {} sources -> {}  {}",
                        many.len(),
                        c.dst,
                        ports_over(c)
                    );
                    for src in many {
                        let _ = writeln!(s, "        {src}");
                    }
                }
            }
            let _ = writeln!(s, "      because:");
            for why in &c.causes {
                let _ = writeln!(s, "        {}", cause(why));
            }
        }
    }
    if let Some(line) = not_listed(diff) {
        let _ = writeln!(s, "\n{line}");
    }
    s
}

/// What the listing left out, when it did.
fn not_listed(diff: &Diff) -> Option<String> {
    let n = diff.connections_not_listed;
    (n > 0).then(|| {
        format!(
            "... and {n} more changed connection{} not listed (netpol diff lists the changes of the first {} pairs of endpoints, by source and destination; the counts above include them)",
            if n == 1 { "" } else { "s" },
            netpol_diff::PAIRS_LISTED
        )
    })
}

/// Markdown table cells cannot hold `|` or newlines.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// Long source lists fold away so the table stays readable in a PR comment.
fn source_cell(sources: &[String]) -> String {
    const FOLD_ABOVE: usize = 5;
    if sources.len() <= FOLD_ABOVE {
        return sources.join("<br>");
    }
    format!(
        "<details><summary>{} sources</summary>{}</details>",
        sources.len(),
        sources.join("<br>")
    )
}

pub fn markdown(diff: &Diff) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "### netpol diff\n");
    let _ = writeln!(s, "{}\n", headline(diff));
    if !diff.connections.is_empty() {
        let _ = writeln!(s, "| | Source | Destination | Ports | Because |");
        let _ = writeln!(s, "|---|---|---|---|---|");
        for verdict in [Verdict::Allowed, Verdict::Denied] {
            for (sources, c) in merged(diff, verdict) {
                let mark = if verdict == Verdict::Allowed {
                    "✅ allowed"
                } else {
                    "⛔ denied"
                };
                let why: Vec<String> = c
                    .causes
                    .iter()
                    .map(|w| format!("`{}`: {}", cell(&w.subject), cell(&w.effect)))
                    .collect();
                let sources: Vec<String> = sources
                    .iter()
                    .map(|src| format!("`{}`", cell(src)))
                    .collect();
                let _ = writeln!(
                    s,
                    "| {mark} | {} | `{}` | {} | {} |",
                    source_cell(&sources),
                    cell(&c.dst),
                    ports_over(c),
                    why.join("<br>")
                );
            }
        }
        let _ = writeln!(s);
        if let Some(line) = not_listed(diff) {
            let _ = writeln!(s, "{line}\n");
        }
    }
    if !diff.policies.is_empty() {
        let _ = writeln!(
            s,
            "<details><summary>Policy changes ({})</summary>\n",
            diff.policies.len()
        );
        for p in &diff.policies {
            let what = match &p.renamed_from {
                Some(old) => format!("renamed from `{old}`, same spec"),
                None => p.change.as_str().to_string(),
            };
            let _ = writeln!(s, "- `{}` {what} ({})", p.policy, cell(&p.location));
        }
        let _ = writeln!(s, "\n</details>\n");
    }
    let endpoints = endpoint_lines(diff);
    if !endpoints.is_empty() {
        let _ = writeln!(
            s,
            "<details><summary>Endpoints and ports on one side only ({})</summary>\n",
            endpoints.len()
        );
        for line in endpoints {
            let _ = writeln!(s, "- `{}`", line);
        }
        let _ = writeln!(s, "\n</details>\n");
    }
    s
}
