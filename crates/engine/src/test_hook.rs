//! A deliberate mistake the engine can be told to make, for tests only: with
//! it, ipBlocks ignore their `except` entries. `netpol probe --compare` must
//! then disagree with the kernel, which proves the probe judges the engine
//! from the policies' text rather than from the engine's own answers.

use std::sync::atomic::{AtomicBool, Ordering};

static IGNORE_EXCEPTS: AtomicBool = AtomicBool::new(false);

/// Makes every later decision ignore ipBlock excepts (never undone).
#[doc(hidden)]
pub fn break_ip_block_excepts() {
    IGNORE_EXCEPTS.store(true, Ordering::Relaxed);
}

pub(crate) fn excepts_ignored() -> bool {
    IGNORE_EXCEPTS.load(Ordering::Relaxed)
}
