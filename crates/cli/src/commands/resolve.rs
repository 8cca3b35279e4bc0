//! What `explain --from/--to` names: a pod, a workload (its pods, in a live
//! dump), a Service (the pods it selects: `svc/ns/name`, its ClusterIP or
//! DNS name), or an address outside the cluster.

use netpol_model::text::plural;
use std::net::IpAddr;

use netpol_engine::Party;
use netpol_model::{Cluster, Service};

use crate::exit::Failure;

/// The parties an argument stands for.
pub struct Target {
    pub parties: Vec<Party>,
    /// Set when the argument named several pods or a Service: how it was read.
    pub meaning: Option<String>,
    /// The Service whose port `--port` is (a destination named by a Service).
    pub service: Option<usize>,
}

impl Target {
    fn one(party: Party) -> Target {
        Target {
            parties: vec![party],
            meaning: None,
            service: None,
        }
    }
}

const DNS_SUFFIXES: [&str; 2] = [".svc.cluster.local", ".svc"];

pub fn resolve(cluster: &Cluster, text: &str, namespace: &str) -> Result<Target, Failure> {
    if let Ok(ip) = text.parse::<IpAddr>() {
        // An address that belongs to a pod is that pod.
        let pod = cluster
            .endpoint_by_ip(ip)
            .or_else(|| cluster.endpoints.iter().position(|e| e.ips.contains(&ip)));
        if let Some(pod) = pod {
            return Ok(Target::one(Party::Endpoint(pod)));
        }
        return match cluster
            .services
            .iter()
            .position(|s| s.cluster_ips.contains(&ip))
        {
            Some(s) => service_target(cluster, s, &format!("ClusterIP {ip}")),
            None => Ok(Target::one(Party::External(ip))),
        };
    }
    if let Some(rest) = text.strip_prefix("svc/") {
        let id = qualify(rest, namespace);
        return match service_index(cluster, &id) {
            Some(s) => service_target(cluster, s, text),
            None => Err(unknown(cluster, &id, "Service")),
        };
    }
    let id = qualify(text, namespace);
    if let Some(e) = cluster.endpoint(&id) {
        return Ok(Target::one(Party::Endpoint(e)));
    }
    let pods: Vec<usize> = (0..cluster.endpoints.len())
        .filter(|&i| cluster.workload_of.contains_key(&cluster.endpoints[i].id()))
        .filter(|&i| cluster.workload(i) == id)
        .collect();
    if !pods.is_empty() {
        return Ok(Target {
            meaning: Some(format!(
                "{id} is a workload: its {} ({})",
                plural(pods.len(), "pod", "pods"),
                names(cluster, &pods)
            )),
            parties: pods.into_iter().map(Party::Endpoint).collect(),
            service: None,
        });
    }
    if let Some(s) = service_index(cluster, &id) {
        return service_target(cluster, s, text);
    }
    if !text.contains('/') {
        let host = DNS_SUFFIXES
            .iter()
            .find_map(|suffix| text.strip_suffix(suffix))
            .unwrap_or(text);
        if let Some((name, ns)) = host.split_once('.') {
            if let Some(s) = service_index(cluster, &format!("{ns}/{name}")) {
                return service_target(cluster, s, text);
            }
        }
    }
    Err(unknown(cluster, &id, "endpoint"))
}

fn qualify(text: &str, namespace: &str) -> String {
    if text.contains('/') {
        text.to_string()
    } else {
        format!("{namespace}/{text}")
    }
}

fn service_index(cluster: &Cluster, id: &str) -> Option<usize> {
    cluster.services.iter().position(|s| s.id() == id)
}

fn service_target(cluster: &Cluster, s: usize, text: &str) -> Result<Target, Failure> {
    let svc: &Service = &cluster.services[s];
    let pods: Vec<usize> = (0..cluster.endpoints.len())
        .filter(|&i| svc.selects(&cluster.endpoints[i]))
        .collect();
    if pods.is_empty() {
        let why = if svc.selector.as_ref().is_none_or(|s| s.is_empty()) {
            "it has no selector"
        } else {
            "its selector matches no pod in the input"
        };
        return Err(Failure::Usage(format!(
            "{text:?} is Service {}, which fronts no pod: {why}",
            svc.id()
        )));
    }
    let meaning = format!(
        "{text} is Service {}: the {} it selects ({})",
        svc.id(),
        plural(pods.len(), "pod", "pods"),
        names(cluster, &pods)
    );
    Ok(Target {
        parties: pods.into_iter().map(Party::Endpoint).collect(),
        meaning: Some(meaning),
        service: Some(s),
    })
}

fn names(cluster: &Cluster, pods: &[usize]) -> String {
    pods.iter()
        .map(|&i| cluster.endpoints[i].id())
        .collect::<Vec<_>>()
        .join(", ")
}

fn unknown(cluster: &Cluster, id: &str, what: &str) -> Failure {
    let ns = id.split('/').next().unwrap_or_default();
    let mut known: Vec<String> = cluster
        .endpoints
        .iter()
        .enumerate()
        .filter(|(_, e)| e.namespace == ns)
        .flat_map(|(i, e)| [e.id(), cluster.workload(i)])
        .collect();
    known.sort();
    known.dedup();
    let services: Vec<String> = cluster
        .services
        .iter()
        .filter(|s| s.namespace == ns)
        .map(|s| format!("svc/{}", s.id()))
        .collect();
    let mut hint = if known.is_empty() {
        format!("namespace {ns} has no endpoints")
    } else {
        format!("endpoints in {ns}: {}", known.join(", "))
    };
    if !services.is_empty() {
        hint.push_str(&format!("; Services: {}", services.join(", ")));
    }
    Failure::Usage(format!("unknown {what} {id:?} ({hint})"))
}
