//! Pods of a JSON List read straight from their text into the typed Pod:
//! no `Value` tree and no line index. A live dump is one Pod per endpoint,
//! so this is most of its load.
//!
//! Only a Pod that reads cleanly is taken this way. Anything a diagnostic
//! would report (an unknown field, a repeated key, a type error, an invalid
//! label, a duplicate Pod) sends the item back to the parsed path, which
//! reports it with its line; so does any Pod when manifests are kept.
//!
//! Nothing is charged to the expansion budget here: it bounds what aliases
//! can multiply a text into, and JSON has none; the input cap bounds the
//! text, and no tree is built from it.

use std::sync::Arc;

use k8s_openapi::api::core::v1 as core;
use serde::Deserialize;

use super::strict::{De, Found};
use super::{Accumulator, Body, LoadOptions, Object};
use crate::json::Head;
use crate::lines::LinesBuilder;
use crate::yaml::{Document, child_index};

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
        if opts.keep_manifests {
            return false;
        }
        let Some(head) = crate::json::head(text, line) else {
            return false;
        };
        if head.kind != Some("Pod") || head.api_version != Some("v1") {
            return false;
        }
        let found = Found::exact();
        let mut de = serde_json::Deserializer::from_str(text);
        let pod = match core::Pod::deserialize(De::new(&mut de, &found)) {
            Ok(pod) if de.end().is_ok() && !found.any() => pod,
            _ => return false,
        };
        let prefix = child_index("items", index);
        let doc = Document {
            index: 1,
            value: serde_json::Value::Null,
            lines: Arc::new(head_lines(&head, line, &prefix)),
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

/// The lines a clean Pod's conversion asks for: the item's own (its
/// origin) and that of `metadata.name` (where a later file's duplicate is
/// reported), each at the line the parsed path's index gives it.
fn head_lines(head: &Head, line: usize, prefix: &str) -> crate::lines::LineIndex {
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
    let mut index = b.finish(line);
    index.prefix = prefix.to_string();
    index
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

    /// A clean Pod is taken by this path, with the origin and the name's
    /// line the parsed path would give; a Pod with a problem is left
    /// entirely to the parsed path.
    #[test]
    fn clean_pods_are_taken_and_others_left_untouched() {
        let opts = LoadOptions::default();
        let (taken, acc) = take(POD, &opts);
        assert!(taken);
        assert_eq!(acc.workloads.len(), 1);
        let e = &acc.workloads[0].endpoint;
        assert_eq!((e.namespace.as_str(), e.name.as_str()), ("shop", "web-0"));
        assert_eq!((e.origin.line, e.ports.len()), (7, 1));
        assert_eq!(acc.loaded[0].duplicate.line, 7 + 5);
        assert_eq!(acc.loaded[0].origin.to_string(), "pods.json:7");

        for bad in [
            POD.replace("\"app\": \"web\"", "\"app\": \"web\", \"app\": \"db\""),
            POD.replace("\"name\": \"main\"", "\"name\": \"main\", \"nam\": 1"),
            POD.replace("\"app\": \"web\"", "\"app\": \"-web\""),
            POD.replace("10.0.0.1", "10.0.0.256"),
            POD.replace("\"kind\": \"Pod\"", "\"kind\": \"Service\""),
        ] {
            let (taken, acc) = take(&bad, &opts);
            assert!(!taken, "{bad}");
            assert!(acc.workloads.is_empty() && acc.loaded.is_empty() && acc.seen.is_empty());
            assert!(acc.errors.is_empty() && acc.warnings.is_empty());
        }
        let keep = LoadOptions {
            keep_manifests: true,
            ..LoadOptions::default()
        };
        assert!(!take(POD, &keep).0);
    }
}
