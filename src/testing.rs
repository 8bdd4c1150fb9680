//! Unit tests for a job's parts: one mapper over given lines, or one
//! reducer over one key's values, in memory, returning what it emitted
//! (as mrjob users call `job.mapper(None, line)`). The records go through
//! the same input format, key and value encodings and emitter as in a
//! real task, so a pair that would fail to encode fails here too.
//!
//! ```
//! use mapreduce::prelude::*;
//! use mapreduce::testing;
//!
//! #[derive(Clone, Default)]
//! struct Words;
//! impl Mapper for Words {
//!     type Input = TextLine;
//!     type Key = String;
//!     type Value = u64;
//!     fn map(&mut self, line: Line<'_>, out: &mut Emitter<'_, String, u64>) -> TaskResult {
//!         for word in line.text.split_whitespace() {
//!             out.emit(word.to_lowercase(), 1);
//!         }
//!         Ok(())
//!     }
//! }
//!
//! let emitted = testing::run_mapper(&mut Words, ["The cat", "the hat"]).unwrap();
//! assert_eq!(emitted.pairs[0], ("the".to_string(), 1));
//! assert_eq!(emitted.pairs.len(), 4);
//! ```

use crate::api::context::TaskContext;
use crate::api::counters::Counters;
use crate::api::emitter::{Route, Target};
use crate::api::input::InputFormat;
use crate::api::{Emitter, Mapper, Reducer, Values};
use crate::codec::{self, ValueCodec};
use crate::error::BoxError;
use crate::shuffle::ValueSource;
use crate::shuffle::buffer::SortBuffer;

/// What a mapper or reducer emitted, in emission order, with its counters
/// and last status.
#[derive(Debug, Clone, PartialEq)]
pub struct Emitted<K, V> {
    /// The pairs, decoded back from their encoded form.
    pub pairs: Vec<(K, V)>,
    /// The user counters it incremented.
    pub counters: Counters,
    /// The last status it set.
    pub status: Option<String>,
}

/// Runs `mapper` (setup, each line, cleanup) over `lines`, each a line of
/// text without its line ending, decoded by the mapper's input format.
/// A line the format rejects, a mapper error or a pair that cannot be
/// encoded is the error returned.
pub fn run_mapper<M: Mapper>(
    mapper: &mut M,
    lines: impl IntoIterator<Item = impl AsRef<[u8]>>,
) -> Result<Emitted<M::Key, M::Value>, BoxError> {
    let mut ctx = TaskContext::new(0, 0);
    let mut buffer = SortBuffer::new();
    {
        let mut out = pair_emitter(&mut buffer, &mut ctx);
        checked(mapper.setup(&mut out), &mut out)?;
        let mut offset = 0u64;
        let mut scratch = String::new();
        for line in lines {
            let bytes = line.as_ref();
            let record = M::Input::from_line(bytes, offset, &mut scratch)?;
            checked(mapper.map(record, &mut out), &mut out)?;
            offset += bytes.len() as u64 + 1;
        }
        checked(mapper.cleanup(&mut out), &mut out)?;
    }
    decoded(&buffer, ctx)
}

/// Runs `reducer` (setup, one key, cleanup) over `key` and its `values`,
/// in the order given.
pub fn run_reducer<R: Reducer>(
    reducer: &mut R,
    key: &R::Key,
    values: impl IntoIterator<Item = R::Value>,
) -> Result<Emitted<R::OutKey, R::OutValue>, BoxError> {
    let mut encoded = Vec::new();
    for v in values {
        let mut bytes = Vec::new();
        ValueCodec::Bincode.encode_into(&v, &mut bytes)?;
        encoded.push(bytes);
    }
    let mut ctx = TaskContext::new(0, 0);
    let mut buffer = SortBuffer::new();
    {
        let mut out = pair_emitter(&mut buffer, &mut ctx);
        checked(reducer.setup(&mut out), &mut out)?;
        let mut source = Listed {
            values: &encoded,
            next: 0,
        };
        let mut error = None;
        let result = reducer.reduce(key, Values::new(&mut source, ValueCodec::Bincode, &mut error), &mut out);
        if let Some(e) = error {
            return Err(e.into());
        }
        checked(result, &mut out)?;
        checked(reducer.cleanup(&mut out), &mut out)?;
    }
    decoded(&buffer, ctx)
}

fn pair_emitter<'a, K, V>(buffer: &'a mut SortBuffer, ctx: &'a mut TaskContext) -> Emitter<'a, K, V>
where
    K: serde::Serialize + serde::de::DeserializeOwned,
    V: serde::Serialize,
{
    Emitter::new(
        Target::Pairs {
            sink: buffer,
            partitions: 1,
            values: ValueCodec::Bincode,
            route: Route::Fixed(0),
        },
        None,
        ctx,
    )
}

/// The user call's result, or the first error an `emit` recorded.
fn checked<K, V>(result: Result<(), BoxError>, out: &mut Emitter<'_, K, V>) -> Result<(), BoxError>
where
    K: serde::Serialize + serde::de::DeserializeOwned,
    V: serde::Serialize,
{
    result?;
    match out.take_error() {
        Some(e) => Err(e.into()),
        None => Ok(()),
    }
}

fn decoded<K: serde::de::DeserializeOwned, V: serde::de::DeserializeOwned>(
    buffer: &SortBuffer,
    ctx: TaskContext,
) -> Result<Emitted<K, V>, BoxError> {
    let mut pairs = Vec::with_capacity(buffer.len());
    for i in 0..buffer.len() {
        let (_, k, v) = buffer.get(i);
        pairs.push((codec::key::decode(k)?, ValueCodec::Bincode.decode(v)?));
    }
    Ok(Emitted {
        pairs,
        counters: ctx.counters,
        status: ctx.status,
    })
}

/// A key's values, already encoded, in order.
struct Listed<'a> {
    values: &'a [Vec<u8>],
    next: usize,
}

impl ValueSource for Listed<'_> {
    fn next_value(&mut self) -> Option<crate::error::Result<&[u8]>> {
        let v = self.values.get(self.next)?;
        self.next += 1;
        Some(Ok(v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::input::{JsonLine, Line, TextLine};
    use crate::api::{TaskResult, Values};

    #[derive(Clone, Default)]
    struct Cities;

    #[derive(serde::Deserialize)]
    struct Business {
        city: Option<String>,
    }

    impl Mapper for Cities {
        type Input = JsonLine<Business>;
        type Key = String;
        type Value = u64;
        fn map(&mut self, b: Business, out: &mut Emitter<'_, String, u64>) -> TaskResult {
            match b.city {
                Some(city) => out.emit(city, 1),
                None => out.counter("yelp", "no city", 1),
            }
            Ok(())
        }
    }

    #[derive(Clone, Default)]
    struct Offsets;

    impl Mapper for Offsets {
        type Input = TextLine;
        type Key = u64;
        type Value = String;
        fn map(&mut self, line: Line<'_>, out: &mut Emitter<'_, u64, String>) -> TaskResult {
            out.emit(line.offset, line.text.to_owned());
            Ok(())
        }
        fn cleanup(&mut self, out: &mut Emitter<'_, u64, String>) -> TaskResult {
            out.emit(u64::MAX, "end".into());
            Ok(())
        }
    }

    #[derive(Clone, Default)]
    struct Joined;

    impl Reducer for Joined {
        type Key = String;
        type Value = String;
        type OutKey = String;
        type OutValue = String;
        fn reduce(
            &mut self,
            key: &String,
            values: Values<'_, String>,
            out: &mut Emitter<'_, String, String>,
        ) -> TaskResult {
            let all: Vec<String> = values.collect();
            if all.iter().any(|v| v == "fail") {
                return Err(format!("{key}: a value says fail").into());
            }
            out.emit(key.clone(), all.join(","));
            Ok(())
        }
    }

    #[test]
    fn a_mapper_sees_decoded_records_and_its_pairs_and_counters_come_back() {
        let lines = [r#"{"city": "Reno"}"#, r#"{"city": null}"#, r#"{"city": "Boise"}"#];
        let emitted = run_mapper(&mut Cities, lines).unwrap();
        assert_eq!(emitted.pairs, vec![("Reno".to_string(), 1), ("Boise".to_string(), 1)]);
        assert_eq!(emitted.counters.get("yelp", "no city"), 1);
        let err = run_mapper(&mut Cities, ["not json"]).err().unwrap();
        assert!(!err.to_string().is_empty());
    }

    #[test]
    fn offsets_count_the_lines_before_and_cleanup_runs() {
        let emitted = run_mapper(&mut Offsets, ["ab", "", "cde"]).unwrap();
        let offsets: Vec<u64> = emitted.pairs.iter().map(|p| p.0).collect();
        assert_eq!(offsets, vec![0, 3, 4, u64::MAX]);
        assert_eq!(emitted.pairs[2].1, "cde");
    }

    #[test]
    fn a_reducer_sees_the_values_in_the_order_given_and_its_errors_come_back() {
        let key = "k".to_string();
        let emitted = run_reducer(&mut Joined, &key, ["b", "a", "c"].map(String::from)).unwrap();
        assert_eq!(emitted.pairs, vec![("k".to_string(), "b,a,c".to_string())]);
        let err = run_reducer(&mut Joined, &key, ["x", "fail"].map(String::from))
            .err()
            .unwrap();
        assert!(err.to_string().contains("a value says fail"), "{err}");
    }
}
