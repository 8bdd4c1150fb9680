//! The key codec from outside the crate: the partition of a key is pinned
//! across releases. (The codec's own contract, order equals `Ord`, round
//! trips, prefix-freedom and the byte layouts, is property-tested next to
//! the code, in `src/codec/key/mod.rs`.)

use std::cmp::Ordering;

use mapreduce::codec::key;

#[test]
fn hash_partition_is_stable_across_runs_and_versions() {
    // Pinned: these numbers must not change by accident, or output files
    // move between part files from one release to the next. (They changed
    // once, before 1.0, when keys moved from memcomparable's 9-byte string
    // groups to the escaped, terminated layout in `codec::key`.)
    let key = key::encode("Philadelphia").unwrap();
    assert_eq!(mapreduce::codec::hash_partition(&key, 1), 0);
    let parts: Vec<u32> = (1..=8).map(|r| mapreduce::codec::hash_partition(&key, r)).collect();
    assert_eq!(parts, PINNED_PARTITIONS);
    assert_eq!(
        Ordering::Less,
        key::encode(&1u8).unwrap().cmp(&key::encode(&2u8).unwrap())
    );
}

/// `hash_partition(enc("Philadelphia"), r)` for r = 1..=8.
const PINNED_PARTITIONS: [u32; 8] = [0, 1, 2, 3, 2, 5, 6, 3];
