//! Streaming task mode (`JOB --step-num N --mapper|--reducer|--combiner`,
//! mrjob's switches): one task of one step over standard input and output, run
//! by the task core like any other task.
//!
//! - A first step's mapper reads the raw input lines; Hadoop names their
//!   file in `mapreduce_map_input_file`, which becomes the task's input
//!   path and the name in error locations (else `<stdin>`).
//! - A later step's mapper reads pair lines, the previous step's output.
//! - A map-reduce step's mapper writes shuffle lines (partitioned as the
//!   local runner partitions: `--reducers R`, or Hadoop's
//!   `mapreduce_job_reduces`); with `combine_with`, it aggregates in its
//!   own table first (in-mapper combining), so far fewer lines are sorted.
//! - A reducer reads its partition's shuffle lines, sorted in byte order,
//!   and groups them by key itself; a combiner does the same over a map
//!   task's sorted spill and writes shuffle lines, partitions kept.
//! - The last step's tasks write the job's output protocol; others write
//!   pair lines.
//! - `--sample-partitions` and `--sample-pairs` (hidden from `--help`) run
//!   no task: they sample pair lines for a later total-order step's
//!   partition file (`runner::sample`), for `-r spark`'s driver.
//!
//! Counters and the status go to standard error as Hadoop's
//! `reporter:counter:GROUP,NAME,AMOUNT` and `reporter:status:MESSAGE`
//! lines when the task ends; a failed task's error is the caller's to
//! print.

use std::io::{BufWriter, Read, Stdout, Write};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use crate::api::counters::{Counters, FrameworkCounters};
use crate::api::job::AnyJob;
use crate::codec::streaming::{
    Arrival, PartitionFields, input_rank, parse_pair_line, parse_partition_file, parse_shuffle_line, push_pair_line,
    push_shuffle_line,
};
use crate::error::{Error, Phase, Result};
use crate::io::lines::LineReader;
use crate::io::split::SplitReader;
use crate::runner::RunConfig;
use crate::shuffle::buffer::SortBuffer;
use crate::shuffle::span::Span;
use crate::shuffle::spill::Combine;
use crate::shuffle::{PairSink, ValueSource};
use crate::task::combine::CombineTask;
use crate::task::reduce::ReduceGroup;
use crate::task::source::{LineSource, Record};
use crate::task::{
    BadRecords, GroupSource, Outputs, PairOutput, RecordSource, ShuffleSpec, StepContext, StepId, TaskId, TaskOutcome,
    TextOutput, map_task, reduce_task,
};

/// Which task of a step to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TaskKind {
    /// The step's map stage.
    Mapper,
    /// The step's reduce stage.
    Reducer,
    /// The step's combiner, over sorted shuffle lines (Hadoop's
    /// `-combiner`, run on a map task's sorted spills).
    Combiner,
    /// Not a task: a total-order step's boundaries (`--sample-partitions`,
    /// on a step after the first), sampled from the previous step's output
    /// pair lines (all of them, or the union of samples of its parts) and
    /// written as its partition file.
    SamplePartitions,
    /// Not a task: the sample of the pair lines read (`--sample-pairs`),
    /// written as pair lines: a part's share of `SamplePartitions`' input.
    SamplePairs,
}

/// One Streaming task: the step (0-based, as mrjob counts) and its kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskMode {
    /// 0-based step number.
    pub step: usize,
    /// Mapper or reducer.
    pub kind: TaskKind,
    /// A total-order step's range boundaries (see `codec::streaming`),
    /// sampled by the runner before the job.
    pub partition_file: Option<PathBuf>,
}

/// Runs one Streaming task of `job` over `input`, writing its lines to
/// standard output and its counters to `report` (standard error).
pub fn run_task(
    job: &dyn AnyJob,
    mode: TaskMode,
    config: &RunConfig,
    input: Box<dyn Read + Send>,
    report: &mut dyn Write,
) -> Result<()> {
    let plan = job.plan();
    let step = plan.steps.get(mode.step).ok_or_else(|| {
        Error::Config(format!(
            "--step-num {}: job {} has {} step(s), numbered from 0",
            mode.step,
            plan.name,
            plan.steps.len()
        ))
    })?;
    let reducers = env_number("mapreduce_job_reduces").map_or(config.reducers, |n| n.max(1) as u32);
    if matches!(mode.kind, TaskKind::SamplePartitions | TaskKind::SamplePairs) {
        let pairs = mode.kind == TaskKind::SamplePairs;
        let file = crate::runner::sample::sample_task(plan, mode.step, config, reducers, input, pairs)?;
        let mut out = std::io::stdout().lock();
        return out
            .write_all(&file)
            .and_then(|()| out.flush())
            .map_err(|e| Error::io("<stdout>", e));
    }
    if mode.kind != TaskKind::Mapper && step.shuffle.is_none() {
        return Err(Error::Config(format!(
            "--step-num {} --{}: step {} of job {} is map-only",
            mode.step,
            if mode.kind == TaskKind::Reducer {
                "reducer"
            } else {
                "combiner"
            },
            mode.step,
            plan.name
        )));
    }
    let ranges = match (
        &mode.partition_file,
        step.total_order() && mode.kind == TaskKind::Mapper,
    ) {
        (Some(path), true) => {
            let text = std::fs::read(path).map_err(|e| Error::io(path, e))?;
            Some(Arc::new(parse_partition_file(&text).map_err(|e| match e {
                Error::Codec(m) => Error::Codec(format!("{}: {m}", path.display())),
                other => other,
            })?))
        }
        (None, true) => {
            return Err(Error::Config(format!(
                "step {} of job {} partitions by total order: its mapper needs --partition-file FILE (the sampled boundaries)",
                mode.step, plan.name
            )));
        }
        (_, false) => None,
    };
    let bad = BadRecords::new(config.skip_bad_records);
    let id = StepId {
        index: mode.step,
        count: plan.steps.len(),
    };
    let env = crate::runner::job_env(plan, config)?;
    let cx = StepContext {
        env: &env,
        step,
        id,
        last: mode.step + 1 == plan.steps.len(),
        reducers,
        protocol: plan.protocol,
        output: None,
        ranges,
        bad: &bad,
    };
    let task = TaskId {
        step: id,
        phase: match mode.kind {
            TaskKind::Mapper | TaskKind::SamplePartitions | TaskKind::SamplePairs => Phase::Map,
            TaskKind::Reducer => Phase::Reduce,
            TaskKind::Combiner => Phase::Combine,
        },
        index: env_number("mapreduce_task_partition").unwrap_or(0) as usize,
        attempt: 1,
    };
    let parts = Arc::new(PartitionFields::new(reducers));
    let arrival = step.shuffle.as_ref().is_some_and(|s| !s.sort_values());
    let outputs = StreamOutputs {
        agg_budget: (config.sort_buffer / 2) as usize,
        parts: Arc::clone(&parts),
        arrival: match (arrival, mode.kind) {
            (true, TaskKind::Mapper) => Some(task_arrival()?),
            _ => None,
        },
    };
    let outcome = match mode.kind {
        TaskKind::Mapper if mode.step == 0 => {
            // Hadoop names the file whose lines these are, and where its
            // split starts.
            let path = std::env::var("mapreduce_map_input_file").ok().map(|f| local_path(&f));
            let name = path.clone().unwrap_or_else(|| PathBuf::from("<stdin>"));
            let start = env_number("mapreduce_map_input_start").unwrap_or(0);
            let reader = SplitReader::streamed(input, name, start, config.max_line_length);
            let mut source = LineSource::from_reader(reader, path.map(Arc::new), task_input_name()?);
            map_task(&cx, &outputs, task, &mut source, None)?
        }
        TaskKind::Mapper => map_task(&cx, &outputs, task, &mut PairLines::new(input), None)?,
        TaskKind::Reducer => reduce_task(
            &cx,
            &outputs,
            task,
            &mut ShuffleGroups::new(input, parts, arrival),
            None,
        )?,
        TaskKind::Combiner => combine_task(&cx, task, input, parts, arrival)?,
        TaskKind::SamplePartitions | TaskKind::SamplePairs => {
            return Err(Error::Internal("the sampler runs no task".into()));
        }
    };
    report_counters(report, &outcome.framework, &outcome.user, step.shuffle.is_some())?;
    if let Some(status) = outcome.status {
        writeln!(report, "reporter:status:{status}").map_err(|e| Error::io("<stderr>", e))?;
    }
    Ok(())
}

/// Runs the step's combiner over sorted shuffle lines, writing shuffle
/// lines: each group's output keeps its partition.
fn combine_task(
    cx: &StepContext<'_>,
    task: TaskId,
    input: Box<dyn Read + Send>,
    parts: Arc<PartitionFields>,
    arrival: bool,
) -> Result<TaskOutcome<()>> {
    let shuffle = cx
        .step
        .shuffle
        .as_ref()
        .ok_or_else(|| Error::Internal("a combiner of a map-only step".into()))?;
    let new = shuffle.combining.combiner().ok_or_else(|| {
        Error::Config(format!(
            "--step-num {} --combiner: the step has no combiner",
            cx.id.index
        ))
    })?;
    let user = Arc::new(Mutex::new(Counters::default()));
    let mut combine = CombineTask::new(new(), cx.id, task.index, cx.reducers, shuffle.values, Arc::clone(&user));
    let mut groups = ShuffleGroups::new(input, Arc::clone(&parts), arrival);
    let mut out = LineOutput::new(Some(parts), None);
    // A combined value keeps its group's first arrival position.
    let mut first_seq = Vec::new();
    let mut staged = SortBuffer::new();
    let mut framework = FrameworkCounters::default();
    if groups.reader.advance()? {
        while groups.reader.pending {
            groups.key.clear();
            groups.key.extend_from_slice(&groups.reader.key);
            let partition = groups.reader.partition;
            first_seq.clear();
            first_seq.extend_from_slice(&groups.reader.seq);
            let mut values = LineValues {
                reader: &mut groups.reader,
                key: &groups.key,
                first: true,
                done: false,
            };
            combine.combine(partition, &groups.key, &mut values, &mut staged)?;
            while let Some(v) = values.next_value() {
                v?;
            }
            for i in 0..staged.len() {
                let (p, k, v) = staged.get(i);
                out.write_line(p, k, arrival.then_some(first_seq.as_slice()), v)?;
            }
            framework.combine_output_records += staged.len() as u64;
            staged.clear();
        }
    }
    framework.combine_input_records += groups.reader.records;
    Box::new(out).finish(&mut framework, &mut Vec::new())?;
    // The combiner hands its counters over when dropped.
    drop(combine);
    let user = user.lock().map(|c| c.clone()).unwrap_or_default();
    Ok(TaskOutcome {
        output: None,
        framework,
        spans: Vec::new(),
        user,
        status: None,
    })
}

fn env_number(name: &str) -> Option<u64> {
    std::env::var(name).ok()?.trim().parse().ok()
}

/// The path a task's input file names: a local file's URI
/// (`file:/data/x`, `file:///data/x`), as Hadoop names local files, is
/// its path, so a job sees the same path under every runner; other URIs
/// stay as they are.
fn local_path(file: &str) -> PathBuf {
    match file.strip_prefix("file:") {
        Some(rest) => {
            let rest = rest
                .strip_prefix("//")
                .map_or(rest, |r| &r[r.find('/').unwrap_or(r.len())..]);
            PathBuf::from(rest)
        }
        None => PathBuf::from(file),
    }
}

/// Where this map task's records arrive in the job, from what Hadoop
/// (or the runner) sets: the file, the split's start, and the job's
/// inputs as the user listed them (`-D mr.run.inputs=JSON`, which
/// Streaming exports as `mr_run_inputs`).
fn task_arrival() -> Result<Arrival> {
    let file = std::env::var("mapreduce_map_input_file").unwrap_or_default();
    let start = env_number("mapreduce_map_input_start").unwrap_or(0);
    let inputs: Vec<String> = match std::env::var("mr_run_inputs") {
        Ok(json) => serde_json::from_str(&json)
            .map_err(|e| Error::Config(format!("mr_run_inputs is not a JSON list of paths: {e}")))?,
        Err(_) => Vec::new(),
    };
    Ok(Arrival::new(input_rank(&inputs, &file), file.as_bytes(), start))
}

/// The named input (`--input NAME=PATH`) this first-step map task
/// reads: `mr_run_input` when the runner sets it per task (the local
/// Streaming runner, which may feed standard input), else the name of the
/// job input the file belongs to (`mr_run_input_names`, in the order of
/// `mr_run_inputs`: Hadoop cannot set a variable per task).
fn task_input_name() -> Result<Option<Arc<str>>> {
    if let Ok(name) = std::env::var("mr_run_input") {
        return Ok(Some(Arc::from(name)));
    }
    let Ok(names) = std::env::var("mr_run_input_names") else {
        return Ok(None);
    };
    let names: Vec<String> = serde_json::from_str(&names)
        .map_err(|e| Error::Config(format!("mr_run_input_names is not a JSON list of names: {e}")))?;
    let file = std::env::var("mapreduce_map_input_file").unwrap_or_default();
    let inputs: Vec<String> = match std::env::var("mr_run_inputs") {
        Ok(json) => serde_json::from_str(&json)
            .map_err(|e| Error::Config(format!("mr_run_inputs is not a JSON list of paths: {e}")))?,
        Err(_) => Vec::new(),
    };
    let rank = input_rank(&inputs, &file) as usize;
    match names.get(rank) {
        Some(name) => Ok(Some(Arc::from(name.as_str()))),
        None => Err(Error::Config(format!(
            "{file}: not one of the job's named inputs ({})",
            inputs.join(", ")
        ))),
    }
}

/// Writes the task's counters as Hadoop Streaming's reporter lines.
fn report_counters(
    out: &mut dyn Write,
    framework: &FrameworkCounters,
    user: &Counters,
    has_reduce: bool,
) -> Result<()> {
    let mut all = user.clone();
    framework.report_into(&mut all, has_reduce);
    // Hadoop sums every task's counters: a zero adds nothing.
    for (group, name, value) in all.iter().filter(|c| c.2 != 0) {
        // Commas separate the fields: a name holding one would be misread.
        let (group, name) = (group.replace(',', ";"), name.replace(',', ";"));
        writeln!(out, "reporter:counter:{group},{name},{value}").map_err(|e| Error::io("<stderr>", e))?;
    }
    Ok(())
}

/// A later step's input: pair lines.
struct PairLines {
    lines: LineReader<Box<dyn Read + Send>>,
    key: Vec<u8>,
    value: Vec<u8>,
}

impl PairLines {
    fn new(input: Box<dyn Read + Send>) -> Self {
        PairLines {
            lines: LineReader::new(input, "<stdin>"),
            key: Vec::new(),
            value: Vec::new(),
        }
    }
}

impl RecordSource for PairLines {
    fn next_record(&mut self) -> Result<Option<Record<'_>>> {
        let Some(line) = self.lines.next_line()? else {
            return Ok(None);
        };
        parse_pair_line(line.bytes, &mut self.key, &mut self.value).map_err(|e| at_line(e, line.number))?;
        Ok(Some(Record::Pair {
            key: &self.key,
            value: &self.value,
        }))
    }
}

fn at_line(e: Error, line: u64) -> Error {
    match e {
        Error::Codec(m) => Error::Codec(format!("standard input, line {line}: {m}")),
        other => other,
    }
}

/// A reducer's input: sorted shuffle lines, grouped by key.
struct ShuffleGroups {
    reader: ShuffleReader,
    key: Vec<u8>,
}

struct ShuffleReader {
    lines: LineReader<Box<dyn Read + Send>>,
    parts: Arc<PartitionFields>,
    /// The last line read, decoded.
    key: Vec<u8>,
    value: Vec<u8>,
    /// The last line's partition.
    partition: u32,
    /// Whether lines carry `SEQ` (arrival order), and the last line's.
    arrival: bool,
    seq: Vec<u8>,
    /// Whether `key`/`value` hold a record not yet handed out.
    pending: bool,
    records: u64,
}

impl ShuffleReader {
    /// Reads the next line into `key`/`value`; false at the end.
    fn advance(&mut self) -> Result<bool> {
        let Some(line) = self.lines.next_line()? else {
            self.pending = false;
            return Ok(false);
        };
        self.partition = parse_shuffle_line(
            line.bytes,
            &self.parts,
            self.arrival,
            &mut self.key,
            &mut self.value,
            &mut self.seq,
        )
        .map_err(|e| at_line(e, line.number))?;
        self.records += 1;
        self.pending = true;
        Ok(true)
    }
}

impl ShuffleGroups {
    fn new(input: Box<dyn Read + Send>, parts: Arc<PartitionFields>, arrival: bool) -> Self {
        ShuffleGroups {
            reader: ShuffleReader {
                lines: LineReader::new(input, "<stdin>"),
                parts,
                key: Vec::new(),
                value: Vec::new(),
                partition: 0,
                arrival,
                seq: Vec::new(),
                pending: false,
                records: 0,
            },
            key: Vec::new(),
        }
    }
}

/// One key's values, read on from the stream while the key stays.
struct LineValues<'a> {
    reader: &'a mut ShuffleReader,
    key: &'a [u8],
    /// The group's first value is already in the reader.
    first: bool,
    done: bool,
}

impl ValueSource for LineValues<'_> {
    fn next_value(&mut self) -> Option<Result<&[u8]>> {
        if self.done {
            return None;
        }
        if self.first {
            self.first = false;
            self.reader.pending = false;
            return Some(Ok(&self.reader.value));
        }
        match self.reader.advance() {
            Ok(true) if self.reader.key == self.key => {
                self.reader.pending = false;
                Some(Ok(&self.reader.value))
            }
            Ok(_) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

impl GroupSource for ShuffleGroups {
    fn for_each_group(&mut self, reduce: &mut ReduceGroup<'_>) -> Result<()> {
        if !self.reader.advance()? {
            return Ok(());
        }
        while self.reader.pending {
            self.key.clear();
            self.key.extend_from_slice(&self.reader.key);
            let mut values = LineValues {
                reader: &mut self.reader,
                key: &self.key,
                first: true,
                done: false,
            };
            reduce(&self.key, &mut values)?;
            // What the reducer left unread of its group.
            while let Some(v) = values.next_value() {
                v?;
            }
        }
        Ok(())
    }

    fn add_counters(&self, counters: &mut FrameworkCounters) {
        counters.reduce_input_records += self.reader.records;
    }
}

/// Where a Streaming task writes: standard output.
struct StreamOutputs {
    agg_budget: usize,
    parts: Arc<PartitionFields>,
    /// A map task's arrival positions, for an arrival-order step.
    arrival: Option<Arrival>,
}

impl Outputs for StreamOutputs {
    type Output = ();

    fn agg_budget(&self) -> Option<usize> {
        Some(self.agg_budget)
    }

    fn shuffle_output(&self, _task: &TaskId, _spec: ShuffleSpec) -> Result<Box<dyn PairOutput<()>>> {
        // A combiner runs as Hadoop's own `-combiner` task, on sorted
        // spills; typed aggregation has already run in the mapper.
        Ok(Box::new(LineOutput::new(
            Some(Arc::clone(&self.parts)),
            self.arrival.clone(),
        )))
    }

    fn pass_output(&self, _task: &TaskId) -> Result<Box<dyn PairOutput<()>>> {
        Ok(Box::new(LineOutput::new(None, None)))
    }

    fn text_output(&self, _cx: &StepContext<'_>, _task: &TaskId) -> Result<Box<dyn TextOutput>> {
        Ok(Box::new(StdoutText {
            out: BufWriter::with_capacity(1 << 16, std::io::stdout()),
            bytes: 0,
        }))
    }
}

/// Shuffle lines (with the partition tokens) or pair lines on standard
/// output.
struct LineOutput {
    out: BufWriter<Stdout>,
    line: Vec<u8>,
    shuffle: Option<Arc<PartitionFields>>,
    arrival: Option<Arrival>,
}

impl LineOutput {
    fn new(shuffle: Option<Arc<PartitionFields>>, arrival: Option<Arrival>) -> Self {
        LineOutput {
            out: BufWriter::with_capacity(1 << 16, std::io::stdout()),
            line: Vec::new(),
            shuffle,
            arrival,
        }
    }

    /// Writes a shuffle line (or, without partitions, a pair line) with
    /// the `SEQ` given.
    fn write_line(&mut self, partition: u32, key: &[u8], seq: Option<&[u8]>, value: &[u8]) -> Result<()> {
        self.line.clear();
        match &self.shuffle {
            Some(parts) => push_shuffle_line(&mut self.line, parts, partition, key, seq, value),
            None => push_pair_line(&mut self.line, key, value),
        }
        self.out.write_all(&self.line).map_err(|e| Error::io("<stdout>", e))
    }
}

impl PairSink for LineOutput {
    fn collect(&mut self, partition: u32, key: &[u8], value: &[u8]) -> Result<()> {
        match self.arrival.take() {
            Some(mut arrival) => {
                let result = self.write_line(partition, key, Some(arrival.next_seq()), value);
                self.arrival = Some(arrival);
                result
            }
            None => self.write_line(partition, key, None, value),
        }
    }
}

impl PairOutput<()> for LineOutput {
    fn finish(mut self: Box<Self>, _counters: &mut FrameworkCounters, _spans: &mut Vec<Span>) -> Result<()> {
        self.out.flush().map_err(|e| Error::io("<stdout>", e))
    }
}

/// The job's output on standard output.
struct StdoutText {
    out: BufWriter<Stdout>,
    bytes: u64,
}

impl Write for StdoutText {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.out.write(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

impl TextOutput for StdoutText {
    fn finish(mut self: Box<Self>) -> Result<u64> {
        self.out.flush().map_err(|e| Error::io("<stdout>", e))?;
        Ok(self.bytes)
    }
}
