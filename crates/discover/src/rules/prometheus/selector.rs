//! `metav1.LabelSelector` as written (matchLabels, matchExpressions) against
//! a label map: the monitors and the Prometheus object carry their
//! selectors raw (the loader does not model them), so they are read here
//! and matched by the model's `LabelSelector`, as policies are.

use std::collections::BTreeMap;

use netpol_model::LabelSelector;
use serde_json::Value;

/// Whether `selector` selects `labels`, by the model's matcher. The empty
/// selector selects everything; a malformed one nothing.
pub fn matches(selector: &Value, labels: &BTreeMap<String, String>) -> bool {
    LabelSelector::from_json(selector).is_some_and(|s| s.matches(labels))
}

/// The labels at `path` of a manifest value (`metadata.labels`).
pub fn labels_at(value: &Value, path: &str) -> BTreeMap<String, String> {
    netpol_model::get_path(value, path)
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn selectors() {
        let l: BTreeMap<String, String> = [("app".to_string(), "web".to_string())].into();
        assert!(matches(&json!({}), &l));
        assert!(matches(&json!({"matchLabels": {"app": "web"}}), &l));
        assert!(!matches(&json!({"matchLabels": {"app": "db"}}), &l));
        assert!(matches(
            &json!({"matchExpressions": [{"key": "app", "operator": "In", "values": ["web", "x"]}]}),
            &l
        ));
        assert!(!matches(
            &json!({"matchExpressions": [{"key": "tier", "operator": "Exists"}]}),
            &l
        ));
        assert!(matches(
            &json!({"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["a"]}]}),
            &l
        ));
        assert!(!matches(&Value::Null, &l));
    }
}
