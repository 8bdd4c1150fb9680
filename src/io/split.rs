//! Input splits: cutting input files into HDFS-style blocks that map tasks
//! read independently, and reading exactly the lines a split owns.
//!
//! Sizes follow Hadoop's `FileInputFormat`: the split size is
//! `max(min, min(max, block))`, and a file is cut while more than 1.1 split
//! sizes remain (the last split takes up to 10% extra rather than leaving a
//! sliver). Only a regular file whose content is plain text is cut
//! (content, not its name, decides: see [`crate::io::compression`]);
//! compressed files, standard input and other streams are one split each.
//!
//! Line ownership (Hadoop's `LineRecordReader`): a split that does not
//! start at offset 0 skips everything up to and including the first `\n`
//! at or after its start (that line belongs to the previous split), and a
//! split reads every line that *starts* at or before its end, so it reads
//! through the line that crosses its end. Every line is read exactly once,
//! whatever the block size, down to 1 byte.
//!
//! A split that reaches the end of its file before its planned end (the
//! file shrank after the job was planned) is [`Error::InputChanged`], not
//! a short answer.
//!
//! Files are read with large buffered reads (`pread`-style: open, seek,
//! read sequentially), not `mmap`: a file truncated under a map kills the
//! process with SIGBUS, and sequential reads are as fast for one pass.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::io::input::{ERROR_AHEAD, InputSource, decode_opened, open_decoded};
use crate::io::lines::{DEFAULT_MAX_LINE_LENGTH, Line, LineReader};
use crate::io::stamp::FileId;

/// Hadoop's split slop: cut while more than this many split sizes remain.
const SPLIT_SLOP: f64 = 1.1;

/// A byte range of one input that a map task reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split {
    /// What to read.
    pub source: InputSource,
    /// First byte (0 for unsplittable inputs).
    pub start: u64,
    /// Length in bytes; `None` for an unsplittable input, read to its end.
    pub len: Option<u64>,
    /// The whole file's size when the split was planned (`None` with `len`).
    pub file_len: Option<u64>,
    /// The named input (`--input NAME=PATH`) the file was given as, for a
    /// step with one mapper per input.
    pub input: Option<Arc<str>>,
    /// Which file the path named when the split was planned (`None` with
    /// `len`): a split whose open finds another file there (replaced by
    /// rename) is [`Error::InputChanged`].
    pub file_id: Option<FileId>,
}

impl Split {
    /// One byte past the split's range, `None` if it runs to the end.
    pub fn end(&self) -> Option<u64> {
        self.len.map(|l| self.start + l)
    }
}

/// Whether an input can be cut into byte ranges: a regular file (or a
/// spooled copy) whose content is not compressed.
pub fn is_splittable(source: &InputSource) -> Result<bool> {
    let Some(path) = source.read_path() else {
        return Ok(false);
    };
    let meta = std::fs::metadata(path).map_err(|e| Error::io(source.error_name(), e))?;
    Ok(meta.is_file() && source.codec()?.is_none())
}

/// Hadoop's split size.
pub fn split_size(block: u64, min: u64, max: u64) -> u64 {
    min.max(max.min(block)).max(1)
}

/// Cuts `len` bytes into `(start, len)` ranges of `size`, the last taking
/// up to 10% extra. An empty file still gets one (empty) split, so its map
/// task runs `setup` and `cleanup`.
pub fn cut(len: u64, size: u64) -> Vec<(u64, u64)> {
    let size = size.max(1);
    let mut out = Vec::new();
    let mut start = 0;
    let mut remaining = len;
    while remaining as f64 / size as f64 > SPLIT_SLOP {
        out.push((start, size));
        start += size;
        remaining -= size;
    }
    if remaining > 0 || out.is_empty() {
        out.push((start, remaining));
    }
    out
}

/// The splits of `inputs`, in input order.
pub fn compute_splits(inputs: &[InputSource], split_bytes: u64) -> Result<Vec<Split>> {
    let mut splits = Vec::new();
    for source in inputs {
        match source.read_path() {
            Some(path) if is_splittable(source)? => {
                let meta = std::fs::metadata(path).map_err(|e| Error::io(source.error_name(), e))?;
                let file_len = meta.len();
                let file_id = FileId::of(&meta);
                for (start, len) in cut(file_len, split_bytes) {
                    splits.push(Split {
                        source: source.clone(),
                        start,
                        len: Some(len),
                        file_len: Some(file_len),
                        input: None,
                        file_id,
                    });
                }
            }
            _ => splits.push(Split {
                source: source.clone(),
                start: 0,
                len: None,
                file_len: None,
                input: None,
                file_id: None,
            }),
        }
    }
    Ok(splits)
}

/// The splits of one input given under the name `input` (for a step
/// with one mapper per named input).
pub(crate) fn named_splits(source: &InputSource, input: Option<&Arc<str>>, split_bytes: u64) -> Result<Vec<Split>> {
    let mut splits = compute_splits(std::slice::from_ref(source), split_bytes)?;
    for split in &mut splits {
        split.input = input.cloned();
    }
    Ok(splits)
}

/// The line reader's errors, with offsets in the whole file (the reader
/// started at `base`; line numbers are known only if `numbered`).
fn locate(e: Error, base: u64, numbered: bool, split_start: Option<u64>) -> Error {
    match e {
        Error::LineTooLong { mut location, max } => {
            location.offset = location.offset.map(|o| o + base);
            if !numbered {
                location.line = None;
            }
            location.split_start = split_start;
            Error::LineTooLong { location, max }
        }
        other => other,
    }
}

/// Fails if the file `name` (read from `read_path`) ended at `at`, before
/// the split's planned end (`planned`: that end, and the file's planned
/// size).
fn check_end(planned: Option<(u64, u64)>, read_path: Option<&Path>, name: &Path, at: u64) -> Result<()> {
    match planned {
        Some((end, planned)) if at < end => {
            let now = read_path
                .and_then(|p| std::fs::metadata(p).ok())
                .map_or_else(|| format!("at most {at}"), |m| m.len().to_string());
            Err(Error::InputChanged {
                path: name.to_path_buf(),
                detail: format!(
                    "size {planned} -> {now} bytes (it ended at byte {at}, before this split's planned end at byte {end})"
                ),
            })
        }
        _ => Ok(()),
    }
}

/// Fails if `file`, just opened for `split`, is not the file the split
/// was planned on: every split reopens the path, so after a rename over
/// it some splits would read the old file and some the new.
fn check_same_file(file: &File, split: &Split, name: &Path) -> Result<()> {
    let Some(planned) = split.file_id else {
        return Ok(());
    };
    let meta = file.metadata().map_err(|e| Error::io(name, e))?;
    // Only a replacement: a file changed in place is the same file, and
    // its change (size, times) is for the end of the map phase to tell.
    match FileId::of(&meta).filter(|now| !planned.is_same_file(now)) {
        None => Ok(()),
        Some(_) => Err(Error::InputChanged {
            path: name.to_path_buf(),
            detail: format!("{} (found opening its split at byte {})", FileId::REPLACED, split.start),
        }),
    }
}

/// Reads the lines a split owns, with their offsets in the whole file.
pub struct SplitReader {
    lines: LineReader<Box<dyn Read + Send>>,
    /// File offset of the line reader's first byte.
    base: u64,
    /// Lines starting after this offset belong to the next split.
    last_start: Option<u64>,
    /// Whether line numbers are known (the split starts at the file's start).
    numbered: bool,
    /// A streamed split's start after byte 0: line numbers count from it.
    split_start: Option<u64>,
    done: bool,
    name: PathBuf,
    /// Offset of the first owned line, and of the first byte past the last.
    owned: Option<(u64, u64)>,
    /// Where the split was planned to end, and the file's planned size.
    planned: Option<(u64, u64)>,
    /// The file that is read, to tell its size now if it shrank.
    read_path: Option<PathBuf>,
    /// Whether the data is decoded (so a malformed record may be a
    /// decoder's garbage).
    decoded: bool,
}

/// A line of a split.
#[derive(Debug, Clone, Copy)]
pub struct SplitLine<'a> {
    /// Offset of the line's first byte in the (decompressed) file.
    pub offset: u64,
    /// 1-based line number, when the split starts at the file's start.
    pub number: Option<u64>,
    /// The line without its `\n` or `\r\n`.
    pub bytes: &'a [u8],
}

impl SplitReader {
    /// Opens `split`, positioned at its first owned line; a line longer
    /// than `max_line` bytes is [`Error::LineTooLong`].
    pub fn open(split: &Split, max_line: u64) -> Result<Self> {
        let name = split.source.error_name();
        let file = match split.source.read_path() {
            Some(path) => {
                let file = File::open(path).map_err(|e| Error::io(&name, e))?;
                check_same_file(&file, split, &name)?;
                Some(file)
            }
            None => None,
        };
        let (reader, base, decoded): (Box<dyn Read + Send>, u64, bool) = match (file, split.start) {
            (Some(mut file), start) if start > 0 => {
                file.seek(SeekFrom::Start(start)).map_err(|e| Error::io(&name, e))?;
                (Box::new(file), start, false)
            }
            (Some(file), _) => {
                let (reader, codec) = decode_opened(&split.source, Box::new(file))?;
                (reader, 0, codec.is_some())
            }
            (None, _) => {
                let (reader, codec) = open_decoded(&split.source)?;
                (reader, 0, codec.is_some())
            }
        };
        let mut reader = SplitReader {
            lines: LineReader::new(reader, name.clone()).with_max_line_length(max_line),
            base,
            last_start: split.end(),
            numbered: base == 0,
            split_start: None,
            done: false,
            name,
            owned: None,
            planned: split.end().zip(split.file_len),
            read_path: split.source.read_path().map(Path::to_path_buf),
            decoded,
        };
        if base > 0 {
            // The partial (or whole) line at our start belongs to the
            // previous split, which reads through the line crossing its end.
            let skipped = reader
                .lines
                .next_line()
                .map_err(|e| locate(e, base, false, None))?
                .is_some();
            if !skipped {
                let at = base + reader.lines.bytes_consumed();
                check_end(reader.planned, reader.read_path.as_deref(), &reader.name, at)?;
                reader.done = true;
            }
        }
        Ok(reader)
    }

    /// Reads all of `reader` as one split (the built-in sample).
    pub fn whole(reader: Box<dyn Read + Send>, name: PathBuf) -> Self {
        SplitReader {
            lines: LineReader::new(reader, name.clone()).with_max_line_length(DEFAULT_MAX_LINE_LENGTH),
            base: 0,
            last_start: None,
            numbered: true,
            split_start: None,
            done: false,
            name,
            owned: None,
            planned: None,
            read_path: None,
            decoded: false,
        }
    }

    /// A split handed over as a stream of its lines (a Streaming task's
    /// stdin) that starts at byte `start` of its file. After byte 0 the
    /// engine has skipped the split's partial first line, unseen here:
    /// offsets the mapper sees count from `start` as if the first whole
    /// line began there, and error locations name the line within the
    /// split instead ([`Location::split_start`](crate::error::Location)).
    pub fn streamed(reader: Box<dyn Read + Send>, name: PathBuf, start: u64, max_line_length: u64) -> Self {
        let mut split = SplitReader::whole(reader, name);
        split.lines = split.lines.with_max_line_length(max_line_length);
        split.base = start;
        split.split_start = (start > 0).then_some(start);
        split
    }

    /// See [`streamed`](Self::streamed).
    pub fn split_start(&self) -> Option<u64> {
        self.split_start
    }

    /// After a malformed record: the decoder's error that explains it, if
    /// the input is compressed and its decoder fails a little further on
    /// (see [`LineReader`]'s note on corrupt bzip2 blocks).
    pub fn decode_error_ahead(&mut self) -> Option<Error> {
        if !self.decoded {
            return None;
        }
        self.lines.error_ahead(ERROR_AHEAD)
    }

    /// The input's name, for error messages.
    pub fn name(&self) -> &Path {
        &self.name
    }

    /// The next owned line, or `None`.
    pub fn next_line(&mut self) -> Result<Option<SplitLine<'_>>> {
        if self.done {
            return Ok(None);
        }
        let base = self.base;
        let numbered = self.numbered;
        let last_start = self.last_start;
        // At the end of input nothing more is consumed, so this is the end.
        let before = base + self.lines.bytes_consumed();
        let line = match self.lines.next_line() {
            Ok(line) => line,
            Err(e) => return Err(locate(e, base, numbered, self.split_start)),
        };
        match line {
            None => {
                check_end(self.planned, self.read_path.as_deref(), &self.name, before)?;
                self.done = true;
                let end = before;
                self.owned = self.owned.map(|(first, _)| (first, end));
                Ok(None)
            }
            Some(Line { offset, number, bytes }) => {
                let offset = base + offset;
                if last_start.is_some_and(|end| offset > end) {
                    self.done = true;
                    self.owned = self.owned.map(|(first, _)| (first, offset));
                    return Ok(None);
                }
                if self.owned.is_none() {
                    self.owned = Some((offset, offset));
                }
                Ok(Some(SplitLine {
                    offset,
                    number: numbered.then_some(number),
                    bytes,
                }))
            }
        }
    }

    /// Bytes of the lines this split owns (line endings included), once
    /// `next_line` has returned `None`: over all splits of a file, its size.
    pub fn owned_bytes(&self) -> u64 {
        self.owned.map_or(0, |(first, end)| end - first)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines_of(data: &[u8], split_bytes: u64) -> Vec<(u64, Vec<u8>)> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.txt");
        std::fs::write(&path, data).unwrap();
        let splits = compute_splits(&[InputSource::File(path)], split_bytes).unwrap();
        let mut out = Vec::new();
        let mut owned = 0;
        for s in &splits {
            let mut r = SplitReader::open(s, DEFAULT_MAX_LINE_LENGTH).unwrap();
            while let Some(l) = r.next_line().unwrap() {
                out.push((l.offset, l.bytes.to_vec()));
            }
            owned += r.owned_bytes();
        }
        assert_eq!(owned, data.len() as u64, "owned bytes add up to the file");
        out
    }

    fn naive(data: &[u8]) -> Vec<(u64, Vec<u8>)> {
        let mut out = Vec::new();
        let mut start = 0usize;
        while start < data.len() {
            let end = data[start..]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(data.len(), |i| start + i);
            let mut line = &data[start..end];
            if end < data.len() {
                line = line.strip_suffix(b"\r").unwrap_or(line);
            }
            out.push((start as u64, line.to_vec()));
            start = end + 1;
        }
        out
    }

    #[test]
    fn every_line_is_read_exactly_once_at_every_block_size() {
        let cases: [&[u8]; 6] = [
            b"",
            b"\n",
            b"a",
            b"ab\ncd\r\n\n\nefg\nh",
            b"one line that is long\nand another\n",
            b"\n\n\nx\n\n",
        ];
        for data in cases {
            for size in 1..=(data.len() as u64 + 2) {
                assert_eq!(lines_of(data, size), naive(data), "{data:?} split every {size} bytes");
            }
        }
        let mut big = Vec::new();
        let mut x = 7u64;
        for _ in 0..3000 {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            big.push(match x >> 61 {
                0 => b'\n',
                1 => b'\r',
                _ => b'a' + (x >> 58 & 7) as u8,
            });
        }
        for size in [1, 2, 3, 5, 7, 16, 100, 1000, 4096] {
            assert_eq!(lines_of(&big, size), naive(&big), "split every {size}");
        }
    }

    #[test]
    fn split_sizes_follow_hadoop() {
        assert_eq!(split_size(64, 1, u64::MAX), 64);
        assert_eq!(split_size(64, 100, u64::MAX), 100);
        assert_eq!(split_size(64, 1, 10), 10);
        assert_eq!(cut(0, 10), vec![(0, 0)]);
        assert_eq!(cut(10, 10), vec![(0, 10)]);
        assert_eq!(cut(11, 10), vec![(0, 11)], "within the 10% slop");
        assert_eq!(cut(12, 10), vec![(0, 10), (10, 2)]);
        assert_eq!(cut(35, 10), vec![(0, 10), (10, 10), (20, 10), (30, 5)]);
    }

    #[test]
    fn compressed_and_stdin_are_one_split() {
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("a.json");
        std::fs::write(&plain, b"{}\n").unwrap();
        assert!(!is_splittable(&InputSource::Stdin).unwrap());
        assert!(is_splittable(&InputSource::File(plain)).unwrap());
    }

    /// The planner asks the same table as the reader: content decides.
    #[test]
    fn issue8_splittable_is_decided_by_content() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(b"one\ntwo\n").unwrap();
        let gz = gz.finish().unwrap();
        let misnamed = dir.path().join("data.txt");
        std::fs::write(&misnamed, &gz).unwrap();
        let src = InputSource::File(misnamed);
        assert!(!is_splittable(&src).unwrap());
        let splits = compute_splits(std::slice::from_ref(&src), 4).unwrap();
        assert_eq!(splits.len(), 1, "a compressed file is one split");
        let mut r = SplitReader::open(&splits[0], DEFAULT_MAX_LINE_LENGTH).unwrap();
        let mut lines = Vec::new();
        while let Some(l) = r.next_line().unwrap() {
            lines.push(l.bytes.to_vec());
        }
        assert_eq!(lines, [b"one".to_vec(), b"two".to_vec()]);
        let zst = dir.path().join("x.zst");
        std::fs::write(&zst, zstd::stream::encode_all(&b"a\nb\n"[..], 3).unwrap()).unwrap();
        assert!(!is_splittable(&InputSource::File(zst)).unwrap());
        #[cfg(unix)]
        assert!(
            !is_splittable(&InputSource::File("/dev/null".into())).unwrap(),
            "not a regular file"
        );
    }

    #[test]
    fn issue8_split_that_ends_early_is_input_changed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.txt");
        let data: Vec<u8> = (0..1000u32).flat_map(|i| format!("{i}\n").into_bytes()).collect();
        std::fs::write(&path, &data).unwrap();
        let splits = compute_splits(&[InputSource::File(path.clone())], 1000).unwrap();
        assert!(splits.len() > 2);
        std::fs::write(&path, &data[..1500]).unwrap();
        for (i, split) in splits.iter().enumerate() {
            let result = SplitReader::open(split, DEFAULT_MAX_LINE_LENGTH).and_then(|mut r| {
                while r.next_line()?.is_some() {}
                Ok(())
            });
            if split.end().unwrap() <= 1500 {
                assert!(result.is_ok(), "split {i}: {result:?}");
                continue;
            }
            let err = result.unwrap_err();
            assert!(matches!(err, Error::InputChanged { .. }), "split {i}: {err:?}");
            let msg = err.to_string();
            assert!(msg.contains("f.txt changed while the job read it"), "{msg}");
            assert!(msg.contains(&format!("size {} -> 1500 bytes", data.len())), "{msg}");
        }
    }

    #[test]
    fn issue8_long_line_in_a_later_split_names_its_file_offset() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.txt");
        let mut data = b"short\n".repeat(100);
        data.extend(std::iter::repeat_n(b'x', 5000));
        data.push(b'\n');
        std::fs::write(&path, &data).unwrap();
        let splits = compute_splits(&[InputSource::File(path)], 1000).unwrap();
        let mut errors = Vec::new();
        for split in &splits {
            let result = SplitReader::open(split, 100).and_then(|mut r| {
                while r.next_line()?.is_some() {}
                Ok(())
            });
            if let Err(e) = result {
                errors.push(e.to_string());
            }
        }
        assert!(!errors.is_empty());
        assert!(errors[0].contains("f.txt, line 101 (byte offset 600)"), "{errors:?}");
    }
}
