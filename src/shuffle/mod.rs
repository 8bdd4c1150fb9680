//! The shuffle: moving encoded `(partition, key, value)` records from map
//! tasks to reduce tasks, sorted and grouped by key bytes.
//!
//! It knows bytes, never user types: the typed layer encodes keys
//! order-preservingly at its entrance, so sorting and grouping here are
//! plain slice comparisons.

pub(crate) mod aggregate;
pub(crate) mod buffer;
pub(crate) mod collector;
pub(crate) mod merge;
pub(crate) mod run;
pub(crate) mod spill;

use crate::error::Result;

/// Where encoded pairs go: a sort buffer, or the next step's input.
pub(crate) trait PairSink {
    fn collect(&mut self, partition: u32, key: &[u8], value: &[u8]) -> Result<()>;
}

/// Yields one key's encoded values, each valid until the next call.
pub(crate) trait ValueSource {
    fn next_value(&mut self) -> Option<Result<&[u8]>>;
}
