//! `netpol explain`: one connection, or each connection between the pods two
//! names stand for (a workload's replicas, a Service's pods), with the trace.

use netpol_engine::{Engine, Party, Restricted};

use super::explain_port::{destination_port, parse_port};
use super::resolve::resolve;
use crate::exit::Failure;
use crate::format::{Format, only};
use crate::input::Input;
use crate::render;
use crate::render::explain::{Connections, Explained};

const FORMATS: &[Format] = &[Format::Text, Format::Json];

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
    #[arg(short = 'o', long = "output", value_name = "FORMAT", value_parser = only(FORMATS), default_value = "text")]
    output: Format,

    /// Exit 0 when the connection is allowed and 3 when it is denied
    #[arg(long = "exit-code")]
    exit_code: bool,
}

pub fn run(args: Args) -> Result<(), Failure> {
    let cluster = args.input.load()?;
    let src = resolve(cluster, &args.from, &args.input.namespace)?;
    let dst = resolve(cluster, &args.to, &args.input.namespace)?;
    let (port, protocol) = parse_port(&args.port)?;
    let mut connections = Vec::new();
    let mut skipped = Vec::new();
    for &d in &dst.parties {
        match destination_port(cluster, &dst, d, &port, protocol)? {
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
    // A verdict reads only its two endpoints (and the policies, namespaces
    // and nodes): compiling the others would cost seconds on large clusters.
    let parties = connections.iter().flat_map(|(s, d, _)| [*s, *d]);
    let restricted = Restricted::new(
        cluster,
        parties.filter_map(|p| match p {
            Party::Endpoint(i) => Some(i),
            Party::External(_) => None,
        }),
    );
    let engine = Engine::new(&restricted.cluster);
    let explained: Vec<Explained> = connections
        .into_iter()
        .map(|(s, d, r)| Explained {
            via: r.via,
            notes: r.notes,
            verdict: engine.verdict(restricted.party(s), restricted.party(d), r.port, protocol),
        })
        .collect();
    let denied = explained.iter().filter(|e| !e.verdict.allowed).count();
    let connections = Connections {
        meaning: [&src.meaning, &dst.meaning].into_iter().flatten().collect(),
        skipped,
        connections: explained,
    };
    match args.output {
        Format::Text => print!(
            "{}",
            crate::color::explain(&render::explain::connections_text(&connections))
        ),
        Format::Json => match connections.single() {
            // One plain connection keeps the verdict object as the whole output.
            Some(e) => {
                for n in &e.notes {
                    eprintln!("note: {n}");
                }
                println!(
                    "{}",
                    serde_json::to_string_pretty(&e.verdict).expect("verdicts serialize")
                );
            }
            None => println!(
                "{}",
                serde_json::to_string_pretty(&connections).expect("verdicts serialize")
            ),
        },
        other => unreachable!("clap lets only {FORMATS:?} through, not {other:?}"),
    }
    if args.exit_code && denied > 0 {
        return Err(Failure::Status(3));
    }
    Ok(())
}
