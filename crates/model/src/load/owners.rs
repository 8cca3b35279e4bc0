//! Which loaded objects are endpoints: a Pod's top-most owner names its
//! workload, and a workload whose Pods were loaded is represented by them.

use std::collections::BTreeMap;

use rayon::prelude::*;

use super::workload;
use crate::types::WorkloadKind;

pub(super) struct Resolved {
    pub endpoints: Vec<crate::types::Endpoint>,
    pub notes: Vec<String>,
    pub workload_of: BTreeMap<String, String>,
}

/// (namespace, kind, name), borrowed from the loaded objects.
type ObjectKey<'a> = (&'a str, &'a str, &'a str);

/// An owner reference: its key, and its index among the loaded objects
/// when it is one of them.
type Owner<'a> = (ObjectKey<'a>, Option<usize>);

/// The workload the Pod `pod` belongs to (`namespace/name`): its top-most
/// owner, loaded or not. A ReplicaSet that is not loaded stands for the
/// Deployment whose `pod-template-hash` suffix its name carries.
fn top_owner(pod: usize, owners: &[Vec<Owner>], labels: &crate::types::Labels) -> Option<String> {
    let mut top: Option<Owner> = None;
    let mut current = pod;
    for _ in 0..64 {
        let Some(&owner) = owners[current].first() else {
            break;
        };
        top = Some(owner);
        match owner.1 {
            Some(next) => current = next,
            // Not loaded: it has no owners of its own here.
            None => break,
        }
    }
    let ((ns, kind, name), loaded) = top?;
    let name = match labels.get("pod-template-hash") {
        Some(hash) if kind == "ReplicaSet" && loaded.is_none() => name
            .strip_suffix(hash.as_str())
            .and_then(|n| n.strip_suffix('-'))
            .unwrap_or(name),
        _ => name,
    };
    Some(format!("{ns}/{name}"))
}

/// When Pods and the workloads that own them are both given (a `kubectl get
/// all` dump), the Pods are the endpoints. Without Pods, the top-most loaded
/// workload stands for its pods (a Deployment, not its ReplicaSets).
pub(super) fn resolve_owners(loaded: Vec<workload::Loaded>) -> Resolved {
    // Owners are resolved to indices once; the rest walks indices (a live
    // dump has a loaded object per pod). Nothing is iterated in hash order.
    fn key_of(w: &workload::Loaded) -> ObjectKey<'_> {
        (
            w.endpoint.namespace.as_str(),
            w.endpoint.kind.as_str(),
            w.endpoint.name.as_str(),
        )
    }
    let index: foldhash::HashMap<ObjectKey, usize> = loaded
        .iter()
        .enumerate()
        .map(|(i, w)| (key_of(w), i))
        .collect();
    let owners: Vec<Vec<Owner>> = loaded
        .par_iter()
        .map(|w| {
            let ns = w.endpoint.namespace.as_str();
            w.owners
                .iter()
                .map(|(kind, name)| {
                    let key = (ns, kind.as_str(), name.as_str());
                    (key, index.get(&key).copied())
                })
                .collect()
        })
        .collect();
    drop(index);
    // Every loaded ancestor of every loaded Pod.
    let mut has_pods = vec![false; loaded.len()];
    for (i, w) in loaded.iter().enumerate() {
        if w.endpoint.kind != WorkloadKind::Pod {
            continue;
        }
        let mut todo = owners[i].clone();
        let mut guard = 0;
        while let Some((_, o)) = todo.pop() {
            guard += 1;
            if guard > 64 {
                break;
            }
            if let Some(o) = o {
                has_pods[o] = true;
                todo.extend_from_slice(&owners[o]);
            }
        }
    }
    let has_loaded_owner = |i: usize| owners[i].iter().any(|(_, o)| o.is_some());
    /// What becomes of a loaded object, decided while the keys borrow it.
    enum Fate {
        Endpoint,
        Finished,
        ByPods,
        ByOwner,
    }
    // (fate, the Pod's id and workload): decided in parallel, the
    // workloads then sorted into their map at once.
    let decided: Vec<(Fate, Option<(String, String)>)> = loaded
        .par_iter()
        .enumerate()
        .map(|(i, w)| {
            let e = &w.endpoint;
            if e.kind == WorkloadKind::Pod {
                let workload = top_owner(i, &owners, &e.labels).map(|o| (e.id(), o));
                let fate = if w.finished {
                    Fate::Finished
                } else {
                    Fate::Endpoint
                };
                (fate, workload)
            } else if has_pods[i] {
                (Fate::ByPods, None)
            } else if has_loaded_owner(i) {
                (Fate::ByOwner, None)
            } else {
                (Fate::Endpoint, None)
            }
        })
        .collect();
    let mut fates = Vec::with_capacity(decided.len());
    let mut pairs = Vec::new();
    for (fate, workload) in decided {
        fates.push(fate);
        pairs.extend(workload);
    }
    // Collected as `insert` would leave it: the last of equal keys kept.
    let workload_of: BTreeMap<String, String> = pairs.into_iter().collect();
    drop(owners);
    let mut notes = Vec::new();
    let mut out = Vec::new();
    for (w, fate) in loaded.into_iter().zip(fates) {
        let e = w.endpoint;
        match fate {
            Fate::Endpoint => out.push(e),
            Fate::Finished => notes.push(format!(
                "Pod {} has finished; it is not an endpoint",
                e.id()
            )),
            Fate::ByPods => notes.push(format!(
                "{} {} is represented by its Pods",
                e.kind.as_str(),
                e.id()
            )),
            Fate::ByOwner => notes.push(format!(
                "{} {} is represented by its owner",
                e.kind.as_str(),
                e.id()
            )),
        }
    }
    Resolved {
        endpoints: out,
        notes,
        workload_of,
    }
}
