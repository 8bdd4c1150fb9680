//! Spans: when a task's shuffle work (a spill of a full buffer, a merge of
//! runs) started and ended, so the report's timeline can draw spills and
//! merges beside the tasks they belong to. Recording one costs two clock
//! reads per spill or merge, never per record.

use std::time::Instant;

/// What kind of shuffle work a span covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpanKind {
    /// A full sort buffer (or hash table) sorted, combined and written as
    /// a run, on the map task's spill thread.
    Spill,
    /// Runs merged into fewer runs: the map task's merge for a combiner,
    /// or a reduce task's intermediate passes.
    Merge,
}

impl SpanKind {
    /// The kind's name in `--stats` and the report.
    pub fn name(self) -> &'static str {
        match self {
            SpanKind::Spill => "spill",
            SpanKind::Merge => "merge",
        }
    }
}

/// One spill or merge.
#[derive(Debug, Clone, Copy)]
pub struct Span {
    pub kind: SpanKind,
    pub start: Instant,
    pub end: Instant,
    /// Records it wrote.
    pub records: u64,
}

impl Span {
    /// A span of `kind` from `start` to now.
    pub fn since(kind: SpanKind, start: Instant, records: u64) -> Span {
        Span {
            kind,
            start,
            end: Instant::now(),
            records,
        }
    }
}
