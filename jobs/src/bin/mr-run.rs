//! `mr-run`: runs the jobs in this crate on local files, and generates
//! test data.

use std::ffi::OsString;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{CommandFactory, Parser, Subcommand, ValueEnum};
use mapreduce_jobs::datagen;

#[derive(Parser)]
#[command(
    name = "mr-run",
    version,
    about = "Runs MapReduce jobs on local files.",
    after_help = "Run `mr-run list` for the jobs, and `mr-run JOB --help` for a job's options."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// List the jobs, with a one-line description each.
    List,
    /// Generate deterministic test data (like Hadoop's teragen and randomtextwriter).
    Gen(GenArgs),
    /// Run a job: `mr-run JOB [INPUT]... [OPTIONS]`.
    #[command(external_subcommand)]
    Job(Vec<OsString>),
}

#[derive(clap::Args)]
struct GenArgs {
    /// What to generate.
    kind: GenKind,
    /// How much: bytes, or with a K, M or G suffix. The output ends with the
    /// first whole line that reaches this size.
    #[arg(long, value_parser = mapreduce::cli::parse_size, default_value = "64M")]
    size: u64,
    /// Seed: the same seed and size give the same bytes.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Output file, or `-` for standard output.
    #[arg(short, long, value_name = "FILE")]
    output: PathBuf,
    /// For `yelp-reviews` (and needed by it): a business.json-style file,
    /// such as `mr-run gen yelp` writes, whose business_id values the
    /// reviews name.
    #[arg(long, value_name = "FILE")]
    business: Option<PathBuf>,
    /// For `yelp-reviews`: spoil this many lines per thousand (cut short, or
    /// not JSON at all).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(0..=1000))]
    malformed_per_mille: Option<u32>,
}

#[derive(Clone, Copy, ValueEnum)]
enum GenKind {
    /// Yelp-like business.json lines, with the real file's quirks.
    Yelp,
    /// Yelp-like review.json lines for the businesses of --business FILE.
    YelpReviews,
    /// English-like text with a Zipf vocabulary.
    Text,
}

impl GenArgs {
    /// Options that do not fit the kind, as a usage error.
    fn check(&self) -> Result<(), clap::Error> {
        let usage = |kind, message: &str| {
            let mut command = Cli::command();
            command.build();
            match command.find_subcommand_mut("gen") {
                Some(gen_command) => gen_command.error(kind, message),
                None => command.error(kind, message),
            }
        };
        match self.kind {
            GenKind::YelpReviews if self.business.is_none() => Err(usage(
                clap::error::ErrorKind::MissingRequiredArgument,
                "`gen yelp-reviews` needs --business FILE, a business.json-style file (`mr-run gen yelp` writes one)",
            )),
            GenKind::YelpReviews => Ok(()),
            GenKind::Yelp | GenKind::Text => {
                let option = if self.business.is_some() {
                    "--business"
                } else if self.malformed_per_mille.is_some() {
                    "--malformed-per-mille"
                } else {
                    return Ok(());
                };
                Err(usage(
                    clap::error::ErrorKind::ArgumentConflict,
                    &format!("{option} is only for `gen yelp-reviews`"),
                ))
            }
        }
    }
}

fn main() -> ExitCode {
    let argv: Vec<OsString> = std::env::args_os().collect();
    let cli = match Cli::try_parse_from(&argv) {
        Ok(cli) => cli,
        Err(e) => return mapreduce::cli::report_parse_error(&e, &Cli::command(), &argv),
    };
    // What would go to a closed stdout (`>&-`) fails, as GNU tools fail
    // (jobs check for themselves: with -o they print nothing).
    let to_stdout = match &cli.command {
        Command::List => true,
        Command::Gen(args) => args.output.as_os_str() == "-",
        Command::Job(_) => false,
    };
    if to_stdout && mapreduce::cli::stdout_was_closed() {
        return mapreduce::cli::report_error(&mapreduce::cli::closed_stdout_error());
    }
    match cli.command {
        Command::List => {
            let jobs = mapreduce_jobs::all();
            match mapreduce::cli::list(&jobs, &mut io::stdout().lock()) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
                Err(e) => fail(anyhow::Error::new(e)),
            }
        }
        Command::Gen(args) => {
            if let Err(e) = args.check() {
                return mapreduce::cli::report_parse_error(&e, &Cli::command(), &argv);
            }
            match generate(&args) {
                Ok(()) => ExitCode::SUCCESS,
                // `mr-run gen ... -o - | head` is a normal way to peek.
                Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
                Err(e) => fail(e),
            }
        }
        Command::Job(args) => {
            let mut args = args.into_iter();
            let name = args.next().unwrap_or_default().to_string_lossy().into_owned();
            if name == "teragen" {
                return match teragen(args.collect()) {
                    Ok(code) => code,
                    Err(e) => {
                        eprintln!("error: {e:#}");
                        ExitCode::from(2)
                    }
                };
            }
            let Some(job) = mapreduce_jobs::find(&name) else {
                let jobs = mapreduce_jobs::all();
                let hint = mapreduce::cli::did_you_mean(&name, jobs.iter().map(|j| j.name()))
                    .map(|j| format!(" (did you mean {j:?}?)"))
                    .unwrap_or_default();
                eprintln!("error: no job named {name:?}{hint}; `mr-run list` lists the jobs");
                return ExitCode::from(2);
            };
            let argv = std::iter::once(OsString::from(format!("mr-run {name}"))).chain(args);
            // `-r streaming` starts each task as `mr-run JOB --step-num ...`.
            let task_command = std::env::current_exe()
                .ok()
                .map(|exe| vec![exe.into_os_string(), OsString::from(&name)]);
            mapreduce::cli::run_with_task_command(job.as_ref(), argv, task_command)
        }
    }
}

fn generate(args: &GenArgs) -> anyhow::Result<()> {
    // Read before the output is created, so a bad --business leaves no file.
    let business_ids = match (&args.kind, &args.business) {
        (GenKind::YelpReviews, Some(path)) => {
            let ids = datagen::read_business_ids(path).with_context(|| format!("cannot read {}", path.display()))?;
            anyhow::ensure!(
                !ids.is_empty(),
                "{} has no line with a business_id (is it a business.json-style file?)",
                path.display()
            );
            ids
        }
        _ => Vec::new(),
    };
    let mut out: Box<dyn Write> = if args.output.as_os_str() == "-" {
        Box::new(BufWriter::new(io::stdout().lock()))
    } else {
        let file = File::create(&args.output).with_context(|| format!("cannot create {}", args.output.display()))?;
        Box::new(BufWriter::with_capacity(1 << 20, file))
    };
    let generated = match args.kind {
        GenKind::Yelp => datagen::yelp(&mut out, args.size, args.seed),
        GenKind::Text => datagen::text(&mut out, args.size, args.seed),
        GenKind::YelpReviews => datagen::yelp_reviews(
            &mut out,
            args.size,
            args.seed,
            &business_ids,
            args.malformed_per_mille.unwrap_or(0),
        ),
    };
    let generated = generated
        .and_then(|g| out.flush().map(|()| g))
        .with_context(|| format!("cannot write {}", args.output.display()))?;
    eprintln!("wrote {} records, {} bytes", generated.records, generated.bytes);
    Ok(())
}

/// `mr-run teragen --rows N [--seed S] [--tasks M] [RUN OPTIONS]`: writes
/// one fixed-width `FIRST COUNT` line per map task and runs the map-only
/// teragen job over them, one task per line.
fn teragen(args: Vec<OsString>) -> anyhow::Result<ExitCode> {
    let (mut rows, mut seed, mut tasks) = (None, 0u64, None);
    let mut rest = Vec::new();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let mut value = |name: &str| -> anyhow::Result<u64> {
            let v = args.next().with_context(|| format!("{name} needs a value"))?;
            let text = v.to_string_lossy();
            text.parse().with_context(|| format!("{name}: not a number: {text}"))
        };
        match arg.to_str() {
            Some("--rows") => rows = Some(value("--rows")?),
            Some("--seed") => seed = value("--seed")?,
            Some("--tasks") => tasks = Some(value("--tasks")?),
            _ => rest.push(arg),
        }
    }
    let rows = rows.context("teragen needs --rows N")?;
    // About a million rows (100 MB) per map task by default.
    let tasks = tasks.unwrap_or(rows.div_ceil(1_000_000)).max(1);
    let mut input = tempfile::Builder::new().prefix("teragen-").suffix(".txt").tempfile()?;
    input.write_all(mapreduce_jobs::terasort::teragen_tasks(rows, tasks).as_bytes())?;
    input.flush()?;
    let job = mapreduce_jobs::terasort::teragen(seed);
    let argv = [OsString::from("mr-run teragen"), input.path().as_os_str().to_owned()]
        .into_iter()
        .chain([
            "--block-size".into(),
            mapreduce_jobs::terasort::TASK_LINE_LEN.to_string().into(),
        ])
        .chain(rest);
    Ok(mapreduce::cli::run_with_args(&job, argv))
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    })
}

fn fail(e: anyhow::Error) -> ExitCode {
    eprintln!("error: {e:#}");
    ExitCode::FAILURE
}
