//! What one input may expand to, charged by every parse of it from any
//! number of threads: aliases cannot multiply a small file past what a
//! large one could hold.

use std::sync::{Mutex, PoisonError};

/// What one input (every document of every file of a run) may expand to,
/// aliases included: values (scalars, mappings, sequences)...
pub const MAX_NODES: usize = 10_000_000;
/// ...and bytes of text (scalars and keys, which the line index keeps once more
/// for line numbers). Without aliases a file cannot exceed its own size here, so
/// this is the input size cap: aliases cannot multiply a small file
/// ("billion laughs") past what a large one could hold.
pub const MAX_EXPANDED_BYTES: usize = 256 * 1024 * 1024;

/// Charges against [`MAX_NODES`] and [`MAX_EXPANDED_BYTES`], shared by every
/// parse of one input, from any number of threads.
#[derive(Debug)]
pub struct Budget {
    /// (values, bytes) charged. Both change under one lock: a charge that
    /// does not fit is never seen by another thread, even for a moment
    /// (parsers charge in batches, so the lock is rarely contended).
    charged: Mutex<(usize, usize)>,
    max_nodes: usize,
    max_bytes: usize,
}

impl Default for Budget {
    fn default() -> Self {
        Budget::with_limits(MAX_NODES, MAX_EXPANDED_BYTES)
    }
}

impl Budget {
    /// The budget for an input of at most `cap` bytes: the defaults for the
    /// default cap, and as many more values and bytes as a larger cap
    /// allows, so that aliases still cannot multiply the input.
    pub fn for_input(cap: u64) -> Self {
        let scale = |default: usize| {
            let scaled = (default as u128 * cap as u128 / crate::MAX_INPUT_BYTES as u128) as usize;
            scaled.max(default)
        };
        Budget::with_limits(scale(MAX_NODES), scale(MAX_EXPANDED_BYTES))
    }

    pub fn with_limits(max_nodes: usize, max_bytes: usize) -> Self {
        Budget {
            charged: Mutex::new((0, 0)),
            max_nodes,
            max_bytes,
        }
    }

    /// Adds to the counts when `take` says so of what they would be; what
    /// they would be.
    fn add(
        &self,
        nodes: usize,
        bytes: usize,
        take: impl FnOnce(usize, usize) -> bool,
    ) -> (usize, usize) {
        let mut charged = self.charged.lock().unwrap_or_else(PoisonError::into_inner);
        let (n, b) = (
            charged.0.saturating_add(nodes),
            charged.1.saturating_add(bytes),
        );
        if take(n, b) {
            *charged = (n, b);
        }
        (n, b)
    }

    pub(crate) fn charge(&self, nodes: usize, bytes: usize) -> Result<(), String> {
        let (n, b) = self.add(nodes, bytes, |_, _| true);
        if n > self.max_nodes {
            return Err(format!(
                "input too large: it expands to more than {} values (all documents and files together, aliases expanded); a few aliases (*name) can make a small file expand to billions",
                self.max_nodes
            ));
        }
        if b > self.max_bytes {
            return Err(format!(
                "input too large: it expands to more than {} MiB of text (all documents and files together, aliases expanded); a few aliases (*name) can make a small file expand to gigabytes",
                self.max_bytes >> 20
            ));
        }
        Ok(())
    }

    /// Charges `nodes` and `bytes` only if they fit: a parse that has
    /// already counted what it would cost takes its whole charge at once,
    /// or none of it (and then parses again, charging as it goes).
    pub(crate) fn try_charge(&self, nodes: usize, bytes: usize) -> bool {
        let fits = |n, b| n <= self.max_nodes && b <= self.max_bytes;
        let (n, b) = self.add(nodes, bytes, fits);
        fits(n, b)
    }

    /// (values, bytes) charged so far.
    #[cfg(test)]
    pub(crate) fn charged(&self) -> (usize, usize) {
        *self.charged.lock().unwrap()
    }

    /// Gives back what [`Budget::try_charge`] took, for a text that is
    /// then read (and charged) again in another way.
    pub(crate) fn refund(&self, nodes: usize, bytes: usize) {
        let mut charged = self.charged.lock().unwrap_or_else(PoisonError::into_inner);
        *charged = (
            charged.0.saturating_sub(nodes),
            charged.1.saturating_sub(bytes),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 500 of 1,000 values are taken. One thread keeps trying to take 600
    /// more, which never fit, while another takes the last 500 one at a time:
    /// each of those fits, and none may be refused for what the first thread
    /// only tried to take.
    #[test]
    fn a_charge_that_does_not_fit_is_never_seen_by_another_thread() {
        use std::sync::atomic::{AtomicBool, Ordering};
        let budget = Budget::with_limits(1000, usize::MAX);
        budget.charge(500, 0).unwrap();
        let done = AtomicBool::new(false);
        let refused = std::thread::scope(|s| {
            let trying = s.spawn(|| {
                let mut taken = 0;
                while !done.load(Ordering::Relaxed) {
                    taken += usize::from(budget.try_charge(600, 0));
                }
                taken
            });
            let refused = (0..500)
                .filter(|_| {
                    std::thread::yield_now();
                    budget.charge(1, 0).is_err()
                })
                .count();
            done.store(true, Ordering::Relaxed);
            assert_eq!(trying.join().unwrap(), 0);
            refused
        });
        assert_eq!(refused, 0);
        assert_eq!(budget.charged(), (1000, 0));
    }

    #[test]
    fn a_raised_input_cap_raises_the_budget_in_proportion() {
        let of = |b: &Budget| (b.max_nodes, b.max_bytes);
        let default = Budget::default();
        assert_eq!(of(&Budget::for_input(crate::MAX_INPUT_BYTES)), of(&default));
        // A lower cap keeps the defaults: the read cap is what refuses first.
        assert_eq!(of(&Budget::for_input(10)), of(&default));
        assert_eq!(
            of(&Budget::for_input(4 * crate::MAX_INPUT_BYTES)),
            (4 * MAX_NODES, 4 * MAX_EXPANDED_BYTES)
        );
    }
}
