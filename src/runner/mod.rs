//! Runners: run a job's steps on local inputs and deliver its output.
//!
//! [`run`] is the one entry point; [`RunConfig`] says what to read, where to
//! write and how, and [`JobReport`] says what happened (counters and times
//! per step). The `local` runner (the default) is the parallel,
//! out-of-core engine; `inline` is a single-threaded, in-memory one for
//! debugging and small inputs, and the reference `local` must match byte
//! for byte.
//!
//! Where things go: the step loop every runner shares is `driver`, with
//! the `Engine` trait a runner implements (its map inputs, its shuffle,
//! its task outputs); each runner is one module (`local/`, `inline.rs`)
//! and one [`RunnerKind`] value, chosen in [`run_then_commit`]. What a
//! task is (its record loop, sinks, counters, errors) is the task core's
//! (`crate::task`): a new kind of input is a `RecordSource` there, a new
//! destination a `PairOutput` here.

mod budget;
pub mod cluster;
mod driver;
mod inline;
pub(crate) mod local;
pub(crate) mod sample;
pub mod streaming;

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;

use crate::api::counters::Counters;
use crate::api::job::AnyJob;
use crate::error::{Error, Result};
use crate::io::cleanup;
use crate::io::input::{InputSource, Stamp, resolve_inputs};
use crate::io::lines::DEFAULT_MAX_LINE_LENGTH;
use crate::io::output::OutputDir;
use crate::io::spool::{SpoolDir, needs_spool};
pub use cluster::ClusterConfig;

/// Which engine runs the job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum RunnerKind {
    /// Parallel map and reduce tasks, bounded memory, spills to disk.
    #[default]
    Local,
    /// One thread, in process, everything in memory: for debugging.
    Inline,
    /// Every task a process of the job binary in Streaming task mode,
    /// with `sort` between map and reduce: Hadoop Streaming on this
    /// machine.
    Streaming,
    /// Each step a Hadoop Streaming job (`hadoop jar hadoop-streaming.jar`)
    /// on a Hadoop cluster, or on Hadoop's local job runner.
    Hadoop,
    /// The steps as one Spark application (`spark-submit` of the driver
    /// this crate ships), the tasks piped through the job binary.
    Spark,
}

/// How spill and intermediate files are compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum SpillCompression {
    /// Not compressed.
    #[default]
    None,
    /// LZ4 blocks: less disk traffic for a little CPU.
    Lz4,
}

/// The sort buffer per map task when memory allows.
const DEFAULT_SORT_BUFFER: u64 = 64 << 20;

/// How to run a job: inputs, output, and engine settings.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RunConfig {
    /// Input paths: files, directories, globs, or `-` for standard input.
    /// Empty means the job's built-in sample.
    pub inputs: Vec<OsString>,
    /// Descend into subdirectories of input directories.
    pub recursive: bool,
    /// The output directory; `None` writes to the `stdout` given to [`run`].
    pub output: Option<PathBuf>,
    /// Replace an existing output directory.
    pub overwrite: bool,
    /// The engine.
    pub runner: RunnerKind,
    /// Reduce tasks per step (part files of a map-reduce last step).
    pub reducers: u32,
    /// How many malformed input records to skip (and count) before failing.
    pub skip_bad_records: u64,
    /// Where temporary data goes (default: the system temp directory).
    pub temp_dir: Option<PathBuf>,
    /// Worker threads running tasks (default: available cores).
    pub workers: usize,
    /// HDFS-style block size inputs are split into (default 64 MiB).
    pub block_size: u64,
    /// Smallest split, in bytes (Hadoop's `minsize`, default 1).
    pub min_split_size: u64,
    /// Largest split, in bytes (Hadoop's `maxsize`, default unlimited).
    pub max_split_size: u64,
    /// Bytes of sort buffer per map task (default 64 MiB). Unless
    /// `sort_buffer_given`, a ceiling: the local runner lowers it to what
    /// the memory limits (cgroup, `ulimit -v`, available memory) leave for
    /// `workers` tasks at once.
    pub sort_buffer: u64,
    /// Whether `sort_buffer` was asked for explicitly (`--sort-buffer`):
    /// then it is used as it is, and a run it cannot fit fails before it
    /// starts, naming the limit.
    pub sort_buffer_given: bool,
    /// How spills and intermediate data are compressed.
    pub compress_spills: SpillCompression,
    /// Attempts per task before the job fails (default 4).
    pub max_attempts: u32,
    /// Segments merged at once; `None` sizes it from memory and the
    /// open-file limit.
    pub merge_fan_in: Option<usize>,
    /// Draw progress bars on stderr (when it is a terminal), and print
    /// warnings (a skipped subdirectory, trailing garbage after gzip data).
    pub progress: bool,
    /// Longest input line (record) in bytes, its line ending not counted;
    /// a longer one fails the job (Hadoop's
    /// `mapreduce.input.linerecordreader.line.maxlength`; default 64 MiB).
    pub max_line_length: u64,
    /// How `-r streaming`, `-r hadoop` and `-r spark` start a task of this
    /// job: the program and the arguments before `--step-num` (default:
    /// this executable).
    pub task_command: Option<Vec<OsString>>,
    /// The cluster runners' settings.
    pub cluster: ClusterConfig,
}

impl Default for RunConfig {
    fn default() -> Self {
        RunConfig {
            inputs: Vec::new(),
            recursive: false,
            output: None,
            overwrite: false,
            runner: RunnerKind::default(),
            reducers: 1,
            skip_bad_records: 0,
            temp_dir: None,
            workers: std::thread::available_parallelism().map_or(1, |n| n.get()),
            block_size: 64 << 20,
            min_split_size: 1,
            max_split_size: u64::MAX,
            sort_buffer: DEFAULT_SORT_BUFFER,
            sort_buffer_given: false,
            compress_spills: SpillCompression::None,
            max_attempts: 4,
            merge_fan_in: None,
            progress: false,
            max_line_length: DEFAULT_MAX_LINE_LENGTH,
            task_command: None,
            cluster: ClusterConfig::default(),
        }
    }
}

impl RunConfig {
    /// A default configuration reading `inputs`.
    pub fn new<S: Into<OsString>>(inputs: impl IntoIterator<Item = S>) -> Self {
        RunConfig {
            inputs: inputs.into_iter().map(Into::into).collect(),
            ..RunConfig::default()
        }
    }

    /// How a task process of this job starts: `task_command`, or this
    /// executable.
    pub(crate) fn task_command(&self) -> Result<Vec<OsString>> {
        match &self.task_command {
            Some(c) if !c.is_empty() => Ok(c.clone()),
            _ => Ok(vec![
                std::env::current_exe()
                    .map_err(|e| Error::io("the job binary", e))?
                    .into_os_string(),
            ]),
        }
    }
}

/// What one step did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct StepReport {
    /// The step's counters, summed over its tasks.
    pub counters: Counters,
    /// Wall time of the step in seconds.
    pub seconds: f64,
    /// Wall time of its map phase.
    pub map_seconds: f64,
    /// Wall time of its reduce phase (0 for a map-only step).
    pub reduce_seconds: f64,
    /// The last status line each task set, if any.
    pub statuses: Vec<String>,
}

/// What a finished job did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct JobReport {
    /// The job's name.
    pub job: String,
    /// One report per step.
    pub steps: Vec<StepReport>,
    /// Wall time of the whole job in seconds.
    pub seconds: f64,
    /// Whether the job read its built-in sample.
    pub used_sample: bool,
    /// The process's peak resident memory (Linux `VmHWM`) when it ended.
    pub peak_rss_bytes: Option<u64>,
}

impl JobReport {
    /// All steps' counters, summed.
    pub fn counters(&self) -> Counters {
        let mut total = Counters::default();
        for s in &self.steps {
            total.merge(&s.counters);
        }
        total
    }
}

/// Where a first step's text comes from.
#[derive(Clone)]
pub(crate) enum TextSource {
    Input(InputSource),
    Sample(Arc<Vec<u8>>),
}

/// Runs `job` as `config` says. Output goes to the directory
/// `config.output`, or to `stdout`, only once every step has succeeded.
pub fn run(job: &dyn AnyJob, config: &RunConfig, stdout: &mut dyn Write) -> Result<JobReport> {
    run_then_commit(job, config, stdout, &mut |_| Ok(()))
}

/// [`run`], calling `before_commit` with the finished job's report just
/// before its output is made visible: whatever else the run must write
/// (a stats file) is written there, so that its failure fails the job
/// while nothing has been delivered yet.
pub fn run_then_commit(
    job: &dyn AnyJob,
    config: &RunConfig,
    stdout: &mut dyn Write,
    before_commit: &mut dyn FnMut(&JobReport) -> Result<()>,
) -> Result<JobReport> {
    let started = Instant::now();
    let plan = job.plan();
    if config.reducers == 0 {
        return Err(Error::Config("--reducers must be at least 1".into()));
    }
    if config.workers == 0 || config.max_attempts == 0 || config.block_size == 0 {
        return Err(Error::Config(
            "--workers, --max-attempts and --block-size must be at least 1".into(),
        ));
    }
    if config.merge_fan_in.is_some_and(|f| f < 2) {
        return Err(Error::Config("--merge-fan-in must be at least 2".into()));
    }
    if config.max_line_length == 0 {
        return Err(Error::Config("--max-line-length must be at least 1".into()));
    }
    crate::io::warn::set_enabled(config.progress);
    let temp_root = config.temp_dir.clone().unwrap_or_else(std::env::temp_dir);
    if matches!(config.runner, RunnerKind::Hadoop | RunnerKind::Spark) {
        return run_on_cluster(plan, config, stdout, before_commit, &temp_root, started);
    }
    let resolved = if config.inputs.is_empty() {
        None
    } else {
        Some(resolve_inputs(&config.inputs, config.recursive)?)
    };
    // Sized (and checked) before any output or temporary directory exists.
    let budget = match config.runner {
        RunnerKind::Local => Some(budget::plan(config, &budget::Limits::current())?),
        RunnerKind::Inline | RunnerKind::Streaming | RunnerKind::Hadoop | RunnerKind::Spark => None,
    };
    std::fs::create_dir_all(&temp_root).map_err(|e| Error::io(&temp_root, e))?;
    cleanup::sweep_stale(&temp_root);
    let input_paths: Vec<&Path> = resolved.iter().flatten().filter_map(InputSource::path).collect();
    let output = OutputDir::create(config.output.as_deref(), config.overwrite, &temp_root, &input_paths)?;
    // Lives until the job is done: the copies of streams it reads.
    let mut spool = SpoolDir::new(&temp_root);
    let mut stamps = Vec::new();
    let (sources, used_sample) = match resolved {
        None => {
            let sample = plan.sample.as_ref().ok_or_else(|| {
                Error::Config(format!(
                    "no input given: job {} has no built-in sample; name input files, directories or globs, or - for standard input",
                    plan.name
                ))
            })?;
            (vec![TextSource::Sample(Arc::new(sample()))], true)
        }
        Some(inputs) => {
            let mut sources = Vec::with_capacity(inputs.len());
            for input in inputs {
                // A stream read once would leave a retried task, a second
                // split or the sampler an exhausted stream to "succeed" on.
                let input = if needs_spool(&input)? {
                    spool.spool(&input, config.max_line_length)?
                } else {
                    input
                };
                stamps.extend(Stamp::take(&input)?);
                sources.push(TextSource::Input(input));
            }
            (sources, false)
        }
    };
    let steps = match (config.runner, budget) {
        (RunnerKind::Streaming, _) => {
            streaming::pipeline::run_steps(plan, sources, config, &output, &temp_root, &stamps)?
        }
        (_, Some(budget)) => {
            let engine = local::Local::new(config, budget, &temp_root, &sources)?;
            driver::run_steps(&engine, plan, sources, config, &output, &stamps)?
        }
        (_, None) => {
            let engine = inline::Inline {
                max_line_length: config.max_line_length,
            };
            driver::run_steps(&engine, plan, sources, config, &output, &stamps)?
        }
    };
    let report = JobReport {
        job: plan.name.clone(),
        steps,
        seconds: started.elapsed().as_secs_f64(),
        used_sample,
        peak_rss_bytes: peak_rss(),
    };
    before_commit(&report)?;
    output.commit(stdout)?;
    Ok(report)
}

/// `-r hadoop` and `-r spark`: the engine reads the inputs and runs the
/// tasks; the output comes back here (to `-o` or stdout) unless it stays
/// on the cluster (`--output-dir`).
fn run_on_cluster(
    plan: &crate::api::job::JobPlan,
    config: &RunConfig,
    stdout: &mut dyn Write,
    before_commit: &mut dyn FnMut(&JobReport) -> Result<()>,
    temp_root: &Path,
    started: Instant,
) -> Result<JobReport> {
    std::fs::create_dir_all(temp_root).map_err(|e| Error::io(temp_root, e))?;
    cleanup::sweep_stale(temp_root);
    let stays = config.cluster.output_dir.is_some() && config.output.is_none();
    let output = match config.cluster.dry_run || stays {
        true => None,
        false => Some(OutputDir::create(
            config.output.as_deref(),
            config.overwrite,
            temp_root,
            &[],
        )?),
    };
    let work = tempfile::Builder::new()
        .prefix(".mr-run-cluster-")
        .tempdir_in(temp_root)
        .map_err(|e| Error::io(temp_root, e))?;
    cleanup::register(work.path());
    let steps = match config.runner {
        RunnerKind::Spark => cluster::spark::run_steps(plan, config, output.as_ref(), work.path())?,
        _ => cluster::hadoop::run_steps(plan, config, output.as_ref(), work.path())?,
    };
    let report = JobReport {
        job: plan.name.clone(),
        steps,
        seconds: started.elapsed().as_secs_f64(),
        used_sample: false,
        peak_rss_bytes: peak_rss(),
    };
    before_commit(&report)?;
    if let Some(output) = output {
        output.commit(stdout)?;
    }
    Ok(report)
}

/// Fails if an input file changed since the job was planned: called once
/// the first step's map phase has read every input.
pub(crate) fn check_unchanged(stamps: &[Stamp]) -> Result<()> {
    stamps.iter().try_for_each(Stamp::check)
}

/// Peak resident set size of this process, from `/proc/self/status`.
fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}
