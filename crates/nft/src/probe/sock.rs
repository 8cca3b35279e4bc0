//! Listeners and connection attempts with real sockets. Every socket is
//! created by a thread that first entered a pod's namespace, so its packets
//! start and end inside namespaces this run created.

use std::io::{ErrorKind, Read, Write};
use std::mem::MaybeUninit;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use netpol_model::Protocol;
use socket2::{Domain, Protocol as SockProto, Socket, Type};

use super::ProbeError;
use super::netns::NsHandle;

const REQUEST: &[u8] = b"netpol-probe?";
const REPLY: &[u8] = b"netpol-probe!";
/// How often listener threads look at the stop flag.
const POLL: Duration = Duration::from_millis(100);

fn socket(addr: &SocketAddr, protocol: Protocol) -> std::io::Result<Socket> {
    let domain = Domain::for_address(*addr);
    match protocol {
        Protocol::Tcp => Socket::new(domain, Type::STREAM, Some(SockProto::TCP)),
        Protocol::Udp => Socket::new(domain, Type::DGRAM, Some(SockProto::UDP)),
        Protocol::Sctp => Socket::new(
            domain,
            Type::STREAM,
            Some(SockProto::from(libc::IPPROTO_SCTP)),
        ),
    }
}

/// Whether this kernel lets a namespace open SCTP sockets.
pub fn sctp_supported(ns: &NsHandle, v6: bool) -> bool {
    std::thread::scope(|s| {
        s.spawn(|| {
            ns.enter().is_ok() && {
                let addr: SocketAddr = if v6 { "[::1]:0" } else { "127.0.0.1:0" }
                    .parse()
                    .expect("literal");
                socket(&addr, Protocol::Sctp).is_ok()
            }
        })
        .join()
        .unwrap_or(false)
    })
}

/// Listeners answering every request until `stop` is set.
pub struct Listeners {
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl Listeners {
    pub fn new() -> Listeners {
        Listeners {
            stop: Arc::new(AtomicBool::new(false)),
            threads: Vec::new(),
        }
    }

    /// Binds `addr` with `protocol` inside `ns` and serves it on a thread.
    pub fn listen(
        &mut self,
        ns: &NsHandle,
        addr: SocketAddr,
        protocol: Protocol,
    ) -> Result<(), ProbeError> {
        let sock = std::thread::scope(|s| {
            s.spawn(|| -> Result<Socket, ProbeError> {
                ns.enter()?;
                let fail = |e: std::io::Error| {
                    ProbeError::Command(format!(
                        "cannot listen on {addr}/{protocol} in {}: {e}",
                        ns.name
                    ))
                };
                let sock = socket(&addr, protocol).map_err(fail)?;
                sock.set_reuse_address(true).map_err(fail)?;
                sock.bind(&addr.into()).map_err(fail)?;
                if protocol != Protocol::Udp {
                    sock.listen(128).map_err(fail)?;
                }
                // Also bounds accept(): Linux applies SO_RCVTIMEO to it.
                sock.set_read_timeout(Some(POLL)).map_err(fail)?;
                Ok(sock)
            })
            .join()
            .unwrap_or_else(|_| Err(ProbeError::Command("listener thread panicked".into())))
        })?;
        let stop = Arc::clone(&self.stop);
        let handle = std::thread::spawn(move || match protocol {
            Protocol::Udp => serve_datagrams(sock, &stop),
            Protocol::Tcp | Protocol::Sctp => serve_streams(sock, &stop),
        });
        self.threads.push(handle);
        Ok(())
    }

    pub fn stop(self) {
        self.stop.store(true, Ordering::SeqCst);
        for t in self.threads {
            let _ = t.join();
        }
    }
}

impl Default for Listeners {
    fn default() -> Self {
        Listeners::new()
    }
}

fn serve_streams(listener: Socket, stop: &AtomicBool) {
    while !stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((conn, _)) => {
                let mut conn = std::net::TcpStream::from(conn);
                let _ = conn.set_read_timeout(Some(Duration::from_secs(2)));
                let mut buf = [0u8; 64];
                if let Ok(n) = conn.read(&mut buf)
                    && &buf[..n] == REQUEST
                {
                    let _ = conn.write_all(REPLY);
                }
            }
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
                ) => {}
            Err(_) => std::thread::sleep(POLL),
        }
    }
}

fn serve_datagrams(sock: Socket, stop: &AtomicBool) {
    let mut buf = [MaybeUninit::<u8>::uninit(); 64];
    while !stop.load(Ordering::SeqCst) {
        if let Ok((n, from)) = sock.recv_from(&mut buf) {
            // SAFETY: recv_from initialised the first n bytes.
            let data: Vec<u8> = buf[..n]
                .iter()
                .map(|b| unsafe { b.assume_init() })
                .collect();
            if data == REQUEST {
                let _ = sock.send_to(REPLY, &from);
            }
        }
    }
}

/// Tries one connection from the calling thread's namespace, from address
/// `from` when given: true when the request reached the listener and its
/// reply came back within `timeout`.
pub fn attempt(
    from: Option<IpAddr>,
    dst: SocketAddr,
    protocol: Protocol,
    timeout: Duration,
) -> Result<bool, ProbeError> {
    let sock = socket(&dst, protocol)
        .map_err(|e| ProbeError::Command(format!("cannot open a {protocol} socket: {e}")))?;
    if let Some(from) = from {
        sock.bind(&SocketAddr::new(from, 0).into()).map_err(|e| {
            ProbeError::Command(format!("cannot bind a {protocol} socket to {from}: {e}"))
        })?;
    }
    match protocol {
        Protocol::Udp => Ok(attempt_datagram(sock, dst, timeout)),
        Protocol::Tcp | Protocol::Sctp => Ok(attempt_stream(sock, dst, timeout)),
    }
}

fn attempt_stream(sock: Socket, dst: SocketAddr, timeout: Duration) -> bool {
    let start = Instant::now();
    if sock.connect_timeout(&dst.into(), timeout).is_err() {
        return false;
    }
    let left = timeout
        .saturating_sub(start.elapsed())
        .max(Duration::from_millis(50));
    let mut conn = std::net::TcpStream::from(sock);
    let _ = conn.set_read_timeout(Some(left));
    if conn.write_all(REQUEST).is_err() {
        return false;
    }
    let mut buf = [0u8; 64];
    matches!(conn.read(&mut buf), Ok(n) if &buf[..n] == REPLY)
}

fn attempt_datagram(sock: Socket, dst: SocketAddr, timeout: Duration) -> bool {
    if sock.connect(&dst.into()).is_err() {
        return false;
    }
    let deadline = Instant::now() + timeout;
    // Resent a few times: a datagram carries no retransmission of its own.
    let interval = timeout / 4;
    let mut buf = [MaybeUninit::<u8>::uninit(); 64];
    while Instant::now() < deadline {
        if sock.send(REQUEST).is_err() {
            // ICMP errors (unreachable) surface here: not allowed.
            return false;
        }
        let wait = interval
            .min(deadline.saturating_duration_since(Instant::now()))
            .max(Duration::from_millis(10));
        let _ = sock.set_read_timeout(Some(wait));
        match sock.recv(&mut buf) {
            Ok(n) => {
                // SAFETY: recv initialised the first n bytes.
                let data: Vec<u8> = buf[..n]
                    .iter()
                    .map(|b| unsafe { b.assume_init() })
                    .collect();
                if data == REPLY {
                    return true;
                }
            }
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
                ) => {}
            Err(_) => return false,
        }
    }
    false
}
