//! Traefik's own routes: IngressRoute (traefik.io/v1alpha1 and the older
//! traefik.containo.us) `routes[].services[]`, one level of TraefikService
//! (weighted, mirroring), and `forwardAuth` middlewares.

use serde_json::Value;

use super::controller::{Controller, flags, provider};
use super::{Routes, annotation, auth, str_at};
use crate::json::Items;
use crate::{Confidence, Context, Evidence, ServicePortRef};
use netpol_model::Manifest;

const GROUPS: [&str; 2] = ["traefik.io", "traefik.containo.us"];

/// Workloads that run Traefik's CRD provider.
fn crd_controllers(ctx: &Context) -> Vec<Controller> {
    let mut out = Vec::new();
    for w in &ctx.workloads {
        let flags = flags(w);
        let traefik_image = w.pod_spec.containers.iter().any(|c| {
            c.image.as_deref().is_some_and(|i| {
                let repo = i.split(['@']).next().unwrap_or(i);
                let repo = repo
                    .rsplit_once(':')
                    .map_or(repo, |(r, t)| if t.contains('/') { repo } else { r });
                let last = repo.rsplit('/').next().unwrap_or(repo);
                last == "traefik" || last.ends_with("-traefik")
            })
        });
        if let Some((field, v)) = provider(&flags, "kubernetescrd") {
            if v != "false" {
                let text = flags
                    .iter()
                    .find(|(f, _)| f == field)
                    .map(|(_, a)| a.clone())
                    .unwrap_or_default();
                out.push(Controller {
                    workload: w.id.clone(),
                    confidence: Confidence::Certain,
                    evidence: Evidence::at(w.manifest, field, text),
                });
            }
        } else if traefik_image && !flags.iter().any(|(_, a)| a.contains("--providers.")) {
            // Configured by a file we cannot read: Traefik, by its image.
            let ci = w
                .pod_spec
                .containers
                .iter()
                .position(|c| c.image.as_deref().is_some_and(|i| i.contains("traefik")))
                .unwrap_or(0);
            let field = w.field(&format!("containers[{ci}].image"));
            let image = w.pod_spec.containers[ci].image.clone().unwrap_or_default();
            out.push(Controller {
                workload: w.id.clone(),
                confidence: Confidence::Likely,
                evidence: Evidence::at(w.manifest, &field, image),
            });
        }
    }
    out
}

fn is_traefik(m: &Manifest) -> bool {
    GROUPS.contains(&m.group())
}

/// Traefik's IngressRoutes (another CRD may share the kind name).
fn ingress_route_objects<'c>(ctx: &Context<'c>) -> Vec<&'c Manifest> {
    ctx.objects("IngressRoute")
        .iter()
        .copied()
        .filter(|m| is_traefik(m))
        .collect()
}

pub(super) fn ingress_routes(ctx: &Context, out: &mut Routes) {
    let routes = ingress_route_objects(ctx);
    if routes.is_empty() {
        return;
    }
    let controllers = crd_controllers(ctx);
    for route in routes {
        let ns = route.namespace.as_deref().unwrap_or("default");
        if controllers.is_empty() {
            out.problem(
                Evidence::at(route, "spec.routes", "IngressRoute"),
                "no Traefik with the kubernetescrd provider found in the input",
            );
            continue;
        }
        let rules = route.get("spec.routes").items();
        for (ri, r) in rules.enumerate() {
            let services = r.get("services").items();
            for (si, s) in services.enumerate() {
                let field = format!("spec.routes[{ri}].services[{si}]");
                service(ctx, out, &controllers, route, ns, s, &field, 0);
            }
            let middlewares = r.get("middlewares").items();
            for m in middlewares {
                let Some(name) = m.get("name").and_then(Value::as_str) else {
                    continue;
                };
                let mns = m.get("namespace").and_then(Value::as_str).unwrap_or(ns);
                forward_auth(ctx, out, &controllers, mns, name);
            }
        }
    }
    // Middlewares used by plain Ingresses through the router annotation.
    for ing in ctx.objects("Ingress") {
        let Some(list) = annotation(
            &ing.value,
            "traefik.ingress.kubernetes.io/router.middlewares",
        ) else {
            continue;
        };
        for entry in list.split(',') {
            let entry = entry.trim().trim_end_matches("@kubernetescrd");
            // `<namespace>-<name>`: try every split where such a Middleware exists.
            for (i, _) in entry.match_indices('-') {
                forward_auth(ctx, out, &controllers, &entry[..i], &entry[i + 1..]);
            }
        }
    }
}

/// The `Host(`...`)` names of IngressRoute matches.
pub(super) fn hosts(ctx: &Context) -> Vec<super::Host> {
    let routes = ingress_route_objects(ctx);
    if routes.is_empty() {
        return Vec::new();
    }
    let controllers = crd_controllers(ctx);
    let mut out = Vec::new();
    for route in routes {
        let rules = route.get("spec.routes").items();
        for (ri, r) in rules.enumerate() {
            let Some(m) = r.get("match").and_then(Value::as_str) else {
                continue;
            };
            let field = format!("spec.routes[{ri}].match");
            let ns = route.namespace.as_deref().unwrap_or("default");
            let backends: Vec<String> = r
                .get("services")
                .items()
                .filter(|s| s.get("kind").and_then(Value::as_str).unwrap_or("Service") == "Service")
                .filter_map(|s| {
                    let name = s.get("name")?.as_str()?;
                    let sns = s.get("namespace").and_then(Value::as_str).unwrap_or(ns);
                    Some(super::workloads_of(ctx, sns, name))
                })
                .flatten()
                .collect();
            for (i, _) in m.match_indices("Host(") {
                let args = &m[i + 5..];
                let args = &args[..args.find(')').unwrap_or(args.len())];
                for h in args.split(',') {
                    let h = h.trim().trim_matches(['`', '"', '\'']);
                    if !h.is_empty() {
                        out.push(super::Host {
                            host: h.to_ascii_lowercase(),
                            controllers: controllers.clone(),
                            backends: backends.clone(),
                            evidence: Evidence::at(route, &field, m),
                        });
                    }
                }
            }
        }
    }
    out
}

fn forward_auth(
    ctx: &Context,
    out: &mut Routes,
    controllers: &[Controller],
    namespace: &str,
    name: &str,
) {
    let Some(m) = ctx
        .objects("Middleware")
        .iter()
        .find(|m| is_traefik(m) && m.name == name && m.namespace.as_deref() == Some(namespace))
    else {
        return;
    };
    if let Some(address) = str_at(&m.value, "spec.forwardAuth.address") {
        let evidence = Evidence::at(m, "spec.forwardAuth.address", address);
        auth(
            ctx,
            out,
            Some("traefik"),
            controllers,
            evidence,
            namespace,
            address,
        );
    }
}

#[allow(clippy::too_many_arguments)]
fn service(
    ctx: &Context,
    out: &mut Routes,
    controllers: &[Controller],
    object: &Manifest,
    ns: &str,
    s: &Value,
    field: &str,
    depth: usize,
) {
    let Some(name) = s.get("name").and_then(Value::as_str) else {
        return;
    };
    let kind = s.get("kind").and_then(Value::as_str).unwrap_or("Service");
    let sns = s.get("namespace").and_then(Value::as_str).unwrap_or(ns);
    if kind == "TraefikService" {
        if name.contains('@') {
            // api@internal, noop@internal: served inside Traefik itself.
            return;
        }
        let Some(ts) = ctx
            .objects("TraefikService")
            .iter()
            .find(|m| is_traefik(m) && m.name == name && m.namespace.as_deref() == Some(sns))
        else {
            out.problem(
                Evidence::at(object, field, name),
                format!("TraefikService {sns}/{name} is not in the input"),
            );
            return;
        };
        if depth > 0 {
            out.problem(
                Evidence::at(object, field, name),
                "nested TraefikServices are not followed",
            );
            return;
        }
        let mut inner: Vec<(String, &Value)> = Vec::new();
        for (i, v) in ts.get("spec.weighted.services").items().enumerate() {
            inner.push((format!("spec.weighted.services[{i}]"), v));
        }
        if let Some(m) = ts.get("spec.mirroring") {
            inner.push(("spec.mirroring".to_string(), m));
            for (i, v) in m.get("mirrors").items().enumerate() {
                inner.push((format!("spec.mirroring.mirrors[{i}]"), v));
            }
        }
        for (f, v) in inner {
            service(ctx, out, controllers, ts, sns, v, &f, depth + 1);
        }
        return;
    }
    let port = match s.get("port") {
        None => Some(ServicePortRef::All),
        Some(p) => ServicePortRef::from_json(p),
    };
    let Some(port) = port else { return };
    let text = match port {
        ServicePortRef::Number(n) => format!("{name}:{n}"),
        ServicePortRef::Name(p) => format!("{name}:{p}"),
        ServicePortRef::All => name.to_string(),
    };
    out.add(
        ctx,
        Some("traefik"),
        controllers,
        sns,
        name,
        port,
        Evidence::at(object, field, text),
        false,
    );
}
