//! A step as runners see it: the user's types erased behind the
//! [`MapTask`] and [`ReduceTask`] objects, which decode at their entrance
//! and encode at their exit, so the engine below moves only bytes.

use std::sync::Arc;

use super::options::{Partitioning, StepDescription};
use crate::api::context::TaskContext;
use crate::api::emitter::Target;
use crate::api::task::TaskResult;
use crate::codec::ValueCodec;
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
    /// Tells the task which named input (`--input NAME=PATH`) it reads,
    /// before `setup`; `None` for an unnamed one. Only a step over named
    /// inputs cares.
    fn select_input(&mut self, input: Option<&str>) -> TaskResult {
        let _ = input;
        Ok(())
    }
    fn setup(&mut self, target: Target<'_>, ctx: &mut TaskContext) -> TaskResult;
    /// Maps one text line (`offset` is its first byte's in the file).
    fn map_line(
        &mut self,
        line: &[u8],
        offset: u64,
        target: Target<'_>,
        ctx: &mut TaskContext,
    ) -> Result<(), MapFailure>;
    /// Maps one encoded pair of a previous step's output.
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

/// A map task factory; the argument is the byte budget of the typed
/// aggregation table, when the runner wants one (see
/// [`CombinePlan::Associative`]).
pub(crate) type MapTaskFactory = Box<dyn Fn(Option<usize>) -> Box<dyn MapTask> + Send + Sync>;
/// See [`StepPlan::render`].
pub(crate) type RenderPair =
    fn(&[u8], &[u8], crate::codec::protocol::Protocol, &mut dyn std::io::Write) -> crate::error::Result<()>;

/// [`StepPlan::render`] for a step whose output is `(K, V)`.
pub(crate) fn render<K: crate::api::Key, V: crate::api::Value>(
    key: &[u8],
    value: &[u8],
    protocol: crate::codec::protocol::Protocol,
    out: &mut dyn std::io::Write,
) -> crate::error::Result<()> {
    let key: K = crate::codec::key::decode(key)?;
    let value: V = crate::codec::value::decode(value)?;
    protocol.write_pair(&mut &mut *out, &key, &value)
}

/// A reduce or combine task factory.
pub(crate) type ReduceTaskFactory = Box<dyn Fn() -> Box<dyn ReduceTask> + Send + Sync>;

/// A step as the runner sees it.
pub(crate) struct StepPlan {
    pub(crate) description: StepDescription,
    /// The named inputs a first step reads, each with its own mapper
    /// (empty: the job's inputs are unnamed).
    pub(crate) inputs: Vec<String>,
    pub(crate) new_mapper: MapTaskFactory,
    /// Writes one of the step's output pairs (as the next step reads
    /// them: encoded key, bincode value) as a text line in `protocol`:
    /// what `--step-output-dir` shows.
    pub(crate) render: RenderPair,
    /// The shuffle and reduce stage; `None` for a map-only step.
    pub(crate) shuffle: Option<ShufflePlan>,
}

/// What happens between a step's map and reduce stages, and the reduce.
pub(crate) struct ShufflePlan {
    pub(crate) new_reducer: ReduceTaskFactory,
    pub(crate) combining: CombinePlan,
    /// Which reduce task each key goes to (a custom partitioner itself
    /// runs inside the map task's emitter).
    pub(crate) partitioning: Partitioning,
    /// How the map stage encodes values: order-preserving for a secondary
    /// sort, so that the shuffle sorts them as bytes.
    pub(crate) values: ValueCodec,
    /// An encoded key as a reduce error names it.
    pub(crate) key_text: fn(&[u8]) -> String,
}

/// [`ShufflePlan::key_text`] for keys of type `K`: JSON, or the bytes in
/// hex if they do not decode.
pub(crate) fn key_text<K: crate::api::Key>(bytes: &[u8]) -> String {
    crate::codec::key::decode::<K>(bytes)
        .ok()
        .and_then(|k| serde_json::to_string(&k).ok())
        .unwrap_or_else(|| {
            let mut hex = Vec::new();
            crate::codec::streaming::push_hex(&mut hex, bytes);
            format!("(undecodable bytes {})", String::from_utf8_lossy(&hex))
        })
}

/// How map output is combined before the shuffle.
pub(crate) enum CombinePlan {
    None,
    /// A combiner run on sorted map output, group by group, as a spill
    /// would (Hadoop's combiner).
    Combiner(ReduceTaskFactory),
    /// An associative merge (`combine_with`): besides the combiner form,
    /// a merge of encoded values for hash aggregation in the shuffle, and
    /// whether map tasks can merge typed values in a table of their own.
    Associative {
        combiner: ReduceTaskFactory,
        merge: Arc<MergeValues>,
        typed: bool,
    },
}

impl CombinePlan {
    /// The combiner form, which every way of combining has.
    pub(crate) fn combiner(&self) -> Option<&ReduceTaskFactory> {
        match self {
            CombinePlan::None => None,
            CombinePlan::Combiner(c) | CombinePlan::Associative { combiner: c, .. } => Some(c),
        }
    }

    /// The merge of encoded values, for hash aggregation.
    pub(crate) fn merge(&self) -> Option<&Arc<MergeValues>> {
        match self {
            CombinePlan::Associative { merge, .. } => Some(merge),
            _ => None,
        }
    }

    /// Whether map tasks can aggregate typed values before the shuffle.
    pub(crate) fn typed(&self) -> bool {
        matches!(self, CombinePlan::Associative { typed: true, .. })
    }
}

impl ShufflePlan {
    /// Whether values are sorted within a key (secondary sort).
    pub(crate) fn sort_values(&self) -> bool {
        self.values.sorts_values()
    }
}

impl StepPlan {
    /// Whether the step's partitioning is a total order.
    pub(crate) fn total_order(&self) -> bool {
        self.shuffle
            .as_ref()
            .is_some_and(|s| s.partitioning == Partitioning::TotalOrder)
    }
}
