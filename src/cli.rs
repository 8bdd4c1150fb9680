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
use crate::runner::{self, JobReport, RunConfig, RunnerKind, SpillCompression};

/// The options of a job run (`mr-run JOB [OPTIONS] [INPUT]...`).
#[derive(Debug, Clone, Args)]
#[command(about = None, long_about = None)]
#[non_exhaustive]
pub struct RunArgs {
    /// Input files, directories or globs (`.gz` and `.bz2` are decompressed);
    /// `-` reads standard input. With none, the job runs on its built-in sample.
    #[arg(value_name = "INPUT")]
    pub inputs: Vec<String>,
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
    /// Block size input files are split into (bytes, or K/M/G).
    #[arg(long, value_name = "SIZE", value_parser = parse_size_arg, default_value = "64M")]
    pub block_size: u64,
    /// Smallest split (Hadoop's mapreduce.input.fileinputformat.split.minsize).
    #[arg(long, value_name = "SIZE", value_parser = parse_size_arg, default_value = "1")]
    pub min_split_size: u64,
    /// Largest split [default: unlimited].
    #[arg(long, value_name = "SIZE", value_parser = parse_size_arg)]
    pub max_split_size: Option<u64>,
    /// Sort buffer per map task: its memory budget, in bytes (or K/M/G)
    /// [default: 64M, less if the memory limits leave less for --workers tasks].
    #[arg(long, value_name = "SIZE", value_parser = parse_size_arg)]
    pub sort_buffer: Option<u64>,
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
    /// Write counters and timings as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    pub stats: Option<PathBuf>,
    /// Print the job's steps as JSON and exit.
    #[arg(long)]
    pub describe: bool,
    /// Read input directories recursively.
    #[arg(long)]
    pub recursive: bool,
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
    // The job's own description heads its --help.
    let command = SingleJob::command().about(job.about().to_owned());
    let parsed = command
        .try_get_matches_from(argv)
        .and_then(|matches| SingleJob::from_arg_matches(&matches));
    match parsed {
        Ok(cli) => run_job(job, &cli.args),
        Err(e) => {
            // clap prints help and version to stdout and usage errors to stderr.
            let _ = e.print();
            if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            }
        }
    }
}

/// Runs `job` with already-parsed options, printing output, counters and
/// errors as the CLI does.
pub fn run_job(job: &dyn AnyJob, args: &RunArgs) -> ExitCode {
    if args.describe {
        return match serde_json::to_string_pretty(&job.description()) {
            Ok(json) => print_stdout(&format!("{json}\n")),
            Err(e) => report_error(&Error::Codec(e.to_string())),
        };
    }
    crate::tracker::panic::install_hook(args.verbose);
    crate::io::cleanup::install_interrupt_cleanup();
    let mut config = RunConfig::new(args.inputs.iter().cloned());
    config.recursive = args.recursive;
    config.output = args.output.clone();
    config.overwrite = args.overwrite;
    config.runner = match args.runner {
        RunnerArg::Local => RunnerKind::Local,
        RunnerArg::Inline => RunnerKind::Inline,
    };
    if let Some(workers) = args.workers {
        config.workers = workers as usize;
    }
    config.block_size = args.block_size;
    config.min_split_size = args.min_split_size;
    config.max_split_size = args.max_split_size.unwrap_or(u64::MAX);
    if let Some(bytes) = args.sort_buffer {
        config.sort_buffer = bytes;
        config.sort_buffer_given = true;
    }
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
    if config.inputs.is_empty() && job.has_sample() && !args.quiet {
        eprintln!(
            "{}: no input given; running on its built-in sample (generated data, not real records)",
            job.name()
        );
    }
    let stdout = io::stdout();
    let mut out = stdout.lock();
    match runner::run(job, &config, &mut out) {
        Ok(report) => {
            if !args.quiet {
                print_summary(&report, args.verbose);
            }
            if let Some(path) = &args.stats
                && let Err(e) = write_stats(path, &report)
            {
                return report_error(&e);
            }
            ExitCode::SUCCESS
        }
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        // The interrupt handler is cleaning up and will exit with 130.
        Err(_) if crate::io::cleanup::interrupted() => ExitCode::from(130),
        Err(e) => report_error(&e),
    }
}

/// Prints `mr-run list`'s table: each job's name and one-line description.
pub fn list(jobs: &[Box<dyn AnyJob>], out: &mut dyn Write) -> io::Result<()> {
    let width = jobs.iter().map(|j| j.name().len()).max().unwrap_or(0);
    for job in jobs {
        writeln!(out, "{:width$}  {}", job.name(), job.about())?;
    }
    Ok(())
}

fn print_summary(report: &JobReport, verbose: bool) {
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
    match report.peak_rss_bytes {
        Some(rss) => {
            let _ = writeln!(err, ", peak memory {:.1} MiB", rss as f64 / (1 << 20) as f64);
        }
        None => {
            let _ = writeln!(err);
        }
    }
}

fn write_stats(path: &std::path::Path, report: &JobReport) -> Result<(), Error> {
    let stats = serde_json::json!({
        "job": report.job,
        "seconds": report.seconds,
        "used_sample": report.used_sample,
        "peak_rss_bytes": report.peak_rss_bytes,
        "counters": report.counters(),
        "steps": report.steps,
    });
    let text = serde_json::to_string_pretty(&stats).map_err(|e| Error::Codec(e.to_string()))?;
    std::fs::write(path, text + "\n").map_err(|e| Error::io(path, e))
}

fn is_broken_pipe(e: &Error) -> bool {
    matches!(e, Error::Io { source, .. } if source.kind() == io::ErrorKind::BrokenPipe)
}

fn print_stdout(text: &str) -> ExitCode {
    match io::stdout().lock().write_all(text.as_bytes()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => report_error(&Error::io("<stdout>", e)),
    }
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
    use super::parse_size;

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
