//! The PATH arguments and `-n` that every command reading manifests shares.

use std::path::PathBuf;

use clap::Args;
use netpol_model::{Cluster, LoadOptions, load_paths};

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
        let opts = LoadOptions {
            default_namespace: self.namespace.clone(),
        };
        let cluster = load_paths(&self.paths, &opts).map_err(Failure::Load)?;
        if !cluster.skipped.is_empty() {
            let kinds: Vec<String> = cluster
                .skipped
                .iter()
                .map(|(k, n)| format!("{n} {k}"))
                .collect();
            eprintln!(
                "note: skipped kinds netpol does not model: {}",
                kinds.join(", ")
            );
        }
        Ok(cluster)
    }
}
