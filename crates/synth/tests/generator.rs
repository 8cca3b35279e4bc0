//! The generator is deterministic, covers every construct, and its YAML loads
//! back into exactly the cluster it was written from.

use netpol_model::{Cluster, LoadOptions, Operator, Peer, PortRef, Protocol, Source, load_sources};
use netpol_synth::{Params, generate, to_files, write_dir};

/// Origins and lines say where the loader read things; the generator has none.
fn without_locations(mut c: Cluster) -> Cluster {
    for e in &mut c.endpoints {
        e.origin.file = "x".into();
        e.origin.document = 0;
        e.origin.line = 0;
    }
    for s in &mut c.services {
        s.origin.file = "x".into();
        s.origin.document = 0;
        s.origin.line = 0;
    }
    for p in &mut c.policies {
        p.origin.file = "x".into();
        p.origin.document = 0;
        p.origin.line = 0;
        for r in p.ingress.iter_mut().chain(p.egress.iter_mut()) {
            r.line = 0;
            for port in &mut r.ports {
                port.line = 0;
            }
            for peer in &mut r.peers {
                match peer {
                    Peer::Pods { line, .. } | Peer::IpBlock { line, .. } => *line = 0,
                }
            }
        }
    }
    c.notes.clear();
    c
}

fn load_generated(cluster: &Cluster) -> Cluster {
    let sources: Vec<Source> = to_files(cluster)
        .into_iter()
        .map(|f| Source {
            name: f.path.display().to_string(),
            text: f.text,
        })
        .collect();
    load_sources(&sources, &LoadOptions::default())
        .unwrap_or_else(|e| panic!("generated YAML does not load:\n{e}"))
}

#[test]
fn same_seed_same_cluster_other_seed_other_cluster() {
    let a = generate(&Params::new(200, 5));
    assert_eq!(a, generate(&Params::new(200, 5)));
    assert_ne!(a, generate(&Params::new(200, 6)));
    assert_eq!(a.endpoints.len(), 200);
    assert_eq!(a.policies.len(), 100);
}

#[test]
fn yaml_loads_back_into_the_same_cluster() {
    for (workloads, seed) in [(1, 1), (7, 2), (40, 3), (300, 4)] {
        let generated = generate(&Params::new(workloads, seed));
        let loaded = load_generated(&generated);
        let (generated, loaded) = (without_locations(generated), without_locations(loaded));
        assert_eq!(
            loaded.namespaces, generated.namespaces,
            "namespaces, seed {seed}"
        );
        assert_eq!(
            loaded.endpoints, generated.endpoints,
            "endpoints, seed {seed}"
        );
        assert_eq!(loaded.services, generated.services, "services, seed {seed}");
        for (l, g) in loaded.policies.iter().zip(&generated.policies) {
            assert_eq!(l, g, "policy {}, seed {seed}", g.id());
        }
        assert_eq!(loaded.policies.len(), generated.policies.len());
    }
}

#[test]
fn generated_and_loaded_clusters_have_the_same_matrix() {
    let generated = generate(&Params::new(120, 11));
    let loaded = load_generated(&generated);
    let a = netpol_engine::Engine::new(&generated).matrix();
    let b = netpol_engine::Engine::new(&loaded).matrix();
    assert_eq!(a.cells().collect::<Vec<_>>(), b.cells().collect::<Vec<_>>());
}

#[test]
fn a_thousand_workload_cluster_uses_every_construct() {
    let c = generate(&Params::new(1000, 1));
    let e = &c.endpoints;
    assert!(e.iter().any(|e| e.host_network && e.node.is_some()));
    assert!(
        e.iter().any(|e| e.ips.is_empty())
            && e.iter().filter(|e| !e.ips.is_empty()).count() > e.len() / 2
    );
    assert!(e.iter().any(|e| e.ips.len() == 2));
    for proto in Protocol::ALL {
        assert!(
            e.iter().any(|e| e
                .ports
                .iter()
                .any(|p| p.protocol == proto && p.name.is_some())),
            "{proto}"
        );
    }
    assert!(c.namespaces.values().any(|n| !n.declared));
    assert!(c.namespaces.values().any(|n| n.labels.contains_key("env")));
    assert!(!c.services.is_empty());

    let p = &c.policies;
    let rules = || p.iter().flat_map(|p| p.ingress.iter().chain(&p.egress));
    let peers = || rules().flat_map(|r| &r.peers);
    let ports = || rules().flat_map(|r| &r.ports);
    let has_peer = |f: &dyn Fn(&Peer) -> bool| peers().any(f);
    assert!(
        p.iter().any(|p| p.pod_selector.is_empty()
            && p.affects_ingress
            && !p.affects_egress
            && p.ingress.is_empty()),
        "default-deny ingress"
    );
    assert!(
        p.iter().any(|p| p.pod_selector.is_empty()
            && !p.affects_ingress
            && p.affects_egress
            && p.egress.is_empty()),
        "default-deny egress"
    );
    assert!(
        p.iter().any(|p| p.affects_egress
            && p.egress.iter().any(|r| r
                .ports
                .iter()
                .any(|x| x.port == Some(PortRef::Number(53)) && x.protocol == Protocol::Udp))),
        "DNS egress"
    );
    assert!(
        p.iter().any(|p| p.policy_types_explicit) && p.iter().any(|p| !p.policy_types_explicit)
    );
    assert!(
        p.iter().any(|p| !p.affects_egress && !p.egress.is_empty()),
        "egress rules of a policy that does not affect egress"
    );
    assert!(
        rules().any(|r| r.peers.is_empty() && r.ports.is_empty()),
        "empty rule"
    );
    assert!(has_peer(&|x| matches!(
        x,
        Peer::Pods {
            pod_selector: Some(_),
            namespace_selector: None,
            ..
        }
    )));
    assert!(has_peer(&|x| matches!(
        x,
        Peer::Pods {
            pod_selector: None,
            namespace_selector: Some(_),
            ..
        }
    )));
    assert!(has_peer(&|x| matches!(
        x,
        Peer::Pods {
            pod_selector: Some(_),
            namespace_selector: Some(_),
            ..
        }
    )));
    assert!(has_peer(
        &|x| matches!(x, Peer::Pods { namespace_selector: Some(s), .. } if s.is_empty())
    ));
    assert!(has_peer(
        &|x| matches!(x, Peer::IpBlock { except, .. } if !except.is_empty())
    ));
    for op in [
        Operator::In,
        Operator::NotIn,
        Operator::Exists,
        Operator::DoesNotExist,
    ] {
        assert!(
            p.iter().any(|p| p.pod_selector.match_expressions.iter().any(|r| r.operator == op))
                && peers().any(|x| matches!(x, Peer::Pods { pod_selector: Some(s), .. } if s.match_expressions.iter().any(|r| r.operator == op))),
            "{op:?}"
        );
    }
    assert!(ports().any(|x| matches!(x.port, Some(PortRef::Name(_)))));
    assert!(ports().any(|x| x.end_port.is_some()));
    assert!(ports().any(|x| x.port.is_none()));
    for proto in Protocol::ALL {
        assert!(ports().any(|x| x.protocol == proto));
    }
}

#[test]
fn write_dir_writes_loadable_files_and_keeps_foreign_ones() {
    let dir = tempfile::tempdir().unwrap();
    let cluster = generate(&Params::new(30, 3));
    let n = write_dir(&cluster, dir.path()).unwrap();
    assert!(n >= 2);
    // Writing again replaces our own files.
    assert_eq!(write_dir(&cluster, dir.path()).unwrap(), n);
    let loaded = netpol_model::load_paths(&[dir.path()], &LoadOptions::default()).unwrap();
    assert_eq!(loaded.endpoints.len(), 30);
    std::fs::write(dir.path().join("namespaces.yaml"), "kind: Mine\n").unwrap();
    let err = write_dir(&cluster, dir.path()).unwrap_err();
    assert!(
        err.to_string().contains("not generated by netpol-synth"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("namespaces.yaml")).unwrap(),
        "kind: Mine\n"
    );
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 48, failure_persistence: None, ..Default::default() })]

    /// Any seed and size: the YAML loads back into the generated cluster.
    #[test]
    fn any_generated_cluster_round_trips_through_yaml(seed in 0u64.., workloads in 0usize..40, policies in 0usize..30, namespaces in 1usize..5) {
        let generated = generate(&Params { workloads, policies, namespaces, seed });
        let loaded = without_locations(load_generated(&generated));
        proptest::prop_assert_eq!(loaded, without_locations(generated));
    }
}
