//! `matrix -o dot|mermaid`: valid Graphviz and Mermaid, with the edges the
//! matrix allows.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Command, Stdio};

use support::{json, netpol};

/// (src, dst) -> ports allowed over every pod pair, from `matrix -o json`,
/// for fixtures whose endpoints are their own workloads.
fn allowed_pairs(dir: &str) -> BTreeMap<(String, String), BTreeSet<String>> {
    let v = json(&netpol(&["matrix", dir, "-o", "json"]));
    let mut pairs: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    for c in v["connections"].as_array().unwrap() {
        let (src, dst) = (c["src"].as_str().unwrap(), c["dst"].as_str().unwrap());
        if src != dst && c["allowed"] == true {
            pairs
                .entry((src.to_string(), dst.to_string()))
                .or_default()
                .insert(format!("{}/{}", c["port"], c["protocol"].as_str().unwrap()));
        }
    }
    pairs
}

/// (source, destination, label, dashed).
type Edge = (String, String, String, bool);

/// The edges of our DOT output: `"a" -> "b" [label="..."...]`, dashed or not.
fn dot_edges(dot: &str) -> Vec<(String, String, String, bool)> {
    dot.lines()
        .filter(|l| l.contains(" -> "))
        .map(|l| {
            let q: Vec<&str> = l.split('"').collect();
            (
                q[1].to_string(),
                q[3].to_string(),
                q[5].to_string(),
                l.contains("style=dashed"),
            )
        })
        .collect()
}

#[test]
fn dot_edges_are_the_allowed_pairs_of_the_matrix() {
    for dir in ["engine", "external"] {
        let run = netpol(&["matrix", dir, "-o", "dot"]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let got: BTreeMap<(String, String), BTreeSet<String>> = dot_edges(&run.stdout)
            .into_iter()
            .map(|(s, d, label, dashed)| {
                assert!(!dashed, "no denied edge without --show-denied");
                ((s, d), label.split(' ').map(String::from).collect())
            })
            .collect();
        assert_eq!(got, allowed_pairs(dir), "{dir}:\n{}", run.stdout);
    }
}

#[test]
fn show_denied_adds_dashed_edges_for_the_denied_ports() {
    let run = netpol(&["matrix", "engine", "-o", "dot", "--show-denied"]);
    let edges = dot_edges(&run.stdout);
    let denied: BTreeSet<(String, String, String)> = edges
        .iter()
        .filter(|e| e.3)
        .map(|e| (e.0.clone(), e.1.clone(), e.2.clone()))
        .collect();
    // web/frontend may reach api/server on 9000 only: 9100 is denied.
    assert!(denied.contains(&(
        "web/frontend".into(),
        "api/server".into(),
        "denied 9100/TCP".into()
    )));
    assert!(
        edges
            .iter()
            .any(|e| e.0 == "web/frontend" && e.1 == "api/server" && !e.3 && e.2 == "9000/TCP")
    );
    // Every denied port of the JSON is on a dashed edge.
    let v = json(&netpol(&["matrix", "engine", "-o", "json"]));
    for c in v["connections"].as_array().unwrap() {
        let (src, dst) = (c["src"].as_str().unwrap(), c["dst"].as_str().unwrap());
        if src == dst || c["allowed"] == true {
            continue;
        }
        let port = format!("{}/{}", c["port"], c["protocol"].as_str().unwrap());
        assert!(
            denied
                .iter()
                .any(|(s, d, l)| s == src && d == dst && l.split(' ').any(|p| p == port)),
            "{src} -> {dst} {port} denied but not drawn"
        );
    }
    insta::assert_snapshot!(run.stdout);
}

/// Graphviz itself reads the output. Required in CI (scripts/test installs
/// Debian's graphviz), skipped with a note elsewhere when `dot` is missing.
#[test]
fn graphviz_renders_the_dot_output() {
    let available = Command::new("dot")
        .arg("-V")
        .stderr(Stdio::null())
        .status()
        .is_ok();
    if !available {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true: Graphviz's dot is required (scripts/test installs it)"
        );
        eprintln!("skipped: no `dot` on PATH (apt-get install graphviz)");
        return;
    }
    let mut inputs: Vec<Vec<String>> = ["engine", "external", "families"]
        .iter()
        .map(|d| vec![d.to_string(), "--show-denied".to_string()])
        .collect();
    // The real homelab under the example's generated policies, two
    // namespaces of it: Graphviz takes minutes over the whole cluster.
    if let Some(homelab) = netpol_testdata::shared("realcases/homelab/manifests") {
        let generated = support::fixtures().join("../../../../examples/homelab/generated");
        inputs.push(
            [
                homelab.to_str().unwrap(),
                generated.to_str().unwrap(),
                "--namespace-filter",
                "argo-cd",
                "--namespace-filter",
                "monitoring",
            ]
            .map(String::from)
            .to_vec(),
        );
    }
    for input in inputs {
        let mut args = vec!["matrix", "-o", "dot"];
        args.extend(input.iter().map(String::as_str));
        let dir = &input[0];
        let run = netpol(&args);
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert!(run.stdout.contains(" -> "), "{dir}: some edge");
        let mut child = Command::new("dot")
            .arg("-Tsvg")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(run.stdout.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && stderr.trim().is_empty(),
            "{dir}: dot says {stderr}\n{}",
            run.stdout
        );
        let svg = String::from_utf8(out.stdout).unwrap();
        assert!(svg.contains("<svg"), "{svg}");
        // Every edge's label made it into the picture.
        for (_, _, label, _) in dot_edges(&run.stdout) {
            assert!(svg.contains(&label), "{dir}: no {label} in the SVG");
        }
    }
}

/// A structural reading of the Mermaid flowchart syntax we write: the
/// header, balanced subgraphs, node declarations with quoted labels and no
/// raw quote inside, and edges between declared nodes only.
fn parse_mermaid(text: &str) -> (BTreeMap<String, String>, Vec<Edge>) {
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("flowchart LR"));
    let quoted = |s: &str| -> String {
        assert!(
            s.starts_with('"') && s.ends_with('"') && s.len() >= 2,
            "unquoted label {s:?}"
        );
        let inner = &s[1..s.len() - 1];
        assert!(!inner.contains('"'), "raw quote in {s:?}");
        assert!(
            !inner.contains('|') && !inner.contains('<'),
            "markup in {s:?}"
        );
        inner.to_string()
    };
    let is_id = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric());
    let mut nodes = BTreeMap::new();
    let mut edges = Vec::new();
    let mut depth = 0;
    let mut subgraphs = BTreeSet::new();
    for line in lines {
        let l = line.trim();
        if let Some(rest) = l.strip_prefix("subgraph ") {
            let (id, label) = rest.split_once('[').expect("subgraph id[label]");
            assert!(
                is_id(id) && subgraphs.insert(id.to_string()),
                "subgraph id {id}"
            );
            quoted(label.strip_suffix(']').unwrap());
            depth += 1;
        } else if l == "end" {
            depth -= 1;
            assert!(depth >= 0, "end without subgraph");
        } else if l.starts_with("linkStyle ") {
            let list = l.split(' ').nth(1).unwrap();
            for i in list.split(',') {
                assert!(i.parse::<usize>().unwrap() < edges.len());
            }
        } else if let Some((src, rest)) = l.split_once(" -->|").or_else(|| l.split_once(" -.->|")) {
            let dashed = l.contains(" -.->|");
            let (label, dst) = rest.rsplit_once("| ").expect("edge label closed");
            let label = quoted(label);
            assert!(is_id(src) && is_id(dst), "edge ids {l}");
            edges.push((src.to_string(), dst.to_string(), label, dashed));
        } else {
            let open = l.find(['[', '(']).expect("node declaration");
            let (id, shape) = l.split_at(open);
            assert!(is_id(id), "node id {id}");
            let label = shape
                .strip_prefix("((")
                .and_then(|s| s.strip_suffix("))"))
                .or_else(|| shape.strip_prefix('[').and_then(|s| s.strip_suffix(']')))
                .expect("node shape");
            assert!(
                nodes.insert(id.to_string(), quoted(label)).is_none(),
                "{id} twice"
            );
        }
    }
    assert_eq!(depth, 0, "unclosed subgraph");
    for (s, d, _, _) in &edges {
        assert!(
            nodes.contains_key(s) && nodes.contains_key(d),
            "edge {s} -> {d} to an undeclared node"
        );
    }
    (nodes, edges)
}

#[test]
fn mermaid_is_well_formed_and_has_the_dot_edges() {
    for dir in ["engine", "external", "families"] {
        let mermaid = netpol(&["matrix", dir, "-o", "mermaid", "--show-denied"]);
        assert_eq!(mermaid.code, 0, "{}", mermaid.stderr);
        let (nodes, edges) = parse_mermaid(&mermaid.stdout);
        let dot = netpol(&["matrix", dir, "-o", "dot", "--show-denied"]);
        let dot_labels: BTreeMap<String, String> = dot
            .stdout
            .lines()
            .filter(|l| {
                l.contains("[label=") && !l.contains(" -> ") && l.trim_start().starts_with('"')
            })
            .map(|l| {
                let q: Vec<&str> = l.split('"').collect();
                (q[1].to_string(), q[3].to_string())
            })
            .collect();
        // Same edges, same labels, once the generated ids are mapped back.
        let id_of = |node: &str| {
            let label = &nodes[node];
            let matches: Vec<&String> = dot_labels
                .iter()
                .filter(|(_, l)| *l == label)
                .map(|(id, _)| id)
                .collect();
            assert_eq!(matches.len(), 1, "{label} names one vertex in {dir}");
            matches[0].clone()
        };
        let from_mermaid: BTreeSet<(String, String, String, bool)> = edges
            .iter()
            .map(|(s, d, l, dashed)| (id_of(s), id_of(d), l.clone(), *dashed))
            .collect();
        let from_dot: BTreeSet<(String, String, String, bool)> =
            dot_edges(&dot.stdout).into_iter().collect();
        assert_eq!(from_mermaid, from_dot, "{dir}");
    }
    insta::assert_snapshot!(netpol(&["matrix", "engine", "-o", "mermaid"]).stdout);
}

#[test]
fn the_graph_groups_pods_under_their_workload() {
    let run = netpol(&["matrix", "replicas", "-o", "dot", "--no-external"]);
    let vertices: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.trim_start().starts_with('"') && !l.contains(" -> "))
        .map(|l| l.split('"').nth(1).unwrap())
        .collect();
    assert_eq!(vertices, ["shop/api", "shop/web"], "{}", run.stdout);
}
