//! Writing sorted runs and merging them: the spill of a full buffer or
//! hash table, and the multi-pass merge of many runs into one.
//!
//! Merges are stable: runs are always merged in the order they were
//! written, ties go to the earlier run, and an intermediate pass merges
//! consecutive runs and puts its result in their place (see `plan`). That
//! keeps each key's values in input order through any number of spills and
//! passes, so the parallel engine's output is byte-identical to the
//! in-memory one.

use std::path::{Path, PathBuf};

use super::ValueSource;
use super::aggregate::AggTable;
use super::buffer::SortBuffer;
use super::merge::{Cursor, Groups, Merger};
use super::plan::merge_down;
use super::run::{Compression, RunCursor, RunFile, RunWriter};
use super::span::{Span, SpanKind, push_bounded};
use crate::error::{Error, Result};

/// Runs a combiner over one key's values; the output goes into `out`
/// (owned staging, so the combiner never borrows the writer).
pub trait Combine: Send {
    /// Combines one group of `partition`; the output keeps that partition.
    fn combine(&mut self, partition: u32, key: &[u8], values: &mut dyn ValueSource, out: &mut SortBuffer)
    -> Result<()>;
}

/// What writing or merging runs did, for the counters.
#[derive(Debug, Clone, Copy, Default)]
pub struct SpillStats {
    pub spills: u64,
    pub spilled_records: u64,
    pub combine_input: u64,
    pub combine_output: u64,
    pub merge_passes: u64,
}

impl SpillStats {
    pub fn add(&mut self, o: SpillStats) {
        self.spills += o.spills;
        self.spilled_records += o.spilled_records;
        self.combine_input += o.combine_input;
        self.combine_output += o.combine_output;
        self.merge_passes += o.merge_passes;
    }
}

/// How runs are written.
#[derive(Debug, Clone)]
pub struct RunSettings {
    pub partitions: u32,
    pub by_value: bool,
    pub compression: Compression,
    pub fan_in: usize,
    /// Read buffer per merged segment (a block larger than it grows it).
    pub read_buffer: usize,
}

/// Writes combiner output for one group, checking it kept the group's key
/// (a combiner that changed keys would leave the run unsorted).
fn write_combined(
    w: &mut RunWriter,
    partition: u32,
    key: &[u8],
    staged: &mut SortBuffer,
    stats: &mut SpillStats,
) -> Result<()> {
    for i in 0..staged.len() {
        let (p, k, v) = staged.get(i);
        if k != key || p != partition {
            return Err(Error::Contract(
                "a combiner must emit under the key it was given (it changed a key)".into(),
            ));
        }
        w.push(p, k, v)?;
    }
    stats.combine_output += staged.len() as u64;
    stats.spilled_records += staged.len() as u64;
    staged.clear();
    Ok(())
}

/// Sorts `buf`, combines it if there is a combiner, writes it to `path`,
/// and empties it.
pub fn spill_buffer(
    buf: &mut SortBuffer,
    combine: Option<&mut (dyn Combine + '_)>,
    path: &Path,
    settings: &RunSettings,
) -> Result<SpillStats> {
    let mut stats = SpillStats {
        spills: 1,
        ..SpillStats::default()
    };
    buf.sort(settings.by_value);
    let mut w = RunWriter::create(path, settings.partitions, settings.compression)?;
    match combine {
        Some(combine) => {
            let mut staged = SortBuffer::new();
            for mut group in buf.groups() {
                stats.combine_input += group.values.remaining() as u64;
                combine.combine(group.partition, group.key, &mut group.values, &mut staged)?;
                write_combined(&mut w, group.partition, group.key, &mut staged, &mut stats)?;
            }
        }
        None => {
            // Sorted order visits the arena at random: fetch a few records
            // ahead so the copies do not wait on one cache miss at a time.
            const AHEAD: usize = 8;
            for i in 0..buf.len() {
                buf.prefetch(i + AHEAD);
                let (p, k, v) = buf.get(i);
                w.push(p, k, v)?;
            }
            stats.spilled_records += buf.len() as u64;
        }
    }
    w.finish()?;
    buf.clear();
    Ok(stats)
}

/// Writes an aggregated table to `path` (already combined) and empties it.
pub fn spill_table(table: &mut AggTable, path: &Path, settings: &RunSettings) -> Result<SpillStats> {
    let mut stats = SpillStats {
        spills: 1,
        combine_input: table.records_in,
        combine_output: table.len() as u64,
        spilled_records: table.len() as u64,
        merge_passes: 0,
    };
    let mut w = RunWriter::create(path, settings.partitions, settings.compression)?;
    table.drain_sorted(|p, k, v| w.push(p, k, v))?;
    w.finish()?;
    stats.spills = 1;
    Ok(stats)
}

/// Merges the records of `cursor` (one partition) into `w`, combining
/// each group if `combine` is given.
fn merge_into(
    cursor: impl Cursor,
    partition: u32,
    combine: Option<&mut (dyn Combine + '_)>,
    w: &mut RunWriter,
    stats: &mut SpillStats,
) -> Result<()> {
    match combine {
        Some(combine) => {
            let mut groups = Groups::new(cursor);
            let mut staged = SortBuffer::new();
            while groups.next_group()? {
                let before = groups.records_read();
                let (key, mut values) = groups.group();
                combine.combine(partition, key, &mut values, &mut staged)?;
                stats.combine_input += groups.records_read() - before;
                write_combined(w, partition, groups.key(), &mut staged, stats)?;
            }
        }
        None => {
            let mut cursor = cursor;
            while cursor.advance()? {
                w.push(partition, cursor.key(), cursor.value())?;
                stats.spilled_records += 1;
            }
        }
    }
    Ok(())
}

/// Merges `runs` (in order) into the single run `out`, in as many passes
/// as the fan-in requires. Combines during the last pass when there are at
/// least `combine_min_runs` runs (Hadoop's `min.num.spills.for.combine`).
/// Deletes the input runs.
pub fn merge_runs(
    runs: Vec<PathBuf>,
    out: &Path,
    settings: &RunSettings,
    combine: Option<&mut (dyn Combine + '_)>,
    combine_min_runs: usize,
    scratch: &Path,
) -> Result<SpillStats> {
    let mut stats = SpillStats::default();
    let combine_at_end = runs.len() >= combine_min_runs;
    if runs.len() == 1 {
        std::fs::rename(&runs[0], out).map_err(|e| Error::io(out, e))?;
        return Ok(stats);
    }
    let runs = merge_down(runs, settings.fan_in, |group, pass| {
        let path = scratch.join(format!("merge-{pass}"));
        merge_once(&group, &path, settings, None, &mut stats)?;
        remove_all(&group);
        stats.merge_passes += 1;
        Ok(path)
    })?;
    let combine = if combine_at_end { combine } else { None };
    merge_once(&runs, out, settings, combine, &mut stats)?;
    stats.merge_passes += 1;
    remove_all(&runs);
    Ok(stats)
}

/// Runs a map task keeps before it merges them as it goes (see
/// [`TaskRuns`]): their paths cost about as much memory as the smallest
/// default sort buffer (1 MiB), and a task spills this many only with a
/// sort buffer hundreds of times smaller than its split (a 64K buffer
/// over a 128 MiB split), where merging as it goes costs some writes but
/// keeps its memory bounded.
pub const MERGE_RUNS_PAST: usize = 16 << 10;

/// A map task's runs, in the order written.
///
/// Up to [`MERGE_RUNS_PAST`] they are only listed (the reducers merge
/// them, as they merge every task's runs). Past it, whenever the last
/// `fan_in` runs are of one level they are merged into one run of the next
/// level (a spill is level 0). So a task keeps at most about
/// `MERGE_RUNS_PAST + fan_in × levels` runs (and their paths in memory)
/// however many it spills, and each record past the bound is rewritten
/// once per level, as in any multi-pass merge. The runs merged are always
/// consecutive and merged in order, so merges stay stable.
pub struct TaskRuns {
    /// Each run and its level.
    runs: Vec<(PathBuf, u32)>,
    /// Merges done, which name their outputs.
    merges: usize,
    /// Runs kept before merging ([`MERGE_RUNS_PAST`]; tests take fewer).
    bound: usize,
}

impl Default for TaskRuns {
    fn default() -> Self {
        TaskRuns::with_bound(MERGE_RUNS_PAST)
    }
}

impl TaskRuns {
    /// A task's runs, merged past `bound` of them.
    pub fn with_bound(bound: usize) -> Self {
        TaskRuns {
            runs: Vec::new(),
            merges: 0,
            bound,
        }
    }

    /// Adds a spilled run; past the bound, merges the last runs (into
    /// `dir`, combining if there is a combiner) while `fan_in` of them share a level.
    pub fn push(
        &mut self,
        run: PathBuf,
        settings: &RunSettings,
        mut combine: Option<&mut (dyn Combine + '_)>,
        dir: &Path,
        stats: &mut SpillStats,
        spans: &mut Vec<Span>,
    ) -> Result<()> {
        self.runs.push((run, 0));
        let fan_in = settings.fan_in.max(2);
        while self.runs.len() > self.bound.max(fan_in) {
            let tail = &self.runs[self.runs.len() - fan_in..];
            let level = tail[fan_in - 1].1;
            if tail.iter().any(|r| r.1 != level) {
                break;
            }
            let group: Vec<PathBuf> = self
                .runs
                .split_off(self.runs.len() - fan_in)
                .into_iter()
                .map(|r| r.0)
                .collect();
            let path = dir.join(format!("merged-{}", self.merges));
            self.merges += 1;
            let (started, written) = (std::time::Instant::now(), stats.spilled_records);
            merge_once(&group, &path, settings, combine.as_deref_mut(), stats)?;
            remove_all(&group);
            stats.merge_passes += 1;
            push_bounded(
                spans,
                Span::since(SpanKind::Merge, started, stats.spilled_records - written),
            );
            self.runs.push((path, level + 1));
        }
        Ok(())
    }

    /// The runs, in order.
    pub fn into_paths(self) -> Vec<PathBuf> {
        self.runs.into_iter().map(|(path, _)| path).collect()
    }
}

fn merge_once(
    runs: &[PathBuf],
    out: &Path,
    settings: &RunSettings,
    mut combine: Option<&mut (dyn Combine + '_)>,
    stats: &mut SpillStats,
) -> Result<()> {
    let files = runs.iter().map(|r| RunFile::open(r)).collect::<Result<Vec<_>>>()?;
    let mut w = RunWriter::create(out, settings.partitions, settings.compression)?;
    for p in 0..settings.partitions {
        let cursors = files
            .iter()
            .map(|f| Ok(f.partition_cursor(p)?.with_buffer_size(settings.read_buffer)))
            .collect::<Result<Vec<_>>>()?;
        let merger = Merger::new(cursors, settings.by_value)?;
        merge_into(merger, p, combine.as_deref_mut(), &mut w, stats)?;
    }
    w.finish()?;
    Ok(())
}

fn remove_all(paths: &[PathBuf]) {
    for p in paths {
        // A leftover run is removed with the job directory anyway.
        let _ = std::fs::remove_file(p);
    }
}

/// The reduce side's input for `partition`: the segments of every map
/// output, merged down to at most `settings.fan_in` by intermediate passes
/// written under `scratch`, then one streaming merge for the reducer.
/// `settings.partitions` is ignored: intermediate runs hold only this
/// partition. Each intermediate pass is a span in `spans`.
pub fn reduce_input(
    map_outputs: &[PathBuf],
    partition: u32,
    settings: &RunSettings,
    scratch: &Path,
    stats: &mut SpillStats,
    spans: &mut Vec<Span>,
) -> Result<Merger<RunCursor>> {
    let (by_value, read_buffer) = (settings.by_value, settings.read_buffer);
    let open = |segments: &[(PathBuf, u32)]| {
        segments
            .iter()
            .map(|(f, p)| Ok(RunFile::open(f)?.partition_cursor(*p)?.with_buffer_size(read_buffer)))
            .collect::<Result<Vec<_>>>()
    };
    // (file, partition within it): map outputs hold every partition,
    // intermediate runs only this one, as partition 0.
    let segments: Vec<(PathBuf, u32)> = map_outputs.iter().map(|p| (p.clone(), partition)).collect();
    let segments = merge_down(segments, settings.fan_in, |group, pass| {
        let path = scratch.join(format!("reduce-merge-{pass}"));
        let (started, written) = (std::time::Instant::now(), stats.spilled_records);
        let mut w = RunWriter::create(&path, 1, settings.compression)?;
        merge_into(Merger::new(open(&group)?, by_value)?, 0, None, &mut w, stats)?;
        w.finish()?;
        for (f, _) in &group {
            // Intermediate runs are ours to delete; map outputs are not.
            if f.starts_with(scratch) {
                let _ = std::fs::remove_file(f);
            }
        }
        stats.merge_passes += 1;
        push_bounded(
            spans,
            Span::since(SpanKind::Merge, started, stats.spilled_records - written),
        );
        Ok((path, 0))
    })?;
    stats.merge_passes += 1;
    Merger::new(open(&segments)?, by_value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shuffle::plan::merge_depth;

    /// `n` runs of `k` records each; record `j` of run `i` has key `j`
    /// (so every key is in every run) and value `(i, j)`.
    fn runs(dir: &Path, n: usize, k: usize) -> Vec<PathBuf> {
        (0..n)
            .map(|i| {
                let path = dir.join(format!("spill-{i}"));
                let mut w = RunWriter::create(&path, 1, Compression::None).unwrap();
                for j in 0..k {
                    w.push(0, &(j as u32).to_be_bytes(), &[(i >> 8) as u8, i as u8, j as u8])
                        .unwrap();
                }
                w.finish().unwrap();
                path
            })
            .collect()
    }

    fn settings(fan_in: usize) -> RunSettings {
        RunSettings {
            partitions: 1,
            by_value: false,
            compression: Compression::None,
            fan_in,
            read_buffer: 64 << 10,
        }
    }

    /// The records of `c`, checking that each key's values come in run order.
    fn drain_checked(mut c: impl Cursor, n: usize, k: usize) {
        let mut got = 0;
        let mut last: Option<(Vec<u8>, u16)> = None;
        while c.advance().unwrap() {
            let run = u16::from_be_bytes([c.value()[0], c.value()[1]]);
            if let Some((key, prev)) = &last
                && key.as_slice() == c.key()
            {
                assert_eq!(run, prev + 1, "values out of input order");
            }
            last = Some((c.key().to_vec(), run));
            got += 1;
        }
        assert_eq!(got, n * k);
    }

    #[test]
    fn issue8_multi_pass_merge_rewrites_each_record_at_most_log_f_n_times() {
        let (n, k) = (300, 20);
        for fan_in in [2, 3, 8, 16] {
            let dir = tempfile::tempdir().unwrap();
            let out = dir.path().join("out");
            let stats = merge_runs(runs(dir.path(), n, k), &out, &settings(fan_in), None, 3, dir.path()).unwrap();
            // Each record is written once per merge it goes through, the
            // final one included: at most ceil(log_F n) times. (The old
            // plan re-merged the growing first run in every pass: with
            // fan-in 8, 300 runs were about 20 times as many writes.)
            let depth = u64::from(merge_depth(n, fan_in));
            assert!(
                stats.spilled_records <= (n * k) as u64 * depth,
                "fan-in {fan_in}: {} writes of {} records, depth {depth}",
                stats.spilled_records,
                n * k
            );
            assert!(stats.spilled_records >= (n * k) as u64 * (depth - 1));
            assert_eq!(stats.merge_passes as usize, (n - 1).div_ceil(fan_in - 1));
            drain_checked(RunFile::open(&out).unwrap().partition_cursor(0).unwrap(), n, k);

            // The reduce side: intermediate passes write each record at
            // most ceil(log_F n) - 1 times, the last merge streams.
            let map_outputs = runs(dir.path(), n, k);
            let scratch = dir.path().join("scratch");
            std::fs::create_dir(&scratch).unwrap();
            let mut stats = SpillStats::default();
            let mut spans = Vec::new();
            let merger = reduce_input(&map_outputs, 0, &settings(fan_in), &scratch, &mut stats, &mut spans).unwrap();
            // A span per intermediate pass, up to the bound a task keeps.
            assert_eq!(
                spans.len() as u64,
                (stats.merge_passes - 1).min(crate::shuffle::span::MAX_SPANS as u64),
                "a span per intermediate pass"
            );
            assert_eq!(spans.iter().map(|s| s.records).sum::<u64>(), stats.spilled_records);
            drain_checked(merger, n, k);
            assert!(stats.spilled_records <= (n * k) as u64 * (depth - 1), "fan-in {fan_in}");
        }
    }

    #[test]
    fn issue27_a_task_keeps_a_bounded_number_of_runs_however_many_it_spills() {
        let (bound, fan_in) = (256, 4);
        let (n, k) = (12 * bound, 3);
        let dir = tempfile::tempdir().unwrap();
        let (mut stats, mut spans) = (SpillStats::default(), Vec::new());
        let mut task = TaskRuns::with_bound(bound);
        for run in runs(dir.path(), n, k) {
            task.push(run, &settings(fan_in), None, dir.path(), &mut stats, &mut spans)
                .unwrap();
        }
        let kept = task.into_paths();
        // The bound, then at most fan_in - 1 runs per level (log_4 of the
        // 2816 runs past it: 6 levels).
        assert!(kept.len() <= bound + (fan_in - 1) * 6, "{} runs kept", kept.len());
        assert!(stats.merge_passes > 0 && spans.len() <= crate::shuffle::span::MAX_SPANS + 1);
        // The merged runs' inputs are gone: only the kept runs are on disk.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), kept.len());
        // Nothing lost, and each key's values still in the order spilled.
        let scratch = dir.path().join("scratch");
        std::fs::create_dir(&scratch).unwrap();
        let merger = reduce_input(&kept, 0, &settings(16), &scratch, &mut stats, &mut spans).unwrap();
        drain_checked(merger, n, k);
    }
}
