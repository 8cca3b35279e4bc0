//! The legacy AdminNetworkPolicy and BaselineAdminNetworkPolicy
//! (policy.networking.k8s.io/v1alpha1, network-policy-api v0.1.x), read onto
//! the Admin and Baseline tiers. Upstream dropped their CRDs for
//! ClusterNetworkPolicy; loading one leaves a note saying so.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Deserialize;
use serde_json::Value;

use super::cluster_policy::{
    RawEgressPeer, RawIngressPeer, RawPorts, RawSubject, RuleParts, port_number, priority,
    rule_common, rules, subject,
};
use super::ctx::{Ctx, key};
use super::names;
use crate::tiers::{ClusterPolicy, Tier, TierPort};
use crate::types::{Direction, Protocol};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Raw {
    #[allow(dead_code)]
    api_version: Option<String>,
    #[allow(dead_code)]
    kind: Option<String>,
    #[serde(default)]
    metadata: ObjectMeta,
    spec: Option<RawSpec>,
    #[allow(dead_code)]
    status: Option<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawSpec {
    priority: Option<i64>,
    subject: Option<RawSubject>,
    ingress: Option<Vec<RawIngressRule>>,
    egress: Option<Vec<RawEgressRule>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawIngressRule {
    name: Option<String>,
    action: Option<String>,
    from: Option<Vec<RawIngressPeer>>,
    ports: Option<Vec<RawPort>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawEgressRule {
    name: Option<String>,
    action: Option<String>,
    to: Option<Vec<RawEgressPeer>>,
    ports: Option<Vec<RawPort>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawPort {
    port_number: Option<RawPortNumber>,
    named_port: Option<String>,
    port_range: Option<RawPortRange>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawPortNumber {
    protocol: Option<String>,
    port: Option<i64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawPortRange {
    protocol: Option<String>,
    start: Option<i64>,
    end: Option<i64>,
}

/// The priority a BaselineAdminNetworkPolicy, which has none, takes in the
/// Baseline tier: after every ClusterNetworkPolicy of that tier.
pub(crate) const BASELINE_LEGACY_PRIORITY: u32 = 1000;

pub(crate) fn load(ctx: &mut Ctx, kind: &str, value: &Value) -> Option<ClusterPolicy> {
    let raw: Raw = ctx.typed(value)?;
    let before = ctx.errors.len();
    let name = raw.metadata.name.clone().filter(|n| !n.is_empty());
    if name.is_none() {
        ctx.error("metadata.name", "a name is required");
    }
    let Some(spec) = raw.spec else {
        ctx.error("spec", "required value");
        return None;
    };
    let baseline = kind == "BaselineAdminNetworkPolicy";
    let priority = if baseline {
        if name.as_deref().is_some_and(|n| n != "default") {
            ctx.error(
                "metadata.name",
                "only one baseline admin network policy with metadata.name=\"default\" can be created in the cluster",
            );
        }
        if spec.priority.is_some() {
            ctx.error(
                "spec.priority",
                "unknown field \"priority\": a BaselineAdminNetworkPolicy has none",
            );
        }
        Some(BASELINE_LEGACY_PRIORITY)
    } else {
        priority(ctx, spec.priority)
    };
    let actions: &[&str] = if baseline {
        &["Allow", "Deny"]
    } else {
        &["Allow", "Deny", "Pass"]
    };
    let subject = subject(ctx, "spec.subject", spec.subject.as_ref());
    let ingress = rules(
        ctx,
        Direction::Ingress,
        spec.ingress.as_deref(),
        |ctx, d, path, r| {
            let parts = RuleParts {
                name: r.name.as_deref(),
                action: r.action.as_deref(),
                peers: r.from.as_deref(),
            };
            let ports: RawPorts<'_, RawPort> = (r.ports.as_deref(), "ports", legacy_port);
            rule_common(ctx, d, path, parts, actions, ports)
        },
    );
    let egress = rules(
        ctx,
        Direction::Egress,
        spec.egress.as_deref(),
        |ctx, d, path, r| {
            let parts = RuleParts {
                name: r.name.as_deref(),
                action: r.action.as_deref(),
                peers: r.to.as_deref(),
            };
            let ports: RawPorts<'_, RawPort> = (r.ports.as_deref(), "ports", legacy_port);
            rule_common(ctx, d, path, parts, actions, ports)
        },
    );
    if ctx.errors.len() > before {
        return None;
    }
    Some(ClusterPolicy {
        name: name?,
        tier: if baseline {
            Tier::Baseline
        } else {
            Tier::Admin
        },
        priority: priority?,
        subject: subject?,
        ingress,
        egress,
        kind: kind.to_string(),
        origin: ctx.origin(""),
    })
}

fn legacy_port(ctx: &mut Ctx, path: &str, p: &RawPort) -> Option<TierPort> {
    let set = usize::from(p.port_number.is_some())
        + usize::from(p.named_port.is_some())
        + usize::from(p.port_range.is_some());
    if set != 1 {
        ctx.error(
            path,
            "exactly one of portNumber, namedPort or portRange must be set",
        );
        return None;
    }
    if let Some(name) = &p.named_port {
        if let Some(e) = names::port_name_error(name) {
            ctx.error(&key(path, "namedPort"), e);
            return None;
        }
        return Some(TierPort::Named(name.clone()));
    }
    if let Some(n) = &p.port_number {
        let path = key(path, "portNumber");
        let protocol = protocol(ctx, &path, n.protocol.as_deref());
        let Some(port) = n.port else {
            ctx.error(&key(&path, "port"), "required value");
            return None;
        };
        let port = port_number(ctx, &key(&path, "port"), port);
        return Some(TierPort::Number {
            protocol: protocol?,
            port: port?,
        });
    }
    let r = p.port_range.as_ref()?;
    let path = key(path, "portRange");
    let protocol = protocol(ctx, &path, r.protocol.as_deref());
    let start = r
        .start
        .and_then(|s| port_number(ctx, &key(&path, "start"), s));
    let end = r.end.and_then(|e| port_number(ctx, &key(&path, "end"), e));
    if r.start.is_none() || r.end.is_none() {
        ctx.error(&path, "start and end are required");
        return None;
    }
    let (start, end) = (start?, end?);
    if start >= end {
        ctx.error(&path, "Start port must be less than End port");
        return None;
    }
    Some(TierPort::Range {
        protocol: protocol?,
        start,
        end,
    })
}

fn protocol(ctx: &mut Ctx, path: &str, p: Option<&str>) -> Option<Protocol> {
    match p {
        // The CRD defaults it to TCP.
        None => Some(Protocol::Tcp),
        Some(s) => Protocol::parse(s).or_else(|| {
            ctx.error(
                &key(path, "protocol"),
                format!("unsupported protocol {s:?}: supported values: \"TCP\", \"UDP\", \"SCTP\""),
            );
            None
        }),
    }
}
