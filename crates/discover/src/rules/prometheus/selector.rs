//! `metav1.LabelSelector` as written (matchLabels, matchExpressions) against
//! a label map: the monitors and the Prometheus object carry their
//! selectors raw, and discovery reads them without the engine.

use std::collections::BTreeMap;

use serde_json::Value;

/// Whether `selector` selects `labels`. The empty selector selects everything;
/// a malformed one nothing.
pub fn matches(selector: &Value, labels: &BTreeMap<String, String>) -> bool {
    let Some(obj) = selector.as_object() else {
        return false;
    };
    if let Some(ml) = obj.get("matchLabels").and_then(Value::as_object) {
        for (k, v) in ml {
            if labels.get(k).map(String::as_str) != v.as_str() {
                return false;
            }
        }
    }
    let exprs = obj.get("matchExpressions").and_then(Value::as_array);
    for e in exprs.into_iter().flatten() {
        let Some(key) = e.get("key").and_then(Value::as_str) else {
            return false;
        };
        let values: Vec<&str> = e
            .get("values")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let have = labels.get(key).map(String::as_str);
        let ok = match e.get("operator").and_then(Value::as_str) {
            Some("In") => have.is_some_and(|h| values.contains(&h)),
            Some("NotIn") => have.is_none_or(|h| !values.contains(&h)),
            Some("Exists") => have.is_some(),
            Some("DoesNotExist") => have.is_none(),
            _ => false,
        };
        if !ok {
            return false;
        }
    }
    true
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
