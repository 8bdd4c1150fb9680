//! The task core: the one implementation of a map task and of a reduce
//! task, which every runner uses.
//!
//! A runner says where a task's records come from (a [`RecordSource`] for
//! a map task: a split of a text file, a built-in sample, a previous
//! step's pairs; a [`GroupSource`] for a reduce task: a merge of map
//! outputs, an in-memory sort) and where its pairs go (a [`PairOutput`]
//! behind the [`Outputs`] it implements: a sort buffer and spills, an
//! in-memory buffer, a run file). The core owns the rest, the same for
//! every runner: which sink a task writes to ([`sink`]), setup → records →
//! cleanup, the bad-record budget, framework counters and the status line,
//! panic capture, the combiner, and errors that name the step, task and
//! record. Attempts and their retries are the tracker's pool's, by the one
//! rule of [`Error::is_retryable`](crate::Error::is_retryable).

mod bad_records;
mod capture;
pub(crate) mod combine;
mod map;
pub(crate) mod reduce;
pub(crate) mod sink;
pub(crate) mod source;

use std::sync::Arc;

pub(crate) use bad_records::BadRecords;
pub(crate) use map::map_task;
pub(crate) use reduce::{GroupSource, reduce_task};
pub(crate) use sink::{Outputs, PairOutput, ShuffleSpec, TextOutput};
pub(crate) use source::RecordSource;

use crate::api::context::JobEnv;
use crate::api::counters::{Counters, FrameworkCounters};
use crate::api::step::plan::StepPlan;
use crate::codec::protocol::Protocol;
use crate::error::{BoxError, Error, Location, Phase};
use crate::io::output::OutputDir;
use crate::shuffle::span::Span;

/// Identifies a running step for error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct StepId {
    /// 0-based.
    pub(crate) index: usize,
    pub(crate) count: usize,
}

impl StepId {
    /// The error of a task whose user code (or an `emit` on its behalf)
    /// failed with `source`. An I/O or corrupt-data error from the
    /// framework passes through as itself: it names its file already, and
    /// its class is what decides that the task is not retried.
    pub(crate) fn task_error(self, phase: Phase, task: usize, at: Option<Location>, source: BoxError) -> Error {
        let source = match source.downcast::<Error>() {
            Ok(e) if matches!(*e, Error::Io { .. } | Error::Corrupt { .. }) => return *e,
            Ok(e) => e as BoxError,
            Err(other) => other,
        };
        Error::Task {
            step: self.index + 1,
            steps: self.count,
            phase,
            task,
            at,
            source,
        }
    }
}

/// One attempt of one task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TaskId {
    pub(crate) step: StepId,
    /// `Map` or `Reduce` (combiners run inside map tasks).
    pub(crate) phase: Phase,
    /// 0-based within the phase.
    pub(crate) index: usize,
    /// From 1.
    pub(crate) attempt: u32,
}

impl TaskId {
    /// The phase's name in paths and status lines.
    pub(crate) fn phase_name(&self) -> &'static str {
        match self.phase {
            Phase::Map | Phase::Combine => "map",
            Phase::Reduce => "reduce",
        }
    }
}

/// What every task of one step shares.
pub(crate) struct StepContext<'a> {
    pub(crate) step: &'a StepPlan,
    pub(crate) id: StepId,
    /// Whether this is the job's last step (its output is the job's).
    pub(crate) last: bool,
    /// Reduce tasks of a map-reduce step.
    pub(crate) reducers: u32,
    pub(crate) protocol: Protocol,
    /// The job's output directory (`None` for a Streaming task, which
    /// writes to its standard output).
    pub(crate) output: Option<&'a OutputDir>,
    /// Total-order boundaries, when the step has them.
    pub(crate) ranges: Option<Arc<Vec<Vec<u8>>>>,
    /// The job's bad-record budget, shared by all its tasks.
    pub(crate) bad: &'a BadRecords,
    /// The job's options and side files.
    pub(crate) env: &'a Arc<JobEnv>,
}

/// What a finished task hands back.
pub(crate) struct TaskOutcome<O> {
    /// What the next phase or step reads (`None` for the job's output).
    pub(crate) output: Option<O>,
    pub(crate) framework: FrameworkCounters,
    /// The task's spills and merges, in the order they started.
    pub(crate) spans: Vec<Span>,
    pub(crate) user: Counters,
    /// The last status line the task set, prefixed with its step, phase
    /// and index.
    pub(crate) status: Option<String>,
}

/// A task's status line as reports show it.
fn status_line(task: &TaskId, status: Option<String>) -> Option<String> {
    status.map(|s| format!("step {} {} {}: {s}", task.step.index + 1, task.phase_name(), task.index))
}
