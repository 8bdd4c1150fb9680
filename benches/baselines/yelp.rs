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

use std::borrow::Cow;
use std::error::Error;
use std::fs::File;
use std::io::{self, Write};
use std::os::unix::fs::FileExt;
use std::path::PathBuf;

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
    let (paths, threads) = parse_args()?;
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

/// Calls `f` with blocks of whole lines (each ending in `\n`, except the
/// file's last line if it has none): exactly the lines of `file` that start
/// in `start..end`, as Hadoop's splits do. The line that crosses `end` is
/// read to its end; the one that crosses `start` belongs to the previous
/// range. Reads are positional (`read_at`), so threads share the file.
fn for_each_lines(file: &File, start: u64, end: u64, buf: &mut Vec<u8>, mut f: impl FnMut(&[u8])) -> io::Result<()> {
    if start >= end {
        return Ok(());
    }
    // Start one byte early: if that byte is `\n`, a line starts at `start`.
    let mut base = start.saturating_sub(1); // file offset of buf[0]
    let mut skipping = start > 0;
    let mut have = 0; // buf[..have] holds data
    loop {
        if have == buf.len() {
            // A line longer than the buffer.
            let len = buf.len();
            buf.resize(len * 2, 0);
        }
        let want = buf.len() - have;
        let n = read_full(file, &mut buf[have..], base + have as u64)?;
        let eof = n < want;
        have += n;
        let mut from = 0;
        if skipping {
            match memchr::memchr(b'\n', &buf[..have]) {
                Some(i) => {
                    from = i + 1;
                    skipping = false;
                    if base + from as u64 >= end {
                        return Ok(()); // no line starts in our range
                    }
                }
                None if eof => return Ok(()),
                None => {
                    base += have as u64;
                    have = 0;
                    continue;
                }
            }
        }
        // The last line we own ends at the first `\n` at or after `end - 1`.
        let last = end - 1;
        if last < base + have as u64 {
            let at = ((last.saturating_sub(base)) as usize).max(from);
            if let Some(i) = memchr::memchr(b'\n', &buf[at..have]) {
                f(&buf[from..=at + i]);
                return Ok(());
            }
        }
        if eof {
            if from < have {
                f(&buf[from..have]);
            }
            return Ok(());
        }
        // Hand out the whole lines; keep the partial one for the next read.
        let keep = match memchr::memrchr(b'\n', &buf[from..have]) {
            Some(i) => {
                f(&buf[from..=from + i]);
                from + i + 1
            }
            None => from,
        };
        buf.copy_within(keep..have, 0);
        base += keep as u64;
        have -= keep;
    }
}

/// Reads until `buf` is full or the file ends; returns the bytes read.
fn read_full(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    let mut done = 0;
    while done < buf.len() {
        match file.read_at(&mut buf[done..], offset + done as u64) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}

/// Appends `s` as Python's `json.dumps` writes it (`ensure_ascii=True`).
fn write_json_str(out: &mut Vec<u8>, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
    for c in s.chars() {
        match c {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            '\n' => out.extend_from_slice(b"\\n"),
            '\r' => out.extend_from_slice(b"\\r"),
            '\t' => out.extend_from_slice(b"\\t"),
            '\u{8}' => out.extend_from_slice(b"\\b"),
            '\u{c}' => out.extend_from_slice(b"\\f"),
            ' '..='~' => out.push(c as u8),
            _ => {
                // Controls, DEL and non-ASCII: `\uXXXX`, UTF-16 surrogate
                // pairs above U+FFFF.
                let mut units = [0u16; 2];
                for &unit in c.encode_utf16(&mut units).iter() {
                    out.extend_from_slice(b"\\u");
                    for shift in [12, 8, 4, 0] {
                        out.push(HEX[usize::from((unit >> shift) & 0xf)]);
                    }
                }
            }
        }
    }
    out.push(b'"');
}

fn parse_args() -> Result<(Vec<PathBuf>, usize), String> {
    const USAGE: &str = "usage: baseline-yelp FILE... [--threads N]";
    let mut paths = Vec::new();
    let mut threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut args = std::env::args_os().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--threads" {
            threads = args
                .next()
                .and_then(|n| n.to_str()?.parse().ok())
                .filter(|&n| n > 0)
                .ok_or(USAGE)?;
        } else {
            paths.push(PathBuf::from(arg));
        }
    }
    if paths.is_empty() {
        return Err(USAGE.into());
    }
    Ok((paths, threads))
}
