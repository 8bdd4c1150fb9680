//! Panic capture: the one place a panic in user code (a mapper, reducer,
//! combiner or partitioner) becomes the task's error, naming where it
//! happened, instead of unwinding through the engine.

use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::error::{BoxError, Error, Result};
use crate::tracker::panic;

/// Runs `f`; a panic in it becomes `fail(message)`.
pub(crate) fn capture<T>(fail: impl FnOnce(BoxError) -> Error, f: impl FnOnce() -> Result<T>) -> Result<T> {
    // Unwind safety: after a panic the task's state is dropped, never
    // used again; the attempt fails as a whole.
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(result) => result,
        Err(payload) => Err(fail(panic::message(payload).into())),
    }
}
