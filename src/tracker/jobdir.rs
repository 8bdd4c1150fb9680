//! The job directory: all of a run's temporary data, in one place that is
//! removed on success, on failure and on Ctrl-C.
//!
//! Layout: `<temp>/mr-job-<pid>-<n>/step-<s>/{map,reduce}-<t>/attempt-<a>/`
//! holding spills, map outputs and intermediate step data. The directory
//! name carries the owning process id, so the next run recognizes the
//! directories of killed runs (their process is gone) and removes them.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{Error, Result};
use crate::io::cleanup;

const PREFIX: &str = "mr-job-";

static NEXT: AtomicU64 = AtomicU64::new(0);

/// A job's temporary directory; removed when dropped.
pub(crate) struct JobDir {
    path: PathBuf,
}

impl JobDir {
    /// Creates a fresh job directory under `root`, first removing the
    /// leftovers of killed runs.
    pub(crate) fn create(root: &Path) -> Result<Self> {
        remove_stale(root);
        std::fs::create_dir_all(root).map_err(|e| Error::io(root, e))?;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = root.join(format!("{PREFIX}{}-{n}-{nanos}", std::process::id()));
        std::fs::create_dir(&path).map_err(|e| Error::io(&path, e))?;
        cleanup::register(&path);
        Ok(JobDir { path })
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

/// Removes job directories under `root` whose process no longer exists.
fn remove_stale(root: &Path) {
    let Ok(entries) = std::fs::read_dir(root) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix(PREFIX)) else {
            continue;
        };
        let pid = rest.split('-').next().and_then(|p| p.parse::<u32>().ok());
        if pid.is_some_and(|pid| !cleanup::process_alive(pid)) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removed_on_drop_and_stale_dirs_of_dead_processes_cleaned() {
        let root = tempfile::tempdir().unwrap();
        let stale = root.path().join("mr-job-99999999-0-1");
        std::fs::create_dir_all(stale.join("step-0")).unwrap();
        let mine = JobDir::create(root.path()).unwrap();
        assert!(!stale.exists(), "a dead process's directory is removed");
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
