//! Reading manifests: files, directories, stdin, multi-document YAML, JSON and `List`s.

mod cluster_policy;
mod ctx;
mod evidence_kinds;
mod legacy_tiers;
pub mod names;
mod node;
mod policy;
mod service;
mod strict;
mod template;
mod workload;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use k8s_openapi::api::core::v1 as core;
use serde_json::Value;

use crate::diag::{Diagnostic, LoadErrors};
use crate::types::{Cluster, Namespace, WorkloadKind};
use crate::yaml::{self, Document, child_index};
use ctx::Ctx;

/// Text to load, with the name diagnostics use for it.
#[derive(Clone, Debug)]
pub struct Source {
    pub name: String,
    pub text: String,
}

#[derive(Clone, Debug)]
pub struct LoadOptions {
    /// Namespace of objects that name none (`-n`), `default` unless set.
    pub default_namespace: String,
    /// Keep every object as written in `Cluster::manifests`, for rules that
    /// read more than connectivity (discovering flows).
    pub keep_manifests: bool,
    /// What an unknown field is.
    pub validation: Validation,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            default_namespace: "default".to_string(),
            keep_manifests: false,
            validation: Validation::Strict,
        }
    }
}

/// Field validation, as `kubectl apply --validate` does it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Validation {
    /// An unknown field is an error (kubectl's default).
    #[default]
    Strict,
    /// An unknown field is reported in `Cluster::warnings`; loading goes on.
    Warn,
    /// Unknown fields are dropped silently.
    Ignore,
}

/// The `Cluster::skipped` entry for documents without apiVersion and kind.
pub const NOT_KUBERNETES: &str = "documents without apiVersion and kind";

const EXTENSIONS: [&str; 3] = ["yaml", "yml", "json"];

/// Expands the PATH arguments: a file, a directory (recursively, in name
/// order), or `-` for standard input.
pub fn read_paths<P: AsRef<Path>>(paths: &[P]) -> Result<Vec<Source>, LoadErrors> {
    let mut sources = Vec::new();
    let mut errors = Vec::new();
    for p in paths {
        let p = p.as_ref();
        if p == Path::new("-") {
            let mut text = String::new();
            match std::io::stdin().read_to_string(&mut text) {
                Ok(_) => sources.push(Source {
                    name: "<stdin>".into(),
                    text,
                }),
                Err(e) => errors.push(file_error("<stdin>", format!("cannot read: {e}"))),
            }
            continue;
        }
        let mut files = Vec::new();
        if let Err(e) = collect_files(p, true, &mut files) {
            errors.push(file_error(&p.display().to_string(), e));
            continue;
        }
        for f in files {
            match std::fs::read(&f) {
                Ok(bytes) => match String::from_utf8(bytes) {
                    Ok(text) => sources.push(Source {
                        name: f.display().to_string(),
                        text,
                    }),
                    Err(_) => errors.push(file_error(
                        &f.display().to_string(),
                        "not UTF-8 text".into(),
                    )),
                },
                Err(e) => errors.push(file_error(
                    &f.display().to_string(),
                    format!("cannot read: {e}"),
                )),
            }
        }
    }
    if errors.is_empty() {
        Ok(sources)
    } else {
        Err(LoadErrors(errors))
    }
}

fn file_error(file: &str, message: String) -> Diagnostic {
    Diagnostic {
        file: file.to_string(),
        document: 0,
        line: 0,
        object: None,
        field: None,
        message,
    }
}

fn collect_files(path: &Path, explicit: bool, out: &mut Vec<PathBuf>) -> Result<(), String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot read: {e}"))?;
    if meta.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(|e| format!("cannot list directory: {e}"))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        for e in entries {
            collect_files(&e, false, out)?;
        }
    } else {
        let wanted = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()));
        // A file named on the command line is read whatever its extension.
        if explicit || wanted {
            out.push(path.to_path_buf());
        }
    }
    Ok(())
}

/// Reads and loads PATH arguments in one step.
pub fn load_paths<P: AsRef<Path>>(paths: &[P], opts: &LoadOptions) -> Result<Cluster, LoadErrors> {
    load_sources(&read_paths(paths)?, opts)
}

/// Loads sources into a cluster model. Every problem in every source is
/// reported; nothing is returned when there is one.
pub fn load_sources(sources: &[Source], opts: &LoadOptions) -> Result<Cluster, LoadErrors> {
    let mut acc = Accumulator::default();
    for source in sources {
        let file: Arc<str> = Arc::from(source.name.as_str());
        match yaml::parse_documents(&source.text) {
            Err(e) => acc.errors.push(Diagnostic {
                file: source.name.clone(),
                document: e.document,
                line: e.line,
                object: None,
                field: None,
                message: e.message,
            }),
            Ok(docs) => {
                for doc in &docs {
                    acc.document(&file, doc, opts);
                }
            }
        }
    }
    acc.finish()
}

#[derive(Default)]
struct Accumulator {
    cluster: Cluster,
    workloads: Vec<workload::Loaded>,
    errors: Vec<Diagnostic>,
    warnings: Vec<Diagnostic>,
    /// (kind, namespace, name) -> where first seen.
    seen: BTreeMap<(String, String, String), String>,
}

impl Accumulator {
    fn document(&mut self, file: &Arc<str>, doc: &Document, opts: &LoadOptions) {
        let mut todo: Vec<(String, &Value)> = vec![(String::new(), &doc.value)];
        while let Some((prefix, value)) = todo.pop() {
            let mut ctx = Ctx {
                file,
                doc,
                prefix: prefix.clone(),
                object: None,
                errors: &mut self.errors,
                warnings: &mut self.warnings,
                validation: opts.validation,
            };
            let Some(obj) = value.as_object() else {
                ctx.error(
                    "",
                    "expected a Kubernetes object (a mapping with apiVersion and kind)",
                );
                continue;
            };
            let kind = obj.get("kind").and_then(Value::as_str);
            let api_version = obj.get("apiVersion").and_then(Value::as_str);
            if prefix.is_empty() && !obj.contains_key("kind") && !obj.contains_key("apiVersion") {
                // Not a Kubernetes object at all (a flows file, Helm values) that a
                // directory happened to hold: skipped, like kinds netpol does not model.
                *self
                    .cluster
                    .skipped
                    .entry(NOT_KUBERNETES.to_string())
                    .or_default() += 1;
                continue;
            }
            let (Some(kind), Some(api_version)) = (kind, api_version) else {
                let field = if kind.is_none() { "kind" } else { "apiVersion" };
                ctx.error(field, "required field is missing or not a string");
                continue;
            };
            if kind == "List"
                || (kind.ends_with("List") && obj.get("items").is_some_and(Value::is_array))
            {
                match obj.get("items") {
                    Some(Value::Array(items)) => {
                        // Reverse so that the stack yields items in order.
                        for (i, item) in items.iter().enumerate().rev() {
                            todo.push((ctx.full_path(&child_index("items", i)), item));
                        }
                    }
                    Some(Value::Null) | None => {}
                    Some(_) => ctx.error("items", "expected a list"),
                }
                continue;
            }
            let ns = obj
                .get("metadata")
                .and_then(|m| m.get("namespace"))
                .and_then(Value::as_str)
                .unwrap_or(&opts.default_namespace);
            let name = obj
                .get("metadata")
                .and_then(|m| m.get("name"))
                .and_then(Value::as_str)
                .unwrap_or("");
            if opts.keep_manifests {
                let namespace = match obj
                    .get("metadata")
                    .and_then(|m| m.get("namespace"))
                    .and_then(Value::as_str)
                {
                    Some(ns) => Some(ns.to_string()),
                    None if crate::manifest::is_cluster_scoped(kind) => None,
                    None => Some(opts.default_namespace.clone()),
                };
                self.cluster.manifests.push(crate::manifest::Manifest {
                    api_version: api_version.to_string(),
                    kind: kind.to_string(),
                    namespace,
                    name: name.to_string(),
                    origin: ctx.origin(""),
                    value: value.clone(),
                    prefix: prefix.clone(),
                    lines: doc.lines.clone(),
                });
            }
            ctx.object = Some(if crate::manifest::is_cluster_scoped(kind) {
                format!("{kind} {name}")
            } else {
                format!("{kind} {ns}/{name}")
            });
            let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
            let mut expected = expected_group(kind);
            // Other groups' kinds of the same name (Longhorn's Node, Antrea's
            // ClusterNetworkPolicy) are other kinds: not modelled, skipped.
            if matches!(
                kind,
                "Node"
                    | "ClusterNetworkPolicy"
                    | "AdminNetworkPolicy"
                    | "BaselineAdminNetworkPolicy"
            ) && expected != Some(group)
            {
                expected = None;
            }
            match expected {
                Some(g) if tier_kind_version(kind).is_some() => {
                    let want = tier_kind_version(kind).unwrap_or_default();
                    if api_version != format!("{g}/{want}") {
                        ctx.error(
                            "apiVersion",
                            format!("unsupported apiVersion {api_version:?} for {kind}: netpol reads {g}/{want}"),
                        );
                        continue;
                    }
                }
                None => {
                    if opts.keep_manifests {
                        evidence_kinds::validate(&mut ctx, api_version, kind, value);
                    }
                    *self.cluster.skipped.entry(kind.to_string()).or_default() += 1;
                    continue;
                }
                Some(g)
                    if g != group
                        || !api_version.ends_with("v1")
                        || api_version.ends_with("beta1") =>
                {
                    let want = if g.is_empty() {
                        "v1".to_string()
                    } else {
                        format!("{g}/v1")
                    };
                    ctx.error(
                        "apiVersion",
                        format!(
                            "unsupported apiVersion {api_version:?} for {kind}: netpol reads {want}"
                        ),
                    );
                    continue;
                }
                Some(_) => {}
            }
            let declared_ns = obj
                .get("metadata")
                .and_then(|m| m.get("namespace"))
                .and_then(Value::as_str)
                .filter(|ns| !ns.is_empty());
            names::object_meta(&mut ctx, kind, name, declared_ns);
            let origin = format!("{}:{}", file, ctx.line(""));
            if let Some(first) =
                self.seen
                    .get(&(kind.to_string(), ns.to_string(), name.to_string()))
            {
                ctx.error(
                    "metadata.name",
                    format!("duplicate {kind} {ns}/{name}: also defined at {first}"),
                );
                continue;
            }
            self.seen
                .insert((kind.to_string(), ns.to_string(), name.to_string()), origin);
            let default_ns = opts.default_namespace.as_str();
            match kind {
                "Namespace" => {
                    if let Some(ns) = namespace(&mut ctx, value) {
                        self.cluster.namespaces.insert(ns.name.clone(), ns);
                    }
                }
                "Service" => {
                    if let Some(s) = service::load(&mut ctx, value, default_ns) {
                        self.cluster.services.push(s);
                    }
                }
                "NetworkPolicy" => {
                    if let Some(p) = policy::load(&mut ctx, value, default_ns) {
                        self.cluster.policies.push(p);
                    }
                }
                "ClusterNetworkPolicy" => {
                    if let Some(p) = cluster_policy::load(&mut ctx, value) {
                        self.cluster.cluster_policies.push(p);
                    }
                }
                "AdminNetworkPolicy" | "BaselineAdminNetworkPolicy" => {
                    if let Some(p) = legacy_tiers::load(&mut ctx, kind, value) {
                        self.cluster.notes.push(format!(
                            "{kind} {name} ({api_version}) is deprecated: upstream replaced it with ClusterNetworkPolicy (policy.networking.k8s.io/v1alpha2); read onto the {} tier",
                            p.tier
                        ));
                        self.cluster.cluster_policies.push(p);
                    }
                }
                "Node" => {
                    if let Some(n) = node::load(&mut ctx, value) {
                        self.cluster.nodes.push(n);
                    }
                }
                _ => {
                    let kind =
                        workload_kind(kind).expect("expected_group covers exactly these kinds");
                    template::check_selector(&mut ctx, kind, value);
                    if let Some(w) = workload::load(&mut ctx, kind, value, default_ns) {
                        self.workloads.push(w);
                    }
                }
            }
        }
    }

    fn finish(mut self) -> Result<Cluster, LoadErrors> {
        if !self.errors.is_empty() {
            return Err(LoadErrors(self.errors));
        }
        let Resolved {
            endpoints,
            notes,
            workload_of,
        } = resolve_owners(std::mem::take(&mut self.workloads));
        self.cluster.workload_of = workload_of;
        self.cluster.warnings = std::mem::take(&mut self.warnings);
        self.cluster.endpoints = endpoints;
        self.cluster.notes.extend(notes);
        let mut names: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for e in &self.cluster.endpoints {
            names
                .entry(e.id())
                .or_default()
                .push(e.kind.as_str().to_string());
        }
        let clashes: Vec<Diagnostic> = names
            .into_iter()
            .filter(|(_, kinds)| kinds.len() > 1)
            .map(|(id, kinds)| Diagnostic {
                file: "<input>".into(),
                document: 0,
                line: 0,
                object: None,
                field: None,
                message: format!("endpoint name {id} is used by several workloads ({}); endpoints must have unique namespace/name", kinds.join(", ")),
            })
            .collect();
        if !clashes.is_empty() {
            return Err(LoadErrors(clashes));
        }
        self.cluster.normalize();
        Ok(self.cluster)
    }
}

struct Resolved {
    endpoints: Vec<crate::types::Endpoint>,
    notes: Vec<String>,
    workload_of: BTreeMap<String, String>,
}

type ObjectKey = (String, String, String);

/// The workload a Pod belongs to (`namespace/name`): its top-most owner, loaded
/// or not. A ReplicaSet that is not loaded stands for the Deployment whose
/// `pod-template-hash` suffix its name carries.
fn top_owner(
    pod: &ObjectKey,
    owners_of: &BTreeMap<ObjectKey, Vec<ObjectKey>>,
    present: &BTreeSet<ObjectKey>,
    labels: &crate::types::Labels,
) -> Option<String> {
    let mut top: Option<&ObjectKey> = None;
    let mut current = pod;
    for _ in 0..64 {
        let Some(owner) = owners_of.get(current).and_then(|o| o.first()) else {
            break;
        };
        top = Some(owner);
        current = owner;
    }
    let (ns, kind, name) = top?;
    let name = match labels.get("pod-template-hash") {
        Some(hash) if kind == "ReplicaSet" && !present.contains(top?) => {
            name.strip_suffix(&format!("-{hash}")).unwrap_or(name)
        }
        _ => name,
    };
    Some(format!("{ns}/{name}"))
}

fn expected_group(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "Namespace" | "Pod" | "Service" | "ReplicationController" => "",
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" => "apps",
        "Job" | "CronJob" => "batch",
        "NetworkPolicy" => "networking.k8s.io",
        "Node" => "",
        "ClusterNetworkPolicy" | "AdminNetworkPolicy" | "BaselineAdminNetworkPolicy" => {
            "policy.networking.k8s.io"
        }
        _ => return None,
    })
}

/// The one version netpol reads of each tier kind.
fn tier_kind_version(kind: &str) -> Option<&'static str> {
    match kind {
        "ClusterNetworkPolicy" => Some("v1alpha2"),
        "AdminNetworkPolicy" | "BaselineAdminNetworkPolicy" => Some("v1alpha1"),
        _ => None,
    }
}

fn workload_kind(kind: &str) -> Option<WorkloadKind> {
    Some(match kind {
        "Pod" => WorkloadKind::Pod,
        "Deployment" => WorkloadKind::Deployment,
        "StatefulSet" => WorkloadKind::StatefulSet,
        "DaemonSet" => WorkloadKind::DaemonSet,
        "ReplicaSet" => WorkloadKind::ReplicaSet,
        "ReplicationController" => WorkloadKind::ReplicationController,
        "Job" => WorkloadKind::Job,
        "CronJob" => WorkloadKind::CronJob,
        _ => return None,
    })
}

fn namespace(ctx: &mut Ctx, value: &Value) -> Option<Namespace> {
    let ns: core::Namespace = ctx.typed(value)?;
    let Some(name) = ns.metadata.name.clone().filter(|n| !n.is_empty()) else {
        ctx.error("metadata.name", "a name is required");
        return None;
    };
    let labels = names::labels(ctx, "metadata.labels", ns.metadata.labels.as_ref());
    Some(Namespace {
        name,
        labels,
        declared: true,
    })
}

/// When Pods and the workloads that own them are both given (a `kubectl get
/// all` dump), the Pods are the endpoints. Without Pods, the top-most loaded
/// workload stands for its pods (a Deployment, not its ReplicaSets).
fn resolve_owners(loaded: Vec<workload::Loaded>) -> Resolved {
    let key =
        |ns: &str, kind: &str, name: &str| (ns.to_string(), kind.to_string(), name.to_string());
    let present: BTreeSet<_> = loaded
        .iter()
        .map(|w| {
            key(
                &w.endpoint.namespace,
                w.endpoint.kind.as_str(),
                &w.endpoint.name,
            )
        })
        .collect();
    let owners_of: BTreeMap<_, _> = loaded
        .iter()
        .map(|w| {
            let k = key(
                &w.endpoint.namespace,
                w.endpoint.kind.as_str(),
                &w.endpoint.name,
            );
            let owners: Vec<_> = w
                .owners
                .iter()
                .map(|(kind, name)| key(&w.endpoint.namespace, kind, name))
                .collect();
            (k, owners)
        })
        .collect();
    // Every loaded ancestor of every loaded Pod.
    let mut has_pods = BTreeSet::new();
    let mut has_loaded_owner = BTreeSet::new();
    for w in &loaded {
        let k = key(
            &w.endpoint.namespace,
            w.endpoint.kind.as_str(),
            &w.endpoint.name,
        );
        let mut todo: Vec<_> = owners_of.get(&k).cloned().unwrap_or_default();
        if todo.iter().any(|o| present.contains(o)) {
            has_loaded_owner.insert(k.clone());
        }
        let mut guard = 0;
        while let Some(o) = todo.pop() {
            guard += 1;
            if guard > 64 {
                break;
            }
            if w.endpoint.kind == WorkloadKind::Pod && present.contains(&o) {
                has_pods.insert(o.clone());
            }
            todo.extend(owners_of.get(&o).cloned().unwrap_or_default());
        }
    }
    let mut notes = Vec::new();
    let mut out = Vec::new();
    let mut workload_of = BTreeMap::new();
    for w in loaded {
        let e = w.endpoint;
        let k = key(&e.namespace, e.kind.as_str(), &e.name);
        if e.kind == WorkloadKind::Pod {
            if let Some(workload) = top_owner(&k, &owners_of, &present, &e.labels) {
                workload_of.insert(e.id(), workload);
            }
            if w.finished {
                notes.push(format!(
                    "Pod {} has finished; it is not an endpoint",
                    e.id()
                ));
                continue;
            }
            out.push(e);
        } else if has_pods.contains(&k) {
            notes.push(format!(
                "{} {} is represented by its Pods",
                e.kind.as_str(),
                e.id()
            ));
        } else if has_loaded_owner.contains(&k) {
            notes.push(format!(
                "{} {} is represented by its owner",
                e.kind.as_str(),
                e.id()
            ));
        } else {
            out.push(e);
        }
    }
    Resolved {
        endpoints: out,
        notes,
        workload_of,
    }
}
