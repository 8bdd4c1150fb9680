//! The local engine: the out-of-core, parallel runner (the default).
//!
//! Per step: the input is cut into splits (HDFS-style blocks of text files,
//! or block ranges of the previous step's binary output); map tasks run on
//! a pool of workers, each collecting its output through a bounded sort
//! buffer into sorted runs (its map output); then one reduce task per
//! partition merges its segment of every map output run and streams each
//! key's values into the reducer. Intermediate step data stays in the
//! binary run format in the job directory; only the last step writes text.

use std::io::Cursor as IoCursor;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use super::budget::Budget;
use super::{RunConfig, SpillCompression, StepId, StepReport, TextSource};
use crate::api::context::TaskContext;
use crate::api::counters::{Counters, FRAMEWORK, names};
use crate::api::emitter::{Route, Target};
use crate::api::job::JobPlan;
use crate::api::step::{MapFailure, MapTask, ReduceTask, StepPlan};
use crate::codec::ValueCodec;
use crate::codec::protocol::Protocol;
use crate::error::{BoxError, Error, Location, Phase, Result};
use crate::io::input::Stamp;
use crate::io::output::{OutputDir, PartWriter};
use crate::io::split::{Split, SplitReader, compute_splits, split_size};
use crate::shuffle::buffer::SortBuffer;
use crate::shuffle::collector::{Collector, CollectorConfig};
use crate::shuffle::merge::{Cursor, Groups};
use crate::shuffle::run::{Compression, RunFile, RunWriter};
use crate::shuffle::spill::{Combine, RunSettings, SpillStats, reduce_input};
use crate::shuffle::{PairSink, ValueSource};
use crate::tracker::jobdir::JobDir;
use crate::tracker::panic;
use crate::tracker::pool::run_tasks;
use crate::tracker::progress::PhaseBar;

/// What one map task reads.
#[derive(Clone)]
enum MapInput {
    Split(Split),
    Sample(Arc<Vec<u8>>),
    /// Blocks `first..last` of a run file written by the previous step.
    Blocks {
        path: PathBuf,
        first: usize,
        last: usize,
    },
}

/// What every task of the job shares.
struct Shared<'a> {
    config: &'a RunConfig,
    output: &'a OutputDir,
    job_dir: &'a JobDir,
    protocol: Protocol,
    /// Sort buffer, merge fan-in and read buffers, sized from the limits.
    budget: Budget,
    /// The first step's total-order boundaries, if it has them.
    ranges: Option<Arc<Vec<Vec<u8>>>>,
    /// Bad records skipped so far, against `config.skip_bad_records`.
    skipped: AtomicU64,
}

/// A finished task's results.
#[derive(Default)]
struct TaskResult {
    /// Run files for the next phase or step, in order.
    output: Vec<PathBuf>,
    counters: Counters,
    status: Option<String>,
}

pub(super) fn run(
    plan: &JobPlan,
    sources: Vec<TextSource>,
    config: &RunConfig,
    budget: Budget,
    output: &OutputDir,
    temp_root: &Path,
    stamps: &[Stamp],
) -> Result<Vec<StepReport>> {
    let job_dir = JobDir::create(temp_root)?;
    let ranges = super::sample::ranges(plan, &sources, config.reducers)?.map(Arc::new);
    let mut shared = Shared {
        config,
        output,
        job_dir: &job_dir,
        protocol: plan.protocol,
        budget,
        ranges,
        skipped: AtomicU64::new(0),
    };
    let split_bytes = split_size(config.block_size, config.min_split_size, config.max_split_size);
    let split_bytes = capped_split_size(&sources, split_bytes, config.progress);
    let mut inputs = text_inputs(sources, split_bytes)?;
    let mut reports = Vec::with_capacity(plan.steps.len());
    for (index, step) in plan.steps.iter().enumerate() {
        let id = StepId {
            index,
            count: plan.steps.len(),
        };
        let last = index + 1 == plan.steps.len();
        let mut report = StepReport::default();
        let outputs = run_step(&shared, step, id, last, &inputs, stamps, &mut report)?;
        shared.ranges = None;
        if index > 0 {
            job_dir.remove_step(index - 1);
        }
        reports.push(report);
        if !last {
            inputs = binary_inputs(&outputs, split_bytes)?;
        }
    }
    Ok(reports)
}

/// The most map tasks a step's input is cut into: each costs a task's
/// bookkeeping and an output file, so `--block-size 1` on a big file must
/// not mean a million of them.
pub(super) const MAX_SPLITS: u64 = 100_000;

/// `split_bytes`, raised if the input files would make more than
/// [`MAX_SPLITS`] splits (with a note on stderr when `note`).
fn capped_split_size(sources: &[TextSource], split_bytes: u64, note: bool) -> u64 {
    let total: u64 = sources
        .iter()
        .filter_map(|s| match s {
            TextSource::Input(src) => src.path().and_then(|p| std::fs::metadata(p).ok()).map(|m| m.len()),
            TextSource::Sample(_) => None,
        })
        .sum();
    let capped = split_bytes.max(total.div_ceil(MAX_SPLITS));
    if capped > split_bytes && note {
        eprintln!(
            "note: splitting the input into {split_bytes}-byte blocks would make over {MAX_SPLITS} map tasks; using {capped}-byte splits"
        );
    }
    capped
}

fn text_inputs(sources: Vec<TextSource>, split_bytes: u64) -> Result<Vec<MapInput>> {
    let mut inputs = Vec::new();
    for source in sources {
        match source {
            TextSource::Sample(bytes) => inputs.push(MapInput::Sample(bytes)),
            TextSource::Input(src) => {
                inputs.extend(compute_splits(&[src], split_bytes)?.into_iter().map(MapInput::Split));
            }
        }
    }
    Ok(inputs)
}

/// Cuts the previous step's run files into block ranges of about
/// `split_bytes` each.
fn binary_inputs(files: &[PathBuf], split_bytes: u64) -> Result<Vec<MapInput>> {
    // Block ranges are capped like text splits (one per block at most).
    let total: u64 = files
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
    let split_bytes = split_bytes.max(total.div_ceil(MAX_SPLITS));
    let mut inputs = Vec::new();
    for path in files {
        let file = RunFile::open(path)?;
        let blocks = file.block_offsets().len();
        if blocks == 0 {
            continue;
        }
        let len = std::fs::metadata(path).map_err(|e| Error::io(path, e))?.len();
        let per_block = (len / blocks as u64).max(1);
        let per_split = (split_bytes / per_block).max(1) as usize;
        let mut first = 0;
        while first < blocks {
            let last = (first + per_split).min(blocks);
            inputs.push(MapInput::Blocks {
                path: path.clone(),
                first,
                last,
            });
            first = last;
        }
    }
    Ok(inputs)
}

fn run_step(
    shared: &Shared<'_>,
    step: &StepPlan,
    id: StepId,
    last: bool,
    inputs: &[MapInput],
    stamps: &[Stamp],
    report: &mut StepReport,
) -> Result<Vec<PathBuf>> {
    let config = shared.config;
    let reducers = step.new_reducer.as_ref().map(|_| config.reducers);
    let run = StepRun {
        shared,
        step,
        id,
        last,
        reducers,
    };
    let label = |phase: &str| format!("step {}/{} {phase}", id.index + 1, id.count);

    let started = Instant::now();
    let bar = PhaseBar::new(config.progress, label("map"), inputs.len());
    let maps = run_tasks(
        inputs.len(),
        config.workers,
        config.max_attempts,
        |task, attempt| run.attempt("map", task, attempt, || map_task(&run, task, attempt, &inputs[task])),
        &|| bar.inc(),
    )?;
    drop(bar);
    if id.index == 0 {
        super::check_unchanged(stamps)?;
    }
    report.map_seconds = started.elapsed().as_secs_f64();
    let mut outputs = Vec::new();
    for m in maps {
        report.counters.merge(&m.counters);
        report.statuses.extend(m.status);
        outputs.extend(m.output);
    }
    let Some(partitions) = reducers else {
        report.seconds = report.map_seconds;
        return Ok(outputs);
    };

    let started = Instant::now();
    let bar = PhaseBar::new(config.progress, label("reduce"), partitions as usize);
    let reduces = run_tasks(
        partitions as usize,
        config.workers,
        config.max_attempts,
        |task, attempt| run.attempt("reduce", task, attempt, || reduce_task(&run, task, attempt, &outputs)),
        &|| bar.inc(),
    )?;
    drop(bar);
    report.reduce_seconds = started.elapsed().as_secs_f64();
    report.seconds = report.map_seconds + report.reduce_seconds;
    let mut next = Vec::new();
    for r in reduces {
        report.counters.merge(&r.counters);
        report.statuses.extend(r.status);
        next.extend(r.output);
    }
    Ok(next)
}

fn compression(c: SpillCompression) -> Compression {
    match c {
        SpillCompression::None => Compression::None,
        SpillCompression::Lz4 => Compression::Lz4,
    }
}

/// A run file as a sink for a map-only step's (or a reducer's) pairs.
struct RunSink(RunWriter);

impl PairSink for RunSink {
    fn collect(&mut self, _partition: u32, key: &[u8], value: &[u8]) -> Result<()> {
        self.0.push(0, key, value)
    }
}

/// Where a task's output goes.
enum Sink {
    /// Map output for the shuffle: partitions, value codec, and the
    /// total-order boundaries if the step has them.
    Shuffle(Collector, u32, ValueCodec, Option<Arc<Vec<Vec<u8>>>>),
    Run(RunSink, PathBuf),
    Text(PartWriter, Protocol),
}

impl Sink {
    fn target(&mut self) -> Target<'_> {
        match self {
            Sink::Shuffle(c, partitions, values, ranges) => Target::Pairs {
                sink: c,
                partitions: *partitions,
                values: *values,
                route: match ranges {
                    Some(r) => Route::Ranges(r),
                    None => Route::Hash,
                },
            },
            Sink::Run(w, _) => Target::Pairs {
                sink: w,
                partitions: 1,
                values: ValueCodec::Bincode,
                route: Route::Fixed(0),
            },
            Sink::Text(out, protocol) => Target::Text {
                out,
                protocol: *protocol,
            },
        }
    }

    /// Closes the sink; returns the run files for the next phase or step.
    fn finish(self, counters: &mut Counters) -> Result<Vec<PathBuf>> {
        match self {
            Sink::Shuffle(collector, ..) => {
                let out = collector.finish()?;
                add_spill_counters(counters, &out.stats);
                Ok(out.runs)
            }
            Sink::Run(w, path) => {
                w.0.finish()?;
                Ok(vec![path])
            }
            Sink::Text(part, _) => {
                counters.add(FRAMEWORK, names::BYTES_WRITTEN, part.finish()? as i64);
                Ok(Vec::new())
            }
        }
    }
}

fn add_spill_counters(counters: &mut Counters, s: &SpillStats) {
    counters.add(FRAMEWORK, names::SPILLED_RECORDS, s.spilled_records as i64);
    counters.add(FRAMEWORK, names::SPILLS, s.spills as i64);
    counters.add(FRAMEWORK, names::MERGE_PASSES, s.merge_passes as i64);
    if s.combine_input > 0 {
        counters.add(FRAMEWORK, names::COMBINE_INPUT_RECORDS, s.combine_input as i64);
        counters.add(FRAMEWORK, names::COMBINE_OUTPUT_RECORDS, s.combine_output as i64);
    }
}

/// The step's combiner, run by the collector's spill thread.
struct CombineTask {
    task: Box<dyn ReduceTask>,
    ctx: TaskContext,
    partitions: u32,
    values: ValueCodec,
    id: StepId,
}

impl Combine for CombineTask {
    fn combine(
        &mut self,
        partition: u32,
        key: &[u8],
        values: &mut dyn ValueSource,
        out: &mut SortBuffer,
    ) -> Result<()> {
        let target = Target::Pairs {
            sink: out,
            partitions: self.partitions,
            values: self.values,
            route: Route::Fixed(partition),
        };
        let task = self.ctx.task;
        let id = self.id;
        match catch_unwind(AssertUnwindSafe(|| {
            self.task.reduce(key, values, target, &mut self.ctx)
        })) {
            Ok(res) => res.map_err(|e| id.task_error(Phase::Combine, task, None, e)),
            Err(payload) => Err(id.task_error(Phase::Combine, task, None, panic::message(payload).into())),
        }
    }
}

/// Gives back a failed attempt's skipped records, so a retry counts its
/// own against the budget.
struct SkipGuard<'a> {
    skipped: &'a AtomicU64,
    mine: u64,
}

impl Drop for SkipGuard<'_> {
    fn drop(&mut self) {
        self.skipped.fetch_sub(self.mine, Ordering::Relaxed);
    }
}

/// One step as its tasks see it.
struct StepRun<'a> {
    shared: &'a Shared<'a>,
    step: &'a StepPlan,
    id: StepId,
    /// Whether this is the job's last step (its output is the job's).
    last: bool,
    /// Reduce tasks, or `None` for a map-only step.
    reducers: Option<u32>,
}

impl StepRun<'_> {
    /// Runs one task attempt; a failed one's files are removed before the
    /// pool can start the next.
    fn attempt<T>(&self, phase: &str, task: usize, attempt: u32, run: impl FnOnce() -> Result<T>) -> Result<T> {
        let result = run();
        if result.is_err() {
            self.shared.job_dir.remove_attempt(self.id.index, phase, task, attempt);
        }
        result
    }
}

/// What a map attempt's input loop updates.
struct MapAttempt<'a> {
    sink: Sink,
    ctx: TaskContext,
    guard: SkipGuard<'a>,
    /// The record being mapped, for a panic's message.
    at: Option<Location>,
    counters: Counters,
}

fn map_task(run: &StepRun<'_>, task: usize, attempt: u32, input: &MapInput) -> Result<TaskResult> {
    let StepRun {
        shared,
        step,
        id,
        last,
        reducers,
    } = *run;
    let config = shared.config;
    let dir = shared.job_dir.attempt(id.index, "map", task, attempt)?;
    // With typed aggregation, half the sort buffer holds the task's table
    // and half the collector's buffers, which then only sort and spill.
    let typed_agg = reducers.is_some() && step.typed_agg;
    let (agg_budget, collector_budget, merge) = if typed_agg {
        let half = shared.budget.sort_buffer as usize / 2;
        (Some(half), half, None)
    } else {
        (None, shared.budget.sort_buffer as usize, step.merge.clone())
    };
    let sink = match reducers {
        Some(partitions) => {
            // Typed aggregation already combined what reaches the collector.
            let combiner = if typed_agg { None } else { step.new_combiner.as_ref() };
            let combine = combiner.map(|new| {
                Box::new(CombineTask {
                    task: new(),
                    ctx: TaskContext::new(id.index, task),
                    partitions,
                    values: step.map_values,
                    id,
                }) as Box<dyn Combine>
            });
            let collector = Collector::start(
                CollectorConfig {
                    runs: RunSettings {
                        partitions,
                        by_value: step.sort_values(),
                        compression: compression(config.compress_spills),
                        fan_in: shared.budget.fan_in,
                        read_buffer: shared.budget.read_buffer,
                    },
                    sort_buffer: collector_budget,
                    dir: dir.clone(),
                    merge,
                },
                combine,
            )?;
            Sink::Shuffle(collector, partitions, step.map_values, shared.ranges.clone())
        }
        None if last => Sink::Text(shared.output.part(task)?, shared.protocol),
        None => {
            let path = dir.join("output");
            Sink::Run(
                RunSink(RunWriter::create(&path, 1, compression(config.compress_spills))?.unsorted()),
                path,
            )
        }
    };
    let mut mapper = (step.new_mapper)(agg_budget);
    let mut a = MapAttempt {
        sink,
        ctx: TaskContext::new(id.index, task),
        guard: SkipGuard {
            skipped: &shared.skipped,
            mine: 0,
        },
        at: None,
        counters: Counters::default(),
    };
    let outcome = catch_unwind(AssertUnwindSafe(|| read_input(run, mapper.as_mut(), input, &mut a)));
    match outcome {
        Ok(res) => res?,
        Err(payload) => return Err(id.task_error(Phase::Map, task, a.at, panic::message(payload).into())),
    }
    let MapAttempt {
        sink,
        ctx,
        mut guard,
        mut counters,
        ..
    } = a;
    counters.add(FRAMEWORK, names::MAP_OUTPUT_RECORDS, ctx.emitted as i64);
    if reducers.is_some() {
        counters.add(FRAMEWORK, names::MAP_OUTPUT_BYTES, ctx.emitted_bytes as i64);
    }
    let output = sink.finish(&mut counters)?;
    counters.merge(&ctx.counters);
    // Committed: this attempt's skips stay counted.
    guard.mine = 0;
    Ok(TaskResult {
        output,
        counters,
        status: ctx.status.map(|s| format!("step {} map {task}: {s}", id.index + 1)),
    })
}

fn read_input(run: &StepRun<'_>, mapper: &mut dyn MapTask, input: &MapInput, a: &mut MapAttempt<'_>) -> Result<()> {
    let (shared, id) = (run.shared, run.id);
    let MapAttempt {
        sink,
        ctx,
        guard,
        at,
        counters,
    } = a;
    let task = ctx.task;
    let fail = |at: Option<Location>, e: BoxError| id.task_error(Phase::Map, task, at, e);
    let mut reader = match input {
        MapInput::Blocks { path, first, last } => {
            mapper.setup(sink.target(), ctx).map_err(|e| fail(None, e))?;
            let mut cursor = RunFile::open(path)?.block_cursor(*first, *last)?;
            let mut records = 0;
            while cursor.advance()? {
                records += 1;
                match mapper.map_pair(cursor.key(), cursor.value(), sink.target(), ctx) {
                    Ok(()) => {}
                    Err(MapFailure::Task(e) | MapFailure::BadRecord(e)) => return Err(fail(None, e)),
                }
            }
            counters.add(FRAMEWORK, names::MAP_INPUT_RECORDS, records);
            return mapper.cleanup(sink.target(), ctx).map_err(|e| fail(None, e));
        }
        MapInput::Split(split) => {
            ctx.input_path = split.source.path().map(|p| Arc::new(p.to_path_buf()));
            SplitReader::open(split, shared.config.max_line_length)?
        }
        MapInput::Sample(bytes) => SplitReader::whole(
            Box::new(IoCursor::new(bytes.to_vec())),
            PathBuf::from("<built-in sample>"),
        ),
    };
    mapper.setup(sink.target(), ctx).map_err(|e| fail(None, e))?;
    let budget = shared.config.skip_bad_records;
    let name = reader.name().to_path_buf();
    let mut records = 0;
    while let Some(line) = reader.next_line()? {
        records += 1;
        let location = || Location {
            path: Some(name.clone()),
            line: line.number,
            offset: Some(line.offset),
        };
        *at = Some(location());
        match mapper.map_line(line.bytes, line.offset, sink.target(), ctx) {
            Ok(()) => {}
            Err(MapFailure::Task(e)) => {
                let at = location();
                return Err(reader.decode_error_ahead().unwrap_or_else(|| fail(Some(at), e)));
            }
            Err(MapFailure::BadRecord(e)) => {
                let skipped = shared.skipped.fetch_add(1, Ordering::Relaxed) + 1;
                if skipped <= budget {
                    guard.mine += 1;
                    counters.add(FRAMEWORK, names::SKIPPED_RECORDS, 1);
                    continue;
                }
                shared.skipped.fetch_sub(1, Ordering::Relaxed);
                let location = location();
                if let Some(decode) = reader.decode_error_ahead() {
                    return Err(decode);
                }
                return Err(if budget == 0 {
                    Error::BadRecord {
                        step: id.index + 1,
                        location,
                        source: e,
                    }
                } else {
                    Error::TooManyBadRecords {
                        step: id.index + 1,
                        skipped: budget,
                        budget,
                        location,
                        source: e,
                    }
                });
            }
        }
    }
    *at = None;
    counters.add(FRAMEWORK, names::MAP_INPUT_RECORDS, records);
    counters.add(FRAMEWORK, names::BYTES_READ, reader.owned_bytes() as i64);
    mapper.cleanup(sink.target(), ctx).map_err(|e| fail(None, e))
}

fn reduce_task(run: &StepRun<'_>, task: usize, attempt: u32, map_outputs: &[PathBuf]) -> Result<TaskResult> {
    let StepRun {
        shared, step, id, last, ..
    } = *run;
    let config = shared.config;
    let dir = shared.job_dir.attempt(id.index, "reduce", task, attempt)?;
    let new_reducer = step
        .new_reducer
        .as_ref()
        .ok_or_else(|| Error::Config("reduce task of a map-only step".into()))?;
    let mut stats = SpillStats::default();
    let settings = RunSettings {
        partitions: 1,
        by_value: step.sort_values(),
        compression: compression(config.compress_spills),
        fan_in: shared.budget.fan_in,
        read_buffer: shared.budget.read_buffer,
    };
    let merger = reduce_input(map_outputs, task as u32, &settings, &dir, &mut stats)?;
    let mut groups = Groups::new(merger);
    let mut sink = if last {
        Sink::Text(shared.output.part(task)?, shared.protocol)
    } else {
        let path = dir.join("output");
        Sink::Run(
            RunSink(RunWriter::create(&path, 1, compression(config.compress_spills))?.unsorted()),
            path,
        )
    };
    let mut ctx = TaskContext::new(id.index, task);
    let mut reducer = new_reducer();
    let mut group_count = 0i64;
    let outcome = catch_unwind(AssertUnwindSafe(|| -> Result<()> {
        let fail = |e| id.task_error(Phase::Reduce, task, None, e);
        reducer.setup(sink.target(), &mut ctx).map_err(fail)?;
        let mut key = Vec::new();
        while groups.next_group()? {
            group_count += 1;
            key.clear();
            key.extend_from_slice(groups.key());
            reducer
                .reduce(&key, &mut groups.values(), sink.target(), &mut ctx)
                .map_err(fail)?;
        }
        reducer.cleanup(sink.target(), &mut ctx).map_err(fail)
    }));
    match outcome {
        Ok(res) => res?,
        Err(payload) => return Err(id.task_error(Phase::Reduce, task, None, panic::message(payload).into())),
    }
    let mut counters = Counters::default();
    counters.add(FRAMEWORK, names::REDUCE_INPUT_GROUPS, group_count);
    counters.add(FRAMEWORK, names::REDUCE_INPUT_RECORDS, groups.records_read() as i64);
    counters.add(FRAMEWORK, names::REDUCE_OUTPUT_RECORDS, ctx.emitted as i64);
    counters.add(FRAMEWORK, names::SPILLED_RECORDS, stats.spilled_records as i64);
    counters.add(FRAMEWORK, names::MERGE_PASSES, stats.merge_passes as i64);
    let output = sink.finish(&mut counters)?;
    counters.merge(&ctx.counters);
    Ok(TaskResult {
        output,
        counters,
        status: ctx.status.map(|s| format!("step {} reduce {task}: {s}", id.index + 1)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::input::InputSource;

    #[test]
    fn issue8_block_size_1_on_a_big_file_makes_at_most_max_splits() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.txt");
        // Sparse: 1 GiB of zeros on disk costs nothing.
        let f = std::fs::File::create(&path).unwrap();
        f.set_len(1 << 30).unwrap();
        let sources = vec![TextSource::Input(InputSource::File(path))];
        let split = capped_split_size(&sources, 1, false);
        assert_eq!(split, (1u64 << 30).div_ceil(MAX_SPLITS));
        let inputs = text_inputs(sources, split).unwrap();
        assert!(inputs.len() as u64 <= MAX_SPLITS, "{} splits", inputs.len());
        assert!(inputs.len() as u64 >= MAX_SPLITS / 2, "{} splits", inputs.len());
        // Small inputs keep the block size asked for.
        let small = dir.path().join("small.txt");
        std::fs::write(&small, vec![b'x'; 1000]).unwrap();
        assert_eq!(
            capped_split_size(&[TextSource::Input(InputSource::File(small))], 1, false),
            1
        );
    }
}
