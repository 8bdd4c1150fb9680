//! `baseline-wordcount-limit FILE... [--threads N]`: the fastest plain
//! program for the `word-count` job that benches/e2e.py knows, the limit
//! issue 13 holds the job to (the other baseline, `baseline-wordcount`, is
//! the program a competent engineer writes in an hour).
//!
//! It prints exactly what `mr-run word-count FILE...` prints (one
//! `JSON(word)<TAB>count` line per word, sorted by word), and so tokenizes
//! as the job does: mrjob's `[\w']+`, lowercased per char. What makes it
//! the limit:
//!
//! - each file is memory-mapped, not read: no copy out of the page cache;
//! - the mapping is cut into one line-aligned share per thread, each
//!   scanned once by a byte-class tokenizer that lowercases as it goes;
//! - each thread counts into its own FxHash map that owns one copy of each
//!   distinct word and is probed with borrowed bytes (no allocation for a
//!   word already seen);
//! - the maps are merged and sorted once at the end.
//!
//! A token that holds a byte above 0x7F is re-tokenized with the `regex`
//! crate: the job's `\w` is Unicode, and such a token (a maximal run of
//! ASCII word bytes and non-ASCII bytes) holds exactly the regex's words
//! that fall inside it, because its ends are ASCII non-word bytes, which
//! end a regex match too. A non-UTF-8 token is read as Latin-1, as the job
//! reads a non-UTF-8 line (the two differ only for a line whose bad bytes
//! lie in another token; generated inputs have none, and e2e.py checks the
//! output equal to the job's).

// Tests, benchmarks and hand-written baselines may panic on a failed
// unwrap: the library code may not (Cargo.toml [lints]). The mapping is
// this program's one unsafe call.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs, unsafe_code)]

#[path = "common.rs"]
#[allow(dead_code)] // its block reader: this program maps files instead
mod common;
use common::{Args, parse_args, print_word_counts};

use std::error::Error;
use std::fs::File;

use hashbrown::HashMap;
use memmap2::Mmap;
use regex::Regex;
use rustc_hash::FxBuildHasher;

/// A thread's counts: words of up to 16 bytes keyed inline as one `u128`
/// (NUL-padded; words hold no NUL), so that a probe is one compare in the
/// table's own cache line, and longer words as owned bytes.
#[derive(Default)]
struct Counts {
    short: HashMap<u128, u64, FxBuildHasher>,
    long: HashMap<Box<[u8]>, u64, FxBuildHasher>,
}

impl Counts {
    fn add(&mut self, word: &[u8], n: u64) {
        if word.len() <= 16 {
            let mut key = [0u8; 16];
            key[..word.len()].copy_from_slice(word);
            *self.short.entry(u128::from_le_bytes(key)).or_insert(0) += n;
            return;
        }
        match self.long.get_mut(word) {
            Some(count) => *count += n,
            None => {
                self.long.insert(word.into(), n);
            }
        }
    }
}

/// 1 for the bytes of a token: ASCII `[A-Za-z0-9_']` and every byte of a
/// non-ASCII character; 0 for the rest.
static TOKEN: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        if c.is_ascii_alphanumeric() || c == b'_' || c == b'\'' || c >= 0x80 {
            t[b] = 1;
        }
        b += 1;
    }
    t
};

fn main() -> Result<(), Box<dyn Error>> {
    let Args { paths, threads, .. } = parse_args("usage: baseline-wordcount-limit FILE... [--threads N]", false)?;
    let maps = paths
        .iter()
        .map(|p| {
            let file = File::open(p).map_err(|e| format!("{}: {e}", p.display()))?;
            // SAFETY: the benchmark's input files are not written while it
            // runs; a file truncated under the mapping would be SIGBUS, a
            // crash rather than a wrong answer.
            unsafe { Mmap::map(&file) }.map_err(|e| format!("{}: {e}", p.display()))
        })
        .collect::<Result<Vec<_>, String>>()?;

    // Thread `t` takes the `t`-th line-aligned share of every file.
    let counts = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let maps = &maps;
                s.spawn(move || {
                    let mut counter = Counter {
                        counts: Counts::default(),
                        re: Regex::new(r"[\w']+").unwrap(),
                        lower: Vec::new(),
                    };
                    for map in maps {
                        let (start, end) = (line_start(map, t, threads), line_start(map, t + 1, threads));
                        counter.count(&map[start..end]);
                    }
                    counter.counts
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect::<Vec<_>>()
    });

    let mut counts = counts.into_iter();
    let mut all = counts.next().ok_or("no threads")?;
    for other in counts {
        for (key, n) in other.short {
            *all.short.entry(key).or_insert(0) += n;
        }
        for (word, n) in other.long {
            *all.long.entry(word).or_insert(0) += n;
        }
    }
    let mut words = Vec::with_capacity(all.short.len() + all.long.len());
    for (word, n) in all.long {
        words.push((String::from_utf8(word.into_vec())?, n));
    }
    for (key, n) in all.short {
        let bytes = key.to_le_bytes();
        let len = bytes.iter().position(|&b| b == 0).unwrap_or(16);
        words.push((String::from_utf8(bytes[..len].to_vec())?, n));
    }
    print_word_counts(&mut words)?;
    Ok(())
}

/// Where share `t` of `threads` starts: just after the first `\n` at or
/// after its even cut (0 for the first share, the end for share `threads`).
fn line_start(data: &[u8], t: usize, threads: usize) -> usize {
    if t == 0 {
        return 0;
    }
    if t >= threads {
        return data.len();
    }
    let cut = data.len() / threads * t;
    memchr::memchr(b'\n', &data[cut..]).map_or(data.len(), |i| cut + i + 1)
}

struct Counter {
    counts: Counts,
    re: Regex,
    /// A non-ASCII token's words, lowercased.
    lower: Vec<u8>,
}

impl Counter {
    fn count(&mut self, data: &[u8]) {
        let mut word = [0u8; 64];
        let mut i = 0;
        let n = data.len();
        while i < n {
            if TOKEN[usize::from(data[i])] == 0 {
                i += 1;
                continue;
            }
            let start = i;
            let mut high = 0;
            while i < n && TOKEN[usize::from(data[i])] != 0 {
                high |= data[i];
                i += 1;
            }
            let token = &data[start..i];
            if high >= 0x80 {
                self.count_unicode(token);
            } else if token.len() <= word.len() {
                let w = &mut word[..token.len()];
                for (d, &s) in w.iter_mut().zip(token) {
                    *d = s.to_ascii_lowercase();
                }
                bump(&mut self.counts, w);
            } else {
                let w = token.to_ascii_lowercase();
                bump(&mut self.counts, &w);
            }
        }
    }

    fn count_unicode(&mut self, token: &[u8]) {
        let latin1: String;
        let text = match std::str::from_utf8(token) {
            Ok(text) => text,
            Err(_) => {
                latin1 = token.iter().map(|&b| char::from(b)).collect();
                &latin1
            }
        };
        let lower = &mut self.lower;
        for m in self.re.find_iter(text) {
            lower.clear();
            // Per char, as the job does (not `str::to_lowercase`, whose
            // final-sigma rule would give other words).
            for c in m.as_str().chars().flat_map(char::to_lowercase) {
                let mut buf = [0; 4];
                lower.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
            bump(&mut self.counts, lower);
        }
    }
}

fn bump(counts: &mut Counts, word: &[u8]) {
    counts.add(word, 1);
}
