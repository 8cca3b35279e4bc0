//! What the HTML report shows, as one JSON document the page's script reads.

use std::collections::{BTreeMap, HashMap};
use std::io::{self, Write};

use netpol_engine::{Classes, Engine, Party, Restricted};
use netpol_model::Direction;
use serde_json::{Value, json};

use crate::grid::{Grid, Node};
use crate::render::report::by_namespace::{By, NamespacePairs, PAIR_LIMIT};
use crate::render::report::picker::TracePicker;
use crate::render::report::script_safe;

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
    /// The engine over the classes: which policies select a pod is its
    /// class's answer.
    pub by_class: &'a Engine<'a>,
    pub classes: &'a Classes,
}

/// One pair of workloads (or external peers) the page shows: vertex
/// indexes, allowed connections, connections.
type PagePair = (u32, u32, usize, usize);

/// Writes the JSON text, drawn `by` workload or namespace. The pairs (a
/// thousand workloads make a million, 150,000 pods two hundred million) are
/// never held: a first pass over them sums them and picks the traced ones,
/// a second writes them. Drawn by namespace, the first pass also sums them
/// per pair of namespaces, and those sums are the page's pairs.
pub fn write<W: Write + ?Sized>(grid: &Grid, src: &Sources, by: By, out: &mut W) -> io::Result<()> {
    let cluster = grid.cluster;
    // The page draws its graph from the pairs: the graph's port labels
    // would double the page for a large cluster.
    let (vertices, _, _) = grid.vertices();
    let vertex_of: HashMap<&str, u32, foldhash::fast::RandomState> = vertices
        .iter()
        .enumerate()
        .map(|(i, v)| (v.id.as_str(), i as u32))
        .collect();
    let each_pair = |f: &mut dyn FnMut(PagePair)| {
        // A row's pairs share their source.
        let mut source: Option<(*const str, Option<u32>)> = None;
        let _ = grid.for_each_pair(|p| {
            let s = match source {
                Some((name, s)) if std::ptr::eq(name, p.src) => s,
                _ => {
                    let s = vertex_of.get(p.src).copied();
                    source = Some((p.src, s));
                    s
                }
            };
            if let (Some(s), Some(&d)) = (s, vertex_of.get(p.dst)) {
                f((s, d, p.allowed, p.connections));
            }
            Ok::<(), ()>(())
        });
    };
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
    let mut totals = (0, 0);
    let mut picker = TracePicker::default();
    let trace = by != By::Namespace;
    let mut by_ns = by
        .may_be_namespace(vertices.len())
        .then(|| NamespacePairs::new(&vertices));
    let mut k = 0;
    each_pair(&mut |(s, d, allowed, connections)| {
        totals.0 += connections;
        totals.1 += allowed;
        let partial = allowed < connections;
        if trace && picker.wants(partial) {
            if let (Some((sp, _)), Some((dp, dn))) = (
                party_of(&vertices[s as usize].id),
                party_of(&vertices[d as usize].id),
            ) {
                let ports = grid.ports(dn);
                picker.offer(partial, ports.len(), (k, sp, dp, ports));
            }
        }
        if let Some(by_ns) = &mut by_ns {
            by_ns.add(s, d, allowed, connections);
        }
        k += 1;
    });
    let workload_pairs = k;
    let by_ns = match by.resolve(workload_pairs) {
        By::Namespace => by_ns,
        _ => None,
    };
    let traces = match by_ns {
        Some(_) => BTreeMap::new(),
        None => traces(cluster, picker.picked()),
    };
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
    let vertices = match &by_ns {
        Some(by_ns) => namespace_vertices(&vertices, by_ns.members()),
        None => vertices,
    };
    let item = |i: &Item| {
        json!({"source": i.source, "severity": i.severity, "title": i.title,
               "detail": i.detail, "location": i.location})
    };
    let traces_json: BTreeMap<String, Vec<Value>> = traces
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    let head = json!({
        "title": src.title,
        "inputs": src.inputs,
        "summary": summary(grid, src, totals),
        "by": if by_ns.is_some() { "namespace" } else { "workload" },
        "workloadPairs": workload_pairs,
        "pairLimit": PAIR_LIMIT,
        "vertices": vertices,
        "traces": traces_json,
        "traceBudget": TRACE_BUDGET,
        "lint": src.lint.iter().map(item).collect::<Vec<_>>(),
        "verify": src.verify.as_ref().map(|v| v.iter().map(item).collect::<Vec<_>>()),
    });
    let mut text = serde_json::to_string(&head).expect("report data serializes");
    text.pop(); // the closing brace
    out.write_all(script_safe(&text).as_bytes())?;
    // Flat (source, destination, allowed, connections) quadruples: objects
    // would triple the page. Digits and commas need no escaping.
    out.write_all(b",\"pairs\":[")?;
    let mut result = Ok(());
    let mut first = true;
    let mut buffer = itoa::Buffer::new();
    let mut put_pair = |(s, d, a, c): PagePair| {
        if result.is_err() {
            return;
        }
        let mut put = |n: usize, sep: &[u8]| {
            out.write_all(sep)?;
            out.write_all(buffer.format(n).as_bytes())
        };
        result = (|| {
            put(s as usize, if first { b"" } else { b"," })?;
            put(d as usize, b",")?;
            put(a, b",")?;
            put(c, b",")
        })();
        first = false;
    };
    match by_ns {
        Some(by_ns) => by_ns.pairs().into_iter().for_each(put_pair),
        None => each_pair(&mut put_pair),
    }
    result?;
    out.write_all(b"]}")
}

/// A pair picked for a trace: its index among the pairs, one party of
/// each side, the destination's ports.
type Traced = (usize, Party, Party, Vec<(u16, netpol_model::Protocol)>);

/// The picked pairs' traces, by pair: a verdict per port. A verdict reads
/// its two endpoints only: the engine is compiled over the traced ones,
/// not every pod.
fn traces(cluster: &netpol_model::Cluster, traced: Vec<Traced>) -> BTreeMap<usize, Vec<Value>> {
    let restricted = Restricted::new(
        cluster,
        traced
            .iter()
            .flat_map(|(_, s, d, _)| [*s, *d])
            .filter_map(|p| match p {
                Party::Endpoint(i) => Some(i),
                Party::External(_) => None,
            }),
    );
    let engine = Engine::new(&restricted.cluster);
    traced
        .into_iter()
        .map(|(k, sp, dp, ports)| {
            let (sp, dp) = (restricted.party(sp), restricted.party(dp));
            let list = ports
                .iter()
                .map(|&(port, protocol)| {
                    serde_json::to_value(engine.verdict(sp, dp, port, protocol))
                        .expect("verdicts serialize")
                })
                .collect();
            (k, list)
        })
        .collect()
}

/// A vertex per namespace (its workloads and pods counted), `namespace/NAME`,
/// then the external peers' own vertices.
fn namespace_vertices(workloads: &[Value], members: &[Vec<u32>]) -> Vec<Value> {
    members
        .iter()
        .map(|m| {
            let first = &workloads[m[0] as usize];
            if first["ns"].is_null() {
                return first.clone();
            }
            let pods: u64 = m
                .iter()
                .map(|&w| workloads[w as usize]["pods"].as_u64().unwrap_or(0))
                .sum();
            // As `kubectl get namespaces -o name` names it: a namespace
            // may be called `external`, like the lone external peer.
            let ns = first["ns"].as_str().unwrap_or_default();
            json!({"id": format!("namespace/{ns}"), "ns": ns, "label": ns,
                   "address": null, "pod": null, "pods": pods, "workloads": m.len()})
        })
        .collect()
}

/// `totals`: the pairs' connections and allowed connections.
fn summary(grid: &Grid, src: &Sources, totals: (usize, usize)) -> Value {
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
        let class = src.classes.class_of[i] as usize;
        let isolated = |d| !src.by_class.policies_selecting(class, d).is_empty();
        row[2] += usize::from(isolated(Direction::Ingress));
        row[3] += usize::from(isolated(Direction::Egress));
    }
    for p in &cluster.policies {
        namespaces.entry(&p.namespace).or_default()[4] += 1;
    }
    let (connections, allowed) = totals;
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
