//! `netpol-synth --workloads 1000 --seed 1 -o DIR`: writes a synthetic cluster as YAML.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

/// Writes a deterministic synthetic cluster (namespaces, workloads, Services
/// and NetworkPolicies) as Kubernetes YAML manifests.
#[derive(Parser)]
#[command(name = "netpol-synth", version)]
struct Args {
    /// Number of workloads (endpoints), the DNS server included.
    #[arg(long, default_value_t = 100)]
    workloads: usize,
    /// Number of NetworkPolicies [default: half the workloads].
    #[arg(long)]
    policies: Option<usize>,
    /// Number of application namespaces [default: one per 20 workloads].
    #[arg(long)]
    namespaces: Option<usize>,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Write a live dump instead: every workload as this many Pods (with
    /// addresses, nodes and ownerReferences), plus the controllers owning them.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    replicas: Option<u32>,
    /// The fields of a live dump's Pods: those netpol reads (`minimal`), or
    /// every field `kubectl get pods -o yaml` shows (`kubectl`, about four
    /// times the text for the same cluster).
    #[arg(long, value_enum, default_value_t = PodFieldsArg::Minimal, requires = "replicas")]
    pod_fields: PodFieldsArg,
    /// Write every file as JSON (a `List` per file, as `kubectl get -o json`
    /// prints). JSON has no comments to mark a file as generated: an existing
    /// .json file is never overwritten.
    #[arg(long, value_enum, default_value_t = OutputFormat::Yaml)]
    output_format: OutputFormat,
    /// Write every object into one `List` document, `cluster.yaml` or
    /// `cluster.json` (a live dump in one piece).
    #[arg(long)]
    single_file: bool,
    /// Also write this many ClusterNetworkPolicies (Admin and Baseline
    /// tiers, namespaces/pods/nodes/networks peers, Accept/Deny/Pass) and the
    /// Nodes they can select, under `cluster/`.
    #[arg(long, default_value_t = 0)]
    cluster_policies: usize,
    /// Output directory (created if missing).
    #[arg(short, long)]
    output: PathBuf,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum PodFieldsArg {
    Minimal,
    Kubectl,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum OutputFormat {
    Yaml,
    Json,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let mut params = netpol_synth::Params::new(args.workloads, args.seed);
    if let Some(p) = args.policies {
        params.policies = p;
    }
    if let Some(n) = args.namespaces {
        params.namespaces = n;
    }
    let cluster = netpol_synth::generate(&params);
    let (mut files, mut summary) = match args.replicas {
        None => (
            netpol_synth::to_files(&cluster),
            netpol_synth::summary(&cluster),
        ),
        Some(n) => (
            netpol_synth::to_live_files_with(
                &cluster,
                n as usize,
                match args.pod_fields {
                    PodFieldsArg::Minimal => netpol_synth::PodFields::Minimal,
                    PodFieldsArg::Kubectl => netpol_synth::PodFields::Kubectl,
                },
            ),
            format!(
                "{}; as {} pods",
                netpol_synth::summary(&cluster),
                cluster.endpoints.len() * n as usize
            ),
        ),
    };
    if args.cluster_policies > 0 {
        // The Nodes are those the written pods name.
        let written = match args.replicas {
            None => cluster,
            Some(n) => netpol_synth::live(&cluster, n as usize),
        };
        files.extend(netpol_synth::cluster_policy_files(
            &written,
            args.cluster_policies,
            args.seed,
        ));
        summary.push_str(&format!("; {} cluster policies", args.cluster_policies));
    }
    let format = match args.output_format {
        OutputFormat::Yaml => netpol_synth::Format::Yaml,
        OutputFormat::Json => netpol_synth::Format::Json,
    };
    let files = netpol_synth::reshape(files, format, args.single_file);
    match netpol_synth::write_files(&files, &args.output) {
        Ok(files) => {
            eprintln!(
                "wrote {files} files to {}: {summary}",
                args.output.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
