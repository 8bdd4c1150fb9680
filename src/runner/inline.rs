//! The inline engine: one thread, everything in memory.
//!
//! Each step runs one map task per input (file, standard input, or a
//! previous task's output), runs the combiner on each task's sorted output
//! as a spill would, then stably sorts all map output by (partition, key)
//! and runs one reduce task per partition. Because the sort is stable and
//! tasks are appended in order, a reducer sees a key's values in input
//! order: the order the parallel engine's merge must reproduce.

use std::io::Cursor;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use super::{RunConfig, StepId, StepReport, TextSource};
use crate::api::context::TaskContext;
use crate::api::counters::{Counters, FRAMEWORK, names};
use crate::api::emitter::{Route, Target};
use crate::api::job::JobPlan;
use crate::api::step::{MapFailure, MapTask, ReduceTask, StepPlan};
use crate::codec::ValueCodec;
use crate::codec::protocol::Protocol;
use crate::error::{BoxError, Error, Location, Phase, Result};
use crate::io::input::{ERROR_AHEAD, Stamp, open_decoded};
use crate::io::lines::LineReader;
use crate::io::output::{OutputDir, PartWriter};
use crate::shuffle::buffer::SortBuffer;
use crate::tracker::panic;

/// What a step reads: text (first step) or the previous step's pairs.
enum StepInput {
    Text(Vec<TextSource>),
    Pairs(Vec<SortBuffer>),
}

/// Where a task's output goes.
enum Sink {
    Pairs {
        buf: SortBuffer,
        partitions: u32,
        values: ValueCodec,
        ranges: Option<Vec<Vec<u8>>>,
    },
    Text(PartWriter, Protocol),
}

impl Sink {
    fn target(&mut self) -> Target<'_> {
        match self {
            Sink::Pairs {
                buf,
                partitions,
                values,
                ranges,
            } => Target::Pairs {
                sink: buf,
                partitions: *partitions,
                values: *values,
                route: match ranges {
                    Some(r) => Route::Ranges(r),
                    None if *partitions == 1 => Route::Fixed(0),
                    None => Route::Hash,
                },
            },
            Sink::Text(out, protocol) => Target::Text {
                out,
                protocol: *protocol,
            },
        }
    }
}

/// Counts malformed records against the job's `--skip-bad-records` budget.
struct BadRecords {
    budget: u64,
    skipped: u64,
}

pub(super) fn run(
    plan: &JobPlan,
    sources: Vec<TextSource>,
    config: &RunConfig,
    output: &OutputDir,
    stamps: &[Stamp],
) -> Result<Vec<StepReport>> {
    let mut ranges = super::sample::ranges(plan, &sources, config.reducers)?;
    let mut input = StepInput::Text(sources);
    let mut reports = Vec::with_capacity(plan.steps.len());
    let mut bad = BadRecords {
        budget: config.skip_bad_records,
        skipped: 0,
    };
    for (index, step) in plan.steps.iter().enumerate() {
        let started = Instant::now();
        let id = StepId {
            index,
            count: plan.steps.len(),
        };
        let last = index + 1 == plan.steps.len();
        let mut report = StepReport::default();
        let run = StepRun {
            step,
            id,
            last,
            protocol: plan.protocol,
            config,
            output,
        };
        let next = run_step(&run, input, ranges.take(), &mut bad, stamps, &mut report)?;
        report.seconds = started.elapsed().as_secs_f64();
        reports.push(report);
        input = StepInput::Pairs(next);
    }
    Ok(reports)
}

/// One step and where its output goes.
struct StepRun<'a> {
    step: &'a StepPlan,
    id: StepId,
    /// Whether this is the job's last step (its output is the job's).
    last: bool,
    protocol: Protocol,
    config: &'a RunConfig,
    output: &'a OutputDir,
}

fn run_step(
    run: &StepRun<'_>,
    input: StepInput,
    ranges: Option<Vec<Vec<u8>>>,
    bad: &mut BadRecords,
    stamps: &[Stamp],
    report: &mut StepReport,
) -> Result<Vec<SortBuffer>> {
    let StepRun {
        step,
        id,
        last,
        protocol,
        config,
        output,
    } = *run;
    let reducers = step.new_reducer.as_ref().map(|_| config.reducers);
    let mut shuffle = SortBuffer::new();
    let mut next = Vec::new();
    let counters = &mut report.counters;

    let tasks = match &input {
        StepInput::Text(sources) => sources.len(),
        StepInput::Pairs(chunks) => chunks.len(),
    };
    for task in 0..tasks {
        let mut ctx = TaskContext::new(id.index, task);
        let mut sink = match reducers {
            Some(partitions) => Sink::Pairs {
                buf: SortBuffer::new(),
                partitions,
                values: step.map_values,
                ranges: ranges.clone(),
            },
            None if last => Sink::Text(output.part(task)?, protocol),
            None => Sink::Pairs {
                buf: SortBuffer::new(),
                partitions: 1,
                values: ValueCodec::Bincode,
                ranges: None,
            },
        };
        let mut mapper = (step.new_mapper)(None);
        let mut at = None;
        let outcome = catch_unwind(AssertUnwindSafe(|| match &input {
            StepInput::Text(sources) => map_text(
                mapper.as_mut(),
                &sources[task],
                (&mut sink, &mut ctx, &mut at),
                id,
                bad,
                counters,
                config.max_line_length,
            ),
            StepInput::Pairs(chunks) => map_pairs(mapper.as_mut(), &chunks[task], &mut sink, &mut ctx, id, counters),
        }));
        match outcome {
            Ok(res) => res?,
            Err(payload) => {
                return Err(id.task_error(Phase::Map, task, at, panic::message(payload).into()));
            }
        }
        counters.add(FRAMEWORK, names::MAP_OUTPUT_RECORDS, ctx.emitted as i64);
        if reducers.is_some() {
            counters.add(FRAMEWORK, names::MAP_OUTPUT_BYTES, ctx.emitted_bytes as i64);
        }
        finish_task(ctx, counters, &mut report.statuses);
        match sink {
            Sink::Pairs { buf, .. } if reducers.is_some() => {
                let buf = match &step.new_combiner {
                    Some(new_combiner) => {
                        let partitions = reducers.unwrap_or(1);
                        combine(step, id, task, partitions, new_combiner().as_mut(), buf, counters)?
                    }
                    None => buf,
                };
                shuffle.append(&buf)?;
            }
            Sink::Pairs { buf, .. } => next.push(buf),
            Sink::Text(part, _) => {
                let bytes = part.finish()?;
                counters.add(FRAMEWORK, names::BYTES_WRITTEN, bytes as i64);
            }
        }
    }

    if id.index == 0 {
        super::check_unchanged(stamps)?;
    }
    if let (Some(partitions), Some(new_reducer)) = (reducers, &step.new_reducer) {
        shuffle.sort(step.sort_values());
        let mut groups = shuffle.groups().peekable();
        for task in 0..partitions {
            let mut ctx = TaskContext::new(id.index, task as usize);
            let mut sink = if last {
                Sink::Text(output.part(task as usize)?, protocol)
            } else {
                Sink::Pairs {
                    buf: SortBuffer::new(),
                    partitions: 1,
                    values: ValueCodec::Bincode,
                    ranges: None,
                }
            };
            let mut reducer = new_reducer();
            let outcome = catch_unwind(AssertUnwindSafe(|| -> Result<()> {
                let fail = |e| id.task_error(Phase::Reduce, task as usize, None, e);
                reducer.setup(sink.target(), &mut ctx).map_err(fail)?;
                while let Some(mut group) = groups.next_if(|g| g.partition == task) {
                    counters.add(FRAMEWORK, names::REDUCE_INPUT_GROUPS, 1);
                    counters.add(FRAMEWORK, names::REDUCE_INPUT_RECORDS, group.values.remaining() as i64);
                    reducer
                        .reduce(group.key, &mut group.values, sink.target(), &mut ctx)
                        .map_err(fail)?;
                }
                reducer.cleanup(sink.target(), &mut ctx).map_err(fail)
            }));
            match outcome {
                Ok(res) => res?,
                Err(payload) => {
                    return Err(id.task_error(Phase::Reduce, task as usize, None, panic::message(payload).into()));
                }
            }
            counters.add(FRAMEWORK, names::REDUCE_OUTPUT_RECORDS, ctx.emitted as i64);
            finish_task(ctx, counters, &mut report.statuses);
            match sink {
                Sink::Pairs { buf, .. } => next.push(buf),
                Sink::Text(part, _) => {
                    let bytes = part.finish()?;
                    counters.add(FRAMEWORK, names::BYTES_WRITTEN, bytes as i64);
                }
            }
        }
    }
    Ok(next)
}

fn finish_task(ctx: TaskContext, counters: &mut Counters, statuses: &mut Vec<String>) {
    counters.merge(&ctx.counters);
    if let Some(status) = ctx.status {
        statuses.push(format!("task {}: {status}", ctx.task));
    }
}

/// A map task's output, context and current record (for a panic's
/// message), as the input loop updates them.
type MapState<'a> = (&'a mut Sink, &'a mut TaskContext, &'a mut Option<Location>);

fn map_text(
    mapper: &mut dyn MapTask,
    source: &TextSource,
    (sink, ctx, at): MapState<'_>,
    id: StepId,
    bad: &mut BadRecords,
    counters: &mut Counters,
    max_line: u64,
) -> Result<()> {
    let (reader, decoded, name, path): (Box<dyn std::io::Read + Send>, bool, PathBuf, Option<PathBuf>) = match source {
        TextSource::Input(src) => {
            let (reader, codec) = open_decoded(src)?;
            (reader, codec.is_some(), src.error_name(), src.path().map(PathBuf::from))
        }
        TextSource::Sample(bytes) => (
            Box::new(Cursor::new(Arc::clone(bytes).to_vec())),
            false,
            PathBuf::from("<built-in sample>"),
            None,
        ),
    };
    ctx.input_path = path.map(Arc::new);
    let task = ctx.task;
    let fail = |at: Option<Location>, e: BoxError| id.task_error(Phase::Map, task, at, e);
    mapper.setup(sink.target(), ctx).map_err(|e| fail(None, e))?;
    let mut lines = LineReader::new(reader, name.clone()).with_max_line_length(max_line);
    let mut records = 0i64;
    while let Some(line) = lines.next_line()? {
        records += 1;
        let location = || Location {
            path: Some(name.clone()),
            line: Some(line.number),
            offset: Some(line.offset),
        };
        *at = Some(location());
        match mapper.map_line(line.bytes, line.offset, sink.target(), ctx) {
            Ok(()) => {}
            Err(MapFailure::Task(e)) => {
                let at = location();
                return Err(decode_error_ahead(&mut lines, decoded).unwrap_or_else(|| fail(Some(at), e)));
            }
            Err(MapFailure::BadRecord(e)) => {
                if bad.skipped < bad.budget {
                    bad.skipped += 1;
                    counters.add(FRAMEWORK, names::SKIPPED_RECORDS, 1);
                    continue;
                }
                let location = location();
                if let Some(decode) = decode_error_ahead(&mut lines, decoded) {
                    return Err(decode);
                }
                if bad.budget == 0 {
                    return Err(Error::BadRecord {
                        step: id.index + 1,
                        location,
                        source: e,
                    });
                } else {
                    return Err(Error::TooManyBadRecords {
                        step: id.index + 1,
                        skipped: bad.skipped,
                        budget: bad.budget,
                        location,
                        source: e,
                    });
                }
            }
        }
    }
    *at = None;
    counters.add(FRAMEWORK, names::MAP_INPUT_RECORDS, records);
    counters.add(FRAMEWORK, names::BYTES_READ, lines.bytes_consumed() as i64);
    mapper.cleanup(sink.target(), ctx).map_err(|e| fail(None, e))
}

/// After a malformed record in decoded input: the decoder's error that
/// explains it, if any (see `LineReader::error_ahead`).
fn decode_error_ahead<R: std::io::Read>(lines: &mut LineReader<R>, decoded: bool) -> Option<Error> {
    if decoded { lines.error_ahead(ERROR_AHEAD) } else { None }
}

fn map_pairs(
    mapper: &mut dyn MapTask,
    chunk: &SortBuffer,
    sink: &mut Sink,
    ctx: &mut TaskContext,
    id: StepId,
    counters: &mut Counters,
) -> Result<()> {
    let task = ctx.task;
    let fail = |e: BoxError| id.task_error(Phase::Map, task, None, e);
    mapper.setup(sink.target(), ctx).map_err(fail)?;
    for i in 0..chunk.len() {
        let (_, key, value) = chunk.get(i);
        match mapper.map_pair(key, value, sink.target(), ctx) {
            Ok(()) => {}
            Err(MapFailure::Task(e) | MapFailure::BadRecord(e)) => return Err(fail(e)),
        }
    }
    counters.add(FRAMEWORK, names::MAP_INPUT_RECORDS, chunk.len() as i64);
    mapper.cleanup(sink.target(), ctx).map_err(fail)
}

/// Runs the combiner over one map task's sorted output, as a spill would.
/// Its output is partitioned again with the step's partitioner, so it lands
/// where the combined records would have.
fn combine(
    step: &StepPlan,
    id: StepId,
    task: usize,
    partitions: u32,
    combiner: &mut dyn ReduceTask,
    mut buf: SortBuffer,
    counters: &mut Counters,
) -> Result<SortBuffer> {
    buf.sort(step.sort_values());
    let mut ctx = TaskContext::new(id.index, task);
    let mut out = SortBuffer::new();
    let outcome = catch_unwind(AssertUnwindSafe(|| -> Result<()> {
        for mut group in buf.groups() {
            counters.add(FRAMEWORK, names::COMBINE_INPUT_RECORDS, group.values.remaining() as i64);
            let target = Target::Pairs {
                sink: &mut out,
                partitions,
                values: step.map_values,
                route: Route::Fixed(group.partition),
            };
            combiner
                .reduce(group.key, &mut group.values, target, &mut ctx)
                .map_err(|e| id.task_error(Phase::Combine, task, None, e))?;
        }
        Ok(())
    }));
    match outcome {
        Ok(res) => res?,
        Err(payload) => return Err(id.task_error(Phase::Combine, task, None, panic::message(payload).into())),
    }
    counters.add(FRAMEWORK, names::COMBINE_OUTPUT_RECORDS, ctx.emitted as i64);
    counters.merge(&ctx.counters);
    Ok(out)
}
