//! [`SortedMap`]: a partner's aggregates as one vector sorted by key.

/// A map held as one vector of `(key, value)` sorted by key, keys unique.
///
/// A partner's acr and licenses aggregates are many (one per tenant,
/// service or workload, month, association), written in runs (a partner's
/// rows follow each other) and then only read. A hash map holds each entry
/// with its control byte in a table at most 7/8 full and usually about
/// two-thirds full (it doubles); this vector holds each entry once, with no
/// room to spare, so that memory follows aggregates: about a third less.
/// Runs of entries are added with [`SortedMap::add_run`] (sorted and merged
/// in one pass); a single entry with [`SortedMap::entry_or_default`] (a
/// binary search and an insertion, for scenarios and tests).
#[derive(Clone, Debug)]
pub struct SortedMap<K, V> {
    entries: Vec<(K, V)>,
}

impl<K, V> Default for SortedMap<K, V> {
    fn default() -> Self {
        SortedMap {
            entries: Vec::new(),
        }
    }
}

/// Equal when they hold the same keys with equal values.
impl<K: PartialEq, V: PartialEq> PartialEq for SortedMap<K, V> {
    fn eq(&self, other: &Self) -> bool {
        self.entries == other.entries
    }
}

/// An iterator over `(&key, &value)`, keys ascending.
pub type Iter<'a, K, V> = std::iter::Map<std::slice::Iter<'a, (K, V)>, fn(&(K, V)) -> (&K, &V)>;

fn pair<K, V>((k, v): &(K, V)) -> (&K, &V) {
    (k, v)
}

impl<K: Ord, V> SortedMap<K, V> {
    /// How many entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether it holds no entry.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entries, keys ascending.
    pub fn iter(&self) -> Iter<'_, K, V> {
        self.entries.iter().map(pair as fn(&(K, V)) -> (&K, &V))
    }

    /// How many entries it has room for (its length: it keeps no room to
    /// spare once a run is added).
    pub fn capacity(&self) -> usize {
        self.entries.capacity()
    }

    /// The entries as a slice, keys ascending.
    pub fn as_slice(&self) -> &[(K, V)] {
        &self.entries
    }

    /// The keys, ascending.
    pub fn keys(&self) -> impl Iterator<Item = &K> {
        self.entries.iter().map(|(k, _)| k)
    }

    /// The values, by ascending key.
    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.entries.iter().map(|(_, v)| v)
    }

    /// The values, mutable, by ascending key.
    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut V> {
        self.entries.iter_mut().map(|(_, v)| v)
    }

    fn find(&self, key: &K) -> Result<usize, usize> {
        self.entries.binary_search_by(|(k, _)| k.cmp(key))
    }

    /// The value of `key`.
    pub fn get(&self, key: &K) -> Option<&V> {
        self.find(key).ok().map(|i| &self.entries[i].1)
    }

    /// The value of `key`, mutable.
    pub fn get_mut(&mut self, key: &K) -> Option<&mut V> {
        self.find(key).ok().map(|i| &mut self.entries[i].1)
    }

    /// Whether `key` has a value.
    pub fn contains_key(&self, key: &K) -> bool {
        self.find(key).is_ok()
    }

    /// Sets the value of `key`, returning the one it replaces.
    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        match self.find(&key) {
            Ok(i) => Some(std::mem::replace(&mut self.entries[i].1, value)),
            Err(i) => {
                self.entries.insert(i, (key, value));
                None
            }
        }
    }

    /// The value of `key`, inserted as `V::default()` when absent (one
    /// insertion moves the entries after it: for a few entries at a time;
    /// runs go through [`SortedMap::add_run`]).
    pub fn entry_or_default(&mut self, key: K) -> &mut V
    where
        V: Default,
    {
        let i = match self.find(&key) {
            Ok(i) => i,
            Err(i) => {
                self.entries.insert(i, (key, V::default()));
                i
            }
        };
        &mut self.entries[i].1
    }

    /// A map of `entries` already sorted by key, keys unique.
    pub(crate) fn from_entries(entries: Vec<(K, V)>) -> Self {
        debug_assert!(entries.windows(2).all(|w| w[0].0 < w[1].0));
        SortedMap { entries }
    }

    /// The entries, keys ascending.
    pub(crate) fn into_entries(self) -> Vec<(K, V)> {
        self.entries
    }

    /// Keeps the entries for which `keep` is true.
    pub fn retain(&mut self, mut keep: impl FnMut(&K, &mut V) -> bool) {
        self.entries.retain_mut(|(k, v)| keep(k, v));
    }

    /// Adds `run` (in any order of keys; entries of one key in the order
    /// they were added), as adding each entry in turn would: a key already
    /// held, or met again in the run, is merged into the earlier value with
    /// `merge`, in order. `run` is left empty (its room is kept for the
    /// next run); the map keeps no room to spare.
    pub fn add_run(&mut self, run: &mut Vec<(K, V)>, merge: impl Fn(&mut V, V)) {
        if run.is_empty() {
            return;
        }
        // Stable: the entries of one key stay in the order they came.
        run.sort_by(|(a, _), (b, _)| a.cmp(b));
        let mut merged: Vec<(K, V)> = Vec::with_capacity(self.entries.len() + run.len());
        let mut mine = std::mem::take(&mut self.entries).into_iter().peekable();
        for (k, v) in run.drain(..) {
            while let Some((mk, _)) = mine.peek()
                && *mk < k
            {
                merged.push(mine.next().expect("peeked"));
            }
            if let Some((mk, _)) = mine.peek()
                && *mk == k
            {
                merged.push(mine.next().expect("peeked"));
            }
            match merged.last_mut() {
                Some((lk, lv)) if *lk == k => merge(lv, v),
                _ => merged.push((k, v)),
            }
        }
        merged.extend(mine);
        merged.shrink_to_fit();
        self.entries = merged;
    }

    /// Takes `other`'s entries with keys renamed by `rekey` (one-to-one)
    /// and merges them into this map's: a key both hold has this map's
    /// value first, `other`'s merged into it with `merge`.
    pub fn merge_rekeyed(
        &mut self,
        other: SortedMap<K, V>,
        same_keys: bool,
        rekey: impl Fn(K) -> K,
        merge: impl Fn(&mut V, V),
    ) {
        if self.entries.is_empty() && same_keys {
            *self = other;
            return;
        }
        let mut run: Vec<(K, V)> = if same_keys {
            other.entries
        } else {
            other
                .entries
                .into_iter()
                .map(|(k, v)| (rekey(k), v))
                .collect()
        };
        self.add_run(&mut run, merge);
    }
}

impl<'a, K: Ord, V> IntoIterator for &'a SortedMap<K, V> {
    type Item = (&'a K, &'a V);
    type IntoIter = Iter<'a, K, V>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// `map[&key]`: the value of `key`; panics when absent.
impl<K: Ord, V> std::ops::Index<&K> for SortedMap<K, V> {
    type Output = V;

    fn index(&self, key: &K) -> &V {
        self.get(key).expect("no entry for this key")
    }
}

impl<K: Ord, V> FromIterator<(K, V)> for SortedMap<K, V> {
    /// A map of `(key, value)` pairs; a key given twice keeps its last value.
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut map = SortedMap::default();
        let mut run: Vec<(K, V)> = iter.into_iter().collect();
        map.add_run(&mut run, |a, b| *a = b);
        map
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    #[test]
    fn runs_merge_in_order_into_what_is_held() {
        let mut m: SortedMap<u32, Vec<u32>> = SortedMap::default();
        let push = |a: &mut Vec<u32>, b: Vec<u32>| a.extend(b);
        m.add_run(&mut vec![(5, vec![1]), (2, vec![2]), (5, vec![3])], push);
        assert_eq!(m.as_slice(), &[(2, vec![2]), (5, vec![1, 3])]);
        let mut run = vec![(9, vec![4]), (5, vec![5]), (1, vec![6])];
        m.add_run(&mut run, push);
        assert!(run.is_empty());
        assert_eq!(
            m.as_slice(),
            &[(1, vec![6]), (2, vec![2]), (5, vec![1, 3, 5]), (9, vec![4])]
        );
        // Held with no room to spare.
        assert_eq!(m.capacity(), m.len());
        assert_eq!(m.get(&5), Some(&vec![1, 3, 5]));
        assert_eq!(m.get(&4), None);
        m.entry_or_default(4).push(7);
        m.entry_or_default(4).push(8);
        assert_eq!(m.get(&4), Some(&vec![7, 8]));
        assert_eq!(m.insert(4, vec![0]), Some(vec![7, 8]));
        m.retain(|k, _| *k != 2);
        assert_eq!(m.keys().copied().collect::<Vec<_>>(), vec![1, 4, 5, 9]);
        assert_eq!(m.len(), 4);
    }

    #[test]
    fn merge_rekeyed_takes_a_map_whole_or_renames_its_keys() {
        let a: SortedMap<u32, u32> = [(1, 10), (2, 20)].into_iter().collect();
        let mut empty = SortedMap::default();
        empty.merge_rekeyed(a.clone(), true, |k| k, |x, y| *x += y);
        assert_eq!(empty, a);
        let mut b: SortedMap<u32, u32> = [(3, 1), (20, 2)].into_iter().collect();
        b.merge_rekeyed(a, false, |k| k * 10, |x, y| *x += y);
        assert_eq!(b.as_slice(), &[(3, 1), (10, 10), (20, 22)]);
    }

    proptest! {
        /// Runs added to a sorted map give what adding every entry in turn
        /// to an ordered map gives, with values merged in order.
        #[test]
        fn runs_are_entries_added_in_turn(
            runs in prop::collection::vec(
                prop::collection::vec((0u8..40, 0u32..1000), 0..30), 0..6)
        ) {
            let mut sorted: SortedMap<u8, Vec<u32>> = SortedMap::default();
            let mut model: BTreeMap<u8, Vec<u32>> = BTreeMap::new();
            for run in &runs {
                for (k, v) in run {
                    model.entry(*k).or_default().push(*v);
                }
                let mut r: Vec<(u8, Vec<u32>)> = run.iter().map(|(k, v)| (*k, vec![*v])).collect();
                sorted.add_run(&mut r, |a, b| a.extend(b));
            }
            let got: Vec<(u8, Vec<u32>)> = sorted.iter().map(|(k, v)| (*k, v.clone())).collect();
            let want: Vec<(u8, Vec<u32>)> = model.into_iter().collect();
            prop_assert_eq!(got, want);
        }
    }
}
