//! The shape of a flows file, read field by field: serde stops at the first
//! problem of a document, and a file with five mistakes should say five
//! things at once, as manifests do. Each field is still deserialized by the
//! serde types of `file` (so messages and the JSON Schema agree); only the
//! walk over mappings is done here.

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::file::{ApiServer, ClusterSettings, Flow, FlowsFile};

/// A problem at a field path (`flows[2].ports[1]`; empty for the document).
pub(crate) struct ShapeError {
    pub path: String,
    pub message: String,
}

/// The file's settings (with no flows) and the flows that have the right
/// shape, each with its index in the file.
pub(crate) struct Shaped {
    pub file: FlowsFile,
    pub flows: Vec<(usize, Flow)>,
}

const TOP: &[&str] = &[
    "defaultDeny",
    "allowDns",
    "unmanagedNamespaces",
    "cluster",
    "flows",
    "guardrails",
];
const CLUSTER: &[&str] = &["podCIDRs", "serviceCIDRs", "nodeCIDRs", "apiserver"];
const APISERVER: &[&str] = &["addresses", "port"];
const FLOW: &[&str] = &["from", "to", "ports", "purpose", "name"];
const FLOW_REQUIRED: &[&str] = &["from", "to", "ports", "purpose"];

#[derive(Default)]
struct Walk {
    errors: Vec<ShapeError>,
}

/// `path` and a path inside it, as serde_path_to_error spells them.
fn join(path: &str, inner: &str) -> String {
    match inner {
        "" | "." => path.to_string(),
        i if i.starts_with('[') || path.is_empty() => format!("{path}{i}"),
        i => format!("{path}.{i}"),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a sequence",
        Value::Object(_) => "a mapping",
    }
}

impl Walk {
    fn error(&mut self, path: String, message: String) {
        self.errors.push(ShapeError { path, message });
    }

    /// The mapping at `path`, with unknown and missing fields reported.
    fn mapping<'v>(
        &mut self,
        v: &'v Value,
        path: &str,
        known: &[&str],
        required: &[&str],
    ) -> Option<&'v Map<String, Value>> {
        let Value::Object(map) = v else {
            self.error(
                path.to_string(),
                format!("invalid type: {}, expected a mapping", kind(v)),
            );
            return None;
        };
        for key in map.keys().filter(|k| !known.contains(&k.as_str())) {
            let expected: Vec<String> = known.iter().map(|k| format!("`{k}`")).collect();
            self.error(
                join(path, key),
                format!(
                    "unknown field `{key}`, expected one of {}",
                    expected.join(", ")
                ),
            );
        }
        let mut complete = true;
        for key in required.iter().filter(|k| !map.contains_key(**k)) {
            self.error(path.to_string(), format!("missing field `{key}`"));
            complete = false;
        }
        complete.then_some(map)
    }

    /// The field `key` of `map`: `Ok(None)` when absent, `Err` when malformed (reported).
    fn field<T: DeserializeOwned>(
        &mut self,
        map: &Map<String, Value>,
        path: &str,
        key: &str,
    ) -> Result<Option<T>, ()> {
        let Some(v) = map.get(key) else {
            return Ok(None);
        };
        serde_path_to_error::deserialize(v).map(Some).map_err(|e| {
            let at = join(&join(path, key), &e.path().to_string());
            self.error(at, e.into_inner().to_string());
        })
    }

    /// A field with a default: malformed ones are reported and read as the default.
    fn or_default<T: DeserializeOwned>(
        &mut self,
        map: &Map<String, Value>,
        path: &str,
        key: &str,
        default: T,
    ) -> T {
        self.field(map, path, key).ok().flatten().unwrap_or(default)
    }

    fn cluster(&mut self, v: Option<&Value>) -> ClusterSettings {
        let mut settings = ClusterSettings::default();
        let Some(map) = v.and_then(|v| self.mapping(v, "cluster", CLUSTER, &[])) else {
            return settings;
        };
        let p = "cluster";
        settings.pod_cidrs = self.or_default(map, p, "podCIDRs", settings.pod_cidrs);
        settings.service_cidrs = self.or_default(map, p, "serviceCIDRs", settings.service_cidrs);
        settings.node_cidrs = self.or_default(map, p, "nodeCIDRs", settings.node_cidrs);
        let p = "cluster.apiserver";
        if let Some(api) = map
            .get("apiserver")
            .and_then(|v| self.mapping(v, p, APISERVER, &[]))
        {
            let default = ApiServer::default();
            settings.apiserver = ApiServer {
                addresses: self.or_default(api, p, "addresses", default.addresses),
                port: self.or_default(api, p, "port", default.port),
            };
        }
        settings
    }

    fn flow(&mut self, v: &Value, path: &str) -> Option<Flow> {
        let map = self.mapping(v, path, FLOW, FLOW_REQUIRED);
        // Every field is read, so that all of its problems are reported.
        let map = map.or(v.as_object())?;
        let from = self.field(map, path, "from");
        let to = self.field(map, path, "to");
        let ports = self.field(map, path, "ports");
        let purpose = self.field(map, path, "purpose");
        let name = self.field(map, path, "name");
        Some(Flow {
            from: from.ok()??,
            to: to.ok()??,
            ports: ports.ok()??,
            purpose: purpose.ok()??,
            name: name.ok()?,
        })
    }
}

/// The file as far as its shape is right, and every problem with its shape.
/// `None` when the document is not even a mapping.
pub(crate) fn shape(doc: &Value) -> (Option<Shaped>, Vec<ShapeError>) {
    let mut w = Walk::default();
    let Some(top) = w.mapping(doc, "", TOP, &[]) else {
        return (None, w.errors);
    };
    let file = FlowsFile {
        default_deny: w.or_default(top, "", "defaultDeny", Default::default()),
        allow_dns: w.or_default(top, "", "allowDns", true),
        unmanaged_namespaces: w.or_default(top, "", "unmanagedNamespaces", Vec::new()),
        cluster: w.cluster(top.get("cluster")),
        flows: Vec::new(),
        guardrails: w.field(top, "", "guardrails").ok().flatten(),
    };
    let mut flows = Vec::new();
    match top.get("flows") {
        None => w.error(String::new(), "missing field `flows`".into()),
        Some(Value::Array(items)) => {
            for (i, v) in items.iter().enumerate() {
                if let Some(flow) = w.flow(v, &format!("flows[{i}]")) {
                    flows.push((i, flow));
                }
            }
        }
        Some(other) => w.error(
            "flows".into(),
            format!("invalid type: {}, expected a sequence", kind(other)),
        ),
    }
    (Some(Shaped { file, flows }), w.errors)
}
