//! Where a task's output goes, and the one rule that chooses it.
//!
//! A map task of a map-reduce step writes to the shuffle, partitioned; a
//! task whose output is the job's (a reduce task of the last step, a map
//! task of a map-only last step) writes text part files in the job's
//! output protocol; any other task passes its pairs on to the next step.
//! Runners supply the shuffle and pass-on outputs ([`Outputs`]); the text
//! part files are the output directory's. Routing is decided here too:
//! total-order ranges if the step has them, else with one partition
//! always partition 0 (as Hadoop does: a custom partitioner is not called),
//! else the step's partitioner or the key hash.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use super::{StepContext, TaskId};
use crate::api::counters::FrameworkCounters;
use crate::api::emitter::{Route, Target};
use crate::codec::ValueCodec;
use crate::codec::protocol::Protocol;
use crate::error::{Error, Result};
use crate::io::output::PartWriter;
use crate::shuffle::PairSink;
use crate::shuffle::aggregate::MergeValues;
use crate::shuffle::span::Span;
use crate::shuffle::spill::Combine;

/// A runner's destination for a task's encoded pairs.
pub(crate) trait PairOutput<O>: PairSink + Send {
    /// Closes the output (a last spill, a flush); adds what it did to
    /// `counters`, its spills and merges to `spans`, and returns what the
    /// next phase or step reads.
    fn finish(self: Box<Self>, counters: &mut FrameworkCounters, spans: &mut Vec<Span>) -> Result<O>;
}

/// A destination for the job's text output (a part file, a Streaming
/// task's standard output).
pub(crate) trait TextOutput: std::io::Write + Send {
    /// Flushes and closes it; returns the bytes written.
    fn finish(self: Box<Self>) -> Result<u64>;
}

impl TextOutput for PartWriter {
    fn finish(self: Box<Self>) -> Result<u64> {
        PartWriter::finish(*self)
    }
}

/// What a map task's shuffle output must do.
pub(crate) struct ShuffleSpec {
    pub(crate) partitions: u32,
    /// Sort values within a key (secondary sort).
    pub(crate) by_value: bool,
    /// The combiner, to run on sorted output.
    pub(crate) combine: Option<Box<dyn Combine>>,
    /// An associative merge of encoded values, for hash aggregation.
    pub(crate) merge: Option<Arc<MergeValues>>,
    /// Whether the map task aggregates typed values itself (then what
    /// reaches the output is already combined, and the task's table has
    /// taken part of the memory budget: see [`Outputs::agg_budget`]).
    pub(crate) typed_agg: bool,
    /// Counted up as each spill is written, when a progress line shows
    /// spills (an output that spills counts them here, not at the end).
    pub(crate) live_spills: Option<Arc<AtomicU64>>,
}

/// What a runner provides for task output.
pub(crate) trait Outputs: Sync {
    /// What one task leaves for the next phase or step.
    type Output: Send;

    /// Bytes for a map task's typed aggregation table, if the runner
    /// wants map tasks to aggregate typed values (see [`ShuffleSpec`]).
    fn agg_budget(&self) -> Option<usize> {
        None
    }

    /// A map task's output to the shuffle.
    fn shuffle_output(&self, task: &TaskId, spec: ShuffleSpec) -> Result<Box<dyn PairOutput<Self::Output>>>;

    /// A task's pairs for the next step (one partition, in order).
    fn pass_output(&self, task: &TaskId) -> Result<Box<dyn PairOutput<Self::Output>>>;

    /// Where a last-step task writes the job's output: by default its part
    /// file in the job's output directory.
    fn text_output(&self, cx: &StepContext<'_>, task: &TaskId) -> Result<Box<dyn TextOutput>> {
        match cx.output {
            Some(output) => Ok(Box::new(output.part(task.index)?)),
            None => Err(Error::Internal("a last-step task without an output directory".into())),
        }
    }
}

/// Where one task writes.
pub(crate) enum Sink<O> {
    Shuffle {
        out: Box<dyn PairOutput<O>>,
        partitions: u32,
        values: ValueCodec,
        ranges: Option<Arc<Vec<Vec<u8>>>>,
    },
    Pass(Box<dyn PairOutput<O>>),
    Text(Box<dyn TextOutput>, Protocol),
}

impl<O> Sink<O> {
    /// A map task's sink. `combine` is the step's combiner, used only
    /// when the step shuffles and the task does not aggregate itself.
    pub(crate) fn for_map<E: Outputs<Output = O>>(
        cx: &StepContext<'_>,
        engine: &E,
        task: &TaskId,
        typed_agg: bool,
        combine: impl FnOnce() -> Option<Box<dyn Combine>>,
        live_spills: Option<Arc<AtomicU64>>,
    ) -> Result<Self> {
        match &cx.step.shuffle {
            Some(shuffle) => {
                let spec = ShuffleSpec {
                    partitions: cx.reducers,
                    by_value: shuffle.sort_values(),
                    combine: if typed_agg { None } else { combine() },
                    merge: if typed_agg {
                        None
                    } else {
                        shuffle.combining.merge().cloned()
                    },
                    typed_agg,
                    live_spills,
                };
                Ok(Sink::Shuffle {
                    out: engine.shuffle_output(task, spec)?,
                    partitions: cx.reducers,
                    values: shuffle.values,
                    ranges: cx.ranges.clone(),
                })
            }
            None => Self::for_output(cx, engine, task),
        }
    }

    /// The sink of a task whose pairs leave the step: the job's text
    /// output for the last step, else the next step's input.
    pub(crate) fn for_output<E: Outputs<Output = O>>(cx: &StepContext<'_>, engine: &E, task: &TaskId) -> Result<Self> {
        if cx.last {
            Ok(Sink::Text(engine.text_output(cx, task)?, cx.protocol))
        } else {
            Ok(Sink::Pass(engine.pass_output(task)?))
        }
    }

    /// Where the emitter writes.
    pub(crate) fn target(&mut self) -> Target<'_> {
        match self {
            Sink::Shuffle {
                out,
                partitions,
                values,
                ranges,
            } => Target::Pairs {
                route: match ranges {
                    Some(r) => Route::Ranges(r),
                    None if *partitions == 1 => Route::Fixed(0),
                    None => Route::Hash,
                },
                sink: out.as_mut(),
                partitions: *partitions,
                values: *values,
            },
            Sink::Pass(out) => Target::Pairs {
                sink: out.as_mut(),
                partitions: 1,
                values: ValueCodec::Bincode,
                route: Route::Fixed(0),
            },
            Sink::Text(out, protocol) => Target::Text {
                out: out.as_mut(),
                protocol: *protocol,
            },
        }
    }

    /// Closes the sink: what the next phase or step reads, if anything.
    pub(crate) fn finish(self, counters: &mut FrameworkCounters, spans: &mut Vec<Span>) -> Result<Option<O>> {
        match self {
            Sink::Shuffle { out, .. } | Sink::Pass(out) => out.finish(counters, spans).map(Some),
            Sink::Text(part, _) => {
                counters.bytes_written += part.finish()?;
                Ok(None)
            }
        }
    }
}
