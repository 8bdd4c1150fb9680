//! A reduce task: the step's reducer over one partition's key groups,
//! from `setup` through every group to `cleanup`.

use super::capture::capture;
use super::sink::{Outputs, Sink};
use super::{StepContext, TaskId, TaskOutcome, status_line};
use crate::api::context::TaskContext;
use crate::api::counters::FrameworkCounters;
use crate::error::{AtKey, Error, Phase, Result};
use crate::shuffle::ValueSource;
use crate::shuffle::span::Span;
use crate::tracker::progress::Meter;

/// What a reduce task does with one key group.
pub(crate) type ReduceGroup<'a> = dyn FnMut(&[u8], &mut dyn ValueSource) -> Result<()> + 'a;

/// A reduce task's input: one partition's records, grouped by key, keys
/// in order.
pub(crate) trait GroupSource {
    /// Calls `reduce` with each key and its values, in key order. Values
    /// `reduce` leaves unread are skipped.
    fn for_each_group(&mut self, reduce: &mut ReduceGroup<'_>) -> Result<()>;

    /// Adds what reading did (records read, merge passes, records spilled
    /// by intermediate merges) to `counters`.
    fn add_counters(&self, counters: &mut FrameworkCounters);

    /// The merges reading took (intermediate passes), for the timeline.
    fn take_spans(&mut self) -> Vec<Span> {
        Vec::new()
    }
}

/// A key's values, their bytes counted as they are read.
struct Counted<'a> {
    inner: &'a mut dyn ValueSource,
    bytes: u64,
    records: u64,
}

impl ValueSource for Counted<'_> {
    fn next_value(&mut self) -> Option<Result<&[u8]>> {
        let value = self.inner.next_value();
        if let Some(Ok(v)) = &value {
            self.bytes += v.len() as u64;
            self.records += 1;
        }
        value
    }
}

/// Runs one reduce task attempt over `groups`.
pub(crate) fn reduce_task<E: Outputs>(
    cx: &StepContext<'_>,
    engine: &E,
    task: TaskId,
    groups: &mut dyn GroupSource,
    meter: Option<&Meter>,
) -> Result<TaskOutcome<E::Output>> {
    let (id, index) = (cx.id, task.index);
    let shuffle = cx
        .step
        .shuffle
        .as_ref()
        .ok_or_else(|| Error::Internal("a reduce task of a map-only step".into()))?;
    let mut sink = Sink::for_output(cx, engine, &task)?;
    let mut reducer = (shuffle.new_reducer)();
    let mut ctx = TaskContext::new(id.index, index);
    ctx.env = std::sync::Arc::clone(cx.env);
    let mut counters = FrameworkCounters::default();
    let fail = |e| id.task_error(Phase::Reduce, index, None, e);
    // An error while reducing a key names it.
    let fail_at = |key: &[u8], e| {
        let keyed = AtKey {
            key: (shuffle.key_text)(key),
            source: e,
        };
        id.task_error(Phase::Reduce, index, None, Box::new(keyed))
    };
    capture(fail, || {
        reducer.setup(sink.target(), &mut ctx).map_err(fail)?;
        groups.for_each_group(&mut |key, values| {
            counters.reduce_input_groups += 1;
            let mut counted = Counted {
                inner: values,
                bytes: key.len() as u64,
                records: 0,
            };
            reducer
                .reduce(key, &mut counted, sink.target(), &mut ctx)
                .map_err(|e| fail_at(key, e))?;
            // What the reducer left unread is the partition's too (the
            // source would skip it at the same cost).
            while let Some(v) = counted.next_value() {
                v?;
            }
            counters.reduce_shuffle_bytes += counted.bytes;
            if let Some(m) = meter {
                m.add_records(counted.records);
            }
            Ok(())
        })?;
        reducer.cleanup(sink.target(), &mut ctx).map_err(fail)
    })?;
    groups.add_counters(&mut counters);
    let mut spans = groups.take_spans();
    counters.reduce_output_records += ctx.emitted;
    let output = sink.finish(&mut counters, &mut spans)?;
    counters += ctx.framework;
    Ok(TaskOutcome {
        output,
        framework: counters,
        spans,
        user: ctx.counters,
        status: status_line(&task, ctx.status),
    })
}
