//! A connection's change per address family: between dual-stack pods the
//! policies may allow one family and deny the other (an ipBlock decides), so
//! "allowed over both" to "allowed over IPv4 only" is a change, over IPv6.

use netpol_engine::Verdict as Trace;
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
