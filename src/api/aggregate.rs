//! Typed map-side aggregation: for a step built with `combine_with` whose
//! value type is plain data, the map task merges each emitted value into a
//! hash table of typed values keyed by the encoded key, with the user's own
//! merge function: no value encoding, partitioning or decoding per record
//! (Spark's `reduceByKey` map-side combine). The table is flushed, encoded,
//! into the collector when full and at the end of the task.
//!
//! Memory is exact because only value types without drop glue (no heap:
//! numbers, tuples and structs of them) take this path: the key arena's
//! capacity plus the table's capacity times its entry size is everything
//! it holds. Other value types aggregate on encoded bytes in the shuffle.

use std::sync::Arc;

use hashbrown::HashTable;

/// The user's merge as the typed table uses it.
pub(crate) type TypedMerge<V> = Arc<dyn Fn(&mut V, V) + Send + Sync>;

/// Keys up to this many bytes live in the entry: a hit then touches no
/// other memory than the table (short words, numbers, small tuples).
const INLINE_KEY: usize = 15;
/// The last byte of an entry's key word when the key lives in `keys`.
const LONG: u8 = 0xFF;

/// 16 bytes of key and the value: 24 bytes for a `u64` count, so more of
/// the table stays in cache (and in the TLB's reach) than with a stored
/// hash and separate length fields; lookups miss the cache more than they
/// do anything else.
struct Entry<V> {
    /// A short key zero-padded, with its length in the last byte (so one
    /// 16-byte compare matches key and length); or for a longer key, its
    /// offset (u32) and length (u32) in `keys`, and `LONG` last.
    word: [u8; 16],
    value: V,
}

/// The key a long entry's word points to in `keys`.
fn long_key<'a>(word: &[u8; 16], keys: &'a [u8]) -> &'a [u8] {
    let at = u32::from_ne_bytes([word[0], word[1], word[2], word[3]]) as usize;
    let len = u32::from_ne_bytes([word[4], word[5], word[6], word[7]]) as usize;
    &keys[at..][..len]
}

fn key_of<'a>(word: &'a [u8; 16], keys: &'a [u8]) -> &'a [u8] {
    match word[INLINE_KEY] {
        LONG => long_key(word, keys),
        len => &word[..len as usize],
    }
}

impl<V> Entry<V> {
    /// The same hash `insert` computed for this entry's key.
    fn hash(&self, keys: &[u8]) -> u64 {
        match self.word[INLINE_KEY] {
            LONG => xxhash_rust::xxh3::xxh3_64(long_key(&self.word, keys)),
            _ => xxhash_rust::xxh3::xxh3_64(&self.word),
        }
    }
}

/// Distinct encoded keys with their merged values.
pub(crate) struct TypedAgg<V> {
    table: HashTable<Entry<V>>,
    keys: Vec<u8>,
    limit: usize,
    merge: TypedMerge<V>,
    clone: fn(&V) -> V,
    /// Values merged in, and pairs flushed out: the map-side combine's
    /// input and output records.
    pub(crate) records_in: u64,
    pub(crate) records_out: u64,
}

impl<V> TypedAgg<V> {
    pub(crate) fn new(limit: usize, merge: TypedMerge<V>, clone: fn(&V) -> V) -> Self {
        TypedAgg {
            table: HashTable::new(),
            keys: Vec::new(),
            limit,
            merge,
            clone,
            records_in: 0,
            records_out: 0,
        }
    }

    fn entry_bytes() -> usize {
        std::mem::size_of::<Entry<V>>() + 1 // + hashbrown's control byte
    }

    /// Whether a new key of `key_len` bytes surely fits (the table may
    /// have to double).
    pub(crate) fn fits(&self, key_len: usize) -> bool {
        if self.table.is_empty() {
            return true;
        }
        let keys = (self.keys.len() + key_len).max(self.keys.capacity());
        let slots = if self.table.len() < self.table.capacity() {
            self.table.capacity()
        } else {
            (self.table.capacity() * 2).max(16)
        };
        keys + slots * Self::entry_bytes() <= self.limit && self.keys.len() + key_len < u32::MAX as usize
    }

    /// Merges `value` under the encoded `key`.
    pub(crate) fn insert(&mut self, key: &[u8], value: &V) {
        self.records_in += 1;
        let keys = &self.keys;
        let short = key.len() <= INLINE_KEY;
        let mut word = [0u8; 16];
        let hash = if short {
            word[..key.len()].copy_from_slice(key);
            word[INLINE_KEY] = key.len() as u8;
            xxhash_rust::xxh3::xxh3_64(&word)
        } else {
            word[INLINE_KEY] = LONG;
            xxhash_rust::xxh3::xxh3_64(key)
        };
        // A short key compares as one 16-byte word: no call to memcmp on
        // the hot path.
        let probe = u128::from_ne_bytes(word);
        if let Some(e) = self.table.find_mut(hash, |e| {
            if short {
                u128::from_ne_bytes(e.word) == probe
            } else {
                e.word[INLINE_KEY] == LONG && long_key(&e.word, keys) == key
            }
        }) {
            (self.merge)(&mut e.value, (self.clone)(value));
            return;
        }
        if !short {
            let needed = self.keys.len() + key.len();
            if needed > self.keys.capacity() {
                let room = self.limit.saturating_sub(self.table.capacity() * Self::entry_bytes());
                let cap = (self.keys.capacity() * 2).max(4096).min(room).max(needed);
                self.keys.reserve_exact(cap - self.keys.len());
            }
            // `fits` keeps the arena under u32::MAX bytes.
            word[..4].copy_from_slice(&(self.keys.len() as u32).to_ne_bytes());
            word[4..8].copy_from_slice(&(key.len() as u32).to_ne_bytes());
            self.keys.extend_from_slice(key);
        }
        if self.table.len() == self.table.capacity() {
            let want = (self.table.capacity() * 2).max(16) - self.table.len();
            let keys = &self.keys;
            self.table.reserve(want, |e| e.hash(keys));
        }
        let entry = Entry {
            word,
            value: (self.clone)(value),
        };
        let keys = &self.keys;
        self.table.insert_unique(hash, entry, |e| e.hash(keys));
    }

    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    /// Hands every `(key, value)` to `f` (in no particular order: the
    /// collector sorts) and empties the table, keeping its allocations.
    pub(crate) fn drain<E>(&mut self, mut f: impl FnMut(&[u8], V) -> Result<(), E>) -> Result<(), E> {
        let keys = &self.keys;
        let mut result = Ok(());
        self.records_out += self.table.len() as u64;
        for e in self.table.drain() {
            if result.is_ok() {
                let Entry { word, value } = e;
                result = f(key_of(&word, keys), value);
            }
        }
        self.keys.clear();
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_by_key_and_stays_within_its_limit() {
        let limit = 64 << 10;
        let mut t: TypedAgg<u64> = TypedAgg::new(limit, Arc::new(|a, b| *a += b), |v| *v);
        let mut n = 0u64;
        while t.fits(8) {
            t.insert(&(n % 1000).to_be_bytes(), &1);
            t.insert(&n.to_be_bytes(), &2);
            n += 1;
            let memory = t.keys.capacity() + t.table.capacity() * TypedAgg::<u64>::entry_bytes();
            assert!(memory <= limit, "{memory}");
        }
        let mut total = 0;
        let mut distinct = 0;
        t.drain(|_, v| -> Result<(), ()> {
            total += v;
            distinct += 1;
            Ok(())
        })
        .unwrap();
        assert_eq!(total, 3 * n);
        assert!(distinct <= n as usize);
        assert!(t.is_empty());
    }

    #[test]
    fn short_and_long_keys_merge_like_a_btreemap() {
        let mut t: TypedAgg<u64> = TypedAgg::new(usize::MAX, Arc::new(|a, b| *a += b), |v| *v);
        let mut oracle = std::collections::BTreeMap::<Vec<u8>, u64>::new();
        // Lengths around the inline limit, keys that differ only in their
        // last byte or only in length (a zero byte where the padding is).
        for i in 0..20_000u64 {
            let len = (i % 40) as usize;
            let mut key = vec![b'k'; len];
            if len > 0 {
                key[len - 1] = (i % 3) as u8;
            }
            *oracle.entry(key.clone()).or_default() += i;
            t.insert(&key, &i);
        }
        let mut got = std::collections::BTreeMap::new();
        t.drain(|k, v| -> Result<(), ()> {
            assert!(got.insert(k.to_vec(), v).is_none(), "key drained twice");
            Ok(())
        })
        .unwrap();
        assert_eq!(got, oracle);
        assert_eq!(t.records_in, 20_000);
        assert_eq!(t.records_out, oracle.len() as u64);
    }
}
