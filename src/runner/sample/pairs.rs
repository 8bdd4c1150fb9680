//! Total order on a later step: sampling the previous step's output
//! pairs (encoded key and value bytes, as the step's mappers read them).
//!
//! The sample is the [`SAMPLE_KEYS`](super::SAMPLE_KEYS) pairs of least
//! priority, a pair's priority being a fixed-seed xxh3 of its key and
//! value bytes (ties broken by the bytes): reservoir sampling with random
//! priorities, except that each pair's priority is drawn from the pair
//! itself. So the sample depends only on which pairs the previous step
//! wrote, not on their order or on how a runner cut them into files,
//! partitions or tasks: every runner, reading the same pairs its own way,
//! cuts the same boundaries, and a sample of samples (Spark's partitions,
//! each sampled apart) is the sample of the whole. Equal pairs share a
//! priority, so a pair written many times is sampled all or not at all:
//! that costs balance, never correctness (see the parent module).
//!
//! The step's mapper then runs on the sampled pairs in priority order and
//! the keys it emits are cut as a first step's are.

use std::collections::BinaryHeap;
use std::io::Read;
use std::path::Path;

use xxhash_rust::xxh3::xxh3_64_with_seed;

use super::{SAMPLE_KEYS, cut, scratch};
use crate::api::context::TaskContext;
use crate::api::job::JobPlan;
use crate::codec::streaming::parse_pair_line;
use crate::error::{Error, Result};
use crate::io::lines::LineReader;
use crate::runner::RunConfig;
use crate::shuffle::buffer::SortBuffer;

/// The priorities' seed: any constant, the same in every runner.
const SEED: u64 = 0x6d72_2d72_756e_5f73;

/// One sampled pair; the heap keeps the greatest on top, to be replaced
/// by any pair below it.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct Sampled {
    priority: u64,
    key: Vec<u8>,
    value: Vec<u8>,
}

/// A growing sample of a step's output pairs.
pub(crate) struct PairSample {
    heap: BinaryHeap<Sampled>,
    cap: usize,
}

impl PairSample {
    pub(crate) fn new() -> Self {
        Self::with_capacity(SAMPLE_KEYS)
    }

    fn with_capacity(cap: usize) -> Self {
        PairSample {
            heap: BinaryHeap::new(),
            cap: cap.max(1),
        }
    }

    /// Offers one pair to the sample.
    pub(crate) fn push(&mut self, key: &[u8], value: &[u8]) {
        let priority = xxh3_64_with_seed(value, xxh3_64_with_seed(key, SEED));
        if self.heap.len() < self.cap {
            self.heap.push(Sampled {
                priority,
                key: key.to_vec(),
                value: value.to_vec(),
            });
            return;
        }
        // Compared before copying: most pairs of a large output fall out.
        let below = self
            .heap
            .peek()
            .is_some_and(|top| (priority, key, value) < (top.priority, top.key.as_slice(), top.value.as_slice()));
        if below {
            self.heap.pop();
            self.heap.push(Sampled {
                priority,
                key: key.to_vec(),
                value: value.to_vec(),
            });
        }
    }

    /// Offers every pair of `input`'s pair lines (`HEXKEY\tHEXVALUE`, the
    /// Streaming layout of a step's output); `name` is what errors name.
    pub(crate) fn push_lines(&mut self, input: impl Read, name: &Path) -> Result<()> {
        let mut lines = LineReader::new(input, name);
        let (mut key, mut value) = (Vec::new(), Vec::new());
        while let Some(line) = lines.next_line()? {
            parse_pair_line(line.bytes, &mut key, &mut value).map_err(|e| Error::Corrupt {
                path: name.to_path_buf(),
                message: format!("line {}: not a pair line of a step's output: {e}", line.number),
            })?;
            self.push(&key, &value);
        }
        Ok(())
    }

    /// The boundaries of step `index` (0-based) of `plan`: its mapper run
    /// on the sample, the keys it emits cut into `reducers` ranges.
    pub(crate) fn bounds(
        self,
        plan: &JobPlan,
        index: usize,
        config: &RunConfig,
        reducers: u32,
    ) -> Result<Vec<Vec<u8>>> {
        let step = plan.steps.get(index).ok_or_else(|| {
            Error::Internal(format!(
                "sampling step {} of a {}-step job",
                index + 1,
                plan.steps.len()
            ))
        })?;
        let mut pairs = self.heap.into_vec();
        // Priority order, so that a mapper with state sees the same
        // sequence on every runner.
        pairs.sort_unstable();
        let mut ctx = TaskContext::new(index, 0);
        ctx.env = crate::runner::job_env(plan, config)?;
        let mut mapper = (step.new_mapper)(None);
        let mut out = SortBuffer::new();
        let failed = |e| {
            Error::Config(format!(
                "sampling step {}'s input for total order: its mapper failed in setup: {e}",
                index + 1
            ))
        };
        mapper.select_input(None).map_err(failed)?;
        mapper.setup(scratch(&mut out), &mut ctx).map_err(failed)?;
        ctx.error = None;
        let mut keys = SortBuffer::new();
        for p in &pairs {
            // Records the mapper fails on are the real run's to report; a
            // sample just skips them.
            let _ = mapper.map_pair(&p.key, &p.value, scratch(&mut out), &mut ctx);
            ctx.error = None;
            for i in 0..out.len() {
                keys.push(0, out.get(i).1, b"")?;
            }
            out.clear();
        }
        Ok(cut(keys, reducers))
    }
}

/// Streaming task mode's `--step-num N --sample-partitions` (what `-r
/// spark`'s driver runs between steps): step `index`'s partition file
/// (`codec::streaming::partition_file`) from the previous step's output
/// pair lines on `input` (all of them, or the union of samples of its
/// parts); with `pairs` (`--sample-pairs`, run on each part), the sample
/// itself, as pair lines.
pub(crate) fn sample_task(
    plan: &JobPlan,
    index: usize,
    config: &RunConfig,
    reducers: u32,
    input: impl Read,
    pairs: bool,
) -> Result<Vec<u8>> {
    let total = plan.steps.get(index).is_some_and(|s| s.total_order());
    if index == 0 || !total {
        return Err(Error::Config(format!(
            "--step-num {index} --sample-{}: step {index} of job {} {}",
            if pairs { "pairs" } else { "partitions" },
            plan.name,
            if total {
                "reads the job's input, which the runner samples itself"
            } else {
                "does not partition by total order"
            }
        )));
    }
    let mut sample = PairSample::new();
    sample.push_lines(input, Path::new("<stdin>"))?;
    if pairs {
        let mut out = Vec::new();
        for p in sample.heap.into_sorted_vec() {
            crate::codec::streaming::push_pair_line(&mut out, &p.key, &p.value);
        }
        return Ok(out);
    }
    let bounds = sample.bounds(plan, index, config, reducers)?;
    Ok(crate::codec::streaming::partition_file(&bounds))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sampled(s: PairSample) -> Vec<(Vec<u8>, Vec<u8>)> {
        let mut v: Vec<_> = s.heap.into_vec().into_iter().map(|p| (p.key, p.value)).collect();
        v.sort();
        v
    }

    #[test]
    fn issue28_the_sample_depends_on_the_pairs_not_their_order_or_cut() {
        let pairs: Vec<(Vec<u8>, Vec<u8>)> = (0u32..5000)
            .map(|i| (i.to_be_bytes().to_vec(), (i % 7).to_be_bytes().to_vec()))
            .collect();
        let mut forward = PairSample::with_capacity(100);
        pairs.iter().for_each(|(k, v)| forward.push(k, v));
        let mut backward = PairSample::with_capacity(100);
        pairs.iter().rev().for_each(|(k, v)| backward.push(k, v));
        // Three "partitions" sampled apart, then their samples together.
        let mut merged = PairSample::with_capacity(100);
        for part in pairs.chunks(1700) {
            let mut one = PairSample::with_capacity(100);
            part.iter().for_each(|(k, v)| one.push(k, v));
            for (k, v) in sampled(one) {
                merged.push(&k, &v);
            }
        }
        let (f, b, m) = (sampled(forward), sampled(backward), sampled(merged));
        assert_eq!(f.len(), 100);
        assert_eq!(f, b);
        assert_eq!(f, m);
        // Spread over the input, not its first pairs.
        assert!(f.iter().any(|(k, _)| k.as_slice() > 2500u32.to_be_bytes().as_slice()));
    }

    #[test]
    fn issue28_a_line_that_is_not_a_pair_line_names_the_file_and_line() {
        let mut s = PairSample::new();
        let e = s
            .push_lines(&b"61\t62\nzz\n"[..], Path::new("step-1/part-00002"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("step-1/part-00002") && e.contains("line 2"), "{e}");
    }
}
