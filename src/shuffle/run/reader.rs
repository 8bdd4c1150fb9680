//! Reading run files: the validated index, and cursors over a partition
//! or a range of blocks (see the parent module for the layout and checks).

use std::fs::File;
use std::io::{ErrorKind, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use lz4_flex::block::decompress_into;
use xxhash_rust::xxh3::xxh3_64;

use super::*;
use crate::error::{Error, Result};
use crate::shuffle::merge::{Cursor, repeat_error};

/// One partition in the index.
#[derive(Debug, Clone, Copy)]
struct PartitionEntry {
    first_block: usize,
    blocks: usize,
    records: u64,
    raw_bytes: u64,
}

/// A validated index, shared by a file and its cursors.
#[derive(Debug)]
struct Index {
    path: PathBuf,
    file_len: u64,
    compression: Compression,
    index_offset: u64,
    partitions: Vec<PartitionEntry>,
    blocks: Vec<u64>,
    #[cfg_attr(not(test), allow(dead_code))] // checked by the tests
    total_records: u64,
}

impl Index {
    /// Where block `b` ends: where the next one (or the index) starts.
    fn block_end(&self, b: usize) -> u64 {
        self.blocks.get(b + 1).copied().unwrap_or(self.index_offset)
    }
}

/// An opened run file whose header, trailer and index have been checked.
/// Cursors share its index and do not borrow it.
#[derive(Debug, Clone)]
pub struct RunFile {
    index: Arc<Index>,
}

#[cfg(test)]
impl RunFile {
    /// Where the index starts (the tests tamper with the bytes around it).
    pub(super) fn index_offset(&self) -> u64 {
        self.index.index_offset
    }
}

fn read_at(file: &mut File, path: &Path, offset: u64, buf: &mut [u8]) -> Result<()> {
    file.seek(SeekFrom::Start(offset)).map_err(|e| Error::io(path, e))?;
    file.read_exact(buf).map_err(|e| match e.kind() {
        ErrorKind::UnexpectedEof => corrupt(
            path,
            format!("file ends before byte {} (truncated?)", offset + buf.len() as u64),
        ),
        _ => Error::io(path, e),
    })
}

impl RunFile {
    /// Opens `path`, checking its magic, version, trailer and index checksum.
    pub fn open(path: &Path) -> Result<Self> {
        let mut file = File::open(path).map_err(|e| Error::io(path, e))?;
        let file_len = file.metadata().map_err(|e| Error::io(path, e))?.len();
        let bad = |m: String| corrupt(path, m);
        if file_len < HEADER_LEN + TRAILER_LEN {
            return Err(bad(format!(
                "{file_len} bytes is too short for a run file (truncated?)"
            )));
        }
        let mut header = [0u8; HEADER_LEN as usize];
        read_at(&mut file, path, 0, &mut header)?;
        if &header[..5] != MAGIC {
            return Err(bad("not a run file (bad magic number)".into()));
        }
        if header[5] != VERSION {
            return Err(bad(format!(
                "run file version {} is not supported (this build reads version {VERSION})",
                header[5]
            )));
        }
        let compression = Compression::from_code(header[6])
            .ok_or_else(|| bad(format!("unknown compression code {} in the header", header[6])))?;
        if header[7] != 0 {
            return Err(bad("reserved header byte is not zero".into()));
        }
        let mut trailer = [0u8; TRAILER_LEN as usize];
        read_at(&mut file, path, file_len - TRAILER_LEN, &mut trailer)?;
        if &trailer[TRAILER_FIELDS + CHECKSUM_LEN..] != TRAILER_MAGIC {
            return Err(bad("no run file trailer (truncated, or never finished?)".into()));
        }
        let index_offset = le_u64(&trailer, 0);
        let partitions = le_u32(&trailer, 8);
        let index_end = file_len - TRAILER_LEN;
        if !(HEADER_LEN..=index_end).contains(&index_offset) {
            return Err(bad(format!("index offset {index_offset} is outside the file")));
        }
        // Sizes are checked against the file before anything is allocated.
        let index_len = index_end - index_offset;
        let entries_len = u64::from(partitions) * PARTITION_ENTRY_LEN;
        let max_blocks = (index_offset - HEADER_LEN) / MIN_BLOCK_LEN;
        if entries_len > index_len
            || !(index_len - entries_len).is_multiple_of(8)
            || (index_len - entries_len) / 8 > max_blocks
        {
            return Err(bad(format!(
                "index of {index_len} bytes at offset {index_offset} does not fit {partitions} partitions"
            )));
        }
        let n_blocks = ((index_len - entries_len) / 8) as usize;
        let mut buf = Vec::with_capacity(HEADER_LEN as usize + index_len as usize + TRAILER_FIELDS);
        buf.extend_from_slice(&header);
        buf.resize(HEADER_LEN as usize + index_len as usize, 0);
        read_at(&mut file, path, index_offset, &mut buf[HEADER_LEN as usize..])?;
        buf.extend_from_slice(&trailer[..TRAILER_FIELDS]);
        if xxh3_64(&buf) != le_u64(&trailer, TRAILER_FIELDS) {
            return Err(bad(format!(
                "index checksum mismatch (index at byte offset {index_offset})"
            )));
        }
        let entries = &buf[HEADER_LEN as usize..HEADER_LEN as usize + entries_len as usize];
        let offsets = &buf[HEADER_LEN as usize + entries_len as usize..HEADER_LEN as usize + index_len as usize];

        // The checksum vouches for the bytes; these checks make a file that
        // passes it yet is inconsistent (a writer bug, a crafted file) fail
        // cleanly instead of misleading a cursor.
        let mut blocks = Vec::with_capacity(n_blocks);
        // Where the next block may start at the earliest.
        let mut min_next = HEADER_LEN;
        for chunk in offsets.chunks_exact(8) {
            let off = le_u64(chunk, 0);
            let in_order = if blocks.is_empty() {
                off == HEADER_LEN
            } else {
                off >= min_next
            };
            if !in_order {
                return Err(bad(format!("index: block offset {off} is out of order")));
            }
            blocks.push(off);
            min_next = off.saturating_add(MIN_BLOCK_LEN);
        }
        if min_next > index_offset || (blocks.is_empty() && index_offset != HEADER_LEN) {
            return Err(bad(format!(
                "index: the blocks do not end where the index starts (byte offset {index_offset})"
            )));
        }
        let mut parts = Vec::with_capacity(partitions as usize);
        let mut first_block = 0usize;
        let mut total_records = 0u64;
        for (p, e) in entries.chunks_exact(PARTITION_ENTRY_LEN as usize).enumerate() {
            let (first_offset, count, records, raw_bytes) = (le_u64(e, 0), le_u64(e, 8), le_u64(e, 16), le_u64(e, 24));
            let expected_first = blocks.get(first_block).copied().unwrap_or(index_offset);
            if count > (n_blocks - first_block) as u64 || first_offset != expected_first || records < count {
                return Err(bad(format!("index entry of partition {p} is inconsistent")));
            }
            total_records = total_records
                .checked_add(records)
                .ok_or_else(|| bad("index: record count overflows".into()))?;
            parts.push(PartitionEntry {
                first_block,
                blocks: count as usize,
                records,
                raw_bytes,
            });
            first_block += count as usize;
        }
        if first_block != n_blocks {
            return Err(bad(format!(
                "index lists {n_blocks} blocks but its partitions hold {first_block}"
            )));
        }
        Ok(RunFile {
            index: Arc::new(Index {
                path: path.to_path_buf(),
                file_len,
                compression,
                index_offset,
                partitions: parts,
                blocks,
                total_records,
            }),
        })
    }

    #[cfg(test)]
    pub fn compression(&self) -> Compression {
        self.index.compression
    }

    #[cfg(test)]
    pub fn partitions(&self) -> u32 {
        self.index.partitions.len() as u32
    }

    #[cfg(test)]
    /// Records in `partition` (0 past the last partition).
    pub fn records(&self, partition: u32) -> u64 {
        self.index.partitions.get(partition as usize).map_or(0, |p| p.records)
    }

    #[cfg(test)]
    /// Raw key and value bytes in `partition`, without length prefixes.
    pub fn raw_bytes(&self, partition: u32) -> u64 {
        self.index.partitions.get(partition as usize).map_or(0, |p| p.raw_bytes)
    }

    #[cfg(test)]
    pub fn total_records(&self) -> u64 {
        self.index.total_records
    }

    /// Every block's byte offset, in file order.
    pub fn block_offsets(&self) -> &[u64] {
        &self.index.blocks
    }

    #[cfg(test)]
    /// The blocks of `partition`, as indices into [`block_offsets`](Self::block_offsets).
    pub fn partition_blocks(&self, partition: u32) -> std::ops::Range<usize> {
        self.index
            .partitions
            .get(partition as usize)
            .map_or(0..0, |p| p.first_block..p.first_block + p.blocks)
    }

    /// A cursor over one partition's records. At its end it also checks the
    /// partition's record and byte counts against the index.
    pub fn partition_cursor(&self, partition: u32) -> Result<RunCursor> {
        let Some(p) = self.index.partitions.get(partition as usize) else {
            return Err(Error::Internal(format!(
                "partition {partition} of run {}, which has {}",
                self.index.path.display(),
                self.index.partitions.len(),
            )));
        };
        let mut c = RunCursor::new(Arc::clone(&self.index), p.first_block, p.first_block + p.blocks);
        c.partition = partition;
        c.check = Some((partition, p.records, p.raw_bytes));
        Ok(c)
    }

    /// A cursor over blocks `first..last` of the file (indices into
    /// [`block_offsets`](Self::block_offsets)), whatever their partitions.
    pub fn block_cursor(&self, first: usize, last: usize) -> Result<RunCursor> {
        if first > last || last > self.index.blocks.len() {
            return Err(Error::Internal(format!(
                "blocks {first}..{last} of run {}, which has {}",
                self.index.path.display(),
                self.index.blocks.len()
            )));
        }
        Ok(RunCursor::new(Arc::clone(&self.index), first, last))
    }
}

#[derive(Debug)]
enum CursorState {
    Reading,
    Done,
    /// Holds a copy of the error already returned.
    Failed(Error),
}

/// Reads records from a range of blocks of a run file, front to back.
///
/// It opens its own file handle and allocates its buffers at the first
/// [`advance`](Cursor::advance), so cursors are cheap to create ahead of
/// use, and it frees them at its end. Each block is checked (checksum,
/// lengths, record count) before any of its records is returned.
pub struct RunCursor {
    index: Arc<Index>,
    file: Option<File>,
    buffer_size: usize,
    /// Blocks still to read: `next_block..last_block`.
    next_block: usize,
    last_block: usize,
    /// File bytes read so far end here; reads stop at `range_end`.
    file_pos: u64,
    range_end: u64,
    /// Bytes read ahead: `buf[buf_start..buf_end]` are the file's bytes from
    /// `file_pos - (buf_end - buf_start)`.
    buf: Vec<u8>,
    buf_start: usize,
    buf_end: usize,
    /// The decompressed payload of the current block, if it was compressed.
    raw: Vec<u8>,
    /// Whether the current payload is in `raw` (else it is in `buf`).
    in_raw: bool,
    /// The current block's records still to parse, and where they are.
    left: u32,
    pos: usize,
    payload_end: usize,
    block_offset: u64,
    /// The current record: key `key_at..value_at`, value `value_at..value_end`.
    key_at: usize,
    value_at: usize,
    value_end: usize,
    /// The partition of the current block.
    partition: u32,
    /// For a partition cursor: (partition, records, raw bytes) to match at the end.
    check: Option<(u32, u64, u64)>,
    seen_records: u64,
    seen_bytes: u64,
    state: CursorState,
}

/// How much of a record past its first cache line [`RunCursor`] prefetches.
const PREFETCH_BYTES: usize = 192;

impl RunCursor {
    fn new(index: Arc<Index>, first: usize, last: usize) -> Self {
        let start = index.blocks.get(first).copied().unwrap_or(index.index_offset);
        let range_end = index.blocks.get(last).copied().unwrap_or(index.index_offset);
        let partition = index
            .partitions
            .partition_point(|p| p.first_block + p.blocks <= first)
            .min(index.partitions.len().saturating_sub(1)) as u32;
        RunCursor {
            index,
            file: None,
            buffer_size: DEFAULT_READ_BUFFER,
            next_block: first,
            last_block: last,
            file_pos: start,
            range_end,
            buf: Vec::new(),
            buf_start: 0,
            buf_end: 0,
            raw: Vec::new(),
            in_raw: false,
            left: 0,
            pos: 0,
            payload_end: 0,
            block_offset: start,
            key_at: 0,
            value_at: 0,
            value_end: 0,
            partition,
            check: None,
            seen_records: 0,
            seen_bytes: 0,
            state: CursorState::Reading,
        }
    }

    /// Sets the read buffer size (default 128 KiB); takes effect if set
    /// before the first `advance`. A block larger than the buffer grows it.
    pub fn with_buffer_size(mut self, bytes: usize) -> Self {
        self.buffer_size = bytes.max(1);
        self
    }

    #[cfg(test)]
    /// The partition of the current record (for a block cursor, whose
    /// blocks may span partitions).
    pub fn partition(&self) -> u32 {
        self.partition
    }

    fn corrupt(&self, message: String) -> Error {
        corrupt(&self.index.path, message)
    }

    /// Makes `need` bytes available at `buf[buf_start..]`; `need` never
    /// reaches past `range_end`, so it is bounded by the file's size.
    fn fill(&mut self, need: usize) -> Result<()> {
        let have = self.buf_end - self.buf_start;
        if have >= need {
            return Ok(());
        }
        if self.buf_start > 0 {
            self.buf.copy_within(self.buf_start..self.buf_end, 0);
            self.buf_start = 0;
            self.buf_end = have;
        }
        if self.buf.len() < need {
            let want = need.max(self.buffer_size);
            Error::try_grow(&mut self.buf, want, "merge read buffer")?;
            self.buf.resize(want, 0);
        }
        let file = match &mut self.file {
            Some(f) => f,
            slot @ None => slot.insert(open_at(&self.index, self.file_pos)?),
        };
        while self.buf_end < need {
            let left = self.range_end - self.file_pos;
            let room = self.buf.len() - self.buf_end;
            let want = room.min(usize::try_from(left).unwrap_or(usize::MAX));
            if want == 0 {
                return Err(corrupt(&self.index.path, format!("read past byte {}", self.range_end)));
            }
            match file.read(&mut self.buf[self.buf_end..self.buf_end + want]) {
                Ok(0) => {
                    return Err(corrupt(
                        &self.index.path,
                        format!("file ends at byte {} (truncated?)", self.file_pos),
                    ));
                }
                Ok(n) => {
                    self.buf_end += n;
                    self.file_pos += n as u64;
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(Error::io(&self.index.path, e)),
            }
        }
        Ok(())
    }

    /// Reads, checks and (if needed) decompresses the next block. False
    /// when the range is done.
    fn load_block(&mut self) -> Result<bool> {
        let b = self.next_block;
        if b >= self.last_block {
            return Ok(false);
        }
        let offset = self.index.blocks[b];
        self.block_offset = offset;
        while self
            .index
            .partitions
            .get(self.partition as usize)
            .is_some_and(|p| p.first_block + p.blocks <= b)
        {
            self.partition += 1;
        }
        // Validated at open: blocks are in order and at least MIN_BLOCK_LEN
        // apart, and lie before the index, so this is within the file.
        let total = usize::try_from(self.index.block_end(b) - offset)
            .map_err(|_| self.corrupt(format!("block at byte offset {offset} is too large")))?;
        self.fill(total)?;
        let start = self.buf_start;
        let block = &self.buf[start..start + total];
        let body = total - CHECKSUM_LEN;
        if xxh3_64(&block[..body]) != le_u64(block, body) {
            return Err(self.corrupt(format!("checksum mismatch in the block at byte offset {offset}")));
        }
        let stored = le_u32(block, 0) as usize;
        let raw_len = le_u32(block, 4) as usize;
        let records = le_u32(block, 8);
        if BLOCK_HEADER_LEN + stored != body {
            return Err(self.corrupt(format!(
                "block at byte offset {offset}: stored length {stored} does not match the index"
            )));
        }
        // Each record takes at least its two length bytes.
        if records == 0 || (records as usize) > raw_len / 2 {
            return Err(self.corrupt(format!(
                "block at byte offset {offset}: {records} records cannot fill {raw_len} bytes"
            )));
        }
        let payload = start + BLOCK_HEADER_LEN..start + body;
        if stored == raw_len {
            self.in_raw = false;
            self.pos = payload.start;
            self.payload_end = payload.end;
        } else if self.index.compression == Compression::Lz4
            && stored < raw_len
            && raw_len as u64 <= self.max_raw_len(stored)
        {
            if self.raw.len() < raw_len {
                Error::try_grow(&mut self.raw, raw_len, "merge read buffer")?;
                self.raw.resize(raw_len, 0);
            }
            match decompress_into(&self.buf[payload], &mut self.raw[..raw_len]) {
                Ok(n) if n == raw_len => {}
                _ => {
                    return Err(self.corrupt(format!(
                        "block at byte offset {offset}: lz4 data does not decompress to {raw_len} bytes"
                    )));
                }
            }
            self.in_raw = true;
            self.pos = 0;
            self.payload_end = raw_len;
        } else {
            return Err(self.corrupt(format!(
                "block at byte offset {offset}: stored length {stored} and raw length {raw_len} do not agree"
            )));
        }
        self.buf_start += total;
        self.left = records;
        self.next_block = b + 1;
        Ok(true)
    }

    fn step(&mut self) -> Result<bool> {
        loop {
            if self.left == 0 {
                if self.pos != self.payload_end {
                    return Err(self.corrupt(format!(
                        "block at byte offset {}: bytes left after its last record",
                        self.block_offset
                    )));
                }
                if !self.load_block()? {
                    self.finish()?;
                    return Ok(false);
                }
                continue;
            }
            let data: &[u8] = if self.in_raw { &self.raw } else { &self.buf };
            let end = self.payload_end;
            let mut pos = self.pos;
            let (Some(k), Some(v)) = (get_varint(data, &mut pos, end), get_varint(data, &mut pos, end)) else {
                return Err(self.bad_record());
            };
            let room = (end - pos) as u64;
            if k > room || v > room - k {
                return Err(self.bad_record());
            }
            self.key_at = pos;
            self.value_at = pos + k as usize;
            self.value_end = self.value_at + v as usize;
            self.pos = self.value_end;
            // In a k-way merge this record now waits until it is the
            // smallest: about k records later. The comparisons meanwhile
            // read only its first bytes; fetching the rest of it now (and
            // the next record's header) turns the miss at its turn, which
            // with dozens of runs no hardware prefetcher tracks, into a hit.
            let next_header = self.value_end + 8;
            for at in [pos + 64, pos + 128, next_header] {
                if at <= next_header.min(pos + PREFETCH_BYTES)
                    && let Some(byte) = data.get(at)
                {
                    crate::shuffle::prefetch(byte);
                }
            }
            self.left -= 1;
            self.seen_records += 1;
            self.seen_bytes += k + v;
            return Ok(true);
        }
    }

    /// The most a block of `stored` lz4 bytes may decompress to: lz4's
    /// best ratio, and no more than its partition's bytes with their length
    /// prefixes; so a crafted length cannot make us allocate much.
    fn max_raw_len(&self, stored: usize) -> u64 {
        let ratio = (stored as u64).saturating_mul(LZ4_MAX_RATIO).saturating_add(64);
        let partition = self.index.partitions.get(self.partition as usize).map_or(0, |p| {
            p.raw_bytes.saturating_add(p.records.saturating_mul(2 * MAX_VARINT_LEN))
        });
        ratio.min(partition)
    }

    fn bad_record(&self) -> Error {
        self.corrupt(format!(
            "block at byte offset {}: a record runs past the block (or its count is wrong)",
            self.block_offset
        ))
    }

    /// Checks a partition's counts and frees the buffers.
    fn finish(&mut self) -> Result<()> {
        self.state = CursorState::Done;
        self.file = None;
        self.buf = Vec::new();
        self.raw = Vec::new();
        (self.buf_start, self.buf_end, self.key_at, self.value_at, self.value_end) = (0, 0, 0, 0, 0);
        if let Some((p, records, bytes)) = self.check
            && (records, bytes) != (self.seen_records, self.seen_bytes)
        {
            return Err(self.corrupt(format!(
                "partition {p} holds {} records of {} bytes, the index says {records} of {bytes}",
                self.seen_records, self.seen_bytes
            )));
        }
        Ok(())
    }
}

/// Opens the file of `index` for a cursor and seeks to `pos`.
fn open_at(index: &Index, pos: u64) -> Result<File> {
    let path = &index.path;
    let mut file = File::open(path).map_err(|e| Error::io(path, e))?;
    let len = file.metadata().map_err(|e| Error::io(path, e))?.len();
    if len != index.file_len {
        return Err(corrupt(
            path,
            format!("file is {len} bytes, not the {} it had when opened", index.file_len),
        ));
    }
    file.seek(SeekFrom::Start(pos)).map_err(|e| Error::io(path, e))?;
    Ok(file)
}

impl Cursor for RunCursor {
    fn advance(&mut self) -> Result<bool> {
        match &self.state {
            CursorState::Reading => {}
            CursorState::Done => return Ok(false),
            CursorState::Failed(e) => return Err(repeat_error(e)),
        }
        match self.step() {
            Ok(more) => Ok(more),
            Err(e) => {
                self.state = CursorState::Failed(repeat_error(&e));
                (self.key_at, self.value_at, self.value_end) = (0, 0, 0);
                Err(e)
            }
        }
    }

    #[inline]
    fn key(&self) -> &[u8] {
        let data = if self.in_raw { &self.raw } else { &self.buf };
        &data[self.key_at..self.value_at]
    }

    #[inline]
    fn value(&self) -> &[u8] {
        let data = if self.in_raw { &self.raw } else { &self.buf };
        &data[self.value_at..self.value_end]
    }
}
