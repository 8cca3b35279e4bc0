//! Ports that cannot match: NP005 (a named port no destination declares) and
//! NP006 (a Service port used where the pods' container port is needed).

use std::collections::{BTreeSet, HashMap};

use fixedbitset::FixedBitSet;
use netpol_engine::describe_port;
use netpol_model::{Direction, Endpoint, PortRef, PortRule, Protocol};

use super::{Ctx, effective_directions, short_list};
use crate::finding::{Finding, Location};

/// Which classes (of pods in their own network namespace) declare each
/// port and each port name: most port entries are declared by some
/// destination, which a bitset intersection tells without a scan.
struct Declared<'a> {
    pods: FixedBitSet,
    numbers: HashMap<(u16, Protocol), FixedBitSet>,
    names: HashMap<(&'a str, Protocol), FixedBitSet>,
}

impl<'a> Declared<'a> {
    fn new(classes: &'a [Endpoint]) -> Declared<'a> {
        let n = classes.len();
        let mut declared = Declared {
            pods: FixedBitSet::with_capacity(n),
            numbers: HashMap::new(),
            names: HashMap::new(),
        };
        for (c, e) in classes.iter().enumerate().filter(|(_, e)| !e.host_network) {
            declared.pods.insert(c);
            for p in &e.ports {
                let set = declared.numbers.entry((p.port, p.protocol));
                set.or_insert_with(|| FixedBitSet::with_capacity(n))
                    .insert(c);
                if let Some(name) = &p.name {
                    let set = declared.names.entry((name.as_str(), p.protocol));
                    set.or_insert_with(|| FixedBitSet::with_capacity(n))
                        .insert(c);
                }
            }
        }
        declared
    }

    /// Whether some class of `destinations` declares what `pr` asks for;
    /// `None` for entries no declaration decides (ranges, every port).
    fn by_some(&self, destinations: &FixedBitSet, pr: &PortRule) -> Option<bool> {
        let set = match (&pr.port, pr.end_port) {
            (Some(PortRef::Name(name)), _) => self.names.get(&(name.as_str(), pr.protocol)),
            (Some(PortRef::Number(port)), None) => self.numbers.get(&(*port, pr.protocol)),
            _ => return None,
        };
        Some(set.is_some_and(|s| !s.is_disjoint(destinations)))
    }
}

pub(super) fn check(ctx: &Ctx, out: &mut Vec<Finding>) {
    let cluster = ctx.cluster;
    let declared = Declared::new(&ctx.classes.reduced.endpoints);
    for (pi, policy) in cluster.policies.iter().enumerate() {
        let (_, compiled) = ctx.engine.policy(pi);
        for direction in effective_directions(policy) {
            for crule in compiled.rules(direction) {
                let rule = &policy.rules(direction)[crule.index];
                if rule.ports.is_empty() {
                    continue;
                }
                // Ports are checked on the destination: the selected pods for
                // ingress, the pods the rule's peers admit for egress.
                let mut destinations: FixedBitSet = match direction {
                    Direction::Ingress => compiled.selected.clone(),
                    Direction::Egress => crule.admitted().clone(),
                };
                destinations.intersect_with(&declared.pods);
                if destinations.is_clear() {
                    continue; // NP001/NP002 already say the rule has nothing to apply to.
                }
                let rule_name = format!("{}[{}]", direction.as_str(), crule.index);
                for (i, pr) in rule.ports.iter().enumerate() {
                    if declared.by_some(&destinations, pr) != Some(false) {
                        continue;
                    }
                    let dsts: Vec<&Endpoint> = ctx
                        .classes_in_pod_order(&destinations)
                        .into_iter()
                        .map(|(_, e)| e)
                        .collect();
                    let at = Location::at(&policy.origin, pr.line);
                    let item = format!("{rule_name}.ports[{i}]");
                    let finding = match &pr.port {
                        Some(PortRef::Name(name)) => {
                            let ids = ctx.short_pods(destinations.ones());
                            named_port(&dsts, &ids, pr, name, &item, at)
                        }
                        Some(PortRef::Number(port)) if pr.end_port.is_none() => {
                            service_port(ctx, &dsts, pr, *port, &item, at)
                        }
                        _ => None,
                    };
                    out.extend(finding.map(|f| f.policy(policy.id())));
                }
            }
        }
    }
}

/// `dsts`: one pod of each destination class, in the order of the pods;
/// `ids`: the destination pods, listed.
fn named_port(
    dsts: &[&Endpoint],
    ids: &str,
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
    Some(Finding::new(
        "NP005",
        at,
        format!(
            "{item}: named port {name}/{} is declared by none of the destination pods ({}): this port entry allows nothing",
            pr.protocol, ids
        ),
        hint,
    ))
}

fn service_port(
    ctx: &Ctx,
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
    for svc in &ctx.cluster.services {
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
