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

use crate::api::JobOptions;
use crate::api::context::JobEnv;
use crate::api::counters::Counters;
use crate::api::job::{AnyJob, JobPlan};
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

/// The smallest sort buffer the command line uses (a smaller
/// `--sort-buffer` is raised to it, with a note): one run block. Below it
/// a buffer holds a handful of records, and the number of its spills, not
/// its size, decides the task's time and files (a 4K buffer spilled
/// 210,000 times over 600 KB). [`RunConfig::sort_buffer`] itself takes
/// any size (tests force spills with tiny ones).
pub const MIN_SORT_BUFFER: u64 = 64 << 10;

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
    /// HDFS-style block size inputs are split into (default 128 MiB, Hadoop
    /// 2's `dfs.blocksize`: each map task pays fixed costs, a fresh table, a
    /// sort and a spill, so fewer larger tasks cost less CPU).
    pub block_size: u64,
    /// Whether `block_size` was chosen by the user. If not, it is a
    /// ceiling: a smaller input is cut so that every worker has a split
    /// (Spark's rule, `min(block, max(4 MiB, input bytes / workers))`), so
    /// `--workers 2` on a 40 MB file runs two map tasks, not one.
    pub block_size_given: bool,
    /// Smallest split, in bytes (Hadoop's `minsize`, default 1).
    pub min_split_size: u64,
    /// Largest split, in bytes (Hadoop's `maxsize`, default unlimited).
    pub max_split_size: u64,
    /// Bytes of sort buffer per map task (default 64 MiB). Unless
    /// `sort_buffer_given`, a ceiling: the local runner lowers it to what
    /// the memory limits (cgroup, `ulimit -v`, available memory) leave for
    /// `workers` tasks at once, never below 1 MiB (or this ceiling, if
    /// smaller; a warning says when the limits leave less).
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
    /// warnings (a skipped subdirectory, zero padding after gzip data).
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
    /// Named inputs (`--input NAME=PATH`, repeatable), for a job whose
    /// first step reads several: each path is a file, directory, glob or
    /// `-` (standard input, at most once over all inputs).
    pub named_inputs: Vec<(String, OsString)>,
    /// Side files (`--side NAME=PATH`) the job's tasks read.
    pub side_files: Vec<(String, PathBuf)>,
    /// The job's own options ([`Job::options`](crate::Job::options));
    /// `None` runs with their defaults.
    pub job_options: Option<JobOptions>,
    /// Also write each step's output, as text lines in the job's output
    /// protocol, to `DIR/step-N/part-NNNNN` (mrjob's `--step-output-dir`).
    pub step_output_dir: Option<PathBuf>,
    /// Write each skipped bad record (`skip_bad_records`), with where it
    /// was and why, as a JSON line to this file.
    pub bad_records_log: Option<PathBuf>,
    /// At most this many part files in the output (mrjob's
    /// `--max-output-files`): adjacent parts are concatenated when the
    /// output is committed, as Spark's `coalesce` groups partitions, so a
    /// total order stays one across files.
    pub max_output_files: Option<usize>,
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
            block_size: 128 << 20,
            block_size_given: false,
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
            named_inputs: Vec::new(),
            side_files: Vec::new(),
            job_options: None,
            step_output_dir: None,
            max_output_files: None,
            bad_records_log: None,
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

    /// What a task process needs of the run besides its step: `--side
    /// NAME=PATH` for each side file (`path_in_task` says what the path is
    /// where the task runs) and `--job-options HEX`.
    pub(crate) fn task_options(&self, path_in_task: impl Fn(&str, &Path) -> String) -> Vec<String> {
        let mut args = Vec::new();
        for (name, path) in &self.side_files {
            args.push("--side".to_owned());
            args.push(format!("{name}={}", path_in_task(name, path)));
        }
        if let Some(options) = &self.job_options {
            args.push("--job-options".to_owned());
            args.push(options.to_hex());
        }
        args
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
    /// Every task as it ran (its successful attempt), map tasks first.
    pub tasks: Vec<TaskStats>,
    /// Each reduce partition's input, in partition order (empty for a
    /// map-only step).
    pub partitions: Vec<PartitionStats>,
    /// The attempts that failed and were retried, with their errors.
    pub failed_attempts: Vec<FailedAttempt>,
}

/// One task of a step, as it ran: what `--stats` lists and the report's
/// timeline draws. Times are milliseconds since the job's first task
/// could start.
#[derive(Debug, Clone, Default, Serialize)]
#[non_exhaustive]
pub struct TaskStats {
    /// `map` or `reduce`.
    pub phase: &'static str,
    /// The task's index within its phase.
    pub index: usize,
    /// The attempt that succeeded (from 1).
    pub attempt: u32,
    /// The pool worker (thread) that ran it.
    pub worker: usize,
    /// When the successful attempt started and ended.
    pub start_ms: f64,
    /// See `start_ms`.
    pub end_ms: f64,
    /// Input bytes: a map task's share of the input files, a reduce
    /// task's encoded keys and values.
    pub input_bytes: u64,
    /// Input records (lines or pairs; a reduce task's values).
    pub input_records: u64,
    /// Records the task emitted.
    pub output_records: u64,
    /// Sorted runs the task spilled to disk.
    pub spills: u64,
    /// Records it wrote in spills and merges.
    pub spilled_records: u64,
    /// Its spills and merges, as they ran (a map task's spills overlap
    /// its mapping: they run on the task's spill thread).
    pub spans: Vec<SpanStats>,
}

/// One spill or merge of a task: the timeline's thinner bars.
#[derive(Debug, Clone, Default, Serialize)]
#[non_exhaustive]
pub struct SpanStats {
    /// `spill` or `merge`.
    pub kind: &'static str,
    /// When it started and ended, on the tasks' clock.
    pub start_ms: f64,
    /// See `start_ms`.
    pub end_ms: f64,
    /// Records it wrote.
    pub records: u64,
}

/// One reduce partition's input: what shows skew.
#[derive(Debug, Clone, Default, Serialize)]
#[non_exhaustive]
pub struct PartitionStats {
    /// Records (values) in the partition.
    pub records: u64,
    /// Distinct keys.
    pub groups: u64,
    /// Bytes of its encoded keys and values.
    pub bytes: u64,
}

/// A task attempt that failed and was retried.
#[derive(Debug, Clone, Default, Serialize)]
#[non_exhaustive]
pub struct FailedAttempt {
    /// `map` or `reduce`.
    pub phase: &'static str,
    /// The task's index within its phase.
    pub index: usize,
    /// The attempt (from 1).
    pub attempt: u32,
    /// When it started and ended.
    pub start_ms: f64,
    /// See `start_ms`.
    pub end_ms: f64,
    /// Its error.
    pub error: String,
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
    /// An input, and the name it was given under (`--input NAME=PATH`).
    Input(InputSource, Option<Arc<str>>),
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
    check_declared(plan, config)?;
    if matches!(config.runner, RunnerKind::Hadoop | RunnerKind::Spark) {
        return run_on_cluster(plan, config, stdout, before_commit, &temp_root, started);
    }
    let resolved = resolve_run_inputs(config)?;
    // Sized (and checked) before any output or temporary directory exists.
    let budget = match config.runner {
        RunnerKind::Local => Some(budget::plan(config, &budget::Limits::current())?),
        RunnerKind::Inline | RunnerKind::Streaming | RunnerKind::Hadoop | RunnerKind::Spark => None,
    };
    std::fs::create_dir_all(&temp_root).map_err(|e| Error::io(&temp_root, e))?;
    cleanup::sweep_stale(&temp_root);
    let input_paths: Vec<&Path> = resolved.iter().flatten().filter_map(|(s, _)| s.path()).collect();
    let mut output = OutputDir::create(config.output.as_deref(), config.overwrite, &temp_root, &input_paths)?;
    output.set_max_parts(config.max_output_files);
    // Staged and committed like the output: a failed run leaves none of
    // it, and --overwrite covers it.
    let step_output = match &config.step_output_dir {
        Some(dir) => Some(OutputDir::create_steps(dir, config.overwrite, &input_paths)?),
        None => None,
    };
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
            for (input, name) in inputs {
                // A stream read once would leave a retried task, a second
                // split or the sampler an exhausted stream to "succeed" on.
                let input = if needs_spool(&input)? {
                    spool.spool(&input, config.max_line_length)?
                } else {
                    input
                };
                stamps.extend(Stamp::take(&input)?);
                sources.push(TextSource::Input(input, name));
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
            driver::run_steps(&engine, plan, sources, config, &output, step_output.as_ref(), &stamps)?
        }
        (_, None) => {
            let engine = inline::Inline {
                max_line_length: config.max_line_length,
            };
            driver::run_steps(&engine, plan, sources, config, &output, step_output.as_ref(), &stamps)?
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
    // The steps' outputs first: once the job's output is in place the job
    // has succeeded, and what it showed of its steps is there too.
    if let Some(steps) = step_output {
        steps.commit(stdout)?;
    }
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
    if stays && config.max_output_files.is_some() && !config.cluster.dry_run {
        return Err(Error::Config(
            "--max-output-files joins part files as the output comes back; with --output-dir on the cluster the engine writes one file per task: give -o DIR (or none, for stdout) instead".into(),
        ));
    }
    let output = match config.cluster.dry_run || stays {
        true => None,
        false => {
            let mut output = OutputDir::create(config.output.as_deref(), config.overwrite, temp_root, &[])?;
            output.set_max_parts(config.max_output_files);
            Some(output)
        }
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

/// Checks the run's named inputs, side files and options against what
/// the job declares, before any work: a missing or unknown name is an
/// error naming the job's own.
pub(crate) fn check_declared(plan: &JobPlan, config: &RunConfig) -> Result<()> {
    let list = |names: &[String]| names.join(", ");
    let job = &plan.name;
    if plan.inputs.is_empty() {
        if let Some((name, _)) = config.named_inputs.first() {
            return Err(Error::Config(format!(
                "--input {name}=...: job {job} reads unnamed inputs; give its input paths as arguments"
            )));
        }
    } else {
        if !config.inputs.is_empty() {
            return Err(Error::Config(format!(
                "job {job} reads named inputs ({}): give each as --input NAME=PATH, not as a plain argument ({})",
                list(&plan.inputs),
                config.inputs[0].to_string_lossy()
            )));
        }
        for (name, _) in &config.named_inputs {
            if !plan.inputs.contains(name) {
                return Err(Error::Config(format!(
                    "--input {name}=...: job {job} has no input named {name:?} (its inputs: {})",
                    list(&plan.inputs)
                )));
            }
        }
        for name in &plan.inputs {
            if !config.named_inputs.iter().any(|(n, _)| n == name) {
                return Err(Error::Config(format!(
                    "job {job} needs input {name}: give --input {name}=PATH (its inputs: {})",
                    list(&plan.inputs)
                )));
            }
        }
    }
    for (i, (name, path)) in config.side_files.iter().enumerate() {
        if !plan.sides.contains(name) {
            let known = match plan.sides.is_empty() {
                true => "it reads none".to_owned(),
                false => format!("its side files: {}", list(&plan.sides)),
            };
            return Err(Error::Config(format!(
                "--side {name}=...: job {job} has no side file named {name:?} ({known})"
            )));
        }
        if config.side_files[..i].iter().any(|(n, _)| n == name) {
            return Err(Error::Config(format!("--side {name}=... is given twice")));
        }
        if !path.is_file() {
            return Err(Error::InputNotFound { path: path.clone() });
        }
    }
    for name in &plan.sides {
        if !config.side_files.iter().any(|(n, _)| n == name) {
            return Err(Error::Config(format!(
                "job {job} reads side file {name}: give --side {name}=PATH"
            )));
        }
    }
    if let Some(dir) = &config.step_output_dir {
        if matches!(
            config.runner,
            RunnerKind::Hadoop | RunnerKind::Spark | RunnerKind::Streaming
        ) {
            return Err(Error::Config(
                "--step-output-dir works with -r local and -r inline".into(),
            ));
        }
        if config
            .output
            .as_deref()
            .is_some_and(|o| std::path::absolute(o).ok() == std::path::absolute(dir).ok())
        {
            return Err(Error::Config(format!(
                "--step-output-dir {} is also the output directory (-o): give another",
                dir.display()
            )));
        }
    }
    if config.bad_records_log.is_some() && !matches!(config.runner, RunnerKind::Local | RunnerKind::Inline) {
        return Err(Error::Config(
            "--bad-records-log works with -r local and -r inline".into(),
        ));
    }
    if config.job_options.is_some() && plan.options.is_none() {
        return Err(Error::Config(format!("job {job} takes no options of its own")));
    }
    Ok(())
}

/// What every in-process task of the run shares: the job's options (or
/// their defaults) and the side files.
pub(crate) fn job_env(plan: &JobPlan, config: &RunConfig) -> Result<Arc<JobEnv>> {
    let options = match (&config.job_options, &plan.options) {
        (Some(given), _) => Some(given.clone()),
        (None, Some(spec)) => Some((spec.defaults)()?),
        (None, None) => None,
    };
    Ok(Arc::new(JobEnv {
        options,
        sides: config.side_files.clone(),
        jobconf: config.cluster.jobconf.clone(),
    }))
}

/// An input and the name it was given under, if any.
type NamedSource = (InputSource, Option<Arc<str>>);

/// The run's inputs in order, each with the name it was given under;
/// `None` for none (the built-in sample).
fn resolve_run_inputs(config: &RunConfig) -> Result<Option<Vec<NamedSource>>> {
    if config.named_inputs.is_empty() {
        if config.inputs.is_empty() {
            return Ok(None);
        }
        return Ok(Some(
            resolve_inputs(&config.inputs, config.recursive)?
                .into_iter()
                .map(|s| (s, None))
                .collect(),
        ));
    }
    if config.named_inputs.iter().filter(|(_, p)| p == "-").count() > 1 {
        return Err(Error::Config(
            "standard input (`-`) can be given as an input only once".to_owned(),
        ));
    }
    let mut out = Vec::new();
    for (name, spec) in &config.named_inputs {
        let name: Arc<str> = Arc::from(name.as_str());
        for source in resolve_inputs(std::slice::from_ref(spec), config.recursive)? {
            out.push((source, Some(Arc::clone(&name))));
        }
    }
    Ok(Some(out))
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
