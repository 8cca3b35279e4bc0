//! Gateway API routes (gateway.networking.k8s.io HTTPRoute, GRPCRoute,
//! TLSRoute, TCPRoute, UDPRoute): `parentRefs` -> Gateway -> the pods that
//! serve it -> `rules[].backendRefs` Services.

use serde_json::Value;

use super::controller::{Controller, flags, provider};
use super::{Routes, str_at};
use crate::json::Items;
use crate::{Confidence, Context, Evidence, ServicePortRef};
use netpol_model::Manifest;

const GROUP: &str = "gateway.networking.k8s.io";
const ROUTE_KINDS: [&str; 5] = ["HTTPRoute", "GRPCRoute", "TLSRoute", "TCPRoute", "UDPRoute"];

/// The pods that serve one Gateway. Data planes made per Gateway carry its
/// name in a label (the Gateway API's own, Envoy Gateway's); Traefik serves
/// the classes of its controller name.
fn gateway_pods(
    ctx: &Context,
    gateway: &Manifest,
    controller_name: Option<&str>,
) -> Vec<Controller> {
    let ns = gateway.namespace.as_deref().unwrap_or("default");
    let mut out = Vec::new();
    for w in &ctx.workloads {
        let label = |k: &str| w.labels.get(k).map(String::as_str);
        let labels_field = w.pod_metadata_field("labels");
        let by_label = (label("gateway.networking.k8s.io/gateway-name") == Some(&gateway.name)
            && w.namespace == ns)
            || (label("gateway.envoyproxy.io/owning-gateway-name") == Some(&gateway.name)
                && label("gateway.envoyproxy.io/owning-gateway-namespace") == Some(ns));
        if by_label {
            out.push(Controller {
                workload: w.id.clone(),
                confidence: Confidence::Certain,
                evidence: Evidence::at(
                    w.manifest,
                    &labels_field,
                    format!("serves Gateway {ns}/{}", gateway.name),
                ),
            });
            continue;
        }
        let flags = flags(w);
        if controller_name == Some("traefik.io/gateway-controller") {
            if let Some((field, v)) = provider(&flags, "kubernetesgateway") {
                if v != "false" {
                    out.push(Controller {
                        workload: w.id.clone(),
                        confidence: Confidence::Certain,
                        evidence: Evidence::at(w.manifest, field, "--providers.kubernetesgateway"),
                    });
                }
            }
        }
    }
    out
}

pub(super) fn http_routes(ctx: &Context, out: &mut Routes) {
    for kind in ROUTE_KINDS {
        for route in ctx.objects(kind).iter().filter(|m| m.group() == GROUP) {
            one_route(ctx, out, route);
        }
    }
}

fn one_route(ctx: &Context, out: &mut Routes, route: &Manifest) {
    let ns = route.namespace.as_deref().unwrap_or("default");
    let mut controllers: Vec<Controller> = Vec::new();
    let mut class = None;
    let parents = route.get("spec.parentRefs").items();
    for (pi, p) in parents.enumerate() {
        let kind = p.get("kind").and_then(Value::as_str).unwrap_or("Gateway");
        if kind != "Gateway" {
            continue;
        }
        let Some(name) = p.get("name").and_then(Value::as_str) else {
            continue;
        };
        let gns = p.get("namespace").and_then(Value::as_str).unwrap_or(ns);
        let field = format!("spec.parentRefs[{pi}]");
        let Some(gw) = ctx
            .objects("Gateway")
            .iter()
            .find(|g| g.group() == GROUP && g.name == name && g.namespace.as_deref() == Some(gns))
        else {
            out.problem(
                Evidence::at(route, &field, format!("{gns}/{name}")),
                format!("Gateway {gns}/{name} is not in the input"),
            );
            continue;
        };
        let class_name = str_at(&gw.value, "spec.gatewayClassName");
        let controller_name = class_name.and_then(|c| {
            ctx.objects("GatewayClass")
                .iter()
                .find(|g| g.name == c)
                .and_then(|g| str_at(&g.value, "spec.controllerName"))
        });
        let found = gateway_pods(ctx, gw, controller_name);
        if found.is_empty() {
            out.problem(
                Evidence::at(route, &field, format!("{gns}/{name}")),
                format!(
                    "no pods serving Gateway {gns}/{name} (class {}, controller {}) found in the input",
                    class_name.unwrap_or("?"),
                    controller_name.unwrap_or("?")
                ),
            );
        }
        class = class_name.map(str::to_string).or(class);
        controllers.extend(found);
    }
    if controllers.is_empty() {
        return;
    }
    let rules = route.get("spec.rules").items();
    for (ri, r) in rules.enumerate() {
        let refs = r.get("backendRefs").items();
        for (bi, b) in refs.enumerate() {
            let kind = b.get("kind").and_then(Value::as_str).unwrap_or("Service");
            let group = b.get("group").and_then(Value::as_str).unwrap_or("");
            let Some(name) = b.get("name").and_then(Value::as_str) else {
                continue;
            };
            let field = format!("spec.rules[{ri}].backendRefs[{bi}]");
            if kind != "Service" || !group.is_empty() {
                out.problem(
                    Evidence::at(route, &field, format!("{kind} {name}")),
                    format!("backend of kind {kind} is not followed"),
                );
                continue;
            }
            let bns = b.get("namespace").and_then(Value::as_str).unwrap_or(ns);
            let port = b
                .get("port")
                .and_then(Value::as_u64)
                .and_then(|n| u16::try_from(n).ok());
            let (port, text) = match port {
                Some(n) => (ServicePortRef::Number(n), format!("{name}:{n}")),
                None => (ServicePortRef::All, name.to_string()),
            };
            out.add(
                ctx,
                class.as_deref(),
                &controllers,
                bns,
                name,
                port,
                Evidence::at(route, &field, text),
                false,
            );
        }
    }
}
