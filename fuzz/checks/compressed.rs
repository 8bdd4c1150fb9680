//! The input path with decompression (`mapreduce::io::input::open_input`):
//! a file of arbitrary bytes named `.gz`, `.bz2`, `.zst` or with no
//! compression extension opens and reads as data or an error, never a
//! panic or a hang, and reading it allocates nothing in proportion to what
//! it decompresses to (it is read through a fixed buffer, up to a cap that
//! stops decompression bombs from making an exec slow).
//!
//! A file with no compression extension, whose bytes start with no
//! compression format's magic number, must read back as its own bytes.
//! (Content-based detection may decompress a file that does start with
//! one, whatever its name, so those are only read.)
//!
//! Input: the name's suffix (a byte, mod 5: none, `.gz`, `.bz2`, `.zst`,
//! `.txt`), then the file.

use std::io::{ErrorKind, Read};

use mapreduce::io::input::{InputSource, open_input};

use super::{Bytes, temp_file};

const SUFFIXES: [&str; 5] = ["", ".gz", ".bz2", ".zst", ".txt"];

/// Decompressed bytes read per exec at most.
const READ_CAP: usize = 16 << 20;

/// Magic numbers of gzip, bzip2, zstd, xz and lz4 frames.
const MAGICS: [&[u8]; 5] = [
    &[0x1f, 0x8b],
    b"BZh",
    &[0x28, 0xb5, 0x2f, 0xfd],
    &[0xfd, b'7', b'z', b'X', b'Z', 0],
    &[0x04, 0x22, 0x4d, 0x18],
];

pub fn check(data: &[u8]) {
    let mut b = Bytes::new(data);
    let suffix = SUFFIXES[usize::from(b.u8()) % SUFFIXES.len()];
    let file = b.rest();
    let path = temp_file(suffix, file);
    let Ok(mut reader) = open_input(&InputSource::File(path.to_path_buf())) else {
        return;
    };
    let plain = matches!(suffix, "" | ".txt") && !MAGICS.iter().any(|m| file.starts_with(m));
    let mut buf = vec![0u8; 64 << 10];
    let mut read = 0usize;
    let mut copy = Vec::new();
    while read < READ_CAP {
        match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                assert!(n <= buf.len(), "read returned {n} for a buffer of {}", buf.len());
                if plain {
                    copy.extend_from_slice(&buf[..n]);
                }
                read += n;
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            // Corrupt data: an error is the right answer.
            Err(_) => return,
        }
    }
    if plain {
        assert_eq!(copy, file, "a plain file read back changed");
    }
}

/// Small valid gzip (one member, and two concatenated), bzip2 and zstd
/// files, and plain text, each behind its suffix byte.
pub fn seeds() -> Vec<Vec<u8>> {
    use std::io::Write;

    let text = b"{\"city\":\"Reno\",\"stars\":4.5}\nsecond line\r\nlast";
    let gzip = |data: &[u8]| {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).expect("gzip into memory");
        e.finish().expect("gzip into memory")
    };
    let mut bz = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::best());
    bz.write_all(text).expect("bzip2 into memory");
    let bz = bz.finish().expect("bzip2 into memory");
    // `printf 'zstd line 1\nzstd line 2\n' | zstd -19 -c` (no zstd crate here).
    let zst: &[u8] = &[
        0x28, 0xb5, 0x2f, 0xfd, 0x04, 0x68, 0xa5, 0x00, 0x00, 0x70, 0x7a, 0x73, 0x74, 0x64, 0x20, 0x6c, 0x69, 0x6e,
        0x65, 0x20, 0x31, 0x0a, 0x32, 0x0a, 0x01, 0x00, 0xdf, 0x4a, 0x12, 0x59, 0x50, 0x72, 0x3c,
    ];
    let mut two_members = gzip(b"first member\n");
    two_members.extend_from_slice(&gzip(b"second member\n"));
    let with = |suffix: u8, file: &[u8]| {
        let mut seed = vec![suffix];
        seed.extend_from_slice(file);
        seed
    };
    vec![
        with(0, text),
        with(4, b""),
        with(1, &gzip(text)),
        with(1, &two_members),
        with(2, &bz),
        with(3, zst),
        // Compressed bytes under a plain name, as content detection sees them.
        with(0, &gzip(text)),
        with(4, zst),
    ]
}
