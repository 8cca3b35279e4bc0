//! Lint findings as text for people, JSON for tools, and SARIF 2.1.0 for code scanning.

use std::fmt::Write;

use netpol_lint::{CATALOG, Finding, Severity};
use serde_json::{Value, json};

pub fn text(findings: &[Finding], checked: &str) -> String {
    let mut s = String::new();
    for f in findings {
        let policy = f
            .policy
            .as_deref()
            .map(|p| format!(" [{p}]"))
            .unwrap_or_default();
        let _ = writeln!(
            s,
            "{}:{}: {} {} {}: {}{policy}",
            f.location.file, f.location.line, f.severity, f.id, f.name, f.message
        );
        let _ = writeln!(s, "    hint: {}", f.hint);
    }
    if !findings.is_empty() {
        let _ = writeln!(s);
    }
    let count = |sev: Severity| findings.iter().filter(|f| f.severity == sev).count();
    let _ = writeln!(
        s,
        "{} finding{} ({} error{}, {} warning{}, {} info) in {checked}",
        findings.len(),
        if findings.len() == 1 { "" } else { "s" },
        count(Severity::Error),
        if count(Severity::Error) == 1 { "" } else { "s" },
        count(Severity::Warning),
        if count(Severity::Warning) == 1 {
            ""
        } else {
            "s"
        },
        count(Severity::Info),
    );
    s
}

pub fn json(findings: &[Finding]) -> String {
    let mut s =
        serde_json::to_string_pretty(&json!({ "findings": findings })).expect("findings serialize");
    s.push('\n');
    s
}

fn level(sev: Severity) -> &'static str {
    match sev {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// A relative path stays relative (code scanning resolves it against the
/// repository root); an absolute one becomes a `file://` URI.
fn uri(path: &str) -> String {
    let path = path.replace('\\', "/");
    let escaped: String = path
        .chars()
        .map(|c| match c {
            ' ' => "%20".to_string(),
            '%' => "%25".to_string(),
            '#' => "%23".to_string(),
            '?' => "%3F".to_string(),
            c => c.to_string(),
        })
        .collect();
    if path.starts_with('/') {
        format!("file://{escaped}")
    } else {
        escaped
    }
}

pub fn sarif(findings: &[Finding]) -> String {
    let rules: Vec<Value> = CATALOG
        .iter()
        .map(|r| {
            json!({
                "id": r.id,
                "name": r.name,
                "shortDescription": { "text": r.summary },
                "fullDescription": { "text": r.help },
                "help": { "text": r.help },
                "defaultConfiguration": { "level": level(r.severity) },
            })
        })
        .collect();
    let results: Vec<Value> = findings
        .iter()
        .map(|f| {
            let index = CATALOG
                .iter()
                .position(|r| r.id == f.id)
                .expect("findings use catalog ids");
            json!({
                "ruleId": f.id,
                "ruleIndex": index,
                "level": level(f.severity),
                "message": { "text": format!("{} Hint: {}", f.message, f.hint) },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": uri(&f.location.file) },
                        "region": { "startLine": f.location.line.max(1) },
                    }
                }],
            })
        })
        .collect();
    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": { "name": "netpol", "rules": rules } },
            "results": results,
        }],
    });
    let mut s = serde_json::to_string_pretty(&log).expect("SARIF serializes");
    s.push('\n');
    s
}
