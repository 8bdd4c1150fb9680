//! Steps: a map stage, and optionally a shuffle and a reduce stage.
//!
//! Steps are typed where users build them ([`MapStage`], [`Step`]) so the
//! compiler checks that each step's input is the previous step's output,
//! and erased where the runner uses them (`plan`): the runner only moves
//! bytes and calls back into task objects (`adapters`) that decode at
//! their entrance and encode at their exit. The builder records the user's
//! choices as they are given ([`Partitioning`], [`Combining`],
//! [`ValueOrder`]); [`MapStage::reduce`] resolves them into one plan.

mod adapters;
mod join;
mod key_order;
mod named;
mod options;
pub(crate) mod plan;

use std::marker::PhantomData;
use std::sync::Arc;

use adapters::{Identity, Merge, TypedCombine, TypedMap, TypedReduce};
pub use join::{JoinKind, JoinStage, Joiner, join};
use key_order::OrderedKeys;
pub use named::Named;
pub use options::{Combining, NamedInput, Partitioning, StepDescription, StepKind, ValueOrder};
use plan::{CombinePlan, MapTask, ReduceTask, ReduceTaskFactory, ShufflePlan, StepPlan};

use crate::api::aggregate::{TypedAgg, TypedMerge};
use crate::api::emitter::PartitionFn;
use crate::api::input::{InputFormat, Pairs};
use crate::api::task::{Combiner, Key, Mapper, Reducer, Value};
use crate::codec::ValueCodec;
use crate::shuffle::aggregate::MergeValues;

type MapFactory<K, V> = Arc<dyn Fn(Option<Arc<PartitionFn<K>>>, Option<TypedAgg<V>>) -> Box<dyn MapTask> + Send + Sync>;
/// What typed aggregation needs of `combine_with`: the merge and a clone.
type TypedSpec<V> = (TypedMerge<V>, fn(&V) -> V);
type CombineFactory<K> = Arc<dyn Fn(Option<Arc<PartitionFn<K>>>, ValueCodec) -> Box<dyn ReduceTask> + Send + Sync>;

/// The last path segment of a type's name, generics kept.
fn short_name<T>() -> String {
    let full = std::any::type_name::<T>();
    let base = full.split('<').next().unwrap_or(full);
    let start = base.rfind("::").map_or(0, |i| i + 2);
    full[start..].to_owned()
}

/// How the user asked for map output to be combined.
enum CombineChoice<K, V> {
    None,
    Combiner {
        name: String,
        factory: CombineFactory<K>,
    },
    /// `combine_with`: the combiner made from the merge, and the merge
    /// itself for hash aggregation.
    Associative {
        name: String,
        factory: CombineFactory<K>,
        merge: TypedMerge<V>,
        clone: fn(&V) -> V,
    },
}

/// How the user asked for keys to be partitioned.
enum PartitionChoice<K> {
    Hash,
    Custom(Arc<PartitionFn<K>>),
    TotalOrder,
}

impl<K> PartitionChoice<K> {
    fn kind(&self) -> Partitioning {
        match self {
            PartitionChoice::Hash => Partitioning::Hash,
            PartitionChoice::Custom(_) => Partitioning::Custom,
            PartitionChoice::TotalOrder => Partitioning::TotalOrder,
        }
    }

    fn function(&self) -> Option<Arc<PartitionFn<K>>> {
        match self {
            PartitionChoice::Custom(p) => Some(Arc::clone(p)),
            _ => None,
        }
    }
}

/// A step's map stage, with its options. Finish it with [`MapStage::reduce`],
/// or use it as a map-only step (it converts into a [`Step`]).
///
/// Each option replaces the earlier choice of its kind (a later
/// `partition_by` replaces `total_order`, a later `combine` replaces
/// `combine_with`); options of different kinds are independent.
pub struct MapStage<I, K, V> {
    input: &'static str,
    mapper: Option<String>,
    new_mapper: MapFactory<K, V>,
    /// For a step over named inputs: each input's description and mapper.
    named: Vec<(NamedInput, MapFactory<K, V>)>,
    combining: CombineChoice<K, V>,
    partitioning: PartitionChoice<K>,
    values: ValueOrder,
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
        named: Vec::new(),
        combining: CombineChoice::None,
        partitioning: PartitionChoice::Hash,
        values: ValueOrder::Arrival,
        _types: PhantomData,
    }
}

/// A first step's map stage over named inputs (Hadoop's
/// `MultipleInputs`): input `name` (`--input NAME=PATH`) is read by
/// `mapper`, with its own input format; add the others with
/// [`MapStage::input`]. Every mapper emits the same key and value types.
/// Splits, the bad-record budget and error locations work per input file
/// as they do for a single input.
///
/// ```
/// use mapreduce::prelude::*;
///
/// #[derive(Clone)]
/// struct Names;
/// impl Mapper for Names {
///     type Input = TextLine;
///     type Key = String;
///     type Value = u64;
///     fn map(&mut self, line: Line<'_>, out: &mut Emitter<'_, String, u64>) -> TaskResult {
///         out.emit(line.text.to_owned(), 1);
///         Ok(())
///     }
/// }
///
/// #[derive(Clone)]
/// struct Scores;
/// impl Mapper for Scores {
///     type Input = JsonLine<(String, u64)>;
///     type Key = String;
///     type Value = u64;
///     fn map(&mut self, (name, score): (String, u64), out: &mut Emitter<'_, String, u64>) -> TaskResult {
///         out.emit(name, score);
///         Ok(())
///     }
/// }
///
/// #[derive(Clone)]
/// struct Sum;
/// impl Reducer for Sum {
///     type Key = String;
///     type Value = u64;
///     type OutKey = String;
///     type OutValue = u64;
///     fn reduce(&mut self, k: &String, v: Values<'_, u64>, out: &mut Emitter<'_, String, u64>) -> TaskResult {
///         out.emit(k.clone(), v.sum());
///         Ok(())
///     }
/// }
///
/// let job = Job::new("tally", step::input("names", Names).input("scores", Scores).reduce(Sum));
/// let dir = tempfile::tempdir()?;
/// let (names, scores) = (dir.path().join("names.txt"), dir.path().join("scores.json"));
/// std::fs::write(&names, "ann\nbob\n")?;
/// std::fs::write(&scores, "[\"ann\", 10]\n")?;
/// let mut config = RunConfig::default();
/// config.named_inputs = vec![("names".into(), names.into()), ("scores".into(), scores.into())];
/// let mut out = Vec::new();
/// mapreduce::runner::run(&job, &config, &mut out)?;
/// assert_eq!(String::from_utf8(out)?, "\"ann\"\t11\n\"bob\"\t1\n");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn input<M: Mapper>(name: impl Into<String>, mapper: M) -> MapStage<Named, M::Key, M::Value> {
    let stage = MapStage {
        input: Named::NAME,
        mapper: None,
        new_mapper: map(mapper.clone()).new_mapper,
        named: Vec::new(),
        combining: CombineChoice::None,
        partitioning: PartitionChoice::Hash,
        values: ValueOrder::Arrival,
        _types: PhantomData,
    };
    stage.input(name, mapper)
}

impl<K: Key, V: Value> MapStage<Named, K, V> {
    /// Adds named input `name`, read by `mapper` (see [`input`]).
    pub fn input<M: Mapper<Key = K, Value = V>>(mut self, name: impl Into<String>, mapper: M) -> Self {
        let one = map(mapper);
        self.named.push((
            NamedInput {
                name: name.into(),
                input: one.input,
                mapper: one.mapper.unwrap_or_default(),
            },
            one.new_mapper,
        ));
        let inputs = self
            .named
            .iter()
            .map(|(d, f)| (d.name.clone(), Arc::clone(f)))
            .collect();
        self.new_mapper = named::multi_factory(inputs);
        self
    }
}

impl<I, K, V> MapStage<I, K, V> {
    /// The names of the named inputs the stage reads (empty: unnamed).
    fn input_names(&self) -> Vec<String> {
        self.named.iter().map(|(d, _)| d.name.clone()).collect()
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

fn combine_factory<C: Combiner>(combiner: C) -> CombineFactory<C::Key> {
    Arc::new(move |partitioner, values| {
        Box::new(TypedCombine {
            combiner: combiner.clone(),
            partitioner,
            values,
        })
    })
}

impl<I: InputFormat, K: Key, V: Value> MapStage<I, K, V> {
    /// Runs `combiner` on map output before the shuffle.
    pub fn combine<C: Combiner<Key = K, Value = V>>(mut self, combiner: C) -> Self {
        self.combining = CombineChoice::Combiner {
            name: short_name::<C>(),
            factory: combine_factory(combiner),
        };
        self
    }

    /// Combines with an associative, commutative merge of two values into
    /// one (`|acc, v| *acc += v`), like Spark's `reduceByKey`: map tasks
    /// merge values in a hash table as they are emitted, so only one pair
    /// per distinct key and spill reaches the sort. With
    /// [`sort_values`](MapStage::sort_values) the merge runs as a plain
    /// combiner on sorted output instead.
    pub fn combine_with<F>(mut self, merge: F) -> Self
    where
        F: Fn(&mut V, V) + Clone + Send + Sync + 'static,
        V: Clone,
    {
        self.combining = CombineChoice::Associative {
            // A closure's type name is noise in `--describe`.
            name: format!("combine_with<{}>", short_name::<V>()),
            factory: combine_factory(Merge::<K, V, F> {
                merge: merge.clone(),
                _types: PhantomData,
            }),
            merge: Arc::new(merge),
            clone: <V as Clone>::clone,
        };
        self
    }

    /// Sends each key to the partition (reduce task) `partitioner(key,
    /// partitions)` returns, instead of `xxh3(key bytes) % partitions`.
    /// Returning a partition `>= partitions` fails the task. With one
    /// reduce task it is not called (as in Hadoop): every key goes to it.
    pub fn partition_by<P>(mut self, partitioner: P) -> Self
    where
        P: Fn(&K, u32) -> u32 + Send + Sync + 'static,
    {
        self.partitioning = PartitionChoice::Custom(Arc::new(partitioner));
        self
    }

    /// Total order (Hadoop's `TotalOrderPartitioner`, Spark's `sortByKey`):
    /// before the step runs, the runner maps a sample of the step's input
    /// and cuts the sampled keys into `reducers` ranges, so part `i` holds
    /// only keys below part `i + 1`'s and the concatenated parts are
    /// globally sorted, on every runner. Any step may ask for it: a first
    /// step samples lines of the input files (standard input is spooled
    /// first), a later one the previous step's output pairs. To sort a
    /// result by count, descending, end the job with a step keyed by
    /// `(std::cmp::Reverse(count), word)` and `.total_order()` (see the
    /// guide, "Sorting the result").
    pub fn total_order(mut self) -> Self {
        self.partitioning = PartitionChoice::TotalOrder;
        self
    }

    /// Ends the step with `reducer`, which receives every key's values.
    pub fn reduce<R>(self, reducer: R) -> Step<I, R::OutKey, R::OutValue>
    where
        R: Reducer<Key = K, Value = V>,
    {
        let inputs = self.input_names();
        let codec = match self.values {
            ValueOrder::Arrival => ValueCodec::Bincode,
            ValueOrder::Sorted => ValueCodec::Ordered,
            ValueOrder::BySide => ValueCodec::Tagged(0),
        };
        let description = StepDescription {
            kind: StepKind::MapReduce,
            reducer: Some(short_name::<R>()),
            ..self.describe()
        };
        let new_reducer: ReduceTaskFactory = Box::new(move || {
            Box::new(TypedReduce {
                reducer: reducer.clone(),
                keys: OrderedKeys::default(),
                values: codec,
            })
        });
        let partitioner = self.partitioning.function();
        let combiner_of = |factory: CombineFactory<K>| -> ReduceTaskFactory {
            let partitioner = partitioner.clone();
            Box::new(move || factory(partitioner.clone(), codec))
        };
        let mut typed: Option<TypedSpec<V>> = None;
        let combining = match self.combining {
            CombineChoice::None => CombinePlan::None,
            CombineChoice::Combiner { factory, .. } => CombinePlan::Combiner(combiner_of(factory)),
            // Sorted values must reach the reducer sorted, not pre-merged
            // in a hash table: the merge runs as a combiner at spill time.
            CombineChoice::Associative { factory, .. } if codec == ValueCodec::Ordered => {
                CombinePlan::Combiner(combiner_of(factory))
            }
            CombineChoice::Associative {
                factory, merge, clone, ..
            } => {
                // Plain-data values merge typed, in the map task (exact
                // memory: no heap behind them); others merge encoded, in
                // the shuffle.
                let plain = !std::mem::needs_drop::<V>();
                if plain {
                    typed = Some((Arc::clone(&merge), clone));
                }
                let encoded: Arc<MergeValues> = Arc::new(move |acc: &mut Vec<u8>, v: &[u8]| {
                    let mut a: V = codec.decode(acc)?;
                    merge(&mut a, codec.decode(v)?);
                    acc.clear();
                    codec.encode_into(&a, acc)
                });
                CombinePlan::Associative {
                    combiner: combiner_of(factory),
                    merge: encoded,
                    typed: plain,
                }
            }
        };
        let new_mapper = self.new_mapper;
        Step {
            plan: StepPlan {
                description,
                inputs,
                render: plan::render::<R::OutKey, R::OutValue>,
                new_mapper: Box::new(move |budget| {
                    let agg = budget.and_then(|b| typed.as_ref().map(|(m, c)| TypedAgg::new(b, m.clone(), *c)));
                    new_mapper(partitioner.clone(), agg)
                }),
                shuffle: Some(ShufflePlan {
                    new_reducer,
                    combining,
                    partitioning: self.partitioning.kind(),
                    values: codec,
                    key_text: plan::key_text::<K>,
                }),
            },
            _types: PhantomData,
        }
    }

    fn describe(&self) -> StepDescription {
        let (combiner, combining) = match &self.combining {
            CombineChoice::None => (None, Combining::None),
            CombineChoice::Combiner { name, .. } => (Some(name.clone()), Combining::Combiner),
            // With sorted values the merge runs as a plain combiner.
            CombineChoice::Associative { name, .. } if self.values == ValueOrder::Sorted => {
                (Some(name.clone()), Combining::Combiner)
            }
            CombineChoice::Associative { name, .. } => (Some(name.clone()), Combining::Associative),
        };
        StepDescription {
            kind: StepKind::MapOnly,
            input: self.input,
            mapper: self.mapper.clone(),
            combiner,
            combining,
            reducer: None,
            values: self.values,
            partitioner: self.partitioning.kind(),
            inputs: self.named.iter().map(|(d, _)| d.clone()).collect(),
        }
    }
}

impl<I: InputFormat, K: Key, V: Key> MapStage<I, K, V> {
    /// Secondary sort: each key's values reach the reducer sorted by `V`'s
    /// order (mrjob's `SORT_VALUES`). Values must then be [`Key`]s, since
    /// they are encoded order-preserving.
    pub fn sort_values(mut self) -> Self {
        self.values = ValueOrder::Sorted;
        self
    }
}

/// A map stage on its own is a map-only step. A combiner, partitioner or
/// value order set on it has no effect then, as in Hadoop.
impl<I: InputFormat, K: Key, V: Value> From<MapStage<I, K, V>> for Step<I, K, V> {
    fn from(stage: MapStage<I, K, V>) -> Self {
        let inputs = stage.input_names();
        let description = StepDescription {
            combiner: None,
            combining: Combining::None,
            values: ValueOrder::Arrival,
            partitioner: Partitioning::Hash,
            ..stage.describe()
        };
        let new_mapper = stage.new_mapper;
        Step {
            plan: StepPlan {
                description,
                inputs,
                render: plan::render::<K, V>,
                new_mapper: Box::new(move |_| new_mapper(None, None)),
                shuffle: None,
            },
            _types: PhantomData,
        }
    }
}
