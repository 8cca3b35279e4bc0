//! What `to: ingress-backends[:CLASS]` means in a cluster: the destinations
//! of netpol-discover's ingress rule (Ingress backends and default backends,
//! auth-url services, Gateway API and Traefik routes), read from the
//! manifests each time the flows are expanded, so the flow follows the
//! Ingresses as they change.

use std::collections::{BTreeMap, BTreeSet};

use netpol_discover::rules::ingress;
use netpol_discover::{Context, Options, Peer};
use netpol_model::{Cluster, Protocol};

/// (class, backend workload).
type Backend = (Option<String>, String);

#[derive(Default)]
pub struct IngressRoutes {
    /// The ports each backend's pods receive the routes on.
    ports: BTreeMap<Backend, BTreeSet<(u16, Protocol)>>,
    /// Routes to addresses outside the pods, per class: `cidr:port (object)`.
    outside: Vec<(Option<String>, String)>,
    /// Backends and controllers that could not be resolved, per class.
    unresolved: Vec<(Option<String>, String)>,
    /// Why nothing could be read at all.
    error: Option<String>,
}

impl IngressRoutes {
    pub fn of(cluster: &Cluster) -> IngressRoutes {
        let mut out = IngressRoutes::default();
        if cluster.manifests.is_empty() {
            out.error = Some(
                "ingress-backends reads the Ingresses from the manifests, and none were kept: load with keep_manifests".into(),
            );
            return out;
        }
        let ctx = match Context::new(cluster, Options::default()) {
            Ok(c) => c,
            Err(diags) => {
                out.error = Some(format!(
                    "ingress-backends: the workloads could not be read: {}",
                    diags.first().map(|d| d.to_string()).unwrap_or_default()
                ));
                return out;
            }
        };
        let (routes, problems) = ingress::routes(&ctx);
        for r in routes {
            match &r.destination.peer {
                Peer::Workload(w) => {
                    out.ports
                        .entry((r.class.clone(), w.clone()))
                        .or_default()
                        .insert((r.destination.port, r.destination.protocol));
                }
                other => out.outside.push((
                    r.class.clone(),
                    format!(
                        "{other} port {} ({})",
                        r.destination.port, r.evidence.object
                    ),
                )),
            }
        }
        for p in problems {
            out.unresolved
                .push((None, format!("{}: {}", p.subject, p.reason)));
        }
        out.outside.sort();
        out.outside.dedup();
        out
    }

    /// The ports `workload`'s pods receive routes of `class` (every class
    /// when `None`) on; empty when it is no backend.
    pub fn ports_of(&self, class: Option<&str>, workload: &str) -> Vec<(u16, Protocol)> {
        let mut out: Vec<(u16, Protocol)> = self
            .ports
            .iter()
            .filter(|((c, w), _)| w == workload && class.is_none_or(|k| c.as_deref() == Some(k)))
            .flat_map(|(_, ports)| ports.iter().copied())
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// Notes for a flow to `ingress-backends[:class]`: what it cannot cover.
    pub fn findings(&self, class: Option<&str>) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if let Some(e) = &self.error {
            out.push(("no-manifests", e.clone()));
        }
        let of_class = |c: &Option<String>| class.is_none_or(|k| c.as_deref() == Some(k));
        let outside: Vec<&str> = self
            .outside
            .iter()
            .filter(|(c, _)| of_class(c))
            .map(|(_, t)| t.as_str())
            .collect();
        if !outside.is_empty() {
            out.push((
                "ingress-outside",
                format!(
                    "routes to addresses outside the pods need a flow of their own: {}",
                    outside.join(", ")
                ),
            ));
        }
        for (_, text) in &self.unresolved {
            out.push(("ingress-unresolved", text.clone()));
        }
        out
    }
}
