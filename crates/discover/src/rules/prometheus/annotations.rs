//! The `prometheus.io/scrape: "true"` convention (with `prometheus.io/port`)
//! on pods and Services. Only a scrape config that reads these annotations
//! honours them (`__meta_kubernetes_pod_annotation_prometheus_io_scrape`),
//! so the scraper is the workload that mounts such a config (likely); when
//! no config in the input does, each Prometheus is a guess.

use netpol_model::{Manifest, Protocol};
use serde_json::Value;

use super::{Scraper, Server};
use crate::sources::{self, config_maps_seen};
use crate::{Confidence, Context, Evidence, Peer, ServicePortRef, Sink};

/// ConfigMaps whose data carries an annotation-driven kubernetes_sd job.
fn annotation_configs<'c>(ctx: &Context<'c>) -> Vec<(&'c Manifest, String)> {
    let mut out = Vec::new();
    for cm in ctx.objects("ConfigMap") {
        for (key, entry) in sources::data(cm) {
            let text = &entry.value;
            if text.contains("kubernetes_sd_configs")
                && (text.contains("prometheus_io_scrape") || text.contains("prometheus.io/scrape"))
            {
                out.push((*cm, key));
            }
        }
    }
    out
}

fn scrapers(ctx: &Context, servers: &[Server]) -> Vec<Scraper> {
    let mut out = Vec::new();
    for (cm, key) in annotation_configs(ctx) {
        for w in &ctx.workloads {
            if Some(w.namespace.as_str()) == cm.namespace.as_deref()
                && config_maps_seen(w).contains(&cm.name)
            {
                out.push(Scraper {
                    workload: w.id.clone(),
                    confidence: Confidence::Likely,
                    evidence: Evidence::at(
                        cm,
                        &format!("data.{key}"),
                        "kubernetes_sd_configs keeping prometheus.io/scrape",
                    ),
                });
            }
        }
    }
    if !out.is_empty() {
        return out;
    }
    // Nobody in the input is seen reading the annotations: each Prometheus
    // might (an additionalScrapeConfigs secret, a config we cannot read).
    for s in servers {
        for p in &s.pods {
            out.push(Scraper {
                workload: p.clone(),
                confidence: Confidence::Guess,
                evidence: Evidence::at(s.manifest, "spec", s.manifest.display_name()),
            });
        }
    }
    if out.is_empty() {
        out = Scraper::conventional(ctx);
    }
    out
}

fn annotation_of<'v>(annotations: Option<&'v Value>, key: &str) -> Option<&'v str> {
    annotations?.get(key)?.as_str()
}

/// `covered`: what the monitors already found, which the annotations only repeat.
pub(super) fn run(
    ctx: &Context,
    sink: &mut Sink,
    servers: &[Server],
    covered: &super::monitors::Covered,
) {
    let mut targets: Vec<(Peer, u16, Evidence)> = Vec::new();
    for w in &ctx.workloads {
        let path = w.pod_metadata_field("annotations");
        let annotations = w.manifest.get(&path);
        if annotation_of(annotations, "prometheus.io/scrape") != Some("true") {
            continue;
        }
        let port =
            annotation_of(annotations, "prometheus.io/port").and_then(|p| p.parse::<u16>().ok());
        let (field, text) = match port {
            Some(p) => (
                format!("{path}.prometheus.io/port"),
                format!("prometheus.io/port: {p}"),
            ),
            None => (
                format!("{path}.prometheus.io/scrape"),
                "prometheus.io/scrape: true".to_string(),
            ),
        };
        let evidence = Evidence::at(w.manifest, &field, text);
        let ports: Vec<u16> = match port {
            Some(p) => vec![p],
            None => w
                .pod_spec
                .containers
                .iter()
                .flat_map(|c| c.ports.iter().flatten())
                .filter(|p| p.protocol.as_deref().unwrap_or("TCP") == "TCP")
                .filter_map(|p| u16::try_from(p.container_port).ok())
                .collect(),
        };
        for p in ports {
            targets.push((Peer::Workload(w.id.clone()), p, evidence.clone()));
        }
    }
    for m in ctx.objects("Service") {
        let annotations = m.get("metadata.annotations");
        if annotation_of(annotations, "prometheus.io/scrape") != Some("true") {
            continue;
        }
        let Some(svc) = ctx.service(m.namespace.as_deref().unwrap_or("default"), &m.name) else {
            continue;
        };
        let port =
            annotation_of(annotations, "prometheus.io/port").and_then(|p| p.parse::<u16>().ok());
        let (field, text) = match port {
            Some(p) => (
                "metadata.annotations.prometheus.io/port",
                format!("prometheus.io/port: {p}"),
            ),
            None => (
                "metadata.annotations.prometheus.io/scrape",
                "prometheus.io/scrape: true".to_string(),
            ),
        };
        let evidence = Evidence::at(m, field, text);
        let backends = ctx.backends(svc, ServicePortRef::All);
        let mut seen = std::collections::BTreeSet::new();
        for b in backends.into_iter().filter(|b| b.protocol == Protocol::Tcp) {
            // The endpoints job rewrites every endpoint's port to the annotation's.
            let p = port.unwrap_or(b.port);
            if seen.insert((b.peer.clone(), p)) {
                targets.push((b.peer, p, evidence.clone()));
            }
        }
    }
    if targets.is_empty() {
        return;
    }
    let scrapers = scrapers(ctx, servers);
    for (dst, port, evidence) in targets {
        for s in &scrapers {
            if !covered.contains(&(s.workload.clone(), dst.clone(), port)) {
                s.scrape(sink, &dst, port, &evidence);
            }
        }
    }
}
