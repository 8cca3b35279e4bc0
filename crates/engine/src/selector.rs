//! Label selectors: matching, display in kubectl's syntax, and why one did not match.

use netpol_model::{LabelSelector, Labels, Operator, Requirement};

/// The model's matcher; kept here so that the engine's callers read one name.
pub fn matches(sel: &LabelSelector, labels: &Labels) -> bool {
    sel.matches(labels)
}

/// `app=web,tier in (a,b),!legacy`; `{}` for the empty selector.
pub fn display(sel: &LabelSelector) -> String {
    if sel.is_empty() {
        return "{}".to_string();
    }
    let mut parts: Vec<String> = sel
        .match_labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    parts.extend(sel.match_expressions.iter().map(display_requirement));
    parts.join(",")
}

fn display_requirement(r: &Requirement) -> String {
    match r.operator {
        Operator::In => format!("{} in ({})", r.key, r.values.join(",")),
        Operator::NotIn => format!("{} notin ({})", r.key, r.values.join(",")),
        Operator::Exists => r.key.clone(),
        Operator::DoesNotExist => format!("!{}", r.key),
    }
}

fn has(subject: &str, labels: &Labels, key: &str) -> String {
    match labels.get(key) {
        Some(v) => format!("{subject} has {key}={v}"),
        None => format!("{subject} has no label {key}"),
    }
}

/// The first requirement `labels` fail, phrased for a person:
/// `wants team=a; namespace y has team=b`.
pub fn mismatch(sel: &LabelSelector, labels: &Labels, subject: &str) -> Option<String> {
    for (k, v) in &sel.match_labels {
        if labels.get(k) != Some(v) {
            return Some(format!("wants {k}={v}; {}", has(subject, labels, k)));
        }
    }
    sel.match_expressions
        .iter()
        .find(|r| !r.matches(labels))
        .map(|r| {
            format!(
                "wants {}; {}",
                display_requirement(r),
                has(subject, labels, &r.key)
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn req(key: &str, op: Operator, values: &[&str]) -> Requirement {
        Requirement {
            key: key.into(),
            operator: op,
            values: values.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn empty_selector_matches_everything() {
        assert!(matches(&LabelSelector::default(), &Labels::new()));
        assert!(matches(&LabelSelector::default(), &labels(&[("a", "b")])));
    }

    #[test]
    fn operators() {
        let l = labels(&[("tier", "web"), ("team", "a")]);
        let sel = |r| LabelSelector {
            match_labels: Labels::new(),
            match_expressions: vec![r],
        };
        assert!(matches(&sel(req("tier", Operator::In, &["web", "db"])), &l));
        assert!(!matches(&sel(req("tier", Operator::In, &["db"])), &l));
        assert!(!matches(&sel(req("missing", Operator::In, &["db"])), &l));
        assert!(matches(&sel(req("tier", Operator::NotIn, &["db"])), &l));
        assert!(!matches(&sel(req("tier", Operator::NotIn, &["web"])), &l));
        assert!(matches(&sel(req("missing", Operator::NotIn, &["web"])), &l));
        assert!(matches(&sel(req("team", Operator::Exists, &[])), &l));
        assert!(!matches(&sel(req("missing", Operator::Exists, &[])), &l));
        assert!(matches(
            &sel(req("missing", Operator::DoesNotExist, &[])),
            &l
        ));
        assert!(!matches(&sel(req("team", Operator::DoesNotExist, &[])), &l));
    }

    #[test]
    fn labels_and_expressions_are_anded() {
        let sel = LabelSelector {
            match_labels: labels(&[("team", "a")]),
            match_expressions: vec![req("tier", Operator::In, &["db"])],
        };
        assert!(matches(&sel, &labels(&[("team", "a"), ("tier", "db")])));
        assert!(!matches(&sel, &labels(&[("team", "a"), ("tier", "web")])));
        assert!(!matches(&sel, &labels(&[("team", "b"), ("tier", "db")])));
    }

    #[test]
    fn mismatch_names_the_label() {
        let sel = LabelSelector {
            match_labels: labels(&[("team", "a")]),
            match_expressions: vec![],
        };
        assert_eq!(
            mismatch(&sel, &labels(&[("team", "b")]), "namespace y").unwrap(),
            "wants team=a; namespace y has team=b"
        );
        assert_eq!(
            mismatch(&sel, &Labels::new(), "namespace y").unwrap(),
            "wants team=a; namespace y has no label team"
        );
        assert!(mismatch(&sel, &labels(&[("team", "a")]), "x").is_none());
    }
}
