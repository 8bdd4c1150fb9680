//! Run files (`src/shuffle/run/`): opening arbitrary bytes as a run file and
//! reading every partition and block must give records or an error, never a
//! panic or an allocation out of proportion to the file; a file written by
//! `RunWriter` must read back as written, and any one damaged byte or any
//! truncation of it must be an error.
//!
//! The first input byte picks the mode (mod 3):
//! - 0: the rest is the file, as is. Checksums stop nearly all of these at
//!   the first check, so this mode mostly tests `RunFile::open`'s framing.
//! - 1: the rest is the file after [`with_valid_checksums`] made its magic
//!   numbers and checksums right, so the fuzzer reaches the index and block
//!   checks behind them (what a writer bug or a crafted file would hit).
//! - 2: the rest describes records (see [`round_trip`]), written by
//!   `RunWriter`, read back and then damaged.

use mapreduce::Error;
use mapreduce::internals::{Compression, Cursor, RunFile, RunWriter};
use xxhash_rust::xxh3::xxh3_64;

use super::{Bytes, temp_file};

/// (partition, key, value).
type Rec = (u32, Vec<u8>, Vec<u8>);

pub fn check(data: &[u8]) {
    let mut b = Bytes::new(data);
    match b.u8() % 3 {
        0 => {
            let _ = read_bytes(b.rest());
        }
        1 => {
            let _ = read_bytes(&with_valid_checksums(b.rest()));
        }
        _ => round_trip(b),
    }
}

/// Writes `file` to a temp file and reads it all; see [`read_all`].
fn read_bytes(file: &[u8]) -> Result<Vec<Rec>, Error> {
    let path = temp_file(".run", file);
    read_all(&path)
}

/// Every record of the run at `path`, through partition cursors, after
/// checking that block cursors (over all blocks, and one per block) read the
/// same records in the same order. Errors must be integrity errors.
fn read_all(path: &std::path::Path) -> Result<Vec<Rec>, Error> {
    let res = read_partitions(path);
    if let Err(e) = &res {
        assert!(
            matches!(e, Error::Corrupt { .. } | Error::Io { .. }),
            "a bad run file must be Corrupt or Io, got {e:?}"
        );
    }
    res
}

fn read_partitions(path: &std::path::Path) -> Result<Vec<Rec>, Error> {
    let file = RunFile::open(path)?;
    let mut out = Vec::new();
    // The partition count is not public: a cursor past the last partition
    // is an Internal error, the only one `partition_cursor` returns.
    for p in 0u32.. {
        let mut cursor = match file.partition_cursor(p) {
            Ok(c) => c,
            Err(Error::Internal(_)) => break,
            Err(e) => panic!("partition_cursor({p}) failed with {e:?}"),
        };
        while cursor.advance()? {
            out.push((p, cursor.key().to_vec(), cursor.value().to_vec()));
        }
        // The end is sticky.
        assert!(!cursor.advance()?, "partition {p}: a record after the end");
    }
    // Partition cursors check every block and the index's counts, so block
    // cursors over the same blocks must now succeed, with the same records.
    let blocks = file.block_offsets().len();
    let all = drain(&mut file.block_cursor(0, blocks).expect("cursor over all blocks"));
    let flat: Vec<(Vec<u8>, Vec<u8>)> = out.iter().map(|(_, k, v)| (k.clone(), v.clone())).collect();
    assert_eq!(all, flat, "block cursor over all blocks vs partition cursors");
    let mut singles = Vec::new();
    for b in 0..blocks {
        singles.extend(drain(&mut file.block_cursor(b, b + 1).expect("cursor over one block")));
    }
    assert_eq!(singles, flat, "one cursor per block vs partition cursors");
    assert!(file.block_cursor(blocks, blocks + 1).is_err(), "a block past the end");
    Ok(out)
}

fn drain(cursor: &mut impl Cursor) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut out = Vec::new();
    while cursor.advance().expect("a block that a partition cursor read") {
        out.push((cursor.key().to_vec(), cursor.value().to_vec()));
    }
    out
}

const HEADER_LEN: usize = 8;
const TRAILER_LEN: usize = 28;
const BLOCK_HEADER_LEN: usize = 12;
const CHECKSUM_LEN: usize = 8;

fn le_u64(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

/// `data` with the magic numbers, version and reserved byte of a run file,
/// an index offset and partition count that fit the file, every block the
/// index lists given its right checksum, and the index checksum right (see
/// the layout in `src/shuffle/run/mod.rs`). Everything else (lengths,
/// counts, offsets' order, payloads) is left as the fuzzer made it.
pub fn with_valid_checksums(data: &[u8]) -> Vec<u8> {
    let mut f = data.to_vec();
    if f.len() < HEADER_LEN + TRAILER_LEN {
        return f;
    }
    f[..5].copy_from_slice(b"MRRUN");
    f[5] = 1;
    f[6] &= 1;
    f[7] = 0;
    let t = f.len() - TRAILER_LEN;
    f[t + 20..].copy_from_slice(b"MRRUNEND");
    let index_offset = HEADER_LEN + (le_u64(&f, t) % (t - HEADER_LEN + 1) as u64) as usize;
    f[t..t + 8].copy_from_slice(&(index_offset as u64).to_le_bytes());
    let index_len = t - index_offset;
    let raw_partitions = u32::from_le_bytes(f[t + 8..t + 12].try_into().expect("4 bytes"));
    let partitions = raw_partitions as usize % (index_len / 32 + 1);
    f[t + 8..t + 12].copy_from_slice(&(partitions as u32).to_le_bytes());
    let offsets: Vec<usize> = f[index_offset + partitions * 32..t]
        .chunks_exact(8)
        .map(|c| usize::try_from(le_u64(c, 0)).unwrap_or(usize::MAX))
        .collect();
    for (i, &start) in offsets.iter().enumerate() {
        let end = offsets.get(i + 1).copied().unwrap_or(index_offset);
        if start >= HEADER_LEN && end <= index_offset && end >= start.saturating_add(BLOCK_HEADER_LEN + CHECKSUM_LEN) {
            let sum = xxh3_64(&f[start..end - CHECKSUM_LEN]);
            f[end - CHECKSUM_LEN..end].copy_from_slice(&sum.to_le_bytes());
        }
    }
    let mut covered = f[..HEADER_LEN].to_vec();
    covered.extend_from_slice(&f[index_offset..t + 12]);
    let sum = xxh3_64(&covered);
    f[t + 12..t + 20].copy_from_slice(&sum.to_le_bytes());
    f
}

/// Records described by the input, written and read back. Layout: the
/// compression (low bit), the number of partitions (1 + byte % 8), where to
/// damage the file (u32, taken mod its length) and with what (a byte, 0 read
/// as 1), where to cut it (u32, mod its length); then records until the
/// input ends, each a partition byte, a key (its length byte mod 16, then
/// the bytes) and a value (a u16: with the top bit, that many times 4
/// copies of the next byte, which makes blocks past the 64 KiB block size;
/// else the length mod 64, then the bytes).
fn round_trip(mut b: Bytes<'_>) {
    let compression = if b.u8() & 1 == 0 {
        Compression::None
    } else {
        Compression::Lz4
    };
    let partitions = 1 + u32::from(b.u8() % 8);
    let damage_at = b.u32() as usize;
    let damage = b.u8().max(1);
    let cut_at = b.u32() as usize;
    let mut recs: Vec<Rec> = Vec::new();
    let mut total = 0usize;
    // Bounded so that an exec stays fast: each file is read about five
    // times over (under ASan, on a shared machine); 1 MiB still makes
    // blocks past the 64 KiB block size.
    while !b.is_empty() && recs.len() < 1024 && total < (1 << 20) {
        let p = u32::from(b.u8()) % partitions;
        let klen = usize::from(b.u8() % 16);
        let key = b.take(klen).to_vec();
        let code = b.u16();
        let value = if code & 0x8000 != 0 {
            vec![b.u8(); usize::from(code & 0x7fff) * 4]
        } else {
            let vlen = usize::from(code % 64);
            b.take(vlen).to_vec()
        };
        total += key.len() + value.len();
        recs.push((p, key, value));
    }
    // The writer wants partitions in order and keys sorted within each
    // (a debug assertion); the sort is stable, so equal keys keep their
    // order, which the reader must preserve.
    recs.sort_by(|x, y| (x.0, &x.1).cmp(&(y.0, &y.1)));

    let path = temp_file(".run", b"");
    let mut w = RunWriter::create(&path, partitions, compression).expect("create the run");
    for (p, k, v) in &recs {
        w.push(*p, k, v).expect("push a record");
    }
    w.finish().expect("finish the run");
    let read = read_all(&path).expect("a run as written must read back");
    assert_eq!(read, recs, "records read back differ from those written");

    let good = std::fs::read(&path).expect("read the run back");
    let mut bad = good.clone();
    let at = damage_at % bad.len();
    bad[at] ^= damage;
    assert!(
        read_bytes(&bad).is_err(),
        "byte {at} of {} xor {damage:#04x} went unnoticed",
        good.len()
    );
    let cut = cut_at % good.len();
    assert!(
        read_bytes(&good[..cut]).is_err(),
        "the run cut to {cut} of {} bytes went unnoticed",
        good.len()
    );
}

/// A run written by `RunWriter`, as mode 0 and 1 inputs, and record lists
/// as mode 2 inputs.
pub fn seeds() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for (compression, partitions) in [(Compression::None, 3u32), (Compression::Lz4, 2)] {
        let path = temp_file(".run", b"");
        let mut w = RunWriter::create(&path, partitions, compression).expect("create the run");
        // Partition 1 stays empty in the 3-partition file.
        for p in [0, partitions - 1] {
            for i in 0..5u8 {
                let value = vec![b'v'; usize::from(i) * 7];
                w.push(p, format!("key{i}").as_bytes(), &value).expect("push");
            }
        }
        w.finish().expect("finish");
        let file = std::fs::read(&path).expect("read the run");
        for mode in [0u8, 1] {
            let mut seed = vec![mode];
            seed.extend_from_slice(&file);
            out.push(seed);
        }
    }
    // Mode 2: lz4, 3 partitions, damage byte 9 with 0x40, cut at 20, then
    // three records (the last one 4 * 0x4100 bytes: two blocks).
    let mut seed = vec![2, 1, 2, 9, 0, 0, 0, 0x40, 20, 0, 0, 0];
    seed.extend_from_slice(&[0, 3, b'a', b'b', b'c', 5, 0, b'h', b'e', b'l', b'l', b'o']);
    seed.extend_from_slice(&[2, 1, b'z', 0, 0]);
    seed.extend_from_slice(&[2, 2, b'z', b'z', 0x00, 0xC1, b'x']);
    out.push(seed);
    out.push(vec![2, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0]);
    out
}
