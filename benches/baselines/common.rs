//! What the baselines share: their command line, reading a byte range of
//! a file as whole lines with Hadoop's split rule, and writing a JSON
//! string or float as Python's `json.dumps` does. Included by each baseline with `#[path]`, so every
//! baseline stays one program with no framework.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;

/// A baseline's command line: `FILE... [-o OUT] [--threads N]`.
pub struct Args {
    pub paths: Vec<PathBuf>,
    pub out: Option<PathBuf>,
    pub threads: usize,
}

/// Parses the command line; `-o OUT` is accepted (and required) only when
/// `wants_out`. Errors are `usage`.
pub fn parse_args(usage: &str, wants_out: bool) -> Result<Args, String> {
    let mut parsed = Args {
        paths: Vec::new(),
        out: None,
        threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    let mut args = std::env::args_os().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--threads" {
            parsed.threads = args
                .next()
                .and_then(|n| n.to_str()?.parse().ok())
                .filter(|&n| n > 0)
                .ok_or(usage)?;
        } else if wants_out && arg == "-o" {
            parsed.out = Some(PathBuf::from(args.next().ok_or(usage)?));
        } else {
            parsed.paths.push(PathBuf::from(arg));
        }
    }
    if parsed.paths.is_empty() || parsed.out.is_none() == wants_out {
        return Err(usage.into());
    }
    Ok(parsed)
}

/// Calls `f` with blocks of whole lines (each ending in `\n`, except the
/// file's last line if it has none): exactly the lines of `file` that start
/// in `start..end`, as Hadoop's splits do. The line that crosses `end` is
/// read to its end; the one that crosses `start` belongs to the previous
/// range. Reads are positional (`read_at`), so threads share the file.
pub fn for_each_lines(
    file: &File,
    start: u64,
    end: u64,
    buf: &mut Vec<u8>,
    mut f: impl FnMut(&[u8]),
) -> io::Result<()> {
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
pub fn read_full(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
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

/// Prints word counts as `mr-run word-count` does: one
/// `JSON(word)<TAB>count` line per word, sorted by word (byte order of
/// UTF-8 is code point order: the job's and Python's order).
#[allow(dead_code)] // the word counts' only
pub fn print_word_counts(words: &mut [(String, u64)]) -> io::Result<()> {
    use std::io::Write;
    words.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    let stdout = io::stdout();
    let mut out = io::BufWriter::with_capacity(1 << 20, stdout.lock());
    let mut line = Vec::new();
    for (word, n) in words.iter() {
        line.clear();
        write_json_str(&mut line, word);
        line.push(b'\t');
        line.extend_from_slice(n.to_string().as_bytes());
        line.push(b'\n');
        out.write_all(&line)?;
    }
    out.flush()
}

/// Appends `s` as Python's `json.dumps` writes it (`ensure_ascii=True`).
pub fn write_json_str(out: &mut Vec<u8>, s: &str) {
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

/// Appends the finite float `x` as Python's `repr` (and `json.dumps`)
/// writes it: the shortest digits that read back as `x`, the closest to
/// `x` of those (Rust's `{:e}` finds the shortest but, among several, not
/// always the closest: `156535310851351.62` for Python's `...51.63`), in
/// positional notation from 1e-4 to below 1e16 (`4.0`, `0.0001`,
/// `1000000000000000.0`) and else with Python's exponent (`1e+16`,
/// `1.5e-05`).
#[allow(dead_code)] // not every baseline prints floats
pub fn write_py_float(out: &mut Vec<u8>, x: f64) {
    let shortest = format!("{x:e}");
    let (mut mantissa, mut exp) = shortest.split_once('e').unwrap_or((&shortest, "0"));
    let digits = mantissa.bytes().filter(u8::is_ascii_digit).count();
    // Two shortest candidates fit in one rounding interval only from 16
    // digits on; then the correctly rounded one is the closest.
    let rounded = format!("{x:.*e}", digits - 1);
    if digits >= 16 && rounded != shortest && rounded.parse() == Ok(x) {
        (mantissa, exp) = rounded.split_once('e').unwrap_or((&rounded, "0"));
    }
    let (negative, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => (true, m),
        None => (false, mantissa),
    };
    let digits: Vec<u8> = mantissa.bytes().filter(u8::is_ascii_digit).collect();
    let exp: i32 = exp.parse().unwrap_or(0);
    if negative {
        out.push(b'-');
    }
    if (-4..16).contains(&exp) {
        if exp < 0 {
            out.extend_from_slice(b"0.");
            out.extend(std::iter::repeat_n(b'0', (-exp - 1) as usize));
            out.extend_from_slice(&digits);
        } else {
            let int = exp as usize + 1;
            out.extend_from_slice(&digits[..int.min(digits.len())]);
            out.extend(std::iter::repeat_n(b'0', int.saturating_sub(digits.len())));
            out.push(b'.');
            match digits.get(int..) {
                Some(frac) if !frac.is_empty() => out.extend_from_slice(frac),
                _ => out.push(b'0'),
            }
        }
    } else {
        out.push(digits[0]);
        if digits.len() > 1 {
            out.push(b'.');
            out.extend_from_slice(&digits[1..]);
        }
        out.extend_from_slice(format!("e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs()).as_bytes());
    }
}
