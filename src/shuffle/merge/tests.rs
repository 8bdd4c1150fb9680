//! The merge is a stable sort, groups are the sorted groups whatever the
//! caller consumes, errors stick, and a hot key streams.

use proptest::prelude::*;

use super::groups::same_key;
use super::merger::{PREFIX, prefix_of};
use super::*;
use crate::error::{Error, Result};
use crate::shuffle::ValueSource;

type Recs = Vec<(Vec<u8>, Vec<u8>)>;

fn drain(c: &mut impl Cursor) -> Recs {
    let mut out = Vec::new();
    while c.advance().unwrap() {
        out.push((c.key().to_vec(), c.value().to_vec()));
    }
    out
}

/// Keys from a small alphabet, short or around the 16-byte prefix
/// boundary, so that ties and shared prefixes are common.
fn key() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(0u8..3, 0..4),
        prop::collection::vec(prop_oneof![Just(0u8), Just(1u8)], 6..10),
        prop::collection::vec(prop_oneof![Just(0u8), Just(1u8)], 14..19),
    ]
}

fn inputs() -> impl Strategy<Value = Vec<Recs>> {
    prop::collection::vec(
        prop::collection::vec((key(), prop::collection::vec(0u8..3, 0..3)), 0..40),
        0..9,
    )
}

/// Sorts each input, tags values with (input, position) if `tag`, and
/// returns the inputs and the expected merge: a stable sort of their
/// concatenation in input order.
fn prepare(mut inputs: Vec<Recs>, by_value: bool) -> (Vec<Recs>, Recs) {
    let order = |a: &(Vec<u8>, Vec<u8>), b: &(Vec<u8>, Vec<u8>)| {
        if by_value { a.cmp(b) } else { a.0.cmp(&b.0) }
    };
    for (i, input) in inputs.iter_mut().enumerate() {
        input.sort_by(order);
        if !by_value {
            for (j, r) in input.iter_mut().enumerate() {
                r.1.extend_from_slice(&[i as u8, j as u8]);
            }
        }
    }
    let mut expected = inputs.concat();
    expected.sort_by(order);
    (inputs, expected)
}

fn cursors(inputs: &[Recs]) -> Vec<VecCursor> {
    inputs.iter().map(|r| VecCursor::new(r.clone())).collect()
}

proptest! {
    #[test]
    fn merge_is_a_stable_sort(inputs in inputs(), by_value in any::<bool>()) {
        let (inputs, expected) = prepare(inputs, by_value);
        let mut m = Merger::new(cursors(&inputs), by_value).unwrap();
        prop_assert_eq!(drain(&mut m), expected.clone());
        prop_assert!(!m.advance().unwrap());

        // Merges compose: merging merges of halves gives the same.
        let mid = inputs.len() / 2;
        let halves = vec![
            Merger::new(cursors(&inputs[..mid]), by_value).unwrap(),
            Merger::new(cursors(&inputs[mid..]), by_value).unwrap(),
        ];
        prop_assert_eq!(drain(&mut Merger::new(halves, by_value).unwrap()), expected);
    }

    #[test]
    fn groups_are_the_sorted_groups(
        inputs in inputs(),
        takes in prop::collection::vec(prop_oneof![Just(0usize), Just(1), Just(2), Just(usize::MAX)], 1..20),
    ) {
        let (inputs, expected) = prepare(inputs, false);
        let mut want: Vec<(Vec<u8>, Vec<Vec<u8>>)> = Vec::new();
        for (k, v) in &expected {
            match want.last_mut() {
                Some((last, vs)) if last == k => vs.push(v.clone()),
                _ => want.push((k.clone(), vec![v.clone()])),
            }
        }
        let mut g = Groups::new(Merger::new(cursors(&inputs), false).unwrap());
        let mut n = 0;
        while g.next_group().unwrap() {
            prop_assert!(n < want.len());
            prop_assert_eq!(g.key(), want[n].0.as_slice());
            let take = takes[n % takes.len()];
            let mut got = Vec::new();
            {
                let mut values = g.values();
                while got.len() < take {
                    match values.next_value() {
                        Some(v) => got.push(v.unwrap().to_vec()),
                        None => break,
                    }
                }
            }
            let all = &want[n].1;
            prop_assert_eq!(&got[..], &all[..take.min(all.len())]);
            if take == usize::MAX {
                // The group ended: asking again changes nothing.
                prop_assert!(g.values().next_value().is_none());
            }
            n += 1;
        }
        prop_assert_eq!(n, want.len());
        prop_assert!(!g.next_group().unwrap());
        prop_assert_eq!(g.records_read(), expected.len() as u64);
    }
}

#[test]
fn prefixes_and_equality() {
    let keys: Vec<Vec<u8>> = (0..=20usize)
        .flat_map(|n| {
            [
                vec![0xab; n],
                (0..n as u8).collect(),
                (0..n as u8).map(|i| 200 - i).collect(),
            ]
        })
        .collect();
    for a in &keys {
        let mut padded = [0u8; PREFIX];
        let n = a.len().min(PREFIX);
        padded[..n].copy_from_slice(&a[..n]);
        assert_eq!(prefix_of(a), u128::from_be_bytes(padded), "{a:?}");
        for b in &keys {
            assert_eq!(same_key(a, b), a == b);
            if a < b {
                assert!(prefix_of(a) <= prefix_of(b));
            }
        }
    }
}

#[test]
fn zero_and_one_cursors() {
    let mut m = Merger::<VecCursor>::new(Vec::new(), false).unwrap();
    assert!(!m.advance().unwrap());
    assert!(!m.advance().unwrap());
    assert_eq!(m.key(), b"");
    let recs = vec![(b"a".to_vec(), b"1".to_vec()), (b"b".to_vec(), b"2".to_vec())];
    let mut m = Merger::new(vec![VecCursor::new(recs.clone())], true).unwrap();
    assert_eq!(drain(&mut m), recs);
    let mut m = Merger::new(vec![VecCursor::new(Vec::new()), VecCursor::new(Vec::new())], false).unwrap();
    assert!(!m.advance().unwrap());
    let mut g = Groups::new(VecCursor::new(Vec::new()));
    assert!(!g.next_group().unwrap());
    assert!(g.values().next_value().is_none());
    assert!(!g.next_group().unwrap());
}

#[test]
fn ties_go_to_the_lower_cursor() {
    let c = |tag: &[u8]| VecCursor::new(vec![(b"k".to_vec(), tag.to_vec()), (b"k".to_vec(), tag.to_vec())]);
    let mut m = Merger::new(vec![c(b"0"), c(b"1"), c(b"2")], false).unwrap();
    let mut sources = Vec::new();
    while m.advance().unwrap() {
        sources.push(m.source());
        assert_eq!(m.value(), &[b'0' + m.source() as u8]);
    }
    assert_eq!(sources, [0, 0, 1, 1, 2, 2]);
}

/// Fails after `ok` records.
struct Failing {
    inner: VecCursor,
    ok: usize,
}

impl Cursor for Failing {
    fn advance(&mut self) -> Result<bool> {
        if self.ok == 0 {
            return Err(Error::Corrupt {
                path: "f".into(),
                message: "boom".into(),
            });
        }
        self.ok -= 1;
        self.inner.advance()
    }
    fn key(&self) -> &[u8] {
        self.inner.key()
    }
    fn value(&self) -> &[u8] {
        self.inner.value()
    }
}

fn failing(ok: usize) -> Failing {
    let recs = (0..10u8).map(|i| (vec![i / 4], vec![i])).collect();
    Failing {
        inner: VecCursor::new(recs),
        ok,
    }
}

#[test]
fn errors_come_out_once_then_stick() {
    let mut g = Groups::new(failing(3));
    assert!(g.next_group().unwrap());
    let mut values = g.values();
    assert_eq!(values.next_value().unwrap().unwrap(), &[0]);
    assert_eq!(values.next_value().unwrap().unwrap(), &[1]);
    assert_eq!(values.next_value().unwrap().unwrap(), &[2]);
    assert!(matches!(values.next_value(), Some(Err(Error::Corrupt { .. }))));
    assert!(values.next_value().is_none());
    assert!(matches!(g.next_group(), Err(Error::Corrupt { .. })));
    assert!(g.next_group().is_err());

    // An error while skipping a group.
    let mut g = Groups::new(failing(2));
    assert!(g.next_group().unwrap());
    assert!(g.next_group().is_err());
    assert!(g.values().next_value().is_none());

    let mut m = Merger::new(vec![failing(4), failing(100)], false).unwrap();
    let e = loop {
        match m.advance() {
            Ok(true) => {}
            Ok(false) => panic!("the error was lost"),
            Err(e) => break e,
        }
    };
    assert!(matches!(e, Error::Corrupt { .. }));
    assert!(m.advance().is_err());
    assert!(Merger::new(vec![failing(100), failing(0)], false).is_err());
}

/// One key with `n` values made up on the fly: nothing is stored.
struct HotKey {
    n: u64,
    i: u64,
    value: [u8; 8],
}

impl Cursor for HotKey {
    fn advance(&mut self) -> Result<bool> {
        if self.i == self.n {
            return Ok(false);
        }
        self.value = self.i.to_be_bytes();
        self.i += 1;
        Ok(true)
    }
    fn key(&self) -> &[u8] {
        b"hot"
    }
    fn value(&self) -> &[u8] {
        &self.value
    }
}

#[test]
fn a_hot_key_streams() {
    let n = 2_000_000u64;
    let hot = |n| HotKey { n, i: 0, value: [0; 8] };
    let tail = VecCursor::new(vec![(b"hou".to_vec(), b"x".to_vec())]);
    let merged: Vec<Box<dyn Cursor>> = vec![Box::new(hot(n / 2)), Box::new(hot(n / 2)), Box::new(tail)];
    let mut g = Groups::new(Merger::new(merged, false).unwrap());
    assert!(g.next_group().unwrap());
    assert_eq!(g.key(), b"hot");
    let (mut count, mut sum, mut last) = (0u64, 0u64, None);
    let mut values = g.values();
    while let Some(v) = values.next_value() {
        let v = u64::from_be_bytes(v.unwrap().try_into().unwrap());
        // The first cursor's values all come before the second's.
        assert!(last.is_none_or(|l| v == l + 1 || v == 0));
        last = Some(v);
        count += 1;
        sum += v;
    }
    assert_eq!(count, n);
    assert_eq!(sum, 2 * (n / 2) * (n / 2 - 1) / 2);
    assert!(g.next_group().unwrap());
    assert_eq!(g.key(), b"hou");
    assert!(!g.next_group().unwrap());
    assert_eq!(g.records_read(), n + 1);
}
