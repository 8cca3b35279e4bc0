//! Deliberate mistakes the engine can be told to make, for tests only: with
//! them, ipBlocks ignore their `except` entries, or a tier's Pass rule acts
//! as a Deny. `netpol probe --compare` must
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

static PASS_AS_DENY: AtomicBool = AtomicBool::new(false);

/// Makes every later tier decision take a matching Pass rule for a Deny
/// (never undone): the probe must see the kernel disagree.
#[doc(hidden)]
pub fn break_tier_pass() {
    PASS_AS_DENY.store(true, Ordering::Relaxed);
}

/// The action a matching tier rule takes, wrong on purpose after [`break_tier_pass`].
pub(crate) fn tier_action(action: netpol_model::Action) -> netpol_model::Action {
    if action == netpol_model::Action::Pass && PASS_AS_DENY.load(Ordering::Relaxed) {
        netpol_model::Action::Deny
    } else {
        action
    }
}
