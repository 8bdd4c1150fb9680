//! What users implement: [`Mapper`], [`Reducer`], [`Combiner`].
//!
//! Each running task gets its own clone of the user's value (hence
//! `Clone + Send + Sync`: the prototype is shared by the task threads), so per-task
//! state (an in-mapper tally, a database handle opened in `setup`) lives in
//! `self`, and configuration is whatever the value held when the job was
//! built.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::api::emitter::Emitter;
use crate::api::input::InputFormat;
use crate::api::values::Values;
use crate::error::BoxError;

/// What a user function returns: any error fails the task, and the job
/// reports it with the step, task and input record.
pub type TaskResult = Result<(), BoxError>;

/// A key type: serializable, with an order that the framework reproduces by
/// comparing encoded bytes.
///
/// The contract: `Ord` must be the *structural* order that
/// `#[derive(Ord)]` gives (integers, `String`, `bool`, `char`, `Option`,
/// tuples, `Vec`, arrays, `()`, and structs and enums deriving `Ord` over
/// such fields), with [`std::cmp::Reverse`] for a descending order: a
/// `Reverse<u64>` key sorts largest first, and a `(Reverse<u64>, String)`
/// key by count descending, then by name. The shuffle sorts and groups
/// keys by their order-preserving encoding, so a hand-written `Ord`
/// (reversed, case-insensitive) cannot be what it sorts by: every reduce
/// task compares each group's key with the one before it, and a job
/// whose keys come out of their `Ord` order fails, naming the type and
/// the two keys, before any output is committed. Floats have no `Ord` and
/// are not keys.
///
/// ```
/// use std::cmp::Reverse;
/// use mapreduce::prelude::*;
///
/// /// Step 2 of a word count: words by count, descending, then by word.
/// #[derive(Clone)]
/// struct ByCount;
///
/// impl Mapper for ByCount {
///     type Input = Pairs<String, u64>;
///     type Key = (Reverse<u64>, String);
///     type Value = ();
///
///     fn map(&mut self, (word, n): (String, u64), out: &mut Emitter<'_, Self::Key, ()>) -> TaskResult {
///         out.emit((Reverse(n), word), ());
///         Ok(())
///     }
/// }
/// ```
pub trait Key: Serialize + DeserializeOwned + Ord + Send + 'static {}
impl<T: Serialize + DeserializeOwned + Ord + Send + 'static> Key for T {}

/// A value type: anything serde can round-trip without a self-describing
/// format (no `#[serde(flatten)]`, `skip_serializing_if`, `tag` or `untagged`).
pub trait Value: Serialize + DeserializeOwned + Send + 'static {}
impl<T: Serialize + DeserializeOwned + Send + 'static> Value for T {}

/// Turns input records into `(key, value)` pairs (mrjob's `mapper`, with
/// `mapper_init` and `mapper_final` as `setup` and `cleanup`).
pub trait Mapper: Clone + Send + Sync + 'static {
    /// The input format; its record type is what `map` receives.
    type Input: InputFormat;
    /// The output key type.
    type Key: Key;
    /// The output value type.
    type Value: Value;

    /// Runs once per task before the first record.
    fn setup(&mut self, out: &mut Emitter<'_, Self::Key, Self::Value>) -> TaskResult {
        let _ = out;
        Ok(())
    }

    /// Runs once per input record.
    fn map(
        &mut self,
        input: <Self::Input as InputFormat>::Record<'_>,
        out: &mut Emitter<'_, Self::Key, Self::Value>,
    ) -> TaskResult;

    /// Runs once per task after the last record (in-mapper combining emits here).
    fn cleanup(&mut self, out: &mut Emitter<'_, Self::Key, Self::Value>) -> TaskResult {
        let _ = out;
        Ok(())
    }
}

/// Turns each key and its streamed values into output pairs (mrjob's
/// `reducer`, with `reducer_init` and `reducer_final` as `setup` and
/// `cleanup`). Keys arrive in sorted order within each reduce task.
pub trait Reducer: Clone + Send + Sync + 'static {
    /// The input key type (the map output key).
    type Key: Key;
    /// The input value type (the map output value).
    type Value: Value;
    /// The output key type.
    type OutKey: Key;
    /// The output value type.
    type OutValue: Value;

    /// Runs once per task before the first key.
    fn setup(&mut self, out: &mut Emitter<'_, Self::OutKey, Self::OutValue>) -> TaskResult {
        let _ = out;
        Ok(())
    }

    /// Runs once per distinct key. `values` streams from the shuffle and is
    /// never collected by the framework.
    fn reduce(
        &mut self,
        key: &Self::Key,
        values: Values<'_, Self::Value>,
        out: &mut Emitter<'_, Self::OutKey, Self::OutValue>,
    ) -> TaskResult;

    /// Runs once per task after the last key.
    fn cleanup(&mut self, out: &mut Emitter<'_, Self::OutKey, Self::OutValue>) -> TaskResult {
        let _ = out;
        Ok(())
    }
}

/// A map-side reducer whose output types equal its input types. It may run
/// zero, one or several times on any subset of a key's values, so it must
/// not change the result (a sum, a max), and it must emit under the key it
/// was given.
pub trait Combiner: Clone + Send + Sync + 'static {
    /// The map output key type.
    type Key: Key;
    /// The map output value type.
    type Value: Value;

    /// Combines some of one key's values.
    fn combine(
        &mut self,
        key: &Self::Key,
        values: Values<'_, Self::Value>,
        out: &mut Emitter<'_, Self::Key, Self::Value>,
    ) -> TaskResult;
}
