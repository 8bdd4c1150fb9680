//! Reduce-side joins: a first step over two sides of named inputs whose
//! mappers key their records alike, and a reducer that pairs each key's
//! records of one side with the other's ([`join`], [`Joiner`]).
//!
//! How the sides meet: each side's map output values are encoded as
//! `[side byte][bincode value]` (`ValueCodec::Tagged`) and the step sorts
//! values by bytes (a secondary sort), so each key's left records reach
//! the reducer before its right records. The reducer holds the key's
//! left records, which must fit in memory, and streams the right ones
//! past them one at a time: put the small side (businesses) on the left
//! and the big one (reviews) on the right, and a key with millions of
//! right records reduces in constant memory.

use std::marker::PhantomData;
use std::sync::Arc;

use serde::Serialize;

use super::key_order::OrderedKeys;
use super::named::{InputFactory, MultiMap, Named};
use super::options::{Combining, NamedInput, Partitioning, StepDescription, StepKind, ValueOrder};
use super::plan::{CombinePlan, MapFailure, MapTask, ReduceTask, ShufflePlan, StepPlan};
use super::{MapFactory, MapStage, Step, short_name};
use crate::api::context::TaskContext;
use crate::api::emitter::{Emitter, Target};
use crate::api::task::{Key, TaskResult, Value};
use crate::codec::{self, ValueCodec};
use crate::error::Error;
use crate::shuffle::ValueSource;

/// Which records of a key a join hands to its [`Joiner`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum JoinKind {
    /// Every (left, right) pair of a key: [`Joiner::matched`].
    Inner,
    /// Every (left, right) pair, and each left record of a key with no
    /// right record: [`Joiner::matched`] and [`Joiner::unmatched`].
    Left,
    /// Only the left records of keys with no right record:
    /// [`Joiner::unmatched`].
    Anti,
}

impl JoinKind {
    fn name(self) -> &'static str {
        match self {
            JoinKind::Inner => "inner",
            JoinKind::Left => "left",
            JoinKind::Anti => "anti",
        }
    }
}

/// What a join step's reducer does with the records of one key: the
/// join's user code, as a [`Reducer`](crate::Reducer) is a reduce step's.
///
/// Right records without a left record of their key are dropped and
/// counted (`join` / `right records without a match`), as are, in an
/// inner join, left records without a right one (`join` / `left records
/// without a match`).
pub trait Joiner: Clone + Send + Sync + 'static {
    /// The join key: both sides' map output key.
    type Key: Key;
    /// The left side's map output value: a key's left records are held in
    /// memory while its right records stream past.
    type Left: Value;
    /// The right side's map output value, streamed.
    type Right: Value;
    /// The output key type.
    type OutKey: Key;
    /// The output value type.
    type OutValue: Value;

    /// Runs once per reduce task before the first key.
    fn setup(&mut self, out: &mut Emitter<'_, Self::OutKey, Self::OutValue>) -> TaskResult {
        let _ = out;
        Ok(())
    }

    /// A left and a right record with the same key (inner and left joins),
    /// once per pair.
    fn matched(
        &mut self,
        key: &Self::Key,
        left: &Self::Left,
        right: &Self::Right,
        out: &mut Emitter<'_, Self::OutKey, Self::OutValue>,
    ) -> TaskResult {
        let _ = (key, left, right, out);
        Ok(())
    }

    /// A left record whose key has no right record (left and anti joins).
    fn unmatched(
        &mut self,
        key: &Self::Key,
        left: &Self::Left,
        out: &mut Emitter<'_, Self::OutKey, Self::OutValue>,
    ) -> TaskResult {
        let _ = (key, left, out);
        Ok(())
    }

    /// Runs once per reduce task after the last key.
    fn cleanup(&mut self, out: &mut Emitter<'_, Self::OutKey, Self::OutValue>) -> TaskResult {
        let _ = out;
        Ok(())
    }
}

/// A join's two sides, waiting for its kind and [`Joiner`]: see [`join`].
pub struct JoinStage<K, L, R> {
    left: Vec<(NamedInput, MapFactory<K, L>)>,
    right: Vec<(NamedInput, MapFactory<K, R>)>,
}

/// A reduce-side join of two sides, each one or more named inputs with
/// their mappers ([`input`](super::input)); the mappers of both sides emit
/// the join key. Finish it with [`JoinStage::inner`], [`JoinStage::left`]
/// or [`JoinStage::anti`]. The left side is held per key, the right side
/// streamed: put the small side on the left.
///
/// ```
/// use mapreduce::prelude::*;
///
/// /// `id,name` lines: (id, name).
/// #[derive(Clone)]
/// struct Users;
/// impl Mapper for Users {
///     type Input = TextLine;
///     type Key = u32;
///     type Value = String;
///     fn map(&mut self, line: Line<'_>, out: &mut Emitter<'_, u32, String>) -> TaskResult {
///         let (id, name) = line.text.split_once(',').ok_or("expected id,name")?;
///         out.emit(id.parse()?, name.to_owned());
///         Ok(())
///     }
/// }
///
/// /// `[user, amount]` JSON lines: (user, amount).
/// #[derive(Clone)]
/// struct Orders;
/// impl Mapper for Orders {
///     type Input = JsonLine<(u32, u64)>;
///     type Key = u32;
///     type Value = u64;
///     fn map(&mut self, (user, amount): (u32, u64), out: &mut Emitter<'_, u32, u64>) -> TaskResult {
///         out.emit(user, amount);
///         Ok(())
///     }
/// }
///
/// /// (name, amount) per order of a known user.
/// #[derive(Clone)]
/// struct NameOrders;
/// impl Joiner for NameOrders {
///     type Key = u32;
///     type Left = String;
///     type Right = u64;
///     type OutKey = String;
///     type OutValue = u64;
///     fn matched(&mut self, _: &u32, name: &String, amount: &u64, out: &mut Emitter<'_, String, u64>) -> TaskResult {
///         out.emit(name.clone(), *amount);
///         Ok(())
///     }
/// }
///
/// let job = Job::new("orders", step::join(step::input("users", Users), step::input("orders", Orders)).inner(NameOrders));
/// let dir = tempfile::tempdir()?;
/// let (users, orders) = (dir.path().join("users.csv"), dir.path().join("orders.json"));
/// std::fs::write(&users, "1,ann\n2,bob\n")?;
/// std::fs::write(&orders, "[2, 5]\n[1, 7]\n[3, 9]\n")?;
/// let mut config = RunConfig::default();
/// config.named_inputs = vec![("users".into(), users.into()), ("orders".into(), orders.into())];
/// let mut out = Vec::new();
/// let report = mapreduce::runner::run(&job, &config, &mut out)?;
/// assert_eq!(String::from_utf8(out)?, "\"ann\"\t7\n\"bob\"\t5\n");
/// assert_eq!(report.counters().get("join", "right records without a match"), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn join<K: Key, L: Value, R: Value>(
    left: MapStage<Named, K, L>,
    right: MapStage<Named, K, R>,
) -> JoinStage<K, L, R> {
    JoinStage {
        left: left.named,
        right: right.named,
    }
}

impl<K: Key, L: Value, R: Value> JoinStage<K, L, R> {
    /// An inner join: `joiner.matched` for every (left, right) pair of a key.
    pub fn inner<J>(self, joiner: J) -> Step<Named, J::OutKey, J::OutValue>
    where
        J: Joiner<Key = K, Left = L, Right = R>,
    {
        self.kind(JoinKind::Inner, joiner)
    }

    /// A left outer join: `matched` for every pair, and `unmatched` for
    /// each left record of a key that has no right record.
    pub fn left<J>(self, joiner: J) -> Step<Named, J::OutKey, J::OutValue>
    where
        J: Joiner<Key = K, Left = L, Right = R>,
    {
        self.kind(JoinKind::Left, joiner)
    }

    /// An anti join: `unmatched` for each left record of a key that has no
    /// right record (nothing else is handed over).
    pub fn anti<J>(self, joiner: J) -> Step<Named, J::OutKey, J::OutValue>
    where
        J: Joiner<Key = K, Left = L, Right = R>,
    {
        self.kind(JoinKind::Anti, joiner)
    }

    /// The join of kind `kind`.
    pub fn kind<J>(self, kind: JoinKind, joiner: J) -> Step<Named, J::OutKey, J::OutValue>
    where
        J: Joiner<Key = K, Left = L, Right = R>,
    {
        let mut described = Vec::new();
        let mut inputs: Vec<(String, InputFactory<()>)> = Vec::new();
        for (d, f) in self.left {
            inputs.push((d.name.clone(), tagged(f, LEFT)));
            described.push(d);
        }
        for (d, f) in self.right {
            inputs.push((d.name.clone(), tagged(f, RIGHT)));
            described.push(d);
        }
        let names = described.iter().map(|d| d.name.clone()).collect();
        let inputs = Arc::new(inputs);
        let description = StepDescription {
            kind: StepKind::MapReduce,
            input: <Named as crate::api::input::InputFormat>::NAME,
            mapper: None,
            combiner: None,
            combining: Combining::None,
            reducer: Some(format!("{} join: {}", kind.name(), short_name::<J>())),
            values: ValueOrder::BySide,
            partitioner: Partitioning::Hash,
            inputs: described,
        };
        Step {
            plan: StepPlan {
                description,
                inputs: names,
                render: super::plan::render::<J::OutKey, J::OutValue>,
                new_mapper: Box::new(move |_| {
                    Box::new(MultiMap::<()> {
                        inputs: Arc::clone(&inputs),
                        agg: None,
                        current: None,
                    })
                }),
                shuffle: Some(ShufflePlan {
                    new_reducer: Box::new(move || {
                        Box::new(JoinReduce {
                            joiner: joiner.clone(),
                            kind,
                            lefts: Vec::new(),
                            keys: OrderedKeys::default(),
                            unmatched_left: 0,
                            unmatched_right: 0,
                            _types: PhantomData,
                        })
                    }),
                    combining: CombinePlan::None,
                    partitioning: Partitioning::Hash,
                    values: ValueCodec::Tagged(LEFT),
                    key_text: super::plan::key_text::<K>,
                }),
            },
            _types: PhantomData,
        }
    }
}

/// The side bytes: left records sort first.
const LEFT: u8 = 0;
const RIGHT: u8 = 1;

/// One side's map task factory, its values tagged with `side`.
fn tagged<K: 'static, V: 'static>(factory: MapFactory<K, V>, side: u8) -> InputFactory<()> {
    Arc::new(move |_| {
        Box::new(TagSide {
            inner: factory(None, None),
            side,
        })
    })
}

/// A side's map task: the user's mapper, its values encoded with the
/// side byte in front.
struct TagSide {
    inner: Box<dyn MapTask>,
    side: u8,
}

impl TagSide {
    fn retag(side: u8, target: Target<'_>) -> Target<'_> {
        match target {
            Target::Pairs {
                sink,
                partitions,
                route,
                ..
            } => Target::Pairs {
                sink,
                partitions,
                values: ValueCodec::Tagged(side),
                route,
            },
            text => text,
        }
    }
}

impl MapTask for TagSide {
    fn setup(&mut self, target: Target<'_>, ctx: &mut TaskContext) -> TaskResult {
        self.inner.setup(Self::retag(self.side, target), ctx)
    }

    fn map_line(
        &mut self,
        line: &[u8],
        offset: u64,
        target: Target<'_>,
        ctx: &mut TaskContext,
    ) -> Result<(), MapFailure> {
        self.inner.map_line(line, offset, Self::retag(self.side, target), ctx)
    }

    fn map_pair(
        &mut self,
        key: &[u8],
        value: &[u8],
        target: Target<'_>,
        ctx: &mut TaskContext,
    ) -> Result<(), MapFailure> {
        self.inner.map_pair(key, value, Self::retag(self.side, target), ctx)
    }

    fn cleanup(&mut self, target: Target<'_>, ctx: &mut TaskContext) -> TaskResult {
        self.inner.cleanup(Self::retag(self.side, target), ctx)
    }
}

/// A join's reduce task: holds a key's left records, streams its right
/// records past them.
struct JoinReduce<J: Joiner> {
    joiner: J,
    kind: JoinKind,
    /// The current key's left records (reused from key to key).
    lefts: Vec<J::Left>,
    /// The keys, checked to arrive in `Ord`'s order.
    keys: OrderedKeys<J::Key>,
    unmatched_left: i64,
    unmatched_right: i64,
    _types: PhantomData<fn() -> J>,
}

impl<J: Joiner> ReduceTask for JoinReduce<J> {
    fn setup(&mut self, target: Target<'_>, ctx: &mut TaskContext) -> TaskResult {
        let mut out = Emitter::new(target, None, ctx);
        self.joiner.setup(&mut out)?;
        Ok(ctx.take_error()?)
    }

    fn reduce(
        &mut self,
        key: &[u8],
        values: &mut dyn ValueSource,
        target: Target<'_>,
        ctx: &mut TaskContext,
    ) -> TaskResult {
        // Decoded in place: a `String` key's buffer is reused from key to
        // key, as the plain reduce task does.
        let key = self.keys.next(key)?;
        self.lefts.clear();
        let mut rights = 0u64;
        let mut out = Emitter::new(target, None, ctx);
        while let Some(value) = values.next_value() {
            let value = value?;
            match value.split_first() {
                Some((&LEFT, rest)) if rights == 0 => self.lefts.push(codec::value::decode(rest)?),
                Some((&RIGHT, rest)) => {
                    rights += 1;
                    if self.lefts.is_empty() {
                        self.unmatched_right += 1;
                        continue;
                    }
                    if self.kind == JoinKind::Anti {
                        continue;
                    }
                    let right: J::Right = codec::value::decode(rest)?;
                    for left in &self.lefts {
                        self.joiner.matched(key, left, &right, &mut out)?;
                    }
                }
                _ => {
                    return Err(Error::Internal(
                        "a join value arrived out of side order, or without its side byte".into(),
                    )
                    .into());
                }
            }
        }
        if rights == 0 {
            self.unmatched_left += self.lefts.len() as i64;
            if self.kind != JoinKind::Inner {
                for left in &self.lefts {
                    self.joiner.unmatched(key, left, &mut out)?;
                }
            }
        }
        if let Some(e) = out.take_error() {
            return Err(e.into());
        }
        Ok(())
    }

    fn cleanup(&mut self, target: Target<'_>, ctx: &mut TaskContext) -> TaskResult {
        let mut out = Emitter::new(target, None, ctx);
        self.joiner.cleanup(&mut out)?;
        if self.unmatched_left > 0 {
            out.counter("join", "left records without a match", self.unmatched_left);
        }
        if self.unmatched_right > 0 {
            out.counter("join", "right records without a match", self.unmatched_right);
        }
        Ok(ctx.take_error()?)
    }
}
