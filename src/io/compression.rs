//! Input compression: which codec a file or stream is in, and its decoder.
//!
//! This module owns the one table that maps each codec to its file name
//! extensions and its magic bytes. The split planner and the reader both
//! ask it, so they can never disagree about what is plain text. Content
//! decides: standard input and pipes have no name, and a misnamed file
//! (`data.txt` holding gzip) must still be decoded rather than read as text.
//! A name is only a fallback, for the formats whose framing has no magic
//! number (Hadoop's `.lz4` and `.snappy` block formats): those names are
//! refused, never read as text.

use std::ffi::OsStr;
use std::io::{self, BufRead, Read};
use std::path::Path;

use crate::error::{Error, Result};

/// A compression format of an input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Codec {
    /// gzip (`.gz`), concatenated members included.
    Gzip,
    /// bzip2 (`.bz2`), concatenated streams included.
    Bzip2,
    /// Zstandard (`.zst`), concatenated frames included.
    Zstd,
    /// xz (`.xz`): recognized, not decoded.
    Xz,
    /// LZ4 (`.lz4`): recognized, not decoded.
    Lz4,
    /// Snappy (`.snappy`): recognized, not decoded.
    Snappy,
}

struct Entry {
    codec: Codec,
    name: &'static str,
    extensions: &'static [&'static str],
    /// Alternative leading byte strings of the format.
    magic: &'static [&'static [u8]],
    decodable: bool,
}

/// The one table. A magic is long enough that text cannot start with it by
/// accident: bzip2's `BZh` alone could begin an English word, so its entry
/// also requires the block size digit and the first block's (or, for an
/// empty stream, the end-of-stream) signature.
const TABLE: &[Entry] = &[
    Entry {
        codec: Codec::Gzip,
        name: "gzip",
        extensions: &["gz"],
        // ID1 ID2 and CM = 8 (deflate), the only method ever defined.
        magic: &[&[0x1f, 0x8b, 0x08]],
        decodable: true,
    },
    Entry {
        codec: Codec::Bzip2,
        name: "bzip2",
        extensions: &["bz2"],
        magic: &[], // checked by `is_bzip2`
        decodable: true,
    },
    Entry {
        codec: Codec::Zstd,
        name: "zstd",
        extensions: &["zst"],
        magic: &[&[0x28, 0xb5, 0x2f, 0xfd]],
        decodable: true,
    },
    Entry {
        codec: Codec::Xz,
        name: "xz",
        extensions: &["xz"],
        magic: &[&[0xfd, b'7', b'z', b'X', b'Z', 0x00]],
        decodable: false,
    },
    Entry {
        codec: Codec::Lz4,
        name: "lz4",
        extensions: &["lz4"],
        // The LZ4 frame format; Hadoop's block format has no magic.
        magic: &[&[0x04, 0x22, 0x4d, 0x18]],
        decodable: false,
    },
    Entry {
        codec: Codec::Snappy,
        name: "snappy",
        extensions: &["snappy"],
        // The framing format's stream identifier chunk.
        magic: &[&[0xff, 0x06, 0x00, 0x00, b's', b'N', b'a', b'P', b'p', b'Y']],
        decodable: false,
    },
];

/// Bytes of a stream's start that [`sniff`] needs to see.
pub const SNIFF_LEN: usize = 10;

fn entry(codec: Codec) -> &'static Entry {
    // Every codec has a row; the fallback only keeps this total.
    TABLE.iter().find(|e| e.codec == codec).unwrap_or(&TABLE[0])
}

impl Codec {
    /// The format's usual name (`gzip`, `zstd`, ...).
    pub fn name(self) -> &'static str {
        entry(self).name
    }

    /// Whether this crate can decode it.
    pub fn is_decodable(self) -> bool {
        entry(self).decodable
    }
}

fn is_bzip2(head: &[u8]) -> bool {
    const BLOCK: [u8; 6] = [0x31, 0x41, 0x59, 0x26, 0x53, 0x59];
    const END: [u8; 6] = [0x17, 0x72, 0x45, 0x38, 0x50, 0x90];
    head.len() >= 10
        && head.starts_with(b"BZh")
        && (b'1'..=b'9').contains(&head[3])
        && (head[4..10] == BLOCK || head[4..10] == END)
}

/// The codec whose magic `head` (a stream's first bytes, [`SNIFF_LEN`] of
/// them unless the stream is shorter) starts with, `None` for plain data.
pub fn sniff(head: &[u8]) -> Option<Codec> {
    if is_bzip2(head) {
        return Some(Codec::Bzip2);
    }
    TABLE
        .iter()
        .find(|e| e.magic.iter().any(|m| head.starts_with(m)))
        .map(|e| e.codec)
}

/// The codec a file name's extension names, if any.
pub fn by_extension(path: &Path) -> Option<Codec> {
    let ext = path.extension().and_then(OsStr::to_str)?;
    TABLE
        .iter()
        .find(|e| e.extensions.iter().any(|x| x.eq_ignore_ascii_case(ext)))
        .map(|e| e.codec)
}

/// Decides how to read an input from its first bytes and (for files) its
/// name: `Ok(None)` is plain text, `Ok(Some(codec))` a format to decode.
/// Content wins over the name. Formats this crate cannot decode, and a
/// compressed name over content that is not compressed (a corrupt or
/// misnamed file), are errors naming `name`: reading either as text would
/// give a wrong answer, not a failure.
pub fn detect(name: &Path, path: Option<&Path>, head: &[u8]) -> Result<Option<Codec>> {
    let named = path.and_then(by_extension);
    let codec = match sniff(head) {
        Some(codec) => Some(codec),
        // An empty file holds no data to misread, whatever its name.
        None if head.is_empty() => None,
        None => match named {
            Some(codec) if codec.is_decodable() => {
                return Err(Error::io(
                    name,
                    io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!(
                            "named like a {} file, but its content is not {} (corrupt, or misnamed)",
                            codec.name(),
                            codec.name()
                        ),
                    ),
                ));
            }
            other => other,
        },
    };
    match codec {
        Some(codec) if !codec.is_decodable() => Err(Error::io(
            name,
            io::Error::new(
                io::ErrorKind::Unsupported,
                format!(
                    "{} compressed input is not supported (decompress it first, or recompress it with gzip, bzip2 or zstd)",
                    codec.name()
                ),
            ),
        )),
        other => Ok(other),
    }
}

/// Reads up to [`SNIFF_LEN`] bytes from `reader`: fewer only at its end.
pub fn read_head(reader: &mut dyn Read, name: &Path) -> Result<Vec<u8>> {
    let mut head = vec![0u8; SNIFF_LEN];
    let mut filled = 0;
    while filled < head.len() {
        match reader.read(&mut head[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Error::io(name, e)),
        }
    }
    head.truncate(filled);
    Ok(head)
}

/// The decoded stream of `raw` in `codec`. `name` is what errors and the
/// zero-padding warning name.
pub fn decoder(codec: Codec, raw: Box<dyn Read + Send>, name: &Path) -> Result<Box<dyn Read + Send>> {
    // The multi-member decoders: `cat a.gz b.gz > c.gz` is a valid gzip
    // file, and single-member decoders would silently stop after `a`.
    Ok(match codec {
        Codec::Gzip => Box::new(MultiGz::new(raw, name)),
        Codec::Bzip2 => Box::new(bzip2::read::MultiBzDecoder::new(raw)),
        // zstd's decoder reads frame after frame by default.
        Codec::Zstd => Box::new(zstd::stream::read::Decoder::new(raw).map_err(|e| Error::io(name, e))?),
        other => {
            return Err(Error::io(
                name,
                io::Error::new(io::ErrorKind::Unsupported, format!("cannot decode {}", other.name())),
            ));
        }
    })
}

/// Concatenated gzip members, read one `GzDecoder` per member. After a
/// member only another member, all-zero padding (a tape or tar block's
/// rest, which `gzip -d` accepts too) or the end may follow; anything
/// else is an error at its offset, as zstd and bzip2 fail on the same
/// damage. Stopping quietly there (`gzip -d` warns "trailing garbage
/// ignored", and exits 2) would answer for half a file with exit 0: a
/// member whose header was damaged, or text appended with `cat`.
/// flate2's `MultiGzDecoder` cannot be used: it cannot tell where a
/// member ended, for the message.
struct MultiGz {
    /// The member being read; `None` once the data has ended.
    member: Option<flate2::bufread::GzDecoder<Peek>>,
    /// Compressed offset of the current member's first byte.
    member_start: u64,
    name: String,
}

impl MultiGz {
    fn new(raw: Box<dyn Read + Send>, name: &Path) -> Self {
        MultiGz {
            member: Some(flate2::bufread::GzDecoder::new(Peek::new(raw))),
            member_start: 0,
            name: name.display().to_string(),
        }
    }

    /// After the member that ended at `rest`'s position: starts the next
    /// one, or checks that only zeros remain.
    fn next_member(&mut self, mut rest: Peek) -> io::Result<()> {
        let at = rest.offset;
        let next = rest.peek(2)?;
        if next.is_empty() {
            return Ok(());
        }
        if next.starts_with(&[0x1f, 0x8b]) {
            self.member_start = at;
            self.member = Some(flate2::bufread::GzDecoder::new(rest));
            return Ok(());
        }
        loop {
            let bytes = rest.fill_buf()?;
            if bytes.is_empty() {
                super::warn::once(format!("{}: decompression OK, trailing zero bytes ignored", self.name));
                return Ok(());
            }
            if let Some(i) = bytes.iter().position(|&b| b != 0) {
                let bad = rest.offset + i as u64;
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "not gzip data at byte offset {at}{}, after the last complete gzip member \
                         (a damaged member header, or data appended to the file)",
                        if bad == at {
                            String::new()
                        } else {
                            format!(" (non-zero byte at offset {bad})")
                        }
                    ),
                ));
            }
            let n = bytes.len();
            rest.consume(n);
        }
    }
}

impl Read for MultiGz {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            let Some(member) = self.member.as_mut() else {
                return Ok(0);
            };
            match member.read(buf) {
                Ok(0) => {}
                Ok(n) => return Ok(n),
                Err(e) => {
                    return Err(io::Error::new(
                        e.kind(),
                        format!("gzip member at byte offset {}: {e}", self.member_start),
                    ));
                }
            }
            // The member ended, its CRC and length checked, and its
            // decoder consumed exactly its bytes.
            let Some(member) = self.member.take() else {
                return Ok(0);
            };
            self.next_member(member.into_inner())?;
        }
    }
}

/// A buffered reader that knows its stream offset and can show the next
/// few bytes even across a refill (a member's magic may straddle one).
struct Peek {
    raw: Box<dyn Read + Send>,
    buf: Box<[u8]>,
    pos: usize,
    end: usize,
    /// Stream offset of `buf[pos]`.
    offset: u64,
}

impl Peek {
    fn new(raw: Box<dyn Read + Send>) -> Self {
        Peek {
            raw,
            buf: vec![0; 128 << 10].into_boxed_slice(),
            pos: 0,
            end: 0,
            offset: 0,
        }
    }

    /// At least `n` unconsumed bytes (fewer only at the end), unconsumed.
    fn peek(&mut self, n: usize) -> io::Result<&[u8]> {
        if self.end - self.pos < n {
            self.buf.copy_within(self.pos..self.end, 0);
            self.end -= self.pos;
            self.pos = 0;
            while self.end < n {
                match self.raw.read(&mut self.buf[self.end..]) {
                    Ok(0) => break,
                    Ok(k) => self.end += k,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(&self.buf[self.pos..self.end])
    }
}

impl Read for Peek {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let bytes = self.fill_buf()?;
        let n = bytes.len().min(out.len());
        out[..n].copy_from_slice(&bytes[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for Peek {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.pos == self.end {
            self.pos = 0;
            self.end = 0;
            loop {
                match self.raw.read(&mut self.buf) {
                    Ok(k) => {
                        self.end = k;
                        break;
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(&self.buf[self.pos..self.end])
    }

    fn consume(&mut self, n: usize) {
        let n = n.min(self.end - self.pos);
        self.pos += n;
        self.offset += n as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(data).unwrap();
        enc.finish().unwrap()
    }

    fn bzip2(data: &[u8]) -> Vec<u8> {
        let mut enc = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::default());
        enc.write_all(data).unwrap();
        enc.finish().unwrap()
    }

    fn zstd(data: &[u8]) -> Vec<u8> {
        zstd::stream::encode_all(data, 3).unwrap()
    }

    fn decode(codec: Codec, bytes: Vec<u8>) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        decoder(codec, Box::new(io::Cursor::new(bytes)), Path::new("t"))
            .unwrap()
            .read_to_end(&mut out)?;
        Ok(out)
    }

    #[test]
    fn issue8_content_is_sniffed_for_every_codec() {
        assert_eq!(sniff(&gzip(b"x\n")), Some(Codec::Gzip));
        assert_eq!(sniff(&bzip2(b"x\n")), Some(Codec::Bzip2));
        assert_eq!(sniff(&bzip2(b"")), Some(Codec::Bzip2), "an empty bzip2 stream");
        assert_eq!(sniff(&zstd(b"x\n")), Some(Codec::Zstd));
        assert_eq!(sniff(&[0xfd, b'7', b'z', b'X', b'Z', 0, 0, 4]), Some(Codec::Xz));
        assert_eq!(sniff(&[0x04, 0x22, 0x4d, 0x18, 0x64]), Some(Codec::Lz4));
        assert_eq!(sniff(b"\xff\x06\x00\x00sNaPpY"), Some(Codec::Snappy));
        for text in [&b"BZh, said the bee\n"[..], b"hello", b"", b"\x1f\x8bx"] {
            assert_eq!(sniff(text), None, "{text:?}");
        }
    }

    #[test]
    fn issue8_content_wins_over_the_name() {
        let n = Path::new("n");
        let gz = gzip(b"x\n");
        assert_eq!(
            detect(n, Some(Path::new("a.txt")), &gz[..SNIFF_LEN]).unwrap(),
            Some(Codec::Gzip)
        );
        assert_eq!(
            detect(n, Some(Path::new("a.bz2")), &gz[..SNIFF_LEN]).unwrap(),
            Some(Codec::Gzip)
        );
        assert_eq!(detect(n, None, &gz[..SNIFF_LEN]).unwrap(), Some(Codec::Gzip));
        assert_eq!(detect(n, Some(Path::new("a.txt")), b"plain").unwrap(), None);
        assert_eq!(detect(n, Some(Path::new("a.gz")), b"").unwrap(), None, "empty");
        for name in ["a.gz", "a.BZ2", "a.zst", "a.xz", "a.lz4", "a.snappy"] {
            let err = detect(Path::new(name), Some(Path::new(name)), b"plain text\n").unwrap_err();
            assert!(err.to_string().contains(name), "{err}");
        }
        let err = detect(Path::new("-"), None, &[0xfd, b'7', b'z', b'X', b'Z', 0]).unwrap_err();
        assert!(
            err.to_string().contains("xz compressed input is not supported"),
            "{err}"
        );
    }

    #[test]
    fn issue8_zstd_reads_every_frame() {
        let mut bytes = zstd(b"one\ntwo\n");
        bytes.extend(zstd(b"three\n"));
        assert_eq!(decode(Codec::Zstd, bytes).unwrap(), b"one\ntwo\nthree\n");
    }

    /// Audit finding 4: bytes after a member that are neither a member
    /// nor zero padding used to end the data quietly, so a damaged second
    /// member's header, or text appended with `cat`, read as half a file.
    #[test]
    fn issue27_gzip_bytes_after_a_member_are_an_error_at_their_offset() {
        let one = gzip(b"one\n");
        let two = gzip(b"two\n");
        let mut appended = one.clone();
        appended.extend_from_slice(&two);
        appended.extend_from_slice(b"plain text, appended\n");
        let mut damaged_magic = one.clone();
        let mut bad = two.clone();
        bad[0] = 0x1e;
        damaged_magic.extend_from_slice(&bad);
        let mut damaged_header = one.clone();
        let mut bad = two.clone();
        bad[3] = 0xe0; // reserved FLG bits
        damaged_header.extend_from_slice(&bad);
        let at_two = one.len() + two.len();
        for (what, bytes, offset) in [
            ("text after two members", appended, at_two),
            ("a damaged magic", damaged_magic, one.len()),
            ("a damaged header", damaged_header, one.len()),
        ] {
            let err = decode(Codec::Gzip, bytes).unwrap_err();
            assert!(
                err.to_string().contains(&format!("byte offset {offset}")),
                "{what}: {err}"
            );
        }
        // A corrupt member after a good one is an error too.
        let mut bytes = one.clone();
        bytes.extend_from_slice(&two[..12]);
        let err = decode(Codec::Gzip, bytes).unwrap_err();
        assert!(err.to_string().contains(&format!("byte offset {}", one.len())), "{err}");
        // Zero padding, as `gzip -d` accepts it, even across a refill.
        for zeros in [1, 2, 1000, 300_000] {
            let mut bytes = one.clone();
            bytes.extend_from_slice(&two);
            bytes.extend(std::iter::repeat_n(0u8, zeros));
            assert_eq!(decode(Codec::Gzip, bytes).unwrap(), b"one\ntwo\n", "{zeros} zeros");
        }
        let mut bytes = one.clone();
        bytes.extend_from_slice(&[0, 0, 0, 7, 0]);
        let err = decode(Codec::Gzip, bytes).unwrap_err();
        assert!(err.to_string().contains(&format!("byte offset {}", one.len())), "{err}");
        assert!(err.to_string().contains(&format!("offset {}", one.len() + 3)), "{err}");
    }

    /// A reader that hands out at most `chunk` bytes a call, so a
    /// member's magic can straddle two fills.
    struct Trickle(io::Cursor<Vec<u8>>, usize);

    impl Read for Trickle {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = buf.len().min(self.1);
            self.0.read(&mut buf[..n])
        }
    }

    #[test]
    fn issue27_gzip_magic_split_across_reads() {
        let mut bytes = gzip(b"one\n");
        let first = bytes.len();
        bytes.extend(gzip(b"two\n"));
        for chunk in [1, 2, 3, first - 1, first, first + 1] {
            let mut out = Vec::new();
            decoder(
                Codec::Gzip,
                Box::new(Trickle(io::Cursor::new(bytes.clone()), chunk)),
                Path::new("t"),
            )
            .unwrap()
            .read_to_end(&mut out)
            .unwrap();
            assert_eq!(out, b"one\ntwo\n", "reads of {chunk}");
        }
    }

    #[test]
    fn gzip_members_across_buffer_boundaries() {
        // Members far bigger than the 128 KiB buffer, so boundaries fall
        // anywhere, the magic split across two fills included.
        let data: Vec<u8> = (0..200_000u32).flat_map(|i| format!("{i}\n").into_bytes()).collect();
        let mut bytes = Vec::new();
        for chunk in data.chunks(100_003) {
            bytes.extend(gzip(chunk));
        }
        assert_eq!(decode(Codec::Gzip, bytes).unwrap(), data);
    }
}
