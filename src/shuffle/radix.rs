//! The sort buffer's normalized-key sort: an in-place MSD radix sort
//! (American flag sort) on a 12-byte key, each element's partition then
//! the first eight bytes of its record key, that hands each bucket which
//! the key bytes no longer split to a comparison sort.
//!
//! Why: a comparison sort of N entries makes about N log2 N comparisons,
//! each a few dependent loads and branches. One radix pass reads each
//! entry once to count and moves each once, and on most keys two or three
//! passes leave buckets small enough for the comparison sort to finish in
//! cache. In place, because the sort buffer's memory budget counts every
//! byte and a second entry array would break it.
//!
//! The radix passes only group; the final order within a bucket is the
//! caller's comparator's, so ties on the 12 bytes (longer keys with a
//! shared prefix, secondary sort, arrival order) keep whatever order it
//! defines: a stable comparator gives a stable sort.

use std::cmp::Ordering;

/// Below this many elements a bucket goes to the comparison sort: a radix
/// pass's fixed cost (256 counters, twice) outweighs what it saves.
const SMALL: usize = 128;

/// Key bytes: four of the partition, eight of the record key's prefix.
const KEY_BYTES: usize = 12;

/// Sorts `v` by `(partition, prefix)` bytes, most significant first, then
/// each bucket of equal such bytes by `cmp`, which must agree with that
/// order (compare partition, then prefix, before anything else).
pub(crate) fn sort<T>(v: &mut [T], key: impl Fn(&T) -> (u32, u64) + Copy, cmp: impl Fn(&T, &T) -> Ordering + Copy) {
    let Some(first) = v.first() else {
        return;
    };
    // The leading bytes every element shares (one partition's three high
    // bytes at least, often a key codec's fixed first bytes) found in one
    // pass, instead of one counting pass per shared byte.
    let k0 = key(first);
    let (mut dp, mut dk) = (0u32, 0u64);
    for e in v.iter() {
        let k = key(e);
        dp |= k.0 ^ k0.0;
        dk |= k.1 ^ k0.1;
    }
    let digit = if dp != 0 {
        dp.leading_zeros() as usize / 8
    } else if dk != 0 {
        4 + dk.leading_zeros() as usize / 8
    } else {
        KEY_BYTES
    };
    sort_from(v, digit, key, cmp);
}

/// The key's byte `digit` (0 = the partition's most significant).
#[inline]
fn byte_of(k: (u32, u64), digit: usize) -> usize {
    if digit < 4 {
        (k.0 >> (24 - 8 * digit)) as usize & 0xFF
    } else {
        (k.1 >> (56 - 8 * (digit - 4))) as usize & 0xFF
    }
}

fn sort_from<T>(
    v: &mut [T],
    mut digit: usize,
    key: impl Fn(&T) -> (u32, u64) + Copy,
    cmp: impl Fn(&T, &T) -> Ordering + Copy,
) {
    loop {
        if v.len() < SMALL || digit == KEY_BYTES {
            v.sort_unstable_by(cmp);
            return;
        }
        let mut counts = [0usize; 256];
        for e in v.iter() {
            counts[byte_of(key(e), digit)] += 1;
        }
        // One bucket holds everything (a single partition, a shared
        // first byte): no move, try the next byte.
        if counts.contains(&v.len()) {
            digit += 1;
            continue;
        }
        let mut starts = [0usize; 256];
        let mut ends = [0usize; 256];
        let mut at = 0;
        for b in 0..256 {
            starts[b] = at;
            at += counts[b];
            ends[b] = at;
        }
        // American flag sort: take the next misplaced element of each
        // bucket and swap it to the next free slot of the bucket it
        // belongs to, until every slot holds one of its own.
        let mut next = starts;
        for b in 0..256 {
            while next[b] < ends[b] {
                let mut target = byte_of(key(&v[next[b]]), digit);
                while target != b {
                    v.swap(next[b], next[target]);
                    next[target] += 1;
                    target = byte_of(key(&v[next[b]]), digit);
                }
                next[b] += 1;
            }
        }
        for b in 0..256 {
            if counts[b] > 1 {
                sort_from(&mut v[starts[b]..ends[b]], digit + 1, key, cmp);
            }
        }
        return;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_as_the_comparator_does_on_any_key_shape() {
        // (partition, prefix, tie-break) triples: few partitions, prefixes
        // that share leading bytes or are all equal, many ties.
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut rand = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let shapes: [fn(u64) -> u64; 4] = [|r| r, |r| r & 0xFF, |r| (r & 0xF) << 40, |_| 7];
        for n in [0, 1, 5, 127, 128, 129, 1000, 20_000] {
            for shape in shapes {
                for partitions in [1u64, 3, 300] {
                    let mut v: Vec<(u32, u64, u64)> = (0..n)
                        .map(|i| ((rand() % partitions) as u32, shape(rand()), i))
                        .collect();
                    let cmp = |a: &(u32, u64, u64), b: &(u32, u64, u64)| a.cmp(b);
                    let mut want = v.clone();
                    want.sort();
                    sort(&mut v, |e| (e.0, e.1), cmp);
                    assert_eq!(v, want, "{n} elements, {partitions} partitions");
                }
            }
        }
    }
}
