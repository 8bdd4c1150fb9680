//! The job directory: all of a run's temporary data, in one place that is
//! removed on success, on failure and on Ctrl-C.
//!
//! Layout: `<temp>/mr-job-<pid>-<n>-<nanos>/step-<s>/{map,reduce}-<t>/attempt-<a>/`
//! holding spills, map outputs and intermediate step data. The name follows
//! [`cleanup`]'s rule and the run holds the directory's lock while it
//! lives, so the next run's sweep removes the directories of killed runs
//! and only those.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::io::cleanup;

/// A job's temporary directory; removed when dropped.
pub(crate) struct JobDir {
    path: PathBuf,
    /// Tells sweeps that this run is alive; released after removal.
    _held: cleanup::Held,
}

impl JobDir {
    /// Creates a fresh job directory under `root`.
    pub(crate) fn create(root: &Path) -> Result<Self> {
        std::fs::create_dir_all(root).map_err(|e| Error::io(root, e))?;
        let (path, held) = cleanup::create_temp_dir(root, "job")?;
        Ok(JobDir { path, _held: held })
    }

    /// A task attempt's directory, created fresh (a previous attempt's
    /// leftovers are removed).
    pub(crate) fn attempt(&self, step: usize, phase: &str, task: usize, attempt: u32) -> Result<PathBuf> {
        let path = self.attempt_path(step, phase, task, attempt);
        if path.exists() {
            std::fs::remove_dir_all(&path).map_err(|e| Error::io(&path, e))?;
        }
        // Level by level, never re-creating the job directory itself: after
        // an interrupt has removed it, a task starting late must fail, not
        // leave a new, empty job directory behind.
        let mut dir = self.path.clone();
        for part in path.strip_prefix(&self.path).unwrap_or(&path).components() {
            dir.push(part);
            match std::fs::create_dir(&dir) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(Error::io(&dir, e)),
            }
        }
        Ok(path)
    }

    fn attempt_path(&self, step: usize, phase: &str, task: usize, attempt: u32) -> PathBuf {
        self.path
            .join(format!("step-{step}"))
            .join(format!("{phase}-{task:05}"))
            .join(format!("attempt-{attempt}"))
    }

    /// Removes a failed attempt's files before the next attempt starts,
    /// so that they take no disk space from it (a disk filled by the first
    /// attempt would fail every retry elsewhere, hiding where it filled).
    pub(crate) fn remove_attempt(&self, step: usize, phase: &str, task: usize, attempt: u32) {
        let _ = std::fs::remove_dir_all(self.attempt_path(step, phase, task, attempt));
    }

    /// Removes a step's data once the next step has read it.
    pub(crate) fn remove_step(&self, step: usize) {
        let _ = std::fs::remove_dir_all(self.path.join(format!("step-{step}")));
    }
}

impl Drop for JobDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
        cleanup::unregister(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removed_on_drop() {
        let root = tempfile::tempdir().unwrap();
        let mine = JobDir::create(root.path()).unwrap();
        let a = mine.attempt(0, "map", 3, 1).unwrap();
        assert!(a.ends_with("step-0/map-00003/attempt-1"));
        std::fs::write(a.join("spill-0"), b"x").unwrap();
        mine.remove_attempt(0, "map", 3, 1);
        assert!(!a.exists());
        let path = mine.path.clone();
        drop(mine);
        assert!(!path.exists());
    }
}
