//! `netpol discover PATH... [-o flows|json|text]`: the connections the
//! workloads need, each with the evidence that shows it, as a flows file to
//! review (the default), as data, or as a list by destination.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use ipnet::IpNet;
use netpol_discover::{Options, discover};

use crate::exit::Failure;
use crate::format::{Format, only};
use crate::input::Input;
use crate::render;

const FORMATS: &[Format] = &[Format::Yaml, Format::Json, Format::Text];

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    input: Input,

    /// Output format: yaml, a flows file `netpol gen` accepts as is, guesses
    /// commented out (`flows` is the same); json, every connection and
    /// unresolved piece of evidence; text, a list grouped by destination
    #[arg(short = 'o', long = "output", value_name = "FORMAT", value_parser = only(FORMATS), default_value = "yaml")]
    output: Format,

    /// The cluster's DNS domain, for names like `svc.ns.svc.<domain>`
    #[arg(
        long = "cluster-domain",
        value_name = "DOMAIN",
        default_value = "cluster.local"
    )]
    cluster_domain: String,

    /// The nodes' addresses, written to the flows file's `cluster.nodeCIDRs`; without them
    /// flows to or from `nodes` and `kube-apiserver` are written commented out
    #[arg(long = "node-cidr", value_name = "CIDR")]
    node_cidrs: Vec<IpNet>,
}

pub fn run(args: Args) -> Result<(), Failure> {
    if let Some(n) = args.node_cidrs.iter().find(|n| n.trunc() != **n) {
        return Err(Failure::Usage(format!(
            "--node-cidr {n} has host bits set; did you mean {}?",
            n.trunc()
        )));
    }
    let cluster = args.input.load_with_manifests(false)?;
    let options = Options {
        cluster_domain: args.cluster_domain.trim_matches('.').to_ascii_lowercase(),
    };
    let found = discover(cluster, options)
        .map_err(|errors| Failure::Load(netpol_model::LoadErrors(errors)))?;
    let out = match args.output {
        Format::Json => render::discover::json(&found),
        Format::Text => render::discover::text(&found),
        Format::Yaml => {
            let host_network: BTreeSet<String> = cluster
                .endpoints
                .iter()
                .enumerate()
                .filter(|(_, e)| e.host_network)
                .map(|(i, _)| cluster.workload(i))
                .collect();
            let inputs: Vec<String> = args
                .input
                .paths
                .iter()
                .map(|p| p.display().to_string())
                .collect();
            let alikes = look_alikes(cluster);
            render::discover::flows(
                &found,
                &render::discover::FlowsSettings {
                    inputs,
                    node_cidrs: args.node_cidrs.clone(),
                    host_network,
                    group_endpoint: group_endpoints(cluster, &alikes),
                    look_alikes: alikes,
                },
            )
        }
        other => unreachable!("clap lets only {FORMATS:?} through, not {other:?}"),
    };
    use std::io::Write;
    std::io::stdout().write_all(out.as_bytes())?;
    Ok(())
}

/// Workloads whose pods no selector can tell from another workload's.
fn look_alikes(cluster: &netpol_model::Cluster) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    let by_namespace = netpol_flows::ByNamespace::new(cluster);
    for (i, e) in cluster.endpoints.iter().enumerate() {
        if e.host_network {
            continue;
        }
        let also = netpol_flows::workload_selector_in(cluster, &by_namespace, i).also;
        if !also.is_empty() {
            let mut others: Vec<String> = also.iter().map(|&j| cluster.workload(j)).collect();
            others.sort();
            others.dedup();
            out.insert(cluster.workload(i), others);
        }
    }
    out
}

/// How a flows file names look-alike workloads all at once: their namespace
/// when they are all of its workloads, else their shared labels when those
/// select no other workload's pods. Groups that neither names stay apart.
fn group_endpoints(
    cluster: &netpol_model::Cluster,
    alikes: &BTreeMap<String, Vec<String>>,
) -> BTreeMap<String, String> {
    let mut workloads: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    // Each workload's first endpoint.
    let mut first: HashMap<String, usize> = HashMap::new();
    for (i, e) in cluster.endpoints.iter().enumerate() {
        let w = cluster.workload(i);
        first.entry(w.clone()).or_insert(i);
        workloads.entry(e.namespace.as_str()).or_default().insert(w);
    }
    let by_namespace = netpol_flows::ByNamespace::new(cluster);
    let mut out = BTreeMap::new();
    for (id, others) in alikes {
        let group: BTreeSet<&str> = others
            .iter()
            .map(String::as_str)
            .chain([id.as_str()])
            .collect();
        let Some(&i) = first.get(id) else {
            continue;
        };
        let e = &cluster.endpoints[i];
        let all = &workloads[e.namespace.as_str()];
        if all.len() == group.len() && all.iter().all(|w| group.contains(w.as_str())) {
            out.insert(id.clone(), e.namespace.clone());
            continue;
        }
        if e.labels.is_empty() {
            continue;
        }
        // The labels select a pod when it carries all of them.
        let selected: BTreeSet<String> = by_namespace
            .get(&e.namespace)
            .iter()
            .filter(|&&j| {
                let p = &cluster.endpoints[j];
                e.labels.iter().all(|(k, v)| p.labels.get(k) == Some(v))
            })
            .map(|&j| cluster.workload(j))
            .collect();
        if selected.len() == group.len() && selected.iter().all(|w| group.contains(w.as_str())) {
            let labels: Vec<String> = e.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
            out.insert(id.clone(), format!("{}:{}", e.namespace, labels.join(",")));
        }
    }
    out
}
