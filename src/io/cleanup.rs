//! Paths to delete if the process is interrupted: job directories and
//! output staging directories register here while they exist, and the
//! Ctrl-C handler removes them before exiting, so an interrupted run leaves
//! no temporary data behind.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

static LIVE: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Whether Ctrl-C was pressed: errors that follow (tasks finding their
/// directories gone) are its consequence, not news.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// Registers a directory to remove on interrupt.
pub(crate) fn register(path: &Path) {
    if let Ok(mut live) = LIVE.lock() {
        live.push(path.to_path_buf());
    }
}

/// Unregisters a directory (it was removed or committed).
pub(crate) fn unregister(path: &Path) {
    if let Ok(mut live) = LIVE.lock() {
        live.retain(|p| p != path);
    }
}

/// Installs a Ctrl-C (SIGINT/SIGTERM) handler that removes every
/// registered directory and exits with status 130. Call once, early; a
/// second call is a no-op.
pub fn install_interrupt_cleanup() {
    // Fails only if a handler is already installed, which is fine.
    let _ = ctrlc::set_handler(|| {
        INTERRUPTED.store(true, Ordering::SeqCst);
        if let Ok(live) = LIVE.lock() {
            for p in live.iter() {
                remove_under_writers(p);
            }
        }
        eprintln!("interrupted: temporary data removed");
        std::process::exit(130);
    });
}

/// Removes a directory that worker threads may still be writing into: it
/// is renamed first (atomic), so new files cannot appear under the old
/// path, then removed. The new name keeps the old one as a prefix, so if
/// removal still fails the next run's stale-directory sweep finds it.
fn remove_under_writers(path: &Path) {
    let mut doomed = path.as_os_str().to_owned();
    doomed.push("-interrupted");
    let doomed = PathBuf::from(doomed);
    let target = if std::fs::rename(path, &doomed).is_ok() {
        doomed.as_path()
    } else {
        path
    };
    for _ in 0..3 {
        if std::fs::remove_dir_all(target).is_ok() || !target.exists() {
            return;
        }
    }
}

/// Whether process `pid` is alive (Linux: it has a `/proc` entry).
pub(crate) fn process_alive(pid: u32) -> bool {
    pid == std::process::id() || Path::new(&format!("/proc/{pid}")).exists()
}
