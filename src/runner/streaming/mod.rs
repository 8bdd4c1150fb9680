//! Hadoop Streaming: a job's steps run as separate processes of the job
//! binary, one per task, that read and write text lines (`task`), with a
//! sort the framework does not own between map and reduce (Hadoop's,
//! Spark's, or `LC_ALL=C sort`). The lines' layouts are
//! `codec::streaming`'s.

pub(crate) mod pipeline;
mod sort;
mod task;

pub use task::{TaskKind, TaskMode, run_task};
