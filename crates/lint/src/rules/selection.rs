//! Which pods a policy applies to: NP001 (none) and NP012 (hostNetwork pods).

use netpol_engine::{Engine, selector};
use netpol_model::{Direction, Endpoint};

use super::{pods_with_labels, short_list};
use crate::finding::{Finding, Location, Severity};

pub(super) fn check(engine: &Engine, out: &mut Vec<Finding>) {
    let cluster = engine.cluster;
    for (pi, policy) in cluster.policies.iter().enumerate() {
        let (_, compiled) = engine.policy(pi);
        let at = Location::at(&policy.origin, policy.origin.line);
        let sel = selector::display(&policy.pod_selector);
        let in_namespace: Vec<&Endpoint> = cluster
            .endpoints
            .iter()
            .filter(|e| e.namespace == policy.namespace)
            .collect();
        let host: Vec<String> = in_namespace
            .iter()
            .filter(|e| e.host_network && selector::matches(&policy.pod_selector, &e.labels))
            .map(|e| e.id())
            .collect();
        // `podSelector: {}` means "every pod of the namespace": matching the
        // hostNetwork ones too is incidental, worth a note only on a
        // default-deny, where people assume everything is covered.
        let deny_only = [Direction::Ingress, Direction::Egress]
            .into_iter()
            .any(|d| policy.affects(d) && policy.rules(d).is_empty());
        if !host.is_empty() && (!policy.pod_selector.is_empty() || deny_only) {
            let mut finding = Finding::new(
                "NP012",
                at.clone(),
                format!(
                    "podSelector {sel} matches hostNetwork pods ({}): the policy has no effect on them",
                    short_list(&host)
                ),
                "hostNetwork pods use the node's network namespace; protect them with host firewall rules, or exclude them from the podSelector",
            )
            .policy(policy.id());
            if policy.pod_selector.is_empty() {
                finding = finding.severity(Severity::Info);
            }
            out.push(finding);
        }
        if compiled.selected.is_clear() && host.is_empty() {
            let hint = if in_namespace.is_empty() {
                format!(
                    "namespace {} has no workloads in the input; check metadata.namespace, or include the workloads' manifests",
                    policy.namespace
                )
            } else {
                format!(
                    "pods in {}: {}",
                    policy.namespace,
                    pods_with_labels(in_namespace.iter().copied().filter(|e| !e.host_network))
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
