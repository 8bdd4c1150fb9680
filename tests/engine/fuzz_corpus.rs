//! Replays the committed fuzz corpus (`fuzz/corpus/<target>/`) and each
//! target's built-in seeds through the checks the libFuzzer targets run
//! (`fuzz/checks/`, included here), so that `cargo test` catches a
//! regression in anything the fuzzers once reached, without libFuzzer.

use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::path::Path;

#[path = "../../fuzz/checks/mod.rs"]
mod checks;

fn replay(name: &str) {
    let target = checks::TARGETS
        .iter()
        .find(|t| t.name == name)
        .unwrap_or_else(|| panic!("no fuzz target {name}"));
    for (i, seed) in (target.seeds)().iter().enumerate() {
        run_one(target, seed, &format!("seed {i}"));
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus").join(name);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("read the corpus directory").path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{}: empty corpus", dir.display());
    for file in &files {
        let input = std::fs::read(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        run_one(target, &input, &file.display().to_string());
    }
}

/// Runs one input, naming it if the check fails (the panic message alone
/// does not say which of hundreds of files it was).
fn run_one(target: &checks::Target, input: &[u8], what: &str) {
    if let Err(panic) = catch_unwind(AssertUnwindSafe(|| (target.check)(input))) {
        eprintln!("fuzz target {}: {what} fails its check", target.name);
        resume_unwind(panic);
    }
}

#[test]
fn run_file_corpus() {
    replay("run_file");
}

#[test]
fn key_corpus() {
    replay("key");
}

#[test]
fn json_line_corpus() {
    replay("json_line");
}

#[test]
fn lines_corpus() {
    replay("lines");
}

#[test]
fn compressed_input_corpus() {
    replay("compressed_input");
}

/// Every target has a test above.
#[test]
fn every_target_is_replayed() {
    let names: Vec<_> = checks::TARGETS.iter().map(|t| t.name).collect();
    assert_eq!(names, ["run_file", "key", "json_line", "lines", "compressed_input"]);
}
