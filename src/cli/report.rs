//! `--report FILE.html`: what a job did, as one self-contained page (the
//! job history page Hadoop users open, the stage timeline of Spark's):
//! per step a timeline of its tasks per worker, phase times, counters
//! under Hadoop's names, each reduce partition's size (skew), the attempts
//! that failed, and the run's settings.
//!
//! Everything is inline (CSS, SVG, a few lines of script) and nothing is
//! fetched, so the file works opened from disk, mailed, or archived. The
//! timeline draws one `<rect class="task">` per task of `--stats`' `tasks`,
//! one `<rect class="span spill">` or `<rect class="span merge">` per
//! entry of a task's `spans` (a thinner bar along the bottom of the task's
//! lane: a map task's spills run beside its mapping, on its spill thread),
//! and one `<rect class="failed">` per failed attempt.

use std::fmt::Write as _;

use crate::runner::{JobReport, RunConfig, StepReport};

/// Escapes text for HTML element content and attribute values.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Bytes as a person reads them.
fn size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// The run's settings, as the report lists them.
pub(super) fn settings(config: &RunConfig) -> Vec<(String, String)> {
    let mut out = vec![
        ("runner".to_owned(), format!("{:?}", config.runner).to_lowercase()),
        ("workers".to_owned(), config.workers.to_string()),
        ("reducers".to_owned(), config.reducers.to_string()),
        ("block size".to_owned(), size(config.block_size)),
        (
            "sort buffer".to_owned(),
            format!(
                "{}{}",
                size(config.sort_buffer),
                if config.sort_buffer_given { "" } else { " (at most)" }
            ),
        ),
        ("max attempts".to_owned(), config.max_attempts.to_string()),
        ("skip bad records".to_owned(), config.skip_bad_records.to_string()),
        (
            "compress spills".to_owned(),
            format!("{:?}", config.compress_spills).to_lowercase(),
        ),
    ];
    for input in &config.inputs {
        out.push(("input".to_owned(), input.to_string_lossy().into_owned()));
    }
    for (name, input) in &config.named_inputs {
        out.push((format!("input {name}"), input.to_string_lossy().into_owned()));
    }
    for (name, path) in &config.side_files {
        out.push((format!("side file {name}"), path.display().to_string()));
    }
    out
}

const STYLE: &str = "body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222}\
h1{font-size:22px}h2{font-size:18px;margin-top:32px;border-bottom:1px solid #ccc}\
table{border-collapse:collapse;margin:8px 0}td,th{padding:2px 10px;border-bottom:1px solid #eee;text-align:left}\
td.n{text-align:right;font-variant-numeric:tabular-nums}\
rect.task,rect.failed{stroke:#fff;stroke-width:1}rect.map{fill:#4c78a8}rect.reduce{fill:#f58518}rect.failed{fill:#e45756}rect.bar{fill:#54a24b}\
rect.spill{fill:#1b3a5c}rect.merge{fill:#9d4edd}\
rect.task:hover,rect.bar:hover{opacity:.7}text{font-size:11px;fill:#444}.legend span{display:inline-block;\
width:12px;height:12px;margin:0 4px 0 12px;vertical-align:middle}";

/// Whether a task ran in the map phase.
fn is_map(phase: &str) -> bool {
    phase == "map"
}

/// One step's timeline: a lane per worker, a bar per task.
fn timeline(out: &mut String, step: &StepReport) {
    let workers = step
        .tasks
        .iter()
        .map(|t| t.worker + 1)
        .chain(step.failed_attempts.iter().map(|_| 1))
        .max()
        .unwrap_or(1);
    let start = step
        .tasks
        .iter()
        .map(|t| t.start_ms)
        .chain(step.failed_attempts.iter().map(|a| a.start_ms))
        .fold(f64::INFINITY, f64::min);
    let end = step
        .tasks
        .iter()
        .map(|t| t.end_ms)
        .chain(step.failed_attempts.iter().map(|a| a.end_ms))
        .fold(0.0, f64::max);
    let start = if start.is_finite() { start } else { 0.0 };
    let span = (end - start).max(1.0);
    let (left, width, lane) = (80.0, 900.0, 22.0);
    let height = lane * workers as f64 + 30.0;
    let x = |ms: f64| left + (ms - start) / span * width;
    let _ = write!(
        out,
        "<svg class=\"timeline\" width=\"{}\" height=\"{height}\" viewBox=\"0 0 {} {height}\" role=\"img\">",
        left + width + 60.0,
        left + width + 60.0
    );
    for w in 0..workers {
        let y = lane * w as f64;
        let _ = write!(out, "<text x=\"4\" y=\"{}\">worker {w}</text>", y + 15.0);
    }
    for t in &step.tasks {
        let y = lane * t.worker as f64 + 3.0;
        let (x0, x1) = (x(t.start_ms), x(t.end_ms));
        let _ = write!(
            out,
            "<rect class=\"task {phase}\" data-phase=\"{phase}\" data-index=\"{index}\" x=\"{x0:.1}\" y=\"{y}\" width=\"{w:.1}\" height=\"{h}\"><title>{phase} task {index} (attempt {attempt}): {ms:.1} ms, {records} records in, {outr} out, {bytes} read, {spills} spills</title></rect>",
            phase = t.phase,
            index = t.index,
            w = (x1 - x0).max(1.0),
            h = lane - 6.0,
            attempt = t.attempt,
            ms = t.end_ms - t.start_ms,
            records = t.input_records,
            outr = t.output_records,
            bytes = size(t.input_bytes),
            spills = t.spills,
        );
    }
    for t in &step.tasks {
        let y = lane * t.worker as f64 + lane - 9.0;
        for s in &t.spans {
            let (x0, x1) = (x(s.start_ms), x(s.end_ms));
            let _ = write!(
                out,
                "<rect class=\"span {kind}\" x=\"{x0:.1}\" y=\"{y}\" width=\"{w:.1}\" height=\"5\"><title>{kind} of {phase} task {index}: {ms:.1} ms, {records} records written</title></rect>",
                kind = s.kind,
                w = (x1 - x0).max(1.0),
                phase = t.phase,
                index = t.index,
                ms = s.end_ms - s.start_ms,
                records = s.records,
            );
        }
    }
    for a in &step.failed_attempts {
        let (x0, x1) = (x(a.start_ms), x(a.end_ms));
        let _ = write!(
            out,
            "<rect class=\"failed\" x=\"{x0:.1}\" y=\"{}\" width=\"{:.1}\" height=\"{}\"><title>{} task {} attempt {} failed: {}</title></rect>",
            lane * (workers - 1) as f64 + 3.0,
            (x1 - x0).max(1.0),
            lane - 6.0,
            a.phase,
            a.index,
            a.attempt,
            esc(&a.error)
        );
    }
    let axis = lane * workers as f64 + 16.0;
    for i in 0..=4 {
        let ms = start + span * f64::from(i) / 4.0;
        let _ = write!(out, "<text x=\"{:.1}\" y=\"{axis}\">{:.0} ms</text>", x(ms) - 10.0, ms);
    }
    out.push_str("</svg>");
}

/// One step's spills and merges: how many, how long, what they wrote.
fn spill_summary(out: &mut String, step: &StepReport) {
    let mut line = Vec::new();
    for kind in ["spill", "merge"] {
        let spans = step.tasks.iter().flat_map(|t| &t.spans).filter(|s| s.kind == kind);
        let (n, ms, longest, records) = spans.fold((0u64, 0.0, 0.0f64, 0u64), |(n, ms, most, r), s| {
            let took = s.end_ms - s.start_ms;
            (n + 1, ms + took, most.max(took), r + s.records)
        });
        if n > 0 {
            let plural = if n == 1 { "" } else { "s" };
            line.push(format!(
                "<span class=\"{kind}-count\">{n}</span> {kind}{plural} ({ms:.1} ms in all, longest {longest:.1} ms, {records} records written)"
            ));
        }
    }
    if !line.is_empty() {
        let _ = write!(out, "<p class=\"spills\">{}.</p>", line.join("; "));
    }
}

/// One step's reduce partitions as bars of their record counts.
fn partitions(out: &mut String, step: &StepReport) {
    if step.partitions.is_empty() {
        return;
    }
    let most = step.partitions.iter().map(|p| p.records).max().unwrap_or(0).max(1) as f64;
    let (bar, gap, tall) = (28.0, 8.0, 120.0);
    let width = (bar + gap) * step.partitions.len() as f64 + 60.0;
    let _ = write!(
        out,
        "<h3>Reduce partitions</h3><svg class=\"partitions\" width=\"{width}\" height=\"{}\">",
        tall + 40.0
    );
    for (i, p) in step.partitions.iter().enumerate() {
        let h = p.records as f64 / most * tall;
        let x = 40.0 + (bar + gap) * i as f64;
        let _ = write!(
            out,
            "<rect class=\"bar\" x=\"{x}\" y=\"{:.1}\" width=\"{bar}\" height=\"{h:.1}\"><title>partition {i}: {} records, {} keys, {}</title></rect><text x=\"{x}\" y=\"{}\">{i}</text>",
            tall - h + 10.0,
            p.records,
            p.groups,
            size(p.bytes),
            tall + 25.0
        );
    }
    out.push_str("</svg>");
}

/// The page for `report`, run with `settings`.
pub(super) fn html(report: &JobReport, settings: &[(String, String)]) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{name}: job report</title><style>{STYLE}</style></head><body><h1>Job {name}</h1>",
        name = esc(&report.job)
    );
    let tasks: usize = report.steps.iter().map(|s| s.tasks.len()).sum();
    let _ = write!(
        out,
        "<p>{:.3} s, {} step(s), <span id=\"task-count\">{tasks}</span> tasks{}.</p>",
        report.seconds,
        report.steps.len(),
        report
            .peak_rss_bytes
            .map_or(String::new(), |b| format!(", peak memory {}", size(b)))
    );
    out.push_str(
        "<p class=\"legend\"><span style=\"background:#4c78a8\"></span>map task<span style=\"background:#f58518\"></span>reduce task<span style=\"background:#1b3a5c\"></span>spill<span style=\"background:#9d4edd\"></span>merge<span style=\"background:#e45756\"></span>failed attempt</p>",
    );
    for (n, step) in report.steps.iter().enumerate() {
        let _ = write!(
            out,
            "<section class=\"step\"><h2>Step {} of {}</h2><p>{:.3} s: map {:.3} s, reduce {:.3} s; {} tasks</p>",
            n + 1,
            report.steps.len(),
            step.seconds,
            step.map_seconds,
            step.reduce_seconds,
            step.tasks.len()
        );
        timeline(&mut out, step);
        spill_summary(&mut out, step);
        partitions(&mut out, step);
        out.push_str("<h3>Counters</h3><table>");
        for (group, name, value) in step.counters.iter() {
            let _ = write!(
                out,
                "<tr><td>{}</td><td>{}</td><td class=\"n\">{value}</td></tr>",
                esc(group),
                esc(name)
            );
        }
        out.push_str("</table>");
        if !step.failed_attempts.is_empty() {
            out.push_str("<h3>Failed attempts</h3><table><tr><th>task</th><th>attempt</th><th>error</th></tr>");
            for a in &step.failed_attempts {
                let _ = write!(
                    out,
                    "<tr><td>{} {}</td><td class=\"n\">{}</td><td>{}</td></tr>",
                    a.phase,
                    a.index,
                    a.attempt,
                    esc(&a.error)
                );
            }
            out.push_str("</table>");
        }
        let slowest = step
            .tasks
            .iter()
            .filter(|t| is_map(t.phase))
            .max_by(|a, b| (a.end_ms - a.start_ms).total_cmp(&(b.end_ms - b.start_ms)));
        if let Some(t) = slowest {
            let _ = write!(
                out,
                "<p>Slowest map task: {} ({:.1} ms, {} read).</p>",
                t.index,
                t.end_ms - t.start_ms,
                size(t.input_bytes)
            );
        }
        out.push_str("</section>");
    }
    out.push_str("<h2>Settings</h2><table>");
    for (key, value) in settings {
        let _ = write!(out, "<tr><td>{}</td><td>{}</td></tr>", esc(key), esc(value));
    }
    out.push_str("</table>");
    // Checks its own drawing: the count it shows is the bars it finds.
    out.push_str(
        "<script>document.getElementById('task-count').textContent=String(document.querySelectorAll('rect.task').length);document.body.dataset.rendered='yes';</script></body></html>\n",
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::{PartitionStats, SpanStats, TaskStats};

    #[test]
    fn the_page_has_a_bar_per_task_and_escapes_what_it_shows() {
        let mut step = StepReport::default();
        for i in 0..3 {
            step.tasks.push(TaskStats {
                phase: if i < 2 { "map" } else { "reduce" },
                index: i,
                worker: i % 2,
                start_ms: i as f64,
                end_ms: i as f64 + 5.0,
                ..TaskStats::default()
            });
        }
        step.tasks[0].spans = vec![
            SpanStats {
                kind: "spill",
                start_ms: 1.0,
                end_ms: 2.0,
                records: 7,
            },
            SpanStats {
                kind: "merge",
                start_ms: 3.0,
                end_ms: 4.5,
                records: 5,
            },
        ];
        step.partitions.push(PartitionStats::default());
        let report = JobReport {
            job: "<job>".into(),
            steps: vec![step],
            ..JobReport::default()
        };
        let page = html(&report, &[("input".into(), "a&b".into())]);
        assert_eq!(page.matches("<rect class=\"task ").count(), 3);
        assert_eq!(page.matches("<rect class=\"bar\"").count(), 1);
        assert_eq!(page.matches("<rect class=\"span spill\"").count(), 1);
        assert_eq!(page.matches("<rect class=\"span merge\"").count(), 1);
        assert!(
            page.contains("1</span> spill (1.0 ms in all, longest 1.0 ms, 7 records written)"),
            "{page}"
        );
        assert!(page.contains("&lt;job&gt;") && page.contains("a&amp;b"));
        assert!(!page.contains("<job>"));
        // Nothing to fetch: no URL but the SVG namespace, which none is.
        assert!(!page.contains("http"), "{page}");
        assert_eq!(size(1536), "1.5 KiB");
    }
}
