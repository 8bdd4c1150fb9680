//! The sort buffer: encoded pairs in one byte arena, sorted through compact
//! fixed-size entries that point into it.
//!
//! Sorting moves 32-byte entries, not records; each entry carries the first
//! eight key bytes big-endian, so most comparisons never touch the arena,
//! and the sort is a radix sort on them (`radix`) that compares only
//! within the buckets those bytes leave.
//! The sort is stable: records with equal keys keep their arrival order,
//! which is what makes a reducer see values in input order.
//!
//! A buffer may have a byte budget: the *capacity* of its arena plus that
//! of its entry array never exceeds it (growth is done by hand, never by
//! `Vec`'s doubling past the budget), so memory is accounted exactly, not
//! estimated. One record is always accepted, however large, so progress is
//! possible with any budget.

use std::cmp::Ordering;

use super::{PairSink, ValueSource};
use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy)]
struct Entry {
    /// The first 8 key bytes, big-endian, zero-padded.
    prefix: u64,
    /// Where the key starts in the arena; the value follows it.
    offset: u64,
    partition: u32,
    key_len: u32,
    value_len: u32,
}

/// Encoded pairs with their partitions, in arrival order until sorted.
#[derive(Debug)]
pub struct SortBuffer {
    arena: Vec<u8>,
    entries: Vec<Entry>,
    /// Bytes the arena and entries may occupy, by capacity.
    limit: usize,
}

impl Default for SortBuffer {
    fn default() -> Self {
        SortBuffer::with_limit(usize::MAX)
    }
}

const ENTRY_BYTES: usize = std::mem::size_of::<Entry>();

fn prefix_of(key: &[u8]) -> u64 {
    let mut p = [0u8; 8];
    let n = key.len().min(8);
    p[..n].copy_from_slice(&key[..n]);
    u64::from_be_bytes(p)
}

impl SortBuffer {
    pub fn new() -> Self {
        SortBuffer::default()
    }

    /// An empty buffer whose memory stays within `limit` bytes.
    pub fn with_limit(limit: usize) -> Self {
        SortBuffer {
            arena: Vec::new(),
            entries: Vec::new(),
            limit,
        }
    }

    /// The byte budget it was made with.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Bytes allocated: arena and entry capacities.
    #[cfg(test)]
    pub fn memory(&self) -> usize {
        self.arena.capacity() + self.entries.capacity() * ENTRY_BYTES
    }

    /// Whether a record of this size fits in the budget (growing the
    /// buffer if need be). An empty buffer takes any record.
    pub fn fits(&self, key_len: usize, value_len: usize) -> bool {
        if self.entries.is_empty() {
            return true;
        }
        let arena = self.arena.len() + key_len + value_len;
        let arena_cap = self.arena.capacity().max(arena);
        let entries_cap = if self.entries.len() < self.entries.capacity() {
            self.entries.capacity()
        } else {
            self.entries.len() + 1
        };
        arena_cap.saturating_add(entries_cap * ENTRY_BYTES) <= self.limit
    }

    /// Grows capacities for one more record of `bytes`, doubling but never
    /// past the limit (except for the first record). A failed allocation
    /// is an error, not an abort: the limits may leave less than the budget.
    fn reserve(&mut self, bytes: usize) -> Result<()> {
        let room = |other: usize| self.limit.saturating_sub(other).max(1);
        if self.entries.len() == self.entries.capacity() {
            let want = (self.entries.capacity() * 2).max(64);
            let cap = want.min(room(self.arena.capacity().max(self.arena.len() + bytes)) / ENTRY_BYTES);
            let total = cap.max(self.entries.len() + 1);
            Error::try_grow(&mut self.entries, total, "sort buffer")?;
        }
        let needed = self.arena.len() + bytes;
        if needed > self.arena.capacity() {
            let want = (self.arena.capacity() * 2).max(needed).max(4096);
            let cap = want.min(room(self.entries.capacity() * ENTRY_BYTES)).max(needed);
            Error::try_grow(&mut self.arena, cap, "sort buffer")?;
        }
        Ok(())
    }

    pub fn push(&mut self, partition: u32, key: &[u8], value: &[u8]) -> Result<()> {
        let too_big = |what: &'static str, n: usize| Error::TooLarge {
            what,
            bytes: n as u64,
            limit: u32::MAX as u64,
        };
        let key_len = u32::try_from(key.len()).map_err(|_| too_big("key", key.len()))?;
        let value_len = u32::try_from(value.len()).map_err(|_| too_big("value", value.len()))?;
        self.reserve(key.len() + value.len())?;
        self.entries.push(Entry {
            prefix: prefix_of(key),
            offset: self.arena.len() as u64,
            partition,
            key_len,
            value_len,
        });
        self.arena.extend_from_slice(key);
        self.arena.extend_from_slice(value);
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn key_of(&self, e: &Entry) -> &[u8] {
        let start = e.offset as usize;
        &self.arena[start..start + e.key_len as usize]
    }

    fn value_of(&self, e: &Entry) -> &[u8] {
        let start = e.offset as usize + e.key_len as usize;
        &self.arena[start..start + e.value_len as usize]
    }

    /// The `i`th record as `(partition, key, value)`.
    pub fn get(&self, i: usize) -> (u32, &[u8], &[u8]) {
        let e = &self.entries[i];
        (e.partition, self.key_of(e), self.value_of(e))
    }

    /// Hints the CPU to fetch the first two cache lines of record `i`
    /// (a sorted buffer is read in key order, all over the arena).
    #[inline]
    pub fn prefetch(&self, i: usize) {
        if let Some(e) = self.entries.get(i) {
            let record = self.arena.as_ptr().wrapping_add(e.offset as usize);
            super::prefetch(record);
            super::prefetch(record.wrapping_add(64));
        }
    }

    /// Sorts by (partition, key), and by value within a key when
    /// `by_value` (secondary sort). Stable.
    pub fn sort(&mut self, by_value: bool) {
        let mut entries = std::mem::take(&mut self.entries);
        // Arena offsets grow with arrival order, so the offset as the last
        // tie-break makes an unstable sort stable, and cheaper than one.
        // The radix passes group by (partition, prefix); the comparator
        // orders what they leave together.
        let cmp = |a: &Entry, b: &Entry| {
            a.partition
                .cmp(&b.partition)
                .then(a.prefix.cmp(&b.prefix))
                .then_with(|| self.key_of(a).cmp(self.key_of(b)))
                .then_with(|| {
                    if by_value {
                        self.value_of(a).cmp(self.value_of(b))
                    } else {
                        Ordering::Equal
                    }
                })
                .then(a.offset.cmp(&b.offset))
        };
        super::radix::sort(&mut entries, |e| (e.partition, e.prefix), cmp);
        self.entries = entries;
    }

    /// Empties the buffer, keeping its allocation.
    pub fn clear(&mut self) {
        self.arena.clear();
        self.entries.clear();
    }

    /// Appends every record of `other`, in its order.
    pub fn append(&mut self, other: &SortBuffer) -> Result<()> {
        for i in 0..other.len() {
            let (p, k, v) = other.get(i);
            self.push(p, k, v)?;
        }
        Ok(())
    }

    /// The groups of a sorted buffer: runs of equal (partition, key).
    pub fn groups(&self) -> Groups<'_> {
        Groups { buf: self, next: 0 }
    }
}

impl PairSink for SortBuffer {
    fn collect(&mut self, partition: u32, key: &[u8], value: &[u8]) -> Result<()> {
        self.push(partition, key, value)
    }
}

/// Iterates the groups of a sorted [`SortBuffer`].
pub struct Groups<'a> {
    buf: &'a SortBuffer,
    next: usize,
}

/// One key's records: `start..end` in the sorted buffer.
pub struct Group<'a> {
    pub partition: u32,
    pub key: &'a [u8],
    pub values: GroupValues<'a>,
}

impl<'a> Iterator for Groups<'a> {
    type Item = Group<'a>;

    fn next(&mut self) -> Option<Group<'a>> {
        let buf = self.buf;
        if self.next >= buf.entries.len() {
            return None;
        }
        let start = self.next;
        let first = &buf.entries[start];
        let key = buf.key_of(first);
        let mut end = start + 1;
        while end < buf.entries.len() {
            let e = &buf.entries[end];
            if e.partition != first.partition || e.prefix != first.prefix || buf.key_of(e) != key {
                break;
            }
            end += 1;
        }
        self.next = end;
        Some(Group {
            partition: first.partition,
            key,
            values: GroupValues { buf, next: start, end },
        })
    }
}

/// The values of one group, as a [`ValueSource`].
pub struct GroupValues<'a> {
    buf: &'a SortBuffer,
    next: usize,
    end: usize,
}

impl GroupValues<'_> {
    /// How many values are left.
    pub fn remaining(&self) -> usize {
        self.end - self.next
    }
}

impl ValueSource for GroupValues<'_> {
    fn next_value(&mut self) -> Option<Result<&[u8]>> {
        if self.next >= self.end {
            return None;
        }
        let e = &self.buf.entries[self.next];
        self.next += 1;
        Some(Ok(self.buf.value_of(e)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_stays_within_the_limit() {
        for limit in [1usize, 100, 1000, 4096, 10_000, 1 << 16] {
            let mut b = SortBuffer::with_limit(limit);
            let mut n = 0u32;
            loop {
                let key = n.to_be_bytes();
                let value = vec![7u8; (n % 13) as usize];
                if !b.fits(key.len(), value.len()) {
                    break;
                }
                b.push(0, &key, &value).unwrap();
                n += 1;
                assert!(
                    b.memory() <= limit || b.len() == 1,
                    "limit {limit}: {} bytes",
                    b.memory()
                );
            }
            assert!(!b.is_empty());
            // A full buffer uses a good share of its budget.
            if limit >= 4096 {
                assert!(b.memory() * 2 >= limit, "limit {limit}: only {} used", b.memory());
            }
        }
    }

    #[test]
    fn sorts_stably_by_partition_then_key_and_groups() {
        let mut b = SortBuffer::new();
        let recs: [(u32, &[u8], &[u8]); 6] = [
            (1, b"b", b"1"),
            (0, b"zzzzzzzzz2", b"2"),
            (1, b"a", b"3"),
            (0, b"zzzzzzzzz1", b"4"),
            (1, b"b", b"5"),
            (0, b"zzzzzzzzz1", b"0"),
        ];
        for (p, k, v) in recs {
            b.push(p, k, v).unwrap();
        }
        b.sort(false);
        let mut seen = Vec::new();
        for mut g in b.groups() {
            let mut vals = Vec::new();
            while let Some(v) = g.values.next_value() {
                vals.push(v.unwrap().to_vec());
            }
            seen.push((g.partition, g.key.to_vec(), vals));
        }
        assert_eq!(
            seen,
            vec![
                (0, b"zzzzzzzzz1".to_vec(), vec![b"4".to_vec(), b"0".to_vec()]),
                (0, b"zzzzzzzzz2".to_vec(), vec![b"2".to_vec()]),
                (1, b"a".to_vec(), vec![b"3".to_vec()]),
                (1, b"b".to_vec(), vec![b"1".to_vec(), b"5".to_vec()]),
            ]
        );
        b.sort(true);
        let (_, k, v) = b.get(0);
        assert_eq!((k, v), (&b"zzzzzzzzz1"[..], &b"0"[..]));
    }
}
