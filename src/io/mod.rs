//! Input and output: which files a job reads, detecting their compression
//! and decoding it, copying streams so they can be re-read, reading them
//! line by line, and committing the job's output.

pub mod cleanup;
pub mod compression;
pub(crate) mod direct;
pub mod input;
pub mod lines;
pub(crate) mod output;
pub mod split;
pub(crate) mod spool;
pub mod stamp;
pub(crate) mod warn;
