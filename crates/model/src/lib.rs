//! netpol's cluster model: the only code that knows Kubernetes YAML and JSON.
//!
//! [`load_paths`] turns manifests into a [`Cluster`]: namespaces, endpoints
//! (pods, or the pod templates of workloads), services and validated
//! NetworkPolicies. Every problem is reported with file, document, line and
//! field, and a cluster is produced only when there are none.

mod diag;
mod json;
mod lines;
mod load;
mod manifest;
pub mod text;
mod tiers;
mod types;
pub mod yaml;

pub use diag::{Diagnostic, LoadErrors};
pub use load::files::{MAX_INPUT_BYTES, read_file};
pub use load::names::{
    dns_label_error, dns_subdomain_error, dns1035_label_error, label_key_error, label_value_error,
    namespace_name_error, object_name_error, port_name_error,
};
pub use load::{
    LoadOptions, NOT_KUBERNETES, Source, Validation, load_paths, load_sources, read_paths,
    read_paths_noting, read_paths_within,
};
pub use manifest::{Manifest, field, get_path, is_cluster_scoped, item};
pub use tiers::*;
pub use types::*;
