use std::net::IpAddr;

use clap::ValueEnum;
use netpol_engine::{Engine, Party};
use netpol_model::{Cluster, Protocol};

use crate::exit::Failure;
use crate::input::Input;
use crate::render;

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    input: Input,

    /// Source: `namespace/name`, a name in the -n namespace, or an IP address
    #[arg(long = "from", value_name = "SRC")]
    from: String,

    /// Destination: `namespace/name`, a name in the -n namespace, or an IP address
    #[arg(long = "to", value_name = "DST")]
    to: String,

    /// Port and protocol (`80`, `53/udp`, `metrics/TCP`: a name resolves on the destination)
    #[arg(long = "port", value_name = "PORT[/PROTO]")]
    port: String,

    /// Output format
    #[arg(short = 'o', long = "output", value_enum, default_value_t = Format::Text)]
    output: Format,

    /// Exit 0 when the connection is allowed and 3 when it is denied
    #[arg(long = "exit-code")]
    exit_code: bool,
}

pub fn run(args: Args) -> Result<(), Failure> {
    let cluster = args.input.load()?;
    let src = party(&cluster, &args.from, &args.input.namespace)?;
    let dst = party(&cluster, &args.to, &args.input.namespace)?;
    let (port, protocol) = port(&cluster, dst, &args.port)?;
    let engine = Engine::new(&cluster);
    let verdict = engine.verdict(src, dst, port, protocol);
    match args.output {
        Format::Text => print!("{}", render::explain::text(&verdict)),
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&verdict).expect("verdicts serialize")
        ),
    }
    if args.exit_code && !verdict.allowed {
        return Err(Failure::Status(3));
    }
    Ok(())
}

fn party(cluster: &Cluster, text: &str, namespace: &str) -> Result<Party, Failure> {
    if let Ok(ip) = text.parse::<IpAddr>() {
        // An address that belongs to a pod is that pod.
        let pod = cluster
            .endpoint_by_ip(ip)
            .or_else(|| cluster.endpoints.iter().position(|e| e.ips.contains(&ip)));
        return Ok(pod.map_or(Party::External(ip), Party::Endpoint));
    }
    let id = if text.contains('/') {
        text.to_string()
    } else {
        format!("{namespace}/{text}")
    };
    cluster.endpoint(&id).map(Party::Endpoint).ok_or_else(|| {
        let ns = id.split('/').next().unwrap_or_default();
        let known: Vec<String> = cluster
            .endpoints
            .iter()
            .filter(|e| e.namespace == ns)
            .map(|e| e.id())
            .collect();
        let hint = if known.is_empty() {
            format!("namespace {ns} has no endpoints")
        } else {
            format!("endpoints in {ns}: {}", known.join(", "))
        };
        Failure::Usage(format!("unknown endpoint {id:?} ({hint})"))
    })
}

fn port(cluster: &Cluster, dst: Party, text: &str) -> Result<(u16, Protocol), Failure> {
    let (port, proto) = match text.split_once('/') {
        Some((p, proto)) => (p, Some(proto)),
        None => (text, None),
    };
    let protocol = match proto {
        None => Protocol::Tcp,
        Some(p) => Protocol::parse_ignore_case(p).ok_or_else(|| {
            Failure::Usage(format!(
                "unknown protocol {p:?} in --port: use tcp, udp or sctp"
            ))
        })?,
    };
    if let Ok(n) = port.parse::<u16>() {
        if n == 0 {
            return Err(Failure::Usage("--port must be between 1 and 65535".into()));
        }
        return Ok((n, protocol));
    }
    let Party::Endpoint(d) = dst else {
        return Err(Failure::Usage(format!(
            "named port {port:?} needs a destination pod to resolve on"
        )));
    };
    let e = &cluster.endpoints[d];
    e.resolve_named_port(port, protocol)
        .map(|n| (n, protocol))
        .ok_or_else(|| {
            Failure::Usage(format!(
                "{} declares no port named {port:?} for {protocol}",
                e.id()
            ))
        })
}
