//! A throwaway network that measures what the kernel really allows.
//!
//! Topology, as a cluster has it: one namespace per pod (each replica of a
//! workload, see [`topology`]), one per node (`spec.nodeName`; pods without
//! one share a default node), and a fabric namespace that routes between the
//! nodes. A pod is joined to its node by a veth pair, with its address as a
//! /32 (/128) on `eth0` and a default route via 169.254.1.1 (fe80::1), an
//! address every node-side veth carries; the node routes between the veths,
//! so every packet from or to one of its pods crosses the node's forward
//! hook, where that node's `netpol nft` ruleset sits. (A shared Linux bridge
//! would switch pod-to-pod frames past that hook unless br_netfilter were
//! loaded, and that module changes the host's own bridges; routed veths, as
//! Calico wires pods, need nothing global.)
//!
//! Host-network pods live in their node's namespace, with its addresses: what
//! they send leaves through the node's output hook and what they receive ends
//! in its input hook, so traffic between a node and its own pods never meets
//! a ruleset, which is how Kubernetes exempts it; from another node it
//! crosses the pods' node like any other packet, and ipBlocks decide.
//!
//! Every listener and every connection attempt is a socket opened by a thread
//! that entered a pod's namespace first: traffic never leaves the namespaces
//! this run created. They are deleted at the end, on errors, on
//! SIGINT/SIGTERM, and (for a run that was killed) at the next start.

pub mod netns;
pub mod sock;
pub mod topology;
mod wire;

use std::collections::BTreeSet;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use netpol_model::{Cluster, Endpoint, Family, Protocol};

use netns::NsHandle;
pub use topology::{
    DEFAULT_MAX_REPLICAS, NodeKey, Nodes, assign_addresses, expand_replicas, nodes, replica_of,
};
use wire::{Layout, Place, layout, wire};

/// Addresses for pods without `status.podIP` (RFC 2544 benchmarking range).
pub const SPARE_RANGE: &str = "198.18.0.0/15";

#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    #[error("{0}")]
    Missing(String),
    #[error("{0}")]
    Command(String),
    #[error("{0}")]
    Input(String),
    #[error("stopped on purpose at stage {0} (NETPOL_PROBE_FAIL_AT)")]
    Injected(String),
}

/// One connection to attempt; `src` and `dst` index `Cluster::endpoints`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Job {
    pub src: usize,
    pub dst: usize,
    pub port: u16,
    pub protocol: Protocol,
    /// Over this address family; `None`: the destination's first address of
    /// a family the source has (for connections whose answer is the same
    /// over every family).
    pub family: Option<Family>,
}

/// The jobs that test every connection of `matrix`, each with the engine's
/// answer: one per connection, or one per family for a connection the engine
/// allows over one family only (the other is measured as well).
pub fn jobs(matrix: &netpol_engine::Matrix) -> Vec<(Job, bool)> {
    let mut out = Vec::with_capacity(matrix.len());
    for c in matrix.cells() {
        let job = |family| Job {
            src: c.src,
            dst: c.dst,
            port: c.port,
            protocol: c.protocol,
            family,
        };
        match c.only {
            None => out.push((job(None), c.allowed)),
            Some(only) => {
                for f in Family::ALL {
                    out.push((job(Some(f)), f == only));
                }
            }
        }
    }
    out
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Allowed,
    Denied,
    /// Measured nothing, with the reason.
    Untestable(String),
}

#[derive(Clone, Debug)]
pub struct ProbeOptions {
    /// Per attempt; a denied TCP connection costs this long.
    pub timeout: Duration,
    /// Attempts in flight at once.
    pub parallel: usize,
    /// A line on stderr every few seconds of a long run.
    pub progress: bool,
}

impl Default for ProbeOptions {
    fn default() -> Self {
        ProbeOptions {
            timeout: Duration::from_millis(1500),
            parallel: 1024,
            progress: false,
        }
    }
}

/// Root, `ip` and `nft`: checked before anything is created.
pub fn check_requirements() -> Result<(), ProbeError> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Err(ProbeError::Missing(
            "netpol probe needs root: it creates network namespaces and applies nftables rules inside them (run it with sudo)".into(),
        ));
    }
    for (cmd, arg, package) in [("ip", "-V", "iproute2"), ("nft", "--version", "nftables")] {
        let found = std::process::Command::new(cmd)
            .arg(arg)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status();
        if let Err(e) = found {
            return Err(ProbeError::Missing(format!(
                "netpol probe needs the `{cmd}` command (Debian/Ubuntu package {package}): {e}"
            )));
        }
    }
    Ok(())
}

/// Why an endpoint cannot be part of the throwaway network, if it cannot.
pub(crate) fn untestable(e: &Endpoint) -> Option<String> {
    e.ips
        .is_empty()
        .then(|| format!("{} has no address", e.id()))
}

/// The destination's first address of a family the source has (a dual-stack
/// pod is reached over its primary family when the source has it too), or
/// its address of `family`.
fn target(src: &Endpoint, dst: &Endpoint, family: Option<Family>) -> Option<IpAddr> {
    dst.ips.iter().copied().find(|d| {
        family.is_none_or(|f| Family::of(*d) == f)
            && src.ips.iter().any(|s| s.is_ipv6() == d.is_ipv6())
    })
}

/// Test hooks: `NETPOL_PROBE_FAIL_AT=STAGE` fails there, `NETPOL_PROBE_PAUSE_AT=STAGE`
/// waits there (for a signal), so tests can prove the teardown.
fn stage(name: &str) -> Result<(), ProbeError> {
    if std::env::var("NETPOL_PROBE_PAUSE_AT").is_ok_and(|s| s == name) {
        eprintln!("netpol probe: paused at {name}");
        std::thread::sleep(Duration::from_secs(120));
    }
    if std::env::var("NETPOL_PROBE_FAIL_AT").is_ok_and(|s| s == name) {
        return Err(ProbeError::Injected(name.into()));
    }
    Ok(())
}

/// Deletes the run's namespaces when dropped: at the end and on every error.
struct Teardown;

impl Drop for Teardown {
    fn drop(&mut self) {
        for failure in netns::delete_created() {
            eprintln!("warning: could not remove network namespace {failure}");
        }
    }
}

/// Builds the network (a namespace per pod, per node, and one that routes
/// between the nodes), applies `rulesets[k]` on node `k`, and attempts every
/// job. Outcomes are in the order of `jobs`.
pub fn run(
    cluster: &Cluster,
    nodes: &Nodes,
    rulesets: &[Option<String>],
    jobs: &[Job],
    opts: &ProbeOptions,
) -> Result<Vec<Outcome>, ProbeError> {
    check_requirements()?;
    netns::install_signal_cleanup();
    for name in netns::clean_leftovers() {
        eprintln!("note: removed network namespace {name}, left over by a previous run");
    }
    let layout = layout(cluster, nodes)?;

    let _teardown = Teardown;
    let run = netns::Run::start()?;
    let fabric_name = run.name("fabric");
    let node_names: Vec<String> = (0..nodes.keys.len())
        .map(|k| run.name(&format!("n{k}")))
        .collect();
    let pod_names: Vec<String> = (0..layout.slots.len())
        .map(|j| run.name(&format!("p{j}")))
        .collect();
    let mut all = vec![fabric_name.clone()];
    all.extend(node_names.iter().cloned());
    all.extend(pod_names.iter().cloned());
    run.add_all(&all)?;
    let open = |names: &[String]| -> Result<Vec<NsHandle>, ProbeError> {
        names.iter().map(|n| NsHandle::open(n)).collect()
    };
    let fabric = NsHandle::open(&fabric_name)?;
    let node_handles = open(&node_names)?;
    let pod_handles = open(&pod_names)?;
    stage("namespaces")?;
    wire(&layout, &fabric, &node_handles, &pod_handles)?;
    stage("network")?;
    for (ns, ruleset) in node_handles.iter().zip(rulesets) {
        if let Some(ruleset) = ruleset {
            netns::nft_apply(&ns.name, ruleset)?;
        }
    }
    stage("ruleset")?;

    let handle = |p: Place| match p {
        Place::Pod(j) => &pod_handles[j],
        Place::Node(k) => &node_handles[k],
    };
    let sctp = sock::sctp_supported(&fabric, false);
    let mut listeners = sock::Listeners::new();
    let result = listen_all(cluster, &layout, &handle, sctp, &mut listeners)
        .and_then(|()| stage("listeners"))
        .and_then(|()| attempt_all(cluster, jobs, &layout, &handle, sctp, opts));
    listeners.stop();
    result
}

/// A listener per address and declared port of each namespace's endpoints
/// (host-network pods of one node that declare the same port share it).
fn listen_all<'h>(
    cluster: &Cluster,
    layout: &Layout,
    handle: &impl Fn(Place) -> &'h NsHandle,
    sctp: bool,
    listeners: &mut sock::Listeners,
) -> Result<(), ProbeError> {
    let mut wanted: BTreeSet<(usize, bool, IpAddr, u16, Protocol)> = BTreeSet::new();
    for (e, place) in cluster.endpoints.iter().zip(&layout.place) {
        let Some(place) = *place else { continue };
        let key = match place {
            Place::Pod(j) => (j, false),
            Place::Node(k) => (k, true),
        };
        for p in &e.ports {
            if p.protocol == Protocol::Sctp && !sctp {
                continue;
            }
            for ip in &e.ips {
                wanted.insert((key.0, key.1, *ip, p.port, p.protocol));
            }
        }
    }
    for (n, on_node, ip, port, protocol) in wanted {
        let place = if on_node {
            Place::Node(n)
        } else {
            Place::Pod(n)
        };
        listeners.listen(handle(place), SocketAddr::new(ip, port), protocol)?;
    }
    Ok(())
}

fn attempt_all<'h>(
    cluster: &Cluster,
    jobs: &[Job],
    layout: &Layout,
    handle: &(impl Fn(Place) -> &'h NsHandle + Sync),
    sctp: bool,
    opts: &ProbeOptions,
) -> Result<Vec<Outcome>, ProbeError> {
    let mut outcomes: Vec<Option<Outcome>> = jobs
        .iter()
        .map(|j| {
            let (s, d) = (&cluster.endpoints[j.src], &cluster.endpoints[j.dst]);
            if let Some(why) = untestable(s).or_else(|| untestable(d)) {
                Some(Outcome::Untestable(why))
            } else if j.src == j.dst && s.may_be_several_pods() {
                Some(Outcome::Untestable(format!(
                    "{} stands for several pods and the probe network has one: traffic between two of them is not measured",
                    s.id()
                )))
            } else if target(s, d, j.family).is_none() {
                Some(Outcome::Untestable(format!(
                    "{} and {} have no address family in common",
                    s.id(),
                    d.id()
                )))
            } else if j.protocol == Protocol::Sctp && !sctp {
                Some(Outcome::Untestable(
                    "this kernel does not support SCTP".into(),
                ))
            } else {
                None
            }
        })
        .collect();
    let todo: Vec<usize> = (0..jobs.len()).filter(|&k| outcomes[k].is_none()).collect();
    let next = AtomicUsize::new(0);
    // Connections that cannot be tested count as done from the start.
    let done = AtomicUsize::new(jobs.len() - todo.len());
    let measured: Mutex<Vec<(usize, Result<bool, ProbeError>)>> =
        Mutex::new(Vec::with_capacity(todo.len()));
    let workers = opts.parallel.max(1).min(todo.len());
    let started = Instant::now();
    std::thread::scope(|s| {
        if opts.progress {
            s.spawn(|| progress(&done, jobs.len(), started));
        }
        for _ in 0..workers {
            let work = || {
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&k) = todo.get(n) else { break };
                    let job = jobs[k];
                    let (src, dst) = (&cluster.endpoints[job.src], &cluster.endpoints[job.dst]);
                    let ip = target(src, dst, job.family).expect("checked");
                    // From the source's own address of that family: a node holds several.
                    let from = src
                        .ips
                        .iter()
                        .copied()
                        .find(|s| s.is_ipv6() == ip.is_ipv6());
                    let ns = handle(
                        layout.place[job.src].expect("endpoints with an address have a place"),
                    );
                    let result = ns.enter().and_then(|()| {
                        sock::attempt(
                            from,
                            SocketAddr::new(ip, job.port),
                            job.protocol,
                            opts.timeout,
                        )
                    });
                    measured
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push((k, result));
                    done.fetch_add(1, Ordering::Relaxed);
                }
            };
            // Small stacks: a worker only waits on one socket.
            if std::thread::Builder::new()
                .stack_size(256 * 1024)
                .spawn_scoped(s, work)
                .is_err()
            {
                break;
            }
        }
    });
    let mut first_error = None;
    for (k, result) in measured.into_inner().unwrap_or_else(|p| p.into_inner()) {
        match result {
            Ok(allowed) => {
                outcomes[k] = Some(if allowed {
                    Outcome::Allowed
                } else {
                    Outcome::Denied
                })
            }
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    if let Some(e) = first_error {
        return Err(e);
    }
    outcomes
        .into_iter()
        .map(|o| {
            o.ok_or_else(|| ProbeError::Command("no thread could measure some connections".into()))
        })
        .collect()
}

/// A line on stderr every few seconds once a run takes longer than a moment.
fn progress(done: &AtomicUsize, total: usize, started: Instant) {
    let mut last = Instant::now();
    loop {
        std::thread::sleep(Duration::from_millis(100));
        let n = done.load(Ordering::Relaxed);
        if n >= total {
            return;
        }
        if started.elapsed() >= Duration::from_secs(3) && last.elapsed() >= Duration::from_secs(3) {
            eprintln!(
                "netpol probe: {n} of {total} connections done ({}s)",
                started.elapsed().as_secs()
            );
            last = Instant::now();
        }
    }
}
