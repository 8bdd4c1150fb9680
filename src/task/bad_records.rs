//! The job's budget of malformed records (`--skip-bad-records`), shared by
//! every map task of every step, the error when it runs out, and the log
//! of the records it skipped (`--bad-records-log FILE`, as Hadoop keeps
//! skipped records).
//!
//! The log has one JSON object a line, a skipped record each, written when
//! the attempt that skipped it succeeds (a failed attempt's skips are not
//! the job's, its retry skips them again), or when the attempt ends the
//! job by exceeding the budget: then the records it skipped are what
//! explains the failure. (The command line stages the log and delivers it
//! after a failure too; see `cli::pending`.)
//!
//! ```text
//! {"step": 1, "file": "in.json" | null, "line": 7 | null, "offset": 120 | null,
//!  "error": "invalid JSON record: ...", "record": "the line, UTF-8 (lossy)"}
//! ```

use std::io::Write;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use super::StepId;
use crate::error::{BoxError, Error, Location};

/// How many bad records the job may skip, and how many it has.
pub(crate) struct BadRecords {
    budget: u64,
    skipped: AtomicU64,
    /// `--bad-records-log`: the file and its writer.
    log: Option<(PathBuf, Mutex<std::io::BufWriter<std::fs::File>>)>,
}

impl BadRecords {
    pub(crate) fn new(budget: u64) -> Self {
        BadRecords {
            budget,
            skipped: AtomicU64::new(0),
            log: None,
        }
    }

    /// A budget whose skipped records are logged to `path` (created or
    /// truncated now, so that a path it cannot write fails before any
    /// work; the command line gives a staged temporary file here).
    pub(crate) fn with_log(budget: u64, path: &std::path::Path) -> Result<Self, Error> {
        let file = std::fs::File::create(path).map_err(|e| Error::io(path, e))?;
        Ok(BadRecords {
            log: Some((path.to_path_buf(), Mutex::new(std::io::BufWriter::new(file)))),
            ..BadRecords::new(budget)
        })
    }

    /// Whether skipped records are logged.
    pub(crate) fn logs(&self) -> bool {
        self.log.is_some()
    }

    /// Writes out what the log holds.
    pub(crate) fn flush(&self) -> Result<(), Error> {
        if let Some((path, log)) = &self.log {
            let mut log = log
                .lock()
                .map_err(|_| Error::Internal("the bad-records log's lock".into()))?;
            log.flush().map_err(|e| Error::io(path, e))?;
        }
        Ok(())
    }

    /// One task attempt's share: what it skips is given back if the
    /// attempt fails, so a retry counts its own skips again.
    pub(crate) fn attempt(&self) -> AttemptSkips<'_> {
        AttemptSkips {
            shared: self,
            mine: 0,
            lines: Vec::new(),
        }
    }

    /// The error for a bad record the budget cannot take.
    pub(crate) fn error(&self, step: StepId, location: Location, source: BoxError) -> Error {
        if self.budget == 0 {
            Error::BadRecord {
                step: step.index + 1,
                location,
                source,
            }
        } else {
            Error::TooManyBadRecords {
                step: step.index + 1,
                skipped: self.budget,
                budget: self.budget,
                location,
                source,
            }
        }
    }
}

/// The bad records one attempt skipped.
pub(crate) struct AttemptSkips<'a> {
    shared: &'a BadRecords,
    mine: u64,
    /// The log lines of the records it skipped, until it succeeds.
    lines: Vec<String>,
}

impl AttemptSkips<'_> {
    /// Takes one bad record out of the budget; false when none is left.
    pub(crate) fn skip(&mut self) -> bool {
        let skipped = self.shared.skipped.fetch_add(1, Ordering::Relaxed) + 1;
        if skipped <= self.shared.budget {
            self.mine += 1;
            true
        } else {
            self.shared.skipped.fetch_sub(1, Ordering::Relaxed);
            false
        }
    }

    /// Notes a skipped record for the log, if there is one.
    pub(crate) fn log(&mut self, step: StepId, at: &Location, error: &BoxError, record: &[u8]) {
        if !self.shared.logs() {
            return;
        }
        let line = serde_json::json!({
            "step": step.index + 1,
            "file": at.path.as_ref().map(|p| p.display().to_string()),
            "line": at.line,
            "offset": at.offset,
            "error": error.to_string(),
            "record": String::from_utf8_lossy(record),
        });
        self.lines.push(line.to_string());
    }

    /// The attempt succeeded: its skips stay counted, and are logged.
    pub(crate) fn commit(mut self) -> Result<(), Error> {
        self.mine = 0;
        self.write_log()
    }

    /// The attempt fails the job by exceeding the budget (an error no
    /// retry repeats differently): the records it skipped are logged now,
    /// and flushed, because they explain the failure.
    pub(crate) fn log_before_failing(&mut self) {
        // The job's own error says what failed; a log that cannot be
        // written adds nothing to it.
        let _ = self.write_log().and_then(|()| self.shared.flush());
    }

    fn write_log(&mut self) -> Result<(), Error> {
        if let Some((path, log)) = &self.shared.log
            && !self.lines.is_empty()
        {
            let mut log = log
                .lock()
                .map_err(|_| Error::Internal("the bad-records log's lock".into()))?;
            for line in self.lines.drain(..) {
                writeln!(log, "{line}").map_err(|e| Error::io(path, e))?;
            }
        }
        Ok(())
    }
}

impl Drop for AttemptSkips<'_> {
    fn drop(&mut self) {
        self.shared.skipped.fetch_sub(self.mine, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_attempt_gives_its_skips_back() {
        let bad = BadRecords::new(2);
        let mut a = bad.attempt();
        assert!(a.skip() && a.skip() && !a.skip());
        drop(a);
        let mut b = bad.attempt();
        assert!(b.skip());
        b.commit().unwrap();
        let mut c = bad.attempt();
        assert!(c.skip() && !c.skip());
    }
}
