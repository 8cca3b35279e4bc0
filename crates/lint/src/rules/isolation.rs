//! Isolation as a whole: NP013 (no policies at all), NP003 (a namespace
//! without default-deny) and NP009 (egress isolated, DNS not allowed).

use std::collections::{BTreeMap, BTreeSet};

use fixedbitset::FixedBitSet;
use netpol_engine::ports_admit;
use netpol_model::{Direction, Endpoint, Policy, Protocol};

use super::{Ctx, plural, short_list};
use crate::finding::{Finding, Location, Severity};

const DNS_PORT: u16 = 53;

pub(super) fn check(ctx: &Ctx, out: &mut Vec<Finding>) {
    no_policies(ctx, out);
    default_deny(ctx, out);
    dns(ctx, out);
}

fn no_policies(ctx: &Ctx, out: &mut Vec<Finding>) {
    let cluster = ctx.cluster;
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

fn default_deny(ctx: &Ctx, out: &mut Vec<Finding>) {
    let (cluster, engine) = (ctx.cluster, ctx.engine);
    let denied: BTreeSet<&str> = cluster
        .policies
        .iter()
        .filter(|p| is_default_deny_ingress(p))
        .map(|p| p.namespace.as_str())
        .collect();
    let mut by_namespace: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, e) in cluster.endpoints.iter().enumerate() {
        // Policies cannot isolate host-network pods, so they do not need one.
        if !e.host_network {
            by_namespace.entry(&e.namespace).or_default().push(i);
        }
    }
    for (ns, members) in by_namespace {
        if denied.contains(ns) {
            continue;
        }
        let open: Vec<String> = members
            .iter()
            .filter(|&&i| {
                engine
                    .policies_selecting(ctx.class(i), Direction::Ingress)
                    .is_empty()
            })
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
fn dns_servers(ctx: &Ctx) -> Vec<usize> {
    ctx.cluster
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

/// Per class: whether its pods reach the cluster DNS on 53/UDP (with no
/// server in the input: whether an egress rule admits 53/UDP at all).
fn dns_by_class(ctx: &Ctx, servers: &[usize]) -> FixedBitSet {
    let engine = ctx.engine;
    let classes = ctx.classes.len();
    let mut reached = FixedBitSet::with_capacity(classes);
    if servers.is_empty() {
        for c in 0..classes {
            let admits = engine
                .policies_selecting(c, Direction::Egress)
                .iter()
                .any(|&pi| {
                    let (policy, _) = engine.policy(pi);
                    policy
                        .egress
                        .iter()
                        .any(|r| ports_admit(&r.ports, None, DNS_PORT, Protocol::Udp))
                });
            reached.set(c, admits);
        }
        return reached;
    }
    let server_classes: BTreeSet<usize> = servers.iter().map(|&d| ctx.class(d)).collect();
    for d in server_classes {
        reached.union_with(&engine.allowed_sources_for(d, DNS_PORT, Protocol::Udp));
    }
    reached
}

fn dns(ctx: &Ctx, out: &mut Vec<Finding>) {
    let (cluster, engine) = (ctx.cluster, ctx.engine);
    let servers = dns_servers(ctx);
    let reached = dns_by_class(ctx, &servers);
    let mut is_server = FixedBitSet::with_capacity(cluster.endpoints.len());
    is_server.extend(servers.iter().copied());
    // A class's cell with itself is traffic between two of its pods; a
    // single pod reaching itself is always allowed, and so a DNS server
    // that is one pod has DNS whatever the policies.
    let has_dns = |src: usize| -> bool {
        reached.contains(ctx.class(src))
            || (is_server.contains(src) && !cluster.endpoints[src].may_be_several_pods())
    };
    let server_names: Vec<String> = servers.iter().map(|&d| cluster.endpoints[d].id()).collect();
    let mut reported = fixedbitset::FixedBitSet::with_capacity(cluster.endpoints.len());
    for (pi, policy) in cluster.policies.iter().enumerate() {
        if !policy.affects_egress {
            continue;
        }
        let (_, compiled) = engine.policy(pi);
        // Each pod is reported once, at the first policy isolating it.
        let indexes: Vec<usize> = ctx
            .pods(&compiled.selected)
            .into_iter()
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
