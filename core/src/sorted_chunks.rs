//! Ordered collections with a fraction of the code of `BTreeMap`/`BTreeSet`: an ordered set of
//! sorted chunks, for what grows with the input and must be kept in order (block CIDRs for
//! Calico's walks, pool networks for overlap checks), and a sorted vector's entry, for a
//! handful of keys.

use std::cmp::Ordering;
use std::ops::{Bound, RangeBounds};

/// The most values a chunk holds before it is split in two.
const MAX_CHUNK_LEN: usize = 512;

/// Values in ascending order, as a list of sorted chunks, each non-empty and wholly before the
/// next. One sorted vector would move half the set on every insert, quadratic in its size (a
/// million pods in /31 blocks make half a million blocks); bounded chunks keep an insert or a
/// removal to one binary search over the chunks, one in a chunk and a short move, with much
/// less code in the site than an ordered set.
#[derive(Clone, Debug)]
pub(crate) struct SortedChunks<T> {
    chunks: Vec<Vec<T>>,
}

impl<T> Default for SortedChunks<T> {
    fn default() -> Self {
        SortedChunks { chunks: Vec::new() }
    }
}

impl<T: Ord> SortedChunks<T> {
    /// The index of the chunk where `value` is or belongs: the first whose last value is not
    /// before it (`chunks.len()` when every value is before it).
    fn chunk_of(&self, value: &T) -> usize {
        self.chunks
            .partition_point(|chunk| chunk.last().is_some_and(|last| last < value))
    }

    /// Adds `value`; false if it was already there.
    pub fn insert(&mut self, value: T) -> bool {
        // Past the end, a value joins the last chunk.
        let index = self
            .chunk_of(&value)
            .min(self.chunks.len().saturating_sub(1));
        let Some(chunk) = self.chunks.get_mut(index) else {
            self.chunks.push(vec![value]);
            return true;
        };
        let Err(at) = chunk.binary_search(&value) else {
            return false;
        };
        chunk.insert(at, value);
        if chunk.len() > MAX_CHUNK_LEN {
            let upper_half = chunk.split_off(chunk.len() / 2);
            self.chunks.insert(index + 1, upper_half);
        }
        true
    }

    /// Removes `value`; false if it was not there.
    pub fn remove(&mut self, value: &T) -> bool {
        let index = self.chunk_of(value);
        let Some(chunk) = self.chunks.get_mut(index) else {
            return false;
        };
        let Ok(at) = chunk.binary_search(value) else {
            return false;
        };
        chunk.remove(at);
        if chunk.is_empty() {
            self.chunks.remove(index);
        }
        true
    }

    /// The value that `cmp` finds equal to the key it looks for; `cmp` tells how a value
    /// orders against that key, consistently with the values' order (as for
    /// `slice::binary_search_by`).
    pub fn get_mut_by(&mut self, cmp: impl Fn(&T) -> Ordering) -> Option<&mut T> {
        let (index, at) = self.position_by(cmp)?;
        self.chunks.get_mut(index)?.get_mut(at)
    }

    /// Removes the value that `cmp` finds equal to its key (see [`SortedChunks::get_mut_by`]).
    pub fn remove_by(&mut self, cmp: impl Fn(&T) -> Ordering) -> Option<T> {
        let (index, at) = self.position_by(cmp)?;
        let chunk = &mut self.chunks[index];
        let value = chunk.remove(at);
        if chunk.is_empty() {
            self.chunks.remove(index);
        }
        Some(value)
    }

    fn position_by(&self, cmp: impl Fn(&T) -> Ordering) -> Option<(usize, usize)> {
        let index = self
            .chunks
            .partition_point(|chunk| chunk.last().is_some_and(|last| cmp(last).is_lt()));
        let at = self.chunks.get(index)?.binary_search_by(&cmp).ok()?;
        Some((index, at))
    }

    pub fn is_empty(&self) -> bool {
        self.chunks.is_empty()
    }

    /// Removes the `n`-th value (from 0) in order. The chunks are counted from the first, so
    /// this is for positions near the front.
    pub fn remove_nth(&mut self, mut n: usize) -> Option<T> {
        let index = self.chunks.iter().position(|chunk| {
            let here = n < chunk.len();
            if !here {
                n -= chunk.len();
            }
            here
        })?;
        let chunk = &mut self.chunks[index];
        let value = chunk.remove(n);
        if chunk.is_empty() {
            self.chunks.remove(index);
        }
        Some(value)
    }

    /// Every value, in order.
    pub fn iter(&self) -> impl Iterator<Item = &T> + '_ {
        self.chunks.iter().flatten()
    }

    /// The values within `bounds`, in order, as `BTreeSet::range` gives them.
    pub fn range(&self, bounds: impl RangeBounds<T>) -> impl Iterator<Item = &T> + '_
    where
        T: Clone,
    {
        let (start, end) = (bounds.start_bound().cloned(), bounds.end_bound().cloned());
        // The chunk where the range starts, and how many of its values come before the start.
        let (first, skip) = match &start {
            Bound::Included(value) | Bound::Excluded(value) => {
                let excluded = matches!(start, Bound::Excluded(_));
                let first = self.chunk_of(value);
                let skip = self.chunks.get(first).map_or(0, |chunk| {
                    chunk.partition_point(|v| v < value || (excluded && v == value))
                });
                (first, skip)
            }
            Bound::Unbounded => (0, 0),
        };
        let within_end = move |value: &&T| match &end {
            Bound::Included(last) => *value <= last,
            Bound::Excluded(end) => *value < end,
            Bound::Unbounded => true,
        };
        self.chunks
            .get(first..)
            .unwrap_or_default()
            .iter()
            .flatten()
            .skip(skip)
            .take_while(within_end)
    }
}

/// The value under `key` in `entries`, a vector sorted by key, added as the default when
/// missing. For a handful of keys listed in key order (the run's reports by pool, the block
/// sizes) a sorted vector does what an ordered map would, with far less code in the site.
pub(crate) fn sorted_entry<K: Ord, V: Default>(entries: &mut Vec<(K, V)>, key: K) -> &mut V {
    let at = match entries.binary_search_by(|(k, _)| k.cmp(&key)) {
        Ok(at) => at,
        Err(at) => {
            entries.insert(at, (key, V::default()));
            at
        }
    };
    &mut entries[at].1
}

#[cfg(test)]
mod tests {
    use ipnet::IpNet;

    use super::*;

    fn net(index: u32) -> IpNet {
        IpNet::new(std::net::Ipv4Addr::from(index << 8).into(), 24).unwrap()
    }

    #[test]
    fn keeps_the_order_of_an_ordered_set_across_chunk_splits_and_removals() {
        let mut set = SortedChunks::default();
        let mut expected = std::collections::BTreeSet::new();
        // A fixed pseudo-random order over more CIDRs than several chunks hold.
        let count = 3 * MAX_CHUNK_LEN as u32 + 7;
        for step in 0..count {
            let index = step.wrapping_mul(2_654_435_761) % count;
            assert_eq!(set.insert(net(index)), expected.insert(net(index)));
        }
        assert!(!set.insert(net(5)));
        for index in (0..count).step_by(3) {
            assert_eq!(set.remove(&net(index)), expected.remove(&net(index)));
        }
        assert!(!set.remove(&net(0)));
        assert!(set.chunks.iter().all(|chunk| !chunk.is_empty()));
        assert!(set.iter().eq(expected.iter()));
        for start in [0, 1, 600, count - 1, count + 5] {
            for end in [0, 2, 600, 601, count, count + 9] {
                let (start, end) = (net(start), net(end));
                assert!(set.range(start..).eq(expected.range(start..)));
                if start <= end {
                    assert!(set.range(start..=end).eq(expected.range(start..=end)));
                    assert!(set.range(start..end).eq(expected.range(start..end)));
                }
            }
            let excluded = (Bound::Excluded(net(start)), Bound::Unbounded);
            assert!(set.range(excluded).eq(expected.range(excluded)));
        }
    }
}
