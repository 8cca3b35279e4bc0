//! The per-object context that conversions report problems through.

use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::Validation;
use super::strict::{self, Found};
use crate::diag::Diagnostic;
use crate::types::Origin;
use crate::yaml::{Document, child_index, child_key, full_path};

pub(crate) struct Ctx<'a> {
    pub file: &'a Arc<str>,
    pub doc: &'a Document,
    /// Path of the object within its document (`items[3]` inside a List).
    pub prefix: String,
    pub object: Option<String>,
    pub errors: &'a mut Vec<Diagnostic>,
    /// Problems that `--validate=warn` reports without failing.
    pub warnings: &'a mut Vec<Diagnostic>,
    pub validation: Validation,
}

impl Ctx<'_> {
    pub fn full_path(&self, field: &str) -> String {
        full_path(&self.prefix, field)
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

    pub(crate) fn diagnostic(&self, field: &str, message: String) -> Diagnostic {
        Diagnostic {
            file: self.file.to_string(),
            document: self.doc.index,
            line: self.line(field),
            object: self.object.clone(),
            field: (!field.is_empty()).then(|| self.full_path(field)),
            message,
        }
    }

    pub fn error(&mut self, field: &str, message: impl Into<String>) {
        let diagnostic = self.diagnostic(field, message.into());
        self.errors.push(diagnostic);
    }

    /// Deserializes into a `k8s-openapi` type; a type mismatch becomes a
    /// diagnostic at the offending field, and so does an unknown field
    /// (`--validate=strict`; a warning with `warn`, nothing with `ignore`).
    pub fn typed<T: DeserializeOwned>(&mut self, value: &Value) -> Option<T> {
        let mut found = Found::new(self.validation != Validation::Ignore);
        let result = T::deserialize(strict::De::new(value, &found));
        for unknown in found.unknown() {
            let diagnostic = self.diagnostic(&unknown.path, unknown.message());
            match self.validation {
                Validation::Warn => self.warnings.push(diagnostic),
                _ => self.errors.push(diagnostic),
            }
        }
        match result {
            Ok(v) => Some(v),
            Err(err) => {
                let path = found.error_path();
                self.error(&path, err.to_string());
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
