//! Ports that cannot match: NP005 (a named port no destination declares) and
//! NP006 (a Service port used where the pods' container port is needed).

use std::collections::BTreeSet;

use fixedbitset::FixedBitSet;
use netpol_engine::{Engine, describe_port};
use netpol_model::{Direction, Endpoint, PortRef, PortRule};

use super::{effective_directions, short_list};
use crate::finding::{Finding, Location};

pub(super) fn check(engine: &Engine, out: &mut Vec<Finding>) {
    let cluster = engine.cluster;
    for (pi, policy) in cluster.policies.iter().enumerate() {
        let (_, compiled) = engine.policy(pi);
        for direction in effective_directions(policy) {
            for crule in compiled.rules(direction) {
                let rule = &policy.rules(direction)[crule.index];
                // Ports are checked on the destination: the selected pods for
                // ingress, the pods the rule's peers admit for egress.
                let destinations: &FixedBitSet = match direction {
                    Direction::Ingress => &compiled.selected,
                    Direction::Egress => &crule.admitted,
                };
                let dsts: Vec<&Endpoint> = destinations
                    .ones()
                    .map(|i| &cluster.endpoints[i])
                    .filter(|e| !e.host_network)
                    .collect();
                if dsts.is_empty() {
                    continue; // NP001/NP002 already say the rule has nothing to apply to.
                }
                let rule_name = format!("{}[{}]", direction.as_str(), crule.index);
                for (i, pr) in rule.ports.iter().enumerate() {
                    let at = Location::at(&policy.origin, pr.line);
                    let item = format!("{rule_name}.ports[{i}]");
                    let finding = match &pr.port {
                        Some(PortRef::Name(name)) => named_port(&dsts, pr, name, &item, at),
                        Some(PortRef::Number(port)) if pr.end_port.is_none() => {
                            service_port(engine, &dsts, pr, *port, &item, at)
                        }
                        _ => None,
                    };
                    out.extend(finding.map(|f| f.policy(policy.id())));
                }
            }
        }
    }
}

fn named_port(
    dsts: &[&Endpoint],
    pr: &PortRule,
    name: &str,
    item: &str,
    at: Location,
) -> Option<Finding> {
    if dsts
        .iter()
        .any(|e| e.resolve_named_port(name, pr.protocol).is_some())
    {
        return None;
    }
    let declared: BTreeSet<String> = dsts
        .iter()
        .flat_map(|e| e.ports.iter())
        .filter_map(|p| {
            p.name
                .as_ref()
                .map(|n| format!("{n} ({}/{})", p.port, p.protocol))
        })
        .collect();
    let other_protocol = dsts
        .iter()
        .flat_map(|e| e.ports.iter())
        .find(|p| p.name.as_deref() == Some(name) && p.protocol != pr.protocol);
    let hint = match other_protocol {
        Some(p) => format!(
            "the pods declare {name} for {}, not {}: set protocol: {}",
            p.protocol, pr.protocol, p.protocol
        ),
        None if declared.is_empty() => {
            "the destination pods declare no named ports; use the port number".to_string()
        }
        None => format!(
            "names the destination pods declare: {}",
            short_list(&declared.into_iter().collect::<Vec<_>>())
        ),
    };
    let ids: Vec<String> = dsts.iter().map(|e| e.id()).collect();
    Some(Finding::new(
        "NP005",
        at,
        format!(
            "{item}: named port {name}/{} is declared by none of the destination pods ({}): this port entry allows nothing",
            pr.protocol,
            short_list(&ids)
        ),
        hint,
    ))
}

fn service_port(
    engine: &Engine,
    dsts: &[&Endpoint],
    pr: &PortRule,
    port: u16,
    item: &str,
    at: Location,
) -> Option<Finding> {
    let declared = |e: &&Endpoint| {
        e.ports
            .iter()
            .any(|p| p.port == port && p.protocol == pr.protocol)
    };
    if dsts.iter().any(declared) {
        return None;
    }
    for svc in &engine.cluster.services {
        // Cheap first: matching every Service against every pod is the
        // costly part on large clusters.
        if !svc
            .ports
            .iter()
            .any(|sp| sp.port == port && sp.protocol == pr.protocol)
        {
            continue;
        }
        let backends: Vec<&&Endpoint> = dsts.iter().filter(|e| svc.selects(e)).collect();
        if backends.is_empty() {
            continue;
        }
        for sp in svc
            .ports
            .iter()
            .filter(|sp| sp.port == port && sp.protocol == pr.protocol)
        {
            let target = match &sp.target_port {
                PortRef::Number(n) => Some(*n),
                PortRef::Name(n) => backends
                    .iter()
                    .find_map(|e| e.resolve_named_port(n, pr.protocol)),
            };
            let Some(target) = target.filter(|t| *t != port) else {
                continue;
            };
            let spelled = match &sp.target_port {
                PortRef::Name(n) => format!("{target} (named {n})"),
                PortRef::Number(_) => target.to_string(),
            };
            return Some(Finding::new(
                "NP006",
                at,
                format!(
                    "{item}: {} is the port of Service {}, which forwards to targetPort {spelled}; the pods do not listen on {port}, so this allows nothing",
                    describe_port(pr),
                    svc.id()
                ),
                match &sp.target_port {
                    PortRef::Name(n) => format!(
                        "use `port: {n}` or `port: {target}`: policies see the container port"
                    ),
                    PortRef::Number(_) => {
                        format!("use `port: {target}`: policies see the container port")
                    }
                },
            ));
        }
    }
    None
}
