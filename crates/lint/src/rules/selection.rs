//! Which pods a policy applies to: NP001 (none) and NP012 (hostNetwork pods).

use netpol_engine::selector;
use netpol_model::{Cluster, Endpoint};

use super::{Ctx, pods_with_labels, short_list};
use crate::finding::{Finding, Location};

pub(super) fn check(ctx: &Ctx, out: &mut Vec<Finding>) {
    let cluster = ctx.cluster;
    for (pi, policy) in cluster.policies.iter().enumerate() {
        let (_, compiled) = ctx.engine.policy(pi);
        let at = Location::at(&policy.origin, policy.origin.line);
        let sel = selector::display(&policy.pod_selector);
        let in_namespace: Vec<&Endpoint> = ctx
            .in_namespace(&policy.namespace)
            .iter()
            .map(|&i| &cluster.endpoints[i])
            .collect();
        let host: Vec<String> = in_namespace
            .iter()
            .filter(|e| e.host_network && selector::matches(&policy.pod_selector, &e.labels))
            .map(|e| e.id())
            .collect();
        // `podSelector: {}` means "every pod of the namespace", the hostNetwork
        // ones included: incidental, and nothing in the policy could be
        // changed about it (excluding them would leave future pods open).
        // That those pods are not isolated is a fact about the pods, which
        // verify and explain report.
        if !host.is_empty() && !policy.pod_selector.is_empty() {
            out.push(Finding::new(
                "NP012",
                at.clone(),
                format!(
                    "podSelector {sel} matches hostNetwork pods ({}): the policy has no effect on them",
                    short_list(&host)
                ),
                "hostNetwork pods use the node's network namespace; protect them with host firewall rules, or exclude them from the podSelector",
            )
            .policy(policy.id()));
        }
        // `podSelector: {}` in a namespace without pods selects the pods
        // created there later: the normal state of an empty namespace's
        // default-deny. Only a namespace that nothing but policies mentions
        // suggests a mistaken metadata.namespace.
        let empty_namespace_on_purpose = policy.pod_selector.is_empty()
            && namespace_exists_apart_from_policies(cluster, &in_namespace, &policy.namespace);
        if compiled.selected.is_clear() && host.is_empty() && !empty_namespace_on_purpose {
            let hint = if in_namespace.is_empty() {
                format!(
                    "namespace {} has no workloads in the input; check metadata.namespace, or include the workloads' manifests",
                    policy.namespace
                )
            } else {
                format!(
                    "pods in {}: {}",
                    policy.namespace,
                    pods_with_labels(
                        &in_namespace
                            .iter()
                            .copied()
                            .filter(|e| !e.host_network)
                            .collect::<Vec<_>>(),
                    )
                )
            };
            out.push(
                Finding::new(
                    "NP001",
                    at,
                    format!("podSelector {sel} selects no pod in namespace {}: the policy has no effect", policy.namespace),
                    hint,
                )
                .policy(policy.id()),
            );
        }
    }
}

/// Declared by a Namespace object, or used by a workload or Service.
fn namespace_exists_apart_from_policies(
    cluster: &Cluster,
    endpoints: &[&Endpoint],
    namespace: &str,
) -> bool {
    cluster
        .namespaces
        .get(namespace)
        .is_some_and(|n| n.declared)
        || !endpoints.is_empty()
        || cluster.services.iter().any(|s| s.namespace == namespace)
}
