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
//!
//! The writer is in `writer`, the reader (file, index and cursors) in
//! `reader`; this module holds the format's constants and primitives.

mod reader;
#[cfg(test)]
mod tests;
mod writer;

pub use reader::{RunCursor, RunFile};
pub use writer::RunWriter;

use std::path::Path;

use crate::error::Error;

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
