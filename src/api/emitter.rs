//! The emitter: how user code hands pairs, counters and status to the
//! framework.

use std::borrow::Borrow;
use std::io::Write;
use std::marker::PhantomData;
use std::path::Path;
use std::sync::Arc;

use serde::Serialize;

use crate::api::aggregate::TypedAgg;
use crate::api::context::TaskContext;
use crate::api::side::SideFile;
use crate::codec::protocol::Protocol;
use crate::codec::{self, ValueCodec};
use crate::error::{Error, Result};
use crate::shuffle::PairSink;

/// A typed partitioner: `(key, partitions) -> partition`.
pub(crate) type PartitionFn<K> = dyn Fn(&K, u32) -> u32 + Send + Sync;

/// How an emitted pair's partition is chosen.
#[derive(Clone, Copy)]
pub(crate) enum Route<'a> {
    /// The step's typed partitioner if it has one, else `xxh3 % partitions`.
    Hash,
    /// Always this partition (combiner output, a step's final output).
    Fixed(u32),
    /// Total order: the number of these sorted boundaries that are `<=`
    /// the encoded key.
    Ranges(&'a [Vec<u8>]),
}

/// The partition of an encoded key, by `route` (a typed partitioner, when
/// there is one, decides for `Route::Hash`).
fn partition_of<K: serde::de::DeserializeOwned>(
    kb: &[u8],
    route: Route<'_>,
    partitions: u32,
    partitioner: Option<&PartitionFn<K>>,
) -> Result<u32> {
    match (route, partitioner) {
        (Route::Fixed(p), _) => Ok(p),
        (Route::Ranges(bounds), _) => Ok(bounds.partition_point(|b| b.as_slice() <= kb) as u32),
        (Route::Hash, None) => Ok(codec::hash_partition(kb, partitions)),
        (Route::Hash, Some(p)) => {
            // The typed partitioner needs the owned key; decoding it back
            // is the price of emit_ref.
            let k: K = codec::key::decode(kb)?;
            let part = p(&k, partitions);
            if part >= partitions {
                return Err(Error::Contract(format!(
                    "the partitioner returned partition {part}, but there are only {partitions}"
                )));
            }
            Ok(part)
        }
    }
}

/// Writes the typed table's pairs, encoded, to `sink` and empties it
/// (`vb` is the value scratch buffer).
fn drain_agg<K: serde::de::DeserializeOwned, V: Serialize>(
    agg: &mut TypedAgg<V>,
    sink: &mut dyn PairSink,
    values: ValueCodec,
    route: Route<'_>,
    partitions: u32,
    partitioner: Option<&PartitionFn<K>>,
    vb: &mut Vec<u8>,
) -> Result<()> {
    agg.drain(|key, v| {
        vb.clear();
        values.encode_into(&v, vb)?;
        let partition = partition_of::<K>(key, route, partitions, partitioner)?;
        sink.collect(partition, key, vb)
    })
}

/// Where an emitter writes: encoded pairs, or the job's final text output.
pub(crate) enum Target<'a> {
    Pairs {
        // 'static objects keep Target covariant in 'a, so an emitter can
        // borrow a sink and the task context for different spans.
        sink: &'a mut (dyn PairSink + 'static),
        partitions: u32,
        values: ValueCodec,
        route: Route<'a>,
    },
    Text {
        out: &'a mut (dyn Write + 'static),
        protocol: Protocol,
    },
}

/// Receives the `(key, value)` pairs a mapper, combiner or reducer emits,
/// and its counters and status.
///
/// `emit` does not return a `Result`: if a pair cannot be written (a
/// serialization error, a full disk), the error is recorded, later pairs are
/// dropped, and the task fails with that error as soon as the user's
/// function returns.
pub struct Emitter<'a, K, V> {
    target: Target<'a>,
    partitioner: Option<&'a PartitionFn<K>>,
    ctx: &'a mut TaskContext,
    /// The map task's typed aggregation table, when the step has one.
    agg: Option<&'a mut TypedAgg<V>>,
    _types: PhantomData<fn(K, V)>,
}

impl<'a, K: Serialize + serde::de::DeserializeOwned, V: Serialize> Emitter<'a, K, V> {
    pub(crate) fn new(target: Target<'a>, partitioner: Option<&'a PartitionFn<K>>, ctx: &'a mut TaskContext) -> Self {
        Emitter {
            target,
            partitioner,
            ctx,
            agg: None,
            _types: PhantomData,
        }
    }

    /// The first error an `emit` recorded, taken.
    pub(crate) fn take_error(&mut self) -> Option<Error> {
        self.ctx.error.take()
    }

    /// An emitter whose pairs are merged into `agg` before the shuffle.
    pub(crate) fn with_agg(
        target: Target<'a>,
        partitioner: Option<&'a PartitionFn<K>>,
        ctx: &'a mut TaskContext,
        agg: Option<&'a mut TypedAgg<V>>,
    ) -> Self {
        Emitter {
            target,
            partitioner,
            ctx,
            agg,
            _types: PhantomData,
        }
    }

    /// Writes the aggregation table's pairs to the sink and empties it.
    pub(crate) fn flush_agg(&mut self) -> Result<()> {
        let (
            Some(agg),
            Target::Pairs {
                sink,
                partitions,
                values,
                route,
            },
        ) = (self.agg.as_deref_mut(), &mut self.target)
        else {
            return Ok(());
        };
        let mut vb = std::mem::take(&mut self.ctx.value_buf);
        let res = drain_agg(
            agg,
            &mut **sink,
            *values,
            *route,
            *partitions,
            self.partitioner,
            &mut vb,
        );
        self.ctx.value_buf = vb;
        res
    }

    /// Emits one pair.
    pub fn emit(&mut self, key: K, value: V) {
        self.emit_ref(&key, &value);
    }

    /// Emits one pair by reference: with `String` keys, `emit_ref(word, &1)`
    /// takes a `&str` and saves an allocation per record.
    pub fn emit_ref<Q>(&mut self, key: &Q, value: &V)
    where
        K: Borrow<Q>,
        Q: Serialize + ?Sized,
    {
        if self.ctx.error.is_some() {
            return;
        }
        if let Err(e) = self.write(key, value) {
            self.ctx.fail(e);
        }
    }

    fn write<Q: Serialize + ?Sized>(&mut self, key: &Q, value: &V) -> Result<()> {
        self.ctx.emitted += 1;
        match &mut self.target {
            Target::Pairs {
                sink,
                partitions,
                values,
                route,
            } => {
                // The buffers are borrowed in place (disjoint fields), not
                // taken and put back: this runs once per emitted pair.
                let kb = &mut self.ctx.key_buf;
                let vb = &mut self.ctx.value_buf;
                if let Some(agg) = self.agg.as_deref_mut()
                    && let Some(short) = codec::key::short_string(key)
                {
                    // A short key's encoding is all the table keeps (the
                    // flush writes it from the slot), so it is built here
                    // without the serializer: a word count's every pair.
                    self.ctx.emitted_bytes += (short.len + values.encoded_len(value, vb)?) as u64;
                    if !agg.fits(short.len) {
                        drain_agg(agg, &mut **sink, *values, *route, *partitions, self.partitioner, vb)?;
                    }
                    agg.insert_short_key(short, value);
                    return Ok(());
                }
                kb.clear();
                codec::key::encode_into(key, kb)?;
                if let Some(agg) = self.agg.as_deref_mut() {
                    // The value is merged as it is; it is encoded only
                    // when the table is flushed.
                    self.ctx.emitted_bytes += (kb.len() + values.encoded_len(value, vb)?) as u64;
                    if !agg.fits(kb.len()) {
                        drain_agg(agg, &mut **sink, *values, *route, *partitions, self.partitioner, vb)?;
                    }
                    agg.insert(kb, value);
                    return Ok(());
                }
                vb.clear();
                values.encode_into(value, vb)?;
                self.ctx.emitted_bytes += (kb.len() + vb.len()) as u64;
                let partition = partition_of::<K>(kb, *route, *partitions, self.partitioner)?;
                sink.collect(partition, kb, vb)
            }
            Target::Text { out, protocol } => protocol.write_pair(out, key, value),
        }
    }

    /// Adds `amount` to the counter `group`/`name` (Hadoop's
    /// `reporter:counter:`); the runner sums counters over all tasks.
    pub fn counter(&mut self, group: &str, name: &str, amount: i64) {
        self.ctx.counters.add(group, name, amount);
    }

    /// Sets this task's status line (shown with `-v`).
    pub fn status(&mut self, message: impl Into<String>) {
        self.ctx.status = Some(message.into());
    }

    /// The input file this map task is reading (`None` for standard input,
    /// the built-in sample, a previous step's output, and in reducers).
    pub fn input_path(&self) -> Option<&Path> {
        self.ctx.input_path.as_deref().map(|p| p.as_path())
    }

    /// The named input (`--input NAME=PATH`) this map task is reading,
    /// standard input included (`None` for an unnamed input, and in
    /// reducers).
    pub fn input_name(&self) -> Option<&str> {
        self.ctx.input_name.as_deref()
    }

    /// Side file `file`'s value, loaded once per process (see
    /// [`SideFile`]): call it in `setup` and keep the `Arc`. Fails if the
    /// run was not given the file (`--side NAME=PATH`) or it cannot be
    /// loaded.
    pub fn side<T: Send + Sync + 'static>(&mut self, file: &SideFile<T>) -> Result<Arc<T>> {
        let path = self
            .ctx
            .env
            .sides
            .iter()
            .find(|(name, _)| name == file.name())
            .map(|(_, path)| path.clone())
            .ok_or_else(|| {
                Error::Config(format!(
                    "side file {0} was not given: run with --side {0}=PATH",
                    file.name()
                ))
            })?;
        let mut loaded = false;
        let value = file.get(&path, &mut loaded)?;
        if loaded {
            self.ctx
                .counters
                .add("side files", &format!("{} loaded", file.name()), 1);
        }
        Ok(value)
    }

    /// The job's own options ([`Job::options`](crate::Job::options)), as
    /// the command line gave them (their defaults when run from code
    /// without [`RunConfig::job_options`](crate::RunConfig::job_options)).
    /// Fails if `T` is not the job's options type.
    pub fn options<T: 'static>(&self) -> Result<&T> {
        let options = self.ctx.env.options.as_ref().ok_or_else(|| {
            Error::Config("the job declares no options (Job::options), or the run was given none".into())
        })?;
        options
            .get::<T>()
            .ok_or_else(|| Error::Config(format!("the job's options are not a {}", std::any::type_name::<T>())))
    }

    /// The job setting `key` given as `-D KEY=VALUE` (`--jobconf`,
    /// mrjob's `jobconf_from_env`): from the run's options, or, in a task
    /// process on Hadoop or Spark, from the environment the engine
    /// exports it in (`.` and other non-alphanumerics as `_`).
    pub fn jobconf(&self, key: &str) -> Option<String> {
        if let Some((_, value)) = self.ctx.env.jobconf.iter().rev().find(|(k, _)| k == key) {
            return Some(value.clone());
        }
        let var: String = key
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        std::env::var(var).ok()
    }

    /// 1-based number of the step this task belongs to.
    pub fn step_number(&self) -> usize {
        self.ctx.step + 1
    }

    /// 0-based index of this task within its phase.
    pub fn task_index(&self) -> usize {
        self.ctx.task
    }
}
