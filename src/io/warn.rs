//! Warnings on stderr: things a user should know about that do not fail the
//! job (a skipped subdirectory, zero padding after gzip data).
//!
//! Each distinct warning is printed once per process, so a retried task
//! does not repeat it, and none is printed while warnings are off (the CLI's
//! `-q`: a run's [`crate::RunConfig`] `progress` flag).

use std::collections::HashSet;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

static ENABLED: AtomicBool = AtomicBool::new(false);
static PRINTED: Mutex<Option<HashSet<String>>> = Mutex::new(None);

/// Turns warnings on or off for what the process does next.
pub(crate) fn set_enabled(on: bool) {
    ENABLED.store(on, Ordering::Relaxed);
}

/// Prints `warning: {message}` on stderr unless warnings are off or it was
/// printed before.
pub(crate) fn once(message: String) {
    if !ENABLED.load(Ordering::Relaxed) {
        return;
    }
    let Ok(mut printed) = PRINTED.lock() else {
        return;
    };
    if printed.get_or_insert_with(HashSet::new).insert(message.clone()) {
        eprintln!("warning: {message}");
    }
}
