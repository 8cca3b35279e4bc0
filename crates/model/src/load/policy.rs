//! NetworkPolicy: conversion plus the API server's validation, so that a
//! policy the cluster would reject never reaches the engine.

use ipnet::IpNet;
use k8s_openapi::api::networking::v1 as net;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::Value;

use super::cluster_policy::port_number;
use super::ctx::{Ctx, idx, key};
use super::names;
use crate::types::{Direction, Peer, Policy, PortRef, PortRule, Protocol, Rule};

pub(crate) fn load(ctx: &mut Ctx, value: &Value, default_ns: &str) -> Option<Policy> {
    let np: net::NetworkPolicy = ctx.typed(value)?;
    let errors_before = ctx.errors.len();
    let name = np.metadata.name.clone().filter(|n| !n.is_empty());
    if name.is_none() {
        ctx.error("metadata.name", "a name is required");
    }
    let spec = np.spec.unwrap_or_default();
    let pod_selector = names::selector(
        ctx,
        "spec.podSelector",
        &spec.pod_selector.unwrap_or_default(),
    );

    let ingress: Vec<Rule> = spec
        .ingress
        .iter()
        .flatten()
        .enumerate()
        .map(|(i, r)| {
            rule(
                ctx,
                &idx("spec.ingress", i),
                "from",
                r.from.as_deref(),
                r.ports.as_deref(),
            )
        })
        .collect();
    let egress: Vec<Rule> = spec
        .egress
        .iter()
        .flatten()
        .enumerate()
        .map(|(i, r)| {
            rule(
                ctx,
                &idx("spec.egress", i),
                "to",
                r.to.as_deref(),
                r.ports.as_deref(),
            )
        })
        .collect();

    let (affects_ingress, affects_egress, explicit) = match &spec.policy_types {
        Some(types) if !types.is_empty() => {
            if types.len() > 2 {
                ctx.error(
                    "spec.policyTypes",
                    "may not specify more than two policyTypes",
                );
            }
            let mut ing = false;
            let mut eg = false;
            for (i, t) in types.iter().enumerate() {
                match t.as_str() {
                    "Ingress" => ing = true,
                    "Egress" => eg = true,
                    other => ctx.error(
                        &idx("spec.policyTypes", i),
                        format!(
                            "unsupported value {other:?}: supported values: \"Ingress\", \"Egress\""
                        ),
                    ),
                }
            }
            (ing, eg, true)
        }
        // The API server's defaulting: Ingress always, Egress when egress rules exist.
        _ => (true, !egress.is_empty(), false),
    };

    if ctx.errors.len() > errors_before {
        return None;
    }
    Some(Policy {
        namespace: np
            .metadata
            .namespace
            .clone()
            .unwrap_or_else(|| default_ns.to_string()),
        name: name?,
        pod_selector,
        affects_ingress,
        affects_egress,
        policy_types_explicit: explicit,
        ingress,
        egress,
        labels: np.metadata.labels.clone().unwrap_or_default(),
        annotations: np.metadata.annotations.clone().unwrap_or_default(),
        origin: ctx.origin(""),
    })
}

fn rule(
    ctx: &mut Ctx,
    path: &str,
    peer_field: &str,
    peers: Option<&[net::NetworkPolicyPeer]>,
    ports: Option<&[net::NetworkPolicyPort]>,
) -> Rule {
    let peers_path = key(path, peer_field);
    let peers = peers
        .unwrap_or_default()
        .iter()
        .enumerate()
        .filter_map(|(i, p)| peer(ctx, &idx(&peers_path, i), p))
        .collect();
    let ports_path = key(path, "ports");
    let ports = ports
        .unwrap_or_default()
        .iter()
        .enumerate()
        .filter_map(|(i, p)| port(ctx, &idx(&ports_path, i), p))
        .collect();
    Rule {
        peers,
        ports,
        line: ctx.line(path),
    }
}

fn peer(ctx: &mut Ctx, path: &str, p: &net::NetworkPolicyPeer) -> Option<Peer> {
    let line = ctx.line(path);
    let set = [
        p.pod_selector.is_some(),
        p.namespace_selector.is_some(),
        p.ip_block.is_some(),
    ]
    .iter()
    .filter(|b| **b)
    .count();
    if set == 0 {
        ctx.error(
            path,
            "must specify a peer (podSelector, namespaceSelector or ipBlock)",
        );
        return None;
    }
    if let Some(block) = &p.ip_block {
        if set > 1 {
            ctx.error(path, "may not specify both ipBlock and another peer");
            return None;
        }
        return ip_block(ctx, &key(path, "ipBlock"), block, line);
    }
    let pod_selector = p
        .pod_selector
        .as_ref()
        .map(|s| names::selector(ctx, &key(path, "podSelector"), s));
    let namespace_selector = p
        .namespace_selector
        .as_ref()
        .map(|s| names::selector(ctx, &key(path, "namespaceSelector"), s));
    Some(Peer::Pods {
        pod_selector,
        namespace_selector,
        line,
    })
}

fn ip_block(ctx: &mut Ctx, path: &str, block: &net::IPBlock, line: usize) -> Option<Peer> {
    let cidr_path = key(path, "cidr");
    if block.cidr.is_empty() {
        ctx.error(&cidr_path, "required value");
        return None;
    }
    let Ok(cidr) = block.cidr.parse::<IpNet>() else {
        ctx.error(
            &cidr_path,
            format!(
                "invalid CIDR {:?}: must be an address and prefix length such as 10.0.0.0/8",
                block.cidr
            ),
        );
        return None;
    };
    let cidr = cidr.trunc();
    let mut except = Vec::new();
    let mut ok = true;
    for (i, e) in block.except.iter().flatten().enumerate() {
        let p = idx(&key(path, "except"), i);
        match e.parse::<IpNet>() {
            Err(_) => {
                ctx.error(&p, format!("invalid CIDR {e:?}"));
                ok = false;
            }
            Ok(ex) => {
                let ex = ex.trunc();
                if !cidr.contains(&ex.network()) || ex.prefix_len() <= cidr.prefix_len() {
                    ctx.error(
                        &p,
                        format!("{e:?} must be a strict subset of cidr {:?}", block.cidr),
                    );
                    ok = false;
                } else {
                    except.push(ex);
                }
            }
        }
    }
    ok.then_some(Peer::IpBlock { cidr, except, line })
}

fn port(ctx: &mut Ctx, path: &str, p: &net::NetworkPolicyPort) -> Option<PortRule> {
    let before = ctx.errors.len();
    let protocol = match p.protocol.as_deref() {
        None => Protocol::Tcp,
        Some(s) => Protocol::parse(s).unwrap_or_else(|| {
            ctx.error(
                &key(path, "protocol"),
                format!("unsupported protocol {s:?}: supported values: \"TCP\", \"UDP\", \"SCTP\""),
            );
            Protocol::Tcp
        }),
    };
    let end_path = key(path, "endPort");
    let port = match &p.port {
        None => {
            if p.end_port.is_some() {
                ctx.error(
                    &end_path,
                    "may not be specified when `port` is not specified",
                );
            }
            None
        }
        Some(IntOrString::Int(n)) => {
            let n = port_number(ctx, &key(path, "port"), i64::from(*n));
            if let (Some(end), Some(start)) = (p.end_port, n) {
                if end < i32::from(start) {
                    ctx.error(
                        &end_path,
                        format!("must be greater than or equal to `port` ({start}), got {end}"),
                    );
                }
                port_number(ctx, &end_path, i64::from(end));
            }
            n.map(PortRef::Number)
        }
        Some(IntOrString::String(s)) => {
            if p.end_port.is_some() {
                ctx.error(&end_path, "may not be specified when `port` is non-numeric");
            }
            if let Some(e) = names::port_name_error(s) {
                ctx.error(&key(path, "port"), e);
            }
            Some(PortRef::Name(s.clone()))
        }
    };
    (ctx.errors.len() == before).then(|| PortRule {
        protocol,
        port,
        end_port: p.end_port.and_then(|e| u16::try_from(e).ok()),
        line: ctx.line(path),
    })
}

impl Rule {
    /// Used by renderers: `ingress[0]` / `egress[2]`.
    pub fn label(direction: Direction, index: usize) -> String {
        format!("{}[{index}]", direction.as_str())
    }
}
