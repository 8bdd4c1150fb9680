//! Turning a panic in user code into a task error that says where it
//! happened, without the default hook's noise on stderr.

use std::any::Any;
use std::cell::RefCell;

thread_local! {
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Installs a panic hook that records each panic's location for the task
/// error, and prints the default report (with backtrace) only if `verbose`.
pub(crate) fn install_hook(verbose: bool) {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if let Some(loc) = info.location() {
            let at = format!("{}:{}:{}", loc.file(), loc.line(), loc.column());
            LAST_PANIC.with(|p| *p.borrow_mut() = Some(at));
        }
        if verbose {
            default(info);
        }
    }));
}

/// A message for a caught panic payload: its text, and where it happened if
/// the hook saw it.
pub(crate) fn message(payload: Box<dyn Any + Send>) -> String {
    let text = if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(a non-string panic payload)".to_owned()
    };
    match LAST_PANIC.with(|p| p.borrow_mut().take()) {
        Some(at) => format!("panicked at {at}: {text}"),
        None => format!("panicked: {text}"),
    }
}
