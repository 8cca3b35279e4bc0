//! Network namespaces this process creates, and their removal: at the end,
//! on errors (the guard's `Drop`), on SIGINT/SIGTERM (the signal handler),
//! and for a previous run that was killed (at the next start).
//!
//! Every name is `PREFIX<pid>-...`: a run only ever deletes its own
//! namespaces or those of a process that no longer exists, so runs side by
//! side (tests in parallel) leave each other alone. Links and nft tables
//! live only inside these namespaces and vanish with them.

use std::fs::File;
use std::io::Write;
use std::os::fd::AsRawFd;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Mutex, MutexGuard, Once};

use super::ProbeError;

pub const NETNS_DIR: &str = "/run/netns";

/// Namespaces created and not yet deleted. The signal handler takes this lock,
/// so it never races a namespace being created: it waits, deletes, exits.
static CREATED: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn created() -> MutexGuard<'static, Vec<String>> {
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

/// Creates namespace `name` and records it for teardown.
pub fn add(name: &str) -> Result<(), ProbeError> {
    let mut list = created();
    ip(None, &["netns", "add", name])?;
    list.push(name.to_string());
    Ok(())
}

/// Deletes every namespace this process created. Safe to call twice.
pub fn delete_created() -> Vec<String> {
    let mut list = created();
    delete_all(&mut list)
}

fn delete_all(list: &mut Vec<String>) -> Vec<String> {
    let mut failures = Vec::new();
    // Pods before the node, in reverse order of creation.
    while let Some(name) = list.pop() {
        if let Err(e) = ip(None, &["netns", "delete", &name]) {
            failures.push(format!("{name}: {e}"));
        }
    }
    failures
}

/// On SIGINT, SIGTERM or SIGHUP: delete what exists, then exit 130.
pub fn install_signal_cleanup() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = ctrlc::set_handler(|| {
            let mut list = created();
            let failures = delete_all(&mut list);
            eprintln!("netpol probe: interrupted; removed its network namespaces");
            for f in failures {
                eprintln!("warning: could not remove {f}");
            }
            // Exit with the lock held: nothing can be created after the cleanup.
            std::process::exit(130);
        });
    });
}

/// Deletes namespaces `PREFIX<pid>-*` whose process is gone (a run that was killed).
pub fn clean_leftovers(prefix: &str) -> Vec<String> {
    let mut removed = Vec::new();
    let Ok(entries) = std::fs::read_dir(NETNS_DIR) else {
        return removed;
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .collect();
    names.sort();
    for name in names {
        let Some(rest) = name.strip_prefix(prefix) else {
            continue;
        };
        let Some((pid, _)) = rest.split_once('-') else {
            continue;
        };
        let Ok(pid) = pid.parse::<u32>() else {
            continue;
        };
        if pid == std::process::id() || Path::new(&format!("/proc/{pid}")).exists() {
            continue;
        }
        if ip(None, &["netns", "delete", &name]).is_ok() {
            removed.push(name);
        }
    }
    removed
}

/// Names of this process's namespaces that still exist (for tests and checks).
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
