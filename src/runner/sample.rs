//! Total-order partitioning: sampling a step's input to cut its map
//! output keys into ranges, one per reduce task (Hadoop's `InputSampler`
//! with `TotalOrderPartitioner`, Spark's `RangePartitioner`).
//!
//! A first step's sample reads lines at evenly spaced offsets of each
//! input file and runs the step's mapper on them, collecting the encoded
//! keys it emits; a later step's samples the previous step's output pairs
//! ([`pairs`]). Either depends only on the data, not on how a runner
//! splits it, so every runner cuts the same boundaries. Boundaries only
//! decide which part file a key lands in: the concatenated output is
//! globally sorted whatever they are, so a skewed sample costs balance,
//! never correctness.

mod pairs;

pub(crate) use pairs::{PairSample, sample_task};

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};

use super::{RunConfig, TextSource};
use crate::api::context::TaskContext;
use crate::api::emitter::{Route, Target};
use crate::api::job::JobPlan;
use crate::codec::ValueCodec;
use crate::error::{Error, Result};
use crate::io::input::open_input;
use crate::io::lines::LineReader;
use crate::io::split::is_splittable;
use crate::shuffle::buffer::SortBuffer;

/// Keys sampled in all (Hadoop's TeraSort default is 100,000).
const SAMPLE_KEYS: usize = 100_000;
/// Places sampled in each splittable file.
const PLACES_PER_FILE: u64 = 10;

/// The boundaries for the job's first step if it asks for total order
/// (a later step's are sampled from its input when it runs: [`PairSample`]).
pub(crate) fn ranges(plan: &JobPlan, sources: &[TextSource], config: &RunConfig) -> Result<Option<Vec<Vec<u8>>>> {
    let Some(step) = plan.steps.first().filter(|s| s.total_order()) else {
        return Ok(None);
    };
    let per_place = (SAMPLE_KEYS / (sources.len().max(1) * PLACES_PER_FILE as usize)).max(10);
    let mut keys = SortBuffer::new();
    let mut ctx = TaskContext::new(0, 0);
    ctx.env = super::job_env(plan, config)?;
    let mut scratch_out = SortBuffer::new();
    for source in sources {
        // A mapper per input, as a map task has: set up (a side file, the
        // job's options) for the named input it reads.
        let mut mapper = (step.new_mapper)(None);
        let input = match source {
            TextSource::Input(_, name) => name.clone(),
            TextSource::Sample(_) => None,
        };
        ctx.input_name = input.clone();
        let target = scratch(&mut scratch_out);
        let failed = |e| {
            Error::Config(format!(
                "sampling the input for total order: the first step's mapper failed in setup: {e}"
            ))
        };
        mapper.select_input(input.as_deref()).map_err(failed)?;
        mapper.setup(target, &mut ctx).map_err(failed)?;
        ctx.error = None;
        for (reader, name) in places(source)? {
            let mut lines = LineReader::new(reader, name);
            let mut taken = 0;
            while taken < per_place {
                let Some(line) = lines.next_line()? else { break };
                taken += 1;
                let target = scratch(&mut scratch_out);
                // Malformed records and mapper errors are the real run's to
                // report; a sample just skips them.
                let _ = mapper.map_line(line.bytes, line.offset, target, &mut ctx);
                ctx.error = None;
            }
            for i in 0..scratch_out.len() {
                let (_, k, _) = scratch_out.get(i);
                keys.push(0, k, b"")?;
            }
            scratch_out.clear();
        }
    }
    Ok(Some(cut(keys, config.reducers)))
}

/// Where a sampling mapper writes: one partition, keys kept.
fn scratch(sink: &mut SortBuffer) -> Target<'_> {
    Target::Pairs {
        sink,
        partitions: 1,
        values: ValueCodec::Bincode,
        route: Route::Fixed(0),
    }
}

/// The keys at `partitions - 1` evenly spaced ranks of the sampled keys,
/// sorted (none from an empty sample: every key goes to the first part).
fn cut(mut keys: SortBuffer, partitions: u32) -> Vec<Vec<u8>> {
    keys.sort(false);
    let n = keys.len();
    (1..partitions as usize)
        .filter(|_| n > 0)
        .map(|i| keys.get(i * n / partitions as usize).1.to_vec())
        .collect()
}

type Place = (Box<dyn Read + Send>, std::path::PathBuf);

/// Readers positioned at the start of a line at evenly spaced offsets of
/// `source` (just its start, for a compressed file or the sample).
fn places(source: &TextSource) -> Result<Vec<Place>> {
    let (src, path) = match source {
        TextSource::Sample(bytes) => {
            return Ok(vec![(
                Box::new(std::io::Cursor::new(bytes.to_vec())),
                "<built-in sample>".into(),
            )]);
        }
        TextSource::Input(src, _) => match src.read_path() {
            Some(path) => (src, path),
            // The runner spools standard input before the job reads it.
            None => {
                return Err(Error::Internal(
                    "total-order partitioning samples its input first, so it cannot read standard input unspooled"
                        .into(),
                ));
            }
        },
    };
    let name = src.error_name();
    if !is_splittable(src)? {
        return Ok(vec![(open_input(src)?, name)]);
    }
    let len = std::fs::metadata(path).map_err(|e| Error::io(&name, e))?.len();
    let mut out: Vec<Place> = Vec::new();
    for i in 0..PLACES_PER_FILE {
        let at = len * i / PLACES_PER_FILE;
        let mut file = File::open(path).map_err(|e| Error::io(&name, e))?;
        if at > 0 {
            // Skip the partial line, as a split would.
            file.seek(SeekFrom::Start(at - 1)).map_err(|e| Error::io(&name, e))?;
            let mut byte = [0u8; 1];
            loop {
                match file.read(&mut byte) {
                    Ok(0) => break,
                    Ok(_) if byte[0] == b'\n' => break,
                    Ok(_) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(Error::io(&name, e)),
                }
            }
        }
        out.push((Box::new(std::io::BufReader::new(file)), name.clone()));
    }
    Ok(out)
}
