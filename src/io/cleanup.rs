//! Temporary paths the tool creates: their one naming rule, the locks that
//! tell a live run's from a killed one's, their removal when the process is
//! interrupted, and the sweep of those left by killed runs.
//!
//! Every temporary directory in the temp root is named
//! `mr-<kind>-<pid>-<unique>` (`kind` a lowercase word: `job`, `output`,
//! `spool`, ...), so one sweep recognizes all of them. The PID is there
//! for people; whether the owner still runs is told by a lock: the owner
//! holds an exclusive `flock(2)` on the directory itself for as long as it
//! uses it, and the kernel drops that lock when the process ends, however
//! it ends. A sweep removes a directory of that shape only while it holds
//! the lock itself, so a live run's directory is never taken, even by a
//! run in another PID namespace (containers sharing `/tmp`), where a PID
//! says nothing. The lock is on the directory, not on a file inside it,
//! so no window exists where the directory stands without its lock file,
//! and an output's staging directory (locked the same way) holds nothing
//! but the output. On a filesystem without `flock` the sweep falls back on
//! the PID.
//!
//! Paths register here while they exist, and the SIGINT/SIGTERM/SIGHUP
//! handler removes them before exiting with 128 + the signal's number, as
//! a shell reports a process killed by it. A commit (see
//! [`CommitGuard`]) is never cut in two: the handler waits for one in
//! progress, and once an output is committed the job has succeeded, so a
//! later signal is reported and the run finishes with exit status 0.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use crate::error::{Error, Result};

static LIVE: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
static STATE: RunState = RunState::new();
static NEXT: AtomicU64 = AtomicU64::new(0);

/// The prefix of every temporary name.
const PREFIX: &str = "mr-";

/// Whether an interrupting signal arrived: errors that follow (tasks
/// finding their directories gone) are its consequence, not news.
pub fn interrupted() -> bool {
    STATE.interrupted.load(Ordering::SeqCst)
}

/// Waits, after an interrupting signal, for the handler to finish removing
/// the temporary data and exit the process with the signal's status: a
/// main thread that returned first would end the process mid-cleanup.
pub fn wait_for_interrupt_exit() -> ! {
    loop {
        std::thread::park();
    }
}

/// What the signal handler and the committer share.
struct RunState {
    /// Held through a commit; `true` once an output is committed.
    commit: Mutex<bool>,
    interrupted: AtomicBool,
}

/// What the handler does with a signal.
enum Decision<'a> {
    /// An output is committed: the job has succeeded; the run finishes.
    Finish,
    /// End the run; the guard keeps any commit from starting meanwhile.
    End(MutexGuard<'a, bool>),
}

impl RunState {
    const fn new() -> Self {
        RunState {
            commit: Mutex::new(false),
            interrupted: AtomicBool::new(false),
        }
    }

    fn begin_commit(&self) -> Option<CommitGuard<'_>> {
        // A commit that panicked (a test's stand-in for a kill) poisons
        // nothing that matters: the flag is written only on success.
        let guard = self.commit.lock().unwrap_or_else(PoisonError::into_inner);
        if self.interrupted.load(Ordering::SeqCst) {
            return None;
        }
        Some(CommitGuard { guard, mine: false })
    }

    /// Waits for a commit in progress, then decides.
    fn decide(&self) -> Decision<'_> {
        let guard = self.commit.lock().unwrap_or_else(PoisonError::into_inner);
        if *guard {
            return Decision::Finish;
        }
        // Set under the lock, so a commit that starts later sees it.
        self.interrupted.store(true, Ordering::SeqCst);
        Decision::End(guard)
    }
}

/// Held by a commit from its first look at the destination until the
/// output is in place, so that a signal cannot end the process between
/// the rename and the exit status: the handler waits for it, then either
/// ends the run (nothing committed) or lets it finish with status 0 (the
/// output is in place, so the job has succeeded).
pub(crate) struct CommitGuard<'a> {
    guard: MutexGuard<'a, bool>,
    /// Whether this commit put its output in place.
    mine: bool,
}

impl CommitGuard<'static> {
    /// Starts a commit; `None` when an interrupting signal came first: the
    /// handler is ending the run, and nothing may be committed now.
    pub(crate) fn begin() -> Option<Self> {
        STATE.begin_commit()
    }
}

impl CommitGuard<'_> {
    /// The output is in place: from now on a signal ends nothing.
    pub(crate) fn committed(&mut self) {
        *self.guard = true;
        self.mine = true;
    }

    /// Whether [`committed`](Self::committed) was called on this guard.
    pub(crate) fn is_committed(&self) -> bool {
        self.mine
    }
}

/// An exclusive `flock(2)` on an open file or directory, held while this
/// lives: closing the descriptor (at drop, or at the process's end,
/// however it ends) releases it. The descriptor is close-on-exec, so child
/// processes never hold it.
pub(crate) struct Held {
    _open: File,
}

/// Tries to lock `file` without waiting: `Ok(true)` when taken,
/// `Ok(false)` when another open file holds it (this process's included:
/// `flock` locks belong to the open file, not the process), `Err` when the
/// filesystem has no such locks.
pub(crate) fn try_lock(file: &File) -> io::Result<bool> {
    use rustix::fs::{FlockOperation, flock};
    match flock(file, FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => Ok(true),
        Err(e) if e == rustix::io::Errno::WOULDBLOCK => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// [`try_lock`], asked again a few times over ~30 ms when the lock is
/// held: a process that forks a child shares its descriptors (and so its
/// locks) with the child until the child's `exec` closes them, so a lock
/// that was just dropped can look held for that instant. A live owner
/// holds its lock for its whole run; a sweep must not mistake the instant
/// for one (seen as a rare test failure while other tests spawned
/// processes).
pub(crate) fn try_lock_settled(file: &File) -> io::Result<bool> {
    for _ in 0..3 {
        if try_lock(file)? {
            return Ok(true);
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    try_lock(file)
}

/// Whether `path` still names the file open as `file`: a lock taken on a
/// file that was removed (or replaced) after it was opened guards nothing.
pub(crate) fn names_file(path: &Path, file: &File) -> bool {
    match (fs::symlink_metadata(path), file.metadata()) {
        (Ok(at_path), Ok(open)) => at_path.dev() == open.dev() && at_path.ino() == open.ino(),
        _ => false,
    }
}

/// Opens the directory at `path` (not a symlink to one) to lock it.
fn open_dir(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_DIRECTORY | libc::O_NOFOLLOW)
        .open(path)
}

/// Takes the lock of the directory at `path`: `Ok(None)` when another
/// holds it, or when `path` no longer names the directory locked (a
/// sweep removed it). On a filesystem without `flock` the directory is
/// held unlocked, and sweeps there go by its PID.
pub(crate) fn hold_dir(path: &Path) -> io::Result<Option<Held>> {
    let file = match open_dir(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    match try_lock_settled(&file) {
        Ok(true) if names_file(path, &file) => Ok(Some(Held { _open: file })),
        Ok(_) => Ok(None),
        Err(_) => Ok(Some(Held { _open: file })),
    }
}

/// Creates a fresh directory `root/mr-<kind>-...` (see [`temp_name`]),
/// registered for removal on interrupt, and holds its lock for as long as
/// the returned [`Held`] lives.
pub(crate) fn create_temp_dir(root: &Path, kind: &str) -> Result<(PathBuf, Held)> {
    for _ in 0..8 {
        let path = root.join(temp_name(kind));
        // Registered first: a signal right after the `mkdir` removes it too.
        register(&path);
        let held = fs::create_dir(&path).and_then(|()| hold_dir(&path));
        match held {
            Ok(Some(held)) => return Ok((path, held)),
            // Another run's sweep saw it between the `mkdir` and the lock,
            // unlocked, and is removing it: a fresh name is ours alone.
            Ok(None) => unregister(&path),
            Err(e) => {
                unregister(&path);
                return Err(Error::io(&path, e));
            }
        }
    }
    Err(Error::io(
        root,
        io::Error::other("could not lock a new temporary directory: other runs' sweeps kept taking it"),
    ))
}

/// A fresh name of the shape the sweep recognizes: `mr-<kind>-<pid>-<n>-<nanos>`.
/// Private: a directory of this shape that nobody locks is a killed run's,
/// so every one is made by [`create_temp_dir`], which locks it.
fn temp_name(kind: &str) -> String {
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
/// [`temp_name`] whose lock nobody holds (its PID, where the filesystem
/// has no locks). Best effort: a directory that cannot be removed now is
/// tried again next time.
pub(crate) fn sweep_stale(root: &Path) {
    let Ok(entries) = fs::read_dir(root) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(owner) else {
            continue;
        };
        if !entry.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        let path = entry.path();
        let Ok(file) = open_dir(&path) else { continue };
        // Both must say "gone": the lock (a run in another PID namespace
        // holds it though its PID means nothing here) and the PID (a run of
        // an older version of the tool, which takes no lock, is alive).
        // A dead run whose PID was reused waits for the next sweep.
        let abandoned = match try_lock_settled(&file) {
            Ok(taken) => taken && names_file(&path, &file) && !process_alive(pid),
            Err(_) => !process_alive(pid),
        };
        if abandoned {
            // Removed while locked: its owner, had it been starting at
            // this instant, would have failed to lock it and moved on.
            let _ = fs::remove_dir_all(&path);
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
/// registered path and exits with 128 + the signal's number; after an
/// output was committed it only says that the signal came too late to
/// stop the job (see [`CommitGuard`]). Call once, early; later calls are
/// no-ops.
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
        for signal in signals.forever() {
            // Messages go out whatever stderr is: `eprintln!` panics on a
            // closed pipe, and a handler thread that dies before `exit`
            // leaves the process waiting forever.
            match STATE.decide() {
                Decision::Finish => {
                    let _ = writeln!(
                        io::stderr(),
                        "signal {signal} arrived after the output was committed: the job has succeeded, and finishes"
                    );
                }
                Decision::End(_no_commit) => {
                    if let Ok(live) = LIVE.lock() {
                        for p in live.iter() {
                            remove_under_writers(p);
                        }
                    }
                    let _ = writeln!(io::stderr(), "interrupted: temporary data removed");
                    std::process::exit(128 + signal);
                }
            }
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
        let _ = fs::remove_file(path);
        return;
    }
    let mut doomed = path.as_os_str().to_owned();
    doomed.push("-interrupted");
    let doomed = PathBuf::from(doomed);
    let target = if fs::rename(path, &doomed).is_ok() {
        doomed.as_path()
    } else {
        path
    };
    for _ in 0..3 {
        if fs::remove_dir_all(target).is_ok() || !target.exists() {
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
        let (live, _held) = create_temp_dir(root.path(), "job").unwrap();
        let live = live.file_name().unwrap().to_str().unwrap().to_owned();
        let kept = [live, "mr-notes".to_owned(), "mr-job-99999999".to_owned()];
        for name in dead.iter().copied().chain(kept.iter().map(String::as_str)) {
            fs::create_dir_all(root.path().join(name).join("sub")).unwrap();
        }
        // A user's file that happens to have the shape is not a directory of ours.
        fs::write(root.path().join("mr-data-99999999-1-1"), b"keep").unwrap();
        sweep_stale(root.path());
        let mut want: Vec<String> = kept.to_vec();
        want.push("mr-data-99999999-1-1".to_owned());
        want.sort();
        assert_eq!(names(root.path()), want);
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut left: Vec<_> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        left
    }

    #[test]
    fn issue27_sweep_goes_by_the_lock_not_by_the_pid() {
        let root = tempfile::tempdir().unwrap();
        // A run in another PID namespace: its PID means nothing here (dead
        // here, or some unrelated live process), but it holds its lock.
        let other_ns = root.path().join("mr-job-99999999-0-1");
        let other_ns_alive_pid = root.path().join(format!("mr-spool-{}-0-1", std::process::id()));
        // Killed runs: nobody holds their locks, whatever their PIDs say.
        let killed = root.path().join("mr-job-99999999-0-2");
        let killed_same_pid = root.path().join(format!("mr-output-{}-0-3", std::process::id()));
        for d in [&other_ns, &other_ns_alive_pid, &killed, &killed_same_pid] {
            fs::create_dir_all(d.join("step-0")).unwrap();
        }
        let _a = hold_dir(&other_ns).unwrap().unwrap();
        let _b = hold_dir(&other_ns_alive_pid).unwrap().unwrap();
        sweep_stale(root.path());
        assert!(other_ns.join("step-0").exists(), "a locked directory is kept");
        assert!(other_ns_alive_pid.exists());
        assert!(!killed.exists(), "an unlocked one is removed");
        // Unlocked with a live PID: a run of an older version that takes no
        // lock (seen while two versions shared /tmp), or a reused PID,
        // which the next sweep settles. Never removed on a guess.
        assert!(
            killed_same_pid.exists(),
            "an unlocked directory whose PID is alive is kept"
        );
        // A lock holds against a second open file of the same process too.
        assert!(hold_dir(&other_ns).unwrap().is_none());
    }

    #[test]
    fn issue27_a_signal_during_a_commit_waits_for_it_then_lets_the_job_finish() {
        static STATE: RunState = RunState::new();
        let mut commit = STATE.begin_commit().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let handler = std::thread::spawn(move || {
            let finish = matches!(STATE.decide(), Decision::Finish);
            tx.send(finish).unwrap();
        });
        // The handler waits while the commit is in progress.
        assert!(rx.recv_timeout(std::time::Duration::from_millis(200)).is_err());
        commit.committed();
        drop(commit);
        assert!(rx.recv().unwrap(), "a committed job finishes");
        handler.join().unwrap();
        assert!(!STATE.interrupted.load(Ordering::SeqCst));
    }

    #[test]
    fn issue27_a_signal_before_the_commit_ends_the_run_and_no_commit_starts() {
        static STATE: RunState = RunState::new();
        let decision = STATE.decide();
        assert!(matches!(decision, Decision::End(_)));
        drop(decision);
        assert!(STATE.interrupted.load(Ordering::SeqCst));
        assert!(STATE.begin_commit().is_none(), "nothing is committed after the signal");
    }

    #[test]
    fn issue27_a_failed_commit_leaves_the_signal_free_to_end_the_run() {
        static STATE: RunState = RunState::new();
        drop(STATE.begin_commit().unwrap());
        assert!(matches!(STATE.decide(), Decision::End(_)));
    }
}
