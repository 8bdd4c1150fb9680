//! Progress on stderr, one line per phase (`step 1/2 map`, `step 1/2
//! reduce`): tasks done, and what the tasks report as they go through a
//! [`Meter`]: input bytes with their rate and an ETA for a map phase over
//! files, records with their rate otherwise; spills as each is written
//! (the spill threads count them) and merge passes as tasks finish (a map
//! task merges at its end, a reduce task at its start). Hidden with `-q`, and by
//! indicatif itself when stderr is not a terminal, so pipes, logs and
//! tests see no bars; a hidden bar has no meter, so tasks then count
//! nothing.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

use indicatif::{HumanBytes, HumanCount, HumanDuration, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// What a phase's tasks have got through so far, counted as they run.
#[derive(Debug, Default)]
pub(crate) struct Meter {
    /// Input bytes read (map tasks over files).
    pub(crate) bytes: AtomicU64,
    /// Records read (map tasks over pairs, reduce tasks).
    pub(crate) records: AtomicU64,
    /// Spills written so far (counted by the spill threads as they go).
    pub(crate) spills: Arc<AtomicU64>,
    /// Merge passes of the tasks finished so far.
    pub(crate) merge_passes: AtomicU64,
}

impl Meter {
    pub(crate) fn add_bytes(&self, n: u64) {
        self.bytes.fetch_add(n, Ordering::Relaxed);
    }

    pub(crate) fn add_records(&self, n: u64) {
        self.records.fetch_add(n, Ordering::Relaxed);
    }

    /// The spill count, for a task's spill thread to count up as it
    /// writes each spill.
    pub(crate) fn live_spills(&self) -> Arc<AtomicU64> {
        Arc::clone(&self.spills)
    }

    /// A finished task's merge passes.
    pub(crate) fn add_merge_passes(&self, merge_passes: u64) {
        self.merge_passes.fetch_add(merge_passes, Ordering::Relaxed);
    }
}

/// ", N spills, M merge passes" for what is not zero.
fn spills(meter: &Meter) -> String {
    let mut text = String::new();
    for (n, what) in [
        (meter.spills.load(Ordering::Relaxed), "spills"),
        (meter.merge_passes.load(Ordering::Relaxed), "merge passes"),
    ] {
        if n > 0 {
            text.push_str(&format!(", {n} {what}"));
        }
    }
    text
}

/// A phase's line: a bar of finished tasks, and the meter's rates.
pub(crate) struct PhaseBar {
    bar: ProgressBar,
    meter: Option<Arc<Meter>>,
    /// Dropped to stop the ticker thread.
    stop: Option<Sender<()>>,
    ticker: Option<std::thread::JoinHandle<()>>,
}

/// The text after the bar: bytes of `total` with rate and ETA, or
/// records with their rate.
fn message(meter: &Meter, total_bytes: Option<u64>, elapsed: Duration) -> String {
    let seconds = elapsed.as_secs_f64().max(1e-3);
    let bytes = meter.bytes.load(Ordering::Relaxed);
    let records = meter.records.load(Ordering::Relaxed);
    if bytes > 0 || total_bytes.is_some() {
        let rate = bytes as f64 / seconds;
        let mut text = format!("{}/s", HumanBytes(rate as u64));
        text = match total_bytes {
            Some(total) => {
                let left = total.saturating_sub(bytes) as f64;
                let eta = if rate > 0.0 {
                    HumanDuration(Duration::from_secs_f64(left / rate)).to_string()
                } else {
                    "?".to_owned()
                };
                format!("{} of {}, {text}, ETA {eta}", HumanBytes(bytes), HumanBytes(total))
            }
            None => format!("{}, {text}", HumanBytes(bytes)),
        };
        return text + &spills(meter);
    }
    format!(
        "{} records, {}/s{}",
        HumanCount(records),
        HumanCount((records as f64 / seconds) as u64),
        spills(meter)
    )
}

impl PhaseBar {
    /// A line for `tasks` tasks; `total_bytes` is the input size when a
    /// map phase reads files whose size is known (for the ETA).
    pub(crate) fn new(enabled: bool, label: String, tasks: usize, total_bytes: Option<u64>) -> Self {
        if !enabled {
            return PhaseBar {
                bar: ProgressBar::hidden(),
                meter: None,
                stop: None,
                ticker: None,
            };
        }
        let bar = ProgressBar::with_draw_target(Some(tasks as u64), ProgressDrawTarget::stderr());
        if bar.is_hidden() {
            // Not a terminal: no line, and so no meter to count into.
            return PhaseBar {
                bar,
                meter: None,
                stop: None,
                ticker: None,
            };
        }
        if let Ok(style) = ProgressStyle::with_template("{prefix:>14} [{bar:24}] {pos}/{len} tasks {elapsed} {msg}") {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_prefix(label);
        let meter = Arc::new(Meter::default());
        // The phase's end drops `stop`, which wakes the ticker at once: a
        // sleep it had to wait out would add up to 200 ms to every phase
        // of every run on a terminal.
        let (stop, stopped) = mpsc::channel::<()>();
        let ticker = {
            let (bar, meter) = (bar.clone(), Arc::clone(&meter));
            let started = Instant::now();
            std::thread::Builder::new()
                .name("mr-progress".into())
                .spawn(move || {
                    loop {
                        bar.set_message(message(&meter, total_bytes, started.elapsed()));
                        match stopped.recv_timeout(Duration::from_millis(200)) {
                            Err(RecvTimeoutError::Timeout) => {}
                            Ok(()) | Err(RecvTimeoutError::Disconnected) => break,
                        }
                    }
                    bar.set_message(message(&meter, total_bytes, started.elapsed()));
                })
                .ok()
        };
        PhaseBar {
            bar,
            meter: Some(meter),
            stop: Some(stop),
            ticker,
        }
    }

    /// The meter tasks count into, when the line is shown.
    pub(crate) fn meter(&self) -> Option<&Meter> {
        self.meter.as_deref()
    }

    pub(crate) fn inc(&self) {
        self.bar.inc(1);
    }
}

impl Drop for PhaseBar {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(ticker) = self.ticker.take() {
            let _ = ticker.join();
        }
        // The finished line stays: one per phase of every step.
        self.bar.finish();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_has_a_rate_and_an_eta_when_the_size_is_known() {
        let meter = Meter::default();
        meter.add_bytes(50 << 20);
        let text = message(&meter, Some(100 << 20), Duration::from_secs(1));
        assert!(
            text.contains("50.00 MiB of 100.00 MiB") && text.contains("MiB/s") && text.contains("ETA"),
            "{text}"
        );
        let meter = Meter::default();
        meter.add_records(3000);
        let text = message(&meter, None, Duration::from_secs(2));
        assert_eq!(text, "3,000 records, 1,500/s");
    }
}
