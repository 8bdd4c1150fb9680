//! `baseline-wordcount FILE... [--threads N]`: the `word-count` job written
//! by hand, with no framework: the limit `benches/e2e.py` measures the job
//! against.
//!
//! It prints exactly what `mr-run word-count FILE...` prints (one
//! `JSON(word)<TAB>count` line per word, sorted by word) and tokenizes
//! exactly as the job does: mrjob's `[\w']+` (the same `regex` crate, or on
//! ASCII lines the job's byte scan, which finds the same words), lowercased
//! with an ASCII fast path, lines that are not UTF-8 read as Latin-1.
//!
//! What it leaves out is everything the framework pays for being general:
//! no per-line mapper calls, no serialized `(word, 1)` records, no sort
//! buffer, spills, run files or merge. Each thread counts its own contiguous
//! share of every file into plain hash maps (hashbrown, default hasher; short
//! words keyed inline), the maps are merged, and the words sorted once. It
//! is honest in the other direction too: it is the program a competent
//! engineer writes in an hour, not a tuned one (no tokenizer beyond the
//! job's, no custom hash table, no mmap).

// Tests, benchmarks and hand-written baselines may panic on a failed
// unwrap: the library code may not (Cargo.toml [lints]).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

#[path = "common.rs"]
mod common;
use common::{Args, for_each_lines, parse_args, print_word_counts};

use std::error::Error;
use std::fs::File;

use hashbrown::HashMap;
use regex::Regex;

/// Bytes read per `read_at`: big enough that system calls are rare, small
/// enough that the block is still in cache when the hash lookups run.
const BLOCK: usize = 1 << 20;

/// Bytes of text tokenized before their words are counted (see
/// `Counter::count_text`): small enough that the matches stay in cache.
const PIECE: usize = 64 << 10;

/// The longest word kept inline in the hash table (nearly all of them).
const SHORT: usize = 16;

fn main() -> Result<(), Box<dyn Error>> {
    let Args { paths, threads, .. } = parse_args("usage: baseline-wordcount FILE... [--threads N]", false)?;
    let files = paths
        .iter()
        .map(|p| {
            let file = File::open(p).map_err(|e| format!("{}: {e}", p.display()))?;
            let len = file.metadata().map_err(|e| format!("{}: {e}", p.display()))?.len();
            Ok((p, file, len))
        })
        .collect::<Result<Vec<_>, String>>()?;

    // Thread `t` takes the `t`-th contiguous share of every file, so each
    // thread reads about the same number of bytes whatever the file sizes.
    let counters = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let files = &files;
                s.spawn(move || -> Result<Counter, String> {
                    let re = Regex::new(r"[\w']+").map_err(|e| e.to_string())?;
                    let mut counter = Counter {
                        re,
                        short: HashMap::new(),
                        long: HashMap::new(),
                        lower: String::new(),
                        latin1: String::new(),
                        spans: Vec::new(),
                    };
                    let mut buf = vec![0; BLOCK];
                    for (path, file, len) in files {
                        let start = len * t as u64 / threads as u64;
                        let end = len * (t as u64 + 1) / threads as u64;
                        for_each_lines(file, start, end, &mut buf, |lines| counter.count_lines(lines))
                            .map_err(|e| format!("{}: {e}", path.display()))?;
                    }
                    Ok(counter)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err("a counting thread panicked".into())))
            .collect::<Result<Vec<_>, String>>()
    })?;

    // Merge into the first thread's maps.
    let mut counters = counters.into_iter();
    let mut all = counters.next().ok_or("no threads")?;
    for other in counters {
        for (key, n) in other.short {
            *all.short.entry(key).or_insert(0) += n;
        }
        for (word, n) in other.long {
            *all.long.entry(word).or_insert(0) += n;
        }
    }
    let mut words: Vec<(String, u64)> = all.long.into_iter().collect();
    for (key, n) in all.short {
        // Words hold no NUL (`[\w']` excludes it), so the padding is the end.
        let len = key.iter().position(|&b| b == 0).unwrap_or(SHORT);
        words.push((String::from_utf8(key[..len].to_vec())?, n));
    }

    print_word_counts(&mut words)?;
    Ok(())
}

/// One thread's tokenizer and counts, with its reused buffers.
struct Counter {
    re: Regex,
    /// Words of up to `SHORT` bytes, NUL-padded: the key is in the table
    /// itself, so a lookup touches one cache line, not two.
    short: HashMap<[u8; SHORT], u64>,
    /// Longer words.
    long: HashMap<String, u64>,
    /// A lowercased word that is long or not ASCII.
    lower: String,
    /// A non-UTF-8 line, decoded as Latin-1.
    latin1: String,
    /// The matches of the piece being counted.
    spans: Vec<std::ops::Range<usize>>,
}

impl Counter {
    /// Counts the words of whole lines (words never contain `\n` or `\r`,
    /// so they are the words of each line). A block is checked for UTF-8
    /// once; only a line that is not UTF-8 is decoded on its own, as
    /// Latin-1.
    fn count_lines(&mut self, mut lines: &[u8]) {
        while !lines.is_empty() {
            let valid = match std::str::from_utf8(lines) {
                Ok(text) => return self.count_text(text),
                Err(e) => e.valid_up_to(),
            };
            // The lines before the bad one are UTF-8...
            let bad_start = memchr::memrchr(b'\n', &lines[..valid]).map_or(0, |i| i + 1);
            if let Ok(text) = std::str::from_utf8(&lines[..bad_start]) {
                self.count_text(text);
            }
            // ... and the bad one is Latin-1 (its `\r\n`, if any, tokenizes
            // to nothing either way).
            let bad_end = memchr::memchr(b'\n', &lines[valid..]).map_or(lines.len(), |i| valid + i + 1);
            let mut latin1 = std::mem::take(&mut self.latin1);
            latin1.clear();
            latin1.extend(lines[bad_start..bad_end].iter().map(|&b| char::from(b)));
            self.count_text(&latin1);
            self.latin1 = latin1;
            lines = &lines[bad_end..];
        }
    }

    /// Tokenizes `text` a piece at a time: first all the piece's words,
    /// then all their lookups. Interleaving the two (one lookup per word)
    /// was measurably slower (1.5x for regex-and-count in isolation, 10-15%
    /// for the whole program): the regex's lazy DFA and the hash table evict
    /// each other from the cache.
    fn count_text(&mut self, text: &str) {
        let mut spans = std::mem::take(&mut self.spans);
        let mut rest = text;
        while !rest.is_empty() {
            // Pieces end at a line end, so no word is cut.
            let cut = match memchr::memchr(b'\n', rest.as_bytes().get(PIECE..).unwrap_or_default()) {
                Some(i) => PIECE + i + 1,
                None => rest.len(),
            };
            let (piece, tail) = rest.split_at(cut);
            spans.clear();
            let mut at = 0;
            for line in piece.split_inclusive('\n') {
                // As the job does: on an ASCII line `[\w']` is exactly
                // `[A-Za-z0-9_']`, and a byte scan finds the regex's words
                // several times faster.
                if line.is_ascii() {
                    ascii_words(line.as_bytes(), at, &mut spans);
                } else {
                    spans.extend(self.re.find_iter(line).map(|m| at + m.start()..at + m.end()));
                }
                at += line.len();
            }
            for span in &spans {
                self.count_word(&piece[span.clone()]);
            }
            rest = tail;
        }
        self.spans = spans;
    }

    fn count_word(&mut self, word: &str) {
        if word.is_ascii() && word.len() <= SHORT {
            // The common case: lowercase straight into the inline key.
            let mut key = [0; SHORT];
            key[..word.len()].copy_from_slice(word.as_bytes());
            key.make_ascii_lowercase();
            *self.short.entry(key).or_insert(0) += 1;
            return;
        }
        // Per char, as the job does (not `str::to_lowercase`, whose
        // final-sigma rule would give different words).
        self.lower.clear();
        if word.is_ascii() {
            self.lower.push_str(word);
            self.lower.make_ascii_lowercase();
        } else {
            self.lower.extend(word.chars().flat_map(char::to_lowercase));
        }
        if self.lower.len() <= SHORT {
            let mut key = [0; SHORT];
            key[..self.lower.len()].copy_from_slice(self.lower.as_bytes());
            *self.short.entry(key).or_insert(0) += 1;
            return;
        }
        // Look up by `&str`: a word already counted costs no allocation.
        match self.long.get_mut(self.lower.as_str()) {
            Some(n) => *n += 1,
            None => {
                self.long.insert(self.lower.clone(), 1);
            }
        }
    }
}

/// Appends the spans of the `[A-Za-z0-9_']+` runs of `line` (ASCII),
/// shifted by `offset`.
fn ascii_words(line: &[u8], offset: usize, spans: &mut Vec<std::ops::Range<usize>>) {
    let is_word = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'\'';
    let mut i = 0;
    while i < line.len() {
        if !is_word(line[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < line.len() && is_word(line[i]) {
            i += 1;
        }
        spans.push(offset + start..offset + i);
    }
}
