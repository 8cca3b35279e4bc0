//! What DIR holds: the files netpol generated (recognised by their first
//! bytes, so an unrelated 3 GB file is never read whole), and the names of
//! files that are someone else's. Symlinks, FIFOs and devices are never
//! opened: they cannot be netpol's.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::OpenOptions;
use std::io::{self, Read};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use netpol_flows::HEADER;

/// Larger than any file gen writes; a file with the header beyond this is
/// not netpol's.
const MAX_GENERATED_BYTES: u64 = 64 * 1024 * 1024;

#[derive(Default)]
pub struct Existing {
    /// File name to content, for files that start with netpol's header.
    pub generated: BTreeMap<String, String>,
    /// Wanted names taken by something netpol did not write.
    pub foreign: BTreeSet<String>,
}

/// Reads DIR (absent: empty). Only `*.yaml` and wanted names are looked at.
pub fn scan(dir: &Path, wanted: &BTreeMap<String, String>) -> io::Result<Existing> {
    let mut found = Existing::default();
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(found),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let entry = entry?;
        // Names that are not UTF-8 are neither `*.yaml` netpol wrote nor wanted.
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        if !(name.ends_with(".yaml") || wanted.contains_key(&name)) {
            continue;
        }
        // `DirEntry::file_type` does not follow symlinks.
        let regular = entry.file_type().is_ok_and(|t| t.is_file());
        let text = if regular {
            read_generated(&entry.path())
        } else {
            None
        };
        match text {
            Some(text) => {
                found.generated.insert(name, text);
            }
            None if wanted.contains_key(&name) => {
                found.foreign.insert(name);
            }
            None => {}
        }
    }
    Ok(found)
}

/// The file's text when it is a regular file that starts with netpol's
/// header; `None` for anything else, including files it cannot read.
fn read_generated(path: &Path) -> Option<String> {
    let file = OpenOptions::new()
        .read(true)
        // The entry may have been swapped for a symlink or FIFO since it was listed.
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
        .ok()?;
    let meta = file.metadata().ok()?;
    if !meta.is_file() || meta.len() > MAX_GENERATED_BYTES {
        return None;
    }
    let mut text = Vec::with_capacity(HEADER.len());
    (&file)
        .take(HEADER.len() as u64)
        .read_to_end(&mut text)
        .ok()?;
    if text != HEADER.as_bytes() {
        return None;
    }
    (&file)
        .take(MAX_GENERATED_BYTES + 1 - HEADER.len() as u64)
        .read_to_end(&mut text)
        .ok()?;
    if text.len() as u64 > MAX_GENERATED_BYTES {
        return None;
    }
    String::from_utf8(text).ok()
}
