//! The step loop every runner shares, and the [`Engine`] trait a runner
//! implements to take part in it.
//!
//! Per step: the map phase runs one task per split on the tracker's pool
//! (retrying attempts by the one rule), the runner gathers the map
//! outputs into its shuffle, and the reduce phase runs one task per
//! partition over it; the last step's tasks write the job's output. The
//! runner only says where records come from and where they go: splits
//! and their [`RecordSource`]s, the shuffle and its [`GroupSource`]s, the
//! task outputs ([`Outputs`]). The tasks themselves are the task core's.

use std::sync::Arc;
use std::time::Instant;

use super::{FailedAttempt, PartitionStats, RunConfig, SpanStats, StepReport, TaskStats, TextSource};
use crate::api::counters::{Counters, FrameworkCounters};
use crate::api::job::JobPlan;
use crate::api::step::plan::ShufflePlan;
use crate::error::{Phase, Result};
use crate::io::input::Stamp;
use crate::io::output::OutputDir;
use crate::task::{
    BadRecords, GroupSource, Outputs, RecordSource, StepContext, StepId, TaskId, TaskOutcome, map_task, reduce_task,
};
use crate::tracker::pool::{run_tasks, worker_index};
use crate::tracker::progress::{Meter, PhaseBar};

/// A runner: where map tasks read, how map output is shuffled to reduce
/// tasks, and where task output goes.
pub(crate) trait Engine: Outputs {
    /// One map task's input (a split of a file, blocks of a run file, an
    /// in-memory buffer).
    type Split: Sync;
    /// A step's map outputs, gathered for its reduce tasks.
    type Shuffled: Sync;

    /// Worker threads running tasks at once.
    fn workers(&self) -> usize;

    /// The first step's map inputs.
    fn text_splits(&self, sources: Vec<TextSource>) -> Result<Vec<Self::Split>>;

    /// A later step's map inputs: the previous step's task outputs, in
    /// task order.
    fn pair_splits(&self, outputs: Vec<Self::Output>) -> Result<Vec<Self::Split>>;

    /// Opens one map task's input.
    fn open<'a>(&'a self, split: &'a Self::Split) -> Result<Box<dyn RecordSource + 'a>>;

    /// Gathers a step's map outputs (in map task order) for its reduce
    /// tasks.
    fn shuffle(&self, shuffle: &ShufflePlan, outputs: Vec<Self::Output>) -> Result<Self::Shuffled>;

    /// Reduce task `task.index`'s input: its partition of `shuffled`.
    fn groups<'a>(
        &'a self,
        task: &TaskId,
        shuffle: &ShufflePlan,
        shuffled: &'a Self::Shuffled,
    ) -> Result<Box<dyn GroupSource + 'a>>;

    /// A task attempt failed: whatever it left is to be removed before
    /// the next attempt starts.
    fn attempt_failed(&self, task: &TaskId) {
        let _ = task;
    }

    /// Step `index` is done, and what earlier steps left is no longer read.
    fn step_done(&self, index: usize) {
        let _ = index;
    }
}

/// Runs every step of `plan` on `engine`.
pub(crate) fn run_steps<E: Engine>(
    engine: &E,
    plan: &JobPlan,
    sources: Vec<TextSource>,
    config: &RunConfig,
    output: &OutputDir,
    step_output: Option<&OutputDir>,
    stamps: &[Stamp],
) -> Result<Vec<StepReport>> {
    let mut ranges = super::sample::ranges(plan, &sources, config)?.map(Arc::new);
    let bad = match &config.bad_records_log {
        Some(path) => BadRecords::with_log(config.skip_bad_records, path)?,
        None => BadRecords::new(config.skip_bad_records),
    };
    let env = super::job_env(plan, config)?;
    let input_bytes = input_size(&sources);
    let mut splits = engine.text_splits(sources)?;
    let mut reports = Vec::with_capacity(plan.steps.len());
    let epoch = Instant::now();
    for (index, step) in plan.steps.iter().enumerate() {
        let cx = StepContext {
            step,
            id: StepId {
                index,
                count: plan.steps.len(),
            },
            last: index + 1 == plan.steps.len(),
            reducers: config.reducers,
            protocol: plan.protocol,
            output: Some(output),
            ranges: ranges.take(),
            bad: &bad,
            env: &env,
        };
        let mut report = StepReport::default();
        let bytes = if index == 0 { input_bytes } else { None };
        let outputs = run_step(engine, &cx, config, &splits, stamps, (epoch, bytes), &mut report)?;
        engine.step_done(index);
        reports.push(report);
        bad.flush()?;
        if !cx.last {
            splits = engine.pair_splits(outputs)?;
            ranges = later_ranges(engine, plan, index + 1, &splits, config)?;
            if let Some(dir) = step_output {
                write_step_output(engine, step, plan, &splits, dir, index + 1)?;
            }
        }
    }
    Ok(reports)
}

/// Step `index`'s total-order boundaries, if it has them: sampled from
/// its input, the previous step's output pairs.
fn later_ranges<E: Engine>(
    engine: &E,
    plan: &JobPlan,
    index: usize,
    splits: &[E::Split],
    config: &RunConfig,
) -> Result<Option<Arc<Vec<Vec<u8>>>>> {
    if !plan.steps.get(index).is_some_and(|s| s.total_order()) {
        return Ok(None);
    }
    let mut sample = super::sample::PairSample::new();
    for split in splits {
        let mut source = engine.open(split)?;
        while let Some(record) = source.next_record()? {
            if let crate::task::source::Record::Pair { key, value } = record {
                sample.push(key, value);
            }
        }
    }
    Ok(Some(Arc::new(sample.bounds(plan, index, config, config.reducers)?)))
}

/// `--step-output-dir`: a step's output as the next step will read it,
/// as text lines in the job's protocol, one part file per split, staged in
/// `dir` and committed with the job's output.
fn write_step_output<E: Engine>(
    engine: &E,
    step: &crate::api::step::plan::StepPlan,
    plan: &JobPlan,
    splits: &[E::Split],
    dir: &OutputDir,
    number: usize,
) -> Result<()> {
    for (n, split) in splits.iter().enumerate() {
        let mut out = dir.step_part(number, n)?;
        let mut source = engine.open(split)?;
        while let Some(record) = source.next_record()? {
            if let crate::task::source::Record::Pair { key, value } = record {
                (step.render)(key, value, plan.protocol, &mut out)?;
            }
        }
        out.finish()?;
    }
    Ok(())
}

/// The first step's input size, when every input is a file that is read
/// as it is (a compressed one's decoded size is not known ahead).
fn input_size(sources: &[TextSource]) -> Option<u64> {
    sources
        .iter()
        .map(|s| match s {
            TextSource::Sample(bytes) => Some(bytes.len() as u64),
            TextSource::Input(src, _) => match crate::io::split::is_splittable(src) {
                Ok(true) => src.read_path().and_then(|p| std::fs::metadata(p).ok()).map(|m| m.len()),
                _ => None,
            },
        })
        .sum()
}

/// What a phase's tasks added up to.
#[derive(Default)]
struct Tally {
    framework: FrameworkCounters,
    user: Counters,
    statuses: Vec<String>,
}

impl Tally {
    fn add<O>(
        &mut self,
        outcomes: Vec<(TaskOutcome<O>, Timing)>,
        clock: &Clock<'_>,
        report: &mut StepReport,
    ) -> Vec<O> {
        let mut outputs = Vec::with_capacity(outcomes.len());
        for (o, t) in outcomes {
            let spans = o
                .spans
                .iter()
                .map(|s| SpanStats {
                    kind: s.kind.name(),
                    start_ms: clock.ms(s.start),
                    end_ms: clock.ms(s.end),
                    records: s.records,
                })
                .collect();
            let f = &o.framework;
            let map = t.phase == Phase::Map;
            report.tasks.push(TaskStats {
                phase: if map { "map" } else { "reduce" },
                index: t.index,
                attempt: t.attempt,
                worker: t.worker,
                start_ms: t.start_ms,
                end_ms: t.end_ms,
                input_bytes: if map { f.bytes_read } else { f.reduce_shuffle_bytes },
                input_records: if map {
                    f.map_input_records
                } else {
                    f.reduce_input_records
                },
                output_records: if map {
                    f.map_output_records
                } else {
                    f.reduce_output_records
                },
                spills: f.spills,
                spilled_records: f.spilled_records,
                spans,
            });
            if !map {
                report.partitions.push(PartitionStats {
                    records: f.reduce_input_records,
                    groups: f.reduce_input_groups,
                    bytes: f.reduce_shuffle_bytes,
                });
            }
            self.framework += o.framework;
            self.user.merge(&o.user);
            self.statuses.extend(o.status);
            outputs.extend(o.output);
        }
        outputs
    }
}

fn run_step<E: Engine>(
    engine: &E,
    cx: &StepContext<'_>,
    config: &RunConfig,
    splits: &[E::Split],
    stamps: &[Stamp],
    (epoch, input_bytes): (Instant, Option<u64>),
    report: &mut StepReport,
) -> Result<Vec<E::Output>> {
    let failed = std::sync::Mutex::new(Vec::new());
    let id = cx.id;
    let label = |phase: &str| format!("step {}/{} {phase}", id.index + 1, id.count);
    let mut tally = Tally::default();

    let started = Instant::now();
    let clock = Clock { epoch, failed: &failed };
    let phase = PhaseSpec {
        label: label("map"),
        phase: Phase::Map,
        tasks: splits.len(),
        bytes: input_bytes,
    };
    let maps = run_phase(engine, config, id, &phase, &clock, |task, meter| {
        let mut source = engine.open(&splits[task.index])?;
        let outcome = map_task(cx, engine, task, source.as_mut(), meter)?;
        if let Some(m) = meter {
            // Spills were counted as they were written.
            m.add_merge_passes(outcome.framework.merge_passes);
        }
        Ok(outcome)
    })?;
    if id.index == 0 {
        super::check_unchanged(stamps)?;
    }
    report.map_seconds = started.elapsed().as_secs_f64();
    let mut outputs = tally.add(maps, &clock, report);

    if let Some(shuffle) = &cx.step.shuffle {
        let started = Instant::now();
        let shuffled = engine.shuffle(shuffle, outputs)?;
        let phase = PhaseSpec {
            label: label("reduce"),
            phase: Phase::Reduce,
            tasks: cx.reducers as usize,
            bytes: None,
        };
        let reduces = run_phase(engine, config, id, &phase, &clock, |task, meter| {
            let mut groups = engine.groups(&task, shuffle, &shuffled)?;
            let outcome = reduce_task(cx, engine, task, groups.as_mut(), meter)?;
            if let Some(m) = meter {
                m.add_merge_passes(outcome.framework.merge_passes);
            }
            Ok(outcome)
        })?;
        report.reduce_seconds = started.elapsed().as_secs_f64();
        outputs = tally.add(reduces, &clock, report);
    }
    report.seconds = report.map_seconds + report.reduce_seconds;
    tally
        .framework
        .report_into(&mut report.counters, cx.step.shuffle.is_some());
    report.counters.merge(&tally.user);
    report.statuses = tally.statuses;
    report.failed_attempts = failed.into_inner().unwrap_or_default();
    Ok(outputs)
}

/// When and where a task's successful attempt ran.
struct Timing {
    phase: Phase,
    index: usize,
    attempt: u32,
    worker: usize,
    start_ms: f64,
    end_ms: f64,
}

/// What the timeline is measured from, and where failed attempts go.
struct Clock<'a> {
    epoch: Instant,
    failed: &'a std::sync::Mutex<Vec<FailedAttempt>>,
}

impl Clock<'_> {
    fn ms(&self, at: Instant) -> f64 {
        at.duration_since(self.epoch).as_secs_f64() * 1000.0
    }
}

/// A phase as its progress line shows it.
struct PhaseSpec {
    label: String,
    phase: Phase,
    tasks: usize,
    /// The input's size, when the phase reads files of known size.
    bytes: Option<u64>,
}

/// Runs the phase's tasks (`run` for each attempt, given the progress
/// line's meter when it is shown) on the pool.
fn run_phase<E: Engine, T: Send>(
    engine: &E,
    config: &RunConfig,
    step: StepId,
    spec: &PhaseSpec,
    clock: &Clock<'_>,
    run: impl Fn(TaskId, Option<&Meter>) -> Result<T> + Sync,
) -> Result<Vec<(T, Timing)>> {
    let (phase, tasks) = (spec.phase, spec.tasks);
    let bar = PhaseBar::new(config.progress, spec.label.clone(), tasks, spec.bytes);
    run_tasks(
        tasks,
        engine.workers(),
        config.max_attempts,
        |index, attempt| {
            let task = TaskId {
                step,
                phase,
                index,
                attempt,
            };
            let started = Instant::now();
            let result = run(task, bar.meter());
            let (start_ms, end_ms) = (clock.ms(started), clock.ms(Instant::now()));
            match result {
                Ok(value) => Ok((
                    value,
                    Timing {
                        phase,
                        index,
                        attempt,
                        worker: worker_index(),
                        start_ms,
                        end_ms,
                    },
                )),
                Err(e) => {
                    engine.attempt_failed(&task);
                    if let Ok(mut failed) = clock.failed.lock() {
                        failed.push(FailedAttempt {
                            phase: if phase == Phase::Map { "map" } else { "reduce" },
                            index,
                            attempt,
                            start_ms,
                            end_ms,
                            error: e.to_string(),
                        });
                    }
                    Err(e)
                }
            }
        },
        &|| bar.inc(),
    )
}
