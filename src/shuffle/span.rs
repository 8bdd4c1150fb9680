//! Spans: when a task's shuffle work (a spill of a full buffer, a merge of
//! runs) started and ended, so the report's timeline can draw spills and
//! merges beside the tasks they belong to. Recording one costs two clock
//! reads per spill or merge, never per record, and a task keeps about
//! [`MAX_SPANS`] of them (one more per kind at most), however many runs it
//! spills or merges: each is kept until the job's report is written.

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

/// Spans a task keeps: past this many, a spill or merge is added to the
/// task's last span of its kind (its end moved, its records summed), so
/// that a task that spills a million times costs the report no more than
/// one that spills this many.
pub const MAX_SPANS: usize = 256;

/// Appends `span` to `spans`, or past [`MAX_SPANS`] adds it to the last
/// span of its kind.
pub fn push_bounded(spans: &mut Vec<Span>, span: Span) {
    if spans.len() >= MAX_SPANS
        && let Some(last) = spans.iter_mut().rev().find(|s| s.kind == span.kind)
    {
        last.end = last.end.max(span.end);
        last.records += span.records;
        return;
    }
    spans.push(span);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issue27_a_task_keeps_a_bounded_number_of_spans() {
        let mut spans = Vec::new();
        for _ in 0..10 * MAX_SPANS {
            push_bounded(&mut spans, Span::since(SpanKind::Spill, Instant::now(), 2));
        }
        assert_eq!(spans.len(), MAX_SPANS);
        // A kind not seen yet still gets its own span, once.
        push_bounded(&mut spans, Span::since(SpanKind::Merge, Instant::now(), 5));
        push_bounded(&mut spans, Span::since(SpanKind::Spill, Instant::now(), 2));
        push_bounded(&mut spans, Span::since(SpanKind::Merge, Instant::now(), 5));
        assert_eq!(spans.len(), MAX_SPANS + 1);
        assert_eq!(spans.iter().map(|s| s.records).sum::<u64>(), 20 * MAX_SPANS as u64 + 12);
        assert_eq!(spans.last().map(|s| (s.kind, s.records)), Some((SpanKind::Merge, 10)));
    }
}
