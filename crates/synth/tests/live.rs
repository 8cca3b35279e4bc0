//! `--replicas`: the live dump loads into exactly the pods the generator
//! describes, each owned by its workload, with the controllers represented by
//! their pods.

use std::collections::BTreeSet;

use netpol_model::{Cluster, LoadOptions, Source, WorkloadKind, load_sources};
use netpol_synth::{Params, generate, live, to_live_files};

fn load(files: Vec<netpol_synth::File>) -> Cluster {
    let sources: Vec<Source> = files
        .into_iter()
        .map(|f| Source {
            name: f.path.display().to_string(),
            text: f.text,
        })
        .collect();
    load_sources(&sources, &LoadOptions::default())
        .unwrap_or_else(|e| panic!("the live dump does not load:\n{e}"))
}

fn without_origins(mut c: Cluster) -> Cluster {
    for e in &mut c.endpoints {
        e.origin.file = "x".into();
        e.origin.document = 0;
        e.origin.line = 0;
    }
    c
}

#[test]
fn the_live_dump_loads_into_the_generated_pods() {
    for (workloads, replicas, seed) in [(1, 1, 1), (40, 3, 2), (120, 10, 3)] {
        let template = generate(&Params::new(workloads, seed));
        let expected = live(&template, replicas);
        let loaded = load(to_live_files(&template, replicas));
        assert_eq!(loaded.endpoints.len(), workloads * replicas);
        assert_eq!(
            without_origins(loaded.clone()).endpoints,
            without_origins(expected.clone()).endpoints,
            "{workloads} x {replicas}"
        );
        assert_eq!(loaded.workload_of, expected.workload_of);
        assert_eq!(loaded.policies.len(), template.policies.len());
        assert_eq!(loaded.services.len(), template.services.len());
    }
}

#[test]
fn every_pod_is_owned_by_its_workload_and_controllers_are_not_endpoints() {
    let template = generate(&Params::new(200, 4));
    let loaded = load(to_live_files(&template, 4));
    let workloads: BTreeSet<String> = template.endpoints.iter().map(|e| e.id()).collect();
    let mut seen = BTreeSet::new();
    for (i, e) in loaded.endpoints.iter().enumerate() {
        assert_eq!(e.kind, WorkloadKind::Pod, "{}", e.id());
        assert!(!e.may_be_several_pods(), "{}", e.id());
        assert!(!e.ips.is_empty() && e.node.is_some(), "{}", e.id());
        let w = loaded.workload(i);
        assert!(workloads.contains(&w), "{} belongs to unknown {w}", e.id());
        seen.insert(w);
    }
    assert_eq!(seen, workloads, "every workload has pods");
    // Addresses are unique except host-network pods sharing their node's.
    let mut ips = BTreeSet::new();
    for e in loaded.endpoints.iter().filter(|e| !e.host_network) {
        for ip in &e.ips {
            assert!(ips.insert(*ip), "{ip} used twice");
        }
    }
    let represented = loaded
        .notes
        .iter()
        .filter(|n| n.ends_with("is represented by its Pods"))
        .count();
    // Every workload's controller, plus the ReplicaSets and CronJobs' Jobs.
    assert!(represented >= template.endpoints.len(), "{represented}");
    assert!(loaded.notes.iter().any(|n| n.starts_with("ReplicaSet ")));
    assert!(loaded.notes.iter().any(|n| n.starts_with("Job ")));
}

#[test]
fn replicas_of_one_workload_differ_only_in_address_name_and_node() {
    let template = generate(&Params::new(60, 5));
    let pods = live(&template, 5);
    for (wi, w) in template.endpoints.iter().enumerate() {
        let mine: Vec<_> = (0..pods.endpoints.len())
            .filter(|&i| pods.workload(i) == w.id())
            .map(|i| &pods.endpoints[i])
            .collect();
        assert_eq!(mine.len(), 5, "{}", w.id());
        for p in &mine {
            assert_eq!(p.namespace, w.namespace);
            assert_eq!(p.ports, w.ports);
            assert_eq!(p.host_network, w.host_network);
            for (k, v) in &w.labels {
                assert_eq!(p.labels.get(k), Some(v), "{} {k}", p.id());
            }
        }
        // The generated addresses (which ipBlocks are cut around) stay on one pod.
        if !w.ips.is_empty() && !w.host_network {
            assert_eq!(
                mine.iter().filter(|p| p.ips == w.ips).count(),
                1,
                "workload {wi}"
            );
        }
    }
}

/// Pods with every field `kubectl get pods -o yaml` shows are read,
/// strictly, into the same pods as the minimal ones, from YAML and from
/// JSON: the loader's benchmark on them measures the same model in about
/// four times the text.
#[test]
fn kubectl_shaped_pods_load_into_the_same_pods() {
    use netpol_synth::{Format, PodFields, reshape, to_live_files_with};
    let template = generate(&Params::new(120, 3));
    let minimal = to_live_files_with(&template, 10, PodFields::Minimal);
    let kubectl = || to_live_files_with(&template, 10, PodFields::Kubectl);
    let size = |files: &[netpol_synth::File]| files.iter().map(|f| f.text.len()).sum::<usize>();
    assert!(size(&kubectl()) > 3 * size(&minimal));
    let expected = without_origins(load(minimal));
    for format in [Format::Yaml, Format::Json] {
        let loaded = load(reshape(kubectl(), format, false));
        assert_eq!(
            without_origins(loaded.clone()).endpoints,
            expected.endpoints
        );
        assert_eq!(loaded.workload_of, expected.workload_of);
        assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    }
}
