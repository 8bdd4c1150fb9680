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
const INLINE_KEY: usize = 16;

struct Entry<V> {
    hash: u64,
    key_len: u32,
    /// Offset in `keys` of a key longer than `INLINE_KEY`.
    key_at: u32,
    key_inline: [u8; INLINE_KEY],
    value: V,
}

impl<V> Entry<V> {
    fn key<'a>(&'a self, keys: &'a [u8]) -> &'a [u8] {
        let len = self.key_len as usize;
        if len <= INLINE_KEY {
            &self.key_inline[..len]
        } else {
            &keys[self.key_at as usize..][..len]
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
        let hash = xxhash_rust::xxh3::xxh3_64(key);
        let keys = &self.keys;
        // A short key compares as one 16-byte word against the zero-padded
        // inline copy: no call to memcmp on the hot path.
        let mut padded = [0u8; INLINE_KEY];
        let short = key.len() <= INLINE_KEY;
        if short {
            padded[..key.len()].copy_from_slice(key);
        }
        let padded = u128::from_ne_bytes(padded);
        if let Some(e) = self.table.find_mut(hash, |e| {
            e.hash == hash
                && e.key_len as usize == key.len()
                && if short {
                    u128::from_ne_bytes(e.key_inline) == padded
                } else {
                    e.key(keys) == key
                }
        }) {
            (self.merge)(&mut e.value, (self.clone)(value));
            return;
        }
        let mut key_inline = [0u8; INLINE_KEY];
        let mut key_at = 0;
        if key.len() <= INLINE_KEY {
            key_inline[..key.len()].copy_from_slice(key);
        } else {
            let needed = self.keys.len() + key.len();
            if needed > self.keys.capacity() {
                let room = self.limit.saturating_sub(self.table.capacity() * Self::entry_bytes());
                let cap = (self.keys.capacity() * 2).max(4096).min(room).max(needed);
                self.keys.reserve_exact(cap - self.keys.len());
            }
            key_at = self.keys.len() as u32;
            self.keys.extend_from_slice(key);
        }
        if self.table.len() == self.table.capacity() {
            let want = (self.table.capacity() * 2).max(16) - self.table.len();
            self.table.reserve(want, |e| e.hash);
        }
        let entry = Entry {
            hash,
            key_len: key.len() as u32,
            key_at,
            key_inline,
            value: (self.clone)(value),
        };
        self.table.insert_unique(hash, entry, |e| e.hash);
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
                let Entry {
                    key_len,
                    key_at,
                    key_inline,
                    value,
                    ..
                } = e;
                let len = key_len as usize;
                let key = if len <= INLINE_KEY {
                    &key_inline[..len]
                } else {
                    &keys[key_at as usize..][..len]
                };
                result = f(key, value);
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
}
