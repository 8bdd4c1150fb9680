//! The TeraSort trio, as in Hadoop's examples: `teragen` writes N 100-byte
//! records, `terasort` sorts them into globally ordered part files, and
//! `teravalidate` checks the order and an order-independent checksum.
//! Plus `sort`, the same sort for any text lines keyed by their first
//! tab-separated column.
//!
//! A record is one 100-byte line: a 10-character key of printable ASCII
//! (`!` to `~`), a tab, an 88-byte payload holding the row number, and
//! `\n`. Keys are a hash of (seed, row), so any split of the rows across
//! map tasks writes the same records, and `LC_ALL=C sort` orders them the
//! same way `terasort` does (ties between equal keys by the whole line).

use std::fmt::Write as _;

use mapreduce::prelude::*;
use serde::{Deserialize, Serialize};

/// Bytes of a record's key.
pub const KEY_LEN: usize = 10;
/// Bytes of a whole record, newline included.
pub const RECORD_LEN: usize = 100;

/// Writes record `row` of the data set for `seed` into `out` (99 bytes,
/// without the newline).
pub fn record(seed: u64, row: u64, out: &mut String) {
    out.clear();
    for half in 0..2u64 {
        let mut h = xxhash_rust::xxh3::xxh3_64_with_seed(&row.to_le_bytes(), seed.wrapping_add(half));
        for _ in 0..KEY_LEN / 2 {
            out.push(char::from(b'!' + (h % 94) as u8));
            h /= 94;
        }
    }
    out.push('\t');
    let fill = char::from(b'A' + (row % 26) as u8);
    // Into the reused buffer: no allocation per record. Writing to a
    // String cannot fail.
    let _ = write!(out, "{row:020}");
    out.extend(std::iter::repeat_n(fill, RECORD_LEN - KEY_LEN - 1 - 20 - 1));
}

/// The width of a teragen task line: `FIRST COUNT\n`, fixed so that a block
/// size of this many bytes gives each line its own map task.
pub const TASK_LINE_LEN: usize = 42;

/// The input of a teragen run: one fixed-width line per map task.
pub fn teragen_tasks(rows: u64, tasks: u64) -> String {
    let tasks = tasks.clamp(1, rows.max(1));
    (0..tasks)
        .map(|t| {
            let first = rows * t / tasks;
            let next = rows * (t + 1) / tasks;
            format!("{first:020} {:020}\n", next - first)
        })
        .collect()
}

/// teragen's mapper: each input line `FIRST COUNT` writes those rows.
#[derive(Debug, Clone, Default)]
pub struct Generate {
    /// Seed of the data set.
    pub seed: u64,
    buf: String,
}

impl Mapper for Generate {
    type Input = TextLine;
    type Key = ();
    type Value = String;

    fn map(&mut self, line: Line<'_>, out: &mut Emitter<'_, (), String>) -> TaskResult {
        let mut fields = line.text.split_whitespace();
        let (Some(first), Some(count)) = (fields.next(), fields.next()) else {
            return Err(format!("expected FIRST COUNT, found {:?}", line.text).into());
        };
        let (first, count): (u64, u64) = (first.parse()?, count.parse()?);
        for row in first..first + count {
            record(self.seed, row, &mut self.buf);
            out.emit_ref(&(), &self.buf);
        }
        Ok(())
    }
}

/// teragen: map-only, one task per input line (see [`teragen_tasks`]).
/// `mr-run teragen --rows N [--seed S] -o DIR` prepares the input.
pub fn teragen(seed: u64) -> impl AnyJob {
    Job::new(
        "teragen",
        step::map(Generate {
            seed,
            ..Generate::default()
        }),
    )
    .output(Protocol::RawValue)
    .about("Writes N 100-byte TeraSort records: `mr-run teragen --rows N [--seed S] -o DIR`")
}

/// The shuffle key of a line: something that orders lines the way
/// `LC_ALL=C sort` orders them by the job's sort key, and gives the line
/// back. The type alone decides which part of a line is the sort key, so a
/// job cannot pair a key spec with a key type that ignores it.
pub trait LineKey: Key + Default + Clone + Send + Sync + 'static {
    /// Sets the key for `line`.
    fn set(&mut self, line: &str);
    /// The whole line.
    fn line(&self) -> &String;
}

/// TeraSort's fixed-width key: the line alone. Every key has the same
/// width, so the line orders as (key, line) does, and byte for byte as
/// `LC_ALL=C sort` orders whole lines. One string costs half the encoding
/// of two, and its first bytes are the key, which the sort's radix and
/// merge prefixes see whole.
impl LineKey for String {
    fn set(&mut self, line: &str) {
        self.clear();
        self.push_str(line);
    }
    fn line(&self) -> &String {
        self
    }
}

/// The first tab-separated column, then the whole line. The column varies
/// in length, so it must be its own string: a shorter column sorts first
/// even where its line does not (`a\x05` after `a` though `\x05` sorts
/// below the tab that ends `a`).
impl LineKey for (String, String) {
    fn set(&mut self, line: &str) {
        let end = line.find('\t').unwrap_or(line.len());
        let (key, whole) = self;
        key.clear();
        key.push_str(&line[..end]);
        whole.clear();
        whole.push_str(line);
    }
    fn line(&self) -> &String {
        &self.1
    }
}

/// Emits `(key, ())` for each line, the key a [`LineKey`].
#[derive(Debug, Clone, Default)]
pub struct KeyedLines<K> {
    /// Reused for every line: no allocation per record.
    buf: K,
}

impl<K: LineKey> Mapper for KeyedLines<K> {
    type Input = TextLine;
    type Key = K;
    type Value = ();

    fn map(&mut self, line: Line<'_>, out: &mut Emitter<'_, K, ()>) -> TaskResult {
        self.buf.set(line.text);
        out.emit_ref(&self.buf, &());
        Ok(())
    }
}

/// Writes each line once per occurrence, in the order they arrive: sorted.
#[derive(Debug, Clone, Default)]
pub struct Lines<K>(std::marker::PhantomData<K>);

impl<K: LineKey> Reducer for Lines<K> {
    type Key = K;
    type Value = ();
    type OutKey = ();
    type OutValue = String;

    fn reduce(&mut self, key: &K, copies: Values<'_, ()>, out: &mut Emitter<'_, (), String>) -> TaskResult {
        let line = key.line();
        for () in copies {
            out.emit_ref(&(), line);
        }
        Ok(())
    }
}

fn sort_job<K: LineKey>(name: &str, about: &str) -> impl AnyJob + use<K> {
    // Total order makes the parts globally sorted; the key carries the
    // whole line, so ties order by it, as `LC_ALL=C sort` does.
    Job::new(
        name,
        step::map(KeyedLines::<K>::default())
            .total_order()
            .reduce(Lines::<K>::default()),
    )
    .output(Protocol::RawValue)
    .about(about)
}

/// terasort: globally sorted parts, byte-identical to `LC_ALL=C sort`.
pub fn terasort() -> impl AnyJob {
    sort_job::<String>(
        "terasort",
        "Sorts TeraSort records by their 10-byte key into globally ordered parts (total order)",
    )
}

/// sort: text lines by their first tab-separated column, then whole line.
pub fn sort() -> impl AnyJob {
    sort_job::<(String, String)>(
        "sort",
        "Sorts text lines by their first tab-separated column (total order, like LC_ALL=C sort)",
    )
}

/// What one map task of teravalidate saw of its split.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SplitCheck {
    /// The file read.
    pub file: String,
    /// Byte offset of the split's first line.
    pub offset: u64,
    /// The split's first and last lines.
    pub first: String,
    /// The split's last line.
    pub last: String,
    /// Lines read.
    pub records: u64,
    /// Sum of the lines' xxh3 hashes (wrapping): independent of order.
    pub checksum: u64,
    /// Lines smaller than the line before them.
    pub misordered: u64,
}

/// teravalidate's mapper: checks order within its split.
#[derive(Debug, Clone, Default)]
pub struct CheckSplit {
    check: Option<SplitCheck>,
}

impl Mapper for CheckSplit {
    type Input = TextLine;
    type Key = ();
    type Value = SplitCheck;

    fn map(&mut self, line: Line<'_>, out: &mut Emitter<'_, (), SplitCheck>) -> TaskResult {
        let check = self.check.get_or_insert_with(|| SplitCheck {
            file: out.input_path().map(|p| p.display().to_string()).unwrap_or_default(),
            offset: line.offset,
            first: line.text.to_owned(),
            ..SplitCheck::default()
        });
        if check.records > 0 && line.text < check.last.as_str() {
            check.misordered += 1;
        }
        check.records += 1;
        check.checksum = check
            .checksum
            .wrapping_add(xxhash_rust::xxh3::xxh3_64(line.text.as_bytes()));
        check.last.clear();
        check.last.push_str(line.text);
        Ok(())
    }

    fn cleanup(&mut self, out: &mut Emitter<'_, (), SplitCheck>) -> TaskResult {
        if let Some(check) = self.check.take() {
            out.emit((), check);
        }
        Ok(())
    }
}

/// teravalidate's reducer: joins the splits in (file, offset) order and
/// checks the order across them.
#[derive(Debug, Clone, Default)]
pub struct Validate;

impl Reducer for Validate {
    type Key = ();
    type Value = SplitCheck;
    type OutKey = String;
    type OutValue = u64;

    fn reduce(&mut self, _: &(), splits: Values<'_, SplitCheck>, out: &mut Emitter<'_, String, u64>) -> TaskResult {
        let (mut records, mut checksum, mut misordered) = (0u64, 0u64, 0u64);
        let mut last: Option<String> = None;
        for split in splits {
            if last.as_deref().is_some_and(|l| split.first.as_str() < l) {
                misordered += 1;
            }
            records += split.records;
            checksum = checksum.wrapping_add(split.checksum);
            misordered += split.misordered;
            last = Some(split.last);
        }
        out.emit_ref("checksum", &checksum);
        out.emit_ref("misordered", &misordered);
        out.emit_ref("records", &records);
        if misordered > 0 {
            out.counter("teravalidate", "misordered records", misordered as i64);
        }
        Ok(())
    }
}

/// teravalidate: global order across the parts (in name order) and an
/// order-independent checksum of the records.
pub fn teravalidate() -> impl AnyJob {
    // Sorted values put the splits in (file, offset) order.
    Job::new(
        "teravalidate",
        step::map(CheckSplit::default()).sort_values().reduce(Validate),
    )
    .about("Checks that sorted parts are in global order, and checksums their records")
}
