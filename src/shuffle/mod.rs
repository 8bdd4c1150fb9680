//! The shuffle: moving encoded `(partition, key, value)` records from map
//! tasks to reduce tasks, sorted and grouped by key bytes.
//!
//! It knows bytes, never user types: the typed layer encodes keys
//! order-preservingly at its entrance, so sorting and grouping here are
//! plain slice comparisons.

pub mod aggregate;
pub mod buffer;
pub mod collector;
pub mod merge;
pub mod run;
pub mod spill;

use crate::error::Result;

/// Where encoded pairs go: a sort buffer, or the next step's input.
pub trait PairSink {
    fn collect(&mut self, partition: u32, key: &[u8], value: &[u8]) -> Result<()>;
}

/// Yields one key's encoded values, each valid until the next call.
pub trait ValueSource {
    fn next_value(&mut self) -> Option<Result<&[u8]>>;
}
