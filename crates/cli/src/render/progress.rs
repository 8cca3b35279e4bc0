//! Progress on stderr for long outputs, only when a person is watching.

use std::io::IsTerminal;

pub struct Progress {
    label: &'static str,
    total: usize,
    next: usize,
    enabled: bool,
}

/// Below this many items an output finishes before progress would help.
const WORTH_SHOWING: usize = 1_000_000;

impl Progress {
    pub fn new(label: &'static str, total: usize) -> Progress {
        Progress {
            label,
            total,
            next: 0,
            enabled: total >= WORTH_SHOWING && std::io::stderr().is_terminal(),
        }
    }

    pub fn tick(&mut self, done: usize) {
        if self.enabled && done >= self.next {
            eprint!("\r{}: {}%", self.label, done * 100 / self.total);
            self.next = done + self.total / 100;
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if self.enabled {
            // Clear the line so the terminal is left as it was.
            eprint!("\r\x1b[K");
        }
    }
}
