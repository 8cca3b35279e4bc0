//! Which pairs of the report get an embedded trace, decided as the pairs
//! stream past.

use super::data::TRACE_BUDGET;

/// Which pairs get an embedded trace: denied and partly allowed pairs
/// first, in pair order, then wholly allowed ones, until a pair's ports
/// exceed what is left of [`TRACE_BUDGET`]. The pairs come in pair order,
/// the two kinds mixed, so each kind is gathered against the whole budget
/// and [`TracePicker::picked`] applies what the partial ones leave to the others.
pub struct TracePicker<T> {
    /// Partly allowed (or denied) pairs, then wholly allowed ones.
    kinds: [Candidates<T>; 2],
}

struct Candidates<T> {
    list: Vec<(usize, T)>,
    used: usize,
    /// A pair's ports exceeded the budget: no later pair of this kind is traced.
    full: bool,
}

impl<T> Default for TracePicker<T> {
    fn default() -> Self {
        let none = || Candidates {
            list: Vec::new(),
            used: 0,
            full: false,
        };
        TracePicker {
            kinds: [none(), none()],
        }
    }
}

impl<T> TracePicker<T> {
    /// Whether a pair of this kind could still be traced.
    pub fn wants(&self, partial: bool) -> bool {
        !self.kinds[usize::from(!partial)].full
    }

    pub fn offer(&mut self, partial: bool, ports: usize, pair: T) {
        let kind = &mut self.kinds[usize::from(!partial)];
        if kind.full {
            return;
        }
        if ports > TRACE_BUDGET - kind.used {
            kind.full = true;
            return;
        }
        kind.used += ports;
        kind.list.push((ports, pair));
    }

    pub fn picked(self) -> Vec<T> {
        let [partial, whole] = self.kinds;
        let mut budget = TRACE_BUDGET - partial.used;
        let mut picked: Vec<T> = partial.list.into_iter().map(|(_, p)| p).collect();
        if !partial.full {
            for (ports, pair) in whole.list {
                if ports > budget {
                    break;
                }
                budget -= ports;
                picked.push(pair);
            }
        }
        picked
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The plain reading: sort the pairs (partial ones first), then take
    /// them while their ports fit.
    fn reference(pairs: &[(bool, usize)]) -> Vec<usize> {
        let mut order: Vec<usize> = (0..pairs.len()).collect();
        order.sort_by_key(|&k| (!pairs[k].0, k));
        let mut budget = TRACE_BUDGET;
        let mut picked = Vec::new();
        for k in order {
            if pairs[k].1 > budget {
                break;
            }
            budget -= pairs[k].1;
            picked.push(k);
        }
        picked
    }

    proptest! {
        #[test]
        fn the_picker_takes_what_sorting_would(
            pairs in proptest::collection::vec((any::<bool>(), prop_oneof![0..4usize, 0..700usize]), 0..40),
        ) {
            let mut picker = TracePicker::default();
            for (k, &(partial, ports)) in pairs.iter().enumerate() {
                if picker.wants(partial) {
                    picker.offer(partial, ports, k);
                }
            }
            prop_assert_eq!(picker.picked(), reference(&pairs));
        }
    }
}
