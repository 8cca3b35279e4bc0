//! What every rule needs: the workloads with their pod specs as written, and
//! the objects of the input by kind.

use std::collections::{BTreeMap, HashMap};

use k8s_openapi::api::core::v1 as core;
use netpol_model::{Cluster, Diagnostic, Manifest};
use serde_json::Value;

/// A workload as the rules see it: the object that owns the pods, its pod
/// spec and where that spec sits in the manifest.
pub struct Workload<'c> {
    /// `namespace/name` at workload level (the Deployment, not its Pods).
    pub id: String,
    pub namespace: String,
    pub manifest: &'c Manifest,
    /// `spec.template.spec`, `spec.jobTemplate.spec.template.spec` or `spec`.
    pub pod_spec_path: &'static str,
    pub pod_spec: core::PodSpec,
    pub labels: BTreeMap<String, String>,
}

impl Workload<'_> {
    /// Init containers, then the others, each with its path below the pod
    /// spec (`initContainers[0]`), in the order the kubelet starts them.
    pub fn containers(&self) -> impl Iterator<Item = (String, &core::Container)> {
        let spec = &self.pod_spec;
        let init = spec.init_containers.iter().flatten().enumerate();
        init.map(|(i, c)| (format!("initContainers[{i}]"), c))
            .chain(
                spec.containers
                    .iter()
                    .enumerate()
                    .map(|(i, c)| (format!("containers[{i}]"), c)),
            )
    }

    /// Where the pods' metadata `key` (`labels`, `annotations`) sits in the
    /// manifest: a Pod's own, the template's otherwise.
    pub fn pod_metadata_field(&self, key: &str) -> String {
        pod_metadata_field(self.pod_spec_path, key)
    }

    /// Field path below the pod spec, `containers[0].env[3].value`.
    pub fn field(&self, below_pod_spec: &str) -> String {
        if below_pod_spec.is_empty() {
            self.pod_spec_path.to_string()
        } else {
            format!("{}.{below_pod_spec}", self.pod_spec_path)
        }
    }
}

/// Options that change what discovery assumes about the cluster.
#[derive(Clone, Debug)]
pub struct Options {
    /// The cluster DNS domain (`cluster.local`; k3s's default too).
    pub cluster_domain: String,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            cluster_domain: "cluster.local".to_string(),
        }
    }
}

pub struct Context<'c> {
    pub cluster: &'c Cluster,
    pub options: Options,
    pub workloads: Vec<Workload<'c>>,
    by_kind: BTreeMap<&'c str, Vec<&'c Manifest>>,
    /// The endpoints of each namespace, ascending: a Service selects only
    /// there, and a live dump has thousands of Services and 100,000 pods.
    by_namespace: HashMap<&'c str, Vec<usize>>,
}

const WORKLOAD_KINDS: [&str; 8] = [
    "Pod",
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "ReplicationController",
    "Job",
    "CronJob",
];

impl<'c> Context<'c> {
    /// Reads the workloads' pod specs. A spec that does not deserialize was
    /// already rejected by the loader, so errors here are bugs worth showing.
    pub fn new(cluster: &'c Cluster, options: Options) -> Result<Context<'c>, Vec<Diagnostic>> {
        let mut by_kind: BTreeMap<&str, Vec<&Manifest>> = BTreeMap::new();
        for m in &cluster.manifests {
            by_kind.entry(m.kind.as_str()).or_default().push(m);
        }
        let mut errors = Vec::new();
        let mut workloads: BTreeMap<String, Workload> = BTreeMap::new();
        for m in &cluster.manifests {
            if !WORKLOAD_KINDS.contains(&m.kind.as_str()) || owned_by_workload(m) && m.kind != "Pod"
            {
                continue;
            }
            let namespace = m.namespace.clone().unwrap_or_default();
            let pod_id = format!("{namespace}/{}", m.name);
            let id = if m.kind == "Pod" {
                cluster.workload_of.get(&pod_id).cloned().unwrap_or(pod_id)
            } else {
                pod_id
            };
            if workloads.contains_key(&id) {
                // The other replicas of a live dump: one pod spec stands for all.
                continue;
            }
            let pod_spec_path = match m.kind.as_str() {
                "Pod" => "spec",
                "CronJob" => "spec.jobTemplate.spec.template.spec",
                _ => "spec.template.spec",
            };
            let labels = m
                .get(&pod_metadata_field(pod_spec_path, "labels"))
                .and_then(|v| serde_json::from_value(v.clone()).ok())
                .unwrap_or_default();
            let Some(spec_value) = m.get(pod_spec_path) else {
                continue;
            };
            match serde_json::from_value::<core::PodSpec>(spec_value.clone()) {
                Ok(pod_spec) => {
                    workloads.insert(
                        id.clone(),
                        Workload {
                            id,
                            namespace,
                            manifest: m,
                            pod_spec_path,
                            pod_spec,
                            labels,
                        },
                    );
                }
                Err(e) => errors.push(m.diagnostic(pod_spec_path, e.to_string())),
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let mut by_namespace: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, e) in cluster.endpoints.iter().enumerate() {
            by_namespace
                .entry(e.namespace.as_str())
                .or_default()
                .push(i);
        }
        Ok(Context {
            cluster,
            options,
            workloads: workloads.into_values().collect(),
            by_kind,
            by_namespace,
        })
    }

    /// The endpoints of namespace `ns`, ascending.
    pub fn endpoints_in(&self, ns: &str) -> &[usize] {
        self.by_namespace.get(ns).map_or(&[], Vec::as_slice)
    }

    /// The objects of one kind, in input order.
    pub fn objects(&self, kind: &str) -> &[&'c Manifest] {
        self.by_kind.get(kind).map_or(&[], Vec::as_slice)
    }

    /// The workload that the model endpoint `index` belongs to, at workload level.
    pub fn workload_of_endpoint(&self, index: usize) -> String {
        self.cluster.workload(index)
    }

    /// The workload whose pods carry `labels` in `namespace`, if one does.
    pub fn workload_by_id(&self, id: &str) -> Option<&Workload<'c>> {
        self.workloads.iter().find(|w| w.id == id)
    }
}

fn pod_metadata_field(pod_spec_path: &str, key: &str) -> String {
    match pod_spec_path {
        "spec" => format!("metadata.{key}"),
        p => format!("{}.metadata.{key}", p.trim_end_matches(".spec")),
    }
}

/// A ReplicaSet of a Deployment, a Job of a CronJob: the owner stands for it.
fn owned_by_workload(m: &Manifest) -> bool {
    m.get("metadata.ownerReferences")
        .and_then(Value::as_array)
        .is_some_and(|owners| {
            owners.iter().any(|o| {
                o.get("kind")
                    .and_then(Value::as_str)
                    .is_some_and(|k| WORKLOAD_KINDS.contains(&k))
            })
        })
}
