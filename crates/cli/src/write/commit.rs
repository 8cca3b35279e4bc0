//! All or nothing: every new file is written and synced in a staging
//! directory inside DIR first, then renamed into place; when a rename fails,
//! the ones already done are undone, so DIR is left as it was.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::Change;
use super::names::target;

/// Prefix and suffix of gen's temporaries; leftovers of a killed run are
/// removed by the next one.
pub const TMP_PREFIX: &str = ".netpol-";
pub const TMP_SUFFIX: &str = ".tmp";

pub fn apply(dir: &Path, plan: &BTreeMap<String, Change>) -> Result<(), String> {
    let mut targets = Vec::new();
    for (name, change) in plan {
        if !matches!(change, Change::Unchanged) {
            targets.push((name.as_str(), change, target(dir, name)?));
        }
    }
    if targets.is_empty() {
        return Ok(());
    }
    let staging = tempfile::Builder::new()
        .prefix(TMP_PREFIX)
        .suffix(TMP_SUFFIX)
        .tempdir_in(dir)
        .map_err(|e| {
            format!(
                "cannot write in {}: {e}; nothing was written",
                dir.display()
            )
        })?;
    for (name, change, _) in &targets {
        if let Change::Create { new } | Change::Update { new, .. } = change {
            let path = staging.path().join(name);
            write_synced(&path, new).map_err(|e| {
                format!(
                    "cannot write {}: {e}; nothing in {} was changed",
                    dir.join(name).display(),
                    dir.display()
                )
            })?;
        }
    }
    let mut done: Vec<usize> = Vec::new();
    for (i, (name, change, path)) in targets.iter().enumerate() {
        let staged = staging.path().join(name);
        let result = injected_failure(name).and_then(|()| match change {
            Change::Create { .. } | Change::Update { .. } => std::fs::rename(&staged, path),
            // Moved aside, not deleted, until every step has succeeded.
            Change::Remove { .. } => std::fs::rename(path, &staged),
            Change::Unchanged => Ok(()),
        });
        if let Err(e) = result {
            let what = match change {
                Change::Remove { .. } => "remove",
                _ => "replace",
            };
            let undo: Vec<String> = done
                .iter()
                .rev()
                .filter_map(|&j| {
                    let (name, change, path) = &targets[j];
                    undo_one(staging.path(), name, change, path)
                        .err()
                        .map(|e| format!("{}: {e}", path.display()))
                })
                .collect();
            let outcome = if undo.is_empty() {
                format!(
                    "{} is as it was: the {} change(s) already made were undone; nothing was written",
                    dir.display(),
                    done.len()
                )
            } else {
                format!(
                    "restoring failed too, these files hold the new version or are missing: {}",
                    undo.join("; ")
                )
            };
            return Err(format!("cannot {what} {}: {e}; {outcome}", path.display()));
        }
        done.push(i);
    }
    // The renames are durable only once the directory itself is synced.
    let _ = File::open(dir).and_then(|d| d.sync_all());
    Ok(())
}

/// Puts one committed step back.
fn undo_one(staging: &Path, name: &str, change: &Change, path: &PathBuf) -> io::Result<()> {
    match change {
        Change::Create { .. } => std::fs::remove_file(path),
        Change::Update { old, .. } => {
            let back = staging.join(format!("{name}.old"));
            write_synced(&back, old)?;
            std::fs::rename(&back, path)
        }
        Change::Remove { .. } => std::fs::rename(staging.join(name), path),
        Change::Unchanged => Ok(()),
    }
}

/// Created as any file the user makes: mode 0666 less the umask.
fn write_synced(path: &Path, text: &str) -> io::Result<()> {
    let mut f = File::create_new(path)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()
}

/// A test hook (debug builds only): `NETPOL_GEN_FAIL_AT=<file name>` makes
/// the rename of that file fail, as a full disk or a permission would.
#[cfg(debug_assertions)]
fn injected_failure(name: &str) -> io::Result<()> {
    match std::env::var("NETPOL_GEN_FAIL_AT") {
        Ok(n) if n == name => Err(io::Error::other("injected failure (NETPOL_GEN_FAIL_AT)")),
        _ => Ok(()),
    }
}

#[cfg(not(debug_assertions))]
fn injected_failure(_: &str) -> io::Result<()> {
    Ok(())
}
