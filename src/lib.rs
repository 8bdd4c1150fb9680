//! Hadoop-style MapReduce on one machine: typed multi-step jobs with
//! mrjob's ease and a Rust program's speed.
//!
//! Write a job as [`Mapper`], [`Reducer`] and (optionally) [`Combiner`]
//! implementations, chain them as the typed steps of a [`Job`], and run it
//! with [`runner::run`] or, for a command-line program, with
//! [`cli::main`]. Everything a job needs is in [`prelude`].
//!
//! ```
//! use mapreduce::prelude::*;
//!
//! /// Emits (word, 1) for every word.
//! #[derive(Clone)]
//! struct Words;
//!
//! impl Mapper for Words {
//!     type Input = TextLine;
//!     type Key = String;
//!     type Value = u64;
//!
//!     fn map(&mut self, line: Line<'_>, out: &mut Emitter<'_, String, u64>) -> TaskResult {
//!         for word in line.text.split_whitespace() {
//!             out.emit_ref(word, &1);
//!         }
//!         Ok(())
//!     }
//! }
//!
//! /// Sums each word's counts.
//! #[derive(Clone)]
//! struct Sum;
//!
//! impl Reducer for Sum {
//!     type Key = String;
//!     type Value = u64;
//!     type OutKey = String;
//!     type OutValue = u64;
//!
//!     fn reduce(&mut self, word: &String, counts: Values<'_, u64>, out: &mut Emitter<'_, String, u64>) -> TaskResult {
//!         out.emit(word.clone(), counts.sum());
//!         Ok(())
//!     }
//! }
//!
//! let job = Job::new("word-count", step::map(Words).combine_with(|a, b| *a += b).reduce(Sum));
//!
//! let dir = tempfile::tempdir()?;
//! let input = dir.path().join("in.txt");
//! std::fs::write(&input, "b a\na\n")?;
//! let mut output = Vec::new();
//! let report = mapreduce::runner::run(&job, &RunConfig::new([input.to_str().unwrap()]), &mut output)?;
//! assert_eq!(String::from_utf8(output)?, "\"a\"\t2\n\"b\"\t1\n");
//! assert_eq!(report.counters().framework(counters::names::MAP_INPUT_RECORDS), 2);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The layers, each using only those below it: [`codec`] (bytes), then
//! `shuffle` (sort buffer, spills, run files, merge: bytes only) and [`io`]
//! (inputs, splits, line reading, output commit), then the typed [`api`],
//! then the task core (`task`: the one implementation of a map and a
//! reduce task) and the `tracker` (job directory, task attempts and
//! retries, progress), then [`runner`] (the shared step loop, and one
//! module per runner: `local`, the parallel out-of-core engine, and
//! `inline`), then [`cli`]. The README's "Layout" section says where a
//! new runner, input source or output sink goes.

pub mod api;
pub mod cli;
pub mod codec;
mod error;
pub mod io;
pub mod runner;
#[allow(missing_docs)] // reached only through the hidden `internals` module
mod shuffle;
mod task;
pub mod testing;
mod tracker;

// Compiles the README's examples as doc tests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

// Compiles the guide's examples as doc tests.
#[doc = include_str!("../docs/guide.md")]
#[cfg(doctest)]
pub struct GuideDoctests;

pub use api::job::{AnyJob, Job, JobDescription};
pub use api::step::{self, MapStage, Step, StepDescription};
pub use api::{Combiner, Emitter, JobOptions, Key, Mapper, Reducer, SideFile, TaskResult, Value, Values};
pub use codec::protocol::Protocol;
pub use error::{BoxError, Error, Location, Phase, Result};
pub use runner::{JobReport, RunConfig};

/// The shuffle's byte-level parts and the typed aggregation table, for the
/// criterion micro-benchmarks in `benches/` and the fuzz targets in `fuzz/`.
/// Not part of the API: no stability promise.
#[doc(hidden)]
pub mod internals {
    pub use crate::api::aggregate::{TypedAgg, TypedMerge};
    pub use crate::shuffle::aggregate::AggTable;
    pub use crate::shuffle::buffer::SortBuffer;
    pub use crate::shuffle::merge::{Cursor, Groups, Merger};
    pub use crate::shuffle::plan::{merge_depth, merge_plan};
    pub use crate::shuffle::run::{Compression, RunFile, RunWriter};
    pub use crate::shuffle::{PairSink, ValueSource};

    /// A [`LineReader`](crate::io::lines::LineReader) with a buffer of
    /// `capacity` bytes (at least 1), for the fuzz targets in `fuzz/`: with
    /// the default 256 KiB buffer, inputs of fuzzer size never reach the
    /// refill paths (compacting a partial line, growing for a long one).
    pub fn line_reader_with_capacity<R: std::io::Read>(
        inner: R,
        name: impl Into<std::path::PathBuf>,
        capacity: usize,
    ) -> crate::io::lines::LineReader<R> {
        crate::io::lines::LineReader::with_capacity(inner, name, capacity)
    }
}

/// Everything a job author needs: `use mapreduce::prelude::*;`.
pub mod prelude {
    pub use crate::api::counters::{self, Counters};
    pub use crate::api::input::{InputFormat, JsonLine, Line, Pairs, TextLine};
    pub use crate::api::job::{AnyJob, Job};
    pub use crate::api::step::{self, Joiner};
    pub use crate::api::{Combiner, Emitter, JobOptions, Key, Mapper, Reducer, SideFile, TaskResult, Value, Values};
    pub use crate::codec::protocol::Protocol;
    pub use crate::runner::RunConfig;
}
