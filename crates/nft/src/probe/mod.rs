//! A throwaway network that measures what the kernel really allows.
//!
//! Topology: one namespace plays the node; each pod gets its own namespace,
//! joined to the node by a veth pair, with its address as a /32 (/128) on
//! `eth0` and a default route via 169.254.1.1 (fe80::1), an address every
//! node-side veth carries. The node routes between the veths, so every
//! packet from one pod to another crosses the node's forward hook, where the
//! `netpol nft` ruleset sits. (A shared Linux bridge would switch pod-to-pod
//! frames past that hook unless br_netfilter were loaded, and that module
//! changes the host's own bridges; routed veths, as Calico wires pods, need
//! nothing global.)
//!
//! Every listener and every connection attempt is a socket opened by a thread
//! that entered a pod's namespace first: traffic never leaves the namespaces
//! this run created. They are deleted at the end, on errors, on
//! SIGINT/SIGTERM, and (for a run that was killed) at the next start.

pub mod netns;
pub mod sock;

use std::collections::{BTreeSet, HashSet};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use netpol_model::{Cluster, Endpoint, Protocol};

use netns::NsHandle;

/// Every namespace a run creates is named `PREFIX<pid>-...`.
pub const PREFIX: &str = "np-";
const GATEWAY_V4: &str = "169.254.1.1";
const GATEWAY_V6: &str = "fe80::1";
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
}

impl Default for ProbeOptions {
    fn default() -> Self {
        ProbeOptions {
            timeout: Duration::from_millis(1500),
            parallel: 256,
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

/// Gives every pod without an address (and not on the host network) a free
/// one from 198.18.0.0/15. Returns the `(pod, address)` pairs given.
pub fn assign_addresses(cluster: &mut Cluster) -> Result<Vec<(String, IpAddr)>, ProbeError> {
    let used: HashSet<IpAddr> = cluster
        .endpoints
        .iter()
        .flat_map(|e| e.ips.iter().copied())
        .collect();
    let (first, last) = (
        u32::from(Ipv4Addr::new(198, 18, 0, 1)),
        u32::from(Ipv4Addr::new(198, 19, 255, 254)),
    );
    let mut next = first;
    let mut given = Vec::new();
    for e in cluster
        .endpoints
        .iter_mut()
        .filter(|e| e.ips.is_empty() && !e.host_network)
    {
        while used.contains(&IpAddr::V4(Ipv4Addr::from(next))) {
            next += 1;
        }
        if next > last {
            return Err(ProbeError::Input(format!(
                "more pods without an address than {SPARE_RANGE} holds"
            )));
        }
        let ip = IpAddr::V4(Ipv4Addr::from(next));
        e.ips.push(ip);
        given.push((e.id(), ip));
        next += 1;
    }
    Ok(given)
}

/// Why a pod cannot be part of the throwaway network, if it cannot.
fn untestable_pod(e: &Endpoint) -> Option<String> {
    if e.host_network {
        return Some(format!(
            "{} uses the host network, which probe does not model",
            e.id()
        ));
    }
    if e.ips.is_empty() {
        return Some(format!("{} has no address", e.id()));
    }
    None
}

/// The destination's first address of a family the source has (a dual-stack
/// pod is reached over its primary family when the source has it too).
fn target(src: &Endpoint, dst: &Endpoint) -> Option<IpAddr> {
    dst.ips
        .iter()
        .copied()
        .find(|d| src.ips.iter().any(|s| s.is_ipv6() == d.is_ipv6()))
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

/// Builds the network, applies `ruleset` in the node namespace, and attempts
/// every job. Outcomes are in the order of `jobs`.
pub fn run(
    cluster: &Cluster,
    ruleset: &str,
    jobs: &[Job],
    opts: &ProbeOptions,
) -> Result<Vec<Outcome>, ProbeError> {
    check_requirements()?;
    netns::install_signal_cleanup();
    for name in netns::clean_leftovers(PREFIX) {
        eprintln!("note: removed network namespace {name}, left over by a previous run");
    }
    let gateway: IpAddr = GATEWAY_V4.parse().expect("literal");
    if let Some(e) = cluster.endpoints.iter().find(|e| e.ips.contains(&gateway)) {
        return Err(ProbeError::Input(format!(
            "{} uses {GATEWAY_V4}, which probe needs for the node",
            e.id()
        )));
    }
    let pods: Vec<usize> = (0..cluster.endpoints.len())
        .filter(|&i| untestable_pod(&cluster.endpoints[i]).is_none())
        .collect();

    let _teardown = Teardown;
    let base = format!("{PREFIX}{}", std::process::id());
    let node_name = format!("{base}-node");
    netns::add(&node_name)?;
    let node = NsHandle::open(&node_name)?;
    let mut handles: Vec<Option<NsHandle>> = (0..cluster.endpoints.len()).map(|_| None).collect();
    for &i in &pods {
        let name = format!("{base}-p{i}");
        netns::add(&name)?;
        handles[i] = Some(NsHandle::open(&name)?);
    }
    stage("namespaces")?;
    wire(cluster, &pods, &node, &handles)?;
    stage("network")?;
    netns::nft_apply(&node.name, ruleset)?;
    stage("ruleset")?;

    let sctp = pods
        .first()
        .and_then(|&i| handles[i].as_ref())
        .is_some_and(|h| sock::sctp_supported(h, false));
    let mut listeners = sock::Listeners::new();
    let result = listen_all(cluster, &pods, &handles, sctp, &mut listeners)
        .and_then(|()| stage("listeners"))
        .and_then(|()| attempt_all(cluster, jobs, &handles, sctp, opts));
    listeners.stop();
    result
}

fn wire(
    cluster: &Cluster,
    pods: &[usize],
    node: &NsHandle,
    handles: &[Option<NsHandle>],
) -> Result<(), ProbeError> {
    let any_v6 = pods
        .iter()
        .any(|&i| cluster.endpoints[i].ips.iter().any(|ip| ip.is_ipv6()));
    node.sysctl("net.ipv4.ip_forward", "1")?;
    if any_v6 {
        node.sysctl("net.ipv6.conf.all.forwarding", "1")?;
    }
    let mut node_cmds = String::from("link set lo up\n");
    for &i in pods {
        let pod = handles[i].as_ref().expect("opened");
        if any_v6 {
            // Addresses usable at once, without duplicate address detection.
            pod.sysctl("net.ipv6.conf.default.accept_dad", "0")?;
        }
        let e = &cluster.endpoints[i];
        node_cmds.push_str(&format!(
            "link add p{i} type veth peer name eth0 netns {}\n",
            pod.name
        ));
        node_cmds.push_str(&format!(
            "link set p{i} up\naddr add {GATEWAY_V4}/32 dev p{i}\n"
        ));
        if any_v6 {
            node_cmds.push_str(&format!("addr add {GATEWAY_V6}/64 dev p{i} nodad\n"));
        }
        for ip in &e.ips {
            let len = if ip.is_ipv6() { 128 } else { 32 };
            node_cmds.push_str(&format!("route add {ip}/{len} dev p{i}\n"));
        }
    }
    netns::ip_batch(&node.name, &node_cmds)?;
    for &i in pods {
        let pod = handles[i].as_ref().expect("opened");
        let e = &cluster.endpoints[i];
        let mut cmds = String::from("link set lo up\nlink set eth0 up\n");
        for ip in &e.ips {
            match ip {
                IpAddr::V4(_) => cmds.push_str(&format!("addr add {ip}/32 dev eth0\n")),
                IpAddr::V6(_) => cmds.push_str(&format!("addr add {ip}/128 dev eth0 nodad\n")),
            }
        }
        cmds.push_str(&format!("route add {GATEWAY_V4}/32 dev eth0 scope link\nroute add default via {GATEWAY_V4} dev eth0\n"));
        if e.ips.iter().any(|ip| ip.is_ipv6()) {
            cmds.push_str(&format!("route add default via {GATEWAY_V6} dev eth0\n"));
        }
        netns::ip_batch(&pod.name, &cmds)?;
    }
    Ok(())
}

fn listen_all(
    cluster: &Cluster,
    pods: &[usize],
    handles: &[Option<NsHandle>],
    sctp: bool,
    listeners: &mut sock::Listeners,
) -> Result<(), ProbeError> {
    for &i in pods {
        let e = &cluster.endpoints[i];
        let ns = handles[i].as_ref().expect("opened");
        let ports: BTreeSet<(u16, Protocol)> =
            e.ports.iter().map(|p| (p.port, p.protocol)).collect();
        for (port, protocol) in ports {
            if protocol == Protocol::Sctp && !sctp {
                continue;
            }
            for ip in &e.ips {
                listeners.listen(ns, SocketAddr::new(*ip, port), protocol)?;
            }
        }
    }
    Ok(())
}

fn attempt_all(
    cluster: &Cluster,
    jobs: &[Job],
    handles: &[Option<NsHandle>],
    sctp: bool,
    opts: &ProbeOptions,
) -> Result<Vec<Outcome>, ProbeError> {
    let mut outcomes: Vec<Option<Outcome>> = jobs
        .iter()
        .map(|j| {
            let (s, d) = (&cluster.endpoints[j.src], &cluster.endpoints[j.dst]);
            if let Some(why) = untestable_pod(s).or_else(|| untestable_pod(d)) {
                Some(Outcome::Untestable(why))
            } else if target(s, d).is_none() {
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
    let measured: Mutex<Vec<(usize, Result<bool, ProbeError>)>> =
        Mutex::new(Vec::with_capacity(todo.len()));
    let workers = opts.parallel.max(1).min(todo.len());
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&k) = todo.get(n) else { break };
                    let job = jobs[k];
                    let ip = target(&cluster.endpoints[job.src], &cluster.endpoints[job.dst])
                        .expect("checked");
                    let dst = SocketAddr::new(ip, job.port);
                    let src = handles[job.src]
                        .as_ref()
                        .expect("testable pods have a namespace");
                    let result = src
                        .enter()
                        .and_then(|()| sock::attempt(dst, job.protocol, opts.timeout));
                    measured
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push((k, result));
                }
            });
        }
    });
    for (k, result) in measured.into_inner().unwrap_or_else(|p| p.into_inner()) {
        outcomes[k] = Some(if result? {
            Outcome::Allowed
        } else {
            Outcome::Denied
        });
    }
    Ok(outcomes
        .into_iter()
        .map(|o| o.expect("every job decided"))
        .collect())
}
