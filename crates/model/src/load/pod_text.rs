//! Pods of a List read straight into the typed Pod: those of a JSON List
//! from their text, those of a YAML List from the fast reader's events; no
//! `Value` tree and no line index. A live dump is one Pod per endpoint, so
//! this is most of its load.
//!
//! Only a Pod that reads cleanly is taken this way. Anything a diagnostic
//! would report (an unknown field, a repeated key, a type error, an invalid
//! label, a duplicate Pod) sends the item back to the parsed path, which
//! reports it with its line; so does a Pod whose manifest is kept (the
//! first of its workload's, when manifests are kept).
//!
//! A JSON Pod is not charged to the expansion budget: it bounds what
//! aliases can multiply a text into, and JSON has none; the input cap
//! bounds the text, and no tree is built from it. A YAML item is charged
//! what its tree would cost, whichever way it is read.

use std::sync::Arc;

use k8s_openapi::api::core::v1 as core;
use serde::Deserialize;

use super::strict::{De, Found};
use super::{Accumulator, Body, LoadOptions, Object};
use crate::json::Head;
use crate::lines::{LineIndex, LinesBuilder};
use crate::yaml::{Document, ListItem, child_index};

impl Accumulator {
    /// Converts item `index` of a JSON List, `text` starting at `line`, if
    /// it is a Pod that reads cleanly; false (and nothing changed) when the
    /// parsed path must read it.
    pub(super) fn pod_from_text(
        &mut self,
        file: &Arc<str>,
        (text, line): (&str, usize),
        index: usize,
        opts: &LoadOptions,
    ) -> bool {
        let Some(head) = crate::json::head(text, line) else {
            return false;
        };
        if !is_pod(&head) {
            return false;
        }
        let found = Found::exact();
        let mut de = serde_json::Deserializer::from_str(text);
        match core::Pod::deserialize(De::new(&mut de, &found)) {
            Ok(pod) if de.end().is_ok() && !found.any() && !self.keeps_manifest(&pod, opts) => {
                self.take_pod(file, pod, head_lines(&head, line, index), opts)
            }
            _ => false,
        }
    }

    /// The same for an item of a YAML List, read from the fast reader's
    /// events.
    pub(super) fn pod_from_yaml(
        &mut self,
        file: &Arc<str>,
        item: &ListItem,
        opts: &LoadOptions,
    ) -> bool {
        let Some(head) = item.head() else {
            return false;
        };
        if !is_pod(&head) {
            return false;
        }
        let found = Found::exact();
        let mut de = item.de();
        match core::Pod::deserialize(De::new(&mut de, &found)) {
            Ok(pod) if de.finished() && !found.any() && !self.keeps_manifest(&pod, opts) => {
                let lines = head_lines(&head, item.line(), item.index());
                self.take_pod(file, pod, lines, opts)
            }
            _ => false,
        }
    }

    /// Whether `pod` is to keep its manifest: the parsed path keeps it. Of
    /// a workload's Pods only the first does ([`super::replicas`]); the
    /// others are read here like any Pod.
    fn keeps_manifest(&self, pod: &core::Pod, opts: &LoadOptions) -> bool {
        if !opts.keep_manifests {
            return false;
        }
        let ns = pod
            .metadata
            .namespace
            .as_deref()
            .unwrap_or(&opts.default_namespace);
        !self.kept_replicas.has(&pod.metadata, ns)
    }

    /// Converts a Pod read cleanly, whose object answers `lines`; false
    /// (and nothing changed) when the conversion reports anything.
    fn take_pod(
        &mut self,
        file: &Arc<str>,
        pod: core::Pod,
        lines: LineIndex,
        opts: &LoadOptions,
    ) -> bool {
        let prefix = lines.prefix.clone();
        let doc = Document {
            index: 1,
            value: serde_json::Value::Null,
            lines: Arc::new(lines),
        };
        let ns = pod
            .metadata
            .namespace
            .clone()
            .unwrap_or_else(|| opts.default_namespace.clone());
        let name = pod.metadata.name.clone().unwrap_or_default();
        let declared_ns = pod.metadata.namespace.clone().filter(|ns| !ns.is_empty());
        let before = Marks::of(self);
        let object = Object {
            kind: "Pod",
            api_version: "v1",
            ns: &ns,
            name: &name,
            declared_ns: declared_ns.as_deref(),
            label: super::object_label("Pod", &ns, &name),
        };
        self.convert(file, &doc, prefix, object, Body::Pod(Box::new(pod)), opts);
        if before.reported(self) {
            before.undo(self, ("Pod", ns.as_str(), name.as_str()));
            return false;
        }
        true
    }
}

fn is_pod(head: &Head) -> bool {
    head.kind == Some("Pod") && head.api_version == Some("v1")
}

/// The lines a clean Pod's conversion asks for: item `index`'s own (its
/// origin, `line`) and that of `metadata.name` (where a later file's
/// duplicate is reported), each at the line the parsed path's index gives
/// it.
fn head_lines(head: &Head, line: usize, index: usize) -> LineIndex {
    let mut b = LinesBuilder::default();
    b.open(line, None, true);
    if let Some(at) = head.metadata_line {
        b.open(at, Some("metadata"), true);
        if let Some(at) = head.name_line {
            b.node(at, Some("name"));
        }
        b.close();
    }
    b.close();
    let mut lines = b.finish(line);
    lines.prefix = child_index("items", index);
    lines
}

/// How far an accumulator's lists were before a conversion.
struct Marks {
    errors: usize,
    warnings: usize,
    workloads: usize,
    loaded: usize,
}

impl Marks {
    fn of(acc: &Accumulator) -> Self {
        Marks {
            errors: acc.errors.len(),
            warnings: acc.warnings.len(),
            workloads: acc.workloads.len(),
            loaded: acc.loaded.len(),
        }
    }

    fn reported(&self, acc: &Accumulator) -> bool {
        acc.errors.len() > self.errors || acc.warnings.len() > self.warnings
    }

    /// Takes back what the conversion of object `key` added.
    fn undo(&self, acc: &mut Accumulator, (kind, ns, name): (&str, &str, &str)) {
        acc.errors.truncate(self.errors);
        acc.warnings.truncate(self.warnings);
        acc.workloads.truncate(self.workloads);
        if acc.loaded.len() > self.loaded {
            acc.loaded.truncate(self.loaded);
            acc.seen
                .remove(&(kind.to_string(), ns.to_string(), name.to_string()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POD: &str = r#"{
  "apiVersion": "v1",
  "kind": "Pod",
  "metadata": {
    "labels": {"app": "web"},
    "name": "web-0",
    "namespace": "shop"
  },
  "spec": {"containers": [{"name": "main", "ports": [{"containerPort": 80}]}]},
  "status": {"podIP": "10.0.0.1"}
}"#;

    fn take(text: &str, opts: &LoadOptions) -> (bool, Accumulator) {
        let mut acc = Accumulator::default();
        let file: Arc<str> = Arc::from("pods.json");
        let taken = acc.pod_from_text(&file, (text, 7), 2, opts);
        (taken, acc)
    }

    /// How `take` reads a clean Pod (`pod`, starting at `at` in `file`),
    /// each of the `bad` ones, and the clean one when manifests are kept.
    fn takes_clean_pods_only(
        take: impl Fn(&str, &LoadOptions) -> (bool, Accumulator),
        pod: &str,
        bad: &[String],
        (file, at): (&str, usize),
    ) {
        let opts = LoadOptions::default();
        let (taken, acc) = take(pod, &opts);
        assert!(taken);
        assert_eq!(acc.workloads.len(), 1);
        let e = &acc.workloads[0].endpoint;
        assert_eq!((e.namespace.as_str(), e.name.as_str()), ("shop", "web-0"));
        assert_eq!((e.origin.line, e.ports.len()), (at, 1));
        assert_eq!(acc.loaded[0].duplicate.line, at + 5);
        assert_eq!(acc.loaded[0].origin.to_string(), format!("{file}:{at}"));
        for bad in bad {
            let (taken, acc) = take(bad, &opts);
            assert!(!taken, "{bad}");
            assert!(acc.workloads.is_empty() && acc.loaded.is_empty() && acc.seen.is_empty());
            assert!(acc.errors.is_empty() && acc.warnings.is_empty());
        }
        let keep = LoadOptions {
            keep_manifests: true,
            ..LoadOptions::default()
        };
        assert!(!take(pod, &keep).0);
    }

    /// A clean Pod is taken by this path, with the origin and the name's
    /// line the parsed path would give; a Pod with a problem is left
    /// entirely to the parsed path.
    #[test]
    fn clean_pods_are_taken_and_others_left_untouched() {
        let bad = [
            POD.replace("\"app\": \"web\"", "\"app\": \"web\", \"app\": \"db\""),
            POD.replace("\"name\": \"main\"", "\"name\": \"main\", \"nam\": 1"),
            POD.replace("\"app\": \"web\"", "\"app\": \"-web\""),
            POD.replace("10.0.0.1", "10.0.0.256"),
            POD.replace("\"kind\": \"Pod\"", "\"kind\": \"Service\""),
        ];
        takes_clean_pods_only(take, POD, &bad, ("pods.json", 7));
    }

    const YAML_POD: &str = "- apiVersion: v1
  kind: Pod
  metadata:
    labels:
      app: web
    name: web-0
    namespace: shop
  spec:
    containers:
    - name: main
      ports:
      - containerPort: 80
  status:
    podIP: 10.0.0.1
";

    fn take_yaml(item: &str, opts: &LoadOptions) -> (bool, Accumulator) {
        let text = format!("apiVersion: v1\nkind: List\nitems:\n{item}");
        let budget = crate::yaml::Budget::default();
        let list = crate::yaml::large_list(&text, 0, &budget).expect("a List");
        let item = crate::yaml::list_item_tokens(&list, 0, &budget).expect("an item");
        let mut acc = Accumulator::default();
        let taken = acc.pod_from_yaml(&Arc::from("pods.yaml"), &item, opts);
        (taken, acc)
    }

    /// The same for an item of a YAML List, read from its events.
    #[test]
    fn clean_yaml_pods_are_taken_and_others_left_untouched() {
        let bad = [
            YAML_POD.replace("app: web", "app: web\n      app: db"),
            YAML_POD.replace("- name: main", "- name: main\n      nam: 1"),
            YAML_POD.replace("app: web", "app: -web"),
            YAML_POD.replace("app: web", "app: 1.0"),
            YAML_POD.replace("10.0.0.1", "10.0.0.256"),
            YAML_POD.replace("kind: Pod", "kind: Service"),
        ];
        takes_clean_pods_only(take_yaml, YAML_POD, &bad, ("pods.yaml", 4));
    }
}
