//! A first step over several named inputs, each with its own mapper
//! (Hadoop's `MultipleInputs`): the [`Named`] input format, and the map
//! task that hands each split to the mapper of the input it belongs to.
//!
//! Every mapper of the step emits the same `(K, V)` types, so the rest of
//! the step (combiner, partitioner, reducer) is written once. Each map
//! task reads one split of one file, and a file belongs to one named
//! input, so a task runs exactly one of the mappers; the others are never
//! built.

use std::sync::Arc;

use super::MapFactory;
use super::plan::{MapFailure, MapTask};
use crate::api::aggregate::TypedAgg;
use crate::api::context::TaskContext;
use crate::api::emitter::{PartitionFn, Target};
use crate::api::input::InputFormat;
use crate::api::task::TaskResult;
use crate::error::BoxError;

/// The input format of a step that reads named inputs, each with its own
/// mapper and format ([`input`](super::input)); it reads no line itself.
#[derive(Debug, Clone, Copy)]
pub struct Named;

impl InputFormat for Named {
    type Record<'a> = ();
    const NAME: &'static str = "named";

    fn from_line<'a>(_: &'a [u8], _: u64, _: &'a mut String) -> Result<(), BoxError> {
        Err("a step over named inputs reads each line with the mapper of its input".into())
    }
}

/// A map task built for the input it is given: the factories of the
/// step's inputs, by name, until `select_input` builds the one it reads.
pub(super) struct MultiMap<V> {
    /// Each input's name and how to build its task (the step's
    /// partitioner already bound in).
    pub(super) inputs: Arc<Vec<(String, InputFactory<V>)>>,
    /// The typed aggregation table, handed to whichever mapper runs.
    pub(super) agg: Option<TypedAgg<V>>,
    pub(super) current: Option<Box<dyn MapTask>>,
}

/// Builds one input's map task, given the step's typed aggregation table.
pub(super) type InputFactory<V> = Arc<dyn Fn(Option<TypedAgg<V>>) -> Box<dyn MapTask> + Send + Sync>;

/// The factory of a step's map tasks over named inputs.
pub(super) fn multi_factory<K: 'static, V: Send + 'static>(
    inputs: Vec<(String, MapFactory<K, V>)>,
) -> MapFactory<K, V> {
    let inputs = Arc::new(inputs);
    Arc::new(move |partitioner: Option<Arc<PartitionFn<K>>>, agg| {
        let bound = inputs
            .iter()
            .map(|(name, factory)| {
                let (factory, partitioner) = (Arc::clone(factory), partitioner.clone());
                let build: InputFactory<V> = Arc::new(move |agg| factory(partitioner.clone(), agg));
                (name.clone(), build)
            })
            .collect();
        Box::new(MultiMap {
            inputs: Arc::new(bound),
            agg,
            current: None,
        })
    })
}

impl<V: Send> MultiMap<V> {
    fn task(&mut self) -> Result<&mut Box<dyn MapTask>, BoxError> {
        self.current
            .as_mut()
            .ok_or_else(|| "internal error: a map task over named inputs was not told its input".into())
    }

    fn names(&self) -> String {
        self.inputs
            .iter()
            .map(|(n, _)| n.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl<V: Send> MapTask for MultiMap<V> {
    fn select_input(&mut self, input: Option<&str>) -> TaskResult {
        let Some(name) = input else {
            return Err(format!(
                "this step reads named inputs ({}), but its input was given without a name",
                self.names()
            )
            .into());
        };
        let factory = match self.inputs.iter().find(|(n, _)| n == name) {
            Some((_, factory)) => Arc::clone(factory),
            None => return Err(format!("no mapper reads input {name:?} (the step's inputs: {})", self.names()).into()),
        };
        self.current = Some(factory(self.agg.take()));
        Ok(())
    }

    fn setup(&mut self, target: Target<'_>, ctx: &mut TaskContext) -> TaskResult {
        self.task()?.setup(target, ctx)
    }

    fn map_line(
        &mut self,
        line: &[u8],
        offset: u64,
        target: Target<'_>,
        ctx: &mut TaskContext,
    ) -> Result<(), MapFailure> {
        self.task()
            .map_err(MapFailure::Task)?
            .map_line(line, offset, target, ctx)
    }

    fn map_pair(
        &mut self,
        key: &[u8],
        value: &[u8],
        target: Target<'_>,
        ctx: &mut TaskContext,
    ) -> Result<(), MapFailure> {
        self.task().map_err(MapFailure::Task)?.map_pair(key, value, target, ctx)
    }

    fn cleanup(&mut self, target: Target<'_>, ctx: &mut TaskContext) -> TaskResult {
        self.task()?.cleanup(target, ctx)
    }
}
