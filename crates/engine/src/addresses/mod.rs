//! Connections between the endpoints and addresses outside the cluster,
//! decided in bulk: a live dump has tens of thousands of endpoints (or
//! classes) and thousands of outside networks, and deciding each cell alone
//! ([`Engine::decide`]) is most of the matrix's time there. Both directions
//! give exactly `decide`'s answers; the tests hold every cell against it.
//!
//! An address is never a policy's subject, so one side of the connection
//! decides: the source's egress for [`ToAddresses`], the destination's
//! ingress for [`FromAddresses`]. An address has one family, so no such
//! connection is allowed "over one family only".

mod from;
mod to;

pub use from::FromAddresses;
pub use to::ToAddresses;

use netpol_model::{Action, Protocol};

/// A set of ports, bit `k` standing for `ports[k]` of the list asked about.
type PortBits = Vec<u64>;

fn port_bits(ports: &[(u16, Protocol)], admits: impl Fn(u16, Protocol) -> bool) -> PortBits {
    let mut bits = vec![0u64; ports.len().div_ceil(64)];
    for (k, &(port, protocol)) in ports.iter().enumerate() {
        if admits(port, protocol) {
            bits[k / 64] |= 1 << (k % 64);
        }
    }
    bits
}

/// What a tier's first matching rule does, per member of a set: the
/// members no rule matched are in none of the three.
struct FirstMatch<T> {
    accept: T,
    deny: T,
    pass: T,
}

impl FirstMatch<PortBits> {
    fn add(&mut self, action: Action, word: usize, bits: u64) {
        let set = match action {
            Action::Accept => &mut self.accept,
            Action::Deny => &mut self.deny,
            Action::Pass => &mut self.pass,
        };
        set[word] |= bits;
    }
}
