//! Ingress controllers need to reach what they route to: every backend of an
//! Ingress (networking.k8s.io/v1), Gateway API HTTPRoute and Traefik
//! IngressRoute, on the port the backend pods receive on, plus the auth
//! services that ingress-nginx (`auth-url`) and Traefik (`forwardAuth`)
//! call before letting a request through.
//!
//! The controller is found through the IngressClass's `spec.controller` (or
//! the class name, the default IngressClass, the legacy annotation) matched
//! to a workload by flags, image and labels ([`controller`]). Certain when
//! the flags or the image's documented default say so, likely when only a
//! convention does.

pub(crate) mod backend;
pub mod controller;
mod gateway;
mod traefik;

use serde_json::Value;

use crate::json::Items;
use crate::{Context, Evidence, Peer, ServicePortRef, Sink, url};
pub use backend::Destination;
use controller::{Class, Controller};

pub const NAME: &str = "ingress";

/// One route from a controller to a backend, with everything that says so:
/// what the rule turns into a connection, and what the flows file's
/// `ingress-backends` endpoint expands to.
#[derive(Clone, Debug)]
pub struct Route {
    /// The class the route belongs to (`nginx`, `traefik`, a GatewayClass),
    /// when one is known.
    pub class: Option<String>,
    pub controller: Controller,
    pub destination: Destination,
    /// Where the backend is named (the Ingress path, the IngressRoute service).
    pub evidence: Evidence,
    /// `Ingress`, `HTTPRoute`, `IngressRoute` or an auth annotation: what
    /// kind of route, for readers; `auth` routes are not backends.
    pub auth: bool,
}

/// Why a route could not be followed.
pub struct Problem {
    pub subject: String,
    pub reason: String,
    pub evidence: Evidence,
}

/// Every route of the input, and what could not be resolved.
pub fn routes(ctx: &Context) -> (Vec<Route>, Vec<Problem>) {
    let mut out = Routes::default();
    ingresses(ctx, &mut out);
    default_backend_services(ctx, &mut out);
    traefik::ingress_routes(ctx, &mut out);
    gateway::http_routes(ctx, &mut out);
    (out.routes, out.problems)
}

pub fn run(ctx: &Context, sink: &mut Sink) {
    let (routes, problems) = routes(ctx);
    for r in routes {
        let confidence = r.controller.confidence;
        for evidence in [r.evidence, r.controller.evidence] {
            sink.connect(
                Peer::Workload(r.controller.workload.clone()),
                r.destination.peer.clone(),
                r.destination.port,
                r.destination.protocol,
                NAME,
                confidence,
                evidence,
            );
        }
    }
    for p in problems {
        sink.unresolved(p.subject, NAME, p.reason, p.evidence);
    }
}

#[derive(Default)]
pub(crate) struct Routes {
    routes: Vec<Route>,
    problems: Vec<Problem>,
}

impl Routes {
    /// Routes from every controller to the Service's destinations, or a
    /// problem naming why there are none.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn add(
        &mut self,
        ctx: &Context,
        class: Option<&str>,
        controllers: &[Controller],
        namespace: &str,
        service: &str,
        port: ServicePortRef,
        evidence: Evidence,
        auth: bool,
    ) {
        match backend::resolve(ctx, namespace, service, port) {
            Ok(destinations) => {
                for c in controllers {
                    for d in &destinations {
                        if Peer::Workload(c.workload.clone()) == d.peer {
                            continue;
                        }
                        self.routes.push(Route {
                            class: class.map(str::to_string),
                            controller: c.clone(),
                            destination: d.clone(),
                            evidence: evidence.clone(),
                            auth,
                        });
                    }
                }
            }
            Err(reason) => self.problems.push(Problem {
                subject: evidence.object.clone(),
                reason,
                evidence,
            }),
        }
    }

    pub(crate) fn problem(&mut self, evidence: Evidence, reason: impl Into<String>) {
        self.problems.push(Problem {
            subject: evidence.object.clone(),
            reason: reason.into(),
            evidence,
        });
    }
}

pub(crate) fn str_at<'v>(v: &'v Value, path: &str) -> Option<&'v str> {
    netpol_model::get_path(v, path).and_then(Value::as_str)
}

pub(crate) fn annotation<'v>(v: &'v Value, key: &str) -> Option<&'v str> {
    v.get("metadata")?.get("annotations")?.get(key)?.as_str()
}

/// The class an Ingress belongs to: its `ingressClassName`, the legacy
/// annotation, or the default IngressClass; with the field that says so.
fn ingress_class<'c>(
    ctx: &'c Context,
    ing: &'c netpol_model::Manifest,
) -> Option<(String, &'c str, String)> {
    if let Some(name) = str_at(&ing.value, "spec.ingressClassName") {
        return Some((name.to_string(), "spec.ingressClassName", name.to_string()));
    }
    if let Some(name) = annotation(&ing.value, "kubernetes.io/ingress.class") {
        return Some((
            name.to_string(),
            "metadata.annotations.kubernetes.io/ingress.class",
            name.to_string(),
        ));
    }
    let default = ctx.objects("IngressClass").iter().find(|c| {
        annotation(&c.value, "ingressclass.kubernetes.io/is-default-class") == Some("true")
    })?;
    Some((
        default.name.clone(),
        "spec",
        format!("default IngressClass {}", default.name),
    ))
}

fn class_controllers(ctx: &Context, name: Option<&str>) -> Vec<Controller> {
    let Some(name) = name else {
        return controller::classless(ctx);
    };
    let object = ctx.objects("IngressClass").iter().find(|c| c.name == name);
    let controller = object.and_then(|c| str_at(&c.value, "spec.controller"));
    controller::controllers(
        ctx,
        &Class {
            name: Some(name),
            controller,
        },
    )
}

/// A host name an ingress controller answers for, and the controllers.
#[derive(Clone, Debug)]
pub struct Host {
    pub host: String,
    pub controllers: Vec<Controller>,
    /// The workloads its routes lead to.
    pub backends: Vec<String>,
    /// Where the host is declared (`spec.rules[0].host`, a `Host()` match).
    pub evidence: Evidence,
}

/// The host names of the Ingresses and Traefik IngressRoutes, with the
/// controllers that serve them. Wildcard hosts are kept as written (`*.example.com`).
pub fn hosts(ctx: &Context) -> Vec<Host> {
    let mut out = Vec::new();
    for ing in ctx.objects("Ingress") {
        if ing.group() != "networking.k8s.io" && ing.group() != "extensions" {
            continue;
        }
        let class = ingress_class(ctx, ing);
        let controllers = class_controllers(ctx, class.as_ref().map(|c| c.0.as_str()));
        let rules = ing.get("spec.rules").and_then(Value::as_array);
        let ns = ing.namespace.as_deref().unwrap_or("default");
        for (ri, rule) in rules.into_iter().flatten().enumerate() {
            if let Some(h) = rule.get("host").and_then(Value::as_str) {
                let paths = netpol_model::get_path(rule, "http.paths").and_then(Value::as_array);
                let backends = paths
                    .into_iter()
                    .flatten()
                    .filter_map(|p| {
                        let svc = netpol_model::get_path(p, "backend.service.name")?.as_str()?;
                        Some(workloads_of(ctx, ns, svc))
                    })
                    .flatten()
                    .collect();
                out.push(Host {
                    host: h.to_ascii_lowercase(),
                    controllers: controllers.clone(),
                    backends,
                    evidence: Evidence::at(ing, &format!("spec.rules[{ri}].host"), h),
                });
            }
        }
    }
    out.extend(traefik::hosts(ctx));
    out
}

/// ingress-nginx's `--default-backend-service=ns/name`: where requests no
/// Ingress matches go.
fn default_backend_services(ctx: &Context, out: &mut Routes) {
    for w in &ctx.workloads {
        let flags = controller::flags(w);
        let Some((field, value)) = controller::flag(&flags, "default-backend-service") else {
            continue;
        };
        let Some((ns, name)) = value.split_once('/') else {
            continue;
        };
        // The chart writes `$(POD_NAMESPACE)/name`, expanded from the pod's env.
        let ns = if ns == "$(POD_NAMESPACE)" {
            w.namespace.as_str()
        } else {
            ns
        };
        let class = controller::flag(&flags, "ingress-class").map(|(_, c)| c);
        let me = Controller {
            workload: w.id.clone(),
            confidence: crate::Confidence::Certain,
            evidence: Evidence::at(
                w.manifest,
                field,
                format!("--default-backend-service={value}"),
            ),
        };
        let evidence = me.evidence.clone();
        out.add(
            ctx,
            class,
            &[me],
            ns,
            name,
            ServicePortRef::All,
            evidence,
            false,
        );
    }
}

/// The workloads behind a Service, on any port.
fn workloads_of(ctx: &Context, namespace: &str, service: &str) -> Vec<String> {
    backend::resolve(ctx, namespace, service, ServicePortRef::All)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|d| match d.peer {
            Peer::Workload(w) => Some(w),
            _ => None,
        })
        .collect()
}

fn ingresses(ctx: &Context, out: &mut Routes) {
    for ing in ctx.objects("Ingress") {
        if ing.group() != "networking.k8s.io" && ing.group() != "extensions" {
            continue;
        }
        let ns = ing.namespace.as_deref().unwrap_or("default");
        let class = ingress_class(ctx, ing);
        let controllers = class_controllers(ctx, class.as_ref().map(|c| c.0.as_str()));
        if controllers.is_empty() {
            let (field, text) = match &class {
                Some((_, field, text)) => (*field, text.clone()),
                None => ("spec", "no ingress class".to_string()),
            };
            out.problem(
                Evidence::at(ing, field, text),
                match &class {
                    Some((name, ..)) => format!("no ingress controller for class {name} found in the input"),
                    None => "no IngressClass, no default IngressClass and no controller that takes Ingresses without a class".to_string(),
                },
            );
            continue;
        }
        let class_name = class.as_ref().map(|c| c.0.as_str());
        let mut backends = Vec::new();
        if let Some(b) = ing
            .get("spec.defaultBackend")
            .or_else(|| ing.get("spec.backend"))
        {
            let path = if ing.get("spec.defaultBackend").is_some() {
                "spec.defaultBackend"
            } else {
                "spec.backend"
            };
            backends.push((path.to_string(), b));
        }
        for (ri, rule) in ing.get("spec.rules").items().enumerate() {
            let paths = netpol_model::get_path(rule, "http.paths").items();
            for (pi, p) in paths.enumerate() {
                if let Some(b) = p.get("backend") {
                    backends.push((format!("spec.rules[{ri}].http.paths[{pi}].backend"), b));
                }
            }
        }
        for (path, b) in backends {
            let (service, port, field) = if let Some(svc) = b.get("service") {
                let port = match (
                    netpol_model::get_path(svc, "port.number").and_then(Value::as_u64),
                    str_at(svc, "port.name"),
                ) {
                    (Some(n), _) => u16::try_from(n).ok().map(ServicePortRef::Number),
                    (None, Some(name)) => Some(ServicePortRef::Name(name)),
                    (None, None) => None,
                };
                (
                    svc.get("name").and_then(Value::as_str),
                    port,
                    format!("{path}.service"),
                )
            } else {
                // extensions/v1beta1 style: serviceName / servicePort.
                let port = b.get("servicePort").and_then(ServicePortRef::from_json);
                (
                    b.get("serviceName").and_then(Value::as_str),
                    port,
                    path.clone(),
                )
            };
            let Some(service) = service else {
                if b.get("resource").is_some() {
                    out.problem(Evidence::at(ing, &format!("{path}.resource"), "resource backend"), "a resource backend is served by the controller itself or its provider: not a pod");
                }
                continue;
            };
            let Some(port) = port else {
                out.problem(Evidence::at(ing, &field, service), "backend names no port");
                continue;
            };
            let text = match port {
                ServicePortRef::Number(n) => format!("{service}:{n}"),
                ServicePortRef::Name(n) => format!("{service}:{n}"),
                ServicePortRef::All => service.to_string(),
            };
            out.add(
                ctx,
                class_name,
                &controllers,
                ns,
                service,
                port,
                Evidence::at(ing, &field, text),
                false,
            );
        }
        for key in ["nginx.ingress.kubernetes.io/auth-url", "nginx.org/auth-url"] {
            if let Some(url) = annotation(&ing.value, key) {
                let evidence = Evidence::at(ing, &format!("metadata.annotations.{key}"), url);
                auth(ctx, out, class_name, &controllers, evidence, ns, url);
            }
        }
    }
}

/// An external-auth URL the controller calls for each request: an
/// in-cluster Service, or a host outside the cluster (reported: which pods
/// answer it depends on DNS outside the manifests).
pub(crate) fn auth(
    ctx: &Context,
    out: &mut Routes,
    class: Option<&str>,
    controllers: &[Controller],
    evidence: Evidence,
    namespace: &str,
    url: &str,
) {
    let Some(target) = url::parse(url) else {
        out.problem(evidence, "auth URL without a host netpol can read");
        return;
    };
    let Some(service) = ctx.service_for_host(&target.host, namespace) else {
        out.problem(
            evidence,
            format!("auth URL host {} is not a Service of the input (an outside host, or through the ingress itself)", target.host),
        );
        return;
    };
    let port = target
        .port
        .map_or(ServicePortRef::All, ServicePortRef::Number);
    let (ns, name) = (service.namespace.clone(), service.name.clone());
    out.add(ctx, class, controllers, &ns, &name, port, evidence, true);
}
