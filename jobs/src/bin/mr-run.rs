//! `mr-run`: runs the jobs in this crate on local files, and generates
//! test data.

use std::ffi::OsString;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
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
}

#[derive(Clone, Copy, ValueEnum)]
enum GenKind {
    /// Yelp-like business.json lines, with the real file's quirks.
    Yelp,
    /// English-like text with a Zipf vocabulary.
    Text,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match cli.command {
        Command::List => {
            let jobs = mapreduce_jobs::all();
            match mapreduce::cli::list(&jobs, &mut io::stdout().lock()) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
                Err(e) => fail(anyhow::Error::new(e)),
            }
        }
        Command::Gen(args) => match generate(&args) {
            Ok(()) => ExitCode::SUCCESS,
            // `mr-run gen ... -o - | head` is a normal way to peek.
            Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
            Err(e) => fail(e),
        },
        Command::Job(args) => {
            let mut args = args.into_iter();
            let name = args.next().unwrap_or_default().to_string_lossy().into_owned();
            let Some(job) = mapreduce_jobs::find(&name) else {
                eprintln!("error: no job named {name:?}; `mr-run list` lists the jobs");
                return ExitCode::from(2);
            };
            let argv = std::iter::once(OsString::from(format!("mr-run {name}"))).chain(args);
            mapreduce::cli::run_with_args(job.as_ref(), argv)
        }
    }
}

fn generate(args: &GenArgs) -> anyhow::Result<()> {
    let mut out: Box<dyn Write> = if args.output.as_os_str() == "-" {
        Box::new(BufWriter::new(io::stdout().lock()))
    } else {
        let file = File::create(&args.output).with_context(|| format!("cannot create {}", args.output.display()))?;
        Box::new(BufWriter::with_capacity(1 << 20, file))
    };
    let generated = match args.kind {
        GenKind::Yelp => datagen::yelp(&mut out, args.size, args.seed),
        GenKind::Text => datagen::text(&mut out, args.size, args.seed),
    };
    let generated = generated
        .and_then(|g| out.flush().map(|()| g))
        .with_context(|| format!("cannot write {}", args.output.display()))?;
    eprintln!("wrote {} records, {} bytes", generated.records, generated.bytes);
    Ok(())
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
