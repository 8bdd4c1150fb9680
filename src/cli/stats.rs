//! `--stats FILE`: the run's counters and timings as JSON, written so
//! that a stats file never describes output that was not delivered.
//!
//! The layout (`schema_version` 2; a field's meaning never changes within
//! a version, and fields may be added):
//!
//! ```text
//! { "schema_version": 2, "job": NAME, "seconds": F, "used_sample": B,
//!   "peak_rss_bytes": N | null,
//!   "counters": { GROUP: { NAME: N } },            // all steps summed
//!   "steps": [ { "seconds": F, "map_seconds": F, "reduce_seconds": F,
//!                "counters": { GROUP: { NAME: N } }, "statuses": [S],
//!                "tasks": [ { "phase": "map" | "reduce", "index": N,
//!                             "attempt": N, "worker": N,
//!                             "start_ms": F, "end_ms": F,
//!                             "input_bytes": N, "input_records": N,
//!                             "output_records": N, "spills": N,
//!                             "spilled_records": N,
//!                             "spans": [ { "kind": "spill" | "merge",
//!                                          "start_ms": F, "end_ms": F,
//!                                          "records": N } ] } ],
//!                "partitions": [ { "records": N, "groups": N, "bytes": N } ],
//!                "failed_attempts": [ { "phase": S, "index": N, "attempt": N,
//!                                       "start_ms": F, "end_ms": F,
//!                                       "error": S } ] } ] }
//! ```
//!
//! Times are milliseconds since the job's first task could start; a
//! task's `worker` is the pool thread that ran it; a task's `spans` are
//! its spills (a map task's, on its spill thread, beside its mapping) and
//! merges (a map task's merge for a combiner, a reduce task's
//! intermediate passes; the last merge streams into the reducer and is
//! the task itself), added in version 2's first revision; `partitions[r]` is
//! reduce task `r`'s input. The cluster runners (`-r hadoop`, `-r spark`)
//! and `-r streaming` report counters but no tasks.

use std::io::Write;
use std::path::PathBuf;

use crate::error::Error;
use crate::runner::JobReport;

/// The run's stats as `--stats` writes them (the layout above).
pub(super) fn stats_json(report: &JobReport) -> Result<Vec<u8>, Error> {
    let stats = serde_json::json!({
        "schema_version": 2,
        "job": report.job,
        "seconds": report.seconds,
        "used_sample": report.used_sample,
        "peak_rss_bytes": report.peak_rss_bytes,
        "counters": report.counters(),
        "steps": report.steps,
    });
    let text = serde_json::to_string_pretty(&stats).map_err(|e| Error::Codec(e.to_string()))?;
    Ok(format!("{text}\n").into_bytes())
}

/// A file a run writes besides its output (`--stats FILE`, `--report
/// FILE`): written into a hidden temporary file beside FILE before the
/// output is committed (so a failure to write it fails the job while
/// nothing has been delivered), then renamed into place.
pub(super) struct PendingFile {
    path: PathBuf,
    temp: PathBuf,
    file: std::fs::File,
}

impl PendingFile {
    /// Creates the temporary file, which proves FILE's directory writable;
    /// `option` names the file in errors (`--stats`).
    pub(super) fn claim(path: &std::path::Path, option: &str) -> Result<PendingFile, Error> {
        let refused = |why: String| Error::Config(format!("{option} {}: {why}", path.display()));
        if path.is_dir() {
            return Err(refused("is a directory".into()));
        }
        let name = path
            .file_name()
            .ok_or_else(|| refused("name a file".into()))?
            .to_string_lossy()
            .into_owned();
        let parent = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let prefix = format!(".{name}.mr-{}-", option.trim_start_matches('-'));
        // A killed run's temporary file: its process is gone.
        if let Ok(entries) = std::fs::read_dir(&parent) {
            for entry in entries.flatten() {
                let stale = entry
                    .file_name()
                    .to_str()
                    .and_then(|n| n.strip_prefix(&prefix))
                    .is_some_and(|pid| {
                        pid.parse::<u32>()
                            .is_ok_and(|pid| !crate::io::cleanup::process_alive(pid))
                    });
                if stale {
                    let _ = std::fs::remove_file(entry.path());
                }
            }
        }
        let temp = parent.join(format!("{prefix}{}", std::process::id()));
        let file =
            std::fs::File::create(&temp).map_err(|e| refused(format!("cannot write in {}: {e}", parent.display())))?;
        crate::io::cleanup::register(&temp);
        Ok(PendingFile {
            path: path.to_path_buf(),
            temp,
            file,
        })
    }

    pub(super) fn write(&mut self, bytes: &[u8]) -> Result<(), Error> {
        self.file
            .write_all(bytes)
            .and_then(|()| self.file.flush())
            .map_err(|e| Error::io(&self.path, e))
    }

    pub(super) fn persist(self) -> Result<(), Error> {
        let renamed = std::fs::rename(&self.temp, &self.path).map_err(|e| Error::io(&self.path, e));
        if renamed.is_err() {
            let _ = std::fs::remove_file(&self.temp);
        }
        crate::io::cleanup::unregister(&self.temp);
        renamed
    }
}

impl Drop for PendingFile {
    fn drop(&mut self) {
        // After a failed job (or a persisted one, where this finds nothing).
        let _ = std::fs::remove_file(&self.temp);
        crate::io::cleanup::unregister(&self.temp);
    }
}
