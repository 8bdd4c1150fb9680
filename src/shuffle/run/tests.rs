use proptest::prelude::*;

use std::path::Path;

use super::writer::RunSummary;
use xxhash_rust::xxh3::xxh3_64;

use super::*;
use crate::error::Result;
use crate::shuffle::merge::Cursor;

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
    assert!(matches!(w.push(0, b"b", b""), Err(Error::Internal(_))));
    assert!(matches!(w.push(2, b"b", b""), Err(Error::Internal(_))));
    w.finish().unwrap();
    let mut w = RunWriter::create(&path, 0, Compression::None).unwrap();
    assert!(matches!(w.push(0, b"b", b""), Err(Error::Internal(_))));
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
    let end = RunFile::open(&path).unwrap().index_offset() as usize;
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
    let index_offset = RunFile::open(&path).unwrap().index_offset() as usize;
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
