//! A claimed output directory (`-o DIR`, `--step-output-dir DIR`): its
//! lock, the checks of what is there, the hidden siblings beside it and
//! the replacement of a previous output.
//!
//! The hidden siblings are named from a stem, the directory's name, or
//! for a name too long to take the tags within a file name's 255 bytes,
//! its first bytes, `~` and the 16 hex digits of an FNV-1a hash of the
//! whole name (fixed, so every run finds the same siblings):
//! - `.STEM.mr-lock`: the lock file, holding the owner's PID (for people)
//!   and, while the owner runs, its exclusive `flock(2)`: a lock file
//!   nobody holds a lock on is stale, whatever PID it names;
//! - `.STEM.mr-staging-PID`: the staging directory;
//! - `.STEM.mr-old-PID`: a replaced output moved aside, where the
//!   filesystem cannot exchange two directories.

use std::fs::{self, File, OpenOptions};
use std::io::{self, ErrorKind, Read, Write};
use std::path::{Path, PathBuf};

use super::{CommitStep, LOCK_TAG, OLD_TAG, STAGING_TAG, SUCCESS, exchange, exchange_unsupported, is_output_file};
use crate::error::{Error, Result};
use crate::io::cleanup::{self, CommitGuard, Held};

/// What a directory holds when its output is complete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Layout {
    /// `part-*` files and `_SUCCESS`: a job's output (`-o`).
    Parts,
    /// `step-N/part-*` and `_SUCCESS`: `--step-output-dir`.
    Steps,
}

/// A claimed output directory.
pub(super) struct Dest {
    /// As the user typed it, for messages.
    pub(super) shown: PathBuf,
    /// The canonical parent joined with the name: resolved once.
    pub(super) path: PathBuf,
    pub(super) parent: PathBuf,
    /// The start of the hidden siblings' names (see the module docs).
    stem: String,
    pub(super) overwrite: bool,
    pub(super) layout: Layout,
    /// `.STEM.mr-lock`, removed when the run ends.
    lock: PathBuf,
    /// The lock file, open with its `flock` held, while the run holds DIR.
    pub(super) lock_file: Option<File>,
    /// Tests take the path for filesystems without `RENAME_EXCHANGE`.
    pub(super) force_aside: bool,
}

/// What is at the output path.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Existing {
    Absent,
    /// An empty directory: taken as if absent.
    Empty,
    /// Only what this tool writes there (see [`Layout`]).
    PreviousOutput,
}

/// The most bytes of a stem: room for `.`, the longest tag and a PID of
/// ten digits within 255 bytes.
const MAX_STEM: usize = 255 - 1 - STAGING_TAG.len() - 10;

/// See the module docs.
pub(super) fn sibling_stem(name: &str) -> String {
    if name.len() <= MAX_STEM {
        return name.to_owned();
    }
    let hash = name.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    let mut cut = MAX_STEM - 17;
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}~{hash:016x}", &name[..cut])
}

/// `step-` and digits: a step's directory in `--step-output-dir`.
fn is_step_dir(name: &str) -> bool {
    name.strip_prefix("step-")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

impl Dest {
    /// Resolves `shown`, takes the lock beside it and checks what is there.
    pub(super) fn claim(shown: &Path, layout: Layout, overwrite: bool, inputs: &[&Path]) -> Result<Dest> {
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
        let stem = sibling_stem(&name);
        let lock = parent.join(format!(".{stem}{LOCK_TAG}"));
        let mut dest = Dest {
            shown: shown.to_path_buf(),
            path: parent.join(&name),
            parent,
            stem,
            overwrite,
            layout,
            lock,
            lock_file: None,
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

    pub(super) fn refused(&self, reason: String) -> Error {
        Error::OutputRefused {
            path: self.shown.clone(),
            reason,
        }
    }

    pub(super) fn refused_by(&self, e: io::Error) -> Error {
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

    /// Takes `.STEM.mr-lock`: its `flock`, held until [`release`], decides.
    /// A lock file left by a run that is gone (nobody holds its lock) is
    /// taken over; of several runs taking it at once, exactly one gets the
    /// lock. A lock is kept only on the file the path still names: one
    /// removed by its owner after this run opened it is tried anew.
    ///
    /// [`release`]: Self::release
    fn lock(&mut self) -> Result<()> {
        for _ in 0..4 {
            let mut file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&self.lock)
                .map_err(|e| self.refused_by(e))?;
            #[cfg(test)]
            super::tests::before_lock();
            match cleanup::try_lock(&file) {
                Ok(true) => {}
                Ok(false) => {
                    let mut owner = String::new();
                    let _ = file.read_to_string(&mut owner);
                    let owner = match owner.trim().parse::<u32>() {
                        Ok(pid) => format!(" (process {pid})"),
                        Err(_) => String::new(),
                    };
                    return Err(self.refused(format!(
                        "another run{owner} is writing it; wait for it to end (it holds the lock on {})",
                        self.lock.display()
                    )));
                }
                Err(e) => {
                    return Err(self.refused(format!(
                        "cannot lock {}: {e} (the filesystem does not support flock)",
                        self.lock.display()
                    )));
                }
            }
            if !cleanup::names_file(&self.lock, &file) {
                continue;
            }
            // Ours now, fresh or left by a run that is gone: say who holds it.
            file.set_len(0)
                .and_then(|()| writeln!(file, "{}", std::process::id()))
                .map_err(|e| Error::io(&self.lock, e))?;
            cleanup::register(&self.lock);
            self.lock_file = Some(file);
            return Ok(());
        }
        Err(self.refused("other runs kept taking it at the same moment".into()))
    }

    /// Removes the lock file, then releases its lock. While the lock is
    /// held no other run can have replaced the file (taking it needs the
    /// lock), so the check of its identity guards only against hands.
    pub(super) fn release(&mut self) {
        if let Some(file) = self.lock_file.take() {
            if cleanup::names_file(&self.lock, &file) {
                let _ = fs::remove_file(&self.lock);
            }
            drop(file);
        }
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
    pub(super) fn inspect(&self) -> Result<Existing> {
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
            let file_name = entry.file_name();
            let name = file_name.to_string_lossy();
            let kind = entry.file_type().ok();
            let is_file = kind.is_some_and(|t| t.is_file());
            let is_dir = kind.is_some_and(|t| t.is_dir());
            let stray = match self.layout {
                Layout::Parts if is_file && is_output_file(&file_name) => None,
                Layout::Steps if is_file && name == SUCCESS => None,
                Layout::Steps if is_dir && is_step_dir(&name) => foreign_in_step(&entry.path(), &name),
                _ if is_dir => Some(format!("{name}/")),
                _ => Some(name.into_owned()),
            };
            foreign.extend(stray);
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

    /// Creates the staging directory, removing a stale one of ours, and
    /// holds its lock.
    pub(super) fn prepare_staging(&self) -> Result<(PathBuf, Held)> {
        let staging = self
            .parent
            .join(format!(".{}{STAGING_TAG}{}", self.stem, std::process::id()));
        if staging.exists() {
            fs::remove_dir_all(&staging).map_err(|e| Error::io(&staging, e))?;
        }
        // Registered first (the name is ours while the lock is held): a
        // signal right after the `mkdir` removes it too.
        cleanup::register(&staging);
        let held = match fs::create_dir(&staging) {
            Ok(()) => match cleanup::hold_dir(&staging) {
                Ok(Some(held)) => Ok(held),
                Ok(None) => Err(self.refused(format!(
                    "its staging directory {} was taken by another process",
                    staging.display()
                ))),
                Err(e) => Err(Error::io(&staging, e)),
            },
            Err(e) => Err(self.refused_by(e)),
        };
        match held {
            Ok(held) => Ok((staging, held)),
            Err(e) => {
                cleanup::unregister(&staging);
                Err(e)
            }
        }
    }

    /// Makes the rename (or exchange) that put an output in place durable.
    pub(super) fn sync_parent(&self) -> Result<()> {
        sync_dir(&self.parent).map_err(|e| Error::io(&self.parent, e))
    }

    /// Replaces the previous output at `path` with `staging`, atomically.
    pub(super) fn replace(
        &self,
        staging: &Path,
        guard: &mut CommitGuard<'_>,
        step: &mut dyn FnMut(CommitStep),
    ) -> Result<()> {
        let exchanged = if self.force_aside {
            Err(io::Error::from(ErrorKind::Unsupported))
        } else {
            exchange(staging, &self.path)
        };
        match exchanged {
            Ok(()) => {
                guard.committed();
                let synced = self.sync_parent();
                step(CommitStep::Exchanged);
                // `staging` now holds the old output.
                self.remove_previous_output(staging);
                step(CommitStep::OldRemoved);
                return synced;
            }
            Err(e) if !exchange_unsupported(&e) => return Err(self.refused_by(e)),
            Err(_) => {}
        }
        let aside = self
            .parent
            .join(format!(".{}{OLD_TAG}{}", self.stem, std::process::id()));
        fs::rename(&self.path, &aside).map_err(|e| self.refused_by(e))?;
        step(CommitStep::MovedAside);
        if let Err(e) = fs::rename(staging, &self.path) {
            // Put the old output back: the run fails, nothing is lost.
            let _ = fs::rename(&aside, &self.path);
            return Err(self.refused_by(e));
        }
        guard.committed();
        let synced = self.sync_parent();
        step(CommitStep::Renamed);
        self.remove_previous_output(&aside);
        step(CommitStep::OldRemoved);
        synced
    }

    /// Deletes a replaced output: only what this tool writes there (see
    /// [`Layout`]), then the directory if that left it empty. Anything else
    /// (a file copied in while the job ran) stays, and is reported.
    pub(super) fn remove_previous_output(&self, dir: &Path) {
        if let Ok(entries) = fs::read_dir(dir) {
            for entry in entries.flatten() {
                let kind = entry.file_type().ok();
                let name = entry.file_name();
                let is_file = kind.is_some_and(|t| t.is_file());
                match self.layout {
                    Layout::Parts if is_file && is_output_file(&name) => {
                        let _ = fs::remove_file(entry.path());
                    }
                    Layout::Steps if is_file && name == SUCCESS => {
                        let _ = fs::remove_file(entry.path());
                    }
                    Layout::Steps if kind.is_some_and(|t| t.is_dir()) && name.to_str().is_some_and(is_step_dir) => {
                        remove_parts(&entry.path());
                        let _ = fs::remove_dir(entry.path());
                    }
                    _ => {}
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
    /// the path is empty is put back. Called with the lock held, which
    /// every run holds while it has siblings here, so all of them are a
    /// killed run's; a staging directory whose lock is held is kept all
    /// the same.
    fn recover_killed_runs(&self) {
        let Ok(entries) = fs::read_dir(&self.parent) else {
            return;
        };
        let staging = format!(".{}{STAGING_TAG}", self.stem);
        let old = format!(".{}{OLD_TAG}", self.stem);
        for entry in entries.flatten() {
            let file_name = entry.file_name();
            let Some(name) = file_name.to_str() else { continue };
            let (pid, is_old) = match (name.strip_prefix(&staging), name.strip_prefix(&old)) {
                (Some(pid), _) => (pid, false),
                (_, Some(pid)) => (pid, true),
                _ => continue,
            };
            let Ok(pid) = pid.parse::<u32>() else {
                continue;
            };
            if !is_old {
                // Unlocked and its PID gone: a run of an older version,
                // which takes no lock, may be alive (see `sweep_stale`).
                if cleanup::process_alive(pid) {
                    continue;
                }
                if let Ok(Some(_held)) = cleanup::hold_dir(&entry.path()) {
                    let _ = fs::remove_dir_all(entry.path());
                }
            } else if !self.path.exists() {
                let _ = fs::rename(entry.path(), &self.path);
            } else {
                self.remove_previous_output(&entry.path());
            }
        }
    }
}

/// The first entry of step directory `dir` that this tool does not write
/// there, as `step-N/NAME`.
fn foreign_in_step(dir: &Path, step: &str) -> Option<String> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => return Some(format!("{step}/ (unreadable: {e})")),
    };
    for entry in entries.flatten() {
        let is_file = entry.file_type().is_ok_and(|t| t.is_file());
        if !(is_file && is_output_file(&entry.file_name())) {
            return Some(format!("{step}/{}", entry.file_name().to_string_lossy()));
        }
    }
    None
}

/// Removes `dir`'s part files (and `_SUCCESS`), nothing else.
fn remove_parts(dir: &Path) {
    if let Ok(entries) = fs::read_dir(dir) {
        for entry in entries.flatten() {
            if entry.file_type().is_ok_and(|t| t.is_file()) && is_output_file(&entry.file_name()) {
                let _ = fs::remove_file(entry.path());
            }
        }
    }
}

/// `fsync`s a directory: its entries (renames, new files) are durable.
/// Filesystems that cannot sync a directory say so with `EINVAL`; there
/// nothing more can be done.
pub(super) fn sync_dir(dir: &Path) -> io::Result<()> {
    match File::open(dir).and_then(|d| d.sync_all()) {
        Err(e) if e.kind() == ErrorKind::InvalidInput => Ok(()),
        other => other,
    }
}
