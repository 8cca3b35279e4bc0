//! "Did you mean": when a flow names something the cluster does not have,
//! the names it does have that are closest, so that a typo costs one look.

use std::collections::BTreeSet;

use netpol_model::text::short_list;
use netpol_model::{Cluster, Endpoint, Protocol, Service};

use crate::spec::EndpointSpec;

/// Suggestions shown at most.
const SHOWN: usize = 3;

/// The candidates close to `word`: a small edit away, or containing it (Helm
/// prefixes names: `prometheus` is `grafana-prometheus-kube-pr-prometheus`).
fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let candidates: BTreeSet<&str> = candidates.into_iter().filter(|c| *c != word).collect();
    let budget = (word.chars().count() / 4).max(2);
    let mut near: Vec<(usize, &str)> = candidates
        .iter()
        .map(|c| (strsim::damerau_levenshtein(word, c), *c))
        .filter(|(d, _)| *d <= budget)
        .collect();
    near.sort();
    let mut out: Vec<&str> = near.into_iter().map(|(_, c)| c).collect();
    if out.is_empty() && word.len() >= 3 {
        let mut containing: Vec<&str> = candidates
            .iter()
            .copied()
            .filter(|c| c.contains(word) || (word.contains(*c) && c.len() >= 3))
            .collect();
        // A whole word of the name first (`grafana-prometheus` for `grafana`).
        let whole =
            |c: &str| c.starts_with(&format!("{word}-")) || c.ends_with(&format!("-{word}"));
        containing.sort_by_key(|c| (!whole(c), c.len(), *c));
        out = containing;
    }
    out.truncate(SHOWN);
    out
}

/// `did you mean a, b or c?`, or nothing.
fn did_you_mean(options: &[String]) -> Option<String> {
    match options {
        [] => None,
        [one] => Some(format!("did you mean {one}?")),
        [first @ .., last] => Some(format!("did you mean {} or {last}?", first.join(", "))),
    }
}

fn namespace_known(cluster: &Cluster, ns: &str) -> bool {
    cluster.namespaces.contains_key(ns)
}

/// Why the namespace `ns` explains nothing matching, if it does.
fn unknown_namespace(cluster: &Cluster, ns: &str, rest: &str) -> Option<String> {
    if namespace_known(cluster, ns) {
        return None;
    }
    let options: Vec<String> = closest(ns, cluster.namespaces.keys().map(String::as_str))
        .into_iter()
        .map(|n| format!("{n}{rest}"))
        .collect();
    let hint = did_you_mean(&options).unwrap_or_else(|| {
        let all: Vec<String> = cluster.namespaces.keys().cloned().collect();
        if all.is_empty() {
            "the input has no namespaces".to_string()
        } else {
            format!("namespaces: {}", short_list(&all))
        }
    });
    Some(format!("namespace {ns} is not in the input; {hint}"))
}

/// Names a flow can use for the workloads of `ns`: the workloads (owners of
/// pods, as `kubectl get all` lists them) and the endpoints themselves.
fn workload_names(cluster: &Cluster, ns: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for e in cluster.endpoints.iter().filter(|e| e.namespace == ns) {
        names.insert(e.name.clone());
        if let Some((_, owner)) = cluster
            .workload_of
            .get(&e.id())
            .and_then(|w| w.split_once('/'))
        {
            names.insert(owner.to_string());
        }
    }
    names
}

/// Why an end of a flow matches no pod, with what it could have meant:
/// `": <reason>"`, or nothing when there is nothing useful to say.
pub(crate) fn endpoint(cluster: &Cluster, spec: &EndpointSpec) -> String {
    reason(cluster, spec)
        .map(|r| format!(": {r}"))
        .unwrap_or_default()
}

fn reason(cluster: &Cluster, spec: &EndpointSpec) -> Option<String> {
    match spec {
        EndpointSpec::AllPods => Some("the input has no pods".into()),
        EndpointSpec::Namespace(ns) => unknown_namespace(cluster, ns, "")
            .or_else(|| Some(format!("namespace {ns} has no workloads in the input"))),
        EndpointSpec::Workload { namespace, name } => {
            if let Some(r) = unknown_namespace(cluster, namespace, &format!("/{name}")) {
                return Some(r);
            }
            let names = workload_names(cluster, namespace);
            if names.is_empty() {
                return Some(format!(
                    "namespace {namespace} has no workloads in the input"
                ));
            }
            let mut options: Vec<String> = closest(name, names.iter().map(String::as_str))
                .into_iter()
                .map(|n| format!("{namespace}/{n}"))
                .collect();
            // The same name in another namespace.
            options.extend(
                cluster
                    .namespaces
                    .keys()
                    .filter(|ns| *ns != namespace && workload_names(cluster, ns).contains(name))
                    .map(|ns| format!("{ns}/{name}")),
            );
            options.truncate(SHOWN);
            let hint = did_you_mean(&options).unwrap_or_else(|| {
                let all: Vec<String> = names.into_iter().collect();
                format!("workloads there: {}", short_list(&all))
            });
            Some(format!(
                "no workload {name} in namespace {namespace}; {hint}"
            ))
        }
        EndpointSpec::Labels { namespace, labels } => {
            if let Some(ns) = namespace {
                let selector: Vec<String> =
                    labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
                let rest = format!(":{}", selector.join(","));
                if let Some(r) = unknown_namespace(cluster, ns, &rest) {
                    return Some(r);
                }
            }
            let scope: Vec<&Endpoint> = cluster
                .endpoints
                .iter()
                .filter(|e| namespace.as_ref().is_none_or(|ns| &e.namespace == ns))
                .collect();
            let place = match namespace {
                Some(ns) => format!("in namespace {ns}"),
                None => "in any namespace".to_string(),
            };
            if scope.is_empty() {
                return Some(format!("no pods {place}"));
            }
            for (k, v) in labels {
                let values: BTreeSet<&str> = scope
                    .iter()
                    .filter_map(|e| e.labels.get(k).map(String::as_str))
                    .collect();
                if values.is_empty() {
                    let keys = scope
                        .iter()
                        .flat_map(|e| e.labels.keys().map(String::as_str));
                    let options: Vec<String> = closest(k, keys)
                        .into_iter()
                        .map(|key| format!("{key}={v}"))
                        .collect();
                    let hint = did_you_mean(&options)
                        .map(|h| format!("; {h}"))
                        .unwrap_or_default();
                    return Some(format!("no pod {place} has a label {k}{hint}"));
                }
                if !values.contains(v.as_str()) {
                    let options: Vec<String> = closest(v, values.iter().copied())
                        .into_iter()
                        .map(|value| format!("{k}={value}"))
                        .collect();
                    let hint = did_you_mean(&options).unwrap_or_else(|| {
                        let all: Vec<String> = values.iter().map(|x| format!("{k}={x}")).collect();
                        format!("pods have {}", short_list(&all))
                    });
                    return Some(format!("no pod {place} has {k}={v}; {hint}"));
                }
            }
            Some(format!("no pod {place} has all of these labels at once"))
        }
        _ => None,
    }
}

/// What a port name that no destination declares could have meant: the
/// names the destinations (and the Services in front of them) do have.
pub(crate) fn port_name(
    cluster: &Cluster,
    destinations: &[usize],
    name: &str,
    protocol: Protocol,
) -> String {
    let pods: Vec<&Endpoint> = destinations
        .iter()
        .map(|&i| &cluster.endpoints[i])
        .collect();
    let services: Vec<&Service> = cluster
        .services
        .iter()
        .filter(|s| pods.iter().any(|e| s.selects(e)))
        .collect();
    let declared = |p: Protocol| -> BTreeSet<&str> {
        let on_pods = pods
            .iter()
            .flat_map(|e| e.ports.iter())
            .filter(|c| c.protocol == p)
            .filter_map(|c| c.name.as_deref());
        let on_services = services
            .iter()
            .flat_map(|s| s.ports.iter())
            .filter(|sp| sp.protocol == p)
            .filter_map(|sp| sp.name.as_deref());
        on_pods.chain(on_services).collect()
    };
    for other in [Protocol::Tcp, Protocol::Udp, Protocol::Sctp] {
        if other != protocol && declared(other).contains(name) {
            let suffix = other.as_str().to_ascii_lowercase();
            return format!("; {name} is declared for {other}: did you mean {name}/{suffix}?");
        }
    }
    let names = declared(protocol);
    if names.is_empty() {
        return format!("; they name no {protocol} port: use the port number");
    }
    let options: Vec<String> = closest(name, names.iter().copied())
        .into_iter()
        .map(str::to_string)
        .collect();
    let hint = did_you_mean(&options).unwrap_or_else(|| {
        let all: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        format!("their {protocol} port names: {}", short_list(&all))
    });
    format!("; {hint}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_names_and_names_that_contain_the_word() {
        let names = ["monitoring", "kube-system", "open-webui"];
        assert_eq!(closest("monitorng", names), vec!["monitoring"]);
        assert_eq!(closest("openwebui", names), vec!["open-webui"]);
        assert!(closest("database", names).is_empty());
        let helm = [
            "grafana-prometheus-kube-pr-operator",
            "prometheus-grafana-prometheus-kube-pr-prometheus",
            "grafana-prometheus",
        ];
        assert_eq!(
            closest("prometheus", helm),
            vec![helm[2], helm[1], helm[0]],
            "whole words first, then the shortest"
        );
    }

    #[test]
    fn did_you_mean_reads_as_a_sentence() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(did_you_mean(&s(&[])), None);
        assert_eq!(did_you_mean(&s(&["a"])).unwrap(), "did you mean a?");
        assert_eq!(
            did_you_mean(&s(&["a", "b", "c"])).unwrap(),
            "did you mean a, b or c?"
        );
    }
}
