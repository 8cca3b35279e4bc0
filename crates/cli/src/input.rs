//! The PATH arguments and `-n` that every command reading manifests shares.

use std::path::PathBuf;

use clap::Args;
use netpol_model::{Cluster, LoadOptions, NOT_KUBERNETES, load_paths};

use crate::exit::Failure;

#[derive(Args, Debug, Clone)]
pub struct Input {
    /// Manifest files or directories (read recursively: .yaml, .yml, .json); `-` reads stdin
    #[arg(value_name = "PATH", required = true)]
    pub paths: Vec<PathBuf>,

    /// Namespace for objects that name none
    #[arg(
        short = 'n',
        long = "namespace",
        value_name = "NS",
        default_value = "default"
    )]
    pub namespace: String,
}

impl Input {
    pub fn load(&self) -> Result<Cluster, Failure> {
        self.load_with(false)
    }

    /// Also keeps every object as written, for what reads more than the
    /// connectivity model (the flows' `ingress-backends`, discovery).
    pub fn load_keeping_manifests(&self) -> Result<Cluster, Failure> {
        self.load_with(true)
    }

    fn load_with(&self, keep_manifests: bool) -> Result<Cluster, Failure> {
        let opts = LoadOptions {
            default_namespace: self.namespace.clone(),
            keep_manifests,
        };
        let cluster = load_paths(&self.paths, &opts).map_err(Failure::Load)?;
        let kinds: Vec<String> = cluster
            .skipped
            .iter()
            .filter(|(k, _)| k.as_str() != NOT_KUBERNETES)
            .map(|(k, n)| format!("{n} {k}"))
            .collect();
        if !kinds.is_empty() {
            eprintln!(
                "note: skipped kinds netpol does not model: {}",
                kinds.join(", ")
            );
        }
        if let Some(n) = cluster.skipped.get(NOT_KUBERNETES) {
            eprintln!(
                "note: skipped {n} document(s) without apiVersion and kind: not Kubernetes objects"
            );
        }
        Ok(cluster)
    }
}
