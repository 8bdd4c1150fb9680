//! The output committer: part files are written into a staging directory
//! and only a complete job puts them where the user asked, replacing only
//! what this tool wrote before.
//!
//! With `-o DIR`, before any task runs:
//! - DIR's parent is resolved once (so `s2/../s2` names one directory for
//!   the whole run) and DIR is claimed with a lock file beside it,
//!   `.DIR.mr-lock` holding the owner's process id, so a second run into
//!   DIR fails at once instead of after doing all its work;
//! - what is at DIR is checked: nothing, an empty directory (taken, as
//!   mrjob does), or a previous output of this tool (only `_SUCCESS` and
//!   `part-*` files), which `--overwrite` may replace. Anything else (a
//!   file, a directory holding other files) is refused, saying what is in
//!   the way, and so is a DIR that holds one of the job's inputs;
//! - the staging directory `.DIR.mr-staging-PID` is created beside DIR (on
//!   the same filesystem, so renames are atomic), which also proves the
//!   location writable.
//!
//! Commit writes `_SUCCESS` into the staging directory and then makes it
//! DIR in one atomic step: a `rename` onto a missing or empty DIR, or, for
//! `--overwrite`, a `renameat2(RENAME_EXCHANGE)` that swaps the new output
//! and the old one; the old output (now under the staging name) is then
//! deleted file by file, only the `_SUCCESS` and `part-*` files it was
//! checked to hold. So at every instant DIR holds either the complete old
//! output or the complete new one, and a kill at any point leaves at most
//! a hidden sibling that the next run into DIR removes. Where the
//! filesystem cannot exchange, the old output is renamed aside to
//! `.DIR.mr-old-PID` first; a run killed between the two renames leaves DIR
//! missing, and the next run puts the old output back.
//!
//! Without `-o`, parts are staged in a temporary directory named by
//! [`cleanup`]'s rule (`mr-output-PID-...`) and copied to standard output in
//! part order once the job succeeds, so a failed job prints nothing.
//!
//! Layout of a committed directory: `part-00000`, `part-00001`, ... (one per
//! reduce task, or per map task in a map-only last step), each a sequence of
//! protocol lines ending in `\n`, and an empty `_SUCCESS`. With a limit of
//! K parts (`--max-output-files`) and N > K written, part i of the
//! committed output is the staged parts `i*N/K .. (i+1)*N/K` concatenated
//! in order (Spark's `coalesce` grouping), joined in the staging directory
//! before `_SUCCESS` is written.

use std::ffi::OsStr;
use std::fs::{self, File, OpenOptions};
use std::io::{self, ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::error::{Error, FileWriteError, Result};
use crate::io::cleanup;
use crate::io::direct::DirectWriter;

const STAGING_TAG: &str = ".mr-staging-";
const OLD_TAG: &str = ".mr-old-";
const LOCK_TAG: &str = ".mr-lock";
const SUCCESS: &str = "_SUCCESS";

/// Where a job's output is going, until it is committed or dropped.
pub(crate) struct OutputDir {
    staging: PathBuf,
    /// `None` means standard output.
    dest: Option<Dest>,
    parts: AtomicUsize,
    /// `--max-output-files`.
    max_parts: Option<usize>,
    committed: bool,
}

/// A claimed output directory.
struct Dest {
    /// As the user typed it, for messages.
    shown: PathBuf,
    /// The canonical parent joined with the name: resolved once.
    path: PathBuf,
    parent: PathBuf,
    name: String,
    overwrite: bool,
    /// `.DIR.mr-lock`, removed when the run ends.
    lock: PathBuf,
    /// Tests take the path for filesystems without `RENAME_EXCHANGE`.
    force_aside: bool,
}

/// What is at the output path.
#[derive(Debug, PartialEq, Eq)]
enum Existing {
    Absent,
    /// An empty directory: taken as if absent.
    Empty,
    /// Only `_SUCCESS` and `part-*` files.
    PreviousOutput,
}

impl OutputDir {
    /// Prepares to write to `dest` (or standard output), checking
    /// everything about the location before any work is done: what is at
    /// `dest`, that no input lies inside it, that no other run holds it,
    /// and that its parent is writable.
    pub(crate) fn create(dest: Option<&Path>, overwrite: bool, temp_root: &Path, inputs: &[&Path]) -> Result<Self> {
        let (staging, dest) = match dest {
            None => {
                let staging = temp_root.join(cleanup::temp_name("output"));
                fs::create_dir(&staging).map_err(|e| Error::io(&staging, e))?;
                (staging, None)
            }
            Some(shown) => {
                let dest = Dest::claim(shown, overwrite, inputs)?;
                match dest.prepare_staging() {
                    Ok(staging) => (staging, Some(dest)),
                    Err(e) => {
                        dest.release();
                        return Err(e);
                    }
                }
            }
        };
        cleanup::register(&staging);
        Ok(OutputDir {
            staging,
            dest,
            parts: AtomicUsize::new(0),
            max_parts: None,
            committed: false,
        })
    }

    /// At most `max` part files when committed (`None`: one per task).
    pub(crate) fn set_max_parts(&mut self, max: Option<usize>) {
        self.max_parts = max;
    }

    /// Joins adjacent parts so that at most `max_parts` remain (see the
    /// module docs for which go together).
    fn coalesce(&mut self) -> Result<()> {
        let n = self.parts.load(Ordering::Relaxed);
        let k = match self.max_parts {
            Some(k) if k >= 1 && n > k => k,
            _ => return Ok(()),
        };
        let part = |i: usize| self.staging.join(format!("part-{i:05}"));
        for group in 0..k {
            let (first, end) = (group * n / k, (group + 1) * n / k);
            // Parts below `first` are already joined into lower groups, so
            // the name `part-{group}` is free when `first > group`.
            let target = part(group);
            if first != group {
                fs::rename(part(first), &target).map_err(|e| Error::io(&target, e))?;
            }
            if end == first + 1 {
                continue;
            }
            let mut out = OpenOptions::new()
                .append(true)
                .open(&target)
                .map_err(|e| Error::io(&target, e))?;
            for j in first + 1..end {
                let from = part(j);
                let mut input = File::open(&from).map_err(|e| Error::io(&from, e))?;
                io::copy(&mut input, &mut out).map_err(|e| Error::io(&target, e))?;
                fs::remove_file(&from).map_err(|e| Error::io(&from, e))?;
            }
        }
        self.parts.store(k, Ordering::Relaxed);
        Ok(())
    }

    /// Opens part file `index` for writing.
    pub(crate) fn part(&self, index: usize) -> Result<PartWriter> {
        self.parts.fetch_max(index + 1, Ordering::Relaxed);
        let name = format!("part-{index:05}");
        let path = self.staging.join(&name);
        // Errors name the part as the user will find it, not the hidden
        // staging directory; without `-o` the staging directory in the temp
        // dir is the real place, so it is named.
        let shown = match &self.dest {
            Some(dest) => dest.shown.join(&name),
            None => path.clone(),
        };
        let file = File::create(&path).map_err(|e| Error::io(&shown, e))?;
        Ok(PartWriter {
            out: DirectWriter::new(file),
            path: shown,
            bytes: 0,
        })
    }

    /// Makes the output visible: puts the staging directory in place, or
    /// copies the parts to `stdout`.
    pub(crate) fn commit(mut self, stdout: &mut dyn Write) -> Result<()> {
        self.commit_observed(stdout, &mut |_| {})
    }

    /// [`commit`](Self::commit), calling `step` after each change on disk:
    /// a test stops there (and forgets `self`, as a kill would) to check
    /// that every intermediate state is safe.
    fn commit_observed(&mut self, stdout: &mut dyn Write, step: &mut dyn FnMut(CommitStep)) -> Result<()> {
        if self.dest.is_some() {
            self.coalesce()?;
        }
        let Some(dest) = &self.dest else {
            for i in 0..self.parts.load(Ordering::Relaxed) {
                let path = self.staging.join(format!("part-{i:05}"));
                let mut f = File::open(&path).map_err(|e| Error::io(&path, e))?;
                io::copy(&mut f, stdout).map_err(|e| Error::io("<stdout>", e))?;
            }
            return stdout.flush().map_err(|e| Error::io("<stdout>", e));
        };
        let success = self.staging.join(SUCCESS);
        File::create(&success).map_err(|e| Error::io(&success, e))?;
        step(CommitStep::SuccessWritten);
        // Checked again: the directory may have changed while the job ran.
        let existing = dest.inspect()?;
        match existing {
            Existing::Absent | Existing::Empty => {
                // `rename` replaces an empty directory and fails on a
                // non-empty one, so it never clobbers what appeared since.
                fs::rename(&self.staging, &dest.path).map_err(|e| dest.refused_by(e))?;
                self.committed = true;
                step(CommitStep::Renamed);
            }
            Existing::PreviousOutput => {
                self.committed = true;
                dest.replace(&self.staging, step)?;
            }
        }
        cleanup::unregister(&self.staging);
        Ok(())
    }
}

/// The points of a commit after which a test may stop, as a kill would.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CommitStep {
    SuccessWritten,
    Renamed,
    Exchanged,
    MovedAside,
    OldRemoved,
}

impl Drop for OutputDir {
    fn drop(&mut self) {
        if !self.committed {
            // Best effort: the job's real error (if any) is what matters.
            let _ = fs::remove_dir_all(&self.staging);
        }
        cleanup::unregister(&self.staging);
        if let Some(dest) = &self.dest {
            dest.release();
        }
    }
}

impl Dest {
    /// Resolves `shown`, takes the lock beside it and checks what is there.
    fn claim(shown: &Path, overwrite: bool, inputs: &[&Path]) -> Result<Dest> {
        let refused = |reason: String| Error::OutputRefused {
            path: shown.to_path_buf(),
            reason,
        };
        let name = match shown.file_name() {
            Some(n) if !shown.ends_with("..") => n
                .to_str()
                .ok_or_else(|| refused("the directory name is not valid UTF-8".into()))?
                .to_owned(),
            _ => return Err(refused("name the output directory itself, not `.` or `..`".into())),
        };
        let given_parent = match shown.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        fs::create_dir_all(&given_parent)
            .map_err(|e| refused(format!("cannot create its parent {}: {e}", given_parent.display())))?;
        let parent = fs::canonicalize(&given_parent).map_err(|e| Error::io(&given_parent, e))?;
        let lock = parent.join(format!(".{name}{LOCK_TAG}"));
        let dest = Dest {
            shown: shown.to_path_buf(),
            path: parent.join(&name),
            parent,
            name,
            overwrite,
            lock,
            force_aside: false,
        };
        dest.lock()?;
        match dest.check(inputs) {
            Ok(()) => Ok(dest),
            Err(e) => {
                dest.release();
                Err(e)
            }
        }
    }

    fn refused(&self, reason: String) -> Error {
        Error::OutputRefused {
            path: self.shown.clone(),
            reason,
        }
    }

    fn refused_by(&self, e: io::Error) -> Error {
        match e.kind() {
            ErrorKind::PermissionDenied | ErrorKind::ReadOnlyFilesystem => {
                self.refused(format!("cannot write in {}: {e}", self.parent.display()))
            }
            ErrorKind::DirectoryNotEmpty | ErrorKind::AlreadyExists | ErrorKind::NotADirectory => {
                self.refused(format!("something else appeared there while the job ran ({e})"))
            }
            _ => Error::io(&self.shown, e),
        }
    }

    /// Takes `.DIR.mr-lock`, or takes it over from a run that is gone.
    fn lock(&self) -> Result<()> {
        for _ in 0..2 {
            match OpenOptions::new().write(true).create_new(true).open(&self.lock) {
                Ok(mut f) => {
                    cleanup::register(&self.lock);
                    return writeln!(f, "{}", std::process::id()).map_err(|e| Error::io(&self.lock, e));
                }
                Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                    let owner = fs::read_to_string(&self.lock)
                        .ok()
                        .and_then(|s| s.trim().parse::<u32>().ok());
                    if let Some(pid) = owner
                        && pid != std::process::id()
                        && cleanup::process_alive(pid)
                    {
                        return Err(self.refused(format!(
                            "another run (process {pid}) is writing it; wait for it, or remove {} if that process is not this tool",
                            self.lock.display()
                        )));
                    }
                    // The owner is gone: its lock is stale.
                    let _ = fs::remove_file(&self.lock);
                }
                Err(e) => return Err(self.refused_by(e)),
            }
        }
        Err(self.refused("another run took it at the same moment".into()))
    }

    fn release(&self) {
        let _ = fs::remove_file(&self.lock);
        cleanup::unregister(&self.lock);
    }

    /// Everything decidable before the job runs.
    fn check(&self, inputs: &[&Path]) -> Result<()> {
        self.recover_killed_runs();
        let existing = self.inspect()?;
        if existing == Existing::PreviousOutput && !self.overwrite {
            return Err(Error::OutputExists {
                path: self.shown.clone(),
            });
        }
        if existing != Existing::Absent {
            for input in inputs {
                if fs::canonicalize(input).is_ok_and(|p| p.starts_with(&self.path)) {
                    return Err(self.refused(format!(
                        "input {} lies inside it, and the output replaces that directory",
                        input.display()
                    )));
                }
            }
        }
        Ok(())
    }

    /// What is at the output path now.
    fn inspect(&self) -> Result<Existing> {
        let meta = match fs::symlink_metadata(&self.path) {
            Ok(meta) => meta,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Existing::Absent),
            Err(e) => return Err(Error::io(&self.shown, e)),
        };
        if !meta.is_dir() {
            let what = if meta.file_type().is_symlink() {
                "a symbolic link"
            } else {
                "a file"
            };
            return Err(self.refused(format!(
                "it is {what}, not a directory; remove it or choose another path"
            )));
        }
        let mut empty = true;
        let mut foreign = Vec::new();
        for entry in fs::read_dir(&self.path).map_err(|e| Error::io(&self.shown, e))? {
            let entry = entry.map_err(|e| Error::io(&self.shown, e))?;
            empty = false;
            let is_file = entry.file_type().is_ok_and(|t| t.is_file());
            if !(is_file && is_output_file(&entry.file_name())) {
                let mut name = entry.file_name().to_string_lossy().into_owned();
                if !is_file {
                    name.push('/');
                }
                foreign.push(name);
            }
        }
        if empty {
            return Ok(Existing::Empty);
        }
        if !foreign.is_empty() {
            foreign.sort();
            let total = foreign.len();
            foreign.truncate(5);
            let more = if total > 5 {
                format!(" and {} more", total - 5)
            } else {
                String::new()
            };
            return Err(self.refused(format!(
                "it holds files this tool did not write ({}{more}), so it is not replaced even with --overwrite; remove them or choose another directory",
                foreign.join(", ")
            )));
        }
        Ok(Existing::PreviousOutput)
    }

    /// Creates the staging directory, removing a stale one of ours.
    fn prepare_staging(&self) -> Result<PathBuf> {
        let staging = self
            .parent
            .join(format!(".{}{STAGING_TAG}{}", self.name, std::process::id()));
        if staging.exists() {
            fs::remove_dir_all(&staging).map_err(|e| Error::io(&staging, e))?;
        }
        fs::create_dir(&staging).map_err(|e| self.refused_by(e))?;
        Ok(staging)
    }

    /// Replaces the previous output at `path` with `staging`, atomically.
    fn replace(&self, staging: &Path, step: &mut dyn FnMut(CommitStep)) -> Result<()> {
        let exchanged = if self.force_aside {
            Err(io::Error::from(ErrorKind::Unsupported))
        } else {
            exchange(staging, &self.path)
        };
        match exchanged {
            Ok(()) => {
                step(CommitStep::Exchanged);
                // `staging` now holds the old output.
                self.remove_previous_output(staging);
                step(CommitStep::OldRemoved);
                return Ok(());
            }
            Err(e) if !exchange_unsupported(&e) => return Err(self.refused_by(e)),
            Err(_) => {}
        }
        let aside = self
            .parent
            .join(format!(".{}{OLD_TAG}{}", self.name, std::process::id()));
        fs::rename(&self.path, &aside).map_err(|e| self.refused_by(e))?;
        step(CommitStep::MovedAside);
        if let Err(e) = fs::rename(staging, &self.path) {
            // Put the old output back: the run fails, nothing is lost.
            let _ = fs::rename(&aside, &self.path);
            return Err(self.refused_by(e));
        }
        step(CommitStep::Renamed);
        self.remove_previous_output(&aside);
        step(CommitStep::OldRemoved);
        Ok(())
    }

    /// Deletes a replaced output: only its `_SUCCESS` and `part-*` files,
    /// then the directory if that left it empty. Anything else (a file
    /// copied in while the job ran) stays, and is reported.
    fn remove_previous_output(&self, dir: &Path) {
        if let Ok(entries) = fs::read_dir(dir) {
            for entry in entries.flatten() {
                if entry.file_type().is_ok_and(|t| t.is_file()) && is_output_file(&entry.file_name()) {
                    let _ = fs::remove_file(entry.path());
                }
            }
        }
        if fs::remove_dir(dir).is_err() && dir.exists() {
            eprintln!(
                "warning: the replaced output of {} held other files; they were kept in {}",
                self.shown.display(),
                dir.display()
            );
        }
    }

    /// Cleans up after runs into this directory that were killed: their
    /// staging directories go; an old output that was moved aside while
    /// the path is empty is put back.
    fn recover_killed_runs(&self) {
        let Ok(entries) = fs::read_dir(&self.parent) else {
            return;
        };
        let staging = format!(".{}{STAGING_TAG}", self.name);
        let old = format!(".{}{OLD_TAG}", self.name);
        for entry in entries.flatten() {
            let file_name = entry.file_name();
            let Some(name) = file_name.to_str() else { continue };
            let (pid, is_old) = match (name.strip_prefix(&staging), name.strip_prefix(&old)) {
                (Some(pid), _) => (pid, false),
                (_, Some(pid)) => (pid, true),
                _ => continue,
            };
            if pid.parse::<u32>().is_ok_and(cleanup::process_alive) {
                continue;
            }
            if !is_old {
                let _ = fs::remove_dir_all(entry.path());
            } else if !self.path.exists() {
                let _ = fs::rename(entry.path(), &self.path);
            } else {
                self.remove_previous_output(&entry.path());
            }
        }
    }
}

/// `_SUCCESS`, or a part file: `part-` then digits (`part-00000`, and
/// Hadoop's `part-r-00000`/`part-m-00000`), with an optional extension.
fn is_output_file(name: &OsStr) -> bool {
    let Some(name) = name.to_str() else { return false };
    if name == SUCCESS {
        return true;
    }
    let Some(rest) = name.strip_prefix("part-") else {
        return false;
    };
    let rest = rest
        .strip_prefix("r-")
        .or_else(|| rest.strip_prefix("m-"))
        .unwrap_or(rest);
    let digits = rest.split_once('.').map_or(rest, |(d, _)| d);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

/// Swaps two directories atomically (Linux `renameat2(RENAME_EXCHANGE)`).
fn exchange(a: &Path, b: &Path) -> io::Result<()> {
    use rustix::fs::{CWD, RenameFlags, renameat_with};
    renameat_with(CWD, a, CWD, b, RenameFlags::EXCHANGE).map_err(io::Error::from)
}

/// Whether the filesystem (or kernel) lacks `RENAME_EXCHANGE`.
fn exchange_unsupported(e: &io::Error) -> bool {
    matches!(e.kind(), ErrorKind::InvalidInput | ErrorKind::Unsupported)
        || e.raw_os_error()
            .is_some_and(|c| c == rustix::io::Errno::NOSYS.raw_os_error())
}

/// One part file being written; counts the bytes.
pub(crate) struct PartWriter {
    out: DirectWriter,
    /// The part as the user will find it, for messages.
    path: PathBuf,
    bytes: u64,
}

impl PartWriter {
    /// The part's path as the user will find it: for error messages.
    #[allow(dead_code)]
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Flushes the part and returns the bytes it holds.
    pub(crate) fn finish(mut self) -> Result<u64> {
        self.out.flush().map_err(|e| Error::io(&self.path, e))?;
        Ok(self.bytes)
    }
}

impl PartWriter {
    fn named(&self, e: io::Error) -> io::Error {
        io::Error::new(
            e.kind(),
            FileWriteError {
                path: self.path.clone(),
                source: e,
            },
        )
    }
}

impl Write for PartWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.out.write(buf).map_err(|e| self.named(e))?;
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush().map_err(|e| self.named(e))
    }
}

#[cfg(test)]
mod tests;
