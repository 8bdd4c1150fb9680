//! The job tracker: the job's temporary directory, task attempts and their
//! retries on a pool of workers, and progress reporting.

pub(crate) mod jobdir;
pub(crate) mod panic;
pub(crate) mod pool;
pub(crate) mod progress;
