//! The published JSON Schema is the one the Rust types generate, and the
//! example flows file is valid.

use std::path::PathBuf;

fn repo() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

#[test]
fn committed_schema_is_the_generated_one() {
    let path = repo().join("schema/flows.schema.json");
    let generated = netpol_flows::json_schema();
    if std::env::var_os("NETPOL_UPDATE_SCHEMA").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    // Compared as JSON values: key order may follow serde_json's features.
    let value = |s: &str| serde_json::from_str::<serde_json::Value>(s).ok();
    assert!(
        committed == generated
            || (value(&committed).is_some() && value(&committed) == value(&generated)),
        "schema/flows.schema.json is stale: run NETPOL_UPDATE_SCHEMA=1 cargo test -p netpol-flows --test schema"
    );
}

#[test]
fn schema_describes_the_fields() {
    let schema: serde_json::Value = serde_json::from_str(&netpol_flows::json_schema()).unwrap();
    let props = &schema["properties"];
    for field in [
        "defaultDeny",
        "allowDns",
        "unmanagedNamespaces",
        "cluster",
        "flows",
    ] {
        assert!(props.get(field).is_some(), "{field} missing from {props}");
    }
    assert_eq!(schema["required"], serde_json::json!(["flows"]));
    let text = schema.to_string();
    assert!(text.contains("ingress+egress"));
    assert!(text.contains("podCIDRs"));
}

#[test]
fn homelab_example_parses() {
    let path = repo().join("examples/homelab/flows.yaml");
    let flows = netpol_flows::read_flows(&path).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(flows.flows.len(), 9);
    assert_eq!(
        flows.flows[8].from,
        netpol_flows::EndpointSpec::KubeApiserver
    );
    assert_eq!(
        flows.flows[0].from,
        netpol_flows::EndpointSpec::Namespace("ingress-nginx".into())
    );
    assert_eq!(flows.flows[0].ports, vec![netpol_flows::PortSpec::Service]);
}
