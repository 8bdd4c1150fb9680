//! Whether the process was started with its standard output closed
//! (`mr-run JOB >&-`).
//!
//! Rust's runtime opens `/dev/null` on a closed descriptor 0, 1 or 2
//! before `main` runs, so a write to stdout "succeeds" and the output is
//! lost with exit 0. GNU tools fail instead ("Bad file descriptor"). To do
//! the same, the descriptor is looked at before the runtime's fix-up: by a
//! function in `.init_array`, which the C runtime calls before `main`.

use std::sync::atomic::{AtomicBool, Ordering};

static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);

/// Runs before `main` (and before Rust's runtime reopens closed standard
/// descriptors): notes whether descriptor 1 was open.
extern "C" fn probe_stdout() {
    // SAFETY: fcntl(F_GETFD) on a descriptor number only reads its flags
    // (or fails with EBADF); it touches no memory of ours.
    #[allow(unsafe_code)]
    let flags = unsafe { libc::fcntl(libc::STDOUT_FILENO, libc::F_GETFD) };
    STDOUT_CLOSED.store(flags == -1, Ordering::Relaxed);
}

// SAFETY (of the attribute): `.init_array` holds pointers to functions
// taking nothing, which the C runtime calls once before `main`;
// `probe_stdout` is one, and needs nothing initialized (an atomic store
// and a system call).
#[allow(unsafe_code)]
#[used]
#[unsafe(link_section = ".init_array")]
static PROBE_STDOUT: extern "C" fn() = probe_stdout;

/// Whether standard output was closed when the process started.
pub fn stdout_was_closed() -> bool {
    STDOUT_CLOSED.load(Ordering::Relaxed)
}

/// The error for output that has nowhere to go: as GNU tools say it.
pub fn closed_stdout_error() -> crate::error::Error {
    crate::error::Error::io("<stdout>", std::io::Error::from_raw_os_error(libc::EBADF))
}
