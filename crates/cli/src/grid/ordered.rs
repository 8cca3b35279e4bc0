//! Output of many GB formatted on every core and written in order: items
//! (rows) are formatted a chunk at a time in parallel, each into its own
//! buffer, and the buffers written in item order, so that memory stays
//! that of one chunk whatever the size of the output.

use std::io;

use rayon::prelude::*;

/// Bytes a chunk aims at: large writes, little memory.
const CHUNK_BYTES: usize = 32 << 20;

/// Items per chunk when one item formats to about `item_bytes`: enough for
/// every core to have several, few enough to stay near [`CHUNK_BYTES`].
pub fn per_chunk(item_bytes: usize) -> usize {
    let threads = rayon::current_num_threads().max(1);
    (CHUNK_BYTES / item_bytes.max(1)).clamp(threads, 4096)
}

/// A sink for JSON array elements that each start with the comma
/// separating them from the one before: the very first comma is dropped.
pub fn json_elements(
    mut out: impl FnMut(&[u8]) -> io::Result<()>,
) -> impl FnMut(&[u8]) -> io::Result<()> {
    let mut first = true;
    move |bytes: &[u8]| match first {
        true if !bytes.is_empty() => {
            first = false;
            out(&bytes[1..])
        }
        _ => out(bytes),
    }
}

/// Formats every item with `format` (in parallel, `per_chunk` items at a
/// time) and hands the bytes to `sink` in item order; `done` is told how
/// many items are written after each chunk.
pub fn write_in_order<T: Sync>(
    items: &[T],
    per_chunk: usize,
    format: impl Fn(&T, &mut Vec<u8>) + Sync,
    mut sink: impl FnMut(&[u8]) -> io::Result<()>,
    mut done: impl FnMut(usize),
) -> io::Result<()> {
    let mut buffers: Vec<Vec<u8>> = Vec::new();
    let mut written = 0;
    for chunk in items.chunks(per_chunk.max(1)) {
        if buffers.len() < chunk.len() {
            buffers.resize_with(chunk.len(), Vec::new);
        }
        buffers[..chunk.len()]
            .par_iter_mut()
            .zip(chunk)
            .for_each(|(buffer, item)| {
                buffer.clear();
                format(item, buffer);
            });
        for buffer in &buffers[..chunk.len()] {
            sink(buffer)?;
        }
        written += chunk.len();
        done(written);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_come_out_in_order_whatever_the_chunk() {
        let items: Vec<usize> = (0..1000).collect();
        let expected: Vec<u8> = items
            .iter()
            .flat_map(|i| i.to_string().into_bytes())
            .collect();
        for per_chunk in [1, 3, 64, 5000] {
            let mut out = Vec::new();
            let mut reported = Vec::new();
            write_in_order(
                &items,
                per_chunk,
                |i, b| b.extend_from_slice(i.to_string().as_bytes()),
                |b| {
                    out.extend_from_slice(b);
                    Ok(())
                },
                |n| reported.push(n),
            )
            .unwrap();
            assert_eq!(out, expected, "{per_chunk} per chunk");
            assert_eq!(reported.last(), Some(&1000));
            assert_eq!(reported.len(), 1000usize.div_ceil(per_chunk));
        }
    }
}
