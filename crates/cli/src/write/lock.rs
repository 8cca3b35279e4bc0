//! One gen at a time per DIR: an exclusive `flock` on the directory itself,
//! so no lock file is left in the user's repository. Released when the
//! process ends, however it ends.

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::path::Path;

pub struct DirLock {
    _dir: File,
}

impl DirLock {
    /// Takes the lock without waiting: a second gen is told at once.
    pub fn try_acquire(dir: &Path) -> Result<DirLock, String> {
        let file = File::open(dir).map_err(|e| format!("cannot open {}: {e}", dir.display()))?;
        // SAFETY: flock on a descriptor this function owns; no memory is shared.
        let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if rc == 0 {
            return Ok(DirLock { _dir: file });
        }
        let e = io::Error::last_os_error();
        if e.kind() == io::ErrorKind::WouldBlock {
            Err(format!(
                "another netpol gen is writing {} (it holds a lock on the directory); nothing was written: run gen again when it is done",
                dir.display()
            ))
        } else {
            Err(format!("cannot lock {}: {e}", dir.display()))
        }
    }
}
