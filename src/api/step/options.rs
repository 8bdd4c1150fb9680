//! The choices a step is built with, as data: how keys are partitioned,
//! how map output is combined, in what order a key's values arrive, and
//! the [`StepDescription`] that `--describe` prints from them.

use serde::Serialize;

/// Which reduce task (part file) each key goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Partitioning {
    /// `xxh3(key bytes) % reducers`.
    #[default]
    Hash,
    /// The step's own function of the key ([`MapStage::partition_by`](super::MapStage::partition_by)).
    Custom,
    /// Ranges of a key sample, so the parts are globally sorted
    /// ([`MapStage::total_order`](super::MapStage::total_order)).
    TotalOrder,
}

/// How map output is combined before the shuffle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Combining {
    /// Not combined.
    #[default]
    None,
    /// A [`Combiner`](crate::Combiner) run on sorted map output
    /// ([`MapStage::combine`](super::MapStage::combine)).
    Combiner,
    /// An associative merge of two values
    /// ([`MapStage::combine_with`](super::MapStage::combine_with)), which
    /// map tasks apply in a hash table as pairs are emitted.
    Associative,
}

/// The order in which a reducer sees one key's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum ValueOrder {
    /// The order the map tasks emitted them in, tasks in input order.
    #[default]
    Arrival,
    /// Sorted by the value's own order: a secondary sort
    /// ([`MapStage::sort_values`](super::MapStage::sort_values)).
    Sorted,
    /// A join's: every value of the first side, then the second side's
    /// ([`join`](super::join)).
    BySide,
}

/// What a step does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum StepKind {
    /// A map stage, a shuffle and a reduce stage.
    MapReduce,
    /// A map stage only: its output is the step's.
    MapOnly,
}

/// A step, as `--describe` prints it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StepDescription {
    /// `map-reduce` or `map-only`.
    #[serde(rename = "type")]
    pub kind: StepKind,
    /// The input format's name (`text`, `json`, `pairs`).
    pub input: &'static str,
    /// The mapper's type name, or `None` for the identity mapper.
    pub mapper: Option<String>,
    /// The combiner's type name, if any.
    pub combiner: Option<String>,
    /// How map output is combined.
    pub combining: Combining,
    /// The reducer's type name, if any.
    pub reducer: Option<String>,
    /// The order of each key's values.
    pub values: ValueOrder,
    /// How keys are partitioned among reduce tasks.
    pub partitioner: Partitioning,
    /// A step reading several named inputs: each input and its mapper
    /// (empty otherwise, and then not printed).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub inputs: Vec<NamedInput>,
}

/// One named input of a step and the mapper that reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NamedInput {
    /// The name it is given under (`--input NAME=PATH`).
    pub name: String,
    /// Its input format's name.
    pub input: &'static str,
    /// Its mapper's type name.
    pub mapper: String,
}
