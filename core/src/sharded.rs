//! A hash map split into many small hash maps, so that growing it never rehashes more than
//! a small part of its entries at once.
//!
//! Why: the recent-leads windows ([`crate::dedup`]) are read and grown by the one writer
//! thread for every stored lead. One `HashMap` holding ten minutes of submissions at full
//! ingest rate rehashed a quarter of a million entries in a single insert (measured: a 68 ms
//! stall, the whole group commit waiting). B-trees avoided the stall but cost ~7 % of the
//! writer in key comparisons and cache misses. With [`SHARDS`] maps, a growth step moves
//! 1/256 of the entries (about 1,000 at that size), and lookups stay one hash probe.

use std::collections::HashMap;
use std::collections::hash_map::{Entry, RandomState};
use std::hash::{BuildHasher, Hash};

/// How many maps the entries are spread over.
pub const SHARDS: usize = 256;

#[derive(Debug)]
pub struct ShardedMap<K, V> {
    /// Picks the shard. Randomly keyed like `HashMap`'s own hasher, so no one can aim
    /// crafted keys at one shard and bring the large rehash back.
    pick: RandomState,
    shards: Vec<HashMap<K, V>>,
    len: usize,
}

impl<K, V> Default for ShardedMap<K, V> {
    fn default() -> Self {
        ShardedMap {
            pick: RandomState::new(),
            // Empty maps allocate nothing until their first insert.
            shards: (0..SHARDS).map(|_| HashMap::new()).collect(),
            len: 0,
        }
    }
}

impl<K: Hash + Eq, V> ShardedMap<K, V> {
    fn shard_of(&self, k: &K) -> usize {
        // The top bits: the shard's own map indexes its buckets with the low bits of a
        // different hash, so the two choices stay independent.
        (self.pick.hash_one(k) >> 56) as usize % SHARDS
    }

    pub fn get(&self, k: &K) -> Option<&V> {
        self.shards[self.shard_of(k)].get(k)
    }

    pub fn get_mut(&mut self, k: &K) -> Option<&mut V> {
        let s = self.shard_of(k);
        self.shards[s].get_mut(k)
    }

    /// The value for `k`, inserted with `V::default()` when missing.
    pub fn get_or_default(&mut self, k: K) -> &mut V
    where
        V: Default,
    {
        let s = self.shard_of(&k);
        match self.shards[s].entry(k) {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(e) => {
                self.len += 1;
                e.insert(V::default())
            }
        }
    }

    pub fn insert(&mut self, k: K, v: V) -> Option<V> {
        let s = self.shard_of(&k);
        let old = self.shards[s].insert(k, v);
        if old.is_none() {
            self.len += 1;
        }
        old
    }

    pub fn remove(&mut self, k: &K) -> Option<V> {
        let s = self.shard_of(k);
        let old = self.shards[s].remove(k);
        if old.is_some() {
            self.len -= 1;
        }
        old
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn behaves_like_one_map() {
        let mut m: ShardedMap<u32, String> = ShardedMap::default();
        let mut plain: HashMap<u32, String> = HashMap::new();
        for i in 0..5_000u32 {
            let k = i.wrapping_mul(2_654_435_761) % 3_000;
            let v = format!("v{i}");
            assert_eq!(m.insert(k, v.clone()), plain.insert(k, v));
            if i % 3 == 0 {
                let gone = (k + 7) % 3_000;
                assert_eq!(m.remove(&gone), plain.remove(&gone));
            }
            assert_eq!(m.len(), plain.len());
        }
        for k in 0..3_000u32 {
            assert_eq!(m.get(&k), plain.get(&k));
        }
        assert!(!m.is_empty());
    }

    #[test]
    fn get_or_default_counts_only_new_keys() {
        let mut m: ShardedMap<&str, Vec<u8>> = ShardedMap::default();
        m.get_or_default("a").push(1);
        m.get_or_default("a").push(2);
        m.get_or_default("b").push(3);
        assert_eq!(m.len(), 2);
        assert_eq!(m.get(&"a"), Some(&vec![1, 2]));
        if let Some(v) = m.get_mut(&"b") {
            v.clear();
        }
        assert_eq!(m.get(&"b"), Some(&vec![]));
        assert_eq!(m.remove(&"a"), Some(vec![1, 2]));
        assert_eq!(m.remove(&"a"), None);
        assert_eq!(m.len(), 1);
    }

    #[test]
    fn entries_spread_over_the_shards() {
        let mut m: ShardedMap<u64, ()> = ShardedMap::default();
        for i in 0..(SHARDS as u64 * 64) {
            m.insert(i, ());
        }
        let largest = m.shards.iter().map(HashMap::len).max().unwrap_or(0);
        // 64 per shard on average; a shard with 4x that would mean the top bits are skewed.
        assert!(largest < 256, "largest shard holds {largest}");
        assert!(m.shards.iter().all(|s| !s.is_empty()));
    }
}
