//! The evidence rules. Each is a small module with one entry point and its
//! own tests; `ALL` is the order they run in (the output is sorted anyway).

pub mod apiserver;
pub mod coredns;
pub mod dns;
pub mod env_url;
pub mod images;
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
        name: env_url::NAME,
        run: env_url::run,
    },
    Rule {
        name: apiserver::NAME,
        run: apiserver::run,
    },
    Rule {
        name: images::NAME,
        run: images::run,
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
