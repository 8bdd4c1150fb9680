//! Splitting a byte stream into lines, each with its byte offset and line
//! number.
//!
//! This module owns the hot loop of every text input: it must not allocate or
//! copy per line, so lines are handed out as slices of one internal buffer
//! that is refilled (and compacted) only when a line runs past its end.
//! The buffer never grows past the maximum line length (Hadoop's
//! `mapreduce.input.linerecordreader.line.maxlength`): a stream without
//! newlines (`/dev/zero`) is an error once that much is buffered, not a
//! process that eats all memory.

use std::io::{ErrorKind, Read};
use std::path::{Path, PathBuf};

use crate::error::{Error, Location, Result};

/// The default maximum line length: far past any real record, small
/// enough that one buffered line per worker fits in memory.
pub const DEFAULT_MAX_LINE_LENGTH: u64 = 64 << 20;

/// Big enough that refills (and the copy of a partial line they imply) are
/// rare, small enough that one reader per input costs little.
const DEFAULT_CAPACITY: usize = 256 * 1024;

/// One line of input, borrowed from the reader until its next call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Line<'a> {
    /// Byte offset of the line's first byte in the (decompressed) stream.
    pub offset: u64,
    /// 1-based line number.
    pub number: u64,
    /// The line without its `\n` or `\r\n`.
    pub bytes: &'a [u8],
}

/// Reads lines from any [`Read`], tracking offsets and line numbers.
pub struct LineReader<R> {
    inner: R,
    /// Named in read errors: the file, or `-` for standard input.
    name: PathBuf,
    buf: Vec<u8>,
    /// Unconsumed data is `buf[start..end]`.
    start: usize,
    end: usize,
    /// `buf[start..scanned]` is known to hold no `\n`, so a long line that
    /// needs several refills is scanned once, not once per refill.
    scanned: usize,
    /// Stream offset of `buf[start]`.
    offset: u64,
    /// Number of lines handed out so far.
    number: u64,
    eof: bool,
    /// Longest line allowed, without its line ending.
    max_line: usize,
}

impl<R: Read> LineReader<R> {
    /// A reader over `inner`; `name` (a path, or `-` for standard input) is
    /// what read errors name.
    pub fn new(inner: R, name: impl Into<PathBuf>) -> Self {
        Self::with_capacity(inner, name, DEFAULT_CAPACITY)
    }

    /// Like [`LineReader::new`] with an initial buffer of `capacity` bytes
    /// (at least 1); tests use tiny buffers to force refills everywhere.
    pub(crate) fn with_capacity(inner: R, name: impl Into<PathBuf>, capacity: usize) -> Self {
        LineReader {
            inner,
            name: name.into(),
            buf: vec![0; capacity.max(1)],
            start: 0,
            end: 0,
            scanned: 0,
            offset: 0,
            number: 0,
            eof: false,
            max_line: usize::try_from(DEFAULT_MAX_LINE_LENGTH).unwrap_or(usize::MAX),
        }
    }

    /// Sets the longest line allowed (without its line ending), at least 1;
    /// a longer one is [`Error::LineTooLong`]. The default is
    /// [`DEFAULT_MAX_LINE_LENGTH`].
    pub fn with_max_line_length(mut self, max: u64) -> Self {
        self.max_line = usize::try_from(max.max(1)).unwrap_or(usize::MAX);
        self
    }

    /// After a malformed record in decoded data: the decoder's error on
    /// what follows, if it fails within `limit` more bytes. A corrupt
    /// bzip2 block decodes to garbage whose checksum is checked only at
    /// the block's end, so the garbage reaches the mapper first; the
    /// decoder's error, naming the file, is the one to report.
    pub(crate) fn error_ahead(&mut self, limit: u64) -> Option<Error> {
        let stop = self.offset.saturating_add(limit);
        while self.offset < stop {
            match self.next_line() {
                Ok(Some(_)) => {}
                Ok(None) => return None,
                Err(e @ Error::Io { .. }) => return Some(e),
                Err(_) => return None,
            }
        }
        None
    }

    /// The error for the line starting at `buf[start]`.
    fn too_long(&self) -> Error {
        Error::LineTooLong {
            location: Location {
                path: Some(self.name.clone()),
                line: Some(self.number + 1),
                offset: Some(self.offset),
                split_start: None,
            },
            max: self.max_line as u64,
        }
    }

    /// Bytes of the stream consumed so far: through the end (line ending
    /// included) of the last line returned, or the whole stream once
    /// `next_line` has returned `None`.
    pub fn bytes_consumed(&self) -> u64 {
        self.offset
    }

    /// The name read errors use.
    pub fn name(&self) -> &Path {
        &self.name
    }

    /// The next line without its `\n` or `\r\n`, with the byte offset of its
    /// first byte in the (decompressed) stream and its 1-based line number.
    /// `None` at end of input.
    pub fn next_line(&mut self) -> Result<Option<Line<'_>>> {
        // Indices are computed first and the slice taken after the loop, so
        // that the borrow of `buf` does not overlap the refills.
        let (line_end, next_start) = loop {
            if let Some(i) = memchr::memchr(b'\n', &self.buf[self.scanned..self.end]) {
                let nl = self.scanned + i;
                let line_end = if nl > self.start && self.buf[nl - 1] == b'\r' {
                    nl - 1
                } else {
                    nl
                };
                if line_end - self.start > self.max_line {
                    return Err(self.too_long());
                }
                break (line_end, nl + 1);
            }
            self.scanned = self.end;
            if self.eof {
                if self.start == self.end {
                    return Ok(None);
                }
                if self.end - self.start > self.max_line {
                    return Err(self.too_long());
                }
                // A last line without a newline; a `\r` at its end is data,
                // since it precedes no `\n`.
                break (self.end, self.end);
            }
            // One byte of slack: a `\r` the next read may show to precede
            // a `\n` is not part of the line.
            if self.end - self.start > self.max_line.saturating_add(1) {
                return Err(self.too_long());
            }
            self.fill()?;
        };
        let line_start = self.start;
        let offset = self.offset;
        self.offset += (next_start - line_start) as u64;
        self.start = next_start;
        self.scanned = next_start;
        self.number += 1;
        Ok(Some(Line {
            offset,
            number: self.number,
            bytes: &self.buf[line_start..line_end],
        }))
    }

    /// Reads more data after `end`, making room first by moving the partial
    /// line to the front or, when it fills the whole buffer, by growing it.
    fn fill(&mut self) -> Result<()> {
        if self.end == self.buf.len() {
            if self.start > 0 {
                self.buf.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.scanned -= self.start;
                self.start = 0;
            } else {
                // Never past what a longest line and its `\r\n` need,
                // which `next_line` checked this line is within.
                let len = self.buf.len();
                let cap = self.max_line.saturating_add(2).max(len + 1);
                self.buf.resize(len.saturating_mul(2).min(cap), 0);
            }
        }
        loop {
            match self.inner.read(&mut self.buf[self.end..]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(());
                }
                Ok(n) => {
                    self.end += n;
                    return Ok(());
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(Error::io(&self.name, e)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io;

    /// All lines as (offset, number, bytes), read with the given capacity.
    fn read_all(data: &[u8], capacity: usize) -> Vec<(u64, u64, Vec<u8>)> {
        let mut r = LineReader::with_capacity(data, "test", capacity);
        let mut out = Vec::new();
        while let Some(l) = r.next_line().unwrap() {
            out.push((l.offset, l.number, l.bytes.to_vec()));
        }
        // End of input is sticky.
        assert!(r.next_line().unwrap().is_none());
        out
    }

    /// The obvious implementation, to check the fast one against.
    fn naive(data: &[u8]) -> Vec<(u64, u64, Vec<u8>)> {
        let mut out = Vec::new();
        let mut offset = 0u64;
        let mut rest = data;
        while !rest.is_empty() {
            let (line, consumed) = match rest.iter().position(|&b| b == b'\n') {
                Some(i) => {
                    let line = rest[..i].strip_suffix(b"\r").unwrap_or(&rest[..i]);
                    (line, i + 1)
                }
                None => (rest, rest.len()),
            };
            out.push((offset, out.len() as u64 + 1, line.to_vec()));
            offset += consumed as u64;
            rest = &rest[consumed..];
        }
        out
    }

    fn lines(data: &[u8]) -> Vec<Vec<u8>> {
        read_all(data, DEFAULT_CAPACITY)
            .into_iter()
            .map(|(_, _, b)| b)
            .collect()
    }

    #[test]
    fn crlf_is_stripped() {
        assert_eq!(lines(b"a\r\nb\r\n"), vec![b"a".to_vec(), b"b".to_vec()]);
    }

    #[test]
    fn lone_cr_stays() {
        assert_eq!(lines(b"a\rb\nc\r"), vec![b"a\rb".to_vec(), b"c\r".to_vec()]);
        assert_eq!(lines(b"\r\r\n"), vec![b"\r".to_vec()]);
    }

    #[test]
    fn missing_final_newline() {
        assert_eq!(lines(b"a\nb"), vec![b"a".to_vec(), b"b".to_vec()]);
    }

    #[test]
    fn empty_input() {
        assert!(lines(b"").is_empty());
    }

    #[test]
    fn blank_lines() {
        assert_eq!(lines(b"\n\n"), vec![Vec::<u8>::new(), Vec::new()]);
        assert_eq!(lines(b"a\n"), vec![b"a".to_vec()]);
        assert_eq!(lines(b"\r\n"), vec![Vec::<u8>::new()]);
    }

    #[test]
    fn offsets_and_numbers() {
        let got = read_all(b"ab\r\n\ncde\nf", DEFAULT_CAPACITY);
        assert_eq!(
            got,
            vec![
                (0, 1, b"ab".to_vec()),
                (4, 2, Vec::new()),
                (5, 3, b"cde".to_vec()),
                (9, 4, b"f".to_vec()),
            ]
        );
    }

    #[test]
    fn line_longer_than_buffer() {
        let long: Vec<u8> = (0..1000u32).map(|i| b'a' + (i % 26) as u8).collect();
        let mut data = b"x\n".to_vec();
        data.extend_from_slice(&long);
        data.extend_from_slice(b"\r\ny\n");
        data.extend_from_slice(&long);
        for cap in 1..=16 {
            let got = read_all(&data, cap);
            assert_eq!(got, naive(&data), "capacity {cap}");
            assert_eq!(got[1].2, long);
        }
    }

    /// Deterministic xorshift, so failures reproduce without extra crates.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    #[test]
    fn matches_naive_split_on_random_input() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let capacities: Vec<usize> = (1..=16).chain([DEFAULT_CAPACITY]).collect();
        for _ in 0..500 {
            let mut data = Vec::new();
            for _ in 0..rng.below(20) {
                let byte = [b'a', b'\n', b'\r'][rng.below(3) as usize];
                let run = 1 + rng.below(if byte == b'a' { 40 } else { 3 });
                data.extend(std::iter::repeat_n(byte, run as usize));
            }
            let want = naive(&data);
            for &cap in &capacities {
                assert_eq!(read_all(&data, cap), want, "capacity {cap}, data {data:?}");
            }
        }
    }

    /// Hands out at most `chunk` bytes per read, with interruptions between,
    /// as pipes and decoders do.
    struct Trickle<'a> {
        data: &'a [u8],
        chunk: usize,
        interrupt: bool,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.interrupt = !self.interrupt;
            if self.interrupt {
                return Err(io::Error::from(ErrorKind::Interrupted));
            }
            let n = self.chunk.min(buf.len()).min(self.data.len());
            buf[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    #[test]
    fn short_reads_and_interrupts() {
        let data = b"one\r\ntwo\n\nthree\rfour\nfive";
        for chunk in 1..=7 {
            for cap in [1, 3, 8, DEFAULT_CAPACITY] {
                let src = Trickle {
                    data,
                    chunk,
                    interrupt: false,
                };
                let mut r = LineReader::with_capacity(src, "t", cap);
                let mut got = Vec::new();
                while let Some(l) = r.next_line().unwrap() {
                    got.push((l.offset, l.number, l.bytes.to_vec()));
                }
                assert_eq!(got, naive(data), "chunk {chunk}, capacity {cap}");
            }
        }
    }

    struct Failing;

    impl Read for Failing {
        fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
            Err(io::Error::new(ErrorKind::InvalidData, "corrupt deflate stream"))
        }
    }

    /// An endless stream without newlines, like `/dev/zero`.
    struct Zeros;

    impl Read for Zeros {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            buf.fill(0);
            Ok(buf.len())
        }
    }

    #[test]
    fn issue8_endless_line_is_an_error_with_bounded_memory() {
        let mut r = LineReader::with_capacity(Zeros, "/dev/zero", 16).with_max_line_length(1000);
        let err = r.next_line().unwrap_err();
        assert!(r.buf.len() <= 1002, "buffered {} bytes", r.buf.len());
        let msg = err.to_string();
        assert!(matches!(err, Error::LineTooLong { max: 1000, .. }), "{err:?}");
        for part in ["/dev/zero", "line 1 (byte offset 0)", "1000 bytes", "--max-line-length"] {
            assert!(msg.contains(part), "{part:?} in {msg}");
        }
        // The default limit holds too (64 MiB, not all of memory).
        let mut r = LineReader::new(Zeros, "z");
        assert!(matches!(r.next_line(), Err(Error::LineTooLong { .. })));
        assert!(r.buf.len() as u64 <= DEFAULT_MAX_LINE_LENGTH + 2);
    }

    #[test]
    fn issue8_max_line_length_is_exact() {
        for cap in [1, 3, 8, 64] {
            let read = |data: &[u8]| -> Result<Vec<Vec<u8>>> {
                let mut r = LineReader::with_capacity(data, "t", cap).with_max_line_length(3);
                let mut out = Vec::new();
                while let Some(l) = r.next_line()? {
                    out.push(l.bytes.to_vec());
                }
                Ok(out)
            };
            assert_eq!(read(b"abc\r\nab\nabc").unwrap().len(), 3, "capacity {cap}");
            let err = read(b"abc\nabcd\r\n").unwrap_err().to_string();
            assert!(err.contains("line 2 (byte offset 4)"), "{err}");
            assert!(read(b"abcd").is_err());
            assert!(read(b"abc\r\r\n").is_err(), "a lone \\r is data");
        }
    }

    #[test]
    fn read_errors_name_the_input() {
        let mut r = LineReader::new(Failing, "logs/part-0.gz");
        let err = r.next_line().unwrap_err();
        assert!(matches!(err, Error::Io { .. }));
        let msg = err.to_string();
        assert!(msg.contains("logs/part-0.gz"), "{msg}");
        assert!(msg.contains("corrupt deflate stream"), "{msg}");
    }
}
