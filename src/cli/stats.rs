//! `--stats FILE`: the run's counters and timings as JSON, written so
//! that a stats file never describes output that was not delivered.
//!
//! The layout (`schema_version` 2; a field's meaning never changes within
//! a version, and fields may be added):
//!
//! ```text
//! { "schema_version": 2, "job": NAME, "seconds": F, "used_sample": B,
//!   "peak_rss_bytes": N | null,
//!   "counters": { GROUP: { NAME: N } },            // all steps summed
//!   "steps": [ { "seconds": F, "map_seconds": F, "reduce_seconds": F,
//!                "counters": { GROUP: { NAME: N } }, "statuses": [S],
//!                "tasks": [ { "phase": "map" | "reduce", "index": N,
//!                             "attempt": N, "worker": N,
//!                             "start_ms": F, "end_ms": F,
//!                             "input_bytes": N, "input_records": N,
//!                             "output_records": N, "spills": N,
//!                             "spilled_records": N,
//!                             "spans": [ { "kind": "spill" | "merge",
//!                                          "start_ms": F, "end_ms": F,
//!                                          "records": N } ] } ],
//!                "partitions": [ { "records": N, "groups": N, "bytes": N } ],
//!                "failed_attempts": [ { "phase": S, "index": N, "attempt": N,
//!                                       "start_ms": F, "end_ms": F,
//!                                       "error": S } ] } ] }
//! ```
//!
//! Times are milliseconds since the job's first task could start; a
//! task's `worker` is the pool thread that ran it; a task's `spans` are
//! its spills (a map task's, on its spill thread, beside its mapping) and
//! merges (a map task's merge for a combiner, a reduce task's
//! intermediate passes; the last merge streams into the reducer and is
//! the task itself), added in version 2's first revision (a task keeps
//! about 256: past that, a spill or merge is added to the task's last span
//! of its kind, its end moved and its records summed); `partitions[r]` is
//! reduce task `r`'s input. The cluster runners (`-r hadoop`, `-r spark`)
//! and `-r streaming` report counters but no tasks.

use crate::error::Error;
use crate::runner::JobReport;

/// The run's stats as `--stats` writes them (the layout above).
pub(super) fn stats_json(report: &JobReport) -> Result<Vec<u8>, Error> {
    let stats = serde_json::json!({
        "schema_version": 2,
        "job": report.job,
        "seconds": report.seconds,
        "used_sample": report.used_sample,
        "peak_rss_bytes": report.peak_rss_bytes,
        "counters": report.counters(),
        "steps": report.steps,
    });
    let text = serde_json::to_string_pretty(&stats).map_err(|e| Error::Codec(e.to_string()))?;
    Ok(format!("{text}\n").into_bytes())
}
