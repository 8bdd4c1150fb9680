//! The Streaming text layouts: how encoded pairs travel as text lines
//! between the tasks of a job run by Hadoop Streaming, Spark's `pipe` or
//! `-r streaming`, where a sort the framework does not own (Hadoop's, GNU
//! `sort`'s, Spark's) orders them.
//!
//! Byte layouts (one record per line, `\n`-terminated, ASCII only):
//!
//! - **shuffle line** (a map task's output for the reduce stage, and a
//!   reduce or combine task's input): `PART \t KEY \t SEQ \t VALUE \n`
//!   for a step whose reducer sees values in arrival order, and
//!   `PART \t KEY \t VALUE \n` for a secondary sort (values sorted as
//!   bytes). Either way the first three fields are the sort key
//!   (`stream.num.map.output.key.fields=3`). A reducer also takes the
//!   line with one empty field more at its end, as Hadoop hands it over
//!   when the key is the whole line (`KEY \t VALUE \t`).
//!   `PART` names the partition (reduce task) `r` of `R`: it is the first
//!   8-hex-digit token (`00000000`, `00000001`, ...) that Hadoop's
//!   `KeyFieldBasedPartitioner` with `-k1,1` sends to reduce task `r`, so
//!   that Hadoop puts each record where the local runner puts it: that
//!   partitioner computes `h = 31 * h + b` (Java `int`, from `h = 0`) over
//!   the field's bytes and takes `(h & 0x7fffffff) % R` (read from
//!   Hadoop 3.4.2's bytecode and checked against real Hadoop by
//!   `engines/hadoop/check_partitioner.py`). [`PartitionFields`] maps
//!   both ways.
//!
//!   `SEQ` is where the record arrived: `RANK PATH . START . N`, with
//!   `RANK` the 8-hex-digit index of the job input (as the user listed
//!   them) that the map task's file belongs to, `PATH` the file's path in
//!   hex, `START` the split's start offset (16 hex digits) and `N` the
//!   record's number in its map task (16 hex digits). Hadoop's and
//!   Spark's sorts are not stable, and Hadoop runs splits in order of
//!   size; sorting by `SEQ` gives a key's values in the local runner's
//!   order (input order, then file order, then offset, then emission),
//!   whatever order the engine ran or merged the map tasks in. `.` sorts
//!   below every hex digit, so a path that is a prefix of another sorts
//!   first, as the bytes do.
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

/// Hadoop's `KeyFieldBasedPartitioner` on one key field: Java's
/// `31 * h + b` over the field's (signed) bytes from 0, then
/// `(h & 0x7fffffff) % reducers`.
pub(crate) fn hadoop_partition(field: &[u8], reducers: u32) -> u32 {
    let h = field
        .iter()
        .fold(0i32, |h, &b| h.wrapping_mul(31).wrapping_add(i32::from(b as i8)));
    (h & 0x7fff_ffff) as u32 % reducers.max(1)
}

/// The `PART` token of each of `R` partitions, and back.
pub(crate) struct PartitionFields {
    tokens: Vec<[u8; 8]>,
}

impl PartitionFields {
    pub(crate) fn new(reducers: u32) -> Self {
        let reducers = reducers.max(1);
        let mut tokens: Vec<Option<[u8; 8]>> = vec![None; reducers as usize];
        let mut missing = reducers as usize;
        // The hash spreads consecutive tokens over the partitions: about
        // R ln R tokens fill every one.
        for n in 0u32.. {
            if missing == 0 {
                break;
            }
            let mut token = [0u8; 8];
            for (i, t) in token.iter_mut().enumerate() {
                *t = HEX[((n >> ((7 - i) * 4)) & 15) as usize];
            }
            let slot = &mut tokens[hadoop_partition(&token, reducers) as usize];
            if slot.is_none() {
                *slot = Some(token);
                missing -= 1;
            }
        }
        PartitionFields {
            tokens: tokens.into_iter().map(|t| t.unwrap_or(*b"ffffffff")).collect(),
        }
    }

    /// The token of partition `r`.
    pub(crate) fn token(&self, partition: u32) -> &[u8; 8] {
        &self.tokens[partition as usize % self.tokens.len()]
    }

    /// The partition a token names.
    pub(crate) fn partition_of(&self, token: &[u8]) -> Result<u32> {
        let p = hadoop_partition(token, self.tokens.len() as u32);
        if self.tokens[p as usize] != token {
            return Err(malformed(format!(
                "{:?} is not a partition token of {} reduce tasks",
                String::from_utf8_lossy(token),
                self.tokens.len()
            )));
        }
        Ok(p)
    }
}

/// A map task's arrival positions: the `SEQ` field of its shuffle lines.
#[derive(Debug, Clone)]
pub(crate) struct Arrival {
    prefix: Vec<u8>,
    next: u64,
    current: Vec<u8>,
}

impl Arrival {
    /// The positions of a map task reading `path` (of job input `rank`)
    /// from byte `start`.
    pub(crate) fn new(rank: u32, path: &[u8], start: u64) -> Self {
        let mut prefix = Vec::with_capacity(8 + path.len() * 2 + 18);
        prefix.extend_from_slice(format!("{rank:08x}").as_bytes());
        push_hex(&mut prefix, path);
        prefix.extend_from_slice(format!(".{start:016x}.").as_bytes());
        Arrival {
            prefix,
            next: 0,
            current: Vec::new(),
        }
    }

    /// The next record's `SEQ`.
    pub(crate) fn next_seq(&mut self) -> &[u8] {
        self.current.clear();
        self.current.extend_from_slice(&self.prefix);
        self.current.extend_from_slice(format!("{:016x}", self.next).as_bytes());
        self.next += 1;
        &self.current
    }
}

/// Appends a shuffle line; with `seq`, in the arrival-order layout, else
/// in a secondary sort's.
pub(crate) fn push_shuffle_line(
    out: &mut Vec<u8>,
    parts: &PartitionFields,
    partition: u32,
    key: &[u8],
    seq: Option<&[u8]>,
    value: &[u8],
) {
    out.extend_from_slice(parts.token(partition));
    out.push(b'\t');
    push_hex(out, key);
    out.push(b'\t');
    if let Some(seq) = seq {
        out.extend_from_slice(seq);
        out.push(b'\t');
    }
    push_hex(out, value);
    out.push(b'\n');
}

/// The rank of `file` among the job's `inputs` (paths or URIs, as the
/// user listed them): the first input that is the file or a directory
/// above it, or, for a glob, whose directory is above it. Schemes and
/// authorities are ignored on both sides (Hadoop qualifies paths as
/// `file:/...` or `hdfs://host:port/...`), and a relative input matches
/// where it ends a file's directories (Hadoop resolves it under the
/// user's home). A file no input names ranks last.
pub(crate) fn input_rank(inputs: &[String], file: &str) -> u32 {
    let file = strip_scheme(file);
    for (rank, input) in inputs.iter().enumerate() {
        let mut input = strip_scheme(input);
        if let Some(glob) = input.find(['*', '?', '[']) {
            input = input[..glob].rsplit_once('/').map_or("", |(dir, _)| dir);
        }
        let input = input.trim_end_matches('/');
        let inside = |file: &str| file == input || file.strip_prefix(input).is_some_and(|rest| rest.starts_with('/'));
        let relative = !input.is_empty() && !input.starts_with('/');
        if inside(file)
            || relative
                && file
                    .match_indices(&format!("/{input}"))
                    .any(|(at, _)| inside(&file[at + 1..]))
        {
            return rank as u32;
        }
    }
    inputs.len() as u32
}

/// `path` without a `scheme:` and `//authority` in front.
fn strip_scheme(path: &str) -> &str {
    let rest = match path.split_once(':') {
        Some((scheme, rest)) if !scheme.is_empty() && !scheme.contains('/') => rest,
        _ => path,
    };
    match rest.strip_prefix("//") {
        Some(auth) => auth.find('/').map_or("", |i| &auth[i..]),
        None => rest,
    }
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

/// Parses a shuffle line (without its `\n`): its partition, its key and
/// value into `key` and `value`, and, if the layout has one (`arrival`),
/// its `SEQ` field into `seq`.
pub(crate) fn parse_shuffle_line(
    line: &[u8],
    parts: &PartitionFields,
    arrival: bool,
    key: &mut Vec<u8>,
    value: &mut Vec<u8>,
    seq: &mut Vec<u8>,
) -> Result<u32> {
    let (token, rest) = split_tab(line)?;
    let partition = parts.partition_of(token)?;
    let (k, mut rest) = split_tab(rest)?;
    decode_hex(k, key)?;
    seq.clear();
    if arrival {
        let (s, r) = split_tab(rest)?;
        seq.extend_from_slice(s);
        rest = r;
    }
    // Hadoop hands a line that was all key back with a tab at its end.
    let v = rest.strip_suffix(b"\t").unwrap_or(rest);
    decode_hex(v, value)?;
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
        let parts = PartitionFields::new(300);
        let mut line = Vec::new();
        push_shuffle_line(&mut line, &parts, 258, b"\x00k\xff", None, b"");
        assert!(line.ends_with(b"\t006bff\t\n"), "{:?}", String::from_utf8_lossy(&line));
        let (mut k, mut v, mut seq) = (Vec::new(), Vec::new(), Vec::new());
        let p = parse_shuffle_line(&line[..line.len() - 1], &parts, false, &mut k, &mut v, &mut seq).unwrap();
        assert_eq!((p, k.as_slice(), v.as_slice()), (258, &b"\x00k\xff"[..], &b""[..]));
        // As Hadoop hands back a line that was all key: one more tab.
        let mut whole = line[..line.len() - 1].to_vec();
        whole.push(b'\t');
        assert_eq!(
            parse_shuffle_line(&whole, &parts, false, &mut k, &mut v, &mut seq).unwrap(),
            258
        );
        assert_eq!(v, b"");
        // The arrival layout: SEQ between key and value.
        let mut arrival = Arrival::new(2, b"/in/a", 4096);
        arrival.next_seq();
        line.clear();
        push_shuffle_line(&mut line, &parts, 1, b"k", Some(arrival.next_seq()), b"v");
        let text = String::from_utf8(line.clone()).unwrap();
        assert!(
            text.ends_with("\t6b\t000000022f696e2f61.0000000000001000.0000000000000001\t76\n"),
            "{text}"
        );
        let p = parse_shuffle_line(&line[..line.len() - 1], &parts, true, &mut k, &mut v, &mut seq).unwrap();
        assert_eq!((p, k.as_slice(), v.as_slice()), (1, &b"k"[..], &b"v"[..]));
        assert_eq!(seq, b"000000022f696e2f61.0000000000001000.0000000000000001");
        let first = String::from_utf8_lossy(parts.token(0)).into_owned();
        for bad in [
            "0000\t00\t00".to_owned(),
            format!("{first}\t0g\t"),
            format!("{first}\t000\t"),
            format!("{first} 00 00"),
        ] {
            let err = parse_shuffle_line(bad.as_bytes(), &parts, false, &mut k, &mut v, &mut seq).unwrap_err();
            assert!(err.to_string().contains("malformed Streaming line"), "{err}");
        }
    }

    #[test]
    fn partition_tokens_land_where_hadoop_sends_them() {
        // Java: "a".hashCode() == 97; the partitioner hashes from 0 as
        // String.hashCode does, over bytes, signed.
        assert_eq!(hadoop_partition(b"a", 1000), 97);
        assert_eq!(
            hadoop_partition(b"00000000", i32::MAX as u32),
            (0xba07_1800u32 & 0x7fff_ffff) % (i32::MAX as u32)
        );
        assert_eq!(
            hadoop_partition(&[0xc3, 0xa9], 1 << 30),
            ((-61i32 * 31 - 87) & 0x7fff_ffff) as u32 % (1 << 30)
        );
        for reducers in [1u32, 2, 3, 7, 64, 1000] {
            let parts = PartitionFields::new(reducers);
            let mut seen = std::collections::HashSet::new();
            for r in 0..reducers {
                let token = parts.token(r);
                assert_eq!(hadoop_partition(token, reducers), r);
                assert_eq!(parts.partition_of(token).unwrap(), r);
                assert!(seen.insert(*token));
            }
        }
    }

    #[test]
    fn inputs_rank_files_as_the_user_listed_them() {
        let inputs: Vec<String> = ["/data/b", "file:///data/a.txt", "hdfs://nn:8020/logs/*.gz", "rel/dir/"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(input_rank(&inputs, "file:/data/b/part-1"), 0);
        assert_eq!(input_rank(&inputs, "/data/b"), 0);
        assert_eq!(input_rank(&inputs, "file:/data/a.txt"), 1);
        assert_eq!(input_rank(&inputs, "hdfs://nn:8020/logs/x.gz"), 2);
        assert_eq!(input_rank(&inputs, "rel/dir/f"), 3);
        // Hadoop resolves a relative input under the user's home.
        assert_eq!(input_rank(&inputs, "hdfs://nn:8020/user/ann/rel/dir/f"), 3);
        assert_eq!(input_rank(&inputs, "hdfs://nn:8020/user/ann/rel/dirt/f"), 4);
        // A sibling whose name merely starts alike is not inside.
        assert_eq!(input_rank(&inputs, "/data/bb/f"), 4);
        assert_eq!(input_rank(&[], "/x"), 0);
    }

    proptest! {
        /// Arrival positions sort as (rank, path bytes, start, number).
        #[test]
        fn arrival_order_is_input_order(
            a in (0u32..3, proptest::collection::vec(any::<u8>(), 0..5), 0u64..1 << 40, 0u64..4),
            b in (0u32..3, proptest::collection::vec(any::<u8>(), 0..5), 0u64..1 << 40, 0u64..4),
        ) {
            let seq = |x: &(u32, Vec<u8>, u64, u64)| {
                let mut arrival = Arrival::new(x.0, &x.1, x.2);
                for _ in 0..x.3 {
                    arrival.next_seq();
                }
                arrival.next_seq().to_vec()
            };
            prop_assert_eq!(seq(&a).cmp(&seq(&b)), a.cmp(&b));
        }
    }

    #[test]
    fn partition_files_round_trip() {
        let bounds = vec![b"a".to_vec(), b"a\x00".to_vec(), b"z".to_vec()];
        assert_eq!(parse_partition_file(&partition_file(&bounds)).unwrap(), bounds);
        assert!(parse_partition_file(b"7a\n61\n").is_err());
    }

    proptest! {
        /// Byte order of one partition's shuffle lines is (key, value)
        /// order, as a byte-order sort (Hadoop's, `LC_ALL=C sort`'s) needs.
        #[test]
        fn line_order_is_record_order(
            a in (0u32..4, proptest::collection::vec(any::<u8>(), 0..6), proptest::collection::vec(any::<u8>(), 0..4)),
            b in (0u32..4, proptest::collection::vec(any::<u8>(), 0..6), proptest::collection::vec(any::<u8>(), 0..4)),
        ) {
            // Within one reduce task, byte order is (key, value) order.
            let parts = PartitionFields::new(4);
            let (mut la, mut lb) = (Vec::new(), Vec::new());
            push_shuffle_line(&mut la, &parts, a.0, &a.1, None, &a.2);
            push_shuffle_line(&mut lb, &parts, a.0, &b.1, None, &b.2);
            prop_assert_eq!(la.cmp(&lb), (&a.1, &a.2).cmp(&(&b.1, &b.2)));
        }
    }
}
