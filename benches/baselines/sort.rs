//! `baseline-sort FILE... -o OUT [--threads N]`: an in-memory sort of text
//! lines written by hand, with no framework: the limit `benches/e2e.py`
//! measures TeraSort-style jobs (and GNU sort) against.
//!
//! Lines are ordered by their bytes before the first TAB (TeraSort's key),
//! ties broken by the whole line. `OUT` is byte-identical to
//! `LC_ALL=C sort FILE... -o OUT` whenever no key holds a byte below TAB
//! (0x09), as TeraSort's printable keys never do: the key is then a prefix
//! of the line that ends where the other line still has key bytes (> TAB) or
//! its own TAB, so key order and whole-line order agree. A last line without
//! `\n` gets one, as sort does.
//!
//! It is honest as a limit: the input is read whole into memory (so it only
//! works for inputs well under RAM: no spills, no merge passes, no run
//! files), each of N threads builds and sorts the entries of its contiguous
//! share of the lines, and the N sorted runs are merged straight into the
//! output file. Entries carry the key's first 8 bytes as an integer so most
//! comparisons never touch the line itself (a cache miss each).

// Tests, benchmarks and hand-written baselines may panic on a failed
// unwrap: the library code may not (Cargo.toml [lints]).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

// Only the command line: the sort reads whole files, not split ranges.
#[allow(dead_code)]
#[path = "common.rs"]
mod common;
use common::{Args, parse_args};

use std::cmp::Ordering;
use std::error::Error;
use std::fs::File;
use std::io::{BufWriter, Read, Write};

/// One line: its key's first 8 bytes (big-endian, zero-padded, so integer
/// order is byte order) and where it is in the input buffer.
#[derive(Clone, Copy)]
struct Entry {
    prefix: u64,
    start: usize,
    len: usize,
}

fn main() -> Result<(), Box<dyn Error>> {
    let Args { paths, out, threads } = parse_args("usage: baseline-sort FILE... -o OUT [--threads N]", true)?;
    let out_path = out.ok_or("-o OUT is required")?;

    // Every file, each ending in `\n`, in one buffer.
    let mut data = Vec::new();
    for path in &paths {
        let mut file = File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
        file.read_to_end(&mut data)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        if data.last().is_some_and(|&b| b != b'\n') {
            data.push(b'\n');
        }
    }
    let data = data.as_slice();

    // Thread `t` takes the lines starting in its `t`-th share of the buffer.
    let mut bounds = vec![0];
    for t in 1..threads {
        let at = data.len() * t / threads;
        let prev = *bounds.last().unwrap_or(&0);
        let cut = if at <= prev {
            prev
        } else {
            memchr::memchr(b'\n', &data[at - 1..]).map_or(data.len(), |i| at + i)
        };
        bounds.push(cut);
    }
    bounds.push(data.len());
    let runs: Vec<Vec<Entry>> = std::thread::scope(|s| {
        let handles: Vec<_> = bounds
            .windows(2)
            .map(|w| {
                let (from, to) = (w[0], w[1]);
                s.spawn(move || {
                    let mut entries = Vec::with_capacity((to - from) / 64);
                    let mut start = from;
                    while start < to {
                        // Every line in the buffer ends in `\n`.
                        let len = memchr::memchr(b'\n', &data[start..to]).unwrap_or(to - start);
                        let line = &data[start..start + len];
                        entries.push(Entry {
                            prefix: key_prefix(line),
                            start,
                            len,
                        });
                        start += len + 1;
                    }
                    entries.sort_unstable_by(|a, b| compare(data, a, b));
                    entries
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().map_err(|_| "a sorting thread panicked"))
            .collect::<Result<_, _>>()
    })?;

    let file = File::create(&out_path).map_err(|e| format!("{}: {e}", out_path.display()))?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    let write_err = |e: std::io::Error| format!("{}: {e}", out_path.display());
    // N-way merge by a linear scan of the heads: N is the number of cores.
    let mut heads: Vec<std::slice::Iter<'_, Entry>> = runs.iter().map(|r| r.iter()).collect();
    let mut next: Vec<Option<&Entry>> = heads.iter_mut().map(|h| h.next()).collect();
    loop {
        let mut best: Option<usize> = None;
        for (i, e) in next.iter().enumerate() {
            if let Some(e) = e
                && best.is_none_or(|b| next[b].is_some_and(|x| compare(data, e, x) == Ordering::Less))
            {
                best = Some(i);
            }
        }
        let Some(i) = best else { break };
        if let Some(e) = next[i] {
            out.write_all(&data[e.start..e.start + e.len + 1]).map_err(write_err)?;
        }
        next[i] = heads[i].next();
    }
    out.flush().map_err(write_err)?;
    Ok(())
}

/// The key's first 8 bytes, zero-padded; the key is the line up to its
/// first TAB.
fn key_prefix(line: &[u8]) -> u64 {
    let head = &line[..line.len().min(8)];
    let key_len = memchr::memchr(b'\t', head).unwrap_or(head.len());
    let mut bytes = [0u8; 8];
    bytes[..key_len].copy_from_slice(&head[..key_len]);
    u64::from_be_bytes(bytes)
}

/// Key order, then line order. Equal prefixes (padding makes "ab" and
/// "ab\0" equal) fall back to comparing the bytes.
fn compare(data: &[u8], a: &Entry, b: &Entry) -> Ordering {
    a.prefix.cmp(&b.prefix).then_with(|| {
        let la = &data[a.start..a.start + a.len];
        let lb = &data[b.start..b.start + b.len];
        key(la).cmp(key(lb)).then_with(|| la.cmp(lb))
    })
}

fn key(line: &[u8]) -> &[u8] {
    &line[..memchr::memchr(b'\t', line).unwrap_or(line.len())]
}
