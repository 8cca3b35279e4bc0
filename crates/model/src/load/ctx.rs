//! The per-object context that conversions report problems through.

use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::diag::Diagnostic;
use crate::types::Origin;
use crate::yaml::{Document, child_index, child_key};

pub(crate) struct Ctx<'a> {
    pub file: &'a Arc<str>,
    pub doc: &'a Document,
    /// Path of the object within its document (`items[3]` inside a List).
    pub prefix: String,
    pub object: Option<String>,
    pub errors: &'a mut Vec<Diagnostic>,
}

impl Ctx<'_> {
    pub fn full_path(&self, field: &str) -> String {
        match (self.prefix.is_empty(), field.is_empty()) {
            (true, _) => field.to_string(),
            (false, true) => self.prefix.clone(),
            (false, false) if field.starts_with('[') => format!("{}{field}", self.prefix),
            (false, false) => format!("{}.{field}", self.prefix),
        }
    }

    pub fn line(&self, field: &str) -> usize {
        self.doc.lines.line(&self.full_path(field))
    }

    pub fn origin(&self, field: &str) -> Origin {
        Origin {
            file: self.file.clone(),
            document: self.doc.index,
            line: self.line(field),
        }
    }

    pub fn error(&mut self, field: &str, message: impl Into<String>) {
        let diagnostic = Diagnostic {
            file: self.file.to_string(),
            document: self.doc.index,
            line: self.line(field),
            object: self.object.clone(),
            field: (!field.is_empty()).then(|| self.full_path(field)),
            message: message.into(),
        };
        self.errors.push(diagnostic);
    }

    /// Deserializes into a `k8s-openapi` type; a type mismatch becomes a
    /// diagnostic at the offending field.
    pub fn typed<T: DeserializeOwned>(&mut self, value: &Value) -> Option<T> {
        match serde_path_to_error::deserialize::<_, T>(value) {
            Ok(v) => Some(v),
            Err(err) => {
                let path = err.path().to_string();
                let path = if path == "." { String::new() } else { path };
                let message = err.into_inner().to_string();
                self.error(&path, message);
                None
            }
        }
    }
}

pub(crate) fn key(path: &str, k: &str) -> String {
    child_key(path, k)
}

pub(crate) fn idx(path: &str, i: usize) -> String {
    child_index(path, i)
}
