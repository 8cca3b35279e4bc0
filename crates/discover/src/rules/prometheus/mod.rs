//! Prometheus scrapes what its monitors select. ServiceMonitor, PodMonitor
//! and ScrapeConfig (monitoring.coreos.com) objects are resolved through
//! each Prometheus object's selectors, with prometheus-operator's semantics
//! (a null monitor selector selects nothing, an empty one everything; a null
//! namespace selector means the Prometheus object's own namespace), to the
//! pods of the StatefulSet the operator runs for it. The
//! `prometheus.io/scrape` annotations are the weaker rule in [`annotations`].

mod annotations;
mod monitors;
pub mod selector;

use netpol_model::{Manifest, Protocol};
use serde_json::Value;

use crate::json::Items;
use crate::{Confidence, Context, Evidence, Peer, Sink};
use selector::{labels_at, matches};

pub const NAME: &str = "prometheus";

pub fn run(ctx: &Context, sink: &mut Sink) {
    let servers = servers(ctx);
    alerting(ctx, sink, &servers);
    let covered = monitors::run(ctx, sink, &servers);
    annotations::run(ctx, sink, &servers, &covered);
}

/// A Prometheus object and the workloads that run it.
pub(crate) struct Server<'c> {
    pub manifest: &'c Manifest,
    pub namespace: String,
    /// The operator's StatefulSet(s): `prometheus-<name>` (and its shards).
    pub pods: Vec<String>,
}

/// Prometheus objects of the input, with their StatefulSets.
fn servers<'c>(ctx: &Context<'c>) -> Vec<Server<'c>> {
    ctx.objects("Prometheus")
        .iter()
        .filter(|m| m.group() == "monitoring.coreos.com")
        .map(|m| {
            let ns = m.namespace.clone().unwrap_or_default();
            let sts = format!("{ns}/prometheus-{}", m.name);
            let pods = ctx
                .workloads
                .iter()
                .filter(|w| {
                    w.id == sts
                        || w.namespace == ns
                            && (w.labels.get("operator.prometheus.io/name") == Some(&m.name))
                })
                .map(|w| w.id.clone())
                .collect();
            Server {
                manifest: m,
                namespace: ns,
                pods,
            }
        })
        .collect()
}

/// `spec.alerting.alertmanagers[]` of a Prometheus object: the Alertmanager
/// Services it sends alerts to (`namespace`, `name`, `port` by name or number).
fn alerting(ctx: &Context, sink: &mut Sink, servers: &[Server]) {
    for s in servers {
        let list = s.manifest.get("spec.alerting.alertmanagers").items();
        for (i, am) in list.enumerate() {
            let field = format!("spec.alerting.alertmanagers[{i}]");
            let Some(name) = am.get("name").and_then(Value::as_str) else {
                continue;
            };
            let ns = am
                .get("namespace")
                .and_then(Value::as_str)
                .unwrap_or(&s.namespace);
            let port = match am.get("port") {
                Some(Value::String(p)) => crate::ServicePortRef::Name(p),
                Some(Value::Number(n)) => n
                    .as_u64()
                    .and_then(|n| u16::try_from(n).ok())
                    .map_or(crate::ServicePortRef::All, crate::ServicePortRef::Number),
                _ => crate::ServicePortRef::All,
            };
            let evidence = Evidence::at(s.manifest, &field, format!("{ns}/{name}"));
            let backends = ctx
                .service(ns, name)
                .map(|svc| ctx.backends(svc, port))
                .unwrap_or_default();
            if backends.is_empty() {
                sink.unresolved(
                    s.manifest.display_name(),
                    NAME,
                    format!(
                        "alertmanager Service {ns}/{name} has no pods on that port in the input"
                    ),
                    evidence.clone(),
                );
            }
            for b in backends {
                for p in &s.pods {
                    sink.connect(
                        crate::Peer::Workload(p.clone()),
                        b.peer.clone(),
                        b.port,
                        b.protocol,
                        NAME,
                        Confidence::Certain,
                        evidence.clone(),
                    );
                }
            }
        }
    }
}

/// Workloads that look like an operator-run Prometheus, for monitors when
/// the input has no Prometheus object to say which one selects them.
fn conventional_servers(ctx: &Context) -> Vec<(String, Evidence)> {
    ctx.workloads
        .iter()
        .filter(|w| {
            w.labels.get("app.kubernetes.io/name").map(String::as_str) == Some("prometheus")
                && w.labels.contains_key("operator.prometheus.io/name")
        })
        .map(|w| {
            let field = w.pod_metadata_field("labels");
            (
                w.id.clone(),
                Evidence::at(w.manifest, &field, "app.kubernetes.io/name: prometheus"),
            )
        })
        .collect()
}

/// Whether `server` selects `monitor` through `spec.<kind>Selector` and
/// `spec.<kind>NamespaceSelector`; the evidence is the selector.
fn selects(ctx: &Context, server: &Server, kind: &str, monitor: &Manifest) -> Option<Evidence> {
    let field = format!("spec.{kind}Selector");
    let sel = server.manifest.get(&field).filter(|v| !v.is_null())?;
    if !matches(sel, &labels_at(&monitor.value, "metadata.labels")) {
        return None;
    }
    let monitor_ns = monitor.namespace.as_deref().unwrap_or("default");
    let ns_field = format!("spec.{kind}NamespaceSelector");
    let in_ns = match server.manifest.get(&ns_field).filter(|v| !v.is_null()) {
        None => monitor_ns == server.namespace,
        Some(nsel) => ctx
            .cluster
            .namespace_labels(monitor_ns)
            .is_some_and(|l| matches(nsel, l)),
    };
    in_ns.then(|| Evidence::at(server.manifest, &field, compact(sel)))
}

fn compact(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// A scraper of a monitor or of annotated pods: a workload, how sure, and why.
struct Scraper {
    workload: String,
    confidence: Confidence,
    evidence: Evidence,
}

impl Scraper {
    /// Operator-run Prometheus pods, when nothing says who scrapes: guesses.
    fn conventional(ctx: &Context) -> Vec<Scraper> {
        conventional_servers(ctx)
            .into_iter()
            .map(|(workload, evidence)| Scraper {
                workload,
                confidence: Confidence::Guess,
                evidence,
            })
            .collect()
    }

    /// The scrape of `dst` on `port`, citing the target's evidence and the
    /// scraper's; none from a workload to itself.
    fn scrape(&self, sink: &mut Sink, dst: &Peer, port: u16, evidence: &Evidence) -> bool {
        let src = Peer::Workload(self.workload.clone());
        if src == *dst {
            return false;
        }
        for ev in [evidence, &self.evidence] {
            sink.connect(
                src.clone(),
                dst.clone(),
                port,
                Protocol::Tcp,
                NAME,
                self.confidence,
                ev.clone(),
            );
        }
        true
    }
}

/// Who scrapes `monitor`: the Prometheus objects that select it (certain),
/// or, without any Prometheus object, operator-run Prometheus pods (guess).
/// Problems go to the sink as unresolved evidence.
fn scrapers(
    ctx: &Context,
    sink: &mut Sink,
    servers: &[Server],
    kind: &str,
    monitor: &Manifest,
) -> Vec<Scraper> {
    let at = Evidence::at(monitor, "metadata", monitor.display_name());
    if servers.is_empty() {
        let found = Scraper::conventional(ctx);
        if found.is_empty() {
            sink.unresolved(
                monitor.display_name(),
                NAME,
                "no Prometheus object or Prometheus StatefulSet in the input",
                at,
            );
        }
        return found;
    }
    let mut out = Vec::new();
    let mut selected = false;
    for s in servers {
        let Some(evidence) = selects(ctx, s, kind, monitor) else {
            continue;
        };
        selected = true;
        if s.pods.is_empty() {
            sink.unresolved(
                monitor.display_name(),
                NAME,
                format!(
                    "{} selects it, but its StatefulSet prometheus-{} (pods labelled operator.prometheus.io/name={}) is not in the input",
                    s.manifest.display_name(),
                    s.manifest.name,
                    s.manifest.name
                ),
                evidence.clone(),
            );
        }
        for p in &s.pods {
            out.push(Scraper {
                workload: p.clone(),
                confidence: Confidence::Certain,
                evidence: evidence.clone(),
            });
        }
    }
    if !selected {
        sink.unresolved(
            monitor.display_name(),
            NAME,
            "no Prometheus object of the input selects it",
            at,
        );
    }
    out
}
