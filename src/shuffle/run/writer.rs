//! Writing a run file front to back (see the parent module for the layout).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use lz4_flex::block::{CompressTable, compress_into_with_table, get_maximum_output_size};
use xxhash_rust::xxh3::xxh3_64;

use super::*;
use crate::error::{Error, Result};

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
            return Err(Error::TooLarge {
                what: "record of a run block",
                bytes: len as u64,
                limit: MAX_RAW_LEN as u64,
            });
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
        Error::Internal(format!(
            "run {}: record for partition {partition} after partition {} (of {})",
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
