//! The local runner's map inputs: HDFS-style splits of text files, and
//! block ranges of the previous step's run files, both capped so that a
//! tiny block size on a big input cannot mean a million map tasks.

use std::path::PathBuf;
use std::sync::Arc;

use super::super::TextSource;
use crate::error::{Error, Result};
use crate::io::split::{Split, named_splits};
use crate::shuffle::run::RunFile;

/// What one map task reads.
#[derive(Clone)]
pub(crate) enum MapInput {
    Split(Split),
    /// Small whole files packed into one task, read in turn.
    Files(Vec<Split>),
    Sample(Arc<Vec<u8>>),
    /// Blocks `first..last` of a run file written by the previous step.
    Blocks {
        path: PathBuf,
        first: usize,
        last: usize,
    },
}

/// The most map tasks a step's input is cut into: each costs a task's
/// bookkeeping and an output file, so `--block-size 1` on a big file must
/// not mean a million of them.
pub(crate) const MAX_SPLITS: u64 = 100_000;

/// The smallest split the default rule makes: below it a task's fixed
/// costs outweigh what another worker gains (Spark's
/// `spark.sql.files.openCostInBytes`).
pub(crate) const MIN_DEFAULT_SPLIT: u64 = 4 << 20;

/// What opening a file costs a map task, counted as this many bytes of
/// reading when small files are packed into tasks (Spark's
/// `openCostInBytes` idea, scaled to a local disk: an open, a read and a
/// close take about as long as reading 64 KiB).
pub(crate) const OPEN_COST: u64 = 64 << 10;

/// The lengths of the input files (not the built-in sample, not streams).
fn file_lengths(sources: &[TextSource]) -> impl Iterator<Item = u64> + '_ {
    sources.iter().filter_map(|s| match s {
        TextSource::Input(src, _) => src.path().and_then(|p| std::fs::metadata(p).ok()).map(|m| m.len()),
        TextSource::Sample(_) => None,
    })
}

/// The split size every runner that cuts splits here uses (local,
/// streaming): Hadoop's `max(min, min(max, block))`, where the block is
/// `--block-size` when given, else the default lowered so that the input
/// fills the workers (Spark's `maxSplitBytes`: `min(block, max(4 MiB,
/// bytes / workers))`); then capped at [`MAX_SPLITS`] splits.
pub(crate) fn split_bytes(config: &super::super::RunConfig, sources: &[TextSource]) -> u64 {
    // One stat per file, however many files.
    let (mut total, mut files) = (0u64, 0u64);
    for len in file_lengths(sources) {
        total += len;
        files += 1;
    }
    let block = if config.block_size_given {
        config.block_size
    } else {
        // Each file costs its opening too, so many small files make
        // larger packed tasks.
        let cost = total + files * OPEN_COST;
        let per_worker = cost.div_ceil(config.workers.max(1) as u64);
        config.block_size.min(per_worker.max(MIN_DEFAULT_SPLIT))
    };
    let split = crate::io::split::split_size(block, config.min_split_size, config.max_split_size);
    capped(total, split, config.progress)
}

/// `split_bytes`, raised if `total` input bytes would make more than
/// [`MAX_SPLITS`] splits (with a note on stderr when `note`).
fn capped(total: u64, split_bytes: u64, note: bool) -> u64 {
    let capped = split_bytes.max(total.div_ceil(MAX_SPLITS));
    if capped > split_bytes && note {
        eprintln!(
            "note: splitting the input into {split_bytes}-byte blocks would make over {MAX_SPLITS} map tasks; using {capped}-byte splits"
        );
    }
    capped
}

/// Up to this many input files, each is a map task of its own (or
/// several, cut into splits), as Hadoop's `FileInputFormat` makes them:
/// a task's hooks run once per file and a map-only step writes a part per
/// file, on every runner alike. Past it the per-task costs (a thread, a
/// directory, a run file, a merge input: about 1.5 ms) dominate, and small
/// files are packed.
pub(crate) const PACK_ABOVE: usize = 1024;

/// The first step's map inputs: each file cut into splits of
/// `split_bytes`; past [`PACK_ABOVE`] input files, runs of consecutive
/// small files (whole-file splits of the same named input) are packed into
/// one task while their bytes plus [`OPEN_COST`] each fit `split_bytes`,
/// as Hadoop's
/// `CombineFileInputFormat` and Spark's file partitions pack them: 20,000
/// tiny files are a few tasks, not 20,000. Files stay in input order, so a
/// key's values arrive in the same order however they are packed.
pub(crate) fn text_inputs(sources: Vec<TextSource>, split_bytes: u64) -> Result<Vec<MapInput>> {
    let packing = sources.iter().filter(|s| matches!(s, TextSource::Input(..))).count() > PACK_ABOVE;
    let mut inputs = Vec::new();
    let mut pack: Vec<Split> = Vec::new();
    let mut pack_cost = 0u64;
    let flush = |pack: &mut Vec<Split>, inputs: &mut Vec<MapInput>| match pack.len() {
        0 => {}
        1 => inputs.extend(pack.pop().map(MapInput::Split)),
        _ => inputs.push(MapInput::Files(std::mem::take(pack))),
    };
    for source in sources {
        match source {
            TextSource::Sample(bytes) => {
                flush(&mut pack, &mut inputs);
                pack_cost = 0;
                inputs.push(MapInput::Sample(bytes));
            }
            TextSource::Input(src, input) => {
                for split in named_splits(&src, input.as_ref(), split_bytes)? {
                    let whole = split.start == 0 && split.len == split.file_len;
                    let cost = split.file_len.unwrap_or(split_bytes).saturating_add(OPEN_COST);
                    let same_input = pack.first().is_none_or(|p| p.input == split.input);
                    if !packing || !whole || cost > split_bytes {
                        flush(&mut pack, &mut inputs);
                        pack_cost = 0;
                        inputs.push(MapInput::Split(split));
                        continue;
                    }
                    if !same_input || pack_cost + cost > split_bytes {
                        flush(&mut pack, &mut inputs);
                        pack_cost = 0;
                    }
                    pack_cost += cost;
                    pack.push(split);
                }
            }
        }
    }
    flush(&mut pack, &mut inputs);
    Ok(inputs)
}

/// Cuts the previous step's run files into block ranges of about
/// `split_bytes` each.
pub(crate) fn binary_inputs(files: &[PathBuf], split_bytes: u64) -> Result<Vec<MapInput>> {
    // Block ranges are capped like text splits (one per block at most).
    let total: u64 = files
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
    let split_bytes = split_bytes.max(total.div_ceil(MAX_SPLITS));
    let mut inputs = Vec::new();
    for path in files {
        let file = RunFile::open(path)?;
        let blocks = file.block_offsets().len();
        if blocks == 0 {
            continue;
        }
        let len = std::fs::metadata(path).map_err(|e| Error::io(path, e))?.len();
        let per_block = (len / blocks as u64).max(1);
        let per_split = (split_bytes / per_block).max(1) as usize;
        let mut first = 0;
        while first < blocks {
            let last = (first + per_split).min(blocks);
            inputs.push(MapInput::Blocks {
                path: path.clone(),
                first,
                last,
            });
            first = last;
        }
    }
    Ok(inputs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::input::InputSource;

    #[test]
    fn issue8_block_size_1_on_a_big_file_makes_at_most_max_splits() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.txt");
        // Sparse: 1 GiB of zeros on disk costs nothing.
        let f = std::fs::File::create(&path).unwrap();
        f.set_len(1 << 30).unwrap();
        let sources = vec![TextSource::Input(InputSource::File(path), None)];
        let split = capped(file_lengths(&sources).sum(), 1, false);
        assert_eq!(split, (1u64 << 30).div_ceil(MAX_SPLITS));
        let inputs = text_inputs(sources, split).unwrap();
        assert!(inputs.len() as u64 <= MAX_SPLITS, "{} splits", inputs.len());
        assert!(inputs.len() as u64 >= MAX_SPLITS / 2, "{} splits", inputs.len());
        // Small inputs keep the block size asked for.
        let small = dir.path().join("small.txt");
        std::fs::write(&small, vec![b'x'; 1000]).unwrap();
        assert_eq!(
            capped(
                file_lengths(&[TextSource::Input(InputSource::File(small), None)]).sum(),
                1,
                false
            ),
            1
        );
    }
}
