//! Sorted-run files: spills, map outputs and intermediate merge results.
//!
//! A run holds records sorted by (partition, key[, value]), grouped by
//! partition, packed into checksummed blocks, with an index at the end. It
//! is written once, front to back, by [`RunWriter`], and read sequentially
//! by any number of [`RunCursor`]s at once (one per partition, or one per
//! range of blocks), each with its own file handle.
//!
//! # Byte layout (version 1)
//!
//! All integers are little-endian unless said otherwise.
//!
//! ```text
//! header   (8 bytes)  "MRRUN" | version u8 = 1 | compression u8 (0 none, 1 lz4) | reserved u8 = 0
//! blocks   (each)     stored_len u32 | raw_len u32 | records u32 | stored bytes (stored_len)
//!                     | checksum u64 = xxh3_64(the 12 length bytes and the stored bytes)
//! index    (each partition, 32 bytes)
//!                     first_block_offset u64 | blocks u64 | records u64 | raw key+value bytes u64
//!          (each block, 8 bytes)
//!                     block offset u64, in file order
//! trailer  (28 bytes) index_offset u64 | partitions u32
//!                     | index checksum u64 = xxh3_64(header, index, and the trailer's first 12 bytes)
//!                     | "MRRUNEND"
//! ```
//!
//! A block's *raw* payload is its records back to back, each as
//! `key_len` (LEB128 varint), `value_len` (LEB128 varint), key bytes, value
//! bytes. A block is filled up to the block size (64 KiB by default) of raw
//! payload, never holds records of two partitions, holds at least one
//! record, and a record larger than the block size gets a block of its own.
//! In an lz4 file the stored bytes are the lz4 block format of the raw
//! payload, except that a block lz4 could not shrink is stored raw; the
//! writer guarantees a compressed block is strictly smaller than its raw
//! payload, so `stored_len == raw_len` means "stored raw". In an
//! uncompressed file `stored_len == raw_len` always.
//!
//! Blocks tile the bytes from the header to the index: the first starts at
//! byte 8, each starts where the previous one ended, and a partition's
//! blocks are consecutive. The index lists the partitions in order; an
//! empty partition has no blocks and its `first_block_offset` is where its
//! blocks would have started (the next block's offset, or the index
//! offset), so these offsets never decrease. Block offsets let a later step
//! split a run into ranges of whole blocks.
//!
//! Every byte is covered by a check: the header and trailer magic and
//! version are compared, the header and index by the index checksum, each
//! block by its own checksum, and a reader also checks that every block ends
//! where the index says the next one starts and that a partition's record
//! and byte counts match the index. Any mismatch is [`Error::Corrupt`].

use std::fs::File;
use std::io::{BufWriter, ErrorKind, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use lz4_flex::block::{CompressTable, compress_into_with_table, decompress_into, get_maximum_output_size};
use xxhash_rust::xxh3::xxh3_64;

use super::merge::{Cursor, repeat_error};
use crate::error::{Error, Result};

const MAGIC: &[u8; 5] = b"MRRUN";
const VERSION: u8 = 1;
const HEADER_LEN: u64 = 8;
const TRAILER_MAGIC: &[u8; 8] = b"MRRUNEND";
const TRAILER_LEN: u64 = 28;
/// The trailer's fields before its checksum: index offset, partitions.
const TRAILER_FIELDS: usize = 12;
const BLOCK_HEADER_LEN: usize = 12;
const CHECKSUM_LEN: usize = 8;
/// The smallest possible block: its lengths, one stored byte, its checksum.
const MIN_BLOCK_LEN: u64 = (BLOCK_HEADER_LEN + 1 + CHECKSUM_LEN) as u64;
const PARTITION_ENTRY_LEN: u64 = 32;
/// Raw payload per block, by default.
pub const DEFAULT_BLOCK_SIZE: usize = 64 << 10;
/// A cursor's read buffer, by default.
pub const DEFAULT_READ_BUFFER: usize = 128 << 10;
#[cfg(test)]
const MAX_BLOCK_SIZE: usize = 1 << 30;
/// A block's raw payload must fit its u32 length field.
const MAX_RAW_LEN: usize = u32::MAX as usize;
/// lz4 cannot expand a block more than about 255 times, so a raw length
/// beyond this is corrupt, whatever its checksum says.
const LZ4_MAX_RATIO: u64 = 255;
const MAX_VARINT_LEN: u64 = 10;

/// How block payloads are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Compression {
    #[default]
    None,
    Lz4,
}

impl Compression {
    fn code(self) -> u8 {
        match self {
            Compression::None => 0,
            Compression::Lz4 => 1,
        }
    }

    fn from_code(code: u8) -> Option<Self> {
        match code {
            0 => Some(Compression::None),
            1 => Some(Compression::Lz4),
            _ => None,
        }
    }
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn varint_len(v: u64) -> usize {
    // 7 payload bits per byte; at least one byte.
    (64 - (v | 1).leading_zeros() as usize).div_ceil(7)
}

/// Decodes a LEB128 varint at `*pos`, not reading at or past `end`.
#[inline]
fn get_varint(data: &[u8], pos: &mut usize, end: usize) -> Option<u64> {
    let mut v = 0u64;
    let mut shift = 0u32;
    loop {
        if *pos >= end {
            return None;
        }
        let b = data[*pos];
        *pos += 1;
        if shift == 63 && b > 1 {
            return None;
        }
        v |= u64::from(b & 0x7f) << shift;
        if b < 0x80 {
            return Some(v);
        }
        shift += 7;
        if shift > 63 {
            return None;
        }
    }
}

fn le_u32(b: &[u8], at: usize) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[at..at + 4]);
    u32::from_le_bytes(a)
}

fn le_u64(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(a)
}

fn corrupt(path: &Path, message: impl Into<String>) -> Error {
    Error::Corrupt {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

fn header(compression: Compression) -> [u8; HEADER_LEN as usize] {
    let mut h = [0u8; HEADER_LEN as usize];
    h[..MAGIC.len()].copy_from_slice(MAGIC);
    h[5] = VERSION;
    h[6] = compression.code();
    h
}

/// What the writer counts per partition.
#[derive(Debug, Clone, Copy, Default)]
struct PartitionStats {
    blocks: u64,
    records: u64,
    raw_bytes: u64,
}

/// Writes one run file; see the module docs for the layout.
pub struct RunWriter {
    path: PathBuf,
    out: BufWriter<File>,
    compression: Compression,
    block_size: usize,
    /// The block being filled: 12 bytes reserved for its lengths, then the
    /// raw payload, so an uncompressed block is checksummed and written
    /// without a copy.
    raw: Vec<u8>,
    raw_records: u32,
    /// The compressed block (lz4 only): lengths, stored bytes, checksum.
    packed: Vec<u8>,
    table: Option<CompressTable>,
    /// Bytes written so far: where the next block starts.
    pos: u64,
    partition: u32,
    partitions: Vec<PartitionStats>,
    block_offsets: Vec<u64>,
    records: u64,
    #[cfg(debug_assertions)]
    last_key: Option<Vec<u8>>,
    #[cfg(debug_assertions)]
    check_order: bool,
}

/// What [`RunWriter::finish`] wrote.
#[derive(Debug, Clone)]
#[cfg_attr(not(test), allow(dead_code))] // what was written; read by the tests
pub struct RunSummary {
    /// The file's size.
    pub bytes: u64,
    pub records: u64,
}

impl RunWriter {
    /// Creates (or truncates) `path` for a run of `partitions` partitions.
    pub fn create(path: &Path, partitions: u32, compression: Compression) -> Result<Self> {
        let file = File::create(path).map_err(|e| Error::io(path, e))?;
        let mut out = BufWriter::with_capacity(256 << 10, file);
        let header = header(compression);
        out.write_all(&header).map_err(|e| Error::io(path, e))?;
        let mut raw = Vec::with_capacity(BLOCK_HEADER_LEN + DEFAULT_BLOCK_SIZE + CHECKSUM_LEN);
        raw.resize(BLOCK_HEADER_LEN, 0);
        Ok(RunWriter {
            path: path.to_path_buf(),
            out,
            compression,
            block_size: DEFAULT_BLOCK_SIZE,
            raw,
            raw_records: 0,
            packed: Vec::new(),
            table: match compression {
                Compression::None => None,
                // Blocks can reach 64 KiB, past what the small table handles.
                Compression::Lz4 => Some(CompressTable::large()),
            },
            pos: HEADER_LEN,
            partition: 0,
            partitions: vec![PartitionStats::default(); partitions as usize],
            block_offsets: Vec::new(),
            records: 0,
            #[cfg(debug_assertions)]
            last_key: None,
            #[cfg(debug_assertions)]
            check_order: true,
        })
    }

    /// Marks the run as a plain container of records in arrival order (a
    /// step's output, read back in order, never merged), which turns off
    /// the debug-build order check.
    #[cfg_attr(not(debug_assertions), allow(unused_mut))]
    pub fn unsorted(mut self) -> Self {
        #[cfg(debug_assertions)]
        {
            self.check_order = false;
        }
        self
    }

    /// Sets the raw payload size at which a block is closed (clamped to
    /// 1 byte ..= 1 GiB), so tests get many blocks from few records.
    #[cfg(test)]
    pub fn with_block_size(mut self, bytes: usize) -> Self {
        self.block_size = bytes.clamp(1, MAX_BLOCK_SIZE);
        self
    }

    /// Appends a record. Partitions must be non-decreasing and keys sorted
    /// within a partition (checked in debug builds only).
    pub fn push(&mut self, partition: u32, key: &[u8], value: &[u8]) -> Result<()> {
        if partition != self.partition {
            if partition < self.partition || partition as usize >= self.partitions.len() {
                return Err(self.misuse(partition));
            }
            self.flush_block()?;
            self.partition = partition;
            #[cfg(debug_assertions)]
            {
                self.last_key = None;
            }
        } else if self.partitions.is_empty() {
            return Err(self.misuse(partition));
        }
        let len = varint_len(key.len() as u64) + varint_len(value.len() as u64) + key.len() + value.len();
        if len > MAX_RAW_LEN {
            return Err(Error::Config(format!(
                "a record of {len} bytes is over the 4 GiB limit of a run block"
            )));
        }
        let payload = self.raw.len() - BLOCK_HEADER_LEN;
        if self.raw_records > 0 && (payload + len > self.block_size || self.raw_records == u32::MAX) {
            self.flush_block()?;
        }
        #[cfg(debug_assertions)]
        {
            if let Some(last) = self.last_key.as_ref().filter(|_| self.check_order) {
                debug_assert!(last.as_slice() <= key, "run {}: keys out of order", self.path.display());
            }
            let last = self.last_key.get_or_insert_with(Vec::new);
            last.clear();
            last.extend_from_slice(key);
        }
        put_varint(&mut self.raw, key.len() as u64);
        put_varint(&mut self.raw, value.len() as u64);
        self.raw.extend_from_slice(key);
        self.raw.extend_from_slice(value);
        self.raw_records += 1;
        let stats = &mut self.partitions[partition as usize];
        stats.records += 1;
        stats.raw_bytes += (key.len() + value.len()) as u64;
        self.records += 1;
        Ok(())
    }

    fn misuse(&self, partition: u32) -> Error {
        Error::Config(format!(
            "internal error: run {}: record for partition {partition} after partition {} (of {})",
            self.path.display(),
            self.partition,
            self.partitions.len()
        ))
    }

    fn flush_block(&mut self) -> Result<()> {
        if self.raw_records == 0 {
            return Ok(());
        }
        let raw_len = self.raw.len() - BLOCK_HEADER_LEN;
        let mut stored = raw_len;
        if let Some(table) = &mut self.table {
            self.packed
                .resize(BLOCK_HEADER_LEN + get_maximum_output_size(raw_len), 0);
            // An error can only mean the output did not fit: store raw then.
            if let Ok(n) = compress_into_with_table(
                &self.raw[BLOCK_HEADER_LEN..],
                &mut self.packed[BLOCK_HEADER_LEN..],
                table,
            ) && n < raw_len
            {
                stored = n;
            }
        }
        let block = if stored < raw_len {
            self.packed.truncate(BLOCK_HEADER_LEN + stored);
            &mut self.packed
        } else {
            &mut self.raw
        };
        // Both fit u32: raw_len is at most MAX_RAW_LEN, stored at most raw_len.
        block[0..4].copy_from_slice(&(stored as u32).to_le_bytes());
        block[4..8].copy_from_slice(&(raw_len as u32).to_le_bytes());
        block[8..12].copy_from_slice(&self.raw_records.to_le_bytes());
        let sum = xxh3_64(block);
        block.extend_from_slice(&sum.to_le_bytes());
        self.out.write_all(block).map_err(|e| Error::io(&self.path, e))?;
        let written = block.len() as u64;
        self.block_offsets.push(self.pos);
        self.partitions[self.partition as usize].blocks += 1;
        self.pos += written;
        self.raw.truncate(BLOCK_HEADER_LEN);
        self.raw_records = 0;
        Ok(())
    }

    /// Writes the last block, the index and the trailer, and closes the
    /// file (without fsync: runs are scratch data).
    pub fn finish(mut self) -> Result<RunSummary> {
        self.flush_block()?;
        let index_offset = self.pos;
        let mut index = Vec::with_capacity(
            HEADER_LEN as usize
                + self.partitions.len() * PARTITION_ENTRY_LEN as usize
                + self.block_offsets.len() * 8
                + TRAILER_LEN as usize,
        );
        // The checksum covers the header too (its compression byte above all).
        index.extend_from_slice(&header(self.compression));
        let mut first_block = 0usize;
        for p in &self.partitions {
            let first_offset = self.block_offsets.get(first_block).copied().unwrap_or(index_offset);
            for v in [first_offset, p.blocks, p.records, p.raw_bytes] {
                index.extend_from_slice(&v.to_le_bytes());
            }
            first_block += p.blocks as usize;
        }
        for off in &self.block_offsets {
            index.extend_from_slice(&off.to_le_bytes());
        }
        index.extend_from_slice(&index_offset.to_le_bytes());
        index.extend_from_slice(&(self.partitions.len() as u32).to_le_bytes());
        let sum = xxh3_64(&index);
        index.extend_from_slice(&sum.to_le_bytes());
        index.extend_from_slice(TRAILER_MAGIC);
        let tail = &index[HEADER_LEN as usize..];
        self.out.write_all(tail).map_err(|e| Error::io(&self.path, e))?;
        self.out.flush().map_err(|e| Error::io(&self.path, e))?;
        Ok(RunSummary {
            bytes: index_offset + tail.len() as u64,
            records: self.records,
        })
    }
}

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
            return Err(Error::Config(format!(
                "internal error: partition {partition} of run {}, which has {}",
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
            return Err(Error::Config(format!(
                "internal error: blocks {first}..{last} of run {}, which has {}",
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

    #[cfg(test)]
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
            self.buf.resize(need.max(self.buffer_size), 0);
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

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    type Rec = (u32, Vec<u8>, Vec<u8>);

    fn write(path: &Path, partitions: u32, c: Compression, block: Option<usize>, recs: &[Rec]) -> RunSummary {
        let mut w = RunWriter::create(path, partitions, c).unwrap();
        if let Some(b) = block {
            w = w.with_block_size(b);
        }
        for (p, k, v) in recs {
            w.push(*p, k, v).unwrap();
        }
        w.finish().unwrap()
    }

    fn drain(c: &mut RunCursor) -> Result<Vec<Rec>> {
        let mut out = Vec::new();
        while c.advance()? {
            out.push((c.partition(), c.key().to_vec(), c.value().to_vec()));
        }
        Ok(out)
    }

    /// Every partition of the file, read through partition cursors.
    fn read_all(path: &Path) -> Result<Vec<Rec>> {
        let f = RunFile::open(path)?;
        let mut out = Vec::new();
        for p in 0..f.partitions() {
            let mut c = f.partition_cursor(p)?;
            let got = drain(&mut c)?;
            assert!(got.iter().all(|r| r.0 == p));
            out.extend(got);
        }
        Ok(out)
    }

    fn sorted(mut recs: Vec<Rec>) -> Vec<Rec> {
        recs.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        recs
    }

    fn is_integrity_error(e: &Error) -> bool {
        matches!(e, Error::Corrupt { .. } | Error::Io { .. })
    }

    /// Records over `partitions` partitions, some of them empty, with
    /// compressible keys and values.
    fn sample(n: usize, partitions: u32, seed: u64) -> Vec<Rec> {
        let mut x = seed | 1;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let recs = (0..n)
            .map(|_| {
                let p = (next() % u64::from(partitions)) as u32;
                let k = format!("key{:05}", next() % 1000).into_bytes();
                let v = vec![b'a' + (next() % 3) as u8; (next() % 40) as usize];
                (p, k, v)
            })
            .collect();
        sorted(recs)
    }

    fn check_block_cursors(path: &Path, expected: &[Rec]) {
        let f = RunFile::open(path).unwrap();
        let n = f.block_offsets().len();
        let singles: Vec<Vec<Rec>> = (0..n)
            .map(|b| drain(&mut f.block_cursor(b, b + 1).unwrap()).unwrap())
            .collect();
        assert!(singles.iter().all(|s| !s.is_empty()));
        assert_eq!(singles.concat(), expected);
        assert_eq!(drain(&mut f.block_cursor(0, n).unwrap()).unwrap(), expected);
        let step = n / 12 + 1;
        for first in (0..=n).step_by(step) {
            for last in (first..=n).step_by(step).chain([n]) {
                let got = drain(&mut f.block_cursor(first, last).unwrap()).unwrap();
                assert_eq!(got, singles[first..last].concat(), "blocks {first}..{last}");
            }
        }
        for p in 0..f.partitions() {
            let blocks = f.partition_blocks(p);
            assert_eq!(singles[blocks].concat().len() as u64, f.records(p));
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn round_trips(
            recs in prop::collection::vec(
                (0u32..6, prop::collection::vec(0u8..4, 0..12), prop::collection::vec(0u8..3, 0..60)),
                0..200,
            ),
            extra_partitions in 0u32..3,
            block in prop_oneof![Just(None), (1usize..200).prop_map(Some)],
            lz4 in any::<bool>(),
        ) {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("run");
            let partitions = recs.iter().map(|r| r.0 + 1).max().unwrap_or(0) + extra_partitions;
            let c = if lz4 { Compression::Lz4 } else { Compression::None };
            let recs = sorted(recs);
            let summary = write(&path, partitions, c, block, &recs);
            prop_assert_eq!(summary.records, recs.len() as u64);
            prop_assert_eq!(summary.bytes, std::fs::metadata(&path).unwrap().len());
            let f = RunFile::open(&path).unwrap();
            prop_assert_eq!(f.partitions(), partitions);
            prop_assert_eq!(f.compression(), c);
            prop_assert_eq!(f.total_records(), recs.len() as u64);
            for p in 0..partitions {
                let mine: Vec<&Rec> = recs.iter().filter(|r| r.0 == p).collect();
                prop_assert_eq!(f.records(p), mine.len() as u64);
                prop_assert_eq!(f.raw_bytes(p), mine.iter().map(|r| (r.1.len() + r.2.len()) as u64).sum::<u64>());
            }
            prop_assert_eq!(read_all(&path).unwrap(), recs.clone());
            check_block_cursors(&path, &recs);
        }
    }

    #[test]
    fn default_block_size_many_partitions_and_small_read_buffers() {
        let dir = tempfile::tempdir().unwrap();
        for c in [Compression::None, Compression::Lz4] {
            let path = dir.path().join(format!("run-{c:?}"));
            let recs = sample(40_000, 37, 7);
            write(&path, 40, c, None, &recs);
            assert_eq!(read_all(&path).unwrap(), recs);
            check_block_cursors(&path, &recs);
            let f = RunFile::open(&path).unwrap();
            assert!(f.block_offsets().len() > 5);
            let mut got = Vec::new();
            for p in 0..f.partitions() {
                got.extend(drain(&mut f.partition_cursor(p).unwrap().with_buffer_size(100)).unwrap());
            }
            assert_eq!(got, recs);
            if c == Compression::Lz4 {
                let raw: u64 = (0..40).map(|p| f.raw_bytes(p)).sum();
                assert!(std::fs::metadata(&path).unwrap().len() < raw / 2);
            }
        }
    }

    #[test]
    fn cursors_read_independently_and_merge() {
        use super::super::merge::Merger;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run");
        let recs = sample(3000, 4, 5);
        write(&path, 4, Compression::Lz4, Some(500), &recs);
        let f = RunFile::open(&path).unwrap();
        // Round-robin over all partitions at once, each with its own handle.
        let mut cursors: Vec<_> = (0..4)
            .map(|p| f.partition_cursor(p).unwrap().with_buffer_size(700))
            .collect();
        let mut got = vec![Vec::new(); 4];
        let mut live = 4;
        while live > 0 {
            live = 0;
            for (p, c) in cursors.iter_mut().enumerate() {
                if c.advance().unwrap() {
                    got[p].push((p as u32, c.key().to_vec(), c.value().to_vec()));
                    live += 1;
                }
            }
        }
        assert_eq!(got.concat(), recs);
        // Merging the partitions by key is a stable sort by key.
        let cursors = (0..4).map(|p| f.partition_cursor(p).unwrap()).collect();
        let mut m = Merger::new(cursors, false).unwrap();
        let mut merged = Vec::new();
        while m.advance().unwrap() {
            merged.push((m.key().to_vec(), m.value().to_vec()));
        }
        let mut want: Vec<_> = recs.iter().map(|r| (r.1.clone(), r.2.clone())).collect();
        want.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(merged, want);
    }

    #[test]
    fn records_larger_than_a_block_get_their_own() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run");
        let big = |c: u8| vec![c; 1000];
        let recs: Vec<Rec> = vec![
            (0, b"a".to_vec(), b"1".to_vec()),
            (0, b"b".to_vec(), big(b'x')),
            (0, b"c".to_vec(), b"2".to_vec()),
            (0, big(b'd'), big(b'y')),
            (1, big(b'e'), Vec::new()),
        ];
        for c in [Compression::None, Compression::Lz4] {
            write(&path, 2, c, Some(64), &recs);
            let f = RunFile::open(&path).unwrap();
            assert_eq!(f.block_offsets().len(), 5);
            assert_eq!(f.partition_blocks(1), 4..5);
            assert_eq!(read_all(&path).unwrap(), recs);
            check_block_cursors(&path, &recs);
        }
    }

    #[test]
    fn empty_runs() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run");
        for partitions in [0, 1, 5] {
            let s = write(&path, partitions, Compression::Lz4, None, &[]);
            assert_eq!(
                s.bytes,
                HEADER_LEN + u64::from(partitions) * PARTITION_ENTRY_LEN + TRAILER_LEN
            );
            let f = RunFile::open(&path).unwrap();
            assert_eq!(
                (f.partitions(), f.total_records(), f.block_offsets().len()),
                (partitions, 0, 0)
            );
            assert_eq!(read_all(&path).unwrap(), vec![]);
            assert!(drain(&mut f.block_cursor(0, 0).unwrap()).unwrap().is_empty());
        }
    }

    #[test]
    fn misuse_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run");
        let mut w = RunWriter::create(&path, 2, Compression::None).unwrap();
        w.push(1, b"a", b"").unwrap();
        assert!(matches!(w.push(0, b"b", b""), Err(Error::Config(_))));
        assert!(matches!(w.push(2, b"b", b""), Err(Error::Config(_))));
        w.finish().unwrap();
        let mut w = RunWriter::create(&path, 0, Compression::None).unwrap();
        assert!(matches!(w.push(0, b"b", b""), Err(Error::Config(_))));
        let f = RunFile::open(&path);
        assert!(
            matches!(f, Err(Error::Corrupt { .. })),
            "an unfinished run must not open"
        );
        write(&path, 2, Compression::None, None, &[(0, b"a".to_vec(), b"b".to_vec())]);
        let f = RunFile::open(&path).unwrap();
        assert!(f.partition_cursor(2).is_err());
        assert!(f.block_cursor(0, 2).is_err());
        assert!(f.block_cursor(1, 0).is_err());
        assert!(matches!(RunFile::open(&dir.path().join("nope")), Err(Error::Io { .. })));
    }

    #[test]
    fn varints() {
        let mut buf = Vec::new();
        for v in [0, 1, 127, 128, 300, u64::from(u32::MAX), u64::MAX - 1, u64::MAX] {
            buf.clear();
            put_varint(&mut buf, v);
            assert_eq!(buf.len(), varint_len(v), "{v}");
            let mut pos = 0;
            assert_eq!(get_varint(&buf, &mut pos, buf.len()), Some(v));
            assert_eq!(pos, buf.len());
            let mut pos = 0;
            assert_eq!(get_varint(&buf, &mut pos, buf.len() - 1), None);
        }
        let mut pos = 0;
        assert_eq!(get_varint(&[0xff; 10], &mut pos, 10), None);
        let mut pos = 0;
        let mut over = [0xff; 11];
        over[9] = 0x02;
        over[10] = 0;
        assert_eq!(get_varint(&over, &mut pos, 11), None);
    }

    /// A small run: three partitions (one empty), several blocks, both
    /// stored and compressed blocks.
    fn small_run(path: &Path, c: Compression) -> Vec<Rec> {
        let mut recs = sample(30, 3, 3);
        recs.retain(|r| r.0 != 1);
        recs.push((3, b"zz".to_vec(), b"0123456789abcdef".to_vec()));
        write(path, 4, c, Some(60), &recs);
        recs
    }

    /// Opens and reads everything; bad bytes must give an integrity error.
    fn assert_caught(path: &Path, what: &str) {
        match read_all(path) {
            Ok(_) => panic!("{what}: corruption was not detected"),
            Err(e) => assert!(is_integrity_error(&e), "{what}: {e}"),
        }
        // Block cursors see the same bytes the other way; they must not
        // panic either (a damaged index is caught by open, above).
        if let Ok(f) = RunFile::open(path) {
            let _ = drain(&mut f.block_cursor(0, f.block_offsets().len()).unwrap());
        }
    }

    #[test]
    fn every_flipped_byte_of_a_small_run_is_caught() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run");
        let bad = dir.path().join("bad");
        for c in [Compression::None, Compression::Lz4] {
            let recs = small_run(&path, c);
            assert_eq!(read_all(&path).unwrap(), recs);
            let bytes = std::fs::read(&path).unwrap();
            assert!(RunFile::open(&path).unwrap().block_offsets().len() >= 4);
            for i in 0..bytes.len() {
                for mask in [1 << (i % 8), 0xff] {
                    let mut b = bytes.clone();
                    b[i] ^= mask;
                    std::fs::write(&bad, &b).unwrap();
                    assert_caught(&bad, &format!("{c:?}: byte {i} ^ {mask:#x}"));
                }
            }
        }
    }

    #[test]
    fn random_flips_in_a_bigger_run_are_caught() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run");
        let bad = dir.path().join("bad");
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for c in [Compression::None, Compression::Lz4] {
            let recs = sample(5_000, 5, 11);
            write(&path, 6, c, Some(2048), &recs);
            let bytes = std::fs::read(&path).unwrap();
            for _ in 0..120 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let i = (x % bytes.len() as u64) as usize;
                let mut b = bytes.clone();
                b[i] ^= 1 << (x >> 61);
                std::fs::write(&bad, &b).unwrap();
                assert_caught(&bad, &format!("{c:?}: byte {i}"));
            }
        }
    }

    #[test]
    fn truncated_files_are_caught() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run");
        let bad = dir.path().join("bad");
        small_run(&path, Compression::Lz4);
        let bytes = std::fs::read(&path).unwrap();
        for len in 0..bytes.len() {
            std::fs::write(&bad, &bytes[..len]).unwrap();
            assert_caught(&bad, &format!("truncated to {len}"));
        }
    }

    #[test]
    fn a_file_that_shrinks_after_open_is_caught() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run");
        let recs = small_run(&path, Compression::None);
        let f = RunFile::open(&path).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
        let e = drain(&mut f.partition_cursor(0).unwrap()).unwrap_err();
        assert!(matches!(e, Error::Corrupt { .. }), "{e}");
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(
            drain(&mut f.block_cursor(0, f.block_offsets().len()).unwrap()).unwrap(),
            recs
        );
    }

    fn message(e: Error) -> String {
        match e {
            Error::Corrupt { message, .. } => message,
            e => panic!("not Corrupt: {e}"),
        }
    }

    #[test]
    fn wrong_magic_and_version() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run");
        small_run(&path, Compression::None);
        let bytes = std::fs::read(&path).unwrap();
        let mut b = bytes.clone();
        b[..5].copy_from_slice(b"PAR1!");
        std::fs::write(&path, &b).unwrap();
        assert!(message(RunFile::open(&path).unwrap_err()).contains("magic"));
        let mut b = bytes.clone();
        b[5] = 2;
        std::fs::write(&path, &b).unwrap();
        assert!(message(RunFile::open(&path).unwrap_err()).contains("version 2"));
        let mut b = bytes.clone();
        b[6] = 7;
        std::fs::write(&path, &b).unwrap();
        assert!(message(RunFile::open(&path).unwrap_err()).contains("compression"));
        let mut b = bytes;
        let n = b.len();
        b[n - 1] ^= 1;
        std::fs::write(&path, &b).unwrap();
        assert!(message(RunFile::open(&path).unwrap_err()).contains("trailer"));
    }

    type Tamper = Box<dyn Fn(&mut Vec<u8>)>;

    /// Rewrites a block's checksum after tampering, as a crafted file would.
    fn reseal_block(b: &mut [u8], start: usize, end: usize) {
        let sum = xxh3_64(&b[start..end - CHECKSUM_LEN]);
        b[end - CHECKSUM_LEN..end].copy_from_slice(&sum.to_le_bytes());
    }

    fn reseal_index(b: &mut [u8]) {
        let n = b.len();
        let t = n - TRAILER_LEN as usize;
        let index_offset = le_u64(b, t) as usize;
        if index_offset > t {
            return;
        }
        let mut covered = b[..HEADER_LEN as usize].to_vec();
        covered.extend_from_slice(&b[index_offset..t + TRAILER_FIELDS]);
        let sum = xxh3_64(&covered);
        b[t + TRAILER_FIELDS..t + TRAILER_FIELDS + 8].copy_from_slice(&sum.to_le_bytes());
    }

    /// Applies `tamper` to a one-block run, re-seals it, and reads it.
    fn crafted(c: Compression, recs: &[Rec], tamper: impl Fn(&mut Vec<u8>)) -> Result<Vec<Rec>> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run");
        write(&path, 1, c, None, recs);
        let mut b = std::fs::read(&path).unwrap();
        let end = RunFile::open(&path).unwrap().index.index_offset as usize;
        tamper(&mut b);
        reseal_block(&mut b, HEADER_LEN as usize, end);
        std::fs::write(&path, &b).unwrap();
        read_all(&path)
    }

    #[test]
    fn inconsistent_blocks_with_valid_checksums_are_caught() {
        let one = [(0, b"ab".to_vec(), b"cd".to_vec())];
        let two = [(0, b"ab".to_vec(), b"cd".to_vec()), (0, b"ac".to_vec(), b"".to_vec())];
        let payload = HEADER_LEN as usize + BLOCK_HEADER_LEN;
        let cases: Vec<(&str, &[Rec], Tamper)> = vec![
            ("key length past the block", &one, Box::new(move |b| b[payload] = 5)),
            ("bytes after the last record", &one, Box::new(move |b| b[payload] = 1)),
            ("unterminated varint", &one, Box::new(move |b| b[payload] = 0x80)),
            ("count too high", &two, Box::new(|b| b[16] = 3)),
            ("count too low", &two, Box::new(|b| b[16] = 1)),
            ("count zero", &two, Box::new(|b| b[16] = 0)),
            ("raw length differs", &two, Box::new(|b| b[12] += 1)),
        ];
        for (what, recs, tamper) in cases {
            assert_eq!(crafted(Compression::None, recs, |_| {}).unwrap(), recs, "{what}");
            let e = crafted(Compression::None, recs, tamper).unwrap_err();
            assert!(matches!(e, Error::Corrupt { .. }), "{what}: {e}");
        }
        let long = [(0, vec![b'k'; 100], vec![b'v'; 1000])];
        assert_eq!(crafted(Compression::Lz4, &long, |_| {}).unwrap(), long);
        for (what, tamper) in [
            (
                "raw length",
                Box::new(|b: &mut Vec<u8>| b[13] += 1) as Box<dyn Fn(&mut Vec<u8>)>,
            ),
            ("huge raw length", Box::new(|b: &mut Vec<u8>| b[15] = 0xff)),
            ("lz4 token", Box::new(|b: &mut Vec<u8>| b[20] ^= 0x55)),
        ] {
            let e = crafted(Compression::Lz4, &long, tamper).unwrap_err();
            assert!(matches!(e, Error::Corrupt { .. }), "{what}: {e}");
        }
    }

    #[test]
    fn inconsistent_indexes_with_valid_checksums_are_caught() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run");
        let bad = dir.path().join("bad");
        let recs = small_run(&path, Compression::Lz4);
        let bytes = std::fs::read(&path).unwrap();
        let index_offset = RunFile::open(&path).unwrap().index.index_offset as usize;
        let trailer = bytes.len() - TRAILER_LEN as usize;
        for i in index_offset..trailer + TRAILER_FIELDS {
            for mask in [0x01, 0x10, 0x80] {
                let mut b = bytes.clone();
                b[i] ^= mask;
                reseal_index(&mut b);
                std::fs::write(&bad, &b).unwrap();
                match read_all(&bad) {
                    Ok(got) => panic!("byte {i} ^ {mask:#x}: undetected ({})", got == recs),
                    Err(e) => assert!(is_integrity_error(&e), "byte {i}: {e}"),
                }
                if let Ok(f) = RunFile::open(&bad) {
                    let _ = drain(&mut f.block_cursor(0, f.block_offsets().len()).unwrap());
                }
            }
        }
    }

    #[test]
    fn a_cursor_fails_for_good() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run");
        small_run(&path, Compression::None);
        let f = RunFile::open(&path).unwrap();
        let mut b = std::fs::read(&path).unwrap();
        b[f.block_offsets()[1] as usize + 14] ^= 1;
        std::fs::write(&path, &b).unwrap();
        let mut c = f.partition_cursor(0).unwrap();
        let e = loop {
            match c.advance() {
                Ok(true) => {}
                Ok(false) => panic!("corruption not caught"),
                Err(e) => break e,
            }
        };
        let offset = f.block_offsets()[1];
        assert!(message(e).contains(&format!("byte offset {offset}")));
        assert!(c.advance().is_err());
        assert!(c.advance().is_err());
    }
}
