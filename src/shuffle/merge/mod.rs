//! Merging sorted streams and walking them key group by key group.
//!
//! This module owns the [`Cursor`] abstraction (a sorted stream of encoded
//! records), the k-way [`Merger`] (a loser tree), the [`Groups`] walk that
//! feeds reducers and combiners one key at a time without ever collecting a
//! key's values. Which segments a multi-pass merge merges when is the
//! business of the `plan` module.
//!
//! Order is plain byte order (keys are order-preserving encodings), and every merge here
//! is stable: ties go to the lower cursor index, so when cursors are given in
//! map-task order, each key's values keep input order through any number of
//! merges.

use std::cmp::Ordering;

use super::ValueSource;
use crate::error::{Error, Result};

/// A sorted stream of records with a current record.
pub trait Cursor {
    /// Moves to the next record; false at the end.
    fn advance(&mut self) -> Result<bool>;
    /// The current record's key; valid after [`advance`](Cursor::advance) returned true.
    fn key(&self) -> &[u8];
    /// The current record's value; valid after [`advance`](Cursor::advance) returned true.
    fn value(&self) -> &[u8];
}

impl<C: Cursor + ?Sized> Cursor for &mut C {
    fn advance(&mut self) -> Result<bool> {
        (**self).advance()
    }
    fn key(&self) -> &[u8] {
        (**self).key()
    }
    fn value(&self) -> &[u8] {
        (**self).value()
    }
}

impl<C: Cursor + ?Sized> Cursor for Box<C> {
    fn advance(&mut self) -> Result<bool> {
        (**self).advance()
    }
    fn key(&self) -> &[u8] {
        (**self).key()
    }
    fn value(&self) -> &[u8] {
        (**self).value()
    }
}

/// A copy of an error that was already returned once, for a caller that
/// reads on after it: a stream that failed must not look merely finished.
pub fn repeat_error(e: &Error) -> Error {
    match e {
        Error::Io { path, source } => Error::io(path.clone(), std::io::Error::new(source.kind(), source.to_string())),
        Error::Corrupt { path, message } => Error::Corrupt {
            path: path.clone(),
            message: message.clone(),
        },
        Error::Codec(m) => Error::Codec(m.clone()),
        Error::TooLarge { what, bytes, limit } => Error::TooLarge {
            what,
            bytes: *bytes,
            limit: *limit,
        },
        Error::Contract(m) => Error::Contract(m.clone()),
        Error::Internal(m) => Error::Internal(m.clone()),
        other => Error::Internal(other.to_string()),
    }
}

/// How many leading key bytes the merger caches per cursor.
const PREFIX: usize = 16;

/// The first 16 key bytes, big-endian, zero-padded: most comparisons end
/// here, even for keys that share a long common start (a name, a date).
#[inline]
fn prefix_of(key: &[u8]) -> u128 {
    if let Some(head) = key.first_chunk::<PREFIX>() {
        return u128::from_be_bytes(*head);
    }
    // Fixed-size loads only: a variable-length copy would be a memcpy call.
    let n = key.len();
    if n >= 8 {
        let hi = u64::from_be_bytes(*key.first_chunk::<8>().unwrap_or(&[0; 8]));
        // The last 8 bytes, shifted so that byte 8 lands at the top.
        let tail = u64::from_be_bytes(*key.last_chunk::<8>().unwrap_or(&[0; 8]));
        let lo = tail.checked_shl(8 * (16 - n) as u32).unwrap_or(0);
        return (u128::from(hi) << 64) | u128::from(lo);
    }
    let mut p = 0u128;
    for (i, &b) in key.iter().enumerate() {
        p |= u128::from(b) << (8 * (15 - i));
    }
    p
}

/// Key equality, cheap for sorted neighbours: they usually differ near the
/// end, so the last 8 bytes are compared first.
#[inline]
fn same_key(a: &[u8], b: &[u8]) -> bool {
    match (a.last_chunk::<8>(), b.last_chunk::<8>()) {
        _ if a.len() != b.len() => false,
        (Some(x), Some(y)) if x != y => false,
        _ => a == b,
    }
}

/// What the merger caches about a cursor's current record.
#[derive(Debug, Clone, Copy, Default)]
struct Head {
    prefix: u128,
    len: usize,
    live: bool,
}

impl Head {
    fn of(key: &[u8]) -> Head {
        Head {
            prefix: prefix_of(key),
            len: key.len(),
            live: true,
        }
    }
}

#[derive(Debug)]
enum MergeState {
    /// Built; the winner is the first record, not yet handed out.
    Fresh,
    Running,
    Done,
    Failed(Error),
}

/// A stable k-way merge of sorted cursors (a loser tree: one leaf-to-root
/// replay of about log2(k) comparisons per record, each usually settled by
/// cached 16-byte key prefixes).
pub struct Merger<C: Cursor> {
    cursors: Vec<C>,
    heads: Vec<Head>,
    /// `tree[n]` for internal node `n` in `1..k` holds the loser of the match
    /// played there; leaf `i` is node `k + i`, the parent of node `n` is `n / 2`.
    tree: Vec<usize>,
    winner: usize,
    by_value: bool,
    state: MergeState,
}

impl<C: Cursor> Merger<C> {
    /// Merges `cursors`, ordering by key, or by (key, value) when
    /// `by_value` (secondary sort). Ties go to the lower cursor index first,
    /// which makes the merge stable. Positions every cursor on its first
    /// record, so read errors can come from here.
    pub fn new(mut cursors: Vec<C>, by_value: bool) -> Result<Self> {
        let mut heads = Vec::with_capacity(cursors.len());
        for c in &mut cursors {
            heads.push(if c.advance()? {
                Head::of(c.key())
            } else {
                Head::default()
            });
        }
        let k = cursors.len();
        let mut m = Merger {
            cursors,
            heads,
            tree: vec![0; k.max(1)],
            winner: 0,
            by_value,
            state: if k == 0 { MergeState::Done } else { MergeState::Fresh },
        };
        if k > 1 {
            // Play every match bottom-up once; after that each record costs
            // one replay along its leaf's path.
            let mut winners = vec![0usize; 2 * k];
            for (i, w) in winners[k..].iter_mut().enumerate() {
                *w = i;
            }
            for n in (1..k).rev() {
                let (a, b) = (winners[2 * n], winners[2 * n + 1]);
                let (win, lose) = if m.before(b, a) { (b, a) } else { (a, b) };
                winners[n] = win;
                m.tree[n] = lose;
            }
            m.winner = winners[1];
        }
        Ok(m)
    }

    /// Whether cursor `a`'s record goes before cursor `b`'s. A total order:
    /// exhausted cursors go last, ties go to the lower index.
    #[inline(always)]
    fn before(&self, a: usize, b: usize) -> bool {
        let (ha, hb) = (&self.heads[a], &self.heads[b]);
        if !(ha.live && hb.live) {
            return ha.live || (!hb.live && a < b);
        }
        let ord = match ha.prefix.cmp(&hb.prefix) {
            // Equal zero-padded prefixes and one key no longer than the
            // prefix: the shorter key is a prefix of the other, so length decides.
            Ordering::Equal if ha.len.min(hb.len) <= PREFIX => ha.len.cmp(&hb.len),
            Ordering::Equal => self.cursors[a].key()[PREFIX..].cmp(&self.cursors[b].key()[PREFIX..]),
            o => o,
        };
        match ord {
            Ordering::Less => true,
            Ordering::Greater => false,
            Ordering::Equal if self.by_value => match self.cursors[a].value().cmp(self.cursors[b].value()) {
                Ordering::Less => true,
                Ordering::Greater => false,
                Ordering::Equal => a < b,
            },
            Ordering::Equal => a < b,
        }
    }

    /// Re-plays the matches on `leaf`'s path to the root after its cursor moved.
    #[inline]
    fn replay(&mut self, leaf: usize) {
        let mut cur = leaf;
        let mut node = (leaf + self.cursors.len()) / 2;
        while node > 0 {
            let other = self.tree[node];
            if self.before(other, cur) {
                self.tree[node] = cur;
                cur = other;
            }
            node /= 2;
        }
        self.winner = cur;
    }

    /// Index of the cursor the current record came from.
    #[cfg(test)]
    pub fn source(&self) -> usize {
        self.winner
    }
}

impl<C: Cursor> Cursor for Merger<C> {
    fn advance(&mut self) -> Result<bool> {
        match &self.state {
            MergeState::Running => {}
            MergeState::Fresh => {
                self.state = MergeState::Running;
                if self.heads[self.winner].live {
                    return Ok(true);
                }
                self.state = MergeState::Done;
                return Ok(false);
            }
            MergeState::Done => return Ok(false),
            MergeState::Failed(e) => return Err(repeat_error(e)),
        }
        let w = self.winner;
        match self.cursors[w].advance() {
            Ok(true) => self.heads[w] = Head::of(self.cursors[w].key()),
            Ok(false) => self.heads[w].live = false,
            Err(e) => {
                self.state = MergeState::Failed(repeat_error(&e));
                return Err(e);
            }
        }
        if self.cursors.len() > 1 {
            self.replay(w);
        }
        if self.heads[self.winner].live {
            Ok(true)
        } else {
            self.state = MergeState::Done;
            Ok(false)
        }
    }

    fn key(&self) -> &[u8] {
        match self.cursors.get(self.winner) {
            Some(c) => c.key(),
            None => &[],
        }
    }

    fn value(&self) -> &[u8] {
        match self.cursors.get(self.winner) {
            Some(c) => c.value(),
            None => &[],
        }
    }
}

/// Walks a sorted cursor key group by key group, for reducers and
/// combiners. A group's values stream straight from the cursor: nothing is
/// collected, so a key with millions of values takes no more memory than
/// one with one.
pub struct Groups<C: Cursor> {
    cursor: C,
    /// The current group's key, owned: the cursor moves on past it.
    key: Vec<u8>,
    /// The cursor has been advanced at least once.
    started: bool,
    /// The cursor is on a record (not at its end).
    on_record: bool,
    /// The current record's value was handed out; the cursor moves on
    /// lazily, at the next call, so that value stays valid until then.
    consumed: bool,
    in_group: bool,
    records_read: u64,
    failed: Option<Error>,
}

impl<C: Cursor> Groups<C> {
    pub fn new(cursor: C) -> Self {
        Groups {
            cursor,
            key: Vec::new(),
            started: false,
            on_record: false,
            consumed: false,
            in_group: false,
            records_read: 0,
            failed: None,
        }
    }

    /// Moves the cursor on, remembering a failure so that it is never
    /// mistaken for the end of the data.
    fn step(&mut self) -> Result<()> {
        self.consumed = false;
        match self.cursor.advance() {
            Ok(more) => {
                self.on_record = more;
                Ok(())
            }
            Err(e) => {
                self.on_record = false;
                self.failed = Some(repeat_error(&e));
                Err(e)
            }
        }
    }

    /// Starts the next group, skipping whatever values of the previous group
    /// the caller did not consume. Returns false at the end.
    pub fn next_group(&mut self) -> Result<bool> {
        if let Some(e) = &self.failed {
            return Err(repeat_error(e));
        }
        if !self.started {
            self.started = true;
            self.step()?;
        } else if self.in_group {
            loop {
                if self.consumed {
                    self.step()?;
                }
                if !self.on_record || !same_key(self.cursor.key(), &self.key) {
                    break;
                }
                self.records_read += 1;
                self.consumed = true;
            }
        } else if self.consumed {
            self.step()?;
        }
        self.in_group = self.on_record;
        if self.in_group {
            self.key.clear();
            self.key.extend_from_slice(self.cursor.key());
        }
        Ok(self.in_group)
    }

    /// The current group's key.
    pub fn key(&self) -> &[u8] {
        &self.key
    }

    /// The values of the current group, streamed.
    pub fn values(&mut self) -> GroupValues<'_, C> {
        GroupValues { groups: self }
    }

    /// Records read from the cursor so far: the values handed out plus
    /// those skipped because the caller moved to the next group without
    /// consuming them (those are counted when `next_group` skips them).
    pub fn records_read(&self) -> u64 {
        self.records_read
    }
}

/// One group's values, as a [`ValueSource`]: each value stays valid until
/// the next call. Ends when the key changes or the cursor ends; a read error
/// comes out once, as `Some(Err(_))`, then the values end and
/// [`Groups::next_group`] fails.
pub struct GroupValues<'a, C: Cursor> {
    groups: &'a mut Groups<C>,
}

impl<C: Cursor> ValueSource for GroupValues<'_, C> {
    fn next_value(&mut self) -> Option<Result<&[u8]>> {
        let g = &mut *self.groups;
        if !g.in_group || g.failed.is_some() {
            return None;
        }
        if g.consumed
            && let Err(e) = g.step()
        {
            return Some(Err(e));
        }
        if !g.on_record || !same_key(g.cursor.key(), &g.key) {
            // Ends the group for good: a later call must not hand out the
            // next group's first value.
            g.in_group = false;
            return None;
        }
        g.consumed = true;
        g.records_read += 1;
        Some(Ok(g.cursor.value()))
    }
}

/// Records from memory, for tests.
#[cfg(test)]
pub struct VecCursor {
    records: Vec<(Vec<u8>, Vec<u8>)>,
    /// One past the current record; 0 before the first `advance`.
    next: usize,
}

#[cfg(test)]
impl VecCursor {
    pub fn new(records: Vec<(Vec<u8>, Vec<u8>)>) -> Self {
        VecCursor { records, next: 0 }
    }
}

#[cfg(test)]
impl Cursor for VecCursor {
    fn advance(&mut self) -> Result<bool> {
        if self.next < self.records.len() {
            self.next += 1;
            Ok(true)
        } else {
            self.next = self.records.len() + 1;
            Ok(false)
        }
    }
    fn key(&self) -> &[u8] {
        self.records.get(self.next.wrapping_sub(1)).map_or(&[], |r| &r.0)
    }
    fn value(&self) -> &[u8] {
        self.records.get(self.next.wrapping_sub(1)).map_or(&[], |r| &r.1)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

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
}
