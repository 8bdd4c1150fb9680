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
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.path {
            Some(p) => write!(f, "{}", p.display())?,
            None => f.write_str("<stdin>")?,
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
    #[error("step {step}: bad record at {location}: {message} (pass --skip-bad-records N to skip up to N bad records)")]
    BadRecord {
        /// 1-based step number.
        step: usize,
        /// Where the record is.
        location: Location,
        /// What is wrong with it.
        message: String,
    },
    /// More bad records than `--skip-bad-records` allows.
    #[error(
        "step {step}: too many bad records: {skipped} skipped, the budget (--skip-bad-records) is {budget}; the next one, at {location}: {message}"
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
        /// What is wrong with it.
        message: String,
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
    /// The job or its options are misconfigured.
    #[error("{0}")]
    Config(String),
}

fn skipped_note(dirs: usize) -> String {
    match dirs {
        0 => String::new(),
        1 => " (its subdirectory is read with --recursive)".to_owned(),
        n => format!(" (its {n} subdirectories are read with --recursive)"),
    }
}

impl Error {
    /// Wraps an I/O error with the path it happened on.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}
