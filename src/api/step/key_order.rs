//! The reduce side's check that group keys arrive in the order their
//! type's `Ord` gives.
//!
//! The shuffle sorts keys by their encoding, which reproduces the derived,
//! structural order (and `Reverse`) but not a hand-written `Ord`. Such a
//! key type would give output in an order the user's type does not have,
//! and groups that `Ord` calls equal would reach `reduce` apart. So every
//! reduce task compares each group's key with the one before it, once per
//! group (never per record), and fails the job on the first pair that
//! `Ord` does not put strictly in order. The error is the framework's, so
//! the task is not retried, and the output is never committed.

use std::cmp::Ordering;

use crate::api::task::Key;
use crate::codec;
use crate::error::{Error, Result};

/// The current group's key and a spare slot, decoded into in place so a
/// `String` key's buffers are reused from group to group.
pub(super) struct OrderedKeys<K> {
    current: Option<K>,
    spare: Option<K>,
}

impl<K> Default for OrderedKeys<K> {
    fn default() -> Self {
        OrderedKeys {
            current: None,
            spare: None,
        }
    }
}

impl<K: Key> OrderedKeys<K> {
    /// Decodes the next group's key and checks that `Ord` puts it after
    /// the previous group's.
    pub(super) fn next(&mut self, bytes: &[u8]) -> Result<&K> {
        match &mut self.spare {
            Some(slot) => codec::key::decode_in_place(bytes, slot)?,
            None => self.spare = Some(codec::key::decode(bytes)?),
        }
        if let (Some(earlier), Some(later)) = (&self.current, &self.spare) {
            let order = earlier.cmp(later);
            if order != Ordering::Less {
                return Err(Error::KeyOrder {
                    key_type: std::any::type_name::<K>(),
                    earlier: as_json(earlier),
                    later: as_json(later),
                    equal: order == Ordering::Equal,
                });
            }
        }
        std::mem::swap(&mut self.current, &mut self.spare);
        self.current
            .as_ref()
            .ok_or_else(|| Error::Internal("a decoded key vanished".into()))
    }
}

fn as_json<K: Key>(key: &K) -> String {
    serde_json::to_string(key).unwrap_or_else(|e| format!("(a key serde_json cannot show: {e})"))
}

#[cfg(test)]
mod tests {
    use std::cmp::Reverse;

    use serde::{Deserialize, Serialize};

    use super::*;

    /// Ordered backwards by hand: the shuffle cannot reproduce it.
    #[derive(Debug, PartialEq, Eq, Serialize, Deserialize)]
    struct Backwards(u32);

    impl PartialOrd for Backwards {
        fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
            Some(self.cmp(other))
        }
    }

    impl Ord for Backwards {
        fn cmp(&self, other: &Self) -> Ordering {
            other.0.cmp(&self.0)
        }
    }

    fn feed<K: Key>(keys: &[K]) -> Result<()> {
        let mut encoded: Vec<Vec<u8>> = keys.iter().map(|k| codec::key::encode(k).unwrap()).collect();
        encoded.sort();
        let mut order = OrderedKeys::<K>::default();
        for bytes in &encoded {
            order.next(bytes)?;
        }
        Ok(())
    }

    #[test]
    fn issue27_derived_and_reversed_keys_pass() {
        feed(&["b".to_owned(), "a".to_owned(), "c\0".to_owned()]).unwrap();
        feed(&[Reverse(3u64), Reverse(9), Reverse(0)]).unwrap();
        feed(&[(Reverse(1u8), "x".to_owned()), (Reverse(1), "a".to_owned())]).unwrap();
    }

    #[test]
    fn issue27_a_hand_written_ord_fails_naming_the_type_and_two_keys() {
        let err = feed(&[Backwards(1), Backwards(2)]).unwrap_err().to_string();
        assert!(err.contains("Backwards"), "{err}");
        assert!(err.contains("key 1 came before key 2"), "{err}");
        assert!(err.contains("sorts after"), "{err}");
    }

    /// Case-insensitive: distinct encodings that `Ord` calls one group.
    #[derive(Debug, Serialize, Deserialize)]
    struct NoCase(String);

    impl PartialEq for NoCase {
        fn eq(&self, other: &Self) -> bool {
            self.cmp(other) == Ordering::Equal
        }
    }

    impl Eq for NoCase {}

    impl PartialOrd for NoCase {
        fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
            Some(self.cmp(other))
        }
    }

    impl Ord for NoCase {
        fn cmp(&self, other: &Self) -> Ordering {
            self.0.to_lowercase().cmp(&other.0.to_lowercase())
        }
    }

    #[test]
    fn issue27_keys_ord_calls_equal_but_the_shuffle_splits_fail() {
        let err = feed(&[NoCase("A".into()), NoCase("a".into())]).unwrap_err().to_string();
        assert!(err.contains("they are equal"), "{err}");
    }
}
