//! How many of a flow's pod-to-pod connections the policies deny, counted
//! over classes of pods (what no policy tells apart) instead of pair by
//! pair: `* -> *` over a 30,000-pod live dump is five billion connections.
//!
//! Two pods of one class are decided alike against any destination, and
//! two destinations of one class alike from any source, except for what is
//! not policies' doing: a pod reaching itself, and a pod and its own node
//! (a host-network pod there) reaching each other ([`Classes`]). So for a
//! destination `d` of class `c` probed on ports `P`:
//!
//! denied(d) = G(c, P) + sum over the sources special to `d` of
//! (what is denied between that source and `d`) - den(class of the source, c, P)
//!
//! where den(s, c, P) is how many of `P` a source of class `s` is denied
//! towards class `c`, and G(c, P) the sum of den over the flow's sources.
//! den is read from the columns of `c` on `P` in the engine over the
//! classes, one column per probe for every source class at once: it holds
//! for every pair of pods of those classes that is not special, and for a
//! special pair whatever it says cancels.

use std::collections::HashMap;

use netpol_engine::{Classes, Engine, NodePods, Party};
use netpol_model::Protocol;
use rayon::prelude::*;

/// The (port, protocol) pairs a destination is probed on.
type Probes = [(u16, Protocol)];

/// The flow's sources by class: each class's members among them, in order.
pub(crate) struct SourceClasses {
    /// (class, members) in order of first appearance.
    groups: Vec<(u32, Vec<usize>)>,
    /// class -> index into `groups`.
    index: HashMap<u32, usize>,
}

impl SourceClasses {
    pub(crate) fn new(classes: &Classes, sources: &[usize]) -> Self {
        let mut groups: Vec<(u32, Vec<usize>)> = Vec::new();
        let mut index = HashMap::new();
        for &s in sources {
            let class = classes.class_of[s];
            let at = *index.entry(class).or_insert_with(|| {
                groups.push((class, Vec::new()));
                groups.len() - 1
            });
            groups[at].1.push(s);
        }
        SourceClasses { groups, index }
    }
}

/// A connection the flow means and the policies do not allow over every
/// family both ends can use.
pub(crate) fn denied(
    engine: &Engine,
    src: usize,
    dst: usize,
    (port, protocol): (u16, Protocol),
) -> bool {
    let d = engine.decide(Party::Endpoint(src), Party::Endpoint(dst), port, protocol);
    !d.allowed || d.only.is_some()
}

/// Per destination (in the order given, each with its probes): how many of
/// its connections from `sources` are denied; `None` unless both ends are
/// all pods (addresses are a few samples, decided one by one).
pub(crate) fn denied_per_destination(
    engine: &Engine,
    by_class: &Engine,
    classes: &Classes,
    sources: &[Party],
    destinations: &[(Party, Vec<(u16, Protocol)>)],
) -> Option<Vec<usize>> {
    let sources: Vec<usize> = sources.iter().map(pod).collect::<Option<_>>()?;
    let destinations: Vec<(usize, &Probes)> = destinations
        .iter()
        .map(|(d, probes)| Some((pod(d)?, probes.as_slice())))
        .collect::<Option<_>>()?;
    Some(count_per_destination(
        engine,
        by_class,
        classes,
        &sources,
        &destinations,
    ))
}

fn pod(party: &Party) -> Option<usize> {
    match party {
        Party::Endpoint(i) => Some(*i),
        Party::External(_) => None,
    }
}

fn count_per_destination(
    engine: &Engine,
    by_class: &Engine,
    classes: &Classes,
    sources: &[usize],
    destinations: &[(usize, &Probes)],
) -> Vec<usize> {
    let by_source = SourceClasses::new(classes, sources);
    // Sources special to a destination: itself, and node traffic.
    let nodes = NodePods::new(engine.cluster, sources.iter().copied());
    let in_sources: std::collections::HashSet<usize> = sources.iter().copied().collect();
    // Destinations alike: one class, the same probes.
    let mut groups: HashMap<(u32, &Probes), Vec<usize>> = HashMap::new();
    for (i, &(d, probes)) in destinations.iter().enumerate() {
        groups
            .entry((classes.class_of[d], probes))
            .or_default()
            .push(i);
    }
    let groups: Vec<_> = groups.into_iter().collect();
    let per_group: Vec<Vec<(usize, usize)>> = groups
        .par_iter()
        .map(|((class, probes), members)| {
            let columns = by_class.columns_on(*class as usize, probes);
            let den: Vec<usize> = by_source
                .groups
                .iter()
                .map(|&(s, _)| {
                    let s = s as usize;
                    columns
                        .iter()
                        .filter(|c| !c.allowed.contains(s) || c.only_over(s).is_some())
                        .count()
                })
                .collect();
            let g: usize = by_source
                .groups
                .iter()
                .zip(&den)
                .map(|((_, srcs), n)| srcs.len() * n)
                .sum();
            members
                .iter()
                .map(|&i| {
                    let d = destinations[i].0;
                    let mut specials: Vec<usize> = nodes.node_traffic_sources(d).collect();
                    if in_sources.contains(&d) {
                        specials.push(d);
                    }
                    let mut total = g as i64;
                    for s in specials {
                        let actual = probes.iter().filter(|&&p| denied(engine, s, d, p)).count();
                        let class = by_source.index[&classes.class_of[s]];
                        total += actual as i64 - den[class] as i64;
                    }
                    (i, usize::try_from(total).expect("a count of connections"))
                })
                .collect()
        })
        .collect();
    let mut out = vec![0; destinations.len()];
    for (i, n) in per_group.into_iter().flatten() {
        out[i] = n;
    }
    out
}
