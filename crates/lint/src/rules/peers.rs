//! Peers that match nothing: NP002 (no pod or no namespace) and NP004 (a
//! namespaceSelector on a label no namespace carries, the `name:` mistake).

use netpol_engine::{describe_peer, selector};
use netpol_model::{Cluster, LabelSelector, NAMESPACE_NAME_LABEL, Operator, Peer};

use std::collections::{HashMap, HashSet};

use netpol_model::Endpoint;
use netpol_model::text::SHOWN;

use super::{Ctx, effective_directions, pods_with_labels_of, short_list};
use crate::finding::{Finding, Location};

pub(super) fn check(ctx: &Ctx, out: &mut Vec<Finding>) {
    let cluster = ctx.cluster;
    let mut matching = HashMap::new();
    let mut hints: HashMap<(&str, Option<&LabelSelector>, &LabelSelector), String> = HashMap::new();
    for (pi, policy) in cluster.policies.iter().enumerate() {
        let (_, compiled) = ctx.engine.policy(pi);
        for direction in effective_directions(policy) {
            for crule in compiled.rules(direction) {
                let rule = &policy.rules(direction)[crule.index];
                let field = if direction == netpol_model::Direction::Ingress {
                    "from"
                } else {
                    "to"
                };
                for (i, (peer, cpeer)) in rule.peers.iter().zip(&crule.peers).enumerate() {
                    let Peer::Pods {
                        pod_selector,
                        namespace_selector,
                        line,
                    } = peer
                    else {
                        continue;
                    };
                    if !cpeer.endpoints.is_clear() {
                        continue;
                    }
                    let at = Location::at(&policy.origin, *line);
                    let item = format!("{}[{}].{field}[{i}]", direction.as_str(), crule.index);
                    let described = describe_peer(peer, policy);
                    if let Some(ns_sel) = namespace_selector {
                        let namespaces = cluster
                            .namespaces
                            .values()
                            .filter(|n| selector::matches(ns_sel, &n.labels))
                            .count();
                        if namespaces == 0 {
                            let finding = match unknown_namespace_label(cluster, ns_sel) {
                                Some((message, hint)) => {
                                    Finding::new("NP004", at, format!("{item}: {message}"), hint)
                                }
                                None => Finding::new(
                                    "NP002",
                                    at,
                                    format!(
                                        "{item}: {described}: the namespaceSelector matches no namespace"
                                    ),
                                    namespace_hint(cluster, ns_sel),
                                ),
                            };
                            out.push(finding.policy(policy.id()));
                            continue;
                        }
                    }
                    let hint = match pod_selector {
                        Some(sel) => {
                            // The hint reads the policy's namespace only
                            // without a namespaceSelector.
                            let own = match namespace_selector {
                                None => policy.namespace.as_str(),
                                Some(_) => "",
                            };
                            let key = (own, namespace_selector.as_ref(), sel);
                            hints
                                .entry(key)
                                .or_insert_with(|| {
                                    pod_hint(
                                        ctx,
                                        &mut matching,
                                        policy,
                                        sel,
                                        namespace_selector.as_ref(),
                                    )
                                })
                                .clone()
                        }
                        None => {
                            "the selected namespaces have no workloads in the input".to_string()
                        }
                    };
                    out.push(
                        Finding::new(
                            "NP002",
                            at,
                            format!("{item}: {described} matches no pod"),
                            hint,
                        )
                        .policy(policy.id()),
                    );
                }
            }
        }
    }
}

/// Keys the selector requires that no namespace has.
fn unknown_namespace_label(cluster: &Cluster, sel: &LabelSelector) -> Option<(String, String)> {
    let namespaces = &cluster.namespaces;
    let has_key = |key: &str| namespaces.values().any(|n| n.labels.contains_key(key));
    let required = sel
        .match_labels
        .iter()
        .map(|(k, v)| (k.as_str(), Some(v.as_str())))
        .chain(
            sel.match_expressions
                .iter()
                .filter_map(|r| match r.operator {
                    Operator::In => Some((r.key.as_str(), r.values.first().map(String::as_str))),
                    Operator::Exists => Some((r.key.as_str(), None)),
                    Operator::NotIn | Operator::DoesNotExist => None,
                }),
        );
    for (key, value) in required {
        if has_key(key) {
            continue;
        }
        let message = format!("namespaceSelector requires label {key}, which no namespace has");
        let hint = match value.filter(|v| namespaces.contains_key(*v)) {
            Some(v) => format!(
                "namespaces are labelled {NAMESPACE_NAME_LABEL}={v} automatically; use `{NAMESPACE_NAME_LABEL}: {v}` instead of `{key}: {v}`"
            ),
            None => format!(
                "label the namespace with {key} (and include the Namespace manifest), or select it by {NAMESPACE_NAME_LABEL}"
            ),
        };
        return Some((message, hint));
    }
    None
}

fn namespace_hint(cluster: &Cluster, sel: &LabelSelector) -> String {
    let seen: Vec<String> = cluster
        .namespaces
        .values()
        .map(|n| {
            let own: Vec<String> = n
                .labels
                .iter()
                .filter(|(k, _)| k.as_str() != NAMESPACE_NAME_LABEL)
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            match own.is_empty() {
                true => format!("{} (only {NAMESPACE_NAME_LABEL})", n.name),
                false => format!("{} ({})", n.name, own.join(",")),
            }
        })
        .collect();
    format!(
        "it wants {}; namespaces: {}",
        selector::display(sel),
        short_list(&seen)
    )
}

fn pod_hint<'a>(
    ctx: &Ctx<'a>,
    matching: &mut HashMap<&'a LabelSelector, Vec<usize>>,
    policy: &netpol_model::Policy,
    sel: &'a LabelSelector,
    ns_sel: Option<&LabelSelector>,
) -> String {
    let cluster = ctx.cluster;
    let in_scope = |ns: &str| match ns_sel {
        None => ns == policy.namespace,
        Some(s) => cluster
            .namespace_labels(ns)
            .is_some_and(|l| selector::matches(s, l)),
    };
    // Namespace by namespace, not pod by pod: the namespaces in scope that
    // have endpoints.
    let scope: Vec<&str> = ctx
        .namespaces()
        .iter()
        .copied()
        .filter(|ns| in_scope(ns))
        .collect();
    let mut host: Vec<usize> = scope
        .iter()
        .flat_map(|ns| ctx.host_in_namespace(ns))
        .copied()
        .filter(|&i| selector::matches(sel, &cluster.endpoints[i].labels))
        .collect();
    host.sort_unstable();
    let host: Vec<String> = host.iter().map(|&i| cluster.endpoints[i].id()).collect();
    if !host.is_empty() {
        return format!(
            "it would match {}, but those use the host network and selectors never match them; use an ipBlock of the node address",
            short_list(&host)
        );
    }
    // Labels are the classes' own: match each class once per selector.
    let classes = &ctx.classes.reduced.endpoints;
    let matched = matching.entry(sel).or_insert_with(|| {
        let candidates = ctx.classes_with_labels(sel);
        candidates
            .into_iter()
            .filter(|&c| !classes[c].host_network && selector::matches(sel, &classes[c].labels))
            .collect()
    });
    let scope_set: HashSet<&str> = scope.iter().copied().collect();
    let elsewhere: Vec<usize> = matched
        .iter()
        .copied()
        .filter(|&c| !scope_set.contains(classes[c].namespace.as_str()))
        .collect();
    if !elsewhere.is_empty() {
        let scope = match ns_sel {
            None => format!(
                "a podSelector without namespaceSelector means namespace {}; add a namespaceSelector",
                policy.namespace
            ),
            Some(_) => "the namespaceSelector excludes their namespace".to_string(),
        };
        return format!(
            "it matches {} in other namespaces: {scope}",
            ctx.short_pods(elsewhere.into_iter())
        );
    }
    if scope.is_empty() {
        return "the namespaces in scope have no workloads in the input".to_string();
    }
    // What the list shows: the first pods on the pod network, and how many.
    let mut first: Vec<usize> = scope
        .iter()
        .flat_map(|ns| {
            ctx.in_namespace(ns)
                .iter()
                .copied()
                .filter(|&i| !cluster.endpoints[i].host_network)
                .take(SHOWN + 1)
        })
        .collect();
    first.sort_unstable();
    first.truncate(SHOWN + 1);
    let first: Vec<&Endpoint> = first.iter().map(|&i| &cluster.endpoints[i]).collect();
    let count = scope
        .iter()
        .map(|ns| ctx.in_namespace(ns).len() - ctx.host_in_namespace(ns).len())
        .sum();
    format!("pods in scope: {}", pods_with_labels_of(count, &first))
}
