//! The engine's integration tests: one binary, one module per concern.

// Tests, benchmarks and hand-written baselines may panic on a failed
// unwrap: the library code may not (Cargo.toml [lints]).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod codec;
mod fixtures;
mod fuzz_corpus;
mod joins;
mod key_order;
mod local;
mod model;
mod runners;
mod semantics;
mod total_order;

use std::path::PathBuf;

use mapreduce::{AnyJob, JobReport, RunConfig};

/// Input files written into a temp dir that lives as long as the value.
pub struct Inputs {
    pub dir: tempfile::TempDir,
    pub paths: Vec<PathBuf>,
}

impl Inputs {
    pub fn new(contents: &[&[u8]]) -> Inputs {
        let dir = tempfile::tempdir().expect("temp dir");
        let paths = contents
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let p = dir.path().join(format!("input-{i}.txt"));
                std::fs::write(&p, c).expect("write input");
                p
            })
            .collect();
        Inputs { dir, paths }
    }

    pub fn config(&self) -> RunConfig {
        RunConfig::new(self.paths.iter().map(|p| p.to_string_lossy().into_owned()))
    }
}

/// Runs `job` with `config`, returning its stdout output and report.
pub fn run(job: &dyn AnyJob, config: &RunConfig) -> mapreduce::Result<(String, JobReport)> {
    let mut out = Vec::new();
    let report = mapreduce::runner::run(job, config, &mut out)?;
    Ok((String::from_utf8(out).expect("utf-8 output"), report))
}
