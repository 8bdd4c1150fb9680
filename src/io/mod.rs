//! Input and output: which files a job reads, reading them line by line
//! (decompressing as needed), and committing the job's output.

pub mod cleanup;
pub mod input;
pub mod lines;
pub(crate) mod output;
pub mod split;
