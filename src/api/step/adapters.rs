//! The adapters between the user's typed tasks and the erased
//! [`MapTask`]/[`ReduceTask`] objects runners call: each decodes records
//! at its entrance and hands an [`Emitter`] that encodes at the exit.
//! Also the two tasks the framework writes itself: the identity mapper
//! and the combiner made from an associative merge.

use std::marker::PhantomData;
use std::sync::Arc;

use super::key_order::OrderedKeys;
use super::plan::{MapFailure, MapTask, ReduceTask};
use crate::api::aggregate::TypedAgg;
use crate::api::context::TaskContext;
use crate::api::emitter::{Emitter, PartitionFn, Target};
use crate::api::input::{InputFormat, Pairs};
use crate::api::task::{Combiner, Key, Mapper, Reducer, TaskResult, Value};
use crate::api::values::Values;
use crate::codec::{self, ValueCodec};
use crate::shuffle::ValueSource;

pub(super) struct Identity<K, V>(pub(super) PhantomData<fn() -> (K, V)>);

impl<K, V> Clone for Identity<K, V> {
    fn clone(&self) -> Self {
        Identity(PhantomData)
    }
}

impl<K: Key, V: Value> Mapper for Identity<K, V> {
    type Input = Pairs<K, V>;
    type Key = K;
    type Value = V;

    fn map(&mut self, (key, value): (K, V), out: &mut Emitter<'_, K, V>) -> TaskResult {
        out.emit(key, value);
        Ok(())
    }
}

/// The general combiner made from an associative merge function.
pub(super) struct Merge<K, V, F> {
    pub(super) merge: F,
    pub(super) _types: PhantomData<fn() -> (K, V)>,
}

impl<K, V, F: Clone> Clone for Merge<K, V, F> {
    fn clone(&self) -> Self {
        Merge {
            merge: self.merge.clone(),
            _types: PhantomData,
        }
    }
}

impl<K: Key, V: Value, F: Fn(&mut V, V) + Clone + Send + Sync + 'static> Combiner for Merge<K, V, F> {
    type Key = K;
    type Value = V;

    fn combine(&mut self, key: &K, mut values: Values<'_, V>, out: &mut Emitter<'_, K, V>) -> TaskResult {
        if let Some(mut acc) = values.next() {
            for v in values {
                (self.merge)(&mut acc, v);
            }
            out.emit_ref(key, &acc);
        }
        Ok(())
    }
}

pub(super) struct TypedMap<M: Mapper> {
    pub(super) mapper: M,
    pub(super) partitioner: Option<Arc<PartitionFn<M::Key>>>,
    /// Lent to the input format (Latin-1 fallback for non-UTF-8 lines).
    pub(super) scratch: String,
    /// Typed map-side aggregation, when the runner asked for it.
    pub(super) agg: Option<TypedAgg<M::Value>>,
}

impl<M: Mapper> TypedMap<M> {
    fn run(
        mapper: &mut M,
        partitioner: Option<&PartitionFn<M::Key>>,
        agg: Option<&mut TypedAgg<M::Value>>,
        record: <M::Input as InputFormat>::Record<'_>,
        target: Target<'_>,
        ctx: &mut TaskContext,
    ) -> Result<(), MapFailure> {
        let mut out = Emitter::with_agg(target, partitioner, ctx, agg);
        mapper.map(record, &mut out).map_err(MapFailure::Task)?;
        ctx.take_error().map_err(|e| MapFailure::Task(e.into()))
    }
}

impl<M: Mapper> MapTask for TypedMap<M> {
    fn setup(&mut self, target: Target<'_>, ctx: &mut TaskContext) -> TaskResult {
        let mut out = Emitter::with_agg(target, self.partitioner.as_deref(), ctx, self.agg.as_mut());
        self.mapper.setup(&mut out)?;
        Ok(ctx.take_error()?)
    }

    fn map_line(
        &mut self,
        line: &[u8],
        offset: u64,
        target: Target<'_>,
        ctx: &mut TaskContext,
    ) -> Result<(), MapFailure> {
        let record = M::Input::from_line(line, offset, &mut self.scratch).map_err(MapFailure::BadRecord)?;
        Self::run(
            &mut self.mapper,
            self.partitioner.as_deref(),
            self.agg.as_mut(),
            record,
            target,
            ctx,
        )
    }

    fn map_pair(
        &mut self,
        key: &[u8],
        value: &[u8],
        target: Target<'_>,
        ctx: &mut TaskContext,
    ) -> Result<(), MapFailure> {
        // The previous step wrote this pair; a decoding failure is
        // corruption, not a malformed record to skip.
        let record = M::Input::from_pair(key, value).map_err(MapFailure::Task)?;
        Self::run(
            &mut self.mapper,
            self.partitioner.as_deref(),
            self.agg.as_mut(),
            record,
            target,
            ctx,
        )
    }

    fn cleanup(&mut self, target: Target<'_>, ctx: &mut TaskContext) -> TaskResult {
        let mut out = Emitter::with_agg(target, self.partitioner.as_deref(), ctx, self.agg.as_mut());
        self.mapper.cleanup(&mut out)?;
        // What the table still holds goes to the shuffle before the task ends.
        let flushed = out.flush_agg();
        if let Some(agg) = &self.agg {
            ctx.framework.combine_input_records += agg.records_in;
            ctx.framework.combine_output_records += agg.records_out;
        }
        ctx.take_error()?;
        Ok(flushed?)
    }
}

pub(super) struct TypedReduce<R: Reducer> {
    pub(super) reducer: R,
    /// The group keys, checked to arrive in `Ord`'s order.
    pub(super) keys: OrderedKeys<R::Key>,
    /// How the shuffle encoded this step's values.
    pub(super) values: ValueCodec,
}

impl<R: Reducer> ReduceTask for TypedReduce<R> {
    fn setup(&mut self, target: Target<'_>, ctx: &mut TaskContext) -> TaskResult {
        let mut out = Emitter::new(target, None, ctx);
        self.reducer.setup(&mut out)?;
        Ok(ctx.take_error()?)
    }

    fn reduce(
        &mut self,
        key: &[u8],
        values: &mut dyn ValueSource,
        target: Target<'_>,
        ctx: &mut TaskContext,
    ) -> TaskResult {
        let key = self.keys.next(key)?;
        let mut value_error = None;
        let mut out = Emitter::new(target, None, ctx);
        let res = self
            .reducer
            .reduce(key, Values::new(values, self.values, &mut value_error), &mut out);
        // A corrupt value ends the iteration early; that, not whatever the
        // reducer made of the short iteration, is the error to report.
        if let Some(e) = value_error {
            return Err(e.into());
        }
        res?;
        Ok(ctx.take_error()?)
    }

    fn cleanup(&mut self, target: Target<'_>, ctx: &mut TaskContext) -> TaskResult {
        let mut out = Emitter::new(target, None, ctx);
        self.reducer.cleanup(&mut out)?;
        Ok(ctx.take_error()?)
    }
}

pub(super) struct TypedCombine<C: Combiner> {
    pub(super) combiner: C,
    pub(super) partitioner: Option<Arc<PartitionFn<C::Key>>>,
    pub(super) values: ValueCodec,
}

impl<C: Combiner> ReduceTask for TypedCombine<C> {
    fn setup(&mut self, _target: Target<'_>, _ctx: &mut TaskContext) -> TaskResult {
        Ok(())
    }

    fn reduce(
        &mut self,
        key: &[u8],
        values: &mut dyn ValueSource,
        target: Target<'_>,
        ctx: &mut TaskContext,
    ) -> TaskResult {
        let key: C::Key = codec::key::decode(key)?;
        let mut value_error = None;
        let mut out = Emitter::new(target, self.partitioner.as_deref(), ctx);
        let res = self
            .combiner
            .combine(&key, Values::new(values, self.values, &mut value_error), &mut out);
        if let Some(e) = value_error {
            return Err(e.into());
        }
        res?;
        Ok(ctx.take_error()?)
    }

    fn cleanup(&mut self, _target: Target<'_>, _ctx: &mut TaskContext) -> TaskResult {
        Ok(())
    }
}
