//! The library's one error type.
//!
//! Every failure a job can hit is a variant here, and every variant's message
//! says where it happened (file, line or byte offset, step, task) so that the
//! CLI can print it as one paragraph without a backtrace.

use std::fmt;
use std::path::PathBuf;

/// What user code (a mapper, reducer or combiner) may fail with: any error.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Shorthand for results in this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Where in the input a record came from, for error messages.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Location {
    /// The input file, or `None` for standard input or the built-in sample.
    pub path: Option<PathBuf>,
    /// 1-based line number, when the reader knows it.
    pub line: Option<u64>,
    /// Byte offset of the record's first byte in the (decompressed) file.
    pub offset: Option<u64>,
    /// Set when `line` counts from a split handed over as a stream (a
    /// Streaming task's input that starts after byte 0, whose partial
    /// first line the engine skipped): where that split starts. The
    /// record's place in the whole file is then unknown to the task.
    pub split_start: Option<u64>,
}

/// A reduce task's error while it reduced one key: names the key (as
/// JSON, as the output shows keys). The task's retry rule looks through
/// it to the error inside.
#[derive(Debug)]
pub(crate) struct AtKey {
    pub(crate) key: String,
    pub(crate) source: BoxError,
}

impl fmt::Display for AtKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "while reducing key {}: {}", self.key, self.source)
    }
}

impl std::error::Error for AtKey {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(self.source.as_ref())
    }
}

/// The framework's error inside a task's error, if it is one (through a
/// reduce task's [`AtKey`]).
fn inner_error(source: &BoxError) -> Option<&Error> {
    match source.downcast_ref::<AtKey>() {
        Some(at) => at.source.downcast_ref::<Error>(),
        None => source.downcast_ref::<Error>(),
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.path {
            Some(p) => write!(f, "{}", p.display())?,
            None => f.write_str("<stdin>")?,
        }
        if let Some(start) = self.split_start {
            return match self.line {
                Some(l) => write!(f, ", line {l} of the split from byte {start}"),
                None => write!(f, ", in the split from byte {start}"),
            };
        }
        match (self.line, self.offset) {
            (Some(l), Some(o)) => write!(f, ", line {l} (byte offset {o})"),
            (Some(l), None) => write!(f, ", line {l}"),
            (None, Some(o)) => write!(f, ", byte offset {o}"),
            (None, None) => Ok(()),
        }
    }
}

/// Which part of which step a task ran, for error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// `Mapper::setup`, `map` or `cleanup`.
    Map,
    /// A combiner run on map output.
    Combine,
    /// `Reducer::setup`, `reduce` or `cleanup`.
    Reduce,
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Phase::Map => "mapper",
            Phase::Combine => "combiner",
            Phase::Reduce => "reducer",
        })
    }
}

/// Every error the library returns.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An I/O error on a named file or directory.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// An input path matched nothing (missing file, empty glob).
    #[error("input path does not exist: {}", path.display())]
    InputNotFound {
        /// The path as given.
        path: PathBuf,
    },
    /// An input directory holds no file to read.
    #[error("input directory {} contains no files{}", path.display(), skipped_note(*skipped_dirs))]
    EmptyInput {
        /// The directory as given.
        path: PathBuf,
        /// Visible subdirectories it has, which only `--recursive` reads.
        skipped_dirs: usize,
    },
    /// An input file changed (shrank, grew, was rewritten or deleted) while
    /// the job read it, so its answer would be that of neither version.
    #[error("input {} changed while the job read it: {detail}", path.display())]
    InputChanged {
        /// The file.
        path: PathBuf,
        /// What changed.
        detail: String,
    },
    /// A line (record) is longer than the maximum line length.
    #[error(
        "line too long at {location}: longer than the maximum of {max} bytes (pass --max-line-length SIZE to raise the limit)"
    )]
    LineTooLong {
        /// Where the line starts.
        location: Location,
        /// The limit, in bytes.
        max: u64,
    },
    /// The output directory exists and `--overwrite` was not given.
    #[error("output directory {} already exists (pass --overwrite to replace it)", path.display())]
    OutputExists {
        /// The output directory.
        path: PathBuf,
    },
    /// The output location cannot be used: something is in the way that
    /// this tool did not write, another run holds it, or it cannot be
    /// created. Raised before any task runs.
    #[error("cannot write output to {}: {reason}", path.display())]
    OutputRefused {
        /// The output directory, as given.
        path: PathBuf,
        /// What is in the way, and what to do about it.
        reason: String,
    },
    /// A record could not be read or decoded (malformed input).
    #[error("step {step}: bad record at {location}: {source} (pass --skip-bad-records N to skip up to N bad records)")]
    BadRecord {
        /// 1-based step number.
        step: usize,
        /// Where the record is.
        location: Location,
        /// What is wrong with it: the input format's error.
        #[source]
        source: BoxError,
    },
    /// More bad records than `--skip-bad-records` allows.
    #[error(
        "step {step}: too many bad records: {skipped} skipped, the budget (--skip-bad-records) is {budget}; the next one, at {location}: {source}"
    )]
    TooManyBadRecords {
        /// 1-based step number.
        step: usize,
        /// How many were skipped before giving up.
        skipped: u64,
        /// The budget.
        budget: u64,
        /// Where the record that broke the budget is.
        location: Location,
        /// What is wrong with it: the input format's error.
        #[source]
        source: BoxError,
    },
    /// User code (or the framework on its behalf) failed inside a task.
    #[error("step {step} of {steps}, {phase} task {task}{}: {source}", at.as_ref().map(|l| format!(", at {l}")).unwrap_or_default())]
    Task {
        /// 1-based step number.
        step: usize,
        /// Number of steps in the job.
        steps: usize,
        /// Which phase failed.
        phase: Phase,
        /// 0-based task index within the phase.
        task: usize,
        /// The input record being processed, when known.
        at: Option<Location>,
        /// The error.
        #[source]
        source: BoxError,
    },
    /// A key or value could not be encoded or decoded.
    #[error("codec error: {0}")]
    Codec(String),
    /// Stored intermediate data failed its integrity check.
    #[error("corrupt data in {}: {message}", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What check failed.
        message: String,
    },
    /// The job or its options are misconfigured: the user's options or
    /// the job's definition, never the engine's own state.
    #[error("{0}")]
    Config(String),
    /// User code broke a rule of the framework's contract (a partitioner
    /// returned a partition out of range, a combiner changed a key).
    #[error("{0}")]
    Contract(String),
    /// A key, value or record is over a size limit of the engine's formats
    /// (4 GiB).
    #[error("a {what} of {bytes} bytes is over the {limit}-byte limit")]
    TooLarge {
        /// What was too large (`key`, `value`, `record of a run block`).
        what: &'static str,
        /// Its size.
        bytes: u64,
        /// The limit.
        limit: u64,
    },
    /// A task run as a process of its own (a Streaming task) failed: its
    /// own error paragraph, from its standard error.
    #[error("{message} (step {step} of {steps}, {phase} task {task} exited with status {status})")]
    TaskProcess {
        /// 1-based step number.
        step: usize,
        /// Number of steps in the job.
        steps: usize,
        /// Which phase failed.
        phase: Phase,
        /// 0-based task index within the phase.
        task: usize,
        /// The process's exit status (`-1` if a signal ended it).
        status: i32,
        /// What the task printed of its failure.
        message: String,
        /// Whether the task said a retry may succeed (it exits with 1 for
        /// a failure of user code, 2 for one a retry would meet again).
        retryable: bool,
    },
    /// A step run by a cluster engine (Hadoop, Spark) failed: the failed
    /// task's own error paragraph when the engine passed it on, else the
    /// engine's last words. Step 0 is the run's own use of the engine
    /// (uploading inputs, asking its configuration).
    #[error("{}", engine_message(engine, *step, *steps, message))]
    Engine {
        /// "Hadoop" or "Spark".
        engine: String,
        /// 1-based step number (0: not a step).
        step: usize,
        /// Number of steps in the job.
        steps: usize,
        /// What failed, as the task or the engine said it.
        message: String,
    },
    /// The engine's own failure: an invariant broke or a worker thread
    /// died. Never caused by the user's options or data; a bug to report.
    #[error("internal error: {0} (this is a bug in mapreduce)")]
    Internal(String),
    /// An engine buffer could not grow: the memory limits (cgroup,
    /// `ulimit -v`) left less than the settings assumed.
    #[error(
        "out of memory: cannot grow the {what} by {bytes} bytes (lower --sort-buffer or --workers, or raise the memory limit)"
    )]
    OutOfMemory {
        /// Which buffer.
        what: &'static str,
        /// How many bytes it asked for.
        bytes: usize,
    },
    /// A reduce task met two keys whose type's `Ord` disagrees with the
    /// order the shuffle sorted them in (their encodings'): a hand-written
    /// `Ord`. Output in that order would be wrong, so the job fails.
    #[error(
        "the key type {key_type} does not sort as the shuffle sorts: key {earlier} came before key {later}, but its Ord says {}; keys are sorted by their derived, structural order (use #[derive(Ord)] fields, and std::cmp::Reverse for a descending field), so a hand-written Ord cannot be honoured",
        if *equal { "they are equal" } else { "it sorts after" }
    )]
    KeyOrder {
        /// The key type, as Rust names it.
        key_type: &'static str,
        /// The key that came first, as JSON.
        earlier: String,
        /// The key that came next, as JSON.
        later: String,
        /// Whether `Ord` called them equal (distinct encodings, one group
        /// by `Ord`) rather than reversed.
        equal: bool,
    },
}

fn skipped_note(dirs: usize) -> String {
    match dirs {
        0 => String::new(),
        1 => " (its subdirectory is read with --recursive)".to_owned(),
        n => format!(" (its {n} subdirectories are read with --recursive)"),
    }
}

impl Error {
    /// Whether a failed task attempt that ended with this error is worth
    /// another attempt: the one rule the task pool retries by.
    ///
    /// Failures of user code are retried (an error returned by `map`,
    /// `reduce` or `combine` or their hooks, or a panic: a flaky service, a
    /// transient resource), as Hadoop retries task attempts. Everything the
    /// framework itself detects fails at once, because a retry would only
    /// meet it again and hide where it first happened: I/O errors (a full
    /// disk stays full), corrupt data, malformed records past the budget,
    /// configuration errors, encoding errors, size limits, broken
    /// contracts and the engine's internal errors — also when they were
    /// raised while user code was running, e.g. by an `emit` whose write
    /// failed.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Task { source, .. } => inner_error(source).is_none_or(Error::is_retryable),
            Error::TaskProcess { retryable, .. } => *retryable,
            _ => false,
        }
    }

    /// Where in the input the error happened, when a record is to blame:
    /// the malformed record, the line too long, or the record a task was
    /// processing when its user code failed.
    pub fn location(&self) -> Option<&Location> {
        match self {
            Error::BadRecord { location, .. }
            | Error::TooManyBadRecords { location, .. }
            | Error::LineTooLong { location, .. } => Some(location),
            Error::Task { at, source, .. } => at.as_ref().or_else(|| inner_error(source).and_then(Error::location)),
            _ => None,
        }
    }

    /// The 1-based step the error happened in, when it happened in a task.
    pub fn step(&self) -> Option<usize> {
        match self {
            Error::BadRecord { step, .. }
            | Error::TooManyBadRecords { step, .. }
            | Error::Task { step, .. }
            | Error::TaskProcess { step, .. } => Some(*step),
            Error::Engine { step, .. } if *step > 0 => Some(*step),
            _ => None,
        }
    }

    /// The file the error names, for errors about one file (I/O, corrupt
    /// data, an input that changed or cannot be found).
    pub fn path(&self) -> Option<&std::path::Path> {
        match self {
            Error::Io { path, .. }
            | Error::InputNotFound { path }
            | Error::EmptyInput { path, .. }
            | Error::InputChanged { path, .. }
            | Error::OutputExists { path }
            | Error::OutputRefused { path, .. }
            | Error::Corrupt { path, .. } => Some(path),
            Error::Task { source, .. } => inner_error(source).and_then(Error::path),
            _ => self.location().and_then(|l| l.path.as_deref()),
        }
    }

    /// Makes room in `v` for `total` elements in all, as an error instead
    /// of an abort when the allocation fails.
    pub(crate) fn try_grow<T>(v: &mut Vec<T>, total: usize, what: &'static str) -> Result<()> {
        let extra = total.saturating_sub(v.len());
        v.try_reserve_exact(extra).map_err(|_| Error::OutOfMemory {
            what,
            bytes: extra.saturating_mul(std::mem::size_of::<T>()),
        })
    }

    /// Wraps an I/O error with the path it happened on.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// The error of a failed write through a `std::io::Write`: an
    /// [`Error::Io`] naming the file if the writer said which (see
    /// [`FileWriteError`]), else naming `fallback`.
    pub(crate) fn from_write(e: std::io::Error, fallback: &str) -> Self {
        if !e.get_ref().is_some_and(|inner| inner.is::<FileWriteError>()) {
            return Error::io(fallback, e);
        }
        let kind = e.kind();
        match e.into_inner().map(|inner| inner.downcast::<FileWriteError>()) {
            Some(Ok(named)) => Error::io(named.path, named.source),
            Some(Err(other)) => Error::io(fallback, std::io::Error::new(kind, other)),
            None => Error::io(fallback, std::io::Error::from(kind)),
        }
    }
}

/// A write error that carries its file, for a `std::io::Write` (whose
/// errors cannot name one) to hand through a serializer, so that
/// [`Error::from_write`] can still say which file a full disk stopped.
#[derive(Debug)]
pub(crate) struct FileWriteError {
    pub(crate) path: PathBuf,
    pub(crate) source: std::io::Error,
}

impl fmt::Display for FileWriteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.source)
    }
}

impl std::error::Error for FileWriteError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// An engine failure's text: the message, then which step under which
/// engine.
fn engine_message(engine: &str, step: usize, steps: usize, message: &str) -> String {
    match step {
        0 => format!("{message} ({engine})"),
        _ => format!("{message} (step {step} of {steps}, on {engine})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(source: BoxError, at: Option<Location>) -> Error {
        Error::Task {
            step: 2,
            steps: 3,
            phase: Phase::Reduce,
            task: 1,
            at,
            source,
        }
    }

    #[test]
    fn one_rule_retries_user_failures_only() {
        assert!(task("a flaky service".into(), None).is_retryable());
        for inner in [
            Error::io("spill-3", std::io::Error::other("disk full")),
            Error::Codec("cannot encode".into()),
            Error::Contract("a combiner changed a key".into()),
            Error::Internal("the spill thread stopped".into()),
            Error::TooLarge {
                what: "key",
                bytes: 5 << 30,
                limit: u32::MAX as u64,
            },
        ] {
            let shown = inner.to_string();
            assert!(!inner.is_retryable(), "{shown}");
            assert!(!task(Box::new(inner), None).is_retryable(), "{shown} inside a task");
        }
    }

    #[test]
    fn accessors_find_the_location_step_and_path() {
        let at = Location {
            path: Some("in.json".into()),
            line: Some(7),
            offset: Some(120),
            split_start: None,
        };
        let bad = Error::BadRecord {
            step: 1,
            location: at.clone(),
            source: "expected value at line 1 column 2".into(),
        };
        assert_eq!(bad.location(), Some(&at));
        assert_eq!(bad.step(), Some(1));
        assert_eq!(bad.path(), Some(std::path::Path::new("in.json")));
        // The parser's error is kept as the source, not only as text.
        let source = std::error::Error::source(&bad).map(ToString::to_string);
        assert_eq!(source.as_deref(), Some("expected value at line 1 column 2"));

        let failed = task("boom".into(), Some(at.clone()));
        assert_eq!((failed.location(), failed.step()), (Some(&at), Some(2)));
        let io = task(Box::new(Error::io("part-00001", std::io::Error::other("full"))), None);
        assert_eq!(io.path(), Some(std::path::Path::new("part-00001")));
        assert_eq!(io.location(), None);
        let internal = Error::Internal("a task did not run".into());
        assert_eq!(
            (internal.location(), internal.step(), internal.path()),
            (None, None, None)
        );
        assert!(internal.to_string().starts_with("internal error: "), "{internal}");
    }
}
