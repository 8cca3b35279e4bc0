//! Synthetic clusters for tests and benchmarks: namespaces with labels,
//! workloads with labels and named ports, Services, and NetworkPolicies that
//! use every construct of `networking.k8s.io/v1`. The same parameters and
//! seed always give the same cluster.

mod emit;
mod generate;
mod rng;

pub use emit::{File, HEADER, to_files, to_yaml, write_dir};
pub use generate::{DNS_NAMESPACE, Params, generate, summary};
pub use rng::Rng;
