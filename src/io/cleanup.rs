//! Temporary paths the tool creates: their one naming rule, their removal
//! when the process is interrupted, and the sweep of those left by killed
//! runs.
//!
//! Every temporary directory in the temp root is named
//! `mr-<kind>-<pid>-<unique>` (`kind` a lowercase word: `job`, `output`,
//! `spool`, ...), so one sweep recognizes all of them: a name of that shape
//! whose process is gone belongs to a killed run and is removed. Paths
//! register here while they exist, and the SIGINT/SIGTERM/SIGHUP handler
//! removes them before exiting with 128 + the signal's number, as a shell
//! reports a process killed by it.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

static LIVE: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
static INTERRUPTED: AtomicBool = AtomicBool::new(false);
static NEXT: AtomicU64 = AtomicU64::new(0);

/// The prefix of every temporary name.
const PREFIX: &str = "mr-";

/// Whether an interrupting signal arrived: errors that follow (tasks
/// finding their directories gone) are its consequence, not news.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// Waits, after an interrupting signal, for the handler to finish removing
/// the temporary data and exit the process with the signal's status: a
/// main thread that returned first would end the process mid-cleanup.
pub fn wait_for_interrupt_exit() -> ! {
    loop {
        std::thread::park();
    }
}

/// A fresh name of the shape the sweep recognizes: `mr-<kind>-<pid>-<n>-<nanos>`.
pub(crate) fn temp_name(kind: &str) -> String {
    debug_assert!(!kind.is_empty() && kind.bytes().all(|b| b.is_ascii_lowercase()));
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("{PREFIX}{kind}-{}-{n}-{nanos}", std::process::id())
}

/// The owning process of a name made by [`temp_name`], or `None` for any
/// other name (a user's `mr-notes` is never taken for ours).
fn owner(name: &str) -> Option<u32> {
    let rest = name.strip_prefix(PREFIX)?;
    let (kind, rest) = rest.split_once('-')?;
    if kind.is_empty() || !kind.bytes().all(|b| b.is_ascii_lowercase()) {
        return None;
    }
    let mut fields = rest.split('-');
    let pid = fields.next()?.parse::<u32>().ok()?;
    // The unique part is always present: two more numeric fields.
    let n = fields.next()?;
    let nanos = fields.next()?;
    if !n.bytes().all(|b| b.is_ascii_digit()) || !nanos.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(pid)
}

/// Removes what killed runs left in `root`: every directory named by
/// [`temp_name`] whose process no longer exists. Best effort: a
/// directory that cannot be removed now is tried again next time.
pub(crate) fn sweep_stale(root: &Path) {
    let Ok(entries) = std::fs::read_dir(root) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(owner) else {
            continue;
        };
        if !process_alive(pid) && entry.file_type().is_ok_and(|t| t.is_dir()) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// Registers a directory or file to remove on interrupt.
pub(crate) fn register(path: &Path) {
    if let Ok(mut live) = LIVE.lock() {
        live.push(path.to_path_buf());
    }
}

/// Unregisters a path (it was removed or committed).
pub(crate) fn unregister(path: &Path) {
    if let Ok(mut live) = LIVE.lock() {
        live.retain(|p| p != path);
    }
}

/// Installs a handler for SIGINT, SIGTERM and SIGHUP (Ctrl-C, `timeout`,
/// systemd and container runtimes, a closed terminal) that removes every
/// registered path and exits with 128 + the signal's number. Call once,
/// early; later calls are no-ops.
pub fn install_interrupt_cleanup() {
    static INSTALLED: AtomicBool = AtomicBool::new(false);
    if INSTALLED.swap(true, Ordering::SeqCst) {
        return;
    }
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    // Registration fails only when the signals cannot be hooked at all;
    // then the default action (terminate) applies and the next run's
    // sweep removes what is left.
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) else {
        return;
    };
    let spawned = std::thread::Builder::new().name("mr-signals".into()).spawn(move || {
        if let Some(signal) = signals.forever().next() {
            INTERRUPTED.store(true, Ordering::SeqCst);
            if let Ok(live) = LIVE.lock() {
                for p in live.iter() {
                    remove_under_writers(p);
                }
            }
            eprintln!("interrupted: temporary data removed");
            std::process::exit(128 + signal);
        }
    });
    drop(spawned);
}

/// Removes a directory that worker threads may still be writing into: it
/// is renamed first (atomic), so new files cannot appear under the old
/// path, then removed. The new name keeps the old one as a prefix, so if
/// removal still fails the next run's stale-directory sweep finds it.
fn remove_under_writers(path: &Path) {
    if path.is_file() {
        let _ = std::fs::remove_file(path);
        return;
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_carry_kind_and_pid_and_nothing_else_matches() {
        let name = temp_name("output");
        assert!(
            name.starts_with(&format!("mr-output-{}-", std::process::id())),
            "{name}"
        );
        assert_eq!(owner(&name), Some(std::process::id()));
        assert_eq!(owner(&format!("{name}-interrupted")), Some(std::process::id()));
        for other in [
            "mr-notes",
            "mr-job-12",
            "mr-Job-1-2-3",
            "mr-job-x-1-2",
            "mr--1-2-3",
            "xmr-job-1-2-3",
        ] {
            assert_eq!(owner(other), None, "{other}");
        }
    }

    #[test]
    fn issue8_sweep_removes_every_kind_of_dead_runs_directory() {
        let root = tempfile::tempdir().unwrap();
        // PIDs are below 2^22 on Linux, so this one is never alive.
        let dead = [
            "mr-job-99999999-0-1",
            "mr-output-99999999-3-4",
            "mr-spool-99999999-0-7-interrupted",
        ];
        let kept = [temp_name("job"), "mr-notes".to_owned(), "mr-job-99999999".to_owned()];
        for name in dead.iter().copied().chain(kept.iter().map(String::as_str)) {
            std::fs::create_dir_all(root.path().join(name).join("sub")).unwrap();
        }
        // A user's file that happens to have the shape is not a directory of ours.
        std::fs::write(root.path().join("mr-data-99999999-1-1"), b"keep").unwrap();
        sweep_stale(root.path());
        let mut left: Vec<_> = std::fs::read_dir(root.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        let mut want: Vec<String> = kept.to_vec();
        want.push("mr-data-99999999-1-1".to_owned());
        want.sort();
        assert_eq!(left, want);
    }
}
