//! The line reader and the split rule (`src/io/lines.rs`,
//! `src/io/split.rs`): whatever the bytes, the buffer size, the read sizes
//! and the split size, every line is read exactly once, with its offset and
//! number, and equals the naive oracle: the bytes cut at each `\n`, a `\r`
//! before the `\n` dropped (a `\r` ending an unterminated last line is
//! data), no line after a final `\n`.
//!
//! Input: the split size (a u16, plus 1; raised so a file has at most 512
//! splits, to keep one exec fast), the line reader's buffer (1 + byte % 64
//! bytes, so refills and growth happen), the most bytes one `read` returns
//! (1 + byte % 16), then the text.

use std::io::Read;

use mapreduce::internals::line_reader_with_capacity;
use mapreduce::io::input::InputSource;
use mapreduce::io::split::{Split, SplitReader, compute_splits};

use super::{Bytes, temp_file};

/// (offset, 1-based number, bytes) of each line.
type Lines = Vec<(u64, u64, Vec<u8>)>;

pub fn check(data: &[u8]) {
    let mut b = Bytes::new(data);
    let split_size = 1 + u64::from(b.u16());
    let capacity = 1 + usize::from(b.u8() % 64);
    let max_read = 1 + usize::from(b.u8() % 16);
    let text = b.rest();
    let expected = naive(text);

    // The line reader alone: a small buffer, short reads.
    let mut reader = line_reader_with_capacity(Trickle { data: text, max_read }, "fuzz", capacity);
    let mut got = Vec::new();
    while let Some(l) = reader.next_line().expect("reading a byte slice cannot fail") {
        got.push((l.offset, l.number, l.bytes.to_vec()));
    }
    assert!(reader.next_line().expect("at the end").is_none(), "the end is sticky");
    assert_eq!(reader.bytes_consumed(), text.len() as u64, "all bytes consumed");
    assert_eq!(got, expected, "LineReader (buffer {capacity}, reads of {max_read})");

    // Splits of the file, as map tasks read them.
    let split_size = split_size.max(text.len() as u64 / 512 + 1);
    let path = temp_file(".txt", text);
    let source = InputSource::File(path.to_path_buf());
    let Ok(splits) = compute_splits(std::slice::from_ref(&source), split_size) else {
        // Content that looks compressed but is not (gzip/bzip2/zstd/xz
        // magic): refused, which the `compressed_input` target covers.
        return;
    };
    if splits.iter().any(|s| s.len.is_none()) {
        // Content sniffed as compressed: one split, decoded; the
        // `compressed_input` target covers it.
        return;
    }
    let mut next_start = 0;
    for s in &splits {
        assert_eq!(s.start, next_start, "splits tile the file");
        next_start += s.len.expect("a plain file is splittable");
    }
    assert_eq!(next_start, text.len() as u64, "splits cover the file");
    let mut got = Vec::new();
    let mut owned = 0;
    for s in &splits {
        let mut r = SplitReader::open(s, u64::MAX).expect("open a split");
        while let Some(l) = r.next_line().expect("read a split") {
            // Line numbers are known only in the split at the file's start.
            let number = l.number.unwrap_or(0);
            assert!(l.number.is_none() || s.start == 0, "a numbered line in split {s:?}");
            got.push((l.offset, number, l.bytes.to_vec()));
        }
        owned += r.owned_bytes();
    }
    assert_eq!(
        owned,
        text.len() as u64,
        "owned bytes add up to the file (split size {split_size})"
    );
    let unnumbered: Lines = expected
        .iter()
        .map(|(o, n, l)| (*o, if got_numbered(&splits, *o) { *n } else { 0 }, l.clone()))
        .collect();
    assert_eq!(got, unnumbered, "lines of splits of {split_size} bytes");

    // The whole input as one unsplittable stream.
    let mut whole = SplitReader::whole(Box::new(std::io::Cursor::new(text.to_vec())), "fuzz".into());
    let mut got = Vec::new();
    while let Some(l) = whole.next_line().expect("read a stream") {
        got.push((
            l.offset,
            l.number.expect("a whole stream is numbered"),
            l.bytes.to_vec(),
        ));
    }
    assert_eq!(got, expected, "SplitReader::whole");
}

/// Whether the line at `offset` is read by the first split (which alone
/// numbers its lines): it starts at or before that split's end.
fn got_numbered(splits: &[Split], offset: u64) -> bool {
    splits.first().is_some_and(|s| s.end().is_none_or(|end| offset <= end))
}

/// The module's documented rule, the obvious way.
pub fn naive(data: &[u8]) -> Lines {
    let mut out = Vec::new();
    let mut offset = 0usize;
    let mut pieces: Vec<&[u8]> = data.split(|&b| b == b'\n').collect();
    // After a final `\n` (or in empty input) the last piece is empty and is
    // no line.
    if pieces.last().is_some_and(|p| p.is_empty()) {
        pieces.pop();
    }
    let n = pieces.len();
    for (i, piece) in pieces.into_iter().enumerate() {
        let terminated = offset + piece.len() < data.len();
        let line = if terminated {
            piece.strip_suffix(b"\r").unwrap_or(piece)
        } else {
            piece
        };
        out.push((offset as u64, i as u64 + 1, line.to_vec()));
        offset += piece.len() + usize::from(terminated);
        debug_assert!(i + 1 < n || offset == data.len());
    }
    out
}

/// Returns at most `max_read` bytes per `read`, as pipes and decompressors
/// may.
struct Trickle<'a> {
    data: &'a [u8],
    max_read: usize,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(self.max_read).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

pub fn seeds() -> Vec<Vec<u8>> {
    let texts: [&[u8]; 6] = [
        b"",
        b"a",
        b"ab\ncd\r\n\n\nefg\nh",
        b"one line that is long\nand another\n",
        b"\r\n\r\r\n\rx\r",
        b"{\"city\":\"Reno\"}\r\n{\"city\":\"Tampa\"}\n",
    ];
    let mut out = Vec::new();
    for (i, t) in texts.iter().enumerate() {
        // Split sizes 1, 2, 3, ...; buffers and reads of a few bytes.
        let mut seed = vec![i as u8, 0, 1 + i as u8, i as u8 * 3];
        seed.extend_from_slice(t);
        out.push(seed);
    }
    out
}
