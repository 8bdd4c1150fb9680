//! `--stats FILE`: the run's counters and timings as JSON, written so
//! that a stats file never describes output that was not delivered.

use std::io::Write;
use std::path::PathBuf;

use crate::error::Error;
use crate::runner::JobReport;

/// `--stats FILE`: written into a hidden temporary file beside FILE before
/// the output is committed (so a failure to write it fails the job while
/// nothing has been delivered), then renamed into place.
pub(super) struct StatsFile {
    path: PathBuf,
    temp: PathBuf,
    file: std::fs::File,
}

impl StatsFile {
    /// Creates the temporary file, which proves FILE's directory writable.
    pub(super) fn claim(path: &std::path::Path) -> Result<StatsFile, Error> {
        let refused = |why: String| Error::Config(format!("--stats {}: {why}", path.display()));
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
        let prefix = format!(".{name}.mr-stats-");
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
        Ok(StatsFile {
            path: path.to_path_buf(),
            temp,
            file,
        })
    }

    pub(super) fn write(&mut self, report: &JobReport) -> Result<(), Error> {
        let stats = serde_json::json!({
            "job": report.job,
            "seconds": report.seconds,
            "used_sample": report.used_sample,
            "peak_rss_bytes": report.peak_rss_bytes,
            "counters": report.counters(),
            "steps": report.steps,
        });
        let text = serde_json::to_string_pretty(&stats).map_err(|e| Error::Codec(e.to_string()))?;
        self.file
            .write_all(format!("{text}\n").as_bytes())
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

impl Drop for StatsFile {
    fn drop(&mut self) {
        // After a failed job (or a persisted one, where this finds nothing).
        let _ = std::fs::remove_file(&self.temp);
        crate::io::cleanup::unregister(&self.temp);
    }
}
