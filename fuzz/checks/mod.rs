//! The checks of the fuzz targets, one module per target.
//!
//! They are shared by the libFuzzer targets (`fuzz/fuzz_targets/`, where
//! this is the `mapreduce_fuzz` library) and by the engine test that replays
//! the committed corpus (`tests/engine/fuzz_corpus.rs`, which includes this
//! file with `#[path]`), so `cargo test` asserts exactly what the fuzzers
//! do, without libFuzzer. Hence these files use only the mapreduce
//! package's own dependencies, and only its public (or `internals`) API.
//!
//! A check panics when an invariant is broken; every other outcome,
//! including an `Err` from the library, is a pass.

// Each user of this module calls only some of it (the seed writer, the
// targets, the replay test).
#![allow(dead_code)]

pub mod compressed;
pub mod json;
pub mod key;
pub mod lines;
pub mod run_file;

/// A fuzz target: its name (its corpus is `fuzz/corpus/<name>/`), its check,
/// and the small valid inputs its corpus was seeded with.
pub struct Target {
    pub name: &'static str,
    pub check: fn(&[u8]),
    pub seeds: fn() -> Vec<Vec<u8>>,
}

/// Every target, named as in `fuzz/Cargo.toml`.
pub const TARGETS: &[Target] = &[
    Target {
        name: "run_file",
        check: run_file::check,
        seeds: run_file::seeds,
    },
    Target {
        name: "key",
        check: key::check,
        seeds: key::seeds,
    },
    Target {
        name: "json_line",
        check: json::check,
        seeds: json::seeds,
    },
    Target {
        name: "lines",
        check: lines::check,
        seeds: lines::seeds,
    },
    Target {
        name: "compressed_input",
        check: compressed::check,
        seeds: compressed::seeds,
    },
];

/// Fuzzer-chosen parameters taken off the front of the input. Past the end
/// every number reads as 0, so any input is a valid parameter list (the
/// fuzzer needs no structure to get going).
pub struct Bytes<'a> {
    data: &'a [u8],
}

impl<'a> Bytes<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Bytes { data }
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Up to `n` bytes (fewer at the end of the input).
    pub fn take(&mut self, n: usize) -> &'a [u8] {
        let (head, rest) = self.data.split_at(n.min(self.data.len()));
        self.data = rest;
        head
    }

    pub fn u8(&mut self) -> u8 {
        self.take(1).first().copied().unwrap_or(0)
    }

    pub fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.u8(), self.u8()])
    }

    pub fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.u8(), self.u8(), self.u8(), self.u8()])
    }

    /// Everything not taken yet.
    pub fn rest(self) -> &'a [u8] {
        self.data
    }
}

/// `bytes` in a new temp file whose name ends with `suffix`, deleted when
/// the value is dropped (each call gets its own, so replay tests may run in
/// parallel).
pub fn temp_file(suffix: &str, bytes: &[u8]) -> tempfile::TempPath {
    let mut f = tempfile::Builder::new()
        .prefix("mr-fuzz-")
        .suffix(suffix)
        .tempfile()
        .expect("create a temp file");
    std::io::Write::write_all(&mut f, bytes).expect("write the temp file");
    f.into_temp_path()
}
