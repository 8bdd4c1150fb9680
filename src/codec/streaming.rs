//! The Streaming text layouts: how encoded pairs travel as text lines
//! between the tasks of a job run by Hadoop Streaming, Spark's `pipe` or
//! `-r streaming`, where a sort the framework does not own (Hadoop's, GNU
//! `sort`'s, Spark's) orders them.
//!
//! Byte layouts (one record per line, `\n`-terminated, ASCII only):
//!
//! - **shuffle line** (a map task's output for the reduce stage, and a
//!   reduce or combine task's input): `PART \t KEY \t VALUE \n`.
//!   `PART` is the partition (reduce task) number, 8 lowercase hex digits,
//!   so that a reducer's records are contiguous in byte order.
//! - **pair line** (a step's output for the next step's map tasks):
//!   `KEY \t VALUE \n`.
//!
//! `KEY` and `VALUE` are the encoded bytes (see [`key`](super::key) and the
//! value codec) in lowercase hex, two digits a byte. Hex digits sort in
//! the unsigned byte order of the bytes they encode (`0`-`9` < `a`-`f` in
//! ASCII, and a shorter string sorts first as a shorter byte string does;
//! `\t` sorts below every digit), so a byte-order sort of shuffle lines,
//! as Hadoop sorts `Text` keys or `LC_ALL=C sort` sorts lines, orders
//! records by (partition, key, value): exactly the local runner's order.
//! An empty key or value is an empty field.
//!
//! - **partition file** (total order): the sorted range boundaries, one
//!   encoded key in hex a line; partition `i` holds the keys at or above
//!   boundary `i - 1` and below boundary `i`.

use crate::error::{Error, Result};

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Appends `bytes` in lowercase hex.
pub(crate) fn push_hex(out: &mut Vec<u8>, bytes: &[u8]) {
    out.reserve(bytes.len() * 2);
    for &b in bytes {
        out.push(HEX[(b >> 4) as usize]);
        out.push(HEX[(b & 15) as usize]);
    }
}

fn nibble(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    }
}

/// Decodes lowercase hex `text` into `out` (cleared first).
pub(crate) fn decode_hex(text: &[u8], out: &mut Vec<u8>) -> Result<()> {
    out.clear();
    if !text.len().is_multiple_of(2) {
        return Err(malformed(format!("an odd number of hex digits ({})", text.len())));
    }
    out.reserve(text.len() / 2);
    for pair in text.chunks_exact(2) {
        match (nibble(pair[0]), nibble(pair[1])) {
            (Some(hi), Some(lo)) => out.push(hi << 4 | lo),
            _ => {
                return Err(malformed(format!(
                    "{:?} is not lowercase hex",
                    String::from_utf8_lossy(pair)
                )));
            }
        }
    }
    Ok(())
}

fn malformed(what: String) -> Error {
    Error::Codec(format!("malformed Streaming line: {what}"))
}

/// Appends a shuffle line.
pub(crate) fn push_shuffle_line(out: &mut Vec<u8>, partition: u32, key: &[u8], value: &[u8]) {
    for shift in (0..8).rev() {
        out.push(HEX[((partition >> (shift * 4)) & 15) as usize]);
    }
    out.push(b'\t');
    push_pair_line(out, key, value);
}

/// Appends a pair line.
pub(crate) fn push_pair_line(out: &mut Vec<u8>, key: &[u8], value: &[u8]) {
    push_hex(out, key);
    out.push(b'\t');
    push_hex(out, value);
    out.push(b'\n');
}

/// Splits a line (without its `\n`) at its first tab.
fn split_tab(line: &[u8]) -> Result<(&[u8], &[u8])> {
    let tab = memchr::memchr(b'\t', line).ok_or_else(|| malformed("no tab".into()))?;
    Ok((&line[..tab], &line[tab + 1..]))
}

/// Parses a pair line (without its `\n`) into `key` and `value`.
pub(crate) fn parse_pair_line(line: &[u8], key: &mut Vec<u8>, value: &mut Vec<u8>) -> Result<()> {
    let (k, v) = split_tab(line)?;
    decode_hex(k, key)?;
    decode_hex(v, value)
}

/// Parses a shuffle line (without its `\n`): its partition, and its key
/// and value into `key` and `value`.
pub(crate) fn parse_shuffle_line(line: &[u8], key: &mut Vec<u8>, value: &mut Vec<u8>) -> Result<u32> {
    let (part, rest) = split_tab(line)?;
    let mut bytes = Vec::with_capacity(4);
    decode_hex(part, &mut bytes)?;
    let partition = <[u8; 4]>::try_from(bytes.as_slice())
        .map(u32::from_be_bytes)
        .map_err(|_| malformed(format!("a partition field of {} hex digits, not 8", part.len())))?;
    parse_pair_line(rest, key, value)?;
    Ok(partition)
}

/// The partition file's bytes for `bounds`.
pub(crate) fn partition_file(bounds: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for b in bounds {
        push_hex(&mut out, b);
        out.push(b'\n');
    }
    out
}

/// Parses a partition file's bytes.
pub(crate) fn parse_partition_file(text: &[u8]) -> Result<Vec<Vec<u8>>> {
    let mut bounds = Vec::new();
    for line in text.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        let mut b = Vec::new();
        decode_hex(line, &mut b)?;
        bounds.push(b);
    }
    if bounds.windows(2).any(|w| w[0] > w[1]) {
        return Err(malformed("partition boundaries out of order".into()));
    }
    Ok(bounds)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn lines_round_trip_and_name_what_is_malformed() {
        let mut line = Vec::new();
        push_shuffle_line(&mut line, 258, b"\x00k\xff", b"");
        assert_eq!(line, b"00000102\t006bff\t\n");
        let (mut k, mut v) = (Vec::new(), Vec::new());
        let p = parse_shuffle_line(&line[..line.len() - 1], &mut k, &mut v).unwrap();
        assert_eq!((p, k.as_slice(), v.as_slice()), (258, &b"\x00k\xff"[..], &b""[..]));
        for bad in [
            &b"0000\t00\t00"[..],
            b"00000000\t0g\t",
            b"00000000\t000\t",
            b"00000000 00 00",
        ] {
            let err = parse_shuffle_line(bad, &mut k, &mut v).unwrap_err();
            assert!(err.to_string().contains("malformed Streaming line"), "{err}");
        }
    }

    #[test]
    fn partition_files_round_trip() {
        let bounds = vec![b"a".to_vec(), b"a\x00".to_vec(), b"z".to_vec()];
        assert_eq!(parse_partition_file(&partition_file(&bounds)).unwrap(), bounds);
        assert!(parse_partition_file(b"7a\n61\n").is_err());
    }

    proptest! {
        /// Byte order of shuffle lines is (partition, key, value) order,
        /// as a byte-order sort (Hadoop's, `LC_ALL=C sort`'s) needs.
        #[test]
        fn line_order_is_record_order(
            a in (0u32..4, proptest::collection::vec(any::<u8>(), 0..6), proptest::collection::vec(any::<u8>(), 0..4)),
            b in (0u32..4, proptest::collection::vec(any::<u8>(), 0..6), proptest::collection::vec(any::<u8>(), 0..4)),
        ) {
            let (mut la, mut lb) = (Vec::new(), Vec::new());
            push_shuffle_line(&mut la, a.0, &a.1, &a.2);
            push_shuffle_line(&mut lb, b.0, &b.1, &b.2);
            prop_assert_eq!(la.cmp(&lb), a.cmp(&b));
        }
    }
}
