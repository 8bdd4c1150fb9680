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
pub mod plan;
mod radix;
pub mod run;
pub mod span;
pub mod spill;

use crate::error::Result;

/// Hints the CPU to fetch the cache line holding `*p` (what a gather out
/// of a big arena or table does a few items ahead, so that the misses
/// overlap instead of queueing).
#[inline(always)]
#[allow(unsafe_code)] // an intrinsic, see SAFETY
pub(crate) fn prefetch<T>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is only a hint: it never faults and changes no
    // state visible to the program, whatever the address; SSE, which the
    // intrinsic is tagged with, is part of every x86_64 CPU.
    unsafe {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        _mm_prefetch::<_MM_HINT_T0>(p.cast::<i8>());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// Where encoded pairs go: a sort buffer, or the next step's input.
pub trait PairSink {
    fn collect(&mut self, partition: u32, key: &[u8], value: &[u8]) -> Result<()>;
}

/// Yields one key's encoded values, each valid until the next call.
pub trait ValueSource {
    fn next_value(&mut self) -> Option<Result<&[u8]>>;
}
