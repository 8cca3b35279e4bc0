//! A podSelector that picks one workload and nothing else in its namespace.
//!
//! Two workloads often share labels (`app.kubernetes.io/part-of`, or one
//! workload's labels being a subset of another's). Selecting by the labels
//! alone would then silently allow traffic to or from the other one too.

use std::collections::{BTreeMap, HashMap};

use netpol_model::{Cluster, LabelSelector, Labels, Operator, Requirement};

pub struct Selection {
    pub selector: LabelSelector,
    /// Other endpoints the selector picks too: only those whose pod labels
    /// are identical, which no selector can tell apart.
    pub also: Vec<usize>,
}

/// Keys that name a workload, tried first so selectors read naturally.
const PREFERRED: [&str; 7] = [
    "app.kubernetes.io/name",
    "app",
    "k8s-app",
    "name",
    "app.kubernetes.io/instance",
    "app.kubernetes.io/component",
    "component",
];

/// Keys whose values change on every upgrade: a selector on them would make
/// regenerated policies churn.
fn volatile(key: &str) -> bool {
    key.contains("hash")
        || key.contains("version")
        || key.contains("chart")
        || key.contains("generation")
}

/// A cluster's endpoints by namespace, ascending: where a selector's
/// look-alikes are looked for, built once rather than scanning every pod
/// for each workload.
pub struct ByNamespace<'c>(HashMap<&'c str, Vec<usize>>);

impl<'c> ByNamespace<'c> {
    pub fn new(cluster: &'c Cluster) -> Self {
        let mut by: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, e) in cluster.endpoints.iter().enumerate() {
            by.entry(&e.namespace).or_default().push(i);
        }
        ByNamespace(by)
    }

    /// The endpoints of `namespace`.
    pub fn get(&self, namespace: &str) -> &[usize] {
        self.0.get(namespace).map_or(&[], Vec::as_slice)
    }
}

/// The fewest stable labels of the workload that no other pod in its
/// namespace carries; else all its labels plus `DoesNotExist` for a key that
/// each look-alike has and it lacks.
pub fn workload_selector(cluster: &Cluster, e: usize) -> Selection {
    group_selector(cluster, &[e])
}

/// [`workload_selector`] for a caller that asks about many workloads.
pub fn workload_selector_in(cluster: &Cluster, by_namespace: &ByNamespace, e: usize) -> Selection {
    let namespace = &cluster.endpoints[e].namespace;
    group_selector_in(cluster, &[e], by_namespace.get(namespace))
}

/// The Pods of each workload that owns some (a live dump), by workload.
pub fn workload_groups(cluster: &Cluster) -> BTreeMap<String, Vec<usize>> {
    let mut groups: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, e) in cluster.endpoints.iter().enumerate() {
        if let Some(w) = cluster.workload_of.get(&e.id()) {
            groups.entry(w.clone()).or_default().push(i);
        }
    }
    groups
}

/// The pods of the workload `e` belongs to: with Pods and their owners both
/// given, every Pod the same workload owns; else `e` alone.
pub fn workload_members(
    cluster: &Cluster,
    groups: &BTreeMap<String, Vec<usize>>,
    e: usize,
) -> Vec<usize> {
    cluster
        .workload_of
        .get(&cluster.endpoints[e].id())
        .and_then(|w| groups.get(w))
        .cloned()
        .unwrap_or_else(|| vec![e])
}

/// Like [`workload_selector`], for a set of pods in one namespace (the
/// replicas of a workload): labels they all carry and no other pod does.
pub fn group_selector(cluster: &Cluster, members: &[usize]) -> Selection {
    let namespace = members.first().map(|&m| &cluster.endpoints[m].namespace);
    let in_namespace: Vec<usize> = (0..cluster.endpoints.len())
        .filter(|&i| Some(&cluster.endpoints[i].namespace) == namespace)
        .collect();
    group_selector_in(cluster, members, &in_namespace)
}

/// [`group_selector`] given the endpoints of the members' namespace
/// (ascending): a flow over every workload of a live dump would otherwise
/// scan every pod for each.
pub fn group_selector_in(
    cluster: &Cluster,
    members: &[usize],
    in_namespace: &[usize],
) -> Selection {
    let Some(&first) = members.first() else {
        return Selection {
            selector: LabelSelector::default(),
            also: Vec::new(),
        };
    };
    let me = &cluster.endpoints[first];
    // The labels every member carries.
    let common: Labels = me
        .labels
        .iter()
        .filter(|(k, v)| {
            members
                .iter()
                .all(|&m| cluster.endpoints[m].labels.get(*k) == Some(*v))
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let others: Vec<usize> = in_namespace
        .iter()
        .copied()
        .filter(|i| !members.contains(i) && !cluster.endpoints[*i].host_network)
        .collect();
    let has_all = |labels: &Labels, o: usize| {
        labels
            .iter()
            .all(|(k, v)| cluster.endpoints[o].labels.get(k) == Some(v))
    };

    let mut keys: Vec<&String> = common.keys().filter(|k| !volatile(k)).collect();
    keys.sort_by_key(|k| {
        (
            PREFERRED
                .iter()
                .position(|p| p == k)
                .unwrap_or(PREFERRED.len()),
            (*k).clone(),
        )
    });
    // Subsets of up to three keys, smallest first, in preference order.
    let n = keys.len();
    let mut candidates: Vec<Vec<usize>> = Vec::new();
    for a in 0..n {
        candidates.push(vec![a]);
    }
    for a in 0..n {
        for b in a + 1..n {
            candidates.push(vec![a, b]);
        }
    }
    for a in 0..n.min(12) {
        for b in a + 1..n.min(12) {
            for c in b + 1..n.min(12) {
                candidates.push(vec![a, b, c]);
            }
        }
    }
    for subset in candidates {
        let labels: Labels = subset
            .iter()
            .map(|&i| (keys[i].clone(), common[keys[i]].clone()))
            .collect();
        if !others.iter().any(|&o| has_all(&labels, o)) {
            return Selection {
                selector: LabelSelector {
                    match_labels: labels,
                    match_expressions: Vec::new(),
                },
                also: Vec::new(),
            };
        }
    }
    // Stable labels when they are enough: a hash would stop matching the
    // next rollout's pods.
    let stable: Labels = common
        .iter()
        .filter(|(k, _)| !volatile(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let with_stable = exclude_look_alikes(cluster, members, &others, stable.clone());
    if with_stable.also.is_empty() || stable == common {
        return with_stable;
    }
    exclude_look_alikes(cluster, members, &others, common)
}

/// `base` plus `DoesNotExist` for a key that each look-alike (an other pod
/// carrying all of `base`) has and no member has; `also` lists those that
/// have no such key.
fn exclude_look_alikes(
    cluster: &Cluster,
    members: &[usize],
    others: &[usize],
    base: Labels,
) -> Selection {
    let mut selector = LabelSelector {
        match_labels: base,
        match_expressions: Vec::new(),
    };
    let mut also = Vec::new();
    for &o in others {
        let labels = &cluster.endpoints[o].labels;
        if !selector
            .match_labels
            .iter()
            .all(|(k, v)| labels.get(k) == Some(v))
        {
            continue;
        }
        match labels.keys().find(|k| {
            members
                .iter()
                .all(|&m| !cluster.endpoints[m].labels.contains_key(*k))
        }) {
            Some(k) => selector.match_expressions.push(Requirement {
                key: k.clone(),
                operator: Operator::DoesNotExist,
                values: Vec::new(),
            }),
            None => also.push(o),
        }
    }
    selector.match_expressions.sort();
    selector.match_expressions.dedup();
    Selection { selector, also }
}

#[cfg(test)]
mod tests {
    use super::*;
    use netpol_engine::selector::matches;
    use netpol_model::{LoadOptions, Source, load_sources};

    fn cluster(pods: &[(&str, &str)]) -> Cluster {
        let text: String = pods
            .iter()
            .map(|(name, labels)| {
                format!("---\napiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, namespace: ns, labels: {{{labels}}}}}\nspec: {{containers: [{{name: c, image: x}}]}}\n")
            })
            .collect();
        load_sources(
            &[Source {
                name: "t.yaml".into(),
                text,
            }],
            &LoadOptions::default(),
        )
        .unwrap()
    }

    /// The endpoints of `c` the selection of `name` picks.
    fn picked(c: &Cluster, name: &str) -> (LabelSelector, Vec<String>, Vec<usize>) {
        let e = c.endpoint(&format!("ns/{name}")).unwrap();
        let s = workload_selector(c, e);
        let ids = c
            .endpoints
            .iter()
            .filter(|o| matches(&s.selector, &o.labels))
            .map(|o| o.name.clone())
            .collect();
        (s.selector, ids, s.also)
    }

    #[test]
    fn prefers_the_naming_label_when_it_is_unique() {
        let c = cluster(&[
            ("web", "app: web, team: shop, pod-template-hash: abc"),
            ("db", "app: db, team: shop"),
        ]);
        let (sel, ids, also) = picked(&c, "web");
        assert_eq!(
            sel.match_labels.into_iter().collect::<Vec<_>>(),
            [("app".to_string(), "web".to_string())]
        );
        assert_eq!((ids, also), (vec!["web".to_string()], vec![]));
    }

    #[test]
    fn combines_labels_when_none_alone_is_unique() {
        let c = cluster(&[
            ("a", "app: x, tier: web"),
            ("b", "app: x, tier: db"),
            ("c", "app: y, tier: web"),
        ]);
        let (sel, ids, _) = picked(&c, "a");
        assert_eq!(sel.match_labels.len(), 2);
        assert_eq!(ids, ["a"]);
    }

    #[test]
    fn excludes_a_look_alike_with_more_labels() {
        let c = cluster(&[("web", "app: web"), ("canary", "app: web, track: canary")]);
        let (sel, ids, also) = picked(&c, "web");
        assert_eq!(sel.match_expressions.len(), 1);
        assert_eq!(sel.match_expressions[0].key, "track");
        assert_eq!((ids, also), (vec!["web".to_string()], vec![]));
    }

    #[test]
    fn reports_identical_labels() {
        let c = cluster(&[
            ("daily", "app: backup"),
            ("weekly", "app: backup"),
            ("other", "app: x"),
        ]);
        let (_, ids, also) = picked(&c, "daily");
        assert_eq!(ids, ["daily", "weekly"]);
        assert_eq!(also, [c.endpoint("ns/weekly").unwrap()]);
    }

    #[test]
    fn a_workloads_replicas_share_one_selector() {
        // A live dump: two replicas of web (owned through a ReplicaSet that is
        // not in the input) and a canary that carries web's labels and more.
        let pod = |name: &str, labels: &str, owner: &str| {
            format!(
                "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  namespace: ns\n  labels: {{{labels}}}\n  ownerReferences: [{{apiVersion: apps/v1, kind: ReplicaSet, name: {owner}, uid: u}}]\nspec: {{containers: [{{name: c, image: x}}]}}\n"
            )
        };
        let text = [
            pod("web-abc-1", "app: web, pod-template-hash: abc", "web-abc"),
            pod("web-abc-2", "app: web, pod-template-hash: abc", "web-abc"),
            pod(
                "canary-def-1",
                "app: web, track: canary, pod-template-hash: def",
                "canary-def",
            ),
        ]
        .concat();
        let c = load_sources(
            &[Source {
                name: "t.yaml".into(),
                text,
            }],
            &LoadOptions::default(),
        )
        .unwrap();
        let web = c.endpoint("ns/web-abc-1").unwrap();
        let members = workload_members(&c, &workload_groups(&c), web);
        assert_eq!(
            members,
            [
                c.endpoint("ns/web-abc-1").unwrap(),
                c.endpoint("ns/web-abc-2").unwrap()
            ]
        );
        let s = group_selector(&c, &members);
        let picked: Vec<&str> = c
            .endpoints
            .iter()
            .filter(|o| matches(&s.selector, &o.labels))
            .map(|o| o.name.as_str())
            .collect();
        assert_eq!(picked, ["web-abc-1", "web-abc-2"]);
        assert!(s.also.is_empty());
        assert!(!s.selector.match_labels.contains_key("pod-template-hash"));
    }
}
