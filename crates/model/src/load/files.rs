//! Reading input files safely: a size cap per file and per run, and no
//! endless reads from devices.

use std::fs::Metadata;
use std::io::Read;
use std::os::unix::fs::FileTypeExt;

/// The most netpol reads from one file, and from all files of a run
/// together (stdin included), unless told otherwise (`--max-input-size`,
/// [`crate::LoadOptions::max_input_bytes`]). Larger is more often a mistake
/// or an attack than a cluster; a live dump of a very large cluster (a real
/// 150,000-pod `kubectl get pods -o yaml` is several hundred MB) needs the
/// cap raised.
pub const MAX_INPUT_BYTES: u64 = 256 * 1024 * 1024;

/// What a path that is not a regular file or directory is, for messages.
pub fn special_kind(meta: &Metadata) -> Option<&'static str> {
    let t = meta.file_type();
    if t.is_file() || t.is_dir() {
        None
    } else if t.is_fifo() {
        Some("a FIFO")
    } else if t.is_char_device() {
        Some("a character device")
    } else if t.is_block_device() {
        Some("a block device")
    } else if t.is_socket() {
        Some("a socket")
    } else {
        Some("not a regular file")
    }
}

/// Reads at most `limit` bytes of text from `reader`, what is left of the
/// run's `cap`; more is an error. `expected` is the size the reader is
/// thought to hold (a regular file's length, 0 when unknown): reserved at
/// once, since a `Take` gives `read_to_end` no hint and growing the buffer
/// by doubling copied a large file several times over.
pub fn read_text(reader: impl Read, expected: u64, limit: u64, cap: u64) -> Result<String, String> {
    let reserve = expected.min(limit).saturating_add(1);
    let mut bytes = Vec::with_capacity(usize::try_from(reserve).unwrap_or(0));
    reader
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read: {e}"))?;
    if bytes.len() as u64 > limit {
        return Err(too_large(limit, cap));
    }
    String::from_utf8(bytes).map_err(|_| "not UTF-8 text".to_string())
}

pub fn too_large(limit: u64, cap: u64) -> String {
    let what = if limit < cap {
        "the input is larger than"
    } else {
        "larger than"
    };
    let size = if cap % (1 << 20) == 0 {
        format!("{} MiB", cap >> 20)
    } else {
        format!("{cap} bytes")
    };
    format!(
        "{what} {size}{} (netpol's input size cap; --max-input-size raises it)",
        if limit < cap { " in total" } else { "" }
    )
}

/// A file named on the command line (a flows file, a manifest): a regular
/// file or a pipe (`<(helm template .)`), read up to the cap; a device is
/// refused before it is opened. `limit` is what is left of the run's `cap`.
pub fn read_file(path: &std::path::Path, limit: u64, cap: u64) -> Result<String, String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot read: {e}"))?;
    if meta.is_dir() {
        return Err("is a directory, not a file".into());
    }
    refuse_device(&meta)?;
    if meta.is_file() && meta.len() > limit {
        return Err(too_large(limit, cap));
    }
    let file = std::fs::File::open(path).map_err(|e| format!("cannot read: {e}"))?;
    if meta.is_file() && meta.len() >= PARALLEL_READ_BYTES {
        if let Some(text) = read_in_parts(&file, meta.len()) {
            return text;
        }
    }
    let expected = if meta.is_file() { meta.len() } else { 0 };
    read_text(file, expected, limit, cap)
}

/// From this size on a file is read in parts at once: a live dump in one
/// file would otherwise be read (and its pages first touched) by one core.
const PARALLEL_READ_BYTES: u64 = 32 << 20;

/// The `len` bytes of a regular file read in parallel parts, as text;
/// `None` when the file did not hold exactly `len` bytes meanwhile (the
/// caller then reads it as a stream).
fn read_in_parts(file: &std::fs::File, len: u64) -> Option<Result<String, String>> {
    use rayon::prelude::*;
    use std::os::unix::fs::FileExt;
    const PART: usize = 8 << 20;
    let mut bytes = vec![0u8; usize::try_from(len).ok()?];
    bytes
        .par_chunks_mut(PART)
        .enumerate()
        .try_for_each(|(i, part)| file.read_exact_at(part, (i * PART) as u64))
        .ok()?;
    // Grown meanwhile: not what was measured.
    let mut more = [0u8; 1];
    if file.read_at(&mut more, len).ok()? != 0 {
        return None;
    }
    Some(String::from_utf8(bytes).map_err(|_| "not UTF-8 text".to_string()))
}

/// Devices never end (/dev/zero) or are not text; pipes and sockets are
/// read, as `cat` would.
pub fn refuse_device(meta: &Metadata) -> Result<(), String> {
    let t = meta.file_type();
    if t.is_char_device() || t.is_block_device() {
        let kind = special_kind(meta).unwrap_or("a device");
        return Err(format!(
            "{kind}, not a file: netpol reads files, directories and `-` (stdin)"
        ));
    }
    Ok(())
}
