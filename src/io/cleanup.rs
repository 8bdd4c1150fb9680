//! Paths to delete if the process is interrupted: job directories and
//! output staging directories register here while they exist, and the
//! Ctrl-C handler removes them before exiting, so an interrupted run leaves
//! no temporary data behind.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

static LIVE: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

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
        if let Ok(live) = LIVE.lock() {
            for p in live.iter() {
                let _ = std::fs::remove_dir_all(p);
            }
        }
        eprintln!("interrupted: temporary data removed");
        std::process::exit(130);
    });
}

/// Whether process `pid` is alive (Linux: it has a `/proc` entry).
pub(crate) fn process_alive(pid: u32) -> bool {
    pid == std::process::id() || Path::new(&format!("/proc/{pid}")).exists()
}
