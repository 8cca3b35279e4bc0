//! `netpol-synth --output-format json` and `--single-file` write the same
//! objects: loading any shape gives the same cluster, only where each
//! object starts differs.

use netpol_model::{Cluster, LoadOptions, Source, load_sources};
use netpol_synth::{File, Format, Params, generate, reshape, to_live_files};
use serde_json::Value;

fn load(files: &[File]) -> Cluster {
    let sources: Vec<Source> = files
        .iter()
        .map(|f| Source {
            name: f.path.display().to_string(),
            text: f.text.clone(),
        })
        .collect();
    load_sources(&sources, &LoadOptions::default()).expect("synth output loads")
}

/// The cluster as JSON, every `origin` and `line` taken out into a list of its own.
fn split_origins(c: &Cluster) -> (Value, Vec<Value>) {
    fn walk(v: &mut Value, out: &mut Vec<Value>) {
        match v {
            Value::Object(m) => {
                // Rules carry their own line.
                if let Some(o) = m.remove("origin") {
                    out.push(o);
                }
                if let Some(line) = m.remove("line") {
                    out.push(serde_json::json!({ "line": line }));
                }
                m.values_mut().for_each(|x| walk(x, out));
            }
            Value::Array(a) => a.iter_mut().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    let mut v = serde_json::to_value(c).unwrap();
    let mut origins = Vec::new();
    walk(&mut v, &mut origins);
    (v, origins)
}

/// The first place where `a` and `b` differ, for a readable failure.
fn first_difference(a: &Value, b: &Value, path: &str) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for k in x.keys().chain(y.keys()) {
                let (p, q) = (
                    x.get(k).unwrap_or(&Value::Null),
                    y.get(k).unwrap_or(&Value::Null),
                );
                if let Some(d) = first_difference(p, q, &format!("{path}.{k}")) {
                    return Some(d);
                }
            }
            None
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (p, q))| first_difference(p, q, &format!("{path}[{i}]"))),
        _ => (a != b).then(|| format!("{path}: {a} != {b}")),
    }
}

fn live_files() -> Vec<File> {
    // 60 workloads x 10: one namespace's pods List and the single List
    // both exceed the loader's parallel chunk of List items.
    let cluster = generate(&Params::new(60, 3));
    to_live_files(&cluster, 10)
}

#[test]
fn every_shape_loads_to_the_same_cluster() {
    let files = live_files();
    let (base, origins) = split_origins(&load(&files));
    assert!(base["endpoints"].as_array().unwrap().len() >= 600);
    for (format, single) in [
        (Format::Json, false),
        (Format::Yaml, true),
        (Format::Json, true),
    ] {
        let shaped = reshape(live_files(), format, single);
        if single {
            assert_eq!(shaped.len(), 1);
        } else {
            assert_eq!(shaped.len(), files.len());
        }
        let (v, o) = split_origins(&load(&shaped));
        assert_eq!(
            first_difference(&v, &base, ""),
            None,
            "{format:?} single={single}"
        );
        assert_eq!(o.len(), origins.len());
    }
}

#[test]
fn json_lines_are_the_yaml_parsers_lines() {
    // The same JSON text through the JSON path and, behind a comment line
    // that makes it YAML, through the YAML parser: every origin is one line
    // further down there, and nothing else differs.
    let json = reshape(live_files(), Format::Json, true);
    let fast = load(&json);
    let yaml = vec![File {
        path: json[0].path.clone(),
        text: format!("# as YAML\n{}", json[0].text),
    }];
    let slow = load(&yaml);
    let (a, oa) = split_origins(&fast);
    let (b, ob) = split_origins(&slow);
    assert_eq!(first_difference(&a, &b, ""), None);
    assert!(oa.len() > 600);
    for (x, y) in oa.iter().zip(&ob) {
        assert_eq!(
            x["line"].as_u64().unwrap() + 1,
            y["line"].as_u64().unwrap(),
            "{x} {y}"
        );
        assert!(x["line"].as_u64().unwrap() > 1);
    }
}
