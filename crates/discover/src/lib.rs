//! What the workloads need, from evidence in their manifests.
//!
//! Each rule in [`rules`] reads one kind of evidence (env URLs, Ingress
//! backends, monitors, webhooks, DNS, ...) and proposes connections at
//! workload level, each carrying the evidence that produced it, so that a
//! reviewer can judge it and `verify` can cite it. Rules only propose; nothing
//! here decides what policies allow.

mod connection;
mod context;
mod endpoints;
mod json;
mod resolve;
pub mod rules;
mod sources;
mod url;

pub use connection::{Confidence, Connection, Discovery, Evidence, Peer, Sink, Unresolved};
pub use context::{Context, Options, Workload};
pub use resolve::{Backend, ServicePortRef};

use netpol_model::{Cluster, Diagnostic};

/// Runs every rule on a cluster loaded with `LoadOptions::keep_manifests`.
pub fn discover(cluster: &Cluster, options: Options) -> Result<Discovery, Vec<Diagnostic>> {
    let ctx = Context::new(cluster, options)?;
    let mut sink = Sink::default();
    for rule in rules::ALL {
        (rule.run)(&ctx, &mut sink);
    }
    Ok(sink.finish())
}
