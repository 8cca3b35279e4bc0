//! The ruleset's named address sets, shared between rules.
//!
//! Thousands of rules select the same pods (every pod of a namespace, say):
//! they share one set, whose comment counts the other rules. A selection of
//! pods seen before is recognised by its endpoints, before its addresses are
//! gathered, sorted and formatted again; any two sets are then compared by
//! their text, so that different selections with the same addresses (pods
//! without one) still share.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::io::{self, Write};
use std::rc::Rc;

use fixedbitset::FixedBitSet;

use crate::addr::AddrSet;
use crate::chain::{Chains, comment, family_words};

/// A named set of the ruleset.
pub(crate) struct NamedSet {
    pub v6: bool,
    /// As nft lists them, `", "` between.
    pub elements: String,
    /// Elements as the policy wrote them (excepts), which may overlap: nft merges them.
    pub auto_merge: bool,
    pub comment: String,
    /// How many other rules match on the same addresses through this set.
    pub shared_by: usize,
}

/// The sets one selection of pods was given: `(v6, name, holds)`, where
/// `holds` says the set of that name has the selection's addresses (not so
/// when a set of another content took the name first).
pub(crate) type Given = Rc<[(bool, String, bool)]>;

/// Selections of pods already given sets, by their endpoints: borrowed from
/// the engine for a rule with one selector, the union for several.
pub(crate) type BySelection<'a> = std::collections::HashMap<Cow<'a, FixedBitSet>, Given>;

fn content_hash(elements: &str) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    elements.hash(&mut h);
    h.finish()
}

impl<'a> Chains<'a, '_> {
    /// Adds the non-empty families of `addrs` as sets `BASE_v4`/`BASE_v6`,
    /// or counts one more rule on a set with the same elements; returns
    /// `(v6, name)` for each.
    pub(crate) fn add_sets(
        &mut self,
        base: &str,
        addrs: &AddrSet,
        why: &str,
    ) -> Vec<(bool, String)> {
        self.add_sets_holding(base, addrs, why)
            .into_iter()
            .map(|(v6, name, _)| (v6, name))
            .collect()
    }

    fn add_sets_holding(
        &mut self,
        base: &str,
        addrs: &AddrSet,
        why: &str,
    ) -> Vec<(bool, String, bool)> {
        let mut out = Vec::new();
        for v6 in [false, true] {
            let elements = addrs.joined(v6);
            if elements.is_empty() {
                continue;
            }
            let key = (v6, content_hash(&elements));
            let same = self.by_content.get(&key).and_then(|names| {
                names
                    .iter()
                    .find(|n| self.sets[n.as_str()].elements == elements)
            });
            if let Some(name) = same.cloned() {
                if let Some(set) = self.sets.get_mut(&name) {
                    set.shared_by += 1;
                }
                out.push((v6, name, true));
                continue;
            }
            let name = format!("{base}_{}", family_words(v6).1);
            let mut holds = false;
            self.sets.entry(name.clone()).or_insert_with(|| {
                holds = true;
                NamedSet {
                    v6,
                    elements,
                    auto_merge: false,
                    comment: why.to_string(),
                    shared_by: 0,
                }
            });
            self.by_content.entry(key).or_default().push(name.clone());
            out.push((v6, name, holds));
        }
        out
    }

    /// [`Chains::add_sets`] for the addresses of the endpoints in `selected`,
    /// which are gathered and formatted only for a selection not seen before.
    pub(crate) fn pod_sets(
        &mut self,
        selected: Cow<'a, FixedBitSet>,
        base: &str,
        why: &str,
    ) -> Vec<(bool, String)> {
        let given = match self.by_selection.get(&selected) {
            // What add_sets would do again: count one more rule on each set.
            Some(given) if self.reuse => {
                let given = given.clone();
                for (_, name, holds) in given.iter() {
                    if let Some(set) = self.sets.get_mut(name).filter(|_| *holds) {
                        set.shared_by += 1;
                    }
                }
                given
            }
            _ => {
                let (starts, addresses) = (&self.address_starts, &self.addresses);
                let mut pods = AddrSet::default();
                pods.add_ips(
                    selected
                        .ones()
                        .flat_map(|e| &addresses[starts[e]..starts[e + 1]]),
                );
                let given: Given = self.add_sets_holding(base, &pods, why).into();
                self.by_selection.insert(selected, given.clone());
                given
            }
        };
        given.iter().map(|(v6, n, _)| (*v6, n.clone())).collect()
    }
}

/// The set declarations, sorted by name.
pub(crate) fn write_sets(sets: &BTreeMap<String, NamedSet>, out: &mut dyn Write) -> io::Result<()> {
    for (name, set) in sets {
        let ty = if set.v6 { "ipv6_addr" } else { "ipv4_addr" };
        let why = match set.shared_by {
            0 => Cow::Borrowed(set.comment.as_str()),
            1 => Cow::Owned(format!("{}, and 1 other rule", set.comment)),
            n => Cow::Owned(format!("{}, and {n} other rules", set.comment)),
        };
        writeln!(
            out,
            "\tset {name} {{\n\t\ttype {ty}\n\t\tflags interval\n\t\t{}",
            comment(&why)
        )?;
        if set.auto_merge {
            writeln!(out, "\t\tauto-merge")?;
        }
        writeln!(out, "\t\telements = {{ {} }}\n\t}}\n", set.elements)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use netpol_engine::Engine;
    use netpol_synth::{Params, generate, with_cluster_policies};

    use crate::probe;
    use crate::ruleset::{Options, Scope, write_ruleset};

    fn ruleset(engine: &Engine, scope: &Scope, reuse: bool) -> String {
        let opts = Options {
            scope: scope.clone(),
            ..Options::default()
        };
        let mut out = Vec::new();
        write_ruleset(engine, &opts, &mut out, reuse).unwrap();
        String::from_utf8(out).unwrap()
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]
        /// Sets found by selection, and a pod's rules made once for every pod
        /// with its policies and ports, are the text that building them anew
        /// for each rule and pod gives: names, comments, counts. Also when
        /// pods without an address make different selections hold the same
        /// addresses.
        #[test]
        fn reused_sets_and_rules_are_what_building_them_anew_gives(
            seed in 0u64..1_000,
            unaddressed in 0usize..4,
            cluster_policies in 0usize..3,
        ) {
            let cluster = generate(&Params {
                workloads: 24,
                policies: 30,
                namespaces: 3,
                seed,
            });
            let mut cluster = probe::expand_replicas(&cluster, 2);
            probe::assign_addresses(&mut cluster).unwrap();
            if unaddressed > 0 {
                for e in cluster.endpoints.iter_mut().step_by(unaddressed + 1) {
                    e.ips.clear();
                }
            }
            let cluster = with_cluster_policies(cluster, cluster_policies, seed);
            let engine = Engine::new(&cluster);
            let node = cluster.endpoints.iter().find_map(|e| e.node.clone());
            for scope in [Some(Scope::Every), node.map(Scope::Node)].into_iter().flatten() {
                let shared = ruleset(&engine, &scope, true);
                proptest::prop_assert_eq!(&shared, &ruleset(&engine, &scope, false));
            }
        }
    }

    #[test]
    fn synthetic_rules_do_share_sets() {
        let cluster = generate(&Params {
            workloads: 24,
            policies: 30,
            namespaces: 3,
            seed: 1,
        });
        let mut cluster = probe::expand_replicas(&cluster, 2);
        probe::assign_addresses(&mut cluster).unwrap();
        let engine = Engine::new(&cluster);
        let text = ruleset(&engine, &Scope::Every, true);
        assert!(text.contains(" other rule"), "{text}");
    }
}
