//! `netpol explain`: one connection, or each connection between the pods two
//! names stand for (a workload's replicas, a Service's pods), with the trace.

use clap::ValueEnum;
use netpol_engine::{Engine, Party, Verdict};
use netpol_model::{Cluster, Endpoint, PortRef, Protocol, Service};
use serde::Serialize;

use super::resolve::{Target, resolve};
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

    /// Source: `namespace/name` (a pod or a workload), a name in the -n namespace, or an IP address
    #[arg(long = "from", value_name = "SRC")]
    from: String,

    /// Destination: like SRC, or a Service: `svc/ns/name`, its ClusterIP or DNS name (`name.ns.svc`)
    #[arg(long = "to", value_name = "DST")]
    to: String,

    /// Port and protocol (`80`, `53/udp`, `metrics/TCP`: a name resolves on the destination; a Service's port goes to its targetPort)
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
    let src = resolve(&cluster, &args.from, &args.input.namespace)?;
    let dst = resolve(&cluster, &args.to, &args.input.namespace)?;
    let (port, protocol) = parse_port(&args.port)?;
    let mut connections = Vec::new();
    let mut skipped = Vec::new();
    for &d in &dst.parties {
        match destination_port(&cluster, &dst, d, &port, protocol)? {
            Ok(resolved) => {
                for &s in &src.parties {
                    connections.push((s, d, resolved.clone()));
                }
            }
            Err(why) => skipped.push(why),
        }
    }
    if connections.is_empty() {
        return Err(Failure::Usage(skipped.join("; ")));
    }
    let engine = Engine::new(&cluster);
    let explained: Vec<Explained> = connections
        .into_iter()
        .map(|(s, d, r)| Explained {
            via: r.via,
            notes: r.notes,
            verdict: engine.verdict(s, d, r.port, protocol),
        })
        .collect();
    let meanings: Vec<&String> = [&src.meaning, &dst.meaning].into_iter().flatten().collect();
    let denied = explained.iter().filter(|e| !e.verdict.allowed).count();
    match args.output {
        Format::Text => {
            let mut out = String::new();
            for m in &meanings {
                out.push_str(&format!("{m}\n"));
            }
            for s in &skipped {
                out.push_str(&format!("note: {s}\n"));
            }
            for (i, e) in explained.iter().enumerate() {
                if i > 0 || !meanings.is_empty() || !skipped.is_empty() {
                    out.push('\n');
                }
                if let Some(via) = &e.via {
                    out.push_str(&format!("{via}\n"));
                }
                for n in &e.notes {
                    out.push_str(&format!("note: {n}\n"));
                }
                out.push_str(&render::explain::text(&e.verdict));
            }
            if explained.len() > 1 {
                out.push_str(&format!(
                    "\n{} of {} connections allowed\n",
                    explained.len() - denied,
                    explained.len()
                ));
            }
            print!("{out}");
        }
        Format::Json => {
            // One plain connection keeps the verdict object as the whole output.
            let json = match explained.as_slice() {
                [e] if meanings.is_empty() && e.via.is_none() => {
                    for n in &e.notes {
                        eprintln!("note: {n}");
                    }
                    serde_json::to_string_pretty(&e.verdict)
                }
                _ => serde_json::to_string_pretty(&Connections {
                    meaning: meanings.clone(),
                    skipped: &skipped,
                    connections: &explained,
                }),
            };
            println!("{}", json.expect("verdicts serialize"));
        }
    }
    if args.exit_code && denied > 0 {
        return Err(Failure::Status(3));
    }
    Ok(())
}

#[derive(Serialize)]
struct Explained {
    /// How a Service port reached this pod.
    #[serde(skip_serializing_if = "Option::is_none")]
    via: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    notes: Vec<String>,
    verdict: Verdict,
}

#[derive(Serialize)]
struct Connections<'a> {
    meaning: Vec<&'a String>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    skipped: &'a [String],
    connections: &'a [Explained],
}

/// `--port` as given: a number or a name, and the protocol.
enum PortArg {
    Number(u16),
    Name(String),
}

fn parse_port(text: &str) -> Result<(PortArg, Protocol), Failure> {
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
    match port.parse::<u16>() {
        Ok(0) => Err(Failure::Usage("--port must be between 1 and 65535".into())),
        Ok(n) => Ok((PortArg::Number(n), protocol)),
        Err(_) => Ok((PortArg::Name(port.to_string()), protocol)),
    }
}

#[derive(Clone)]
struct DstPort {
    port: u16,
    via: Option<String>,
    notes: Vec<String>,
}

/// The port the connection reaches `dst` on. `Ok(Err(why))`: this pod of
/// several is not reached at all (a Service's named targetPort it lacks).
fn destination_port(
    cluster: &Cluster,
    target: &Target,
    dst: Party,
    port: &PortArg,
    protocol: Protocol,
) -> Result<Result<DstPort, String>, Failure> {
    let Party::Endpoint(d) = dst else {
        return match port {
            PortArg::Number(n) => Ok(Ok(DstPort {
                port: *n,
                via: None,
                notes: Vec::new(),
            })),
            PortArg::Name(name) => Err(Failure::Usage(format!(
                "named port {name:?} needs a destination pod to resolve on"
            ))),
        };
    };
    let e = &cluster.endpoints[d];
    if let Some(s) = target.service {
        return service_port(&cluster.services[s], e, port, protocol).map(|r| {
            r.map(|(n, via)| DstPort {
                port: n,
                via: Some(via),
                notes: undeclared(cluster, e, n, protocol, false)
                    .into_iter()
                    .collect(),
            })
        });
    }
    match port {
        PortArg::Number(n) => Ok(Ok(DstPort {
            port: *n,
            via: None,
            notes: undeclared(cluster, e, *n, protocol, true)
                .into_iter()
                .collect(),
        })),
        PortArg::Name(name) => match e.resolve_named_port(name, protocol) {
            Some(n) => Ok(Ok(DstPort {
                port: n,
                via: None,
                notes: Vec::new(),
            })),
            None => Err(Failure::Usage(format!(
                "{} declares no port named {name:?} for {protocol} ({})",
                e.id(),
                declared(e)
            ))),
        },
    }
}

/// A Service port goes to its targetPort on each pod, as kube-proxy sends it.
fn service_port(
    svc: &Service,
    e: &Endpoint,
    port: &PortArg,
    protocol: Protocol,
) -> Result<Result<(u16, String), String>, Failure> {
    let sp = svc.ports.iter().find(|sp| {
        sp.protocol == protocol
            && match port {
                PortArg::Number(n) => sp.port == *n,
                PortArg::Name(name) => sp.name.as_deref() == Some(name.as_str()),
            }
    });
    let Some(sp) = sp else {
        let ports: Vec<String> = svc
            .ports
            .iter()
            .map(|sp| {
                let name = sp
                    .name
                    .as_ref()
                    .map(|n| format!(" ({n})"))
                    .unwrap_or_default();
                format!(
                    "{}/{}{name} -> targetPort {}",
                    sp.port, sp.protocol, sp.target_port
                )
            })
            .collect();
        let asked = match port {
            PortArg::Number(n) => format!("{n}/{protocol}"),
            PortArg::Name(name) => format!("named {name} for {protocol}"),
        };
        let list = if ports.is_empty() {
            "it has no ports".to_string()
        } else {
            format!("its ports: {}", ports.join(", "))
        };
        return Err(Failure::Usage(format!(
            "Service {} has no port {asked}; {list}",
            svc.id()
        )));
    };
    let target = match &sp.target_port {
        PortRef::Number(t) => *t,
        PortRef::Name(n) => match e.resolve_named_port(n, sp.protocol) {
            Some(t) => t,
            None => {
                return Ok(Err(format!(
                    "Service {} port {}/{} targets port {n}, which {} does not declare ({}): the Service sends it nothing",
                    svc.id(),
                    sp.port,
                    sp.protocol,
                    e.id(),
                    declared(e)
                )));
            }
        },
    };
    let via = match &sp.target_port {
        PortRef::Name(n) => format!("targetPort {n} ({target})"),
        PortRef::Number(_) => format!("targetPort {target}"),
    };
    Ok(Ok((
        target,
        format!(
            "Service {} port {}/{} -> {via} on {}",
            svc.id(),
            sp.port,
            sp.protocol,
            e.id()
        ),
    )))
}

/// What `e` declares, for messages.
fn declared(e: &Endpoint) -> String {
    if e.ports.is_empty() {
        return "it declares no ports".to_string();
    }
    let ports: Vec<String> = e
        .ports
        .iter()
        .map(|p| match &p.name {
            Some(n) => format!("{}/{} ({n})", p.port, p.protocol),
            None => format!("{}/{}", p.port, p.protocol),
        })
        .collect();
    format!("it declares {}", ports.join(", "))
}

/// Policies decide on any port, declared or not; but a port the pod does not
/// declare is often a Service port meant for its targetPort.
fn undeclared(
    cluster: &Cluster,
    e: &Endpoint,
    port: u16,
    protocol: Protocol,
    service_hint: bool,
) -> Option<String> {
    if e.host_network
        || e.ports
            .iter()
            .any(|p| p.port == port && p.protocol == protocol)
    {
        return None;
    }
    let mut note = format!(
        "{} declares no port {port}/{protocol}; {}",
        e.id(),
        declared(e)
    );
    if let Some(svc) = cluster.services.iter().find(|s| {
        service_hint
            && s.selects(e)
            && s.ports
                .iter()
                .any(|sp| sp.port == port && sp.protocol == protocol)
    }) {
        note.push_str(&format!(
            ". Service {} has port {port}/{protocol}: --to svc/{} follows it to its targetPort",
            svc.id(),
            svc.id()
        ));
    }
    Some(note)
}
