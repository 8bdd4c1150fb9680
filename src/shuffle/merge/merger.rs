//! The k-way [`Merger`]: a loser tree over cursors, which settles most
//! comparisons on cached 16-byte key prefixes.

use std::cmp::Ordering;

use super::{Cursor, repeat_error};
use crate::error::{Error, Result};

/// How many leading key bytes the merger caches per cursor.
pub(super) const PREFIX: usize = 16;

/// The first 16 key bytes, big-endian, zero-padded: most comparisons end
/// here, even for keys that share a long common start (a name, a date).
#[inline]
pub(super) fn prefix_of(key: &[u8]) -> u128 {
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
        if ha.live && hb.live && ha.prefix != hb.prefix {
            // The usual case, answered as a value, not a branch: on keys in
            // no particular order across runs it is a coin toss, and
            // `replay` selects with it.
            return ha.prefix < hb.prefix;
        }
        self.before_slow(a, b)
    }

    /// [`Merger::before`] when a cursor is exhausted or the prefixes tie.
    #[inline]
    fn before_slow(&self, a: usize, b: usize) -> bool {
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
            // A branch here would mispredict on half the records (which run
            // holds the next key is random), once per level: a conditional
            // move instead, which LLVM would otherwise turn back into a
            // branch inside a loop.
            let other_wins = self.before(other, cur);
            self.tree[node] = std::hint::select_unpredictable(other_wins, cur, other);
            cur = std::hint::select_unpredictable(other_wins, other, cur);
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
