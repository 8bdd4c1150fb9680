//! Typed map-side aggregation: for a step built with `combine_with` whose
//! value type is plain data, the map task merges each emitted value into a
//! hash table of typed values keyed by the encoded key, with the user's own
//! merge function: no value encoding, partitioning or decoding per record
//! (Spark's `reduceByKey` map-side combine). The table is flushed, encoded,
//! into the collector when full and at the end of the task.
//!
//! Memory is exact because only value types without drop glue (no heap:
//! numbers, tuples and structs of them) take this path: the key arena's
//! capacity plus the table's capacity times its slot size is everything
//! it holds. Other value types aggregate on encoded bytes in the shuffle.
//!
//! The table is our own open-addressing one, not hashbrown's, for one
//! reason: on a table bigger than the cache nearly all the time goes to
//! the cache miss on a key's slot, and only a table whose slot addresses
//! are known up front can prefetch them. A short key's insert is deferred
//! by `PIPELINE` inserts, and its slot is prefetched when it arrives, so
//! the misses of consecutive keys overlap instead of queueing.

use std::collections::VecDeque;
use std::sync::Arc;

use xxhash_rust::xxh3::xxh3_64;

use crate::codec::key::{SHORT_KEY, ShortKey};
use crate::shuffle::prefetch;

/// The user's merge as the typed table uses it.
pub type TypedMerge<V> = Arc<dyn Fn(&mut V, V) + Send + Sync>;

/// Keys up to this many bytes live in the slot: a hit then touches no
/// other memory than the table (short words, numbers, small tuples).
const INLINE_KEY: usize = SHORT_KEY;
/// The last byte of a slot's word when the key lives in `keys`.
const LONG: u8 = 0xFF;
/// The last byte of an empty slot's word (never a length, never `LONG`).
const EMPTY: u8 = 0xFE;
/// How many inserts a short key waits after its slot is prefetched: about
/// one memory latency's worth of other inserts.
const PIPELINE: usize = 16;

/// The table's first allocation, in slots.
const MIN_SLOTS: usize = 16;

/// 16 bytes of key and the value: 24 bytes for a `u64` count.
#[derive(Clone, Copy)]
struct Slot<V> {
    /// A short key zero-padded, with its length in the last byte (so one
    /// 16-byte compare matches key and length); or for a longer key, its
    /// offset (u32) and length (u32) in `keys`, and `LONG` last; or
    /// `EMPTY` last.
    word: [u8; 16],
    /// Meaningless in an empty slot (a copy of some earlier value: plain
    /// data needs no initialisation or drop).
    value: V,
}

/// A short key's insert, waiting for its prefetched slot.
struct Pending<V> {
    word: [u8; 16],
    hash: u64,
    value: V,
}

const EMPTY_WORD: [u8; 16] = {
    let mut w = [0u8; 16];
    w[INLINE_KEY] = EMPTY;
    w
};

/// The key a long slot's word points to in `keys`.
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

/// The hash `insert` computes for the key of an occupied slot's word.
fn hash_of(word: &[u8; 16], keys: &[u8]) -> u64 {
    match word[INLINE_KEY] {
        LONG => xxh3_64(long_key(word, keys)),
        _ => short_hash(word),
    }
}

/// A short key's slot word: the key zero-padded, its length last. Built
/// from fixed-size (overlapping) copies, so no `memcpy` call per key.
#[inline]
fn short_word(key: &[u8]) -> [u8; 16] {
    let n = key.len();
    debug_assert!(n <= INLINE_KEY);
    let mut w = [0u8; 16];
    if n >= 8 {
        w[..8].copy_from_slice(&key[..8]);
        w[n - 8..n].copy_from_slice(&key[n - 8..]);
    } else if n >= 4 {
        w[..4].copy_from_slice(&key[..4]);
        w[n - 4..n].copy_from_slice(&key[n - 4..]);
    } else if n > 0 {
        // 0, n/2 and n-1 cover every index below 3.
        w[0] = key[0];
        w[n / 2] = key[n / 2];
        w[n - 1] = key[n - 1];
    }
    w[INLINE_KEY] = n as u8;
    w
}

/// A short key's hash: one folded 64x64-bit multiply of its two halves
/// (foldhash's mixer), a third of xxh3's instructions on 16 bytes. The
/// table takes the low bits, which the fold makes depend on every byte.
#[inline]
fn short_hash(word: &[u8; 16]) -> u64 {
    let v = u128::from_le_bytes(*word);
    let lo = (v as u64) ^ 0x243f_6a88_85a3_08d3;
    let hi = ((v >> 64) as u64) ^ 0x1319_8a2e_0370_7344;
    let p = u128::from(lo) * u128::from(hi);
    (p as u64) ^ ((p >> 64) as u64)
}

/// Slots that may be occupied before the table doubles (3/4: linear
/// probing's probe counts stay short).
fn max_load(capacity: usize) -> usize {
    capacity - capacity / 4
}

/// Distinct encoded keys with their merged values.
pub struct TypedAgg<V> {
    /// A power of two in length, or empty before the first insert.
    slots: Vec<Slot<V>>,
    occupied: usize,
    keys: Vec<u8>,
    pending: VecDeque<Pending<V>>,
    limit: usize,
    merge: TypedMerge<V>,
    clone: fn(&V) -> V,
    /// Values merged in, and pairs flushed out: the map-side combine's
    /// input and output records.
    pub(crate) records_in: u64,
    pub(crate) records_out: u64,
}

impl<V> TypedAgg<V> {
    /// An empty table that holds at most `limit` bytes (`fits` says when
    /// it is full), merging with `merge`.
    pub fn new(limit: usize, merge: TypedMerge<V>, clone: fn(&V) -> V) -> Self {
        TypedAgg {
            slots: Vec::new(),
            occupied: 0,
            keys: Vec::new(),
            pending: VecDeque::with_capacity(PIPELINE + 1),
            limit,
            merge,
            clone,
            records_in: 0,
            records_out: 0,
        }
    }

    fn slot_bytes() -> usize {
        std::mem::size_of::<Slot<V>>()
    }

    /// The waiting inserts' queue, at its largest.
    fn pending_bytes() -> usize {
        (PIPELINE + 1) * std::mem::size_of::<Pending<V>>()
    }

    /// Bytes held: what `fits` keeps within the limit.
    #[cfg(test)]
    fn memory(&self) -> usize {
        self.keys.capacity()
            + self.slots.capacity() * Self::slot_bytes()
            + self.pending.capacity() * std::mem::size_of::<Pending<V>>()
    }

    /// Whether a new key of `key_len` bytes surely fits, counting every
    /// waiting insert as a new key too (the table may have to double).
    pub fn fits(&self, key_len: usize) -> bool {
        // An empty table takes a key whatever the limit, so a flush always
        // makes progress.
        if self.occupied == 0 && self.pending.is_empty() {
            return true;
        }
        let keys = (self.keys.len() + key_len).max(self.keys.capacity());
        let upcoming = self.occupied + self.pending.len() + 1;
        // Waiting inserts may not have allocated the table yet.
        let mut slots = self.slots.len().max(MIN_SLOTS);
        while upcoming > max_load(slots) {
            slots *= 2;
        }
        keys + slots * Self::slot_bytes() + Self::pending_bytes() <= self.limit
            && self.keys.len() + key_len < u32::MAX as usize
    }

    /// Merges `value` under the encoded `key` (a short key's merge may be
    /// deferred; `drain` applies everything first).
    pub fn insert(&mut self, key: &[u8], value: &V) {
        self.records_in += 1;
        let value = (self.clone)(value);
        if key.len() > INLINE_KEY {
            return self.insert_long(key, value);
        }
        self.defer_short(short_word(key), value);
    }

    /// [`insert`](Self::insert) of a key whose encoding the emitter built
    /// without the serializer (a short string): the same slot word as
    /// `short_word` of those bytes.
    pub(crate) fn insert_short_key(&mut self, key: ShortKey, value: &V) {
        self.records_in += 1;
        let value = (self.clone)(value);
        let mut word = key.bytes;
        word[INLINE_KEY] = key.len as u8;
        self.defer_short(word, value);
    }

    /// Prefetches a short key's slot and queues the key; inserts the one
    /// queued `PIPELINE` keys ago, whose slot has had time to arrive.
    #[inline]
    fn defer_short(&mut self, word: [u8; 16], value: V) {
        let hash = short_hash(&word);
        if !self.slots.is_empty() {
            prefetch(&self.slots[hash as usize & (self.slots.len() - 1)] as *const Slot<V>);
        }
        self.pending.push_back(Pending { word, hash, value });
        if self.pending.len() > PIPELINE
            && let Some(p) = self.pending.pop_front()
        {
            self.insert_short(p);
        }
    }

    /// Makes room for one more key, doubling the table if it is at its
    /// load limit; `filler` fills new slots' values.
    #[inline]
    fn reserve_one(&mut self, filler: &V) {
        if self.slots.is_empty() || self.occupied >= max_load(self.slots.len()) {
            self.grow(filler);
        }
    }

    /// Doubles the table (or allocates its first slots), rehashing.
    #[cold]
    fn grow(&mut self, filler: &V) {
        let capacity = (self.slots.len() * 2).max(MIN_SLOTS);
        let clone = self.clone;
        let mut slots = Vec::with_capacity(capacity);
        slots.resize_with(capacity, || Slot {
            word: EMPTY_WORD,
            value: clone(filler),
        });
        let old = std::mem::replace(&mut self.slots, slots);
        let mask = capacity - 1;
        for slot in old {
            if slot.word[INLINE_KEY] == EMPTY {
                continue;
            }
            let mut i = hash_of(&slot.word, &self.keys) as usize & mask;
            while self.slots[i].word[INLINE_KEY] != EMPTY {
                i = (i + 1) & mask;
            }
            self.slots[i] = slot;
        }
    }

    fn insert_short(&mut self, p: Pending<V>) {
        self.reserve_one(&p.value);
        let mask = self.slots.len() - 1;
        let probe = u128::from_ne_bytes(p.word);
        let mut i = p.hash as usize & mask;
        loop {
            let slot = &mut self.slots[i];
            // An empty or long slot's word never equals a short key's.
            if u128::from_ne_bytes(slot.word) == probe {
                (self.merge)(&mut slot.value, p.value);
                return;
            }
            if slot.word[INLINE_KEY] == EMPTY {
                slot.word = p.word;
                slot.value = p.value;
                self.occupied += 1;
                return;
            }
            i = (i + 1) & mask;
        }
    }

    fn insert_long(&mut self, key: &[u8], value: V) {
        self.reserve_one(&value);
        let mask = self.slots.len() - 1;
        let mut i = xxh3_64(key) as usize & mask;
        loop {
            let slot = &mut self.slots[i];
            match slot.word[INLINE_KEY] {
                LONG if long_key(&slot.word, &self.keys) == key => {
                    (self.merge)(&mut slot.value, value);
                    return;
                }
                EMPTY => break,
                _ => i = (i + 1) & mask,
            }
        }
        let needed = self.keys.len() + key.len();
        if needed > self.keys.capacity() {
            // Everything `fits` counts, or the table would never fit again.
            let room = self
                .limit
                .saturating_sub(self.slots.len() * Self::slot_bytes() + Self::pending_bytes());
            let cap = (self.keys.capacity() * 2).max(4096).min(room).max(needed);
            self.keys.reserve_exact(cap - self.keys.len());
        }
        let mut word = [0u8; 16];
        // `fits` keeps the arena under u32::MAX bytes.
        word[..4].copy_from_slice(&(self.keys.len() as u32).to_ne_bytes());
        word[4..8].copy_from_slice(&(key.len() as u32).to_ne_bytes());
        word[INLINE_KEY] = LONG;
        self.keys.extend_from_slice(key);
        self.slots[i] = Slot { word, value };
        self.occupied += 1;
    }

    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.occupied == 0 && self.pending.is_empty()
    }

    /// Hands every `(key, value)` to `f` (in no particular order: the
    /// collector sorts) and empties the table, keeping its allocations.
    pub fn drain<E>(&mut self, mut f: impl FnMut(&[u8], V) -> Result<(), E>) -> Result<(), E> {
        while let Some(p) = self.pending.pop_front() {
            self.insert_short(p);
        }
        let keys = &self.keys;
        let mut result = Ok(());
        self.records_out += self.occupied as u64;
        for slot in &mut self.slots {
            if slot.word[INLINE_KEY] == EMPTY {
                continue;
            }
            if result.is_ok() {
                result = f(key_of(&slot.word, keys), (self.clone)(&slot.value));
            }
            slot.word = EMPTY_WORD;
        }
        self.occupied = 0;
        self.keys.clear();
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_word_is_the_key_padded_with_its_length_last() {
        let key: Vec<u8> = (1..=15).collect();
        for n in 0..=INLINE_KEY {
            let mut want = [0u8; 16];
            want[..n].copy_from_slice(&key[..n]);
            want[INLINE_KEY] = n as u8;
            assert_eq!(short_word(&key[..n]), want, "{n} bytes");
        }
    }

    #[test]
    fn merges_by_key_and_stays_within_its_limit() {
        let limit = 64 << 10;
        let mut t: TypedAgg<u64> = TypedAgg::new(limit, Arc::new(|a, b| *a += b), |v| *v);
        let mut n = 0u64;
        while t.fits(8) {
            t.insert(&(n % 1000).to_be_bytes(), &1);
            t.insert(&n.to_be_bytes(), &2);
            n += 1;
            let memory = t.memory();
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

    #[test]
    fn long_keys_fill_the_table_and_every_flush_makes_room() {
        for limit in [64 << 10, 200 << 10, 1 << 20] {
            for key_len in [16, 20, 33, 64, 100, 300] {
                // The emitter's loop: flush when a key does not fit, then
                // insert.
                let mut t: TypedAgg<u64> = TypedAgg::new(limit, Arc::new(|a, b| *a += b), |v| *v);
                let n = 100_000u64;
                let (mut flushes, mut total) = (0u64, 0u64);
                for i in 0..n {
                    let key = format!("{i:>key_len$}");
                    if !t.fits(key.len()) {
                        flushes += 1;
                        t.drain(|_, v| -> Result<(), ()> {
                            total += v;
                            Ok(())
                        })
                        .unwrap();
                    }
                    t.insert(key.as_bytes(), &1);
                    assert!(t.memory() <= limit, "{} > {limit}", t.memory());
                }
                t.drain(|_, v| -> Result<(), ()> {
                    total += v;
                    Ok(())
                })
                .unwrap();
                assert_eq!(total, n);
                // A flush empties a full table, not a record or two.
                let per_flush = n / flushes.max(1);
                assert!(per_flush >= 50, "limit {limit}, keys of {key_len}: {flushes} flushes");
            }
        }
    }
}
