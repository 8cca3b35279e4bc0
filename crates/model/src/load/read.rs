//! Reading the PATH arguments into sources: files, directories (in name
//! order) and stdin, within the run's input size cap.

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::{Source, files};
use crate::diag::{Diagnostic, LoadErrors};

const EXTENSIONS: [&str; 3] = ["yaml", "yml", "json"];

/// Expands the PATH arguments: a file, a directory (recursively, in name
/// order), or `-` for standard input.
pub fn read_paths<P: AsRef<Path>>(paths: &[P]) -> Result<Vec<Source>, LoadErrors> {
    read_paths_noting(paths).map(|(sources, _)| sources)
}

/// [`read_paths`], with a note for every file of a directory that was not
/// read because it is not a regular file (a FIFO or device named `*.yaml`).
/// At most [`files::MAX_INPUT_BYTES`] are read per file and in total.
pub fn read_paths_noting<P: AsRef<Path>>(
    paths: &[P],
) -> Result<(Vec<Source>, Vec<Diagnostic>), LoadErrors> {
    read_paths_within(paths, files::MAX_INPUT_BYTES)
}

/// [`read_paths_noting`] with `cap` bytes at most, per file and in total.
///
/// Regular files are read in parallel when their sizes show beforehand
/// what reading them one after the other would give; stdin, pipes, a file
/// that fails or one that changes size meanwhile make the run sequential.
pub fn read_paths_within<P: AsRef<Path>>(
    paths: &[P],
    cap: u64,
) -> Result<(Vec<Source>, Vec<Diagnostic>), LoadErrors> {
    let mut inputs = Vec::new();
    let mut notes = Vec::new();
    for p in paths {
        let p = p.as_ref();
        if p == Path::new("-") {
            inputs.push(Input::Stdin);
            continue;
        }
        let mut found = Vec::new();
        match collect_files(p, true, &mut found, &mut notes) {
            Ok(()) => inputs.extend(found.into_iter().map(Input::File)),
            Err(e) => inputs.push(Input::Failed(file_error(&p.display().to_string(), e))),
        }
    }
    let read = read_in_parallel(&inputs, cap).unwrap_or_else(|| read_in_turn(&inputs, cap));
    let mut sources = Vec::new();
    let mut errors = Vec::new();
    for r in read {
        match r {
            Ok(source) => sources.push(source),
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok((sources, notes))
    } else {
        Err(LoadErrors(errors))
    }
}

/// One thing to read, in the order of the arguments.
enum Input {
    Stdin,
    File(PathBuf),
    /// A path that could not be listed.
    Failed(Diagnostic),
}

/// Each input read in turn, each file within what the earlier ones left
/// of `cap`.
fn read_in_turn(inputs: &[Input], cap: u64) -> Vec<Result<Source, Diagnostic>> {
    let mut left = cap;
    let mut out = Vec::new();
    for input in inputs {
        let (name, text) = match input {
            Input::Failed(e) => {
                out.push(Err(e.clone()));
                continue;
            }
            Input::Stdin => (
                "<stdin>".to_string(),
                files::read_text(std::io::stdin().lock(), 0, left, cap),
            ),
            Input::File(f) => (f.display().to_string(), files::read_file(f, left, cap)),
        };
        out.push(match text {
            Ok(text) => {
                left -= text.len() as u64;
                Ok(Source { name, text })
            }
            Err(e) => Err(file_error(&name, e)),
        });
    }
    out
}

/// [`read_in_turn`]'s result read in parallel, or `None` when it might
/// differ: what each file may hold follows from the sizes of those before.
fn read_in_parallel(inputs: &[Input], cap: u64) -> Option<Vec<Result<Source, Diagnostic>>> {
    let mut left = cap;
    let mut plan = Vec::with_capacity(inputs.len());
    for input in inputs {
        let Input::File(f) = input else {
            return None;
        };
        let meta = std::fs::metadata(f).ok().filter(|m| m.is_file())?;
        if meta.len() > left {
            return None;
        }
        plan.push((f, left, meta.len()));
        left -= meta.len();
    }
    plan.par_iter()
        .map(|&(f, limit, size)| {
            let text = files::read_file(f, limit, cap).ok()?;
            (text.len() as u64 == size).then(|| Source {
                name: f.display().to_string(),
                text,
            })
        })
        .map(|source| source.map(Ok))
        .collect()
}

fn file_error(file: &str, message: String) -> Diagnostic {
    Diagnostic {
        file: file.to_string(),
        document: 0,
        line: 0,
        object: None,
        field: None,
        message,
    }
}

fn collect_files(
    path: &Path,
    explicit: bool,
    out: &mut Vec<PathBuf>,
    notes: &mut Vec<Diagnostic>,
) -> Result<(), String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot read: {e}"))?;
    if meta.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(|e| format!("cannot list directory: {e}"))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        for e in entries {
            collect_files(&e, false, out, notes)?;
        }
        return Ok(());
    }
    let wanted = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()));
    if explicit {
        // A file named on the command line is read whatever its extension;
        // a pipe too (`<(helm template .)`), a device never.
        files::refuse_device(&meta)?;
        out.push(path.to_path_buf());
    } else if let Some(kind) = files::special_kind(&meta) {
        // In a directory only regular files are read: a FIFO would block.
        if wanted {
            notes.push(file_error(
                &path.display().to_string(),
                format!("skipped: {kind}, not a regular file"),
            ));
        }
    } else if wanted {
        out.push(path.to_path_buf());
    }
    Ok(())
}
