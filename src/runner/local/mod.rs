//! The local runner: the out-of-core, parallel engine (the default).
//!
//! Per step: the input is cut into splits (`plan`: HDFS-style blocks of
//! text files, or block ranges of the previous step's run files); map
//! tasks run on a pool of workers, each collecting its shuffle output
//! through a bounded sort buffer into sorted runs; then one reduce task
//! per partition merges its segment of every map output run and streams
//! each key's values into the reducer. Intermediate data stays in the
//! binary run format in the job directory, one subdirectory per task
//! attempt; only the last step writes text.

pub(in crate::runner) mod plan;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::budget::Budget;
use super::driver::Engine;
use super::{RunConfig, SpillCompression, TextSource};
use crate::api::counters::FrameworkCounters;
use crate::api::step::plan::ShufflePlan;
use crate::error::Result;
use crate::shuffle::PairSink;
use crate::shuffle::collector::{BufferPool, Collector, CollectorConfig};
use crate::shuffle::merge::{Groups, Merger};
use crate::shuffle::run::{Compression, RunCursor, RunFile, RunWriter};
use crate::shuffle::span::Span;
use crate::shuffle::spill::{RunSettings, SpillStats, reduce_input};
use crate::task::reduce::ReduceGroup;
use crate::task::source::{CursorSource, FileSequence, LineSource};
use crate::task::{GroupSource, Outputs, PairOutput, RecordSource, ShuffleSpec, TaskId};
use crate::tracker::jobdir::JobDir;
use plan::{MapInput, binary_inputs, text_inputs};

pub(super) struct Local<'a> {
    config: &'a RunConfig,
    /// Sort buffer, merge fan-in and read buffers, sized from the limits.
    budget: Budget,
    job_dir: JobDir,
    /// Bytes per split, for text and run files alike.
    split_bytes: u64,
    /// Map tasks' sort buffers, passed from each task to the next.
    buffers: Arc<BufferPool>,
}

impl<'a> Local<'a> {
    pub(super) fn new(config: &'a RunConfig, budget: Budget, temp_root: &Path, sources: &[TextSource]) -> Result<Self> {
        Ok(Local {
            config,
            budget,
            job_dir: JobDir::create(temp_root)?,
            split_bytes: plan::split_bytes(config, sources),
            buffers: Arc::default(),
        })
    }

    fn compression(&self) -> Compression {
        match self.config.compress_spills {
            SpillCompression::None => Compression::None,
            SpillCompression::Lz4 => Compression::Lz4,
        }
    }

    fn attempt_dir(&self, task: &TaskId) -> Result<PathBuf> {
        self.job_dir
            .attempt(task.step.index, task.phase_name(), task.index, task.attempt)
    }

    fn run_settings(&self, partitions: u32, by_value: bool) -> RunSettings {
        RunSettings {
            partitions,
            by_value,
            compression: self.compression(),
            fan_in: self.budget.fan_in,
            read_buffer: self.budget.read_buffer,
        }
    }
}

impl Outputs for Local<'_> {
    /// Run files, in order.
    type Output = Vec<PathBuf>;

    /// With typed aggregation, half the sort buffer holds the task's table
    /// and half the collector's buffers, which then only sort and spill.
    fn agg_budget(&self) -> Option<usize> {
        Some(self.budget.sort_buffer as usize / 2)
    }

    fn shuffle_output(&self, task: &TaskId, spec: ShuffleSpec) -> Result<Box<dyn PairOutput<Vec<PathBuf>>>> {
        let sort_buffer = match spec.typed_agg {
            true => self.budget.sort_buffer as usize / 2,
            false => self.budget.sort_buffer as usize,
        };
        let collector = Collector::start(
            CollectorConfig {
                runs: self.run_settings(spec.partitions, spec.by_value),
                sort_buffer,
                dir: self.attempt_dir(task)?,
                merge: spec.merge,
                live_spills: spec.live_spills,
                pool: Some(Arc::clone(&self.buffers)),
            },
            spec.combine,
        )?;
        Ok(Box::new(CollectorOutput(collector)))
    }

    fn pass_output(&self, task: &TaskId) -> Result<Box<dyn PairOutput<Vec<PathBuf>>>> {
        let path = self.attempt_dir(task)?.join("output");
        let writer = RunWriter::create(&path, 1, self.compression())?.unsorted();
        Ok(Box::new(RunOutput { writer, path }))
    }
}

impl Engine for Local<'_> {
    type Split = MapInput;
    /// Every map task's run files, in task order.
    type Shuffled = Vec<PathBuf>;

    fn workers(&self) -> usize {
        self.config.workers
    }

    fn text_splits(&self, sources: Vec<TextSource>) -> Result<Vec<MapInput>> {
        text_inputs(sources, self.split_bytes)
    }

    fn pair_splits(&self, outputs: Vec<Vec<PathBuf>>) -> Result<Vec<MapInput>> {
        let files: Vec<PathBuf> = outputs.into_iter().flatten().collect();
        binary_inputs(&files, self.split_bytes)
    }

    fn open<'a>(&'a self, split: &'a MapInput) -> Result<Box<dyn RecordSource + 'a>> {
        Ok(match split {
            MapInput::Split(split) => Box::new(LineSource::open(split, self.config.max_line_length)?),
            MapInput::Files(splits) => Box::new(FileSequence::open(splits.clone(), self.config.max_line_length)?),
            MapInput::Sample(bytes) => Box::new(LineSource::sample(bytes)),
            MapInput::Blocks { path, first, last } => {
                Box::new(CursorSource(RunFile::open(path)?.block_cursor(*first, *last)?))
            }
        })
    }

    fn shuffle(&self, _shuffle: &ShufflePlan, outputs: Vec<Vec<PathBuf>>) -> Result<Vec<PathBuf>> {
        // The map phase is over: its buffers' memory goes to the reducers.
        self.buffers.clear();
        Ok(outputs.into_iter().flatten().collect())
    }

    fn groups<'a>(
        &'a self,
        task: &TaskId,
        shuffle: &ShufflePlan,
        map_outputs: &'a Vec<PathBuf>,
    ) -> Result<Box<dyn GroupSource + 'a>> {
        let dir = self.attempt_dir(task)?;
        let (mut stats, mut spans) = (SpillStats::default(), Vec::new());
        let settings = self.run_settings(1, shuffle.sort_values());
        let merger = reduce_input(map_outputs, task.index as u32, &settings, &dir, &mut stats, &mut spans)?;
        Ok(Box::new(MergedGroups {
            groups: Groups::new(merger),
            stats,
            spans,
        }))
    }

    fn attempt_failed(&self, task: &TaskId) {
        self.job_dir
            .remove_attempt(task.step.index, task.phase_name(), task.index, task.attempt);
    }

    fn step_done(&self, index: usize) {
        // Step `index` has read what step `index - 1` wrote.
        if index > 0 {
            self.job_dir.remove_step(index - 1);
        }
    }
}

fn add_spill_counters(counters: &mut FrameworkCounters, s: &SpillStats) {
    counters.spilled_records += s.spilled_records;
    counters.spills += s.spills;
    counters.merge_passes += s.merge_passes;
    counters.combine_input_records += s.combine_input;
    counters.combine_output_records += s.combine_output;
}

/// A map task's shuffle output: the sort buffer, spills and map output
/// runs.
struct CollectorOutput(Collector);

impl PairSink for CollectorOutput {
    fn collect(&mut self, partition: u32, key: &[u8], value: &[u8]) -> Result<()> {
        self.0.collect(partition, key, value)
    }
}

impl PairOutput<Vec<PathBuf>> for CollectorOutput {
    fn finish(self: Box<Self>, counters: &mut FrameworkCounters, spans: &mut Vec<Span>) -> Result<Vec<PathBuf>> {
        let out = self.0.finish()?;
        add_spill_counters(counters, &out.stats);
        spans.extend(out.spans);
        Ok(out.runs)
    }
}

/// A task's pairs for the next step: one run file, in emit order.
struct RunOutput {
    writer: RunWriter,
    path: PathBuf,
}

impl PairSink for RunOutput {
    fn collect(&mut self, _partition: u32, key: &[u8], value: &[u8]) -> Result<()> {
        self.writer.push(0, key, value)
    }
}

impl PairOutput<Vec<PathBuf>> for RunOutput {
    fn finish(self: Box<Self>, _counters: &mut FrameworkCounters, _spans: &mut Vec<Span>) -> Result<Vec<PathBuf>> {
        self.writer.finish()?;
        Ok(vec![self.path])
    }
}

/// A reduce task's input: its partition of every map output, merged.
struct MergedGroups {
    groups: Groups<Merger<RunCursor>>,
    /// What the intermediate merges did.
    stats: SpillStats,
    /// When they ran.
    spans: Vec<Span>,
}

impl GroupSource for MergedGroups {
    fn for_each_group(&mut self, reduce: &mut ReduceGroup<'_>) -> Result<()> {
        while self.groups.next_group()? {
            let (key, mut values) = self.groups.group();
            reduce(key, &mut values)?;
        }
        Ok(())
    }

    fn add_counters(&self, counters: &mut FrameworkCounters) {
        counters.reduce_input_records += self.groups.records_read();
        counters.spilled_records += self.stats.spilled_records;
        counters.merge_passes += self.stats.merge_passes;
    }

    fn take_spans(&mut self) -> Vec<Span> {
        std::mem::take(&mut self.spans)
    }
}
