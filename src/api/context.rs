//! Per-task state the framework shares with user code through the emitter:
//! counters, the status line, what the task is reading, and the first
//! error an `emit` hit.

use std::path::PathBuf;
use std::sync::Arc;

use crate::api::counters::{Counters, FrameworkCounters};
use crate::api::job_options::JobOptions;
use crate::error::Error;

/// What every task of a run may read besides its records: the job's
/// options and the side files given for it.
#[derive(Debug, Default)]
pub(crate) struct JobEnv {
    pub(crate) options: Option<JobOptions>,
    /// `--side NAME=PATH`, as the task process can open them.
    pub(crate) sides: Vec<(String, PathBuf)>,
    /// `-D KEY=VALUE` (`--jobconf`).
    pub(crate) jobconf: Vec<(String, String)>,
}

/// The framework's side of one running task.
#[derive(Debug, Default)]
pub(crate) struct TaskContext {
    /// The user's counters.
    pub(crate) counters: Counters,
    /// The framework's counters that user-facing code bumps (map-side
    /// aggregation's combine counts); the task core adds the rest.
    pub(crate) framework: FrameworkCounters,
    pub(crate) status: Option<String>,
    /// The first error from an `emit`; the task fails with it once the user
    /// call returns, so `emit` itself need not return a `Result`.
    pub(crate) error: Option<Error>,
    pub(crate) input_path: Option<Arc<PathBuf>>,
    /// The named input (`--input NAME=PATH`) a map task reads.
    pub(crate) input_name: Option<Arc<str>>,
    pub(crate) env: Arc<JobEnv>,
    pub(crate) step: usize,
    pub(crate) task: usize,
    /// Pairs and encoded bytes emitted since the runner last looked.
    pub(crate) emitted: u64,
    pub(crate) emitted_bytes: u64,
    pub(crate) key_buf: Vec<u8>,
    pub(crate) value_buf: Vec<u8>,
}

impl TaskContext {
    pub(crate) fn new(step: usize, task: usize) -> Self {
        TaskContext {
            step,
            task,
            ..TaskContext::default()
        }
    }

    /// Records `e` unless an earlier error is already recorded.
    pub(crate) fn fail(&mut self, e: Error) {
        if self.error.is_none() {
            self.error = Some(e);
        }
    }

    pub(crate) fn take_error(&mut self) -> Result<(), Error> {
        self.error.take().map_or(Ok(()), Err)
    }
}
