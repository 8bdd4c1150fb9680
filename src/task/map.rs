//! A map task: the step's mapper over one [`RecordSource`], from `setup`
//! through every record to `cleanup`, its output closed, its counters
//! counted.

use std::cell::{Cell, RefCell};
use std::path::Path;
use std::sync::{Arc, Mutex};

use super::capture::capture;
use super::combine::CombineTask;
use super::sink::{Outputs, Sink};
use super::source::{Record, RecordSource};
use super::{StepContext, TaskId, TaskOutcome, status_line};
use crate::api::context::TaskContext;
use crate::api::counters::{Counters, FrameworkCounters};
use crate::api::step::plan::MapFailure;
use crate::error::{BoxError, Location, Phase, Result};
use crate::shuffle::spill::Combine;
use crate::tracker::progress::Meter;

/// Records between two reports to the progress line.
const METER_EVERY: u64 = 256;

/// Where in its input a line is: (line number, byte offset).
type Position = (Option<u64>, u64);

/// Runs one map task attempt over `source`.
pub(crate) fn map_task<E: Outputs>(
    cx: &StepContext<'_>,
    engine: &E,
    task: TaskId,
    source: &mut dyn RecordSource,
    meter: Option<&Meter>,
) -> Result<TaskOutcome<E::Output>> {
    let (id, index) = (cx.id, task.index);
    let typed_budget = cx
        .step
        .shuffle
        .as_ref()
        .filter(|s| s.combining.typed())
        .and(engine.agg_budget());
    let combine_counters = Arc::new(Mutex::new(Counters::default()));
    let mut sink = Sink::for_map(
        cx,
        engine,
        &task,
        typed_budget.is_some(),
        || {
            let shuffle = cx.step.shuffle.as_ref()?;
            let new = shuffle.combining.combiner()?;
            Some(Box::new(CombineTask::new(
                new(),
                id,
                index,
                cx.reducers,
                shuffle.values,
                Arc::clone(&combine_counters),
            )) as Box<dyn Combine>)
        },
        meter.map(Meter::live_spills),
    )?;
    let mut mapper = (cx.step.new_mapper)(typed_budget);
    let mut ctx = TaskContext::new(id.index, index);
    ctx.input_path = source.input_path();
    ctx.input_name = source.input_name();
    ctx.env = Arc::clone(cx.env);
    // The file being read: a task over packed small files moves on.
    let name = RefCell::new(source.name().map(Path::to_path_buf));
    let split_start = Cell::new(source.split_start());
    // The line being mapped, for the message of a panic.
    let at: Cell<Option<Position>> = Cell::new(None);
    let locate = |pos: Option<Position>| {
        pos.map(|(line, offset)| Location {
            path: name.borrow().clone(),
            line,
            offset: Some(offset),
            split_start: split_start.get(),
        })
    };
    let fail = |at: Option<Location>, e: BoxError| id.task_error(Phase::Map, index, at, e);
    let mut skips = cx.bad.attempt();
    let mut counters = FrameworkCounters::default();
    capture(
        |e| fail(locate(at.get()), e),
        || {
            let input = ctx.input_name.clone();
            mapper.select_input(input.as_deref()).map_err(|e| fail(None, e))?;
            mapper.setup(sink.target(), &mut ctx).map_err(|e| fail(None, e))?;
            let mut records = 0u64;
            // What the progress line has been told (bytes from the first
            // line's offset, records), and the bytes of the files before
            // this one (a task over packed small files).
            let (mut first, mut told_bytes, mut told_records) = (None, 0u64, 0u64);
            let mut files_before = 0u64;
            let mut bad_line = Vec::new();
            loop {
                while let Some(record) = source.next_record()? {
                    records += 1;
                    if let Some(m) = meter
                        && records.is_multiple_of(METER_EVERY)
                    {
                        match &record {
                            Record::Line { offset, .. } => {
                                let done = files_before + (offset - *first.get_or_insert(*offset));
                                m.add_bytes(done.saturating_sub(told_bytes));
                                told_bytes = done;
                            }
                            Record::Pair { .. } => {
                                m.add_records(records - told_records);
                                told_records = records;
                            }
                        }
                    }
                    let result = match record {
                        Record::Line { bytes, offset, number } => {
                            at.set(Some((number, offset)));
                            let result = mapper.map_line(bytes, offset, sink.target(), &mut ctx);
                            // Kept for --bad-records-log, the only copy made.
                            if matches!(result, Err(MapFailure::BadRecord(_))) && cx.bad.logs() {
                                bad_line.clear();
                                bad_line.extend_from_slice(bytes);
                            }
                            result
                        }
                        Record::Pair { key, value } => match mapper.map_pair(key, value, sink.target(), &mut ctx) {
                            // The previous step wrote it: not a record to skip.
                            Err(MapFailure::BadRecord(e)) => Err(MapFailure::Task(e)),
                            other => other,
                        },
                    };
                    match result {
                        Ok(()) => {}
                        Err(MapFailure::Task(e)) => {
                            let here = locate(at.get());
                            return Err(source.decode_error_ahead().unwrap_or_else(|| fail(here, e)));
                        }
                        Err(MapFailure::BadRecord(e)) => {
                            if skips.skip() {
                                counters.skipped_records += 1;
                                if let Some((line, offset)) = at.get() {
                                    let here = Location {
                                        path: name.borrow().clone(),
                                        line,
                                        offset: Some(offset),
                                        split_start: split_start.get(),
                                    };
                                    skips.log(id, &here, &e, &bad_line);
                                }
                                continue;
                            }
                            let location = locate(at.get()).unwrap_or_default();
                            if let Some(decode) = source.decode_error_ahead() {
                                return Err(decode);
                            }
                            skips.log_before_failing();
                            return Err(cx.bad.error(id, location, e));
                        }
                    }
                }
                files_before = source.bytes_read();
                if !source.next_file()? {
                    break;
                }
                // The next packed file: its own name in errors, its own path
                // for `input_path()`, offsets from its own start.
                ctx.input_path = source.input_path();
                *name.borrow_mut() = source.name().map(Path::to_path_buf);
                split_start.set(source.split_start());
                first = None;
            }
            at.set(None);
            counters.map_input_records += records;
            counters.bytes_read += source.bytes_read();
            if let Some(m) = meter {
                m.add_bytes(source.bytes_read().saturating_sub(told_bytes));
                if told_records > 0 || source.bytes_read() == 0 {
                    m.add_records(records - told_records);
                }
            }
            mapper.cleanup(sink.target(), &mut ctx).map_err(|e| fail(None, e))
        },
    )?;
    counters.map_output_records += ctx.emitted;
    if cx.step.shuffle.is_some() {
        counters.map_output_bytes += ctx.emitted_bytes;
    }
    let mut spans = Vec::new();
    let output = sink.finish(&mut counters, &mut spans)?;
    counters += ctx.framework;
    let mut user = ctx.counters;
    // The combiner has been dropped with the sink.
    if let Ok(c) = combine_counters.lock() {
        user.merge(&c);
    }
    skips.commit()?;
    Ok(TaskOutcome {
        output,
        framework: counters,
        spans,
        user,
        status: status_line(&task, ctx.status),
    })
}
