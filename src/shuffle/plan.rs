//! The pass plan of multi-pass merges: which segments each intermediate
//! round merges, so that at most `fan_in` are ever open at once and every
//! record is rewritten as few times as possible.
//!
//! A plan is a list of rounds; a round is a list of disjoint, increasing
//! ranges of the current segment list, each merged into one segment that
//! takes the range's place. Segments outside every range pass through.
//! Merging only contiguous ranges and keeping the results in place is what
//! keeps merges stable (each key's values in input order).
//!
//! The plan is a balanced `fan_in`-ary tree: with `F^k < n <= F^(k+1)`, the
//! first round merges just enough leading segments to leave exactly `F^k`,
//! and every later round merges all segments `F` at a time, down to `F` for
//! the final merge. So each record is merged at most `ceil(log_F n)` times,
//! the final merge included, and only the first round has a partial merge
//! (Hadoop's `Merger.getPassFactor`, applied level by level). An earlier
//! plan put each pass's output first in the next pass, which merged the
//! first records again in every pass: O(n²/F) record copies.

use std::ops::Range;

use crate::error::Result;

/// The rounds of intermediate merges that bring `segments` down to at most
/// `fan_in` (the final merge, not part of the plan, takes what is left).
/// `fan_in` below 2 is taken as 2 (a merge must make progress).
pub fn merge_plan(segments: usize, fan_in: usize) -> Vec<Vec<Range<usize>>> {
    let f = fan_in.max(2);
    let mut rounds = Vec::new();
    let mut n = segments;
    while n > f {
        // The largest power of f below n: what this round must leave.
        let mut target = 1;
        while target * f < n {
            target *= f;
        }
        let mut excess = n - target;
        let mut round = Vec::new();
        let mut start = 0;
        while excess > 0 {
            // A merge of t segments removes t - 1 of them.
            let take = (excess + 1).min(f);
            round.push(start..start + take);
            excess -= take - 1;
            start += take;
        }
        n = target;
        rounds.push(round);
    }
    rounds
}

/// Runs the plan for `segments` with `merge(group, pass)`, which merges a
/// group (in order) into one segment; `pass` numbers the merges from 0.
/// Returns the segments left for the final merge, in order.
pub fn merge_down<S>(
    mut segments: Vec<S>,
    fan_in: usize,
    mut merge: impl FnMut(Vec<S>, usize) -> Result<S>,
) -> Result<Vec<S>> {
    let mut pass = 0;
    for round in merge_plan(segments.len(), fan_in) {
        let mut next = Vec::with_capacity(segments.len());
        let mut rest = segments.into_iter();
        let mut at = 0;
        for range in round {
            next.extend(rest.by_ref().take(range.start - at));
            let group: Vec<S> = rest.by_ref().take(range.len()).collect();
            next.push(merge(group, pass)?);
            pass += 1;
            at = range.end;
        }
        next.extend(rest);
        segments = next;
    }
    Ok(segments)
}

/// `ceil(log_f n)`: how many merges a record goes through at most, the
/// final merge included (0 for a single segment).
pub fn merge_depth(segments: usize, fan_in: usize) -> u32 {
    let f = fan_in.max(2);
    let (mut depth, mut reach) = (0, 1usize);
    while reach < segments {
        reach = reach.saturating_mul(f);
        depth += 1;
    }
    depth
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Merges each segment's list of leaves; returns, per leaf, how many
    /// merges it went through, and the final merge's width.
    fn simulate(n: usize, f: usize) -> (Vec<u32>, usize, usize) {
        let leaves: Vec<Vec<usize>> = (0..n).map(|i| vec![i]).collect();
        let mut depth = vec![0u32; n];
        let mut merges = 0;
        let left = merge_down(leaves, f, |group, pass| {
            assert_eq!(pass, merges);
            merges += 1;
            assert!(
                (2..=f.max(2)).contains(&group.len()),
                "n={n} f={f}: group of {}",
                group.len()
            );
            let merged: Vec<usize> = group.concat();
            for &leaf in &merged {
                depth[leaf] += 1;
            }
            Ok(merged)
        })
        .unwrap();
        // Order is kept: the leaves come out in input order.
        assert_eq!(left.concat(), (0..n).collect::<Vec<_>>(), "n={n} f={f}");
        if n > 1 {
            for d in &mut depth {
                *d += 1; // the final merge
            }
        }
        (depth, left.len(), merges)
    }

    #[test]
    fn issue8_merge_plan_merges_each_record_at_most_log_f_n_times() {
        for f in 2..=12usize {
            for n in 0..=300usize {
                let (depth, left, merges) = simulate(n, f);
                let bound = merge_depth(n, f);
                assert!(depth.iter().all(|&d| d <= bound), "n={n} f={f}: {depth:?} > {bound}");
                assert!(left <= f, "n={n} f={f}");
                if n > f {
                    assert_eq!(left, f, "n={n} f={f}: the final merge is full");
                    // Fewest merges: each removes at most f - 1 segments.
                    assert_eq!(merges, (n - f).div_ceil(f - 1), "n={n} f={f}");
                } else {
                    assert_eq!(merges, 0);
                }
            }
        }
        // The old plan re-merged the first pass's output in every pass: with
        // 1000 segments and fan-in 8 the first segments went through 142
        // merges; now at most 4.
        let (depth, ..) = simulate(1000, 8);
        assert_eq!(depth.iter().max(), Some(&4));
        assert!(depth.iter().map(|&d| u64::from(d)).sum::<u64>() <= 4 * 1000);
    }

    #[test]
    fn merge_plans() {
        assert!(merge_plan(0, 10).is_empty());
        assert!(merge_plan(10, 10).is_empty());
        assert_eq!(merge_plan(11, 10), vec![vec![0..2]]);
        assert_eq!(
            merge_plan(100, 10),
            vec![(0..10).map(|i| i * 10..i * 10 + 10).collect::<Vec<_>>()]
        );
        assert_eq!(merge_plan(20, 10), vec![vec![0..10, 10..12]]);
        assert_eq!(merge_plan(5, 1), vec![vec![0..2], vec![0..2, 2..4]]);
        assert_eq!(merge_depth(1, 8), 0);
        assert_eq!(merge_depth(8, 8), 1);
        assert_eq!(merge_depth(9, 8), 2);
        assert_eq!(merge_depth(64, 8), 2);
        assert_eq!(merge_depth(65, 8), 3);
    }
}
