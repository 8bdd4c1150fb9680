//! `-r streaming`: the job as Hadoop Streaming runs it, on this machine.
//! Every task is a separate process of the job binary in task mode
//! (`--step-num N --mapper|--reducer`), fed and drained through pipes;
//! between map and reduce, GNU `sort` orders the map outputs' shuffle
//! lines in byte order (`LC_ALL=C`, stably, map outputs in task order),
//! as Hadoop's shuffle orders `Text` keys, and the sorted lines are cut
//! into one input per reduce task by Hadoop's `KeyFieldBasedPartitioner`
//! rule on their partition field. It is the
//! conformance harness for the Streaming protocol: its output must equal
//! the local runner's byte for byte.
//!
//! A first step runs one map task per split, the local runner's splits
//! (decompressed and cut at lines for the task, as Hadoop's record reader
//! does, with `mapreduce_map_input_file` naming the file); later steps
//! run one per previous task output. Task counters and statuses come back
//! as the reporter lines on the task's standard error; a failed task's
//! error is the paragraph it printed there, retried only if its exit
//! status says a retry may help.

use std::ffi::OsString;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Instant;

use super::super::{RunConfig, StepReport, TextSource};
use crate::api::counters::Counters;
use crate::api::job::JobPlan;
use crate::codec::streaming::partition_file;
use crate::error::{Error, Phase, Result};
use crate::io::input::Stamp;
use crate::io::output::OutputDir;
use crate::io::split::{Split, SplitReader, named_splits};
use crate::tracker::jobdir::JobDir;
use crate::tracker::pool::run_tasks;
use crate::tracker::progress::PhaseBar;

/// What a task process reads on its standard input.
enum TaskInput {
    /// A file as it is (the previous step's lines, a plain input file).
    File(PathBuf),
    /// A split of a first-step input: its lines, decoded and cut as the
    /// local runner cuts them, fed line by line.
    Split(Split),
    /// The built-in sample.
    Bytes(Arc<Vec<u8>>),
}

/// Where a task process's standard output goes.
enum TaskOutput {
    File(PathBuf),
    /// The job's part file with this index.
    Part(usize),
}

/// What a finished task reported.
struct Reported {
    counters: Counters,
    status: Option<String>,
}

/// Everything the step loop shares.
struct Pipeline<'a> {
    command: Vec<OsString>,
    config: &'a RunConfig,
    output: &'a OutputDir,
    job_dir: JobDir,
    steps: usize,
    /// The running step's total-order boundaries, if it has them.
    partition_file: Option<PathBuf>,
    /// The job's input files in order, as JSON (`mr_run_inputs`): they
    /// rank the map tasks' arrival positions.
    inputs_json: String,
}

/// Runs every step of `plan` as Streaming task processes.
pub(crate) fn run_steps(
    plan: &JobPlan,
    sources: Vec<TextSource>,
    config: &RunConfig,
    output: &OutputDir,
    temp_root: &Path,
    stamps: &[Stamp],
) -> Result<Vec<StepReport>> {
    let command = config.task_command()?;
    let job_dir = JobDir::create(temp_root)?;
    // Total order: the boundaries are sampled here, before the step (a
    // later step's from the previous step's output), and every map task
    // of the step reads them.
    let partition_file = match crate::runner::sample::ranges(plan, &sources, config)? {
        Some(bounds) => {
            let path = job_dir.attempt(0, "sample", 0, 1)?.join("partitions");
            std::fs::write(&path, partition_file(&bounds)).map_err(|e| Error::io(&path, e))?;
            Some(path)
        }
        None => None,
    };
    let files: Vec<String> = sources
        .iter()
        .filter_map(|s| match s {
            TextSource::Input(src, _) => src.path().map(|p| p.to_string_lossy().into_owned()),
            TextSource::Sample(_) => None,
        })
        .collect();
    let inputs_json = serde_json::to_string(&files).map_err(|e| Error::Internal(e.to_string()))?;
    let mut pipeline = Pipeline {
        command,
        config,
        output,
        job_dir,
        steps: plan.steps.len(),
        partition_file,
        inputs_json,
    };
    // Map tasks on the local runner's splits, so a key's values arrive
    // in the same task order.
    let split_bytes = crate::runner::local::plan::split_bytes(config, &sources);
    let mut inputs: Vec<(TaskInput, Option<PathBuf>)> = Vec::new();
    for source in sources {
        match source {
            TextSource::Sample(bytes) => inputs.push((TaskInput::Bytes(bytes), None)),
            TextSource::Input(src, input) => {
                let name = src.path().map(Path::to_path_buf);
                for split in named_splits(&src, input.as_ref(), split_bytes)? {
                    inputs.push((TaskInput::Split(split), name.clone()));
                }
            }
        }
    }
    let mut reports = Vec::with_capacity(plan.steps.len());
    for (index, step) in plan.steps.iter().enumerate() {
        let last = index + 1 == plan.steps.len();
        let mut report = StepReport::default();
        let started = Instant::now();
        let map_out = |task: usize, attempt: u32| -> Result<TaskOutput> {
            Ok(match (last, step.shuffle.is_some()) {
                (true, false) => TaskOutput::Part(task),
                _ => TaskOutput::File(pipeline.job_dir.attempt(index, "map", task, attempt)?.join("output")),
            })
        };
        let maps = pipeline.phase(index, Phase::Map, &inputs, map_out)?;
        if index == 0 {
            super::super::check_unchanged(stamps)?;
        } else {
            // Read by every map task: no retry needs them any more.
            pipeline.job_dir.remove_step(index - 1);
        }
        report.map_seconds = started.elapsed().as_secs_f64();
        let map_files = report.add(maps);
        let outputs = match &step.shuffle {
            None => map_files,
            Some(_) => {
                let started = Instant::now();
                let dir = pipeline.job_dir.attempt(index, "shuffle", 0, 1)?;
                let parts = pipeline.shuffle(&map_files, &dir)?;
                let reduce_inputs: Vec<(TaskInput, Option<PathBuf>)> =
                    parts.into_iter().map(|p| (TaskInput::File(p), None)).collect();
                let reduce_out = |task: usize, attempt: u32| -> Result<TaskOutput> {
                    Ok(match last {
                        true => TaskOutput::Part(task),
                        false => {
                            TaskOutput::File(pipeline.job_dir.attempt(index, "reduce", task, attempt)?.join("output"))
                        }
                    })
                };
                let reduces = pipeline.phase(index, Phase::Reduce, &reduce_inputs, reduce_out)?;
                pipeline.job_dir.remove_attempt(index, "shuffle", 0, 1);
                report.reduce_seconds = started.elapsed().as_secs_f64();
                report.add(reduces)
            }
        };
        report.seconds = report.map_seconds + report.reduce_seconds;
        reports.push(report);
        // A later step's map task names its file, which orders its
        // records' arrival as the previous task's index does.
        inputs = outputs
            .into_iter()
            .flatten()
            .map(|p| (TaskInput::File(p.clone()), Some(p)))
            .collect();
        pipeline.partition_file = match plan.steps.get(index + 1).filter(|s| s.total_order()) {
            Some(_) => {
                let mut sample = crate::runner::sample::PairSample::new();
                for (input, _) in &inputs {
                    if let TaskInput::File(p) = input {
                        sample.push_lines(File::open(p).map_err(|e| Error::io(p, e))?, p)?;
                    }
                }
                let bounds = sample.bounds(plan, index + 1, config, config.reducers)?;
                let path = pipeline.job_dir.attempt(index + 1, "sample", 0, 1)?.join("partitions");
                let bytes = crate::codec::streaming::partition_file(&bounds);
                std::fs::write(&path, bytes).map_err(|e| Error::io(&path, e))?;
                Some(path)
            }
            None => None,
        };
    }
    Ok(reports)
}

impl StepReport {
    /// Adds a phase's task reports; returns their output files in order.
    fn add(&mut self, tasks: Vec<(Option<PathBuf>, Reported)>) -> Vec<Option<PathBuf>> {
        tasks
            .into_iter()
            .map(|(file, r)| {
                self.counters.merge(&r.counters);
                self.statuses.extend(r.status);
                file
            })
            .collect()
    }
}

impl Pipeline<'_> {
    /// Runs one task process per input on the pool, with retries.
    fn phase(
        &self,
        step: usize,
        phase: Phase,
        inputs: &[(TaskInput, Option<PathBuf>)],
        output: impl Fn(usize, u32) -> Result<TaskOutput> + Sync,
    ) -> Result<Vec<(Option<PathBuf>, Reported)>> {
        let name = if phase == Phase::Map { "map" } else { "reduce" };
        let bar = PhaseBar::new(
            self.config.progress,
            format!("step {}/{} {name}", step + 1, self.steps),
            inputs.len(),
            None,
        );
        run_tasks(
            inputs.len(),
            self.config.workers,
            self.config.max_attempts,
            |task, attempt| {
                let out = output(task, attempt)?;
                let (input, file) = &inputs[task];
                let result = self.task(step, phase, task, input, file.as_deref(), &out);
                if result.is_err() {
                    self.job_dir.remove_attempt(step, name, task, attempt);
                }
                let file = match out {
                    TaskOutput::File(p) => Some(p),
                    TaskOutput::Part(_) => None,
                };
                result.map(|r| (file, r))
            },
            &|| bar.inc(),
        )
    }

    /// Runs one task process to its end.
    fn task(
        &self,
        step: usize,
        phase: Phase,
        task: usize,
        input: &TaskInput,
        input_file: Option<&Path>,
        output: &TaskOutput,
    ) -> Result<Reported> {
        let program = &self.command[0];
        let mut cmd = Command::new(program);
        cmd.args(&self.command[1..])
            .arg("--step-num")
            .arg(step.to_string())
            .arg(if phase == Phase::Map { "--mapper" } else { "--reducer" })
            .arg("--reducers")
            .arg(self.config.reducers.to_string())
            .arg("--skip-bad-records")
            .arg(self.config.skip_bad_records.to_string())
            .arg("--max-line-length")
            .arg(self.config.max_line_length.to_string())
            .args(
                self.config
                    .cluster
                    .jobconf
                    .iter()
                    .flat_map(|(k, v)| ["-D".to_owned(), format!("{k}={v}")]),
            )
            .args(self.config.task_options(|_, path| {
                std::path::absolute(path).map_or_else(|_| path.display().to_string(), |p| p.display().to_string())
            }))
            .env("mapreduce_task_partition", task.to_string())
            .env("mr_run_inputs", &self.inputs_json)
            .env_remove("mapreduce_map_input_file")
            .env_remove("mapreduce_map_input_start")
            .env_remove("mr_run_input")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(f) = input_file {
            cmd.env("mapreduce_map_input_file", f);
        }
        if let TaskInput::Split(split) = input {
            cmd.env("mapreduce_map_input_start", split.start.to_string());
            // Standard input has no file to tell its named input by.
            if let Some(name) = &split.input {
                cmd.env("mr_run_input", &**name);
            }
        }
        if let (Phase::Map, Some(p)) = (phase, &self.partition_file) {
            cmd.arg("--partition-file").arg(p);
        }
        super::sort::die_with_runner(&mut cmd);
        let program_name = Path::new(program).display().to_string();
        let stdin = match input {
            TaskInput::File(path) => Stdio::from(File::open(path).map_err(|e| Error::io(path, e))?),
            _ => Stdio::piped(),
        };
        cmd.stdin(stdin);
        let mut child = cmd.spawn().map_err(|e| Error::io(&program_name, e))?;
        let feeder = match input {
            TaskInput::File(_) => None,
            TaskInput::Split(split) => {
                let mut reader = SplitReader::open(split, self.config.max_line_length)?;
                let mut stdin = child.stdin.take();
                Some(std::thread::spawn(move || -> Result<()> {
                    if let Some(stdin) = stdin.take() {
                        feed_split(&mut reader, stdin)?;
                    }
                    Ok(())
                }))
            }
            TaskInput::Bytes(bytes) => {
                let bytes = Arc::clone(bytes);
                let mut stdin = child.stdin.take();
                Some(std::thread::spawn(move || -> Result<()> {
                    if let Some(stdin) = stdin.as_mut() {
                        copy_to_task(&mut bytes.as_slice(), stdin, Path::new("<built-in sample>"))?;
                    }
                    Ok(())
                }))
            }
        };
        let stderr = child.stderr.take();
        let reporter = std::thread::spawn(move || read_reporter(stderr));
        let copied = match child.stdout.take() {
            Some(mut out) => self.drain(&mut out, output),
            None => Err(Error::Internal("a task process without a standard output".into())),
        };
        let status = child.wait().map_err(|e| Error::io(&program_name, e))?;
        let (reported, message) = reporter
            .join()
            .map_err(|_| Error::Internal("the thread reading a task's stderr panicked".into()))?;
        let fed = match feeder {
            Some(f) => f
                .join()
                .map_err(|_| Error::Internal("the thread feeding a task panicked".into()))?,
            None => Ok(()),
        };
        if !status.success() {
            let code = status.code().unwrap_or(-1);
            return Err(Error::TaskProcess {
                step: step + 1,
                steps: self.steps,
                phase,
                task,
                status: code,
                message: if message.is_empty() {
                    "the task printed no error".into()
                } else {
                    message
                },
                retryable: code != 2,
            });
        }
        copied?;
        fed?;
        Ok(reported)
    }

    /// Copies a task's standard output to where it goes.
    fn drain(&self, out: &mut dyn Read, to: &TaskOutput) -> Result<()> {
        match to {
            TaskOutput::File(path) => {
                let file = File::create(path).map_err(|e| Error::io(path, e))?;
                let mut w = BufWriter::with_capacity(1 << 16, file);
                std::io::copy(out, &mut w).map_err(|e| Error::io(path, e))?;
                w.flush().map_err(|e| Error::io(path, e))
            }
            TaskOutput::Part(index) => {
                let mut part = self.output.part(*index)?;
                std::io::copy(out, &mut part).map_err(|e| Error::io(part.path(), e))?;
                part.finish().map(|_| ())
            }
        }
    }

    /// Sorts the map outputs' shuffle lines (GNU `sort`, byte order of
    /// their three key fields, as Hadoop compares them) and cuts them
    /// into one file per partition.
    fn shuffle(&self, map_files: &[Option<PathBuf>], dir: &Path) -> Result<Vec<PathBuf>> {
        let files: Vec<&Path> = map_files.iter().flatten().map(PathBuf::as_path).collect();
        super::sort::sort_and_cut(
            &files,
            dir,
            self.config.sort_buffer,
            self.config.workers,
            self.config.reducers,
        )
    }
}

/// Writes a split's lines, each ended by `\n`, into a task's stdin; a
/// task that stops reading early (a broken pipe) is its own business,
/// reported by its exit status.
fn feed_split(reader: &mut SplitReader, stdin: std::process::ChildStdin) -> Result<()> {
    let mut out = BufWriter::with_capacity(1 << 16, stdin);
    let name = reader.name().to_path_buf();
    let broken = |e: std::io::Error| match e.kind() {
        std::io::ErrorKind::BrokenPipe => Ok(()),
        _ => Err(Error::io(&name, e)),
    };
    while let Some(line) = reader.next_line()? {
        if let Err(e) = out.write_all(line.bytes).and_then(|()| out.write_all(b"\n")) {
            return broken(e);
        }
    }
    out.flush().or_else(broken)
}

/// Copies `from` into a task's stdin; a task that stops reading early (a
/// broken pipe) is its own business, reported by its exit status.
fn copy_to_task(from: &mut dyn Read, to: &mut dyn Write, name: &Path) -> Result<()> {
    match std::io::copy(from, to) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Error::io(name, e)),
    }
}

/// Reads a task's stderr: its reporter lines, and the rest as its message.
fn read_reporter(stderr: Option<std::process::ChildStderr>) -> (Reported, String) {
    let mut reported = Reported {
        counters: Counters::default(),
        status: None,
    };
    let mut message = Vec::new();
    let Some(stderr) = stderr else {
        return (reported, String::new());
    };
    for line in BufReader::new(stderr).lines() {
        let Ok(line) = line else { break };
        if let Some(counter) = line.strip_prefix("reporter:counter:") {
            let mut fields = counter.rsplitn(2, ',');
            let amount = fields.next().and_then(|a| a.trim().parse::<i64>().ok());
            let rest = fields.next().and_then(|r| r.split_once(','));
            if let (Some(amount), Some((group, name))) = (amount, rest) {
                reported.counters.add(group, name, amount);
                continue;
            }
        } else if let Some(status) = line.strip_prefix("reporter:status:") {
            reported.status = Some(status.to_owned());
            continue;
        }
        message.push(line.strip_prefix("error: ").unwrap_or(&line).to_owned());
    }
    (reported, message.join("\n"))
}
