//! Merging sorted streams and walking them key group by key group.
//!
//! This module owns the [`Cursor`] abstraction (a sorted stream of encoded
//! records), the k-way [`Merger`] (a loser tree), the [`Groups`] walk that
//! feeds reducers and combiners one key at a time without ever collecting a
//! key's values. Which segments a multi-pass merge merges when is the
//! business of the `plan` module.
//!
//! Order is plain byte order (keys are order-preserving encodings), and every merge here
//! is stable: ties go to the lower cursor index, so when cursors are given in
//! map-task order, each key's values keep input order through any number of
//! merges.
//!
//! The files follow those parts: `cursor` (the trait, and how a failed
//! stream keeps failing), `merger` (the loser tree and its cached key
//! prefixes), `groups` (the key-group walk).

mod cursor;
mod groups;
mod merger;
#[cfg(test)]
mod tests;

#[cfg(test)]
pub use cursor::VecCursor;
pub use cursor::{Cursor, repeat_error};
// `GroupValues` is reached through `Groups::values`; the re-export keeps its
// path from before the split, though no code names it there today.
#[allow(unused_imports)]
pub use groups::GroupValues;
pub use groups::Groups;
pub use merger::Merger;
