//! The PATH arguments, `-n` and `--validate` that every command reading manifests shares.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use netpol_model::{Cluster, LoadOptions, NOT_KUBERNETES, Validation, load_paths};

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
        default_value = "default",
        value_parser = namespace_name
    )]
    pub namespace: String,

    /// Unknown fields, as `kubectl apply --validate`: an error, a warning, or dropped silently
    #[arg(long = "validate", value_enum, value_name = "MODE", default_value_t = Validate::Strict)]
    pub validate: Validate,

    /// The most read from all PATHs together, e.g. 1Gi (Ki, Mi, Gi, Ti; k, M, G, T): a live dump of a very large cluster needs more than the default
    #[arg(long = "max-input-size", value_name = "SIZE", default_value = "256Mi", value_parser = byte_size)]
    pub max_input_size: u64,
}

/// A size as Kubernetes quantities write it: a whole number of bytes with
/// an optional binary (`Ki`..`Ti`) or decimal (`k`..`T`) suffix.
pub fn byte_size(s: &str) -> Result<u64, String> {
    let digits = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (number, suffix) = s.split_at(digits);
    let whole = "expected a whole number of bytes, e.g. 512Mi or 2Gi";
    if number.is_empty() || suffix.starts_with(|c: char| !c.is_ascii_alphabetic()) {
        return Err(whole.into());
    }
    let unit: u64 = match suffix {
        "" => 1,
        "k" => 1_000,
        "M" => 1_000_000,
        "G" => 1_000_000_000,
        "T" => 1_000_000_000_000,
        "Ki" => 1 << 10,
        "Mi" => 1 << 20,
        "Gi" => 1 << 30,
        "Ti" => 1 << 40,
        _ => {
            return Err(format!(
                "unknown suffix {suffix:?}: use a number of bytes, optionally with Ki, Mi, Gi, Ti, k, M, G or T"
            ));
        }
    };
    let n: u64 = number.parse().map_err(|_| whole.to_string())?;
    match n.checked_mul(unit) {
        Some(0) => Err("must be more than 0 bytes".into()),
        Some(bytes) => Ok(bytes),
        None => Err("too large".into()),
    }
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum Validate {
    /// An unknown field is an error (kubectl's default)
    #[value(alias = "true")]
    Strict,
    /// An unknown field is reported on stderr; the rest goes on
    Warn,
    /// Unknown fields are dropped, as the API server does without validation
    #[value(alias = "false")]
    Ignore,
}

impl From<Validate> for Validation {
    fn from(v: Validate) -> Self {
        match v {
            Validate::Strict => Validation::Strict,
            Validate::Warn => Validation::Warn,
            Validate::Ignore => Validation::Ignore,
        }
    }
}

/// `-n` must be a namespace the API server would accept.
pub fn namespace_name(s: &str) -> Result<String, String> {
    match netpol_model::namespace_name_error(s) {
        Some(e) => Err(e),
        None => Ok(s.to_string()),
    }
}

/// The model, kept until the process ends: a command runs once, and freeing
/// a live dump's model allocation by allocation is time spent on nothing
/// (a tenth of `verify`'s at 30,000 pods, seconds at 150,000).
fn kept(cluster: Cluster) -> &'static Cluster {
    Box::leak(Box::new(cluster))
}

impl Input {
    pub fn load(&self) -> Result<&'static Cluster, Failure> {
        let cluster = self.load_quietly(false)?;
        completeness_notes(&cluster, true);
        Ok(kept(cluster))
    }

    /// For inputs that may well hold no NetworkPolicy: what `gen` reads, a
    /// side of `diff`, and `lint` (which reports it as NP013).
    pub fn load_without_policies(&self) -> Result<&'static Cluster, Failure> {
        let cluster = self.load_quietly(false)?;
        completeness_notes(&cluster, false);
        Ok(kept(cluster))
    }

    /// Keeping every object as written (`Cluster::manifests`), for what reads
    /// more than the connectivity model (discovery, the flows' `ingress-backends`).
    pub fn load_with_manifests(&self, expect_policies: bool) -> Result<&'static Cluster, Failure> {
        let cluster = self.load_quietly(true)?;
        completeness_notes(&cluster, expect_policies);
        Ok(kept(cluster))
    }

    fn load_quietly(&self, keep_manifests: bool) -> Result<Cluster, Failure> {
        let opts = LoadOptions {
            default_namespace: self.namespace.clone(),
            validation: self.validate.into(),
            keep_manifests,
            max_input_bytes: self.max_input_size,
        };
        let cluster = load_paths(&self.paths, &opts).map_err(Failure::Load)?;
        for w in &cluster.warnings {
            eprintln!("warning: {w}");
        }
        let kinds: Vec<String> = cluster
            .skipped
            .iter()
            .filter(|(k, _)| k.as_str() != NOT_KUBERNETES)
            .map(|(k, n)| format!("{n} {k}"))
            .collect();
        // Discovery reads those kinds itself, so the note would mislead.
        if !kinds.is_empty() && !keep_manifests {
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

/// `kubectl get all` leaves Namespaces and NetworkPolicies out: without them
/// every namespaceSelector on a namespace's own labels matches nothing, and
/// without policies everything is allowed. Either answer would look right.
fn completeness_notes(cluster: &Cluster, expect_policies: bool) {
    if cluster.endpoints.is_empty() {
        return;
    }
    const DUMP: &str =
        "README \"Input\" has the kubectl command that dumps everything netpol reads";
    if !cluster.namespaces.values().any(|n| n.declared) {
        eprintln!(
            "warning: the input has workloads but no Namespace objects: namespaceSelectors see only each namespace's kubernetes.io/metadata.name label (`kubectl get all` leaves Namespaces out; {DUMP})"
        );
    }
    // ClusterNetworkPolicies isolate too: then the input is not policy-free.
    if expect_policies && cluster.policies.is_empty() && cluster.cluster_policies.is_empty() {
        eprintln!(
            "warning: the input has workloads but no NetworkPolicy at all: nothing is isolated, every connection is allowed (`kubectl get all` leaves NetworkPolicies out; {DUMP})"
        );
    }
}
