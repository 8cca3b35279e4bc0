//! What the HTML report shows, as one JSON document the page's script reads.

use std::collections::BTreeMap;
use std::fmt::Write;

use netpol_engine::{Engine, Party};
use netpol_model::Direction;
use serde_json::{Value, json};

use crate::grid::{Grid, Node};

/// Explain traces embedded at most: the rest of the cells name the
/// `netpol explain` command instead, so that a large cluster's page stays small.
pub const TRACE_BUDGET: usize = 1500;

/// One finding of lint or verify, flattened for the page.
#[derive(Clone, Debug)]
pub struct Item {
    pub source: &'static str,
    pub severity: String,
    pub title: String,
    pub detail: String,
    pub location: String,
}

pub struct Sources<'a> {
    pub title: String,
    pub inputs: Vec<String>,
    pub lint: Vec<Item>,
    /// `None` without a flows file.
    pub verify: Option<Vec<Item>>,
    pub engine: &'a Engine<'a>,
}

/// The JSON text: the large arrays (pairs, edges) are written as text
/// directly, a million pairs being too many for `serde_json::Value`s.
pub fn build(grid: &Grid, src: &Sources) -> String {
    let cluster = grid.cluster;
    // The page draws its graph from the pairs: the graph's port labels
    // would double the page for a large cluster.
    let (vertices, _, _) = grid.vertices();
    let index_of = |id: &str| vertices.binary_search_by(|v| v.id.as_str().cmp(id)).ok();
    let mut members: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for i in 0..cluster.endpoints.len() {
        members.entry(cluster.workload(i)).or_default().push(i);
    }
    let party_of = |id: &str| -> Option<(Party, Node)> {
        if let Some(ms) = members.get(id) {
            let i = ms[0];
            return Some((Party::Endpoint(i), Node::Endpoint(i)));
        }
        grid.externals.iter().position(|e| e.label == id).map(|x| {
            (
                Party::External(grid.externals[x].address),
                Node::External(x),
            )
        })
    };
    let mut pairs: Vec<(usize, usize, usize, usize)> = Vec::new();
    let _ = grid.for_each_pair(|p| {
        if let (Some(s), Some(d)) = (index_of(p.src), index_of(p.dst)) {
            pairs.push((s, d, p.allowed, p.connections));
        }
        Ok::<(), ()>(())
    });
    // Denied and partly allowed pairs first: their traces are the ones read.
    let mut order: Vec<usize> = (0..pairs.len()).collect();
    order.sort_by_key(|&k| (pairs[k].2 == pairs[k].3, k));
    let mut traces: BTreeMap<usize, Vec<Value>> = BTreeMap::new();
    let mut budget = TRACE_BUDGET;
    for k in order {
        let (s, d, _, _) = pairs[k];
        let (Some((sp, _)), Some((dp, dn))) =
            (party_of(&vertices[s].id), party_of(&vertices[d].id))
        else {
            continue;
        };
        let ports = grid.ports(dn);
        if ports.len() > budget {
            break;
        }
        budget -= ports.len();
        let list = ports
            .iter()
            .map(|&(port, protocol)| {
                serde_json::to_value(src.engine.verdict(sp, dp, port, protocol))
                    .expect("verdicts serialize")
            })
            .collect();
        traces.insert(k, list);
    }
    let vertices: Vec<Value> = vertices
        .iter()
        .map(|v| {
            let (address, example) = match party_of(&v.id) {
                Some((Party::External(ip), _)) => (Some(ip.to_string()), None),
                Some((Party::Endpoint(i), _)) => (None, Some(cluster.endpoints[i].id())),
                None => (None, None),
            };
            json!({"id": v.id, "ns": v.namespace, "label": v.label,
                   "address": address, "pod": example,
                   "pods": members.get(&v.id).map_or(0, Vec::len)})
        })
        .collect();
    // Flat (source, destination, allowed, connections) quadruples: a
    // thousand workloads make a million pairs, and objects would triple the page.
    let mut pairs_json = String::from("[");
    for (k, &(s, d, a, c)) in pairs.iter().enumerate() {
        if k > 0 {
            pairs_json.push(',');
        }
        let _ = write!(pairs_json, "{s},{d},{a},{c}");
    }
    pairs_json.push(']');
    let traces_json: BTreeMap<String, Vec<Value>> = traces
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    let item = |i: &Item| {
        json!({"source": i.source, "severity": i.severity, "title": i.title,
               "detail": i.detail, "location": i.location})
    };
    let head = json!({
        "title": src.title,
        "inputs": src.inputs,
        "summary": summary(grid, src.engine, &pairs),
        "vertices": vertices,
        "traces": traces_json,
        "traceBudget": TRACE_BUDGET,
        "lint": src.lint.iter().map(item).collect::<Vec<_>>(),
        "verify": src.verify.as_ref().map(|v| v.iter().map(item).collect::<Vec<_>>()),
    });
    let mut text = serde_json::to_string(&head).expect("report data serializes");
    text.pop(); // the closing brace
    let _ = write!(text, ",\"pairs\":{pairs_json}}}");
    text
}

fn summary(grid: &Grid, engine: &Engine, pairs: &[(usize, usize, usize, usize)]) -> Value {
    let cluster = grid.cluster;
    let mut namespaces: BTreeMap<&str, [usize; 5]> = BTreeMap::new();
    for ns in cluster.namespaces.keys() {
        namespaces.insert(ns, [0; 5]);
    }
    let mut workloads: BTreeMap<&str, ()> = BTreeMap::new();
    let names: Vec<String> = (0..cluster.endpoints.len())
        .map(|i| cluster.workload(i))
        .collect();
    for (i, e) in cluster.endpoints.iter().enumerate() {
        let row = namespaces.entry(&e.namespace).or_default();
        if workloads.insert(&names[i], ()).is_none() {
            row[0] += 1;
        }
        row[1] += 1;
        row[2] += usize::from(!engine.policies_selecting(i, Direction::Ingress).is_empty());
        row[3] += usize::from(!engine.policies_selecting(i, Direction::Egress).is_empty());
    }
    for p in &cluster.policies {
        namespaces.entry(&p.namespace).or_default()[4] += 1;
    }
    let connections: usize = pairs.iter().map(|p| p.3).sum();
    let allowed: usize = pairs.iter().map(|p| p.2).sum();
    json!({
        "namespaces": namespaces.iter().map(|(ns, r)| json!({
            "name": ns, "workloads": r[0], "endpoints": r[1],
            "isolatedIngress": r[2], "isolatedEgress": r[3], "policies": r[4],
        })).collect::<Vec<_>>(),
        "workloads": workloads.len(),
        "endpoints": cluster.endpoints.len(),
        "policies": cluster.policies.len(),
        "externals": grid.externals.iter().map(|e| json!({"label": e.label, "address": e.address.to_string()})).collect::<Vec<_>>(),
        "connections": connections,
        "allowed": allowed,
    })
}
