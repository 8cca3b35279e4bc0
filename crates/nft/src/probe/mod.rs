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
//! Host-network pods get a namespace too, one per address set (the
//! host-network pods of a node share it), behind the same node: so traffic
//! between them and pods crosses the ruleset, whose same-node exemptions and
//! ipBlocks then decide, as the engine does.
//!
//! Every listener and every connection attempt is a socket opened by a thread
//! that entered a pod's namespace first: traffic never leaves the namespaces
//! this run created. They are deleted at the end, on errors, on
//! SIGINT/SIGTERM, and (for a run that was killed) at the next start.

pub mod netns;
pub mod sock;

use std::collections::{BTreeSet, HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use netpol_model::{Cluster, Endpoint, Family, Protocol};

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

/// Gives every pod without an address (host-network ones too: the engine
/// then decides with that address as well) a free one from 198.18.0.0/15. Returns the `(pod, address)` pairs given.
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
    for e in cluster.endpoints.iter_mut().filter(|e| e.ips.is_empty()) {
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

/// Why an endpoint cannot be part of the throwaway network, if it cannot.
fn untestable(e: &Endpoint) -> Option<String> {
    e.ips
        .is_empty()
        .then(|| format!("{} has no address", e.id()))
}

/// One namespace of the throwaway network: a pod, or the host-network pods
/// that share a set of addresses (their node's).
struct Slot {
    ips: Vec<IpAddr>,
    members: Vec<usize>,
}

/// Groups the endpoints into namespaces; `slot_of[endpoint]` is its slot.
fn slots(cluster: &Cluster) -> Result<(Vec<Slot>, Vec<Option<usize>>), ProbeError> {
    let mut slots: Vec<Slot> = Vec::new();
    let mut slot_of = vec![None; cluster.endpoints.len()];
    let mut hosts: HashMap<&[IpAddr], usize> = HashMap::new();
    let mut owner: HashMap<IpAddr, usize> = HashMap::new();
    for (i, e) in cluster.endpoints.iter().enumerate() {
        if untestable(e).is_some() {
            continue;
        }
        let shared = if e.host_network {
            hosts.get(e.ips.as_slice()).copied()
        } else {
            None
        };
        let slot = match shared {
            Some(slot) => slot,
            None => {
                slots.push(Slot {
                    ips: e.ips.clone(),
                    members: Vec::new(),
                });
                let slot = slots.len() - 1;
                if e.host_network {
                    hosts.insert(e.ips.as_slice(), slot);
                }
                for ip in &e.ips {
                    if let Some(&other) = owner.get(ip) {
                        let first = cluster.endpoints[slots[other].members[0]].id();
                        return Err(ProbeError::Input(format!(
                            "{first} and {} both have the address {ip}",
                            e.id()
                        )));
                    }
                    owner.insert(*ip, slot);
                }
                slot
            }
        };
        slots[slot].members.push(i);
        slot_of[i] = Some(slot);
    }
    Ok((slots, slot_of))
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
    let (slots, slot_of) = slots(cluster)?;

    let _teardown = Teardown;
    let base = format!("{PREFIX}{}", std::process::id());
    let node_name = format!("{base}-node");
    netns::add(&node_name)?;
    let node = NsHandle::open(&node_name)?;
    let mut handles = Vec::with_capacity(slots.len());
    for k in 0..slots.len() {
        let name = format!("{base}-p{k}");
        netns::add(&name)?;
        handles.push(NsHandle::open(&name)?);
    }
    stage("namespaces")?;
    wire(&slots, &node, &handles)?;
    stage("network")?;
    netns::nft_apply(&node.name, ruleset)?;
    stage("ruleset")?;

    let sctp = handles
        .first()
        .is_some_and(|h| sock::sctp_supported(h, false));
    let mut listeners = sock::Listeners::new();
    let result = listen_all(cluster, &slots, &handles, sctp, &mut listeners)
        .and_then(|()| stage("listeners"))
        .and_then(|()| attempt_all(cluster, jobs, &slot_of, &handles, sctp, opts));
    listeners.stop();
    result
}

fn wire(slots: &[Slot], node: &NsHandle, handles: &[NsHandle]) -> Result<(), ProbeError> {
    let any_v6 = slots.iter().any(|s| s.ips.iter().any(|ip| ip.is_ipv6()));
    node.sysctl("net.ipv4.ip_forward", "1")?;
    if any_v6 {
        node.sysctl("net.ipv6.conf.all.forwarding", "1")?;
    }
    let mut node_cmds = String::from("link set lo up\n");
    for (k, (slot, ns)) in slots.iter().zip(handles).enumerate() {
        if any_v6 {
            // Addresses usable at once, without duplicate address detection.
            ns.sysctl("net.ipv6.conf.default.accept_dad", "0")?;
        }
        node_cmds.push_str(&format!(
            "link add p{k} type veth peer name eth0 netns {}\n",
            ns.name
        ));
        node_cmds.push_str(&format!(
            "link set p{k} up\naddr add {GATEWAY_V4}/32 dev p{k}\n"
        ));
        if any_v6 {
            node_cmds.push_str(&format!("addr add {GATEWAY_V6}/64 dev p{k} nodad\n"));
        }
        for ip in &slot.ips {
            let len = if ip.is_ipv6() { 128 } else { 32 };
            node_cmds.push_str(&format!("route add {ip}/{len} dev p{k}\n"));
        }
    }
    netns::ip_batch(&node.name, &node_cmds)?;
    for (slot, ns) in slots.iter().zip(handles) {
        let mut cmds = String::from("link set lo up\nlink set eth0 up\n");
        for ip in &slot.ips {
            match ip {
                IpAddr::V4(_) => cmds.push_str(&format!("addr add {ip}/32 dev eth0\n")),
                IpAddr::V6(_) => cmds.push_str(&format!("addr add {ip}/128 dev eth0 nodad\n")),
            }
        }
        cmds.push_str(&format!(
            "route add {GATEWAY_V4}/32 dev eth0 scope link\nroute add default via {GATEWAY_V4} dev eth0\n"
        ));
        if slot.ips.iter().any(|ip| ip.is_ipv6()) {
            cmds.push_str(&format!("route add default via {GATEWAY_V6} dev eth0\n"));
        }
        netns::ip_batch(&ns.name, &cmds)?;
    }
    Ok(())
}

/// A listener per address and declared port of each namespace's endpoints
/// (host-network pods of one node that declare the same port share it).
fn listen_all(
    cluster: &Cluster,
    slots: &[Slot],
    handles: &[NsHandle],
    sctp: bool,
    listeners: &mut sock::Listeners,
) -> Result<(), ProbeError> {
    for (slot, ns) in slots.iter().zip(handles) {
        let ports: BTreeSet<(u16, Protocol)> = slot
            .members
            .iter()
            .flat_map(|&i| {
                cluster.endpoints[i]
                    .ports
                    .iter()
                    .map(|p| (p.port, p.protocol))
            })
            .collect();
        for (port, protocol) in ports {
            if protocol == Protocol::Sctp && !sctp {
                continue;
            }
            for ip in &slot.ips {
                listeners.listen(ns, SocketAddr::new(*ip, port), protocol)?;
            }
        }
    }
    Ok(())
}

fn attempt_all(
    cluster: &Cluster,
    jobs: &[Job],
    slot_of: &[Option<usize>],
    handles: &[NsHandle],
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
                    let ip = target(
                        &cluster.endpoints[job.src],
                        &cluster.endpoints[job.dst],
                        job.family,
                    )
                    .expect("checked");
                    let dst = SocketAddr::new(ip, job.port);
                    let src = &handles
                        [slot_of[job.src].expect("endpoints with an address have a namespace")];
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
