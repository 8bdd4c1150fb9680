//! The command line shared by `mr-run` and every user job binary.
//!
//! A user's binary is one line, `fn main() -> ExitCode { mapreduce::cli::main(my_job()) }`,
//! and takes the same options as `mr-run JOB`. Errors are printed as one
//! paragraph naming the step, task, input file and line; the exit status is
//! non-zero; a backtrace appears only with `-v` (and `RUST_BACKTRACE=1`).

use std::ffi::OsString;
use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, CommandFactory, FromArgMatches, Parser, ValueEnum};

use crate::api::job::AnyJob;
use crate::error::Error;
use crate::runner::streaming::{TaskKind, TaskMode};
use crate::runner::{self, JobReport, RunConfig, RunnerKind, SpillCompression};

mod conf;
mod help;
mod pending;
mod report;
mod stats;
mod stdio;
use pending::{PendingFile, Resolved};
pub use stdio::{closed_stdout_error, stdout_was_closed};

/// The options of a job run (`mr-run JOB [OPTIONS] [INPUT]...`).
#[derive(Debug, Clone, Args)]
#[command(about = None, long_about = None)]
#[non_exhaustive]
pub struct RunArgs {
    /// Input files, directories or globs (gzip, bzip2 and zstd content is
    /// decompressed, whatever the name); `-` reads standard input. With none,
    /// the job runs on its built-in sample.
    #[arg(value_name = "INPUT")]
    pub inputs: Vec<OsString>,
    /// A named input of a job that reads several (a join's sides): PATH is a
    /// file, directory, glob or `-`; repeat for more inputs or more paths.
    #[arg(long = "input", value_name = "NAME=PATH", value_parser = named_path())]
    pub named_inputs: Vec<(String, OsString)>,
    /// A side file the job's tasks read whole (mrjob's --files, Hadoop's
    /// distributed cache): loaded once per process; shipped to the cluster
    /// with -r hadoop and -r spark.
    #[arg(long = "side", value_name = "NAME=PATH", value_parser = named_path())]
    pub side_files: Vec<(String, OsString)>,
    /// Also write each step's output as text to DIR/step-N/ (mrjob's
    /// --step-output-dir), to see what a step handed the next.
    #[arg(long, value_name = "DIR")]
    pub step_output_dir: Option<PathBuf>,
    /// Defaults for the options, per runner, from this TOML file (like
    /// mrjob.conf) [default: $MR_RUN_CONF, else ~/.mr-run.toml if there is one].
    #[arg(long, value_name = "FILE", conflicts_with = "no_conf")]
    pub conf_path: Option<PathBuf>,
    /// Read no config file.
    #[arg(long)]
    pub no_conf: bool,
    /// Streaming task mode: the job's own options, as the runner passes
    /// them to its tasks (hex of their JSON).
    #[arg(long, value_name = "HEX", hide = true)]
    pub job_options: Option<String>,
    /// Write part files and `_SUCCESS` into DIR instead of printing the output.
    #[arg(short, long, value_name = "DIR")]
    pub output: Option<PathBuf>,
    /// Replace the output directory if it exists.
    #[arg(long)]
    pub overwrite: bool,
    /// The engine that runs the job.
    #[arg(short = 'r', long, value_enum, default_value_t = RunnerArg::Local)]
    pub runner: RunnerArg,
    /// Worker threads running map and reduce tasks [default: available cores].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub workers: Option<u32>,
    /// Block size input files are split into (bytes, or K/M/G)
    /// [default: 128M, less so that a smaller input fills --workers: min(128M, max(4M, input / workers))].
    #[arg(long, value_name = "SIZE", value_parser = parse_size_arg)]
    pub block_size: Option<u64>,
    /// Smallest split (Hadoop's mapreduce.input.fileinputformat.split.minsize).
    #[arg(long, value_name = "SIZE", value_parser = parse_size_arg, default_value = "1")]
    pub min_split_size: u64,
    /// Largest split [default: unlimited].
    #[arg(long, value_name = "SIZE", value_parser = parse_size_arg)]
    pub max_split_size: Option<u64>,
    /// Sort buffer per map task: its memory budget, in bytes (or K/M/G),
    /// at least 64K (a smaller size is raised to it) [default: 64M, less
    /// if the memory limits leave less for --workers tasks, never below 1M].
    #[arg(long, value_name = "SIZE", value_parser = parse_size_arg)]
    pub sort_buffer: Option<u64>,
    /// Longest input line (record) allowed; a longer one fails the job
    /// (Hadoop's mapreduce.input.linerecordreader.line.maxlength).
    #[arg(long, value_name = "SIZE", value_parser = parse_size_arg, default_value = "64M")]
    pub max_line_length: u64,
    /// Compress spill and intermediate files.
    #[arg(long, value_enum, value_name = "CODEC", default_value_t = CompressArg::None)]
    pub compress_spills: CompressArg,
    /// Attempts per task before the job fails.
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_attempts: u32,
    /// Segments merged at once [default: sized from memory and the open-file limit].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(2..))]
    pub merge_fan_in: Option<u32>,
    /// Reduce tasks per step (and part files of the output).
    #[arg(long, default_value_t = 1, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub reducers: u32,
    /// Skip and count up to N malformed input records instead of failing on the first.
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub skip_bad_records: u64,
    /// With --skip-bad-records: write each skipped record, where it was
    /// and why, as a JSON line to FILE (Hadoop keeps skipped records).
    #[arg(long, value_name = "FILE")]
    pub bad_records_log: Option<PathBuf>,
    /// Write counters and timings, per step and per task, as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    pub stats: Option<PathBuf>,
    /// Write what the job did as one self-contained HTML page to FILE: a
    /// timeline of every task per worker, counters, reduce partition sizes.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Print the job's steps as JSON and exit (mrjob's `--steps`).
    #[arg(long, visible_alias = "steps")]
    pub describe: bool,
    /// Streaming task mode: run one task of step N (0-based) over standard
    /// input and output, as Hadoop Streaming runs it; with --mapper or
    /// --reducer.
    #[arg(long, value_name = "N", requires = "task")]
    pub step_num: Option<usize>,
    /// With --step-num: run the step's map task.
    #[arg(long, group = "task", requires = "step_num")]
    pub mapper: bool,
    /// With --step-num: run the step's reduce task.
    #[arg(long, group = "task", requires = "step_num")]
    pub reducer: bool,
    /// With --step-num: run the step's combiner over sorted shuffle lines.
    #[arg(long, group = "task", requires = "step_num")]
    pub combiner: bool,
    /// With --step-num on a total-order step after the first: read the
    /// previous step's output pair lines on stdin, write the step's
    /// partition file on stdout (-r spark's driver runs it between steps).
    #[arg(long, group = "task", requires = "step_num", hide = true)]
    pub sample_partitions: bool,
    /// With --step-num, as --sample-partitions: write the sample of the
    /// pair lines read, as pair lines (one part's share of its input).
    #[arg(long, group = "task", requires = "step_num", hide = true)]
    pub sample_pairs: bool,
    /// With --step-num --mapper on a total-order step: the sampled range
    /// boundaries, one hex-encoded key a line.
    #[arg(long, value_name = "FILE", requires = "step_num")]
    pub partition_file: Option<PathBuf>,
    /// Read input directories recursively.
    #[arg(long)]
    pub recursive: bool,
    /// -r hadoop: the `hadoop` program [default: $HADOOP_HOME/bin/hadoop, else hadoop on PATH].
    #[arg(long, value_name = "PATH")]
    pub hadoop_bin: Option<PathBuf>,
    /// -r hadoop: the Hadoop Streaming jar [default: $HADOOP_STREAMING_JAR, else found under $HADOOP_HOME].
    #[arg(long, value_name = "JAR")]
    pub hadoop_streaming_jar: Option<PathBuf>,
    /// -r spark: the `spark-submit` program [default: $SPARK_HOME/bin/spark-submit, else on PATH].
    #[arg(long, value_name = "PATH")]
    pub spark_submit: Option<PathBuf>,
    /// -r spark: the master URL (`local[*]`, `spark://HOST:7077`, `yarn`) [default: `local[*]`].
    #[arg(long, value_name = "URL")]
    pub spark_master: Option<String>,
    /// -r hadoop/-r spark: where intermediate data goes on the cluster's file system
    /// (a directory for the run is made under it and removed) [default: tmp/mr-run
    /// in the cluster user's home; this machine's temp dir under Hadoop's local runner].
    #[arg(long, visible_alias = "hadoop-tmp-dir", value_name = "URI")]
    pub cloud_tmp_dir: Option<String>,
    /// Where the output goes (mrjob's --output-dir): with -r local, inline
    /// or streaming the same as -o; with -r hadoop/-r spark a URI on the
    /// cluster, where the output stays instead of being copied back.
    #[arg(long, value_name = "DIR|URI")]
    pub output_dir: Option<String>,
    /// Also print the output on stdout when it goes to a directory
    /// (mrjob's --cat-output).
    #[arg(long, overrides_with = "no_cat_output")]
    pub cat_output: bool,
    /// Do not print the output on stdout: without -o it is discarded
    /// (mrjob's --no-cat-output; counters and --stats still tell what ran).
    #[arg(long, overrides_with = "cat_output")]
    pub no_cat_output: bool,
    /// Write at most N part files (mrjob's --max-output-files): adjacent
    /// parts are joined, in order, when the output is committed.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_output_files: Option<u32>,
    /// -r hadoop: a Hadoop setting (-D KEY=VALUE), passed on as it is; -r spark: a Spark --conf.
    #[arg(short = 'D', long = "jobconf", value_name = "KEY=VALUE", value_parser = parse_jobconf)]
    pub jobconf: Vec<(String, String)>,
    /// -r hadoop/-r spark: print the commands the run would start, and start none.
    #[arg(long)]
    pub dry_run: bool,
    /// Where temporary data goes (default: the system temp directory).
    #[arg(long, value_name = "DIR")]
    pub temp_dir: Option<PathBuf>,
    /// Print nothing on stderr but errors.
    #[arg(short, long, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Print task statuses, and panics in full.
    #[arg(short, long)]
    pub verbose: bool,
}

/// The engines `-r` accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
#[non_exhaustive]
pub enum RunnerArg {
    /// Parallel tasks, bounded memory, spills to disk.
    Local,
    /// One thread, in process, in memory.
    Inline,
    /// Each task a Streaming task process of this binary, `sort` between
    /// map and reduce (Hadoop Streaming on this machine).
    Streaming,
    /// Each step a Hadoop Streaming job (`hadoop jar hadoop-streaming.jar`).
    Hadoop,
    /// The job as one Spark application (`spark-submit`).
    Spark,
}

/// The codecs `--compress-spills` accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
#[non_exhaustive]
pub enum CompressArg {
    /// No compression.
    None,
    /// LZ4 blocks.
    Lz4,
}

/// `NAME=PATH`, the path any bytes (as input paths may be).
fn named_path() -> impl clap::builder::TypedValueParser<Value = (String, OsString)> {
    use clap::builder::TypedValueParser;
    clap::builder::OsStringValueParser::new().try_map(|text: OsString| {
        use std::os::unix::ffi::OsStrExt;
        let bytes = text.as_bytes();
        let eq = bytes.iter().position(|&b| b == b'=');
        match eq.map(|i| (std::str::from_utf8(&bytes[..i]), &bytes[i + 1..])) {
            Some((Ok(name), path)) if !name.is_empty() && !path.is_empty() => {
                Ok((name.to_owned(), std::ffi::OsStr::from_bytes(path).to_owned()))
            }
            _ => Err("expected NAME=PATH".to_owned()),
        }
    })
}

fn parse_jobconf(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_owned(), value.to_owned())),
        _ => Err("expected KEY=VALUE".to_owned()),
    }
}

fn parse_size_arg(text: &str) -> Result<u64, String> {
    match parse_size(text)? {
        0 => Err("must be at least 1 byte".to_owned()),
        n => Ok(n),
    }
}

#[derive(Parser)]
struct SingleJob {
    #[command(flatten)]
    args: RunArgs,
}

/// The whole `main` of a single-job binary: parses the process's arguments,
/// runs `job`, prints errors, and returns the exit status.
pub fn main(job: impl AnyJob) -> ExitCode {
    run_with_args(&job, std::env::args_os())
}

/// Parses `argv` (program name first) as [`RunArgs`] and runs `job`.
pub fn run_with_args(job: &dyn AnyJob, argv: impl IntoIterator<Item = OsString>) -> ExitCode {
    run_with_task_command(job, argv, None)
}

/// [`run_with_args`], for a binary that runs several jobs: `task_command`
/// is how `-r streaming` starts one of this job's tasks (the program and
/// the arguments before `--step-num`, e.g. `mr-run JOB`); `None` is this
/// executable alone.
pub fn run_with_task_command(
    job: &dyn AnyJob,
    argv: impl IntoIterator<Item = OsString>,
    task_command: Option<Vec<OsString>>,
) -> ExitCode {
    let argv: Vec<OsString> = argv.into_iter().collect();
    // A panic outside the tasks (which catch their own) is a bug of the
    // tool or of the job's definition: one paragraph, as for every error,
    // never a silent exit 101.
    crate::tracker::panic::install_hook(false);
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| parse_and_run(job, argv, task_command))) {
        Ok(code) => code,
        Err(payload) => report_panic(payload),
    }
}

fn parse_and_run(job: &dyn AnyJob, argv: Vec<OsString>, task_command: Option<Vec<OsString>>) -> ExitCode {
    // The job's own description heads its --help.
    let mut command = SingleJob::command().about(job.about().to_owned());
    let spec = job.plan().options;
    if let Some(spec) = spec {
        // The job's own options, under a heading of their own in --help.
        command = (spec.augment)(command.next_help_heading("Options of this job"));
    }
    if let Some(all) = help::requested(&argv) {
        let own: Vec<String> = spec
            .map(|s| {
                (s.augment)(clap::Command::new("job"))
                    .get_arguments()
                    .map(|a| a.get_id().to_string())
                    .collect()
            })
            .unwrap_or_default();
        let bin = argv
            .first()
            .map_or_else(|| job.name().to_owned(), |a| a.to_string_lossy().into_owned());
        let plan = job.plan();
        let traits = help::JobTraits {
            options: own,
            has_sample: plan.sample.is_some(),
            named_inputs: !plan.inputs.is_empty(),
            side_files: !plan.sides.is_empty(),
        };
        return print_stdout(&help::render(command, &bin, &traits, all));
    }
    // The config file's defaults join the arguments before parsing, so
    // they are checked as typed ones are.
    let argv = match conf::with_defaults(argv, &command) {
        Ok(argv) => argv,
        Err(e) => return report_error(&e),
    };
    let parsed = command.clone().try_get_matches_from(&argv).and_then(|matches| {
        let cli = SingleJob::from_arg_matches(&matches)?;
        let options = spec.map(|s| (s.from_matches)(&matches)).transpose()?;
        Ok((cli, options))
    });
    match parsed {
        Ok((cli, options)) => run_job_with(job, &cli.args, task_command, options),
        Err(e) => report_parse_error(&e, &command, &argv),
    }
}

/// Prints a command-line error as clap does (help and version on stdout,
/// usage errors on stderr) and returns the exit status. Where clap only
/// says that some argument is not UTF-8, this names it: the one whose
/// repair makes `command` accept the UTF-8 of the rest (input paths may
/// hold any bytes; most options may not).
pub fn report_parse_error(e: &clap::Error, command: &clap::Command, argv: &[OsString]) -> ExitCode {
    if e.kind() == clap::error::ErrorKind::InvalidUtf8 {
        let culprit = (1..argv.len()).filter(|&i| argv[i].to_str().is_none()).find(|&i| {
            let mut repaired = argv.to_vec();
            repaired[i] = OsString::from(argv[i].to_string_lossy().into_owned());
            command
                .clone()
                .try_get_matches_from(repaired)
                .err()
                .is_none_or(|e| e.kind() != clap::error::ErrorKind::InvalidUtf8)
        });
        if let Some(i) = culprit {
            eprintln!(
                "error: argument {:?} is not valid UTF-8 (only input paths and file names may be)",
                argv[i].to_string_lossy()
            );
            return ExitCode::from(2);
        }
    }
    if e.kind() == clap::error::ErrorKind::UnknownArgument
        && let Some(clap::error::ContextValue::String(arg)) = e.get(clap::error::ContextKind::InvalidArg)
    {
        eprintln!(
            "error: unknown option '{arg}'\n\n  hint: {}\n\nFor more information, try '--help'.",
            unknown_hint(arg, command)
        );
        return ExitCode::from(2);
    }
    // A task-mode switch without `--step-num`: nearly always a near miss of
    // a run option (`--reducer 3` for `--reducers 3`), not a Streaming task.
    if e.kind() == clap::error::ErrorKind::MissingRequiredArgument
        && !argv
            .iter()
            .any(|a| a.to_str().is_some_and(|a| a.starts_with("--step-num")))
        && let Some(i) = argv
            .iter()
            .position(|a| matches!(a.to_str(), Some("--mapper" | "--reducer" | "--combiner")))
    {
        let switch = argv[i].to_string_lossy();
        let value = argv
            .get(i + 1)
            .and_then(|v| v.to_str())
            .filter(|v| v.parse::<u32>().is_ok());
        let hint = match (&*switch, value) {
            ("--reducer", Some(n)) => format!("did you mean '--reducers {n}' (the number of reduce tasks)?"),
            (_, Some(n)) if switch == "--mapper" => {
                format!("did you mean '--workers {n}'? Map tasks follow from the input and --block-size")
            }
            _ => "it runs one task of a step as Hadoop Streaming does, and needs --step-num N".to_owned(),
        };
        eprintln!(
            "error: {switch} is a switch of Streaming task mode (with --step-num N)\n\n  hint: {hint}\n\nFor more information, try '--help'."
        );
        return ExitCode::from(2);
    }
    let _ = e.print();
    if e.use_stderr() {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    }
}

/// mrjob switches with another name here, or no counterpart.
const MRJOB_SWITCHES: &[(&str, &str)] = &[
    (
        "--files",
        "mrjob's --files is --side NAME=PATH here (a side file per name)",
    ),
    ("--file", "mrjob's --file is --side NAME=PATH here"),
    ("--num-cores", "mrjob's --num-cores is --workers N here"),
    ("--local-tmp-dir", "mrjob's --local-tmp-dir is --temp-dir DIR here"),
    ("--no-output", "mrjob's --no-output is --no-cat-output here"),
    ("--output", "the output directory is -o DIR or --output-dir DIR"),
    ("--num-reducers", "reduce tasks are --reducers N"),
    ("--cleanup", "temporary files are always removed; nothing to choose"),
    ("--python-bin", "jobs are Rust binaries: no interpreter to choose"),
    (
        "--split-size",
        "did you mean '--block-size'? It sets the split size (bounded by --min-split-size and --max-split-size)",
    ),
    ("--reducer-count", "did you mean '--reducers'?"),
    ("--num-workers", "did you mean '--workers'?"),
];

/// What to say of an option `command` does not have: mrjob's name for
/// one it has, or the closest of its own by edit distance.
fn unknown_hint(arg: &str, command: &clap::Command) -> String {
    let name = arg.split('=').next().unwrap_or(arg);
    if let Some((_, hint)) = MRJOB_SWITCHES.iter().find(|(m, _)| *m == name) {
        return (*hint).to_owned();
    }
    let longs: Vec<&str> = command
        .get_arguments()
        .filter(|a| !a.is_hide_set())
        .filter_map(|a| a.get_long())
        .collect();
    let typed = name.trim_start_matches('-');
    if let Some(long) = did_you_mean(typed, longs.iter().copied()) {
        return format!("did you mean '--{long}'? `--help` lists the options");
    }
    let closest = longs.iter().map(|long| (edit_distance(typed, long), *long)).min();
    match closest {
        Some((_, long)) => format!("the closest option is '--{long}'; `--help` lists them all"),
        None => "`--help` lists the options".to_owned(),
    }
}

/// The candidate closest to `typed` by edit distance, if it is close
/// enough to be a typo (at most a third of the name, and at least 1 edit):
/// for "did you mean" hints on job names, options and config sections.
pub fn did_you_mean<'a>(typed: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (typed.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .map(|c| (edit_distance(typed, c), c))
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, c)| c)
}

/// Edit distance in characters, a swap of neighbours counting one (the
/// optimal string alignment distance): typos are mostly swaps.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1).min(d[i][j - 1] + 1).min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

/// Runs `job` with already-parsed options, printing output, counters and
/// errors as the CLI does.
pub fn run_job(job: &dyn AnyJob, args: &RunArgs) -> ExitCode {
    run_job_with(job, args, None, None)
}

fn run_job_with(
    job: &dyn AnyJob,
    args: &RunArgs,
    task_command: Option<Vec<OsString>>,
    options: Option<crate::api::JobOptions>,
) -> ExitCode {
    if args.describe {
        return match serde_json::to_string_pretty(&job.description()) {
            Ok(json) => print_stdout(&format!("{json}\n")),
            Err(e) => report_error(&Error::Codec(e.to_string())),
        };
    }
    crate::tracker::panic::install_hook(args.verbose);
    let mut config = run_config(args);
    match jobconf_reducers(args) {
        Ok(Some(n)) => config.reducers = n,
        Ok(None) => {}
        Err(e) => return report_error(&e),
    }
    config.task_command = task_command;
    // A task process gets the value its runner parsed, not its defaults.
    config.job_options = match (&args.job_options, job.plan().options) {
        (Some(hex), Some(spec)) => match (spec.from_hex)(hex) {
            Ok(given) => Some(given),
            Err(e) => return report_error(&e),
        },
        (Some(_), None) => {
            return report_error(&Error::Config(format!(
                "job {} takes no options of its own",
                job.name()
            )));
        }
        (None, _) => options,
    };
    if let Some(step) = args.step_num {
        let kind = match (args.reducer, args.combiner) {
            _ if args.sample_partitions => TaskKind::SamplePartitions,
            _ if args.sample_pairs => TaskKind::SamplePairs,
            (true, _) => TaskKind::Reducer,
            (_, true) => TaskKind::Combiner,
            _ => TaskKind::Mapper,
        };
        let stdin = Box::new(io::stdin());
        let mode = TaskMode {
            step,
            kind,
            partition_file: args.partition_file.clone(),
        };
        return match runner::streaming::run_task(job, mode, &config, stdin, &mut io::stderr()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
            // The exit status tells the runner whether to retry.
            Err(e) if !e.is_retryable() => {
                eprintln!("error: {e}");
                ExitCode::from(2)
            }
            Err(e) => report_error(&e),
        };
    }
    if args.output.is_some()
        && args.output_dir.is_some()
        && !matches!(config.runner, RunnerKind::Hadoop | RunnerKind::Spark)
    {
        return report_error(&Error::Config(
            "-o and --output-dir name the same thing on this runner: give one".into(),
        ));
    }
    if let Some(given) = args.sort_buffer
        && given < runner::MIN_SORT_BUFFER
        && !args.quiet
    {
        eprintln!(
            "warning: --sort-buffer {given} bytes is below the smallest sort buffer, {}K (one run block; a smaller \
             one spills a few records at a time): using {}K",
            runner::MIN_SORT_BUFFER >> 10,
            runner::MIN_SORT_BUFFER >> 10
        );
    }
    crate::io::cleanup::install_interrupt_cleanup();
    // Output for a closed stdout would go nowhere (Rust's runtime puts
    // /dev/null there): fail before any work, as GNU tools fail.
    let prints = !args.no_cat_output
        && match &config.output {
            Some(_) => args.cat_output,
            None => config.cluster.output_dir.is_none(),
        };
    if prints && stdout_was_closed() {
        return report_error(&stdio::closed_stdout_error());
    }
    if config.inputs.is_empty() && job.has_sample() && !args.quiet {
        eprintln!(
            "{}: no input given; running on its built-in sample (generated data, not real records)",
            job.name()
        );
    }
    // Every place the run writes is checked before the first task.
    let (mut stats, mut html, bad_log) = match claim_side_files(args) {
        Ok(files) => files,
        Err(e) => return report_error(&e),
    };
    if let Some(log) = &bad_log {
        config.bad_records_log = Some(log.write_path().to_path_buf());
    }
    let settings = report::settings(&config);
    let stdout = io::stdout();
    let mut out: Box<dyn Write> = match args.no_cat_output {
        true => Box::new(io::sink()),
        false => Box::new(stdout.lock()),
    };
    let mut write_files = |report: &JobReport| {
        if let Some(stats) = stats.as_mut() {
            stats.write(&stats::stats_json(report)?)?;
        }
        if let Some(html) = html.as_mut() {
            html.write(report::html(report, &settings).as_bytes())?;
        }
        Ok(())
    };
    let result = runner::run_then_commit(job, &config, &mut out, &mut write_files);
    if result.is_err() && crate::io::cleanup::interrupted() {
        // The interrupt handler is cleaning up and will exit.
        crate::io::cleanup::wait_for_interrupt_exit();
    }
    match result {
        Ok(report) => deliver(
            args,
            &config,
            &report,
            [(stats, "stats file"), (html, "report"), (bad_log, "bad-records log")],
            &mut out,
        ),
        Err(e) => {
            // The log's errors name the file the user gave, not its
            // temporary sibling.
            let e = match (e, &bad_log) {
                (Error::Io { path, source }, Some(log)) if path == log.write_path() => Error::io(log.named(), source),
                (e, _) => e,
            };
            // The records skipped before the job failed are what explains
            // it: a log that holds any is delivered; one that holds none
            // leaves an earlier log as it was.
            let kept = bad_log.map(PendingFile::persist_if_written);
            if is_broken_pipe(&e) {
                return ExitCode::SUCCESS;
            }
            match kept {
                Some(Err(log)) => report_error(&Error::Config(format!(
                    "{e} (and the bad-records log was not written: {log})"
                ))),
                _ => report_error(&e),
            }
        }
    }
}

/// `--stats`, `--report` and `--bad-records-log`, resolved and claimed
/// before any work (see `pending`): none a directory, none in a missing
/// or read-only directory, no two the same file.
#[allow(clippy::type_complexity)]
fn claim_side_files(args: &RunArgs) -> Result<(Option<PendingFile>, Option<PendingFile>, Option<PendingFile>), Error> {
    let resolve = |path: &Option<PathBuf>, option| path.as_deref().map(|p| Resolved::new(p, option)).transpose();
    let stats = resolve(&args.stats, "--stats")?;
    let html = resolve(&args.report, "--report")?;
    let bad_log = resolve(&args.bad_records_log, "--bad-records-log")?;
    pending::check_distinct(&[&stats, &html, &bad_log].into_iter().flatten().collect::<Vec<_>>())?;
    let claim = |r: Option<Resolved>| r.map(PendingFile::claim).transpose();
    Ok((claim(stats)?, claim(html)?, claim(bad_log)?))
}

/// A run whose output is committed: delivers the files that describe it,
/// then prints it (`--cat-output`) and the summary. The output stays
/// committed whatever fails here; the message says so, and the exit
/// status is non-zero.
fn deliver<const N: usize>(
    args: &RunArgs,
    config: &RunConfig,
    report: &JobReport,
    files: [(Option<PendingFile>, &str); N],
    out: &mut dyn Write,
) -> ExitCode {
    let place = match &config.output {
        Some(dir) => format!("committed in {}", dir.display()),
        None => "complete".to_owned(),
    };
    let mut failed = None;
    for (file, what) in files {
        if let Some(file) = file
            && let Err(e) = file.persist()
        {
            failed.get_or_insert(format!(
                "the job's output is {place}, but the {what} was not written: {e}"
            ));
        }
    }
    if let (true, Some(dir)) = (args.cat_output, &config.output)
        && let Err(e) = cat_parts(dir, out)
        && !is_broken_pipe(&e)
    {
        failed.get_or_insert(format!(
            "the job's output is {place}, but printing it (--cat-output) failed: {e}"
        ));
    }
    if let Some(message) = failed {
        eprintln!("error: {message}");
        return ExitCode::FAILURE;
    }
    if !args.quiet {
        print_summary(report, args.verbose, &output_place(config, args.no_cat_output));
    }
    ExitCode::SUCCESS
}

/// The run's configuration from its options.
/// The jobconf keys that set the number of reduce tasks (Hadoop 2's and
/// Hadoop 1's names), which mrjob's runners all honour.
const REDUCES_KEYS: [&str; 2] = ["mapreduce.job.reduces", "mapred.reduce.tasks"];

/// `-D mapreduce.job.reduces=N`: the reducers on every runner, as mrjob
/// sets them. A number that is not one, or one that contradicts an
/// explicit `--reducers`, is refused rather than ignored.
fn jobconf_reducers(args: &RunArgs) -> Result<Option<u32>, Error> {
    let mut found: Option<u32> = None;
    for (key, value) in args.jobconf.iter().filter(|(k, _)| REDUCES_KEYS.contains(&k.as_str())) {
        let n = value.trim().parse::<u32>().ok().filter(|&n| n >= 1).ok_or_else(|| {
            Error::Config(format!(
                "-D {key}={value}: the number of reduce tasks must be a whole number of at least 1"
            ))
        })?;
        if found.is_some_and(|f| f != n) {
            return Err(Error::Config(format!(
                "-D {key}={value} contradicts another -D setting of the reduce tasks"
            )));
        }
        found = Some(n);
    }
    match found {
        // `--reducers` defaults to 1: any other value was typed.
        Some(n) if args.reducers != 1 && args.reducers != n => Err(Error::Config(format!(
            "--reducers {} and -D mapreduce.job.reduces={n} disagree: give one",
            args.reducers
        ))),
        other => Ok(other),
    }
}

fn run_config(args: &RunArgs) -> RunConfig {
    let mut config = RunConfig::new(args.inputs.iter().cloned());
    config.named_inputs = args.named_inputs.clone();
    config.side_files = args
        .side_files
        .iter()
        .map(|(name, path)| (name.clone(), PathBuf::from(path)))
        .collect();
    config.step_output_dir = args.step_output_dir.clone();
    config.bad_records_log = args.bad_records_log.clone();
    config.max_output_files = args.max_output_files.map(|n| n as usize);
    config.recursive = args.recursive;
    config.output = args.output.clone();
    config.overwrite = args.overwrite;
    config.runner = match args.runner {
        RunnerArg::Local => RunnerKind::Local,
        RunnerArg::Inline => RunnerKind::Inline,
        RunnerArg::Streaming => RunnerKind::Streaming,
        RunnerArg::Hadoop => RunnerKind::Hadoop,
        RunnerArg::Spark => RunnerKind::Spark,
    };
    let cluster = &mut config.cluster;
    cluster.hadoop_bin = args.hadoop_bin.clone();
    cluster.hadoop_streaming_jar = args.hadoop_streaming_jar.clone();
    cluster.spark_submit = args.spark_submit.clone();
    cluster.spark_master = args.spark_master.clone();
    cluster.cloud_tmp_dir = args.cloud_tmp_dir.clone();
    // mrjob's --output-dir is -o on a runner of this machine.
    let on_cluster = matches!(config.runner, RunnerKind::Hadoop | RunnerKind::Spark);
    match (&args.output_dir, on_cluster) {
        (Some(dir), false) if config.output.is_none() => config.output = Some(PathBuf::from(dir)),
        (dir, _) => config.cluster.output_dir = dir.clone(),
    }
    let cluster = &mut config.cluster;
    cluster.jobconf = args.jobconf.clone();
    cluster.dry_run = args.dry_run;
    if let Some(workers) = args.workers {
        config.workers = workers as usize;
    }
    if let Some(bytes) = args.block_size {
        config.block_size = bytes;
        config.block_size_given = true;
    }
    config.min_split_size = args.min_split_size;
    config.max_split_size = args.max_split_size.unwrap_or(u64::MAX);
    if let Some(bytes) = args.sort_buffer {
        // Raised to the floor (`run_job_with` says so).
        config.sort_buffer = bytes.max(runner::MIN_SORT_BUFFER);
        config.sort_buffer_given = true;
    }
    config.max_line_length = args.max_line_length;
    config.compress_spills = match args.compress_spills {
        CompressArg::None => SpillCompression::None,
        CompressArg::Lz4 => SpillCompression::Lz4,
    };
    config.max_attempts = args.max_attempts;
    config.merge_fan_in = args.merge_fan_in.map(|n| n as usize);
    config.progress = !args.quiet;
    config.reducers = args.reducers;
    config.skip_bad_records = args.skip_bad_records;
    config.temp_dir = args.temp_dir.clone();
    config
}

/// Prints `mr-run list`'s table: each job's name and one-line description.
pub fn list(jobs: &[Box<dyn AnyJob>], out: &mut dyn Write) -> io::Result<()> {
    let width = jobs.iter().map(|j| j.name().len()).max().unwrap_or(0);
    for job in jobs {
        writeln!(out, "{:width$}  {}", job.name(), job.about())?;
    }
    Ok(())
}

/// `--cat-output`: the part files of the output directory `dir`, in
/// order, on `out`.
fn cat_parts(dir: &std::path::Path, out: &mut dyn Write) -> Result<(), Error> {
    let mut parts: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| Error::io(dir, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("part-")))
        .collect();
    parts.sort();
    for part in parts {
        let mut file = std::fs::File::open(&part).map_err(|e| Error::io(&part, e))?;
        io::copy(&mut file, out).map_err(|e| Error::io("<stdout>", e))?;
    }
    out.flush().map_err(|e| Error::io("<stdout>", e))
}

/// Where a finished run's output is, as the summary says it.
fn output_place(config: &RunConfig, discarded: bool) -> String {
    if discarded && config.output.is_none() && config.cluster.output_dir.is_none() {
        return "output discarded (--no-cat-output)".to_owned();
    }
    match (&config.output, &config.cluster.output_dir) {
        (Some(dir), _) => format!("output in {}", dir.display()),
        (None, Some(uri)) => format!("output left on the cluster at {uri}"),
        (None, None) => "output written to stdout".to_owned(),
    }
}

fn print_summary(report: &JobReport, verbose: bool, place: &str) {
    let steps = report.steps.len();
    let mut err = io::stderr().lock();
    for (i, step) in report.steps.iter().enumerate() {
        let _ = write!(
            err,
            "Step {} of {steps} ({:.3}s: map {:.3}s, reduce {:.3}s): {}",
            i + 1,
            step.seconds,
            step.map_seconds,
            step.reduce_seconds,
            step.counters
        );
        if verbose {
            for status in &step.statuses {
                let _ = writeln!(err, "\tstatus: {status}");
            }
        }
    }
    let _ = write!(err, "Job {} finished in {:.3}s", report.job, report.seconds);
    if let Some(rss) = report.peak_rss_bytes {
        let _ = write!(err, ", peak memory {:.1} MiB", rss as f64 / (1 << 20) as f64);
    }
    let _ = writeln!(err, "; {place}");
}

fn is_broken_pipe(e: &Error) -> bool {
    matches!(e, Error::Io { source, .. } if source.kind() == io::ErrorKind::BrokenPipe)
}

fn print_stdout(text: &str) -> ExitCode {
    if stdout_was_closed() {
        return report_error(&stdio::closed_stdout_error());
    }
    match io::stdout().lock().write_all(text.as_bytes()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => report_error(&Error::io("<stdout>", e)),
    }
}

/// Reports a panic that reached the command line (outside any task: a
/// task's panic is its error) as one paragraph, and returns the failure
/// status.
fn report_panic(payload: Box<dyn std::any::Any + Send>) -> ExitCode {
    let (text, at) = crate::tracker::panic::describe(payload);
    eprintln!("error: {}", internal_error(&text, at.as_deref()));
    ExitCode::FAILURE
}

/// The paragraph for a panic outside the tasks.
fn internal_error(text: &str, at: Option<&str>) -> String {
    let text = text.trim_end().replace('\n', " ");
    let at = at.map_or_else(String::new, |at| format!(" (at {at})"));
    format!(
        "internal error: {text}{at}; this is a bug in the tool or in the job's definition, not in the input \
         (-v with RUST_BACKTRACE=1 shows where it came from)"
    )
}

/// Prints `e` as one paragraph on stderr and returns the failure status.
pub fn report_error(e: &Error) -> ExitCode {
    eprintln!("error: {e}");
    ExitCode::FAILURE
}

/// Parses a size in bytes: a plain number, or one with a `K`, `M` or `G`
/// suffix (powers of 1024; `KB`/`KiB` spellings and lowercase accepted).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let digits_end = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, suffix) = t.split_at(digits_end);
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("invalid size {text:?}: expected a number with an optional K, M or G suffix"))?;
    let shift = match suffix.to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        "t" | "tb" | "tib" => 40,
        _ => {
            return Err(format!(
                "invalid size {text:?}: unknown suffix {suffix:?} (use K, M or G)"
            ));
        }
    };
    n.checked_mul(1u64 << shift)
        .ok_or_else(|| format!("invalid size {text:?}: too large"))
}

#[cfg(test)]
mod tests {
    use super::{internal_error, parse_size};

    #[test]
    fn issue27_a_panic_is_one_paragraph_naming_where() {
        let text = internal_error("index out of bounds\nthe len is 3\n", Some("src/x.rs:7:9"));
        assert!(
            text.starts_with("internal error: index out of bounds the len is 3 (at src/x.rs:7:9); this is a bug"),
            "{text}"
        );
        assert!(!text.contains('\n'));
        assert!(internal_error("boom", None).starts_with("internal error: boom; "));
    }

    #[test]
    fn sizes_parse_with_binary_suffixes() {
        assert_eq!(parse_size("0"), Ok(0));
        assert_eq!(parse_size("123"), Ok(123));
        assert_eq!(parse_size("64K"), Ok(64 << 10));
        assert_eq!(parse_size("64M"), Ok(64 << 20));
        assert_eq!(parse_size("1g"), Ok(1 << 30));
        assert_eq!(parse_size("2GiB"), Ok(2 << 30));
        assert!(parse_size("").is_err());
        assert!(parse_size("M").is_err());
        assert!(parse_size("12X").is_err());
        assert!(parse_size("99999999999G").is_err());
    }
}
