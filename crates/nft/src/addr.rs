//! Sets of addresses as merged intervals, so that an ipBlock minus its
//! `except` entries and a list of pod IPs become one nftables interval set
//! without overlapping elements (which `nft` rejects).

use std::fmt::{Display, Write as _};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Subnets, Ipv6Subnets};

/// Addresses of one family, as sorted, disjoint, non-adjacent inclusive intervals.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Intervals(Vec<(u128, u128)>);

impl Intervals {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Adds `start..=end`, merging it with the intervals it overlaps or
    /// touches: a search and one splice, not a sort (a set of the pods a
    /// selector picks gets thousands of addresses one by one).
    fn insert(&mut self, start: u128, end: u128) {
        let lo = self
            .0
            .partition_point(|&(_, e)| e.saturating_add(1) < start);
        let hi = self.0.partition_point(|&(s, _)| s <= end.saturating_add(1));
        if lo == hi {
            self.0.insert(lo, (start, end));
            return;
        }
        let merged = (start.min(self.0[lo].0), end.max(self.0[hi - 1].1));
        self.0.splice(lo..hi, [merged]);
    }

    fn normalize(&mut self) {
        self.0.sort_unstable();
        let mut merged: Vec<(u128, u128)> = Vec::with_capacity(self.0.len());
        for &(s, e) in &self.0 {
            match merged.last_mut() {
                Some(last) if s <= last.1.saturating_add(1) => last.1 = last.1.max(e),
                _ => merged.push((s, e)),
            }
        }
        self.0 = merged;
    }

    fn remove(&mut self, start: u128, end: u128) {
        let mut out = Vec::with_capacity(self.0.len() + 1);
        for &(s, e) in &self.0 {
            if e < start || s > end {
                out.push((s, e));
                continue;
            }
            if s < start {
                out.push((s, start - 1));
            }
            if e > end {
                out.push((end + 1, e));
            }
        }
        self.0 = out;
    }
}

/// `a.b.c.d`, or `a.b.c.d/len` below 32, as `Display` writes them but
/// digit by digit: most of a large ruleset is these.
fn push_v4(out: &mut String, addr: Ipv4Addr, len: u8) {
    fn decimal(out: &mut String, n: u8) {
        if n >= 100 {
            out.push(char::from(b'0' + n / 100));
        }
        if n >= 10 {
            out.push(char::from(b'0' + n / 10 % 10));
        }
        out.push(char::from(b'0' + n % 10));
    }
    for (k, octet) in addr.octets().into_iter().enumerate() {
        if k > 0 {
            out.push('.');
        }
        decimal(out, octet);
    }
    if len < 32 {
        out.push('/');
        decimal(out, len);
    }
}

/// IPv4 and IPv6 addresses admitted by one rule.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AddrSet {
    pub v4: Intervals,
    pub v6: Intervals,
}

fn net_bounds(net: &IpNet) -> (bool, u128, u128) {
    match net {
        IpNet::V4(n) => (
            false,
            u32::from(n.network()) as u128,
            u32::from(n.broadcast()) as u128,
        ),
        IpNet::V6(n) => (true, u128::from(n.network()), u128::from(n.broadcast())),
    }
}

impl AddrSet {
    pub fn is_empty(&self) -> bool {
        self.v4.is_empty() && self.v6.is_empty()
    }

    fn family(&mut self, v6: bool) -> &mut Intervals {
        if v6 { &mut self.v6 } else { &mut self.v4 }
    }

    pub fn add_ip(&mut self, ip: IpAddr) {
        match ip {
            IpAddr::V4(a) => self.v4.insert(u32::from(a) as u128, u32::from(a) as u128),
            IpAddr::V6(a) => self.v6.insert(u128::from(a), u128::from(a)),
        }
    }

    /// Adds many addresses at once: one sort, not one insertion each. IPv4
    /// addresses are sorted as they are, not as intervals: a set of a
    /// namespace's pods gathers thousands.
    pub fn add_ips<'a>(&mut self, ips: impl IntoIterator<Item = &'a IpAddr>) {
        let mut v4: Vec<u32> = Vec::new();
        for ip in ips {
            match *ip {
                IpAddr::V4(a) => v4.push(u32::from(a)),
                IpAddr::V6(a) => self.v6.0.push((u128::from(a), u128::from(a))),
            }
        }
        v4.sort_unstable();
        let had = self.v4.0.len();
        let intervals = &mut self.v4.0;
        for a in v4.into_iter().map(u128::from) {
            let fresh = intervals.len() > had;
            match intervals.last_mut() {
                Some(last) if fresh && a <= last.1 + 1 => last.1 = a,
                _ => intervals.push((a, a)),
            }
        }
        if had > 0 {
            self.v4.normalize();
        }
        self.v6.normalize();
    }

    /// Adds `cidr` minus every `except` entry, as an ipBlock admits.
    pub fn add_block(&mut self, cidr: &IpNet, except: &[IpNet]) {
        let mut block = AddrSet::default();
        let (v6, s, e) = net_bounds(cidr);
        block.family(v6).insert(s, e);
        for x in except {
            let (xv6, s, e) = net_bounds(x);
            block.family(xv6).remove(s, e);
        }
        self.union(&block);
    }

    pub fn union(&mut self, other: &AddrSet) {
        self.v4.0.extend_from_slice(&other.v4.0);
        self.v4.normalize();
        self.v6.0.extend_from_slice(&other.v6.0);
        self.v6.normalize();
    }

    /// The IPv4 elements, as the fewest prefixes (a single address without `/32`).
    pub fn v4_elements(&self) -> Vec<String> {
        let mut out = Vec::new();
        for &(s, e) in &self.v4.0 {
            let (s, e) = (Ipv4Addr::from(s as u32), Ipv4Addr::from(e as u32));
            out.extend(Ipv4Subnets::new(s, e, 0).map(|n| {
                if n.prefix_len() == 32 {
                    n.addr().to_string()
                } else {
                    n.to_string()
                }
            }));
        }
        out
    }

    /// The elements of one family as nft lists them, `", "` between: one
    /// string rather than one per element, since a set of the pods of a
    /// namespace has thousands.
    pub fn joined(&self, v6: bool) -> String {
        let mut out = String::new();
        if !v6 {
            for &(s, e) in &self.v4.0 {
                let (s, e) = (Ipv4Addr::from(s as u32), Ipv4Addr::from(e as u32));
                for n in Ipv4Subnets::new(s, e, 0) {
                    if !out.is_empty() {
                        out.push_str(", ");
                    }
                    push_v4(&mut out, n.addr(), n.prefix_len());
                }
            }
            return out;
        }
        let mut push = |e: &dyn Display| {
            if !out.is_empty() {
                out.push_str(", ");
            }
            let _ = write!(out, "{e}");
        };
        for &(s, e) in &self.v6.0 {
            for n in Ipv6Subnets::new(Ipv6Addr::from(s), Ipv6Addr::from(e), 0) {
                if n.prefix_len() == 128 {
                    push(&n.addr());
                } else {
                    push(&n);
                }
            }
        }
        out
    }

    pub fn v6_elements(&self) -> Vec<String> {
        let mut out = Vec::new();
        for &(s, e) in &self.v6.0 {
            let (s, e) = (Ipv6Addr::from(s), Ipv6Addr::from(e));
            out.extend(Ipv6Subnets::new(s, e, 0).map(|n| {
                if n.prefix_len() == 128 {
                    n.addr().to_string()
                } else {
                    n.to_string()
                }
            }));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> IpNet {
        s.parse().unwrap()
    }

    #[test]
    fn block_minus_except_becomes_prefixes() {
        let mut set = AddrSet::default();
        set.add_block(
            &net("10.0.0.0/8"),
            &[net("10.1.0.0/16"), net("10.200.0.0/13")],
        );
        assert_eq!(
            set.v4_elements(),
            [
                "10.0.0.0/16",
                "10.2.0.0/15",
                "10.4.0.0/14",
                "10.8.0.0/13",
                "10.16.0.0/12",
                "10.32.0.0/11",
                "10.64.0.0/10",
                "10.128.0.0/10",
                "10.192.0.0/13",
                "10.208.0.0/12",
                "10.224.0.0/11"
            ]
        );
        assert!(set.v6.is_empty());
    }

    #[test]
    fn adjacent_and_overlapping_entries_merge() {
        let mut set = AddrSet::default();
        set.add_ip("192.168.0.1".parse().unwrap());
        set.add_ip("192.168.0.0".parse().unwrap());
        set.add_block(&net("192.168.0.2/31"), &[]);
        set.add_ip("192.168.0.3".parse().unwrap());
        set.add_ip("fd00::1".parse().unwrap());
        assert_eq!(set.v4_elements(), ["192.168.0.0/30"]);
        assert_eq!(set.v6_elements(), ["fd00::1"]);
    }

    proptest::proptest! {
        /// Intervals inserted one by one, or addresses added at once, are
        /// the intervals sorted and merged once.
        #[test]
        fn insertion_is_sorting_and_merging(
            spans in proptest::collection::vec((0u128..64, 0u128..4), 0..40),
            edge in proptest::bool::ANY,
        ) {
            let spans: Vec<(u128, u128)> = spans
                .into_iter()
                .map(|(s, len)| if edge { (u128::MAX - s - len, u128::MAX - s) } else { (s, s + len) })
                .collect();
            let mut one_by_one = Intervals::default();
            for &(s, e) in &spans {
                one_by_one.insert(s, e);
            }
            let mut all = Intervals(spans.clone());
            all.normalize();
            proptest::prop_assert_eq!(&one_by_one, &all);
            let ips: Vec<IpAddr> = spans
                .iter()
                .map(|&(s, _)| IpAddr::V4(Ipv4Addr::from((s % 64) as u32)))
                .collect();
            let (mut each, mut at_once) = (AddrSet::default(), AddrSet::default());
            for ip in &ips {
                each.add_ip(*ip);
            }
            at_once.add_ips(&ips);
            proptest::prop_assert_eq!(&each, &at_once);
            let mut wide = at_once.clone();
            wide.v6 = all.clone();
            wide.v4.insert(1 << 31, (1 << 31) + 5);
            for &(s, e) in &spans {
                let len = e - s;
                let a = ((s % 64) * 0x0403_0201 + len * 0x6400_0A00) as u32 as u128;
                wide.v4.insert(a, (a + len * 97).min(u32::MAX as u128));
            }
            proptest::prop_assert_eq!(wide.joined(false), wide.v4_elements().join(", "));
            proptest::prop_assert_eq!(wide.joined(true), wide.v6_elements().join(", "));
        }
    }

    #[test]
    fn except_of_the_other_family_changes_nothing() {
        let mut set = AddrSet::default();
        set.add_block(&net("0.0.0.0/0"), &[net("::/0")]);
        assert_eq!(set.v4_elements(), ["0.0.0.0/0"]);
    }

    #[test]
    fn except_covering_the_block_leaves_nothing() {
        let mut set = AddrSet::default();
        set.add_block(&net("10.0.0.0/24"), &[net("10.0.0.0/16")]);
        assert!(set.is_empty());
    }
}
