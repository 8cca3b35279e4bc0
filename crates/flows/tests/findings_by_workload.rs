//! Findings about a flow's pods name them by workload: a live dump's
//! host-network DaemonSet is a pod per node, a Deployment a pod per
//! replica, and a warning naming each ran to thousands of names on one
//! line.

use netpol_flows::{expand, parse_flows};
use netpol_model::{Cluster, LoadOptions, Source, load_sources};

fn pod(ns: &str, name: &str, owner: Option<&str>, host_network: bool, ip: &str) -> String {
    pod_labelled(ns, name, owner, host_network, ip, name)
}

fn pod_labelled(
    ns: &str,
    name: &str,
    owner: Option<&str>,
    host_network: bool,
    ip: &str,
    app: &str,
) -> String {
    let owner = owner.map_or(String::new(), |o| {
        format!(
            "\n    ownerReferences:\n    - {{apiVersion: apps/v1, kind: DaemonSet, name: {o}, uid: u-{o}, controller: true}}"
        )
    });
    format!(
        "- apiVersion: v1\n  kind: Pod\n  metadata:\n    name: {name}\n    namespace: {ns}\n    labels: {{app: {app}}}{owner}\n  spec:\n    hostNetwork: {host_network}\n    nodeName: node-1\n    containers: [{{name: c, image: i, ports: [{{containerPort: 80}}]}}]\n  status:\n    podIP: {ip}\n    hostIP: 192.168.1.1\n"
    )
}

fn cluster(pods: &[String]) -> Cluster {
    let source = Source {
        name: "dump.yaml".into(),
        text: format!("apiVersion: v1\nkind: List\nitems:\n{}", pods.concat()),
    };
    load_sources(&[source], &LoadOptions::default()).unwrap()
}

/// The messages of the findings `code` about the flow `from: * to: TO`.
fn warnings(c: &Cluster, to: &str, code: &str) -> Vec<String> {
    let flows = parse_flows(
        "flows.yaml",
        &format!("flows:\n  - from: \"*\"\n    to: {to}\n    ports: [80]\n    purpose: test\n"),
    )
    .unwrap();
    expand(c, &flows)
        .findings
        .iter()
        .filter(|f| f.code == code && f.flow == "flows[0]")
        .map(|f| f.message.clone())
        .collect()
}

fn host_network_warnings(c: &Cluster) -> Vec<String> {
    warnings(c, "default/web", "host-network")
}

#[test]
fn host_network_sources_are_named_by_workload_and_cut_short() {
    let mut pods = vec![pod("default", "web", None, false, "10.0.0.9")];
    for i in 0..6 {
        pods.push(pod(
            "kube-system",
            &format!("agent-{i}"),
            Some("agent"),
            true,
            "192.168.1.1",
        ));
    }
    pods.push(pod("default", "probe", None, true, "192.168.1.1"));
    for ds in ["exporter", "logs", "mesh"] {
        pods.push(pod(
            "monitoring",
            &format!("{ds}-0"),
            Some(ds),
            true,
            "192.168.1.1",
        ));
    }
    assert_eq!(
        host_network_warnings(&cluster(&pods)),
        [
            "source default/probe, kube-system/agent (6 pods), monitoring/exporter (1 pod) and 2 more use the host network: its traffic carries the node's address, which pod selectors never match: allow it with `from: nodes`"
        ]
    );
    // One pod of its own is named as it is.
    let one = [
        pod("default", "web", None, false, "10.0.0.9"),
        pod("default", "probe", None, true, "192.168.1.1"),
    ];
    assert_eq!(
        host_network_warnings(&cluster(&one)),
        [
            "source default/probe uses the host network: its traffic carries the node's address, which pod selectors never match: allow it with `from: nodes`"
        ]
    );
}

#[test]
fn look_alike_workloads_are_named_by_workload_and_cut_short() {
    let mut pods = Vec::new();
    for (w, replicas) in [("api", 5), ("batch", 5), ("web", 1), ("x", 1), ("y", 1)] {
        for i in 0..replicas {
            let name = if replicas == 1 {
                w.to_string()
            } else {
                format!("{w}-{i}")
            };
            let owner = (replicas > 1).then_some(w);
            pods.push(pod_labelled(
                "default",
                &name,
                owner,
                false,
                &format!("10.0.0.{}", pods.len() + 1),
                "same",
            ));
        }
    }
    assert_eq!(
        warnings(&cluster(&pods), "default/web", "same-labels"),
        [
            "default/api (5 pods), default/batch (5 pods), default/web and 2 more have identical pod labels: every policy that selects one selects all of them, so what this flow allows for one applies to all"
        ]
    );
}
