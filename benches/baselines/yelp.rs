//! `baseline-yelp FILE... [--threads N]`: the `yelp-top-city` job written
//! by hand, with no framework: the limit `benches/e2e.py` measures the job
//! against.
//!
//! It prints exactly what `mr-run yelp-top-city FILE...` prints: the largest
//! `(count, city)` as `count<TAB>JSON(city)` (nothing without records), and
//! reads each line exactly as the job's mapper does: Latin-1 if it is not
//! UTF-8, only JSON objects are records, only `city` is deserialized (borrowed
//! when it has no escapes), absent, null or empty cities count as
//! `missing_city`, lines that do not parse are skipped. Parsing is the same
//! `serde_json` call, so the comparison measures the framework, not the
//! parser: no per-line mapper calls, no serialized records, no sort buffer,
//! spills, second step or run files. Each thread counts its contiguous share
//! of every file into a plain hash map; the maps are merged at the end.

// Tests, benchmarks and hand-written baselines may panic on a failed
// unwrap: the library code may not (Cargo.toml [lints]).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

#[path = "common.rs"]
mod common;
use common::{Args, for_each_lines, parse_args, write_json_str};

use std::borrow::Cow;
use std::error::Error;
use std::fs::File;
use std::io::{self, Write};

use hashbrown::HashMap;
use serde::Deserialize;

/// Bytes read per `read_at`: big enough that system calls are rare.
const BLOCK: usize = 1 << 20;

/// The job's key for a record with no usable city.
const MISSING_CITY: &str = "missing_city";

type Counts = HashMap<String, u64>;

/// The one field read; serde skips the others without building them.
#[derive(Deserialize)]
struct CityOnly<'a> {
    #[serde(borrow, default)]
    city: Option<Cow<'a, str>>,
}

fn main() -> Result<(), Box<dyn Error>> {
    let Args { paths, threads, .. } = parse_args("usage: baseline-yelp FILE... [--threads N]", false)?;
    let files = paths
        .iter()
        .map(|p| {
            let file = File::open(p).map_err(|e| format!("{}: {e}", p.display()))?;
            let len = file.metadata().map_err(|e| format!("{}: {e}", p.display()))?.len();
            Ok((p, file, len))
        })
        .collect::<Result<Vec<_>, String>>()?;

    // Thread `t` takes the `t`-th contiguous share of every file.
    let results = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let files = &files;
                s.spawn(move || -> Result<(Counts, u64), String> {
                    let mut counts = Counts::new();
                    let mut malformed = 0;
                    let mut latin1 = String::new();
                    let mut buf = vec![0; BLOCK];
                    for (path, file, len) in files {
                        let start = len * t as u64 / threads as u64;
                        let end = len * (t as u64 + 1) / threads as u64;
                        for_each_lines(file, start, end, &mut buf, |lines| {
                            for line in lines.split_inclusive(|&b| b == b'\n') {
                                if !count_line(line, &mut counts, &mut latin1) {
                                    malformed += 1;
                                }
                            }
                        })
                        .map_err(|e| format!("{}: {e}", path.display()))?;
                    }
                    Ok((counts, malformed))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err("a counting thread panicked".into())))
            .collect::<Result<Vec<_>, String>>()
    })?;

    let mut all = Counts::new();
    let mut malformed = 0;
    for (counts, bad) in results {
        malformed += bad;
        for (city, n) in counts {
            *all.entry(city).or_insert(0) += n;
        }
    }
    if malformed > 0 {
        eprintln!("malformed: {malformed}");
    }
    // Python's `max` of `(count, city)` tuples: ties go to the greater city
    // (byte order of UTF-8 is code point order).
    if let Some((city, count)) = all.iter().max_by(|a, b| (a.1, a.0).cmp(&(b.1, b.0))) {
        let mut line = count.to_string().into_bytes();
        line.push(b'\t');
        write_json_str(&mut line, city);
        line.push(b'\n');
        io::stdout().lock().write_all(&line)?;
    }
    Ok(())
}

/// Counts one line (with its `\n` or `\r\n`, if any) as the job's mapper
/// does; false if it is not a record.
fn count_line(line: &[u8], counts: &mut Counts, latin1: &mut String) -> bool {
    let line = match line.strip_suffix(b"\n") {
        Some(l) => l.strip_suffix(b"\r").unwrap_or(l),
        None => line,
    };
    let text = match std::str::from_utf8(line) {
        Ok(text) => text,
        Err(_) => {
            latin1.clear();
            latin1.extend(line.iter().map(|&b| char::from(b)));
            latin1.as_str()
        }
    };
    // serde would also read a JSON array into the struct; the job (like
    // Python's `d.get('city')`) takes only objects.
    if !text.trim_start().starts_with('{') {
        return false;
    }
    let Ok(record) = serde_json::from_str::<CityOnly<'_>>(text) else {
        return false;
    };
    let city = match record.city.as_deref() {
        Some(c) if !c.is_empty() => c,
        _ => MISSING_CITY,
    };
    match counts.get_mut(city) {
        Some(n) => *n += 1,
        None => {
            counts.insert(city.to_owned(), 1);
        }
    }
    true
}
