//! The map-side collector: where a map task's output goes.
//!
//! Records land in a sort buffer with an exact byte budget (or, for steps
//! with an associative combiner, a hash table that merges them on
//! arrival). A full buffer is handed to this task's spill thread, which
//! sorts, combines and writes it as a run while the mapper fills the other
//! buffer (double buffering: two buffers of half the budget each, so the
//! mapper waits only if it fills a buffer before the previous spill is
//! done). The task's sorted runs are its map output: reducers merge their
//! partition of every run directly. Hadoop merges each map's spills into
//! one file first because its reducers fetch map outputs over the network;
//! here that merge would be one more write and read of all the map output
//! for nothing. The runs are merged in the map task only when a combiner
//! should see them again (`COMBINE_MIN_SPILLS`).

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use super::PairSink;
use super::aggregate::{AggTable, MergeValues};
use super::buffer::SortBuffer;
use super::span::{Span, SpanKind, push_bounded};
use super::spill::{Combine, RunSettings, SpillStats, TaskRuns, merge_runs, spill_buffer, spill_table};
use crate::error::{Error, Result};

/// Hadoop's `mapreduce.map.combine.minspills`: combine again while merging
/// spills only if there were at least this many.
pub const COMBINE_MIN_SPILLS: usize = 3;

/// How a map task's output is collected.
#[derive(Clone)]
pub struct CollectorConfig {
    pub runs: RunSettings,
    /// Bytes for the sort buffers (or tables) together.
    pub sort_buffer: usize,
    /// Where spills and the map output go (the task attempt's directory).
    pub dir: PathBuf,
    /// Set for an associative combiner: aggregate in a hash table.
    pub merge: Option<Arc<MergeValues>>,
    /// Counted up as each spill is written (the progress line's spills).
    pub live_spills: Option<Arc<AtomicU64>>,
    /// Where a finished task leaves its sort buffers for the next task.
    pub pool: Option<Arc<BufferPool>>,
}

/// Empty sort buffers that finished map tasks left, with their memory,
/// for the next map task of the same budget in this process.
///
/// Without it every task grew two buffers from nothing: each doubling
/// copies the arena, and every page is a fresh page fault (terasort of
/// 1 GiB in 16 tasks faulted in and copied about 1 GiB that way). The
/// owner empties the pool when its map phase ends, so pooled buffers never
/// add to the reduce phase's memory; at most `POOL_MAX` are kept.
#[derive(Default)]
pub struct BufferPool(Mutex<Vec<SortBuffer>>);

/// More than any pool of workers' double buffers needs, few enough that a
/// leak could not go unnoticed.
const POOL_MAX: usize = 64;

impl BufferPool {
    fn take(&self, limit: usize) -> Option<SortBuffer> {
        let mut pool = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let i = pool.iter().position(|b| b.limit() == limit)?;
        Some(pool.swap_remove(i))
    }

    fn put(&self, mut buffer: SortBuffer) {
        buffer.clear();
        let mut pool = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if pool.len() < POOL_MAX {
            pool.push(buffer);
        }
    }

    /// Frees every pooled buffer.
    pub fn clear(&self) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }
}

enum Buffer {
    Sorted(SortBuffer),
    Table(AggTable),
}

impl Buffer {
    /// A buffer that holds no memory (limit 0, never pooled): the
    /// active one's place once a task has collected its last.
    fn stand_in() -> Buffer {
        Buffer::Sorted(SortBuffer::with_limit(0))
    }

    fn new(config: &CollectorConfig) -> Buffer {
        let half = (config.sort_buffer / 2).max(1);
        match config.merge {
            Some(_) => Buffer::Table(AggTable::with_limit(half)),
            None => Buffer::Sorted(
                config
                    .pool
                    .as_ref()
                    .and_then(|p| p.take(half))
                    .unwrap_or_else(|| SortBuffer::with_limit(half)),
            ),
        }
    }

    fn is_empty(&self) -> bool {
        match self {
            Buffer::Sorted(b) => b.len() == 0,
            Buffer::Table(t) => t.is_empty(),
        }
    }
}

/// What the spill thread hands back when the task ends.
struct Spilled {
    runs: Vec<PathBuf>,
    stats: SpillStats,
    spans: Vec<Span>,
    combine: Option<Box<dyn Combine>>,
}

/// Collects one map task's output; see the module docs.
pub struct Collector {
    config: CollectorConfig,
    active: Buffer,
    spare: Option<Buffer>,
    to_spiller: Option<SyncSender<Buffer>>,
    recycled: Receiver<Buffer>,
    /// A plain (not scoped) thread that owns all it uses, so the collector
    /// is `'static` and can sit behind the emitter's sink.
    spiller: Option<JoinHandle<Result<Spilled>>>,
    records: u64,
    /// Buffers handed to the spill thread because they were full.
    rotations: u64,
}

/// The finished map output: sorted runs, each with every partition, in
/// the order they were written (merges keep values in input order by
/// taking ties from the earlier run).
pub struct MapOutput {
    pub runs: Vec<PathBuf>,
    pub stats: SpillStats,
    /// Each spill and merge, in the order they started.
    pub spans: Vec<Span>,
}

impl Collector {
    /// Starts a collector and its spill thread.
    pub fn start(config: CollectorConfig, combine: Option<Box<dyn Combine>>) -> Result<Self> {
        let (to_spiller, inbox) = sync_channel::<Buffer>(1);
        let (give_back, recycled) = sync_channel::<Buffer>(2);
        let spill_config = config.clone();
        let spiller = std::thread::Builder::new()
            .name("mr-spill".into())
            .spawn(move || spill_loop(inbox, give_back, &spill_config, combine))
            .map_err(|e| Error::io(&config.dir, e))?;
        Ok(Collector {
            active: Buffer::new(&config),
            spare: Some(Buffer::new(&config)),
            to_spiller: Some(to_spiller),
            recycled,
            spiller: Some(spiller),
            config,
            records: 0,
            rotations: 0,
        })
    }

    /// Hands the active buffer to the spill thread and takes an empty one.
    fn rotate(&mut self) -> Result<()> {
        self.rotations += 1;
        let next = match self.spare.take() {
            Some(b) => b,
            // Waits for the previous spill: the mapper outran the disk.
            None => match self.recycled.recv() {
                Ok(b) => b,
                Err(_) => return Err(self.spiller_failed()),
            },
        };
        let full = std::mem::replace(&mut self.active, next);
        let sent = self.to_spiller.as_ref().map(|tx| tx.send(full));
        match sent {
            Some(Ok(())) => Ok(()),
            _ => Err(self.spiller_failed()),
        }
    }

    /// The spill thread stopped early: its error says why.
    fn spiller_failed(&mut self) -> Error {
        self.to_spiller = None;
        match self.spiller.take().map(JoinHandle::join) {
            Some(Ok(Err(e))) => e,
            Some(Err(payload)) => std::panic::resume_unwind(payload),
            _ => Error::Internal("the spill thread stopped".into()),
        }
    }

    /// Ends collection: spills what is left and waits for the spill thread;
    /// merges the runs into one only for a combiner (see the module docs).
    pub fn finish(mut self) -> Result<MapOutput> {
        // An empty task still spills once, so every task has an output.
        if !self.active.is_empty() || self.records == 0 {
            // Nothing is collected after this: a stand-in, not a third
            // buffer.
            let last = std::mem::replace(&mut self.active, Buffer::stand_in());
            if let Some(tx) = &self.to_spiller {
                // A failed send means the thread stopped; join says why.
                let _ = tx.send(last);
            }
        }
        drop(self.to_spiller.take());
        let spilled = match self.spiller.take().map(JoinHandle::join) {
            Some(Ok(res)) => res?,
            Some(Err(payload)) => std::panic::resume_unwind(payload),
            None => return Err(Error::Internal("the spill thread stopped".into())),
        };
        self.pool_buffers();
        let Spilled {
            runs,
            mut stats,
            mut spans,
            mut combine,
        } = spilled;
        if combine.is_none() || runs.len() < COMBINE_MIN_SPILLS {
            return Ok(MapOutput { runs, stats, spans });
        }
        let started = std::time::Instant::now();
        let path = self.config.dir.join("map-output");
        let merged = merge_runs(
            runs,
            &path,
            &self.config.runs,
            combine.as_deref_mut(),
            COMBINE_MIN_SPILLS,
            &self.config.dir,
        )?;
        push_bounded(
            &mut spans,
            Span::since(SpanKind::Merge, started, merged.spilled_records),
        );
        stats.add(merged);
        Ok(MapOutput {
            runs: vec![path],
            stats,
            spans,
        })
    }

    /// Leaves the task's sort buffers in the pool, if there is one: the
    /// active and spare ones and those the spill thread gave back.
    fn pool_buffers(&mut self) {
        // Only a task whose buffers filled: growing such buffers again is
        // the cost the pool saves. A task that never filled one (a
        // combined or small task) frees them, so that their memory can
        // serve other allocations, as without a pool.
        let Some(pool) = self.config.pool.clone().filter(|_| self.rotations > 0) else {
            return;
        };
        let put = |b: Buffer| {
            // Stand-ins (limit 0) hold nothing.
            if let Buffer::Sorted(b) = b
                && b.limit() > 0
            {
                pool.put(b);
            }
        };
        put(std::mem::replace(&mut self.active, Buffer::stand_in()));
        if let Some(b) = self.spare.take() {
            put(b);
        }
        while let Ok(b) = self.recycled.try_recv() {
            put(b);
        }
    }
}

impl PairSink for Collector {
    fn collect(&mut self, partition: u32, key: &[u8], value: &[u8]) -> Result<()> {
        self.records += 1;
        let fits = match &self.active {
            Buffer::Sorted(b) => b.fits(key.len(), value.len()),
            Buffer::Table(t) => t.fits(key.len(), value.len()),
        };
        if !fits {
            self.rotate()?;
        }
        match (&mut self.active, &self.config.merge) {
            (Buffer::Table(t), Some(merge)) => t.insert(partition, key, value, merge.as_ref()),
            (Buffer::Sorted(b), _) => b.push(partition, key, value),
            (Buffer::Table(_), None) => Err(Error::Internal("hash aggregation without a merge function".into())),
        }
    }
}

fn spill_loop(
    inbox: Receiver<Buffer>,
    give_back: SyncSender<Buffer>,
    config: &CollectorConfig,
    mut combine: Option<Box<dyn Combine>>,
) -> Result<Spilled> {
    let mut runs = TaskRuns::default();
    let mut stats = SpillStats::default();
    let mut spans = Vec::new();
    for (n, mut buffer) in inbox.into_iter().enumerate() {
        let path = config.dir.join(format!("spill-{n}"));
        let started = std::time::Instant::now();
        let s = match &mut buffer {
            Buffer::Sorted(b) => spill_buffer(b, combine.as_deref_mut(), &path, &config.runs)?,
            Buffer::Table(t) => spill_table(t, &path, &config.runs)?,
        };
        push_bounded(&mut spans, Span::since(SpanKind::Spill, started, s.spilled_records));
        if let Some(live) = &config.live_spills {
            live.fetch_add(s.spills, Ordering::Relaxed);
        }
        stats.add(s);
        // The collector may have finished and stopped listening. Given
        // back before any merge of runs, so the mapper goes on meanwhile.
        let _ = give_back.try_send(buffer);
        runs.push(
            path,
            &config.runs,
            combine.as_deref_mut(),
            &config.dir,
            &mut stats,
            &mut spans,
        )?;
    }
    Ok(Spilled {
        runs: runs.into_paths(),
        stats,
        spans,
        combine,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shuffle::run::Compression;

    fn config(dir: &std::path::Path, pool: &Arc<BufferPool>) -> CollectorConfig {
        CollectorConfig {
            runs: RunSettings {
                partitions: 2,
                by_value: false,
                compression: Compression::None,
                fan_in: 16,
                read_buffer: 64 << 10,
            },
            sort_buffer: 64 << 10,
            dir: dir.to_path_buf(),
            merge: None,
            live_spills: None,
            pool: Some(Arc::clone(pool)),
        }
    }

    #[test]
    fn a_finished_task_leaves_its_buffers_to_the_next_and_they_come_back_empty() {
        let pool = Arc::new(BufferPool::default());
        let mut spill_counts = Vec::new();
        for task in 0..3u32 {
            let dir = tempfile::tempdir().unwrap();
            let mut c = Collector::start(config(dir.path(), &pool), None).unwrap();
            // Enough for several spills of a 32 KiB buffer.
            for i in 0..5_000u32 {
                let key = format!("k{:05}", (i * 7919 + task) % 5_000);
                c.collect(i % 2, key.as_bytes(), &i.to_le_bytes()).unwrap();
            }
            let out = c.finish().unwrap();
            spill_counts.push(out.stats.spills);
            // The task's two buffers, emptied, and never more.
            let pooled = pool.0.lock().unwrap();
            assert_eq!(pooled.len(), 2, "after task {task}");
            assert!(pooled.iter().all(|b| b.is_empty() && b.limit() == 32 << 10));
        }
        // A reused buffer spills exactly like a new one.
        assert!(spill_counts[0] > 2, "{spill_counts:?}");
        assert!(spill_counts.iter().all(|&n| n == spill_counts[0]), "{spill_counts:?}");
        pool.clear();
        assert!(pool.0.lock().unwrap().is_empty());

        // A task that never filled a buffer frees them instead.
        let dir = tempfile::tempdir().unwrap();
        let mut c = Collector::start(config(dir.path(), &pool), None).unwrap();
        for i in 0..10u32 {
            c.collect(0, &i.to_be_bytes(), b"v").unwrap();
        }
        c.finish().unwrap();
        assert!(pool.0.lock().unwrap().is_empty());
    }
}
