//! A connection's change per address family: between dual-stack pods the
//! policies may allow one family and deny the other (an ipBlock decides), so
//! "allowed over both" to "allowed over IPv4 only" is a change, over IPv6.

use netpol_engine::{Outcome, Verdict as Trace};
use netpol_model::Family;

/// One verdict flip: over one family, or (`None`) over every family the
/// connection can use, with the traces of that family on both sides.
pub(crate) struct Flip {
    pub family: Option<Family>,
    pub before: Trace,
    pub after: Trace,
}

/// The flips between two verdicts of one connection; empty when none.
pub(crate) fn flips(before: Trace, after: Trace) -> Vec<Flip> {
    if before.only_over().is_none() && after.only_over().is_none() {
        if before.allowed == after.allowed {
            return Vec::new();
        }
        return vec![Flip {
            family: None,
            before,
            after,
        }];
    }
    Family::ALL
        .into_iter()
        .map(|f| (f, over(&before, f), over(&after, f)))
        .filter(|(_, b, a)| b.allowed != a.allowed)
        .map(|(f, before, after)| Flip {
            family: Some(f),
            before,
            after,
        })
        .collect()
}

/// The verdict over `family` alone, with that family's trace.
fn over(v: &Trace, family: Family) -> Trace {
    let mut t = v.clone();
    match v.by_family.iter().find(|x| x.family == family) {
        Some(x) => {
            t.allowed = x.allowed;
            t.egress = x.egress.clone();
            t.ingress = x.ingress.clone();
        }
        // Decided alike over every family it can use; none over the others.
        None => t.allowed = v.allowed && v.families.contains(&family),
    }
    t.by_family.clear();
    t
}

/// How many of [`flips`] there are to allowed and to denied, from the two
/// decisions and the families the connection can use on each side: what
/// `flips` reads from the traces, without them.
pub(crate) fn flip_counts(
    (before, before_families): (Outcome, &[Family]),
    (after, after_families): (Outcome, &[Family]),
) -> (usize, usize) {
    let to = |allowed: bool| if allowed { (1, 0) } else { (0, 1) };
    if before.only.is_none() && after.only.is_none() {
        return if before.allowed == after.allowed {
            (0, 0)
        } else {
            to(after.allowed)
        };
    }
    // As `over` reads a verdict: the one family it is allowed over, or
    // alike over every family it can use.
    let over = |o: Outcome, families: &[Family], f: Family| match o.only {
        Some(only) => only == f,
        None => o.allowed && families.contains(&f),
    };
    Family::ALL
        .into_iter()
        .filter(|&f| over(before, before_families, f) != over(after, after_families, f))
        .map(|f| to(over(after, after_families, f)))
        .fold((0, 0), |(a, d), (x, y)| (a + x, d + y))
}
