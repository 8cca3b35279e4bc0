//! `netpol gen` output: what changed, the findings, and `--check`'s diff.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;

use netpol_flows::{Finding, Severity};
use similar::TextDiff;

use crate::commands::r#gen::Change;

/// `warning: flows.yaml:12: flows[2]: message`.
pub fn finding(file: &str, f: &Finding) -> String {
    let level = match f.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    };
    let at = if f.line > 0 {
        format!("{file}:{}", f.line)
    } else {
        file.to_string()
    };
    format!("{level}: {at}: {}: {} [{}]", f.flow, f.message, f.code)
}

pub fn summary(
    dir: &Path,
    plan: &BTreeMap<String, Change>,
    policies: &BTreeMap<String, usize>,
) -> String {
    let mut s = String::new();
    let (mut written, mut unchanged, mut removed) = (0, 0, 0);
    for (name, change) in plan {
        let path = dir.join(name);
        let n = policies.get(name).copied().unwrap_or(0);
        let what = match change {
            Change::Create { .. } => {
                written += 1;
                "created"
            }
            Change::Update { .. } => {
                written += 1;
                "updated"
            }
            Change::Unchanged => {
                unchanged += 1;
                "unchanged"
            }
            Change::Remove { .. } => {
                removed += 1;
                let _ = writeln!(s, "removed   {} (its namespace is gone)", path.display());
                continue;
            }
        };
        let _ = writeln!(
            s,
            "{what:<9} {} ({n} polic{})",
            path.display(),
            if n == 1 { "y" } else { "ies" }
        );
    }
    let _ = writeln!(
        s,
        "{written} written, {unchanged} unchanged, {removed} removed"
    );
    s
}

/// A unified diff of DIR against what gen would write; empty when up to date.
pub fn check_diff(dir: &Path, plan: &BTreeMap<String, Change>) -> String {
    let mut s = String::new();
    for (name, change) in plan {
        let path = dir.join(name).display().to_string();
        let (old, new) = match change {
            Change::Unchanged => continue,
            Change::Create { new } => ("", new.as_str()),
            Change::Update { old, new } => (old.as_str(), new.as_str()),
            Change::Remove { old } => (old.as_str(), ""),
        };
        let a = if old.is_empty() {
            "/dev/null".to_string()
        } else {
            format!("a/{path}")
        };
        let b = if new.is_empty() {
            "/dev/null".to_string()
        } else {
            format!("b/{path}")
        };
        let diff = TextDiff::from_lines(old, new);
        let _ = write!(
            s,
            "{}",
            diff.unified_diff().context_radius(3).header(&a, &b)
        );
    }
    s
}
