//! The model's one label-selector matcher, on selectors read from JSON the
//! way discovery reads monitors and Prometheus resources.

use netpol_model::{LabelSelector, Labels};
use serde_json::json;

fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn matches(selector: serde_json::Value, l: &Labels) -> bool {
    LabelSelector::from_json(&selector).is_some_and(|s| s.matches(l))
}

#[test]
fn json_selectors_match_as_kubernetes_does() {
    let l = labels(&[("app", "web")]);
    assert!(matches(json!({}), &l));
    assert!(matches(json!({"matchLabels": {"app": "web"}}), &l));
    assert!(!matches(json!({"matchLabels": {"app": "db"}}), &l));
    assert!(matches(
        json!({"matchExpressions": [{"key": "app", "operator": "In", "values": ["web", "x"]}]}),
        &l
    ));
    assert!(!matches(
        json!({"matchExpressions": [{"key": "tier", "operator": "Exists"}]}),
        &l
    ));
    assert!(matches(
        json!({"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["a"]}]}),
        &l
    ));
    assert!(matches(
        json!({"matchExpressions": [{"key": "tier", "operator": "DoesNotExist"}]}),
        &l
    ));
    assert!(!matches(
        json!({"matchLabels": {"app": "web"}, "matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["web"]}]}),
        &l
    ));
}

#[test]
fn malformed_selectors_select_nothing() {
    let l = labels(&[("app", "web")]);
    assert_eq!(LabelSelector::from_json(&serde_json::Value::Null), None);
    assert!(!matches(json!("app=web"), &l));
    // An operator Kubernetes rejects, a requirement without its key.
    assert!(!matches(
        json!({"matchExpressions": [{"key": "app", "operator": "Equals", "values": ["web"]}]}),
        &l
    ));
    assert!(!matches(
        json!({"matchExpressions": [{"operator": "Exists"}]}),
        &l
    ));
    // A label value that is no string cannot equal one.
    assert!(!matches(json!({"matchLabels": {"app": 1}}), &l));
}
