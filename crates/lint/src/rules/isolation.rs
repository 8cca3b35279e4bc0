//! Isolation as a whole: NP013 (no policies at all), NP003 (a namespace
//! without default-deny) and NP009 (egress isolated, DNS not allowed).

use std::collections::BTreeMap;

use netpol_engine::{Engine, ports_admit};
use netpol_model::{Direction, Endpoint, Policy, Protocol};

use super::{plural, short_list};
use crate::finding::{Finding, Location, Severity};

const DNS_PORT: u16 = 53;

pub(super) fn check(engine: &Engine, out: &mut Vec<Finding>) {
    no_policies(engine, out);
    default_deny(engine, out);
    dns(engine, out);
}

fn no_policies(engine: &Engine, out: &mut Vec<Finding>) {
    let cluster = engine.cluster;
    let Some(first) = cluster.endpoints.first() else {
        return;
    };
    // ClusterNetworkPolicies are policies too: the traffic is not all open.
    if !cluster.policies.is_empty() || !cluster.cluster_policies.is_empty() {
        return;
    }
    let namespaces: std::collections::BTreeSet<&str> = cluster
        .endpoints
        .iter()
        .map(|e| e.namespace.as_str())
        .collect();
    out.push(Finding::new(
        "NP013",
        Location::at(&first.origin, first.origin.line),
        format!(
            "no NetworkPolicy in the input: all {} in {} accept and send any traffic",
            plural(cluster.endpoints.len(), "workload", "workloads"),
            plural(namespaces.len(), "namespace", "namespaces")
        ),
        "start with a default-deny policy in each namespace (see NP003) and allow the flows you need",
    ));
}

/// `podSelector: {}`, Ingress in policyTypes, no ingress rule: every pod of
/// the namespace is isolated for ingress, including pods created later.
fn is_default_deny_ingress(p: &Policy) -> bool {
    p.pod_selector.is_empty() && p.affects_ingress && p.ingress.is_empty()
}

fn default_deny(engine: &Engine, out: &mut Vec<Finding>) {
    let cluster = engine.cluster;
    let mut by_namespace: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, e) in cluster.endpoints.iter().enumerate() {
        // Policies cannot isolate host-network pods, so they do not need one.
        if !e.host_network {
            by_namespace.entry(&e.namespace).or_default().push(i);
        }
    }
    for (ns, members) in by_namespace {
        if cluster
            .policies
            .iter()
            .any(|p| p.namespace == ns && is_default_deny_ingress(p))
        {
            continue;
        }
        let open: Vec<String> = members
            .iter()
            .filter(|&&i| engine.policies_selecting(i, Direction::Ingress).is_empty())
            .map(|&i| cluster.endpoints[i].id())
            .collect();
        let first = &cluster.endpoints[members[0]];
        let snippet = format!(
            "add `{{apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {{name: default-deny-ingress, namespace: {ns}}}, spec: {{podSelector: {{}}, policyTypes: [Ingress]}}}}` and allow what is needed"
        );
        let finding = if open.is_empty() {
            Finding::new(
                "NP003",
                Location::at(&first.origin, first.origin.line),
                format!(
                    "namespace {ns} has no default-deny ingress policy; its {} are isolated today, but a new pod would accept any traffic",
                    plural(members.len(), "workload", "workloads")
                ),
                snippet,
            )
            .severity(Severity::Info)
        } else {
            Finding::new(
                "NP003",
                Location::at(&first.origin, first.origin.line),
                format!(
                    "namespace {ns} has no default-deny ingress policy: {} traffic from anywhere ({})",
                    match (open.len(), members.len()) {
                        (1, 1) => "its only workload accepts".to_string(),
                        (o, m) if o == m => format!("all its {m} workloads accept"),
                        (1, m) => format!("1 of its {m} workloads accepts"),
                        (o, m) => format!("{o} of its {m} workloads accept"),
                    },
                    short_list(&open)
                ),
                snippet,
            )
        };
        out.push(finding);
    }
}

/// The cluster DNS servers in the input: pods serving 53/UDP that look like kube-dns.
fn dns_servers(engine: &Engine) -> Vec<usize> {
    engine
        .cluster
        .endpoints
        .iter()
        .enumerate()
        .filter(|(_, e)| {
            !e.host_network
                && e.ports
                    .iter()
                    .any(|p| p.port == DNS_PORT && p.protocol == Protocol::Udp)
                && (e.namespace == "kube-system"
                    || e.labels
                        .get("k8s-app")
                        .is_some_and(|v| v == "kube-dns" || v == "coredns"))
        })
        .map(|(i, _)| i)
        .collect()
}

fn dns(engine: &Engine, out: &mut Vec<Finding>) {
    let cluster = engine.cluster;
    let servers = dns_servers(engine);
    let reachable: Vec<fixedbitset::FixedBitSet> = servers
        .iter()
        .map(|&d| engine.allowed_sources_for(d, DNS_PORT, Protocol::Udp))
        .collect();
    let has_dns = |src: usize| -> bool {
        if servers.is_empty() {
            // No DNS server in the input: any egress rule admitting 53/UDP counts.
            return engine
                .policies_selecting(src, Direction::Egress)
                .iter()
                .any(|&pi| {
                    let (policy, _) = engine.policy(pi);
                    policy
                        .egress
                        .iter()
                        .any(|r| ports_admit(&r.ports, None, DNS_PORT, Protocol::Udp))
                });
        }
        reachable.iter().any(|set| set.contains(src))
    };
    let server_names: Vec<String> = servers.iter().map(|&d| cluster.endpoints[d].id()).collect();
    let mut reported = fixedbitset::FixedBitSet::with_capacity(cluster.endpoints.len());
    for (pi, policy) in cluster.policies.iter().enumerate() {
        if !policy.affects_egress {
            continue;
        }
        let (_, compiled) = engine.policy(pi);
        // Each pod is reported once, at the first policy isolating it.
        let indexes: Vec<usize> = compiled
            .selected
            .ones()
            .filter(|&i| !reported.contains(i) && !has_dns(i))
            .collect();
        for &i in &indexes {
            reported.insert(i);
        }
        let without: Vec<&Endpoint> = indexes.iter().map(|&i| &cluster.endpoints[i]).collect();
        if without.is_empty() {
            continue;
        }
        let names: Vec<String> = without.iter().map(|e| e.id()).collect();
        let target = if server_names.is_empty() {
            "no egress rule allows 53/UDP".to_string()
        } else {
            format!(
                "{} cannot reach the cluster DNS ({}) on 53/UDP",
                if without.len() == 1 { "it" } else { "they" },
                short_list(&server_names)
            )
        };
        out.push(
            Finding::new(
                "NP009",
                Location::at(&policy.origin, policy.origin.line),
                format!(
                    "isolates the egress of {} ({}) and {target}: name resolution will fail",
                    plural(without.len(), "pod", "pods"),
                    short_list(&names)
                ),
                "add an egress rule to `namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}` with `podSelector: {matchLabels: {k8s-app: kube-dns}}` on ports 53/UDP and 53/TCP",
            )
            .policy(policy.id()),
        );
    }
}
