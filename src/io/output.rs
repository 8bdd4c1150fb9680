//! The output committer: part files are written into a staging directory
//! and only a complete job puts them where the user asked, replacing only
//! what this tool wrote before.
//!
//! With `-o DIR`, before any task runs:
//! - DIR's parent is resolved once (so `s2/../s2` names one directory for
//!   the whole run) and DIR is claimed with a lock file beside it,
//!   `.DIR.mr-lock`, on which the run holds an `flock` until it ends, so a
//!   second run into DIR fails at once instead of after doing all its work
//!   (the hidden siblings' names are in [`dest`]'s docs);
//! - what is at DIR is checked: nothing, an empty directory (taken, as
//!   mrjob does), or a previous output of this tool (only `_SUCCESS` and
//!   `part-*` files), which `--overwrite` may replace. Anything else (a
//!   file, a directory holding other files) is refused, saying what is in
//!   the way, and so is a DIR that holds one of the job's inputs;
//! - the staging directory `.DIR.mr-staging-PID` is created beside DIR (on
//!   the same filesystem, so renames are atomic), which also proves the
//!   location writable; the run holds its lock too.
//!
//! Every part of `-o DIR` is `fsync`ed when its task finishes it (parts
//! staged for standard output are not: they are copied and deleted). Commit writes and
//! `fsync`s `_SUCCESS` in the staging directory, `fsync`s that directory,
//! and then makes it DIR in one atomic step: a `rename` onto a missing or
//! empty DIR, or, for `--overwrite`, a `renameat2(RENAME_EXCHANGE)` that
//! swaps the new output and the old one; then DIR's parent is `fsync`ed,
//! so a power loss leaves either the old output or the complete new one,
//! never `_SUCCESS` beside empty parts. The old output (now under the
//! staging name) is then deleted file by file, only the `_SUCCESS` and
//! `part-*` files it was checked to hold. DIR is looked at again at
//! commit: an output that appeared there while the job ran is replaced
//! only with `--overwrite`, and anything else is never replaced. So at
//! every instant DIR holds either the complete old output or the complete
//! new one, and a kill at any point leaves at most a hidden sibling that
//! the next run into DIR removes. Where the filesystem cannot exchange,
//! the old output is renamed aside to `.DIR.mr-old-PID` first; a run killed
//! between the two renames leaves DIR missing, and the next run puts the
//! old output back. A signal during the commit waits for it
//! ([`cleanup::CommitGuard`]).
//!
//! `--step-output-dir DIR` is committed the same way, with
//! [`Layout::Steps`]: `DIR/step-N/part-NNNNN` and `DIR/_SUCCESS`.
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
use crate::io::cleanup::{self, CommitGuard, Held};
use crate::io::direct::DirectWriter;

mod dest;

use dest::{Dest, Existing, Layout};

const STAGING_TAG: &str = ".mr-staging-";
const OLD_TAG: &str = ".mr-old-";
const LOCK_TAG: &str = ".mr-lock";
const SUCCESS: &str = "_SUCCESS";

/// Where a job's output is going, until it is committed or dropped.
pub(crate) struct OutputDir {
    staging: PathBuf,
    /// The staging directory's lock, telling sweeps that this run is alive.
    held: Option<Held>,
    /// `None` means standard output.
    dest: Option<Dest>,
    parts: AtomicUsize,
    /// `--max-output-files`.
    max_parts: Option<usize>,
    committed: bool,
}

impl OutputDir {
    /// Prepares to write to `dest` (or standard output), checking
    /// everything about the location before any work is done: what is at
    /// `dest`, that no input lies inside it, that no other run holds it,
    /// and that its parent is writable.
    pub(crate) fn create(dest: Option<&Path>, overwrite: bool, temp_root: &Path, inputs: &[&Path]) -> Result<Self> {
        match dest {
            None => {
                let (staging, held) = cleanup::create_temp_dir(temp_root, "output")?;
                Ok(Self::staged(staging, held, None))
            }
            Some(shown) => Self::claim(shown, Layout::Parts, overwrite, inputs),
        }
    }

    /// [`create`](Self::create) for `--step-output-dir`: the steps' outputs
    /// are written with [`step_part`](Self::step_part).
    pub(crate) fn create_steps(dir: &Path, overwrite: bool, inputs: &[&Path]) -> Result<Self> {
        Self::claim(dir, Layout::Steps, overwrite, inputs)
    }

    fn claim(shown: &Path, layout: Layout, overwrite: bool, inputs: &[&Path]) -> Result<Self> {
        let mut dest = Dest::claim(shown, layout, overwrite, inputs)?;
        match dest.prepare_staging() {
            Ok((staging, held)) => Ok(Self::staged(staging, held, Some(dest))),
            Err(e) => {
                dest.release();
                Err(e)
            }
        }
    }

    fn staged(staging: PathBuf, held: Held, dest: Option<Dest>) -> Self {
        OutputDir {
            staging,
            held: Some(held),
            dest,
            parts: AtomicUsize::new(0),
            max_parts: None,
            committed: false,
        }
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
            out.sync_all().map_err(|e| Error::io(&target, e))?;
        }
        self.parts.store(k, Ordering::Relaxed);
        Ok(())
    }

    /// Opens part file `index` for writing.
    pub(crate) fn part(&self, index: usize) -> Result<PartWriter> {
        self.parts.fetch_max(index + 1, Ordering::Relaxed);
        self.open_part(PathBuf::from(format!("part-{index:05}")))
    }

    /// Opens part `index` of step `step`'s output (`step-STEP/part-INDEX`),
    /// in a directory made by [`create_steps`](Self::create_steps).
    pub(crate) fn step_part(&self, step: usize, index: usize) -> Result<PartWriter> {
        let sub = format!("step-{step}");
        let dir = self.staging.join(&sub);
        match fs::create_dir(&dir) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
            Err(e) => return Err(Error::io(self.shown(Path::new(&sub)), e)),
        }
        self.open_part(Path::new(&sub).join(format!("part-{index:05}")))
    }

    /// `rel` (inside the output) as the user will find it: errors name
    /// that, not the hidden staging directory; without `-o` the staging
    /// directory in the temp dir is the real place, so it is named.
    fn shown(&self, rel: &Path) -> PathBuf {
        match &self.dest {
            Some(dest) => dest.shown.join(rel),
            None => self.staging.join(rel),
        }
    }

    fn open_part(&self, rel: PathBuf) -> Result<PartWriter> {
        let shown = self.shown(&rel);
        let file = File::create(self.staging.join(&rel)).map_err(|e| Error::io(&shown, e))?;
        Ok(PartWriter {
            out: DirectWriter::new(file),
            path: shown,
            bytes: 0,
            durable: self.dest.is_some(),
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
        // Durable before the rename makes them visible: a power loss must
        // not leave `_SUCCESS` beside parts that never reached the disk.
        let success = self.staging.join(SUCCESS);
        File::create(&success)
            .and_then(|f| f.sync_all())
            .map_err(|e| Error::io(dest.shown.join(SUCCESS), e))?;
        dest::sync_dir(&self.staging).map_err(|e| Error::io(&dest.shown, e))?;
        step(CommitStep::SuccessWritten);
        let Some(mut guard) = CommitGuard::begin() else {
            return Err(Error::io(
                &dest.shown,
                io::Error::new(
                    ErrorKind::Interrupted,
                    "a signal arrived before the output was committed",
                ),
            ));
        };
        // Checked again: the directory may have changed while the job ran.
        match dest.inspect()? {
            Existing::Absent | Existing::Empty => {
                // `rename` replaces an empty directory and fails on a
                // non-empty one, so it never clobbers what appeared since.
                fs::rename(&self.staging, &dest.path).map_err(|e| dest.refused_by(e))?;
                self.committed = true;
                guard.committed();
                step(CommitStep::Renamed);
                dest.sync_parent()?;
            }
            // Not there (or not to be replaced) when the run began: what
            // appeared is someone's, kept unless --overwrite says otherwise.
            Existing::PreviousOutput if !dest.overwrite => {
                return Err(dest.refused(
                    "an output appeared there while the job ran; it was kept, and this run's output was not written (pass --overwrite to replace it)".into(),
                ));
            }
            Existing::PreviousOutput => {
                let replaced = dest.replace(&self.staging, &mut guard, step);
                // Once swapped in, the staging name holds the old output,
                // which `replace` removed file by file: what is left there
                // is not ours to remove.
                self.committed = guard.is_committed();
                replaced?;
            }
        }
        drop(guard);
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
        // Before the output's lock: whoever takes that next finds no
        // staging directory of ours still locked.
        self.held = None;
        if let Some(dest) = &mut self.dest {
            dest.release();
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
    /// Synced when finished: a part of a committed directory. A part
    /// staged for standard output is copied there and deleted, so syncing
    /// it would only cost a disk flush per task.
    durable: bool,
}

impl PartWriter {
    /// The part's path as the user will find it: for error messages.
    #[allow(dead_code)]
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Writes the part to the disk (`fsync`, for a part of a committed
    /// directory) and returns the bytes it holds. The sync reports what writing back found (a full disk, an
    /// I/O error, a network filesystem's failed write), which `close`
    /// would otherwise report to no one; after it, closing cannot lose
    /// data.
    pub(crate) fn finish(mut self) -> Result<u64> {
        let done = if self.durable {
            self.out.sync()
        } else {
            self.out.flush()
        };
        done.map_err(|e| Error::io(&self.path, e))?;
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
