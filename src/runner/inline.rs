//! The inline runner: one thread, everything in memory, for debugging and
//! small inputs; the reference the local runner must match byte for byte.
//!
//! Each step runs one map task per input (a whole file, standard input,
//! or a previous task's output); a map task's shuffle output is an
//! in-memory buffer on which the combiner runs when the task ends, as one
//! spill would; the shuffle stably sorts every map output by (partition,
//! key) and each reduce task walks its partition's groups. Because the
//! sort is stable and map outputs are taken in task order, a reducer sees
//! a key's values in input order: the order the local runner's merges
//! keep.

use std::sync::Arc;

use super::TextSource;
use super::driver::Engine;
use crate::api::counters::FrameworkCounters;
use crate::api::step::plan::ShufflePlan;
use crate::error::Result;
use crate::io::split::named_splits;
use crate::shuffle::PairSink;
use crate::shuffle::buffer::{GroupValues, SortBuffer};
use crate::shuffle::span::Span;
use crate::shuffle::spill::Combine;
use crate::task::reduce::ReduceGroup;
use crate::task::source::{BufferSource, LineSource};
use crate::task::{GroupSource, Outputs, PairOutput, RecordSource, ShuffleSpec, TaskId};

/// A map task's input.
pub(super) enum Split {
    Text(crate::io::split::Split),
    Sample(Arc<Vec<u8>>),
    Pairs(SortBuffer),
}

pub(super) struct Inline {
    pub(super) max_line_length: u64,
}

impl Outputs for Inline {
    type Output = SortBuffer;

    fn shuffle_output(&self, _task: &TaskId, spec: ShuffleSpec) -> Result<Box<dyn PairOutput<SortBuffer>>> {
        Ok(Box::new(MapOutput {
            buf: SortBuffer::new(),
            by_value: spec.by_value,
            combine: spec.combine,
        }))
    }

    fn pass_output(&self, _task: &TaskId) -> Result<Box<dyn PairOutput<SortBuffer>>> {
        Ok(Box::new(PassOutput(SortBuffer::new())))
    }
}

impl Engine for Inline {
    type Split = Split;
    /// One sorted buffer per partition.
    type Shuffled = Vec<SortBuffer>;

    fn workers(&self) -> usize {
        1
    }

    fn text_splits(&self, sources: Vec<TextSource>) -> Result<Vec<Split>> {
        let mut splits = Vec::with_capacity(sources.len());
        for source in sources {
            match source {
                // One split per input, however large.
                TextSource::Input(src, input) => {
                    splits.extend(
                        named_splits(&src, input.as_ref(), u64::MAX)?
                            .into_iter()
                            .map(Split::Text),
                    );
                }
                TextSource::Sample(bytes) => splits.push(Split::Sample(bytes)),
            }
        }
        Ok(splits)
    }

    fn pair_splits(&self, outputs: Vec<SortBuffer>) -> Result<Vec<Split>> {
        Ok(outputs.into_iter().map(Split::Pairs).collect())
    }

    fn open<'a>(&'a self, split: &'a Split) -> Result<Box<dyn RecordSource + 'a>> {
        Ok(match split {
            Split::Text(split) => Box::new(LineSource::open(split, self.max_line_length)?),
            Split::Sample(bytes) => Box::new(LineSource::sample(bytes)),
            Split::Pairs(buf) => Box::new(BufferSource::new(buf)),
        })
    }

    fn shuffle(&self, shuffle: &ShufflePlan, outputs: Vec<SortBuffer>) -> Result<Vec<SortBuffer>> {
        let mut parts: Vec<SortBuffer> = Vec::new();
        for out in &outputs {
            for i in 0..out.len() {
                let (partition, key, value) = out.get(i);
                let p = partition as usize;
                if parts.len() <= p {
                    parts.resize_with(p + 1, SortBuffer::new);
                }
                parts[p].push(partition, key, value)?;
            }
        }
        for part in &mut parts {
            part.sort(shuffle.sort_values());
        }
        Ok(parts)
    }

    fn groups<'a>(
        &'a self,
        task: &TaskId,
        _shuffle: &ShufflePlan,
        shuffled: &'a Vec<SortBuffer>,
    ) -> Result<Box<dyn GroupSource + 'a>> {
        Ok(Box::new(BufferGroups {
            buf: shuffled.get(task.index),
            records: 0,
        }))
    }
}

/// A map task's output to the shuffle: its pairs, combined when it ends.
struct MapOutput {
    buf: SortBuffer,
    by_value: bool,
    combine: Option<Box<dyn Combine>>,
}

impl PairSink for MapOutput {
    fn collect(&mut self, partition: u32, key: &[u8], value: &[u8]) -> Result<()> {
        self.buf.push(partition, key, value)
    }
}

impl PairOutput<SortBuffer> for MapOutput {
    fn finish(self: Box<Self>, counters: &mut FrameworkCounters, _spans: &mut Vec<Span>) -> Result<SortBuffer> {
        let MapOutput {
            mut buf,
            by_value,
            combine,
        } = *self;
        let Some(mut combine) = combine else {
            return Ok(buf);
        };
        buf.sort(by_value);
        let mut out = SortBuffer::new();
        for mut group in buf.groups() {
            counters.combine_input_records += group.values.remaining() as u64;
            combine.combine(group.partition, group.key, &mut group.values, &mut out)?;
        }
        counters.combine_output_records += out.len() as u64;
        Ok(out)
    }
}

/// A task's pairs for the next step.
struct PassOutput(SortBuffer);

impl PairSink for PassOutput {
    fn collect(&mut self, _partition: u32, key: &[u8], value: &[u8]) -> Result<()> {
        self.0.push(0, key, value)
    }
}

impl PairOutput<SortBuffer> for PassOutput {
    fn finish(self: Box<Self>, _counters: &mut FrameworkCounters, _spans: &mut Vec<Span>) -> Result<SortBuffer> {
        Ok(self.0)
    }
}

/// One partition's groups of the sorted shuffle (`None`: no map task
/// wrote to it).
struct BufferGroups<'a> {
    buf: Option<&'a SortBuffer>,
    records: u64,
}

impl GroupSource for BufferGroups<'_> {
    fn for_each_group(&mut self, reduce: &mut ReduceGroup<'_>) -> Result<()> {
        let Some(buf) = self.buf else { return Ok(()) };
        for mut group in buf.groups() {
            self.records += group.values.remaining() as u64;
            let values: &mut GroupValues<'_> = &mut group.values;
            reduce(group.key, values)?;
        }
        Ok(())
    }

    fn add_counters(&self, counters: &mut FrameworkCounters) {
        counters.reduce_input_records += self.records;
    }
}
