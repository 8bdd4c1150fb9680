//! Turning a panic in user code into a task error that says where it
//! happened, without the default hook's noise on stderr.

use std::any::Any;
use std::cell::RefCell;
use std::sync::Once;
use std::sync::atomic::{AtomicBool, Ordering};

thread_local! {
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Whether the hook prints the default report too (`-v`).
static VERBOSE: AtomicBool = AtomicBool::new(false);

/// Installs a panic hook that records each panic's location for the task
/// error, and prints the default report (with backtrace) only if `verbose`.
/// Installed once; a later call only changes `verbose` (the command line
/// installs it before its options are parsed, then says what `-v` is).
pub(crate) fn install_hook(verbose: bool) {
    static INSTALLED: Once = Once::new();
    VERBOSE.store(verbose, Ordering::Relaxed);
    INSTALLED.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if let Some(loc) = info.location() {
                let at = format!("{}:{}:{}", loc.file(), loc.line(), loc.column());
                LAST_PANIC.with(|p| *p.borrow_mut() = Some(at));
            }
            if VERBOSE.load(Ordering::Relaxed) {
                default(info);
            }
        }));
    });
}

/// A message for a caught panic payload: its text, and where it happened if
/// the hook saw it.
pub(crate) fn message(payload: Box<dyn Any + Send>) -> String {
    match describe(payload) {
        (text, Some(at)) => format!("panicked at {at}: {text}"),
        (text, None) => format!("panicked: {text}"),
    }
}

/// A caught panic payload's text, and where it happened (`file:line:column`)
/// if the hook saw it on this thread.
pub(crate) fn describe(payload: Box<dyn Any + Send>) -> (String, Option<String>) {
    let text = if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(a non-string panic payload)".to_owned()
    };
    (text, LAST_PANIC.with(|p| p.borrow_mut().take()))
}
