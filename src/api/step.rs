//! Steps: a map stage, and optionally a shuffle and a reduce stage.
//!
//! Steps are typed where users build them ([`MapStage`], [`Step`]) so the
//! compiler checks that each step's input is the previous step's output,
//! and erased where the runner uses them (`StepPlan`): the runner only
//! moves bytes and calls back into `MapTask`/`ReduceTask` objects, which
//! decode at their entrance and encode at their exit.

use std::marker::PhantomData;
use std::sync::Arc;

use serde::Serialize;

use crate::api::aggregate::{TypedAgg, TypedMerge};
use crate::api::context::TaskContext;
use crate::api::counters::{FRAMEWORK, names};
use crate::api::emitter::{Emitter, PartitionFn, Target};
use crate::api::input::{InputFormat, Pairs};
use crate::api::task::{Combiner, Key, Mapper, Reducer, TaskResult, Value};
use crate::api::values::Values;
use crate::codec::{self, ValueCodec};
use crate::error::BoxError;
use crate::shuffle::ValueSource;
use crate::shuffle::aggregate::MergeValues;

/// Why one input record failed in a map task.
pub(crate) enum MapFailure {
    /// The record could not be decoded: malformed input, skippable.
    BadRecord(BoxError),
    /// User code or the framework failed while handling it.
    Task(BoxError),
}

/// A running map task, with the user's types erased.
pub(crate) trait MapTask: Send {
    fn setup(&mut self, target: Target<'_>, ctx: &mut TaskContext) -> TaskResult;
    fn map_line(
        &mut self,
        line: &[u8],
        offset: u64,
        target: Target<'_>,
        ctx: &mut TaskContext,
    ) -> Result<(), MapFailure>;
    fn map_pair(
        &mut self,
        key: &[u8],
        value: &[u8],
        target: Target<'_>,
        ctx: &mut TaskContext,
    ) -> Result<(), MapFailure>;
    fn cleanup(&mut self, target: Target<'_>, ctx: &mut TaskContext) -> TaskResult;
}

/// A running reduce (or combine) task, with the user's types erased.
pub(crate) trait ReduceTask: Send {
    fn setup(&mut self, target: Target<'_>, ctx: &mut TaskContext) -> TaskResult;
    fn reduce(
        &mut self,
        key: &[u8],
        values: &mut dyn ValueSource,
        target: Target<'_>,
        ctx: &mut TaskContext,
    ) -> TaskResult;
    fn cleanup(&mut self, target: Target<'_>, ctx: &mut TaskContext) -> TaskResult;
}

type MapFactory<K, V> = Arc<dyn Fn(Option<Arc<PartitionFn<K>>>, Option<TypedAgg<V>>) -> Box<dyn MapTask> + Send + Sync>;
/// What typed aggregation needs of `combine_with`: the merge and a clone.
type TypedSpec<V> = (TypedMerge<V>, fn(&V) -> V);
/// A map task factory; the argument is the byte budget of the typed
/// aggregation table, when the runner wants one (see `StepPlan::typed_agg`).
type MapTaskFactory = Box<dyn Fn(Option<usize>) -> Box<dyn MapTask> + Send + Sync>;
type CombineFactory<K> = Arc<dyn Fn(Option<Arc<PartitionFn<K>>>, ValueCodec) -> Box<dyn ReduceTask> + Send + Sync>;
type TaskFactory<T> = Box<dyn Fn() -> Box<T> + Send + Sync>;

/// A step as the runner sees it.
pub(crate) struct StepPlan {
    pub(crate) description: StepDescription,
    pub(crate) new_mapper: MapTaskFactory,
    pub(crate) new_combiner: Option<TaskFactory<dyn ReduceTask>>,
    pub(crate) new_reducer: Option<TaskFactory<dyn ReduceTask>>,
    /// How the map stage encodes values for the shuffle.
    pub(crate) map_values: ValueCodec,
    /// The combiner as an associative merge of encoded values, when the
    /// step was built with `combine_with`: enables hash aggregation.
    pub(crate) merge: Option<Arc<MergeValues>>,
    /// Partition by ranges of a key sample, so parts are globally sorted.
    pub(crate) total_order: bool,
    /// Whether map tasks can aggregate typed values before the shuffle
    /// (then they take part of the sort buffer's budget for their table).
    pub(crate) typed_agg: bool,
}

impl StepPlan {
    /// Whether values are sorted within a key (secondary sort).
    pub(crate) fn sort_values(&self) -> bool {
        self.map_values == ValueCodec::Ordered
    }
}

/// A step, as `--describe` prints it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StepDescription {
    /// `map-reduce` or `map-only`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The input format's name (`text`, `json`, `pairs`).
    pub input: &'static str,
    /// The mapper's type name, or `None` for the identity mapper.
    pub mapper: Option<String>,
    /// The combiner's type name, if any.
    pub combiner: Option<String>,
    /// The reducer's type name, if any.
    pub reducer: Option<String>,
    /// Whether values are sorted within each key.
    pub sort_values: bool,
    /// `hash` (xxh3 of the key bytes), `custom` or `total-order`.
    pub partitioner: &'static str,
}

/// The last path segment of a type's name, generics kept.
fn short_name<T>() -> String {
    let full = std::any::type_name::<T>();
    let base = full.split('<').next().unwrap_or(full);
    let start = base.rfind("::").map_or(0, |i| i + 2);
    full[start..].to_owned()
}

/// A step's map stage, with its options. Finish it with [`MapStage::reduce`],
/// or use it as a map-only step (it converts into a [`Step`]).
pub struct MapStage<I, K, V> {
    input: &'static str,
    mapper: Option<String>,
    new_mapper: MapFactory<K, V>,
    /// The merge and clone of `combine_with`, for typed aggregation.
    typed: Option<TypedSpec<V>>,
    combiner: Option<(String, CombineFactory<K>)>,
    merge: Option<Arc<MergeValues>>,
    partitioner: Option<Arc<PartitionFn<K>>>,
    total_order: bool,
    values: ValueCodec,
    _types: PhantomData<fn(I) -> (K, V)>,
}

/// One complete step that reads `I` records and writes `(K, V)` pairs.
pub struct Step<I, K, V> {
    pub(crate) plan: StepPlan,
    _types: PhantomData<fn(I) -> (K, V)>,
}

/// A map stage running `mapper`.
pub fn map<M: Mapper>(mapper: M) -> MapStage<M::Input, M::Key, M::Value> {
    MapStage {
        input: <M::Input as InputFormat>::NAME,
        mapper: Some(short_name::<M>()),
        new_mapper: Arc::new(move |partitioner, agg| {
            Box::new(TypedMap {
                mapper: mapper.clone(),
                partitioner,
                scratch: String::new(),
                agg,
            })
        }),
        typed: None,
        combiner: None,
        merge: None,
        partitioner: None,
        total_order: false,
        values: ValueCodec::Bincode,
        _types: PhantomData,
    }
}

/// A map stage that passes the previous step's pairs through unchanged
/// (mrjob's identity mapper, Hadoop Streaming's `-mapper cat`).
pub fn identity<K: Key, V: Value>() -> MapStage<Pairs<K, V>, K, V> {
    let mut stage = map(Identity::<K, V>(PhantomData));
    stage.mapper = None;
    stage
}

/// The type of a reduce-only step running `R`.
pub type ReduceOnly<R> =
    Step<Pairs<<R as Reducer>::Key, <R as Reducer>::Value>, <R as Reducer>::OutKey, <R as Reducer>::OutValue>;

/// A reduce-only step: the identity map stage, then `reducer`.
pub fn reduce<R: Reducer>(reducer: R) -> ReduceOnly<R> {
    identity::<R::Key, R::Value>().reduce(reducer)
}

impl<I: InputFormat, K: Key, V: Value> MapStage<I, K, V> {
    /// Runs `combiner` on map output before the shuffle.
    pub fn combine<C: Combiner<Key = K, Value = V>>(mut self, combiner: C) -> Self {
        let factory: CombineFactory<K> = Arc::new(move |partitioner, values| {
            Box::new(TypedCombine {
                combiner: combiner.clone(),
                partitioner,
                values,
            })
        });
        self.combiner = Some((short_name::<C>(), factory));
        self.merge = None;
        self.typed = None;
        self
    }

    /// Combines with an associative, commutative merge of two values into
    /// one (`|acc, v| *acc += v`), like Spark's `reduceByKey`: map tasks
    /// merge values in a hash table as they are emitted, so only one pair
    /// per distinct key and spill reaches the sort.
    pub fn combine_with<F>(self, merge: F) -> Self
    where
        F: Fn(&mut V, V) + Clone + Send + Sync + 'static,
        V: Clone,
    {
        let mut stage = self.combine(Merge::<K, V, F> {
            merge: merge.clone(),
            _types: PhantomData,
        });
        if let Some((name, _)) = &mut stage.combiner {
            // A closure's type name is noise in `--describe`.
            *name = format!("combine_with<{}>", short_name::<V>());
        }
        // The same merge on encoded values, for map-side hash aggregation;
        // the codec is the stage's, read when the merge runs.
        let codec = stage.values;
        if codec == ValueCodec::Ordered {
            // Sorted values go through the general combiner (see sort_values).
            return stage;
        }
        // Plain-data values merge typed, in the map task (exact memory: no
        // heap behind them); others merge encoded, in the shuffle.
        if !std::mem::needs_drop::<V>() {
            let typed = merge.clone();
            stage.typed = Some((Arc::new(move |a: &mut V, b: V| typed(a, b)), <V as Clone>::clone));
        }
        stage.merge = Some(Arc::new(move |acc: &mut Vec<u8>, v: &[u8]| {
            let mut a: V = codec.decode(acc)?;
            merge(&mut a, codec.decode(v)?);
            acc.clear();
            codec.encode_into(&a, acc)
        }));
        stage
    }

    /// Sends each key to the partition (reduce task) `partitioner(key,
    /// partitions)` returns, instead of `xxh3(key bytes) % partitions`.
    /// Returning a partition `>= partitions` fails the task.
    pub fn partition_by<P>(mut self, partitioner: P) -> Self
    where
        P: Fn(&K, u32) -> u32 + Send + Sync + 'static,
    {
        self.partitioner = Some(Arc::new(partitioner));
        self.total_order = false;
        self
    }

    /// Total order (Hadoop's `TotalOrderPartitioner`, Spark's `sortByKey`):
    /// before the step runs, the runner maps a sample of the input and cuts
    /// the sampled keys into `reducers` ranges, so part `i` holds only keys
    /// below part `i + 1`'s and the concatenated parts are globally sorted.
    /// Supported on a job's first step, reading files (not standard input).
    pub fn total_order(mut self) -> Self {
        self.total_order = true;
        self.partitioner = None;
        self
    }

    /// Ends the step with `reducer`, which receives every key's values.
    pub fn reduce<R>(self, reducer: R) -> Step<I, R::OutKey, R::OutValue>
    where
        R: Reducer<Key = K, Value = V>,
    {
        let values = self.values;
        let description = StepDescription {
            kind: "map-reduce",
            reducer: Some(short_name::<R>()),
            ..self.describe()
        };
        let new_reducer: TaskFactory<dyn ReduceTask> = Box::new(move || {
            Box::new(TypedReduce {
                reducer: reducer.clone(),
                key: None,
                values,
            })
        });
        let partitioner = self.partitioner.clone();
        let new_combiner = self.combiner.map(|(_, factory)| {
            let partitioner = partitioner.clone();
            Box::new(move || factory(partitioner.clone(), values)) as TaskFactory<dyn ReduceTask>
        });
        let new_mapper = self.new_mapper;
        let typed = self.typed;
        let typed_agg = typed.is_some();
        Step {
            plan: StepPlan {
                description,
                new_mapper: Box::new(move |budget| {
                    let agg = budget.and_then(|b| typed.as_ref().map(|(m, c)| TypedAgg::new(b, m.clone(), *c)));
                    new_mapper(partitioner.clone(), agg)
                }),
                new_combiner,
                new_reducer: Some(new_reducer),
                map_values: values,
                merge: self.merge,
                total_order: self.total_order,
                typed_agg,
            },
            _types: PhantomData,
        }
    }

    fn describe(&self) -> StepDescription {
        StepDescription {
            kind: "map-only",
            input: self.input,
            mapper: self.mapper.clone(),
            combiner: self.combiner.as_ref().map(|(name, _)| name.clone()),
            reducer: None,
            sort_values: self.values == ValueCodec::Ordered,
            partitioner: if self.partitioner.is_some() { "custom" } else { "hash" },
        }
    }
}

impl<I: InputFormat, K: Key, V: Key> MapStage<I, K, V> {
    /// Secondary sort: each key's values reach the reducer sorted by `V`'s
    /// order (mrjob's `SORT_VALUES`). Values must then be [`Key`]s, since
    /// they are encoded order-preserving.
    pub fn sort_values(mut self) -> Self {
        self.values = ValueCodec::Ordered;
        // Values must reach the reducer sorted, not pre-merged in a hash
        // table encoded with the other codec: the general combiner path
        // (at spill time) still runs.
        self.merge = None;
        self.typed = None;
        self
    }
}

/// A map stage on its own is a map-only step. A combiner, partitioner or
/// value order set on it has no effect then, as in Hadoop.
impl<I: InputFormat, K: Key, V: Value> From<MapStage<I, K, V>> for Step<I, K, V> {
    fn from(stage: MapStage<I, K, V>) -> Self {
        let mut description = stage.describe();
        description.combiner = None;
        description.sort_values = false;
        description.partitioner = "hash";
        let new_mapper = stage.new_mapper;
        Step {
            plan: StepPlan {
                description,
                new_mapper: Box::new(move |_| new_mapper(None, None)),
                new_combiner: None,
                new_reducer: None,
                map_values: ValueCodec::Bincode,
                merge: None,
                total_order: false,
                typed_agg: false,
            },
            _types: PhantomData,
        }
    }
}

struct Identity<K, V>(PhantomData<fn() -> (K, V)>);

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
struct Merge<K, V, F> {
    merge: F,
    _types: PhantomData<fn() -> (K, V)>,
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

struct TypedMap<M: Mapper> {
    mapper: M,
    partitioner: Option<Arc<PartitionFn<M::Key>>>,
    /// Lent to the input format (Latin-1 fallback for non-UTF-8 lines).
    scratch: String,
    /// Typed map-side aggregation, when the runner asked for it.
    agg: Option<TypedAgg<M::Value>>,
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
            ctx.counters
                .add(FRAMEWORK, names::COMBINE_INPUT_RECORDS, agg.records_in as i64);
            ctx.counters
                .add(FRAMEWORK, names::COMBINE_OUTPUT_RECORDS, agg.records_out as i64);
        }
        ctx.take_error()?;
        Ok(flushed?)
    }
}

struct TypedReduce<R: Reducer> {
    reducer: R,
    /// The last group's key, decoded into in place: a `String` key's
    /// buffer is reused from group to group instead of reallocated.
    key: Option<R::Key>,
    /// How the shuffle encoded this step's values.
    values: ValueCodec,
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
        let key = match &mut self.key {
            Some(last) => {
                codec::key::decode_in_place(key, last)?;
                last
            }
            None => self.key.insert(codec::key::decode(key)?),
        };
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

struct TypedCombine<C: Combiner> {
    combiner: C,
    partitioner: Option<Arc<PartitionFn<C::Key>>>,
    values: ValueCodec,
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
