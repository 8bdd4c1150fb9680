//! Where a map task's records come from: a [`RecordSource`], and the
//! sources every runner shares (the lines of a split or of the built-in
//! sample, the pairs of a sorted run's blocks, the pairs of an in-memory
//! buffer). A runner with another kind of input (a Streaming text stream,
//! the named inputs of a join) implements the trait.

use std::io::Cursor as IoCursor;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::io::split::{Split, SplitReader};
use crate::shuffle::buffer::SortBuffer;
use crate::shuffle::merge::Cursor;

/// One input record of a map task.
pub(crate) enum Record<'a> {
    /// A text line, without its line ending: parsed by the step's input
    /// format; a malformed one counts against the bad-record budget.
    Line {
        bytes: &'a [u8],
        /// Its first byte's offset in the (decompressed) file.
        offset: u64,
        /// 1-based, when known (a split that starts at the file's start).
        number: Option<u64>,
    },
    /// An encoded pair of a previous step's output: one that does not
    /// decode is corruption, never a record to skip.
    Pair { key: &'a [u8], value: &'a [u8] },
}

/// A map task's input.
pub(crate) trait RecordSource {
    /// The next record, `None` at the end.
    fn next_record(&mut self) -> Result<Option<Record<'_>>>;

    /// The input's name in error locations (a path as given, `<stdin>`),
    /// for sources of lines.
    fn name(&self) -> Option<&Path> {
        None
    }

    /// The input file, as `Emitter::input_path` tells the mapper.
    fn input_path(&self) -> Option<Arc<PathBuf>> {
        None
    }

    /// The named input (`--input NAME=PATH`) the records are of.
    fn input_name(&self) -> Option<Arc<str>> {
        None
    }

    /// Where a split handed over as a stream starts, when line numbers
    /// count from there (see `Location::split_start`).
    fn split_start(&self) -> Option<u64> {
        None
    }

    /// After a malformed record: the decoder's error that explains it, if
    /// the input is compressed and its decoder fails a little further on.
    fn decode_error_ahead(&mut self) -> Option<Error> {
        None
    }

    /// Input bytes the task owned, once `next_record` returned `None`
    /// (over every file, for a source of several).
    fn bytes_read(&self) -> u64 {
        0
    }

    /// Moves on to the next file of a source that reads several (small
    /// files packed into one map task), once `next_record` returned
    /// `None`: `false` when there is none. The name, input path and split
    /// start are then the new file's.
    fn next_file(&mut self) -> Result<bool> {
        Ok(false)
    }
}

/// The lines of several whole files in turn: one map task over small files
/// packed together (Hadoop's `CombineFileInputFormat`), each file opened
/// only when the one before it is done.
pub(crate) struct FileSequence {
    splits: std::vec::IntoIter<Split>,
    current: LineSource,
    max_line: u64,
    /// Bytes of the files already read.
    done_bytes: u64,
}

impl FileSequence {
    /// Opens the first of `splits` (at least one).
    pub(crate) fn open(splits: Vec<Split>, max_line: u64) -> Result<Self> {
        let mut splits = splits.into_iter();
        let first = splits
            .next()
            .ok_or_else(|| Error::Internal("a packed map task with no file".into()))?;
        Ok(FileSequence {
            current: LineSource::open(&first, max_line)?,
            splits,
            max_line,
            done_bytes: 0,
        })
    }
}

impl RecordSource for FileSequence {
    fn next_record(&mut self) -> Result<Option<Record<'_>>> {
        self.current.next_record()
    }

    fn name(&self) -> Option<&Path> {
        self.current.name()
    }

    fn input_path(&self) -> Option<Arc<PathBuf>> {
        self.current.input_path()
    }

    fn input_name(&self) -> Option<Arc<str>> {
        self.current.input_name()
    }

    fn split_start(&self) -> Option<u64> {
        self.current.split_start()
    }

    fn decode_error_ahead(&mut self) -> Option<Error> {
        self.current.decode_error_ahead()
    }

    fn bytes_read(&self) -> u64 {
        self.done_bytes + self.current.bytes_read()
    }

    fn next_file(&mut self) -> Result<bool> {
        let Some(split) = self.splits.next() else {
            return Ok(false);
        };
        self.done_bytes += self.current.bytes_read();
        self.current = LineSource::open(&split, self.max_line)?;
        Ok(true)
    }
}

/// The lines of a split of a text input, or of the built-in sample.
pub(crate) struct LineSource {
    reader: SplitReader,
    path: Option<Arc<PathBuf>>,
    input: Option<Arc<str>>,
}

impl LineSource {
    /// Opens `split`; a line longer than `max_line` bytes fails the task.
    pub(crate) fn open(split: &Split, max_line: u64) -> Result<Self> {
        Ok(LineSource {
            reader: SplitReader::open(split, max_line)?,
            path: split.source.path().map(|p| Arc::new(p.to_path_buf())),
            input: split.input.clone(),
        })
    }

    /// Lines from `reader`, already positioned: a Streaming task's input.
    pub(crate) fn from_reader(reader: SplitReader, path: Option<Arc<PathBuf>>, input: Option<Arc<str>>) -> Self {
        LineSource { reader, path, input }
    }

    /// The job's built-in sample, as one split.
    pub(crate) fn sample(bytes: &[u8]) -> Self {
        LineSource {
            reader: SplitReader::whole(
                Box::new(IoCursor::new(bytes.to_vec())),
                PathBuf::from("<built-in sample>"),
            ),
            path: None,
            input: None,
        }
    }
}

impl RecordSource for LineSource {
    fn next_record(&mut self) -> Result<Option<Record<'_>>> {
        Ok(self.reader.next_line()?.map(|line| Record::Line {
            bytes: line.bytes,
            offset: line.offset,
            number: line.number,
        }))
    }

    fn name(&self) -> Option<&Path> {
        Some(self.reader.name())
    }

    fn input_path(&self) -> Option<Arc<PathBuf>> {
        self.path.clone()
    }

    fn input_name(&self) -> Option<Arc<str>> {
        self.input.clone()
    }

    fn split_start(&self) -> Option<u64> {
        self.reader.split_start()
    }

    fn decode_error_ahead(&mut self) -> Option<Error> {
        self.reader.decode_error_ahead()
    }

    fn bytes_read(&self) -> u64 {
        self.reader.owned_bytes()
    }
}

/// The pairs of a sorted stream: blocks of a run file a previous step
/// wrote.
pub(crate) struct CursorSource<C: Cursor>(pub(crate) C);

impl<C: Cursor> RecordSource for CursorSource<C> {
    fn next_record(&mut self) -> Result<Option<Record<'_>>> {
        Ok(self.0.advance()?.then(|| Record::Pair {
            key: self.0.key(),
            value: self.0.value(),
        }))
    }
}

/// The pairs of an in-memory buffer, in its order.
pub(crate) struct BufferSource<'a> {
    buf: &'a SortBuffer,
    next: usize,
}

impl<'a> BufferSource<'a> {
    pub(crate) fn new(buf: &'a SortBuffer) -> Self {
        BufferSource { buf, next: 0 }
    }
}

impl RecordSource for BufferSource<'_> {
    fn next_record(&mut self) -> Result<Option<Record<'_>>> {
        if self.next >= self.buf.len() {
            return Ok(None);
        }
        let (_, key, value) = self.buf.get(self.next);
        self.next += 1;
        Ok(Some(Record::Pair { key, value }))
    }
}
