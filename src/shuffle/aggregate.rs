//! Map-side hash aggregation: for steps whose combiner is an associative
//! merge, records with the same key are merged in a hash table as they are
//! emitted (Spark's `reduceByKey`), so only one record per distinct key
//! and spill reaches the sort.
//!
//! Small keys and values live in the table's fixed-size slots themselves;
//! longer ones in one arena the slots point into. That keeps a hit to two
//! cache lines (control bytes and slot) for the common short key. A merged
//! value that no longer fits its old place is appended and the old bytes
//! are left as garbage (counted). Memory is the arena's capacity plus the
//! table's, exactly, against the budget.

use hashbrown::HashTable;

use crate::error::{Error, Result};

/// Merges an encoded value into an encoded accumulator.
pub type MergeValues = dyn Fn(&mut Vec<u8>, &[u8]) -> Result<()> + Send + Sync;

/// Keys up to this many bytes are stored in the slot.
const INLINE_KEY: usize = 24;
/// Values up to this many bytes are stored in the slot.
const INLINE_VALUE: usize = 8;

#[derive(Clone, Copy)]
struct Slot {
    hash: u64,
    partition: u32,
    key_len: u32,
    /// Arena offset of a key longer than `INLINE_KEY`.
    key_at: u32,
    value_len: u32,
    /// Arena offset of a value longer than `INLINE_VALUE`.
    value_at: u32,
    key_inline: [u8; INLINE_KEY],
    value_inline: [u8; INLINE_VALUE],
}

impl Slot {
    fn key<'a>(&'a self, arena: &'a [u8]) -> &'a [u8] {
        let len = self.key_len as usize;
        if len <= INLINE_KEY {
            &self.key_inline[..len]
        } else {
            &arena[self.key_at as usize..][..len]
        }
    }

    fn value<'a>(&'a self, arena: &'a [u8]) -> &'a [u8] {
        let len = self.value_len as usize;
        if len <= INLINE_VALUE {
            &self.value_inline[..len]
        } else {
            &arena[self.value_at as usize..][..len]
        }
    }
}

const SLOT_BYTES: usize = std::mem::size_of::<Slot>() + 1; // + hashbrown's control byte

/// Distinct keys with their merged values.
pub struct AggTable {
    table: HashTable<Slot>,
    arena: Vec<u8>,
    limit: usize,
    scratch: Vec<u8>,
    /// The table's capacity in bytes, kept so arena growth can respect the
    /// limit while a slot is borrowed.
    table_bytes: usize,
    /// Records merged into the table since it was last drained.
    pub records_in: u64,
}

impl AggTable {
    pub fn with_limit(limit: usize) -> Self {
        AggTable {
            table: HashTable::new(),
            arena: Vec::new(),
            limit,
            scratch: Vec::new(),
            table_bytes: 0,
            records_in: 0,
        }
    }

    /// Bytes allocated: arena and table capacities.
    #[cfg(test)]
    pub fn memory(&self) -> usize {
        self.arena.capacity() + self.table.capacity() * SLOT_BYTES
    }

    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    pub fn len(&self) -> usize {
        self.table.len()
    }

    /// Whether one more record of this size surely fits (a new key, an
    /// appended value, and a table that may have to grow).
    pub fn fits(&self, key_len: usize, value_len: usize) -> bool {
        if self.table.is_empty() {
            return true;
        }
        let arena = (self.arena.len() + key_len + 2 * value_len + 64).max(self.arena.capacity());
        let slots = if self.table.len() < self.table.capacity() {
            self.table.capacity()
        } else {
            (self.table.capacity() * 2).max(16)
        };
        arena + slots * SLOT_BYTES <= self.limit && self.arena.len() + key_len + 2 * value_len < u32::MAX as usize
    }

    /// Merges `(partition, key, value)` into the table. The caller checks
    /// [`fits`](Self::fits) first.
    pub fn insert(&mut self, partition: u32, key: &[u8], value: &[u8], merge: &MergeValues) -> Result<()> {
        self.records_in += 1;
        let hash = xxhash_rust::xxh3::xxh3_64(key);
        // One probe per record: the table and the arena are disjoint
        // fields, so the slot can be updated in place after the merge.
        let arena = &self.arena;
        if let Some(slot) = self.table.find_mut(hash, |s| {
            s.hash == hash && s.key_len as usize == key.len() && s.key(arena) == key
        }) {
            let acc = &mut self.scratch;
            acc.clear();
            acc.extend_from_slice(slot.value(&self.arena));
            merge(acc, value)?;
            if acc.len() <= INLINE_VALUE {
                slot.value_inline[..acc.len()].copy_from_slice(acc);
            } else if slot.value_len as usize > INLINE_VALUE && acc.len() <= slot.value_len as usize {
                let at = slot.value_at as usize;
                self.arena[at..at + acc.len()].copy_from_slice(acc);
            } else {
                slot.value_at = append(&mut self.arena, self.limit, self.table_bytes, acc)?;
            }
            slot.value_len = acc.len() as u32;
            return Ok(());
        }
        let key_len = u32::try_from(key.len()).map_err(|_| Error::TooLarge {
            what: "key",
            bytes: key.len() as u64,
            limit: u32::MAX as u64,
        })?;
        let mut slot = Slot {
            hash,
            partition,
            key_len,
            key_at: 0,
            value_len: value.len() as u32,
            value_at: 0,
            key_inline: [0; INLINE_KEY],
            value_inline: [0; INLINE_VALUE],
        };
        if key.len() <= INLINE_KEY {
            slot.key_inline[..key.len()].copy_from_slice(key);
        } else {
            slot.key_at = append(&mut self.arena, self.limit, self.table_bytes, key)?;
        }
        if value.len() <= INLINE_VALUE {
            slot.value_inline[..value.len()].copy_from_slice(value);
        } else {
            slot.value_at = append(&mut self.arena, self.limit, self.table_bytes, value)?;
        }
        if self.table.len() == self.table.capacity() {
            let want = (self.table.capacity() * 2).max(16) - self.table.len();
            self.table
                .try_reserve(want, |s| s.hash)
                .map_err(|_| Error::OutOfMemory {
                    what: "aggregation table",
                    bytes: want.saturating_mul(SLOT_BYTES),
                })?;
            self.table_bytes = self.table.capacity() * SLOT_BYTES;
        }
        self.table.insert_unique(hash, slot, |s| s.hash);
        Ok(())
    }

    /// Calls `f` on every `(partition, key, value)`, sorted by partition
    /// then key, and empties the table (keeping its allocations).
    pub fn drain_sorted(&mut self, mut f: impl FnMut(u32, &[u8], &[u8]) -> Result<()>) -> Result<()> {
        let mut slots: Vec<Slot> = self.table.iter().copied().collect();
        let arena = &self.arena;
        slots.sort_unstable_by(|a, b| {
            a.partition
                .cmp(&b.partition)
                .then_with(|| a.key(arena).cmp(b.key(arena)))
        });
        for s in &slots {
            f(s.partition, s.key(arena), s.value(arena))?;
        }
        self.table.clear();
        self.arena.clear();
        self.records_in = 0;
        Ok(())
    }
}

/// Appends `bytes` to the arena, growing it by doubling but within what the
/// limit leaves beside the table; returns where they start.
fn append(arena: &mut Vec<u8>, limit: usize, table_bytes: usize, bytes: &[u8]) -> Result<u32> {
    let needed = arena.len() + bytes.len();
    if needed > arena.capacity() {
        let room = limit.saturating_sub(table_bytes);
        let cap = (arena.capacity() * 2).max(4096).min(room).max(needed);
        Error::try_grow(arena, cap, "aggregation table")?;
    }
    let at = arena.len() as u32;
    arena.extend_from_slice(bytes);
    Ok(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn add(acc: &mut Vec<u8>, v: &[u8]) -> Result<()> {
        let a = u64::from_le_bytes(acc[..8].try_into().unwrap());
        let b = u64::from_le_bytes(v[..8].try_into().unwrap());
        acc.clear();
        acc.extend_from_slice(&(a + b).to_le_bytes());
        Ok(())
    }

    #[test]
    fn merges_equal_keys_and_drains_sorted() {
        let mut t = AggTable::with_limit(1 << 20);
        for (p, k, v) in [(1u32, "b", 1u64), (0, "z", 2), (1, "a", 3), (1, "b", 4), (0, "z", 5)] {
            assert!(t.fits(k.len(), 8));
            t.insert(p, k.as_bytes(), &v.to_le_bytes(), &add).unwrap();
        }
        assert_eq!(t.len(), 3);
        assert_eq!(t.records_in, 5);
        let mut out = Vec::new();
        t.drain_sorted(|p, k, v| {
            out.push((p, k.to_vec(), u64::from_le_bytes(v.try_into().unwrap())));
            Ok(())
        })
        .unwrap();
        assert_eq!(
            out,
            vec![(0, b"z".to_vec(), 7), (1, b"a".to_vec(), 3), (1, b"b".to_vec(), 5)]
        );
        assert!(t.is_empty());
    }

    #[test]
    fn long_keys_and_growing_values_go_to_the_arena() {
        let concat = |acc: &mut Vec<u8>, v: &[u8]| -> Result<()> {
            acc.extend_from_slice(v);
            Ok(())
        };
        let mut t = AggTable::with_limit(1 << 20);
        let long = vec![b'k'; 40];
        for _ in 0..5 {
            t.insert(0, &long, b"abc", &concat).unwrap();
            t.insert(0, b"short", b"xy", &concat).unwrap();
        }
        let mut out = Vec::new();
        t.drain_sorted(|_, k, v| {
            out.push((k.to_vec(), v.to_vec()));
            Ok(())
        })
        .unwrap();
        assert_eq!(
            out,
            vec![(long, b"abc".repeat(5)), (b"short".to_vec(), b"xy".repeat(5))]
        );
    }

    #[test]
    fn memory_stays_within_the_limit() {
        let limit = 64 << 10;
        let mut t = AggTable::with_limit(limit);
        let mut n = 0u64;
        while t.fits(8, 8) {
            t.insert(0, &n.to_be_bytes(), &1u64.to_le_bytes(), &add).unwrap();
            n += 1;
            assert!(t.memory() <= limit, "{} > {limit}", t.memory());
        }
        assert!(n > 500, "only {n} keys fit in 64 KiB");
    }
}
