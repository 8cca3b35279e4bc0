//! Synthetic clusters for tests and benchmarks: namespaces with labels,
//! workloads with labels and named ports, Services, and NetworkPolicies that
//! use every construct of `networking.k8s.io/v1`. The same parameters and
//! seed always give the same cluster.

mod emit;
mod generate;
mod live;
mod rng;
mod tiers;

pub use emit::{File, Format, HEADER, reshape, to_files, to_yaml, write_dir, write_files};
pub use generate::{DNS_NAMESPACE, Params, generate, summary};
pub use live::{PodFields, live, to_live_files, to_live_files_with};
pub use rng::Rng;
pub use tiers::{cluster_policy_files, with_cluster_policies};
