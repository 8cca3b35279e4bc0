//! `verify` reads the allowed connections from the matrix over classes and
//! decides the flows' connections without a trace first; its report must be
//! the one of the plain per-pod reading (every flow connection explained,
//! the per-pod matrix walked), written out here as the reference.

use netpol_engine::{Engine, Party};
use netpol_model::{Cluster, Family};
use netpol_synth::{Params, generate, live};

use super::*;
use crate::{expand, parse_flows};

fn per_pod(x: &Expansion) -> (usize, Vec<Missing>, Vec<Extra>) {
    let engine = Engine::new(x.cluster);
    let (mut checked, mut missing) = (0, Vec::new());
    for f in &x.expanded {
        let sources = sources(f);
        for (dst, ports) in &destinations(&f.destinations, true) {
            let probes = probe_set(&engine, *dst, ports);
            for src in &sources {
                for &(port, protocol) in &probes {
                    checked += 1;
                    let verdict = engine.verdict(*src, *dst, port, protocol);
                    let family = verdict.only_over().map(Family::other);
                    if !verdict.allowed || family.is_some() {
                        missing.push((f.def.field.clone(), verdict, port, protocol, family));
                    }
                }
            }
        }
    }
    let missing = missing
        .into_iter()
        .map(|(flow, verdict, port, protocol, family)| Missing {
            line: x
                .expanded
                .iter()
                .find(|f| f.def.field == flow)
                .unwrap()
                .def
                .line,
            purpose: x
                .expanded
                .iter()
                .find(|f| f.def.field == flow)
                .unwrap()
                .def
                .purpose
                .clone(),
            flow,
            src: verdict.src.clone(),
            dst: verdict.dst.clone(),
            port,
            protocol,
            family,
            verdict,
        })
        .collect();
    let coverage = x.coverage();
    let mut extra = Vec::new();
    for column in &engine.matrix().columns {
        for src in column.allowed.ones() {
            let dst = column.dst;
            let same_pod = src == dst && !x.cluster.endpoints[dst].may_be_several_pods();
            if same_pod
                || engine.is_node_traffic(Party::Endpoint(src), Party::Endpoint(dst))
                || !x.in_scope(src, dst)
                || coverage.covers(src, dst, column.port, column.protocol)
            {
                continue;
            }
            extra.push(crate::extras::extra(
                &engine,
                src,
                dst,
                (column.port, column.protocol),
                column.only_over(src),
            ));
        }
    }
    extra.sort_by(|a, b| {
        (&a.dst, a.port, a.protocol, &a.src).cmp(&(&b.dst, b.port, b.protocol, &b.src))
    });
    (checked, missing, extra)
}

/// Flows over the synthetic cluster's namespaces: every pair, one
/// namespace to all, ports declared, numbered and any, with and without
/// egress isolation and DNS.
fn flows_files(c: &Cluster) -> Vec<String> {
    let ns: Vec<&String> = c
        .namespaces
        .keys()
        .filter(|n| n.starts_with("ns-"))
        .collect();
    let (a, b) = (ns[0], ns[ns.len() - 1]);
    vec![
        "defaultDeny: ingress\nallowDns: false\nflows:\n  - from: \"*\"\n    to: \"*\"\n    ports: declared\n    purpose: all\n".to_string(),
        format!("defaultDeny: ingress+egress\nallowDns: true\nflows:\n  - from: {a}\n    to: \"*\"\n    ports: any\n    purpose: one\n  - from: \"*\"\n    to: {b}\n    ports: [8080, 53/udp]\n    purpose: two\n"),
        format!("defaultDeny: ingress\nflows:\n  - from: {b}\n    to: {a}\n    ports: declared\n    purpose: three\n"),
    ]
}

/// Dual-stack pods, one of them admitted by an ipBlock over IPv4 only:
/// connections allowed over one family, missing over the other.
fn dual_stack() -> Cluster {
    let pod = |name: &str, n: u8| {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  namespace: ns-1\n  labels:\n    app: {name}\nspec:\n  containers:\n  - name: c\n    image: x\n    ports:\n    - containerPort: 8080\nstatus:\n  podIP: 10.0.0.{n}\n  podIPs:\n  - ip: 10.0.0.{n}\n  - ip: fd00::{n}\n---\n"
        )
    };
    let text = pod("client", 5)
        + &pod("other", 6)
        + &pod("server", 7)
        + "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: server\n  namespace: ns-1\nspec:\n  podSelector:\n    matchLabels:\n      app: server\n  ingress:\n  - from:\n    - ipBlock:\n        cidr: 10.0.0.5/32\n";
    let sources = [netpol_model::Source {
        name: "dual.yaml".into(),
        text,
    }];
    netpol_model::load_sources(&sources, &Default::default()).unwrap()
}

/// What a report lists of the reference's `missing` and `extra` when it
/// lists `listed` of each: the first ones, extra ones to the end of the
/// destination port the last is on; and how many it only counts.
fn listed(
    (missing, extra): (&[Missing], &[Extra]),
    listed: usize,
) -> ((Vec<Missing>, usize), (Vec<Extra>, usize)) {
    let m = missing.len().min(listed);
    let group = |e: &Extra| (e.dst.clone(), e.port, e.protocol);
    let mut x = extra.len().min(listed);
    while x > 0 && x < extra.len() && group(&extra[x]) == group(&extra[x - 1]) {
        x += 1;
    }
    (
        (missing[..m].to_vec(), missing.len() - m),
        (extra[..x].to_vec(), extra.len() - x),
    )
}

#[test]
fn verify_is_the_per_pod_reading() {
    let (mut missing, mut extra, mut merged) = (0, 0, false);
    let mut one_family = (0, 0);
    let mut cut = (0, 0);
    for seed in 1..=2 {
        let template = generate(&Params::new(20, seed));
        for c in [live(&template, 3), template, dual_stack()] {
            merged |= netpol_engine::Classes::new(&c).len() < c.endpoints.len();
            for text in flows_files(&c) {
                let flows =
                    parse_flows("flows.yaml", &text).unwrap_or_else(|e| panic!("{e}\n{text}"));
                let x = expand(&c, &flows);
                let got = verify(&x);
                let (checked, want_missing, want_extra) = per_pod(&x);
                assert_eq!(got.checked, checked, "seed {seed}\n{text}");
                let json = |m: &[Missing]| serde_json::to_string(m).unwrap();
                let ((_, m_rest_all), _) = listed((&want_missing, &want_extra), MISSING_LISTED);
                let (_, (e_all, e_rest_all)) = listed((&want_missing, &want_extra), EXTRA_LISTED);
                assert_eq!(json(&got.missing), json(&want_missing[..got.missing.len()]));
                assert_eq!(got.missing_not_listed, m_rest_all, "seed {seed}\n{text}");
                assert_eq!(got.missing_total(), want_missing.len());
                assert_eq!(got.extra, e_all, "seed {seed}\n{text}");
                assert_eq!(got.extra_not_listed, e_rest_all, "seed {seed}\n{text}");
                assert_eq!(got.extra_total(), want_extra.len());
                // The same with a handful listed, which cuts most of them.
                let engine = Engine::new(x.cluster);
                let classes = netpol_engine::Classes::new(x.cluster);
                let by_class = Engine::new(&classes.reduced);
                for few in [1, 7] {
                    let ((m, m_rest), (e, e_rest)) = listed((&want_missing, &want_extra), few);
                    let (_, (got_m, got_m_rest)) =
                        super::missing(&x, &engine, &by_class, &classes, few);
                    assert_eq!(json(&got_m), json(&m), "seed {seed}\n{text}");
                    assert_eq!(got_m_rest, m_rest, "seed {seed}\n{text}");
                    // Destinations past the listed ones are only counted
                    // (in chunks of 1, from the second one on).
                    for chunk in [1, 256] {
                        let got = crate::extras::extras_in_chunks(
                            &x, &engine, &by_class, &classes, few, chunk,
                        );
                        assert_eq!(
                            got,
                            (e.clone(), e_rest),
                            "seed {seed} chunk {chunk}\n{text}"
                        );
                    }
                    cut.0 += usize::from(m_rest > 0);
                    cut.1 += usize::from(e_rest > 0);
                }
                missing += want_missing.len();
                one_family.0 += got.missing.iter().filter(|m| m.family.is_some()).count();
                one_family.1 += got.extra.iter().filter(|e| e.only.is_some()).count();
                extra += want_extra.len();
            }
        }
    }
    assert!(merged, "no classes merged pods");
    assert!(
        missing > 100 && extra > 100,
        "{missing} missing, {extra} extra"
    );
    assert!(
        one_family.0 > 0 && one_family.1 > 0,
        "{one_family:?} over one family"
    );
    assert!(cut.0 > 0 && cut.1 > 0, "{cut:?}: nothing cut");
}

/// Two pods no policy can tell apart (one class) of which a flow names one:
/// the class is covered in part, and the other pod's connections are extra.
#[test]
fn a_flow_may_cover_part_of_a_class() {
    let pod = |name: &str, app: &str, n: u8| {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  namespace: ns-1\n  labels:\n    app: {app}\nspec:\n  containers:\n  - name: c\n    image: x\n    ports:\n    - containerPort: 8080\nstatus:\n  podIP: 10.0.0.{n}\n---\n"
        )
    };
    let text = pod("a", "web", 5) + &pod("b", "web", 6) + &pod("server", "db", 7);
    let sources = [netpol_model::Source {
        name: "look-alikes.yaml".into(),
        text,
    }];
    let c = netpol_model::load_sources(&sources, &Default::default()).unwrap();
    assert_eq!(
        netpol_engine::Classes::new(&c).len(),
        2,
        "a and b are one class"
    );
    let flows = parse_flows(
        "flows.yaml",
        "defaultDeny: ingress\nallowDns: false\nflows:\n  - from: ns-1/a\n    to: ns-1/server\n    ports: [8080]\n    purpose: a only\n",
    )
    .unwrap();
    let x = expand(&c, &flows);
    let got = verify(&x);
    let (_, _, want_extra) = per_pod(&x);
    assert_eq!(got.extra, want_extra);
    let pairs: Vec<(&str, &str)> = got
        .extra
        .iter()
        .map(|e| (e.src.as_str(), e.dst.as_str()))
        .collect();
    assert!(pairs.contains(&("ns-1/b", "ns-1/server")), "{pairs:?}");
    assert!(!pairs.contains(&("ns-1/a", "ns-1/server")), "{pairs:?}");
}
