//! Network namespaces this process creates, and their removal: at the end,
//! on errors (the guard's `Drop`), on SIGINT/SIGTERM/SIGHUP (a signal thread),
//! and for a previous run that was killed (at the next start).
//!
//! A run marks what it creates: its names are `np-<pid>-<token>-...` with a
//! random token, and before creating them it lists them in a state file,
//! `/run/netpol/probe-<pid>-<token>`, with its pid and its process start
//! time. Leftovers are removed only through such a file, only when that
//! process is gone (a pid reused by another process has another start time),
//! and only the names it lists: a namespace that merely looks like the
//! probe's is never touched. Links and nft tables live only inside these
//! namespaces and vanish with them.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Mutex, MutexGuard, Once};

use super::ProbeError;

pub const NETNS_DIR: &str = "/run/netns";

/// Where runs record what they create.
pub const STATE_DIR: &str = "/run/netpol";

/// What this process created and has not yet deleted, and the state file
/// that lists it. The signal thread takes this lock, so it never races a
/// namespace being created: it waits, deletes, exits.
struct Created {
    names: Vec<String>,
    state: Option<PathBuf>,
}

static CREATED: Mutex<Created> = Mutex::new(Created {
    names: Vec::new(),
    state: None,
});

fn created() -> MutexGuard<'static, Created> {
    CREATED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Runs `ip ARGS` (optionally inside namespace `ns`), failing with its stderr.
pub fn ip(ns: Option<&str>, args: &[&str]) -> Result<(), ProbeError> {
    let mut cmd = Command::new("ip");
    if let Some(ns) = ns {
        cmd.args(["-n", ns]);
    }
    cmd.args(args);
    run(cmd, None)
}

/// Runs `ip -batch -` inside `ns`: many commands for one process.
pub fn ip_batch(ns: &str, commands: &str) -> Result<(), ProbeError> {
    let mut cmd = Command::new("ip");
    cmd.args(["-n", ns, "-batch", "-"]);
    run(cmd, Some(commands))
}

/// Applies a ruleset inside `ns`, never on the host.
pub fn nft_apply(ns: &str, ruleset: &str) -> Result<(), ProbeError> {
    let mut cmd = Command::new("ip");
    cmd.args(["netns", "exec", ns, "nft", "-f", "-"]);
    run(cmd, Some(ruleset))
}

fn run(mut cmd: Command, stdin: Option<&str>) -> Result<(), ProbeError> {
    let shown = format!("{cmd:?}").replace('"', "");
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::null())
    .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .map_err(|e| ProbeError::Command(format!("{shown}: {e}")))?;
    if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
        // A failed write shows up as the command's own error below.
        let _ = pipe.write_all(text.as_bytes());
    }
    let out = child
        .wait_with_output()
        .map_err(|e| ProbeError::Command(format!("{shown}: {e}")))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(ProbeError::Command(format!(
            "{shown} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}

/// This run's marks: its token, hence its names and its state file.
pub struct Run {
    prefix: String,
}

impl Run {
    /// Picks a random token and writes the state file (no namespace yet).
    pub fn start() -> Result<Run, ProbeError> {
        let pid = std::process::id();
        let token = random_token()?;
        let prefix = format!("np-{pid}-{token}-");
        let state = Path::new(STATE_DIR).join(format!("probe-{pid}-{token}"));
        let started = start_time(pid).unwrap_or_default();
        std::fs::create_dir_all(STATE_DIR)
            .and_then(|()| std::fs::write(&state, format!("{pid} {started} {prefix}\n")))
            .map_err(|e| ProbeError::Command(format!("cannot write {}: {e}", state.display())))?;
        created().state = Some(state);
        Ok(Run { prefix })
    }

    pub fn name(&self, part: &str) -> String {
        format!("{}{part}", self.prefix)
    }

    /// Lists `names` in the state file, then creates them (one `ip` process),
    /// all recorded for teardown.
    pub fn add_all(&self, names: &[String]) -> Result<(), ProbeError> {
        let mut list = created();
        if let Some(state) = &list.state {
            let mut f = std::fs::OpenOptions::new()
                .append(true)
                .open(state)
                .map_err(|e| {
                    ProbeError::Command(format!("cannot write {}: {e}", state.display()))
                })?;
            f.write_all(names.join("\n").as_bytes())
                .and_then(|()| f.write_all(b"\n"))
                .map_err(|e| {
                    ProbeError::Command(format!("cannot write {}: {e}", state.display()))
                })?;
        }
        list.names.extend(names.iter().cloned());
        let batch: String = names.iter().map(|n| format!("netns add {n}\n")).collect();
        let mut cmd = Command::new("ip");
        cmd.args(["-batch", "-"]);
        run(cmd, Some(&batch))
    }
}

fn random_token() -> Result<String, ProbeError> {
    let mut bytes = [0u8; 4];
    File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .map_err(|e| ProbeError::Command(format!("cannot read /dev/urandom: {e}")))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// A process's start time (field 22 of `/proc/PID/stat`), which tells a
/// process from a later one that reuses its pid.
fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_name = &stat[stat.rfind(')')? + 1..];
    after_name.split_whitespace().nth(19)?.parse().ok()
}

/// Deletes every namespace this process created, then its state file. Safe to call twice.
pub fn delete_created() -> Vec<String> {
    let mut list = created();
    delete_all(&mut list)
}

fn delete_all(list: &mut Created) -> Vec<String> {
    let failures = delete_names(&std::mem::take(&mut list.names));
    if failures.is_empty()
        && let Some(state) = list.state.take()
    {
        let _ = std::fs::remove_file(state);
    }
    failures
}

/// Deletes namespaces (one `ip` process); returns those still there, with why.
fn delete_names(names: &[String]) -> Vec<String> {
    if names.is_empty() {
        return Vec::new();
    }
    let batch: String = names
        .iter()
        .rev()
        .map(|n| format!("netns delete {n}\n"))
        .collect();
    let mut cmd = Command::new("ip");
    cmd.args(["-force", "-batch", "-"]);
    let why = run(cmd, Some(&batch)).err();
    names
        .iter()
        .filter(|n| Path::new(NETNS_DIR).join(n).exists())
        .map(|n| match &why {
            Some(e) => format!("{n}: {e}"),
            None => n.clone(),
        })
        .collect()
}

/// Write end of the pipe the signal handler writes the signal number to.
static SIGNAL_PIPE: AtomicI32 = AtomicI32::new(-1);

extern "C" fn on_signal(signal: libc::c_int) {
    let byte = signal as u8;
    let fd = SIGNAL_PIPE.load(Ordering::Relaxed);
    // SAFETY: write(2) is async-signal-safe; the buffer is one byte on this stack.
    unsafe {
        libc::write(fd, (&byte as *const u8).cast(), 1);
    }
}

/// On SIGINT, SIGTERM or SIGHUP: delete what exists, then exit 128 + the
/// signal's number (130, 143, 129), as a shell reports a process it killed.
/// The handler only writes to a pipe; a thread does the work.
pub fn install_signal_cleanup() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let mut fds = [0; 2];
        // SAFETY: pipe(2) fills the two descriptors.
        if unsafe { libc::pipe(fds.as_mut_ptr()) } != 0 {
            eprintln!(
                "warning: no cleanup on signals: {}",
                std::io::Error::last_os_error()
            );
            return;
        }
        SIGNAL_PIPE.store(fds[1], Ordering::Relaxed);
        let reader = fds[0];
        std::thread::spawn(move || {
            let mut byte = 0u8;
            // SAFETY: reads one byte into `byte` from the pipe this thread owns.
            let n = unsafe { libc::read(reader, (&mut byte as *mut u8).cast(), 1) };
            if n != 1 {
                return;
            }
            let mut list = created();
            let failures = delete_all(&mut list);
            let name = match i32::from(byte) {
                libc::SIGINT => "SIGINT",
                libc::SIGTERM => "SIGTERM",
                _ => "SIGHUP",
            };
            eprintln!("netpol probe: interrupted by {name}; removed its network namespaces");
            for f in failures {
                eprintln!("warning: could not remove {f}");
            }
            // Exit with the lock held: nothing can be created after the cleanup.
            std::process::exit(128 + i32::from(byte));
        });
        for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
            // SAFETY: a zeroed sigaction with a handler that is async-signal-safe.
            unsafe {
                let mut action: libc::sigaction = std::mem::zeroed();
                action.sa_sigaction = on_signal as *const () as usize;
                action.sa_flags = libc::SA_RESTART;
                libc::sigemptyset(&mut action.sa_mask);
                libc::sigaction(signal, &action, std::ptr::null_mut());
            }
        }
    });
}

/// Removes what killed runs left: for each state file whose process is gone,
/// the namespaces it lists (those with its marks), then the file.
pub fn clean_leftovers() -> Vec<String> {
    let mut removed = Vec::new();
    let Ok(entries) = std::fs::read_dir(STATE_DIR) else {
        return removed;
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("probe-"))
        })
        .collect();
    files.sort();
    for file in files {
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        let mut lines = text.lines();
        let mut head = lines.next().unwrap_or("").split_whitespace();
        let (Some(Ok(pid)), Some(Ok(started)), Some(prefix)) = (
            head.next().map(str::parse::<u32>),
            head.next().map(str::parse::<u64>),
            head.next(),
        ) else {
            continue;
        };
        let alive = start_time(pid).is_some_and(|t| t == started || started == 0);
        if alive || pid == std::process::id() || !prefix.starts_with(&format!("np-{pid}-")) {
            continue;
        }
        let names: Vec<String> = lines
            .filter(|n| n.starts_with(prefix) && !n.contains('/'))
            .filter(|n| Path::new(NETNS_DIR).join(n).exists())
            .map(str::to_string)
            .collect();
        let failures = delete_names(&names);
        removed.extend(
            names
                .into_iter()
                .filter(|n| !failures.iter().any(|f| f.starts_with(n.as_str()))),
        );
        if failures.is_empty() {
            let _ = std::fs::remove_file(&file);
        }
    }
    removed
}

/// Names of namespaces starting with `prefix` that exist (for tests and checks).
pub fn existing_with_prefix(prefix: &str) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(NETNS_DIR) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with(prefix))
        .collect();
    names.sort();
    names
}

/// An open namespace that threads can enter.
pub struct NsHandle {
    pub name: String,
    file: File,
}

impl NsHandle {
    pub fn open(name: &str) -> Result<NsHandle, ProbeError> {
        let file = File::open(Path::new(NETNS_DIR).join(name)).map_err(|e| {
            ProbeError::Command(format!("cannot open network namespace {name}: {e}"))
        })?;
        Ok(NsHandle {
            name: name.to_string(),
            file,
        })
    }

    /// Moves the calling thread (only it) into this namespace. Sockets it
    /// creates afterwards belong to the namespace for their whole life.
    pub fn enter(&self) -> Result<(), ProbeError> {
        // SAFETY: setns only reads the descriptor, which `self.file` keeps open.
        let rc = unsafe { libc::setns(self.file.as_raw_fd(), libc::CLONE_NEWNET) };
        if rc == 0 {
            Ok(())
        } else {
            Err(ProbeError::Command(format!(
                "cannot enter network namespace {}: {}",
                self.name,
                std::io::Error::last_os_error()
            )))
        }
    }

    /// Writes a sysctl of this namespace (`/proc/sys/net` follows the writer's namespace).
    pub fn sysctl(&self, key: &str, value: &str) -> Result<(), ProbeError> {
        std::thread::scope(|s| {
            s.spawn(|| {
                self.enter()?;
                let path = format!("/proc/sys/{}", key.replace('.', "/"));
                std::fs::write(&path, value).map_err(|e| {
                    ProbeError::Command(format!("cannot set {key} in {}: {e}", self.name))
                })
            })
            .join()
            .unwrap_or_else(|_| Err(ProbeError::Command("sysctl thread panicked".into())))
        })
    }
}
