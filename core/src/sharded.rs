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
use std::hash::{BuildHasher, BuildHasherDefault, Hash, Hasher};

/// How many maps the entries are spread over.
pub const SHARDS: usize = 256;

#[derive(Debug)]
pub struct ShardedMap<K, V, S = RandomState> {
    /// Picks the shard. Randomly keyed like `HashMap`'s own hasher (or, with
    /// [`DigestState`], keys that are salted digests), so no one can aim crafted keys at one
    /// shard and bring the large rehash back.
    pick: S,
    shards: Vec<HashMap<K, V, S>>,
    len: usize,
}

impl<K, V, S: BuildHasher + Default> Default for ShardedMap<K, V, S> {
    fn default() -> Self {
        ShardedMap {
            pick: S::default(),
            // Empty maps allocate nothing until their first insert.
            shards: (0..SHARDS)
                .map(|_| HashMap::with_hasher(S::default()))
                .collect(),
            len: 0,
        }
    }
}

impl<K: Hash + Eq, V, S: BuildHasher> ShardedMap<K, V, S> {
    fn shard_of(&self, k: &K) -> usize {
        // The top bits of the hash times an odd constant: the shard's own map takes its
        // buckets from the low bits and its tags from the top bits of the hash itself, and
        // with [`DigestState`] the two hashes are the same number — the product's top byte
        // depends on all of its bits, so keys of one shard still differ in both.
        (self.pick.hash_one(k).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 56) as usize % SHARDS
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

    /// Inserts `v` unless `k` holds a value that `keep` says stays; one lookup. Whether `v`
    /// went in.
    pub fn insert_unless(&mut self, k: K, v: V, keep: impl FnOnce(&V) -> bool) -> bool {
        let s = self.shard_of(&k);
        match self.shards[s].entry(k) {
            Entry::Occupied(e) if keep(e.get()) => false,
            Entry::Occupied(mut e) => {
                e.insert(v);
                true
            }
            Entry::Vacant(e) => {
                self.len += 1;
                e.insert(v);
                true
            }
        }
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

/// Hashes keys that are already uniform random digests by taking their bits as they are:
/// such a key writes one `u64` of itself (see `dedup::ContactKey`), and SipHashing it again
/// bought nothing. Only for keys nobody can choose (salted digests). Anything else written
/// is mixed with FNV-1a, correct but not for untrusted keys.
#[derive(Debug, Default, Clone, Copy)]
pub struct DigestHasher(u64);

impl Hasher for DigestHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(FNV_PRIME);
        }
    }

    fn write_u64(&mut self, n: u64) {
        // A digest key's one write is taken as it is; anything after it is mixed in.
        self.0 = if self.0 == 0 {
            n
        } else {
            (self.0 ^ n).wrapping_mul(FNV_PRIME)
        };
    }
}

const FNV_PRIME: u64 = 0x0100_0000_01b3;

/// The [`BuildHasher`] of [`DigestHasher`].
pub type DigestState = BuildHasherDefault<DigestHasher>;

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
    fn insert_unless_keeps_what_it_is_told_to() {
        let mut m: ShardedMap<u32, u32> = ShardedMap::default();
        assert!(m.insert_unless(1, 10, |_| true));
        assert!(!m.insert_unless(1, 11, |old| *old == 10));
        assert_eq!(m.get(&1), Some(&10));
        assert!(m.insert_unless(1, 12, |old| *old > 10));
        assert_eq!((m.get(&1), m.len()), (Some(&12), 1));
    }

    #[test]
    fn digest_keys_spread_over_the_shards_and_their_buckets() {
        // Keys whose hash is their own first eight bytes, like `dedup::ContactKey`.
        #[derive(PartialEq, Eq)]
        struct Digest(u64);
        impl Hash for Digest {
            fn hash<H: Hasher>(&self, state: &mut H) {
                state.write_u64(self.0);
            }
        }
        let mut m: ShardedMap<Digest, (), DigestState> = ShardedMap::default();
        let mut x = 0x2545_f491_4f6c_dd1d_u64;
        for _ in 0..(SHARDS * 64) {
            // xorshift: stand-in for digest bytes.
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            m.insert(Digest(x), ());
        }
        let largest = m.shards.iter().map(HashMap::len).max().unwrap_or(0);
        assert!(largest < 256, "largest shard holds {largest}");
        assert_eq!(m.len(), SHARDS * 64);
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
