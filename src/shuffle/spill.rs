//! Writing sorted runs and merging them: the spill of a full buffer or
//! hash table, and the multi-pass merge of many runs into one.
//!
//! Merges are stable: runs are always merged in the order they were
//! written, ties go to the earlier run, and an intermediate pass merges the
//! *first* runs and puts its result first. That keeps each key's values in
//! input order through any number of spills and passes, so the parallel
//! engine's output is byte-identical to the in-memory one.

use std::path::{Path, PathBuf};

use super::ValueSource;
use super::aggregate::AggTable;
use super::buffer::SortBuffer;
use super::merge::{Cursor, Groups, Merger, merge_passes};
use super::run::{Compression, RunCursor, RunFile, RunWriter};
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
            return Err(Error::Config(
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
            let mut key = Vec::new();
            while groups.next_group()? {
                key.clear();
                key.extend_from_slice(groups.key());
                let before = groups.records_read();
                combine.combine(partition, &key, &mut groups.values(), &mut staged)?;
                stats.combine_input += groups.records_read() - before;
                write_combined(w, partition, &key, &mut staged, stats)?;
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
    mut runs: Vec<PathBuf>,
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
    for (pass, take) in merge_passes(runs.len(), settings.fan_in).into_iter().enumerate() {
        let path = scratch.join(format!("merge-{pass}"));
        let rest = runs.split_off(take);
        merge_once(&runs, &path, settings, None, &mut stats)?;
        remove_all(&runs);
        runs = std::iter::once(path).chain(rest).collect();
        stats.merge_passes += 1;
    }
    let combine = if combine_at_end { combine } else { None };
    merge_once(&runs, out, settings, combine, &mut stats)?;
    stats.merge_passes += 1;
    remove_all(&runs);
    Ok(stats)
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
            .map(|f| f.partition_cursor(p))
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
/// output, merged down to at most `fan_in` by intermediate passes written
/// under `scratch`, then one streaming merge for the reducer.
pub fn reduce_input(
    map_outputs: &[PathBuf],
    partition: u32,
    by_value: bool,
    fan_in: usize,
    compression: Compression,
    scratch: &Path,
    stats: &mut SpillStats,
) -> Result<Merger<RunCursor>> {
    // (file, partition within it): map outputs hold every partition,
    // intermediate runs only this one, as partition 0.
    let mut segments: Vec<(PathBuf, u32)> = map_outputs.iter().map(|p| (p.clone(), partition)).collect();
    let settings = RunSettings {
        partitions: 1,
        by_value,
        compression,
        fan_in,
    };
    for (pass, take) in merge_passes(segments.len(), fan_in).into_iter().enumerate() {
        let rest = segments.split_off(take);
        let cursors = segments
            .iter()
            .map(|(f, p)| RunFile::open(f)?.partition_cursor(*p))
            .collect::<Result<Vec<_>>>()?;
        let path = scratch.join(format!("reduce-merge-{pass}"));
        let mut w = RunWriter::create(&path, 1, settings.compression)?;
        merge_into(Merger::new(cursors, by_value)?, 0, None, &mut w, stats)?;
        w.finish()?;
        for (f, _) in &segments {
            // Intermediate runs are ours to delete; map outputs are not.
            if f.starts_with(scratch) {
                let _ = std::fs::remove_file(f);
            }
        }
        segments = std::iter::once((path, 0)).chain(rest).collect();
        stats.merge_passes += 1;
    }
    let cursors = segments
        .iter()
        .map(|(f, p)| RunFile::open(f)?.partition_cursor(*p))
        .collect::<Result<Vec<_>>>()?;
    stats.merge_passes += 1;
    Merger::new(cursors, by_value)
}
