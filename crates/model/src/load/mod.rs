//! Reading manifests: files, directories, stdin, multi-document YAML, JSON and `List`s.

mod cluster_policy;
mod ctx;
mod evidence_kinds;
pub mod files;
mod legacy_tiers;
pub mod names;
mod node;
mod owners;
mod pod_text;
mod policy;
mod read;
mod replicas;
mod service;
mod strict;
mod template;
mod workload;

use std::path::Path;
use std::sync::Arc;

use rayon::prelude::*;

use k8s_openapi::api::core::v1 as core;
use serde_json::Value;

use crate::diag::{Diagnostic, LoadErrors};
use crate::types::{Cluster, Namespace, WorkloadKind};
use crate::yaml::{self, Document, child_index};
use ctx::Ctx;
use owners::{Resolved, resolve_owners};
pub use read::{read_paths, read_paths_noting, read_paths_within};

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
    /// Keep the objects as written in `Cluster::manifests`, for rules that
    /// read more than connectivity (discovering flows): every object but
    /// the Pods of a workload after its first.
    pub keep_manifests: bool,
    /// What an unknown field is.
    pub validation: Validation,
    /// The most read from all files together ([`files::MAX_INPUT_BYTES`] unless
    /// raised); the expansion budget grows with it.
    pub max_input_bytes: u64,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            default_namespace: "default".to_string(),
            keep_manifests: false,
            validation: Validation::Strict,
            max_input_bytes: files::MAX_INPUT_BYTES,
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

/// Reads and loads PATH arguments in one step.
pub fn load_paths<P: AsRef<Path>>(paths: &[P], opts: &LoadOptions) -> Result<Cluster, LoadErrors> {
    let (sources, notes) = read_paths_within(paths, opts.max_input_bytes)?;
    let mut cluster = load_sources(&sources, opts)?;
    cluster.warnings.extend(notes);
    Ok(cluster)
}

/// Loads sources into a cluster model. Every problem in every source is
/// reported; nothing is returned when there is one.
///
/// Files are parsed and converted in parallel, each into a part of its own;
/// the parts are then joined in input order, so the result (and the order
/// of diagnostics) is the same as reading the files one after the other.
pub fn load_sources(sources: &[Source], opts: &LoadOptions) -> Result<Cluster, LoadErrors> {
    // One budget for the whole input, shared by the parsing threads: aliases
    // cannot multiply it file by file.
    let budget = yaml::Budget::for_input(opts.max_input_bytes);
    let parts: Vec<Accumulator> = sources
        .par_iter()
        .map(|source| load_source(source, opts, &budget))
        .collect();
    Accumulator::joined(parts).finish()
}

fn load_source(source: &Source, opts: &LoadOptions, budget: &yaml::Budget) -> Accumulator {
    let file: Arc<str> = Arc::from(source.name.as_str());
    let json = crate::json::looks_like_json(&source.text);
    if json {
        match crate::json::large_list(&source.text, 0, budget) {
            Some(Ok(list)) => {
                let item = |part: &mut Accumulator, i| {
                    if part.pod_from_text(&file, list.items[i], i, opts) {
                        return Some(Ok(()));
                    }
                    let doc = crate::json::list_item(&list, i, budget)?;
                    Some(doc.map(|doc| part.list_item(&file, &doc, i, opts)))
                };
                if let Some(acc) = load_large_list(&source.name, list.items.len(), item) {
                    return acc;
                }
                list.give_back(budget);
            }
            Some(Err(e)) => return parse_error(&source.name, e),
            None => {}
        }
    } else if let Some(list) = yaml::large_list(&source.text, 0, budget) {
        let item = |part: &mut Accumulator, i| {
            let item = yaml::list_item_tokens(&list, i, budget)?;
            if !part.pod_from_yaml(&file, &item, opts) {
                part.list_item(&file, &item.document()?, i, opts);
            }
            Some(Ok(()))
        };
        if let Some(acc) = load_large_list(&source.name, list.len(), item) {
            return acc;
        }
        list.give_back(budget);
    }
    let parsed = if json {
        crate::json::parse(&source.text, budget)
    } else {
        None
    };
    let parsed = parsed.unwrap_or_else(|| yaml::parse_documents_within(&source.text, budget));
    match parsed {
        Err(e) => parse_error(&source.name, e),
        Ok(docs) => {
            let mut acc = Accumulator::default();
            for doc in &docs {
                acc.document(&file, doc, opts);
            }
            acc
        }
    }
}

/// A part holding only the error that stopped `file` from being read.
fn parse_error(file: &str, e: yaml::YamlError) -> Accumulator {
    let mut acc = Accumulator::default();
    acc.errors.push(Diagnostic {
        file: file.to_string(),
        document: e.document,
        line: e.line,
        object: None,
        field: None,
        message: e.message,
    });
    acc
}

/// The `count` items of a List (JSON or YAML), each read and converted
/// into a part by `item`, chunks of them in parallel, joined in order: the
/// result and the diagnostics are those of converting the List parsed
/// whole, and the parsed items are never all held at once. `None` when an
/// item is not one its fast path reads: the whole text then goes to the
/// YAML parser.
fn load_large_list(
    file: &str,
    count: usize,
    item: impl Fn(&mut Accumulator, usize) -> Option<Result<(), yaml::YamlError>> + Sync,
) -> Option<Accumulator> {
    let indexes: Vec<usize> = (0..count).collect();
    let parts: Vec<Option<Result<Accumulator, yaml::YamlError>>> = indexes
        .par_chunks(LIST_CHUNK)
        .map(|chunk| {
            let mut part = Accumulator::default();
            for &i in chunk {
                if let Err(e) = item(&mut part, i)? {
                    return Some(Err(e));
                }
            }
            Some(Ok(part))
        })
        .collect();
    let mut converted = Vec::with_capacity(parts.len());
    for part in parts {
        match part? {
            Ok(part) => converted.push(part),
            Err(e) => return Some(parse_error(file, e)),
        }
    }
    Some(Accumulator::joined(converted))
}

/// An object as [`Accumulator::objects`] has identified it.
struct Object<'a> {
    kind: &'a str,
    api_version: &'a str,
    /// Its namespace, the default one when it names none.
    ns: &'a str,
    name: &'a str,
    /// Its namespace as written, when not empty.
    declared_ns: Option<&'a str>,
    /// `Kind namespace/name`, as diagnostics name it.
    label: String,
}

/// How diagnostics name an object: `Kind namespace/name`, or `Kind name`
/// for a cluster-scoped kind.
fn object_label(kind: &str, ns: &str, name: &str) -> String {
    if crate::manifest::is_cluster_scoped(kind) {
        format!("{kind} {name}")
    } else {
        format!("{kind} {ns}/{name}")
    }
}

/// What an object is converted from: its parsed value, or (for Pods read
/// straight from JSON text) its typed form.
enum Body<'v> {
    Value(&'v Value),
    Pod(Box<core::Pod>),
}

#[derive(Default)]
struct Accumulator {
    cluster: Cluster,
    workloads: Vec<workload::Loaded>,
    errors: Vec<Diagnostic>,
    warnings: Vec<Diagnostic>,
    /// (kind, namespace, name) -> where first seen. Only looked up, never
    /// iterated: hashed.
    seen: foldhash::HashMap<ObjectId, At>,
    /// Every object this part loaded, in order, for finding duplicates
    /// across parts when they are joined.
    loaded: Vec<LoadedObject>,
    /// The workloads whose first Pod kept its manifest ([`replicas`]).
    kept_replicas: replicas::Kept,
}

/// An object a part loaded, and what to report if an earlier part already
/// had it: the error it would have been given there, in place of the
/// errors its loading gave (`errors[first_error..end_error]`).
struct LoadedObject {
    key: ObjectId,
    origin: At,
    duplicate: NameAt,
    first_error: usize,
    end_error: usize,
}

/// (kind, namespace, name) of a loaded object, shared by a part's index
/// and its list of objects rather than copied into each.
type ObjectId = Arc<(String, String, String)>;

/// Where an object starts, `file:line` in messages.
#[derive(Clone)]
struct At {
    file: Arc<str>,
    line: usize,
}

impl std::fmt::Display for At {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// Where an object's `metadata.name` is, kept to report a duplicate of an
/// earlier part there; the diagnostic is only built for one.
struct NameAt {
    document: usize,
    line: usize,
    /// The object's path in its document (`items[3]`).
    prefix: String,
}

impl NameAt {
    fn diagnostic(self, file: &str, key: &ObjectId, message: String) -> Diagnostic {
        let (kind, ns, name) = &**key;
        Diagnostic {
            file: file.to_string(),
            document: self.document,
            line: self.line,
            object: Some(object_label(kind, ns, name)),
            field: Some(yaml::full_path(&self.prefix, "metadata.name")),
            message,
        }
    }
}

impl Accumulator {
    /// Room for all of `parts`, so that joining them moves each object once.
    fn reserve_for(&mut self, parts: &[Accumulator]) {
        let total = |len: fn(&Accumulator) -> usize| parts.iter().map(len).sum::<usize>();
        self.workloads.reserve(total(|p| p.workloads.len()));
        self.loaded.reserve(total(|p| p.loaded.len()));
        self.seen.reserve(total(|p| p.seen.len()));
        self.cluster
            .policies
            .reserve(total(|p| p.cluster.policies.len()));
        self.cluster
            .services
            .reserve(total(|p| p.cluster.services.len()));
    }

    /// `parts` joined in order. One part is taken whole: joining it into
    /// nothing would copy it object by object and change nothing.
    fn joined(parts: Vec<Accumulator>) -> Accumulator {
        if parts.len() == 1 {
            return parts.into_iter().next().unwrap_or_default();
        }
        let mut acc = Accumulator::default();
        acc.reserve_for(&parts);
        for part in parts {
            acc.join(part);
        }
        acc
    }

    /// Appends a later part, as if its sources had been read after ours.
    fn join(&mut self, part: Accumulator) {
        let Accumulator {
            cluster,
            workloads,
            errors,
            warnings,
            seen: _,
            loaded,
            kept_replicas: _,
        } = part;
        let mut next_error = 0;
        for object in loaded {
            match self.seen.get(&object.key) {
                Some(first) => {
                    self.errors
                        .extend_from_slice(&errors[next_error..object.first_error]);
                    let (kind, ns, name) = &*object.key;
                    let message = format!("duplicate {kind} {ns}/{name}: also defined at {first}");
                    self.errors.push(object.duplicate.diagnostic(
                        &object.origin.file,
                        &object.key,
                        message,
                    ));
                    next_error = object.end_error;
                }
                None => {
                    // Kept with its errors' new places, for when this part
                    // is itself joined to another (a List's items into their file).
                    self.errors
                        .extend_from_slice(&errors[next_error..object.first_error]);
                    let first_error = self.errors.len();
                    self.errors
                        .extend_from_slice(&errors[object.first_error..object.end_error]);
                    next_error = object.end_error;
                    self.seen.insert(object.key.clone(), object.origin.clone());
                    self.loaded.push(LoadedObject {
                        first_error,
                        end_error: self.errors.len(),
                        ..object
                    });
                }
            }
        }
        self.errors.extend_from_slice(&errors[next_error..]);
        self.warnings.extend(warnings);
        self.workloads.extend(workloads);
        // Every field named: one a part can fill and the join forgot would be
        // lost silently.
        let Cluster {
            namespaces,
            endpoints,
            services,
            policies,
            cluster_policies,
            nodes,
            skipped,
            notes,
            workload_of,
            manifests,
            warnings: cluster_warnings,
        } = cluster;
        self.cluster.namespaces.extend(namespaces);
        self.cluster.endpoints.extend(endpoints);
        self.cluster.services.extend(services);
        self.cluster.policies.extend(policies);
        self.cluster.cluster_policies.extend(cluster_policies);
        self.cluster.nodes.extend(nodes);
        self.cluster.notes.extend(notes);
        self.cluster.workload_of.extend(workload_of);
        for m in manifests {
            if self.kept_replicas.first_manifest(&m) {
                self.cluster.manifests.push(m);
            }
        }
        self.cluster.warnings.extend(cluster_warnings);
        for (kind, n) in skipped {
            *self.cluster.skipped.entry(kind).or_default() += n;
        }
    }

    fn document(&mut self, file: &Arc<str>, doc: &Document, opts: &LoadOptions) {
        if let Some(items) = large_list_items(&doc.value) {
            // A live dump is often one List: its items are converted in
            // parallel, in chunks joined in order, so the result and the
            // diagnostics are those of converting them one after the other.
            let parts: Vec<Accumulator> = items
                .par_chunks(LIST_CHUNK)
                .enumerate()
                .map(|(c, chunk)| {
                    let mut part = Accumulator::default();
                    let todo = chunk
                        .iter()
                        .enumerate()
                        .rev()
                        .map(|(j, item)| (child_index("items", c * LIST_CHUNK + j), item))
                        .collect();
                    part.objects(file, doc, opts, todo);
                    part
                })
                .collect();
            for part in parts {
                self.join(part);
            }
            return;
        }
        self.objects(file, doc, opts, vec![(String::new(), &doc.value)]);
    }

    /// Converts item `index` of a List, parsed as a document of its own.
    fn list_item(&mut self, file: &Arc<str>, doc: &Document, index: usize, opts: &LoadOptions) {
        let todo = vec![(child_index("items", index), &doc.value)];
        self.objects(file, doc, opts, todo);
    }

    /// Converts the objects of `todo` (last first) and the items of the
    /// Lists among them.
    fn objects(
        &mut self,
        file: &Arc<str>,
        doc: &Document,
        opts: &LoadOptions,
        mut todo: Vec<(String, &Value)>,
    ) {
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
            if opts.keep_manifests && self.kept_replicas.first(kind, value, ns) {
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
            ctx.object = Some(object_label(kind, ns, name));
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
            let object = Object {
                kind,
                api_version,
                ns,
                name,
                declared_ns,
                label: ctx.object.take().unwrap_or_default(),
            };
            self.convert(file, doc, prefix, object, Body::Value(value), opts);
        }
    }

    /// Converts one object whose kind and apiVersion netpol reads, and
    /// records it for finding duplicates.
    fn convert(
        &mut self,
        file: &Arc<str>,
        doc: &Document,
        prefix: String,
        object: Object,
        body: Body,
        opts: &LoadOptions,
    ) {
        let Object {
            kind,
            api_version,
            ns,
            name,
            declared_ns,
            label,
        } = object;
        let mut ctx = Ctx {
            file,
            doc,
            prefix,
            object: Some(label),
            errors: &mut self.errors,
            warnings: &mut self.warnings,
            validation: opts.validation,
        };
        names::object_meta(&mut ctx, kind, name, declared_ns);
        let origin = At {
            file: file.clone(),
            line: ctx.line(""),
        };
        let key = Arc::new((kind.to_string(), ns.to_string(), name.to_string()));
        if let Some(first) = self.seen.get(&key) {
            ctx.error(
                "metadata.name",
                format!("duplicate {kind} {ns}/{name}: also defined at {first}"),
            );
            return;
        }
        self.seen.insert(key.clone(), origin.clone());
        let first_error = ctx.errors.len();
        let name_line = ctx.line("metadata.name");
        let default_ns = opts.default_namespace.as_str();
        match body {
            Body::Pod(pod) => {
                if let Some(w) = workload::pod(&mut ctx, *pod, default_ns) {
                    self.workloads.push(w);
                }
            }
            Body::Value(value) => match kind {
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
            },
        }
        let duplicate = NameAt {
            document: doc.index,
            line: name_line,
            prefix: std::mem::take(&mut ctx.prefix),
        };
        self.loaded.push(LoadedObject {
            key,
            origin,
            duplicate,
            first_error,
            end_error: self.errors.len(),
        });
    }

    fn finish(mut self) -> Result<Cluster, LoadErrors> {
        if !self.errors.is_empty() {
            return Err(LoadErrors(self.errors));
        }
        // What only joins needed is freed meanwhile, not before.
        let done = (
            std::mem::take(&mut self.seen),
            std::mem::take(&mut self.loaded),
        );
        let (resolved, ()) = rayon::join(
            || resolve_owners(std::mem::take(&mut self.workloads)),
            move || drop(done),
        );
        let Resolved {
            endpoints,
            notes,
            workload_of,
        } = resolved;
        self.cluster.workload_of = workload_of;
        self.cluster.warnings = std::mem::take(&mut self.warnings);
        self.cluster.endpoints = endpoints;
        self.cluster.notes.extend(notes);
        self.cluster.normalize();
        // Sorted by id, equal ids in input order: a clash lists its kinds
        // as they came.
        let clashes: Vec<Diagnostic> = self
            .cluster
            .endpoints
            .chunk_by(|a, b| a.id_cmp(b).is_eq())
            .filter(|same| same.len() > 1)
            .map(|same| {
                let kinds: Vec<&str> = same.iter().map(|e| e.kind.as_str()).collect();
                Diagnostic {
                    file: "<input>".into(),
                    document: 0,
                    line: 0,
                    object: None,
                    field: None,
                    message: format!("endpoint name {} is used by several workloads ({}); endpoints must have unique namespace/name", same[0].id(), kinds.join(", ")),
                }
            })
            .collect();
        if !clashes.is_empty() {
            return Err(LoadErrors(clashes));
        }
        Ok(self.cluster)
    }
}

/// Items of a List converted per chunk of this many, in parallel.
const LIST_CHUNK: usize = 256;

/// The items of a document that is a List with more than one chunk of
/// them: exactly the documents whose items [`Accumulator::objects`] would
/// read one by one without any error about the List itself.
fn large_list_items(value: &Value) -> Option<&[Value]> {
    let obj = value.as_object()?;
    let kind = obj.get("kind")?.as_str()?;
    obj.get("apiVersion")?.as_str()?;
    let items = obj.get("items")?.as_array()?;
    (kind.ends_with("List") && items.len() > LIST_CHUNK).then_some(items.as_slice())
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
