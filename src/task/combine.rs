//! The step's combiner as the shuffle runs it: on one map task's sorted
//! output, group by group, at spill time (the local runner's spill thread)
//! or when the task ends (the inline runner).

use std::sync::{Arc, Mutex};

use super::StepId;
use super::capture::capture;
use crate::api::context::TaskContext;
use crate::api::counters::Counters;
use crate::api::emitter::{Route, Target};
use crate::api::step::plan::ReduceTask;
use crate::codec::ValueCodec;
use crate::error::{Phase, Result};
use crate::shuffle::ValueSource;
use crate::shuffle::buffer::SortBuffer;
use crate::shuffle::spill::Combine;

/// A map task's combiner. The user counters it bumps reach the task's
/// report through `counters` when it is dropped (it runs on another thread
/// than the task, inside the shuffle).
pub(crate) struct CombineTask {
    task: Box<dyn ReduceTask>,
    ctx: TaskContext,
    partitions: u32,
    values: ValueCodec,
    id: StepId,
    counters: Arc<Mutex<Counters>>,
}

impl CombineTask {
    pub(crate) fn new(
        task: Box<dyn ReduceTask>,
        id: StepId,
        index: usize,
        partitions: u32,
        values: ValueCodec,
        counters: Arc<Mutex<Counters>>,
    ) -> Self {
        CombineTask {
            task,
            ctx: TaskContext::new(id.index, index),
            partitions,
            values,
            id,
            counters,
        }
    }
}

impl Combine for CombineTask {
    fn combine(
        &mut self,
        partition: u32,
        key: &[u8],
        values: &mut dyn ValueSource,
        out: &mut SortBuffer,
    ) -> Result<()> {
        // The output keeps the group's partition: it lands where the
        // combined records would have.
        let target = Target::Pairs {
            sink: out,
            partitions: self.partitions,
            values: self.values,
            route: Route::Fixed(partition),
        };
        let (id, index) = (self.id, self.ctx.task);
        let fail = |e| id.task_error(Phase::Combine, index, None, e);
        capture(fail, || {
            self.task.reduce(key, values, target, &mut self.ctx).map_err(fail)
        })
    }
}

impl Drop for CombineTask {
    fn drop(&mut self) {
        if let Ok(mut c) = self.counters.lock() {
            c.merge(&self.ctx.counters);
        }
    }
}
