//! The evidence rules. Each is a small module with one entry point and its
//! own tests; `ALL` is the order they run in (the output is sorted anyway).

pub mod coredns;
pub mod dns;
pub mod ingress;
pub mod prometheus;

use crate::{Context, Sink};

pub struct Rule {
    /// The name connections carry in their `rule` field.
    pub name: &'static str,
    pub run: fn(&Context, &mut Sink),
}

pub const ALL: &[Rule] = &[
    Rule {
        name: dns::NAME,
        run: dns::run,
    },
    Rule {
        name: ingress::NAME,
        run: ingress::run,
    },
    Rule {
        name: prometheus::NAME,
        run: prometheus::run,
    },
    Rule {
        name: coredns::NAME,
        run: coredns::run,
    },
];
