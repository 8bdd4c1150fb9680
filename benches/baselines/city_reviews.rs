//! `baseline-city-reviews --business FILE [--business FILE...] REVIEWS...
//! [--threads N] [--min-reviews N]`: the `yelp-city-reviews` join written
//! by hand, with no framework: the limit `benches/e2e.py` measures the job
//! against.
//!
//! It prints exactly what `mr-run yelp-city-reviews --input business=B
//! --input review=R` prints: for each city, in code point order,
//! `JSON(city)<TAB>[count, mean stars]`, and reads each line as the job's
//! spec (and `jobs/tests/oracle/yelp_city_reviews.py`) does: only UTF-8 JSON
//! objects are records; a business needs a string `business_id` and a
//! `city` that is absent, null (both, and "", count as `missing_city`) or a
//! string; a review needs a string `business_id` and `stars` a number (not
//! a bool) equal to 1, 2, 3, 4 or 5 (`4` and `4.0` alike); a repeated key
//! takes its last value, as Python's `json.loads` does. Only those fields
//! are deserialized (borrowed when they have no escapes), by the job's
//! parser, `serde_json`; serde skips the others without building them.
//!
//! The business files are read first, each thread taking its contiguous
//! share of every file (Hadoop's split rule), into a hash map from
//! `business_id` to its records' cities; the maps are merged. Then each
//! thread takes its share of every review file, looks each review's
//! business up in that map and adds it to a per-thread table of (count, sum
//! of stars) per city, keyed by the map's own city strings; the tables are
//! merged and sorted by city once. No mapper calls, no serialized records,
//! no sort buffer, shuffle or reduce-side join. The numbers of malformed
//! lines and of reviews of unknown businesses go to stderr, as the oracle
//! writes them.

// Tests, benchmarks and hand-written baselines may panic on a failed
// unwrap: the library code may not (Cargo.toml [lints]).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

#[allow(dead_code)] // its `parse_args`: this command line has --business
#[path = "common.rs"]
mod common;
use common::{for_each_lines, write_json_str, write_py_float};

use std::borrow::Cow;
use std::error::Error;
use std::fmt;
use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use hashbrown::HashMap;
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// Bytes read per `read_at`: big enough that system calls are rare.
const BLOCK: usize = 1 << 20;

/// The job's key for a business with no usable city.
const MISSING_CITY: &str = "missing_city";

const USAGE: &str =
    "usage: baseline-city-reviews --business FILE [--business FILE...] REVIEWS... [--threads N] [--min-reviews N]";

/// business_id -> the city key of each business record with that id.
type Businesses = HashMap<String, Vec<String>>;

/// city -> (joined reviews, sum of their stars), keyed by the business
/// map's strings.
type Tally<'b> = HashMap<&'b str, (u64, u64)>;

/// The command line.
struct Cli {
    business: Vec<PathBuf>,
    reviews: Vec<PathBuf>,
    threads: usize,
    min_reviews: u64,
}

fn parse_cli() -> Result<Cli, String> {
    let mut cli = Cli {
        business: Vec::new(),
        reviews: Vec::new(),
        threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
        min_reviews: 0,
    };
    let mut args = std::env::args_os().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--threads" {
            cli.threads = args
                .next()
                .and_then(|n| n.to_str()?.parse().ok())
                .filter(|&n| n > 0)
                .ok_or(USAGE)?;
        } else if arg == "--min-reviews" {
            cli.min_reviews = args.next().and_then(|n| n.to_str()?.parse().ok()).ok_or(USAGE)?;
        } else if arg == "--business" {
            cli.business.push(PathBuf::from(args.next().ok_or(USAGE)?));
        } else {
            cli.reviews.push(PathBuf::from(arg));
        }
    }
    if cli.business.is_empty() || cli.reviews.is_empty() {
        return Err(USAGE.into());
    }
    Ok(cli)
}

fn main() -> Result<(), Box<dyn Error>> {
    let cli = parse_cli()?;
    let business_files = open_all(&cli.business)?;
    let review_files = open_all(&cli.reviews)?;
    let threads = cli.threads;

    // The business map, built by every thread from its share and merged.
    let parts = in_threads(threads, |t| {
        let mut businesses = Businesses::new();
        let mut malformed = 0u64;
        for_share(&business_files, t, threads, |line| match business(line) {
            Some((id, city)) => match businesses.get_mut(id.as_ref()) {
                Some(cities) => cities.push(city.into_owned()),
                None => {
                    businesses.insert(id.into_owned(), vec![city.into_owned()]);
                }
            },
            None => malformed += 1,
        })?;
        Ok((businesses, malformed))
    })?;
    let mut businesses = Businesses::new();
    let mut bad_businesses = 0;
    for (part, malformed) in parts {
        bad_businesses += malformed;
        if businesses.is_empty() {
            businesses = part;
            continue;
        }
        for (id, cities) in part {
            businesses.entry(id).or_default().extend(cities);
        }
    }

    // The join: each thread tallies its share of the reviews.
    let businesses = &businesses;
    let parts = in_threads(threads, |t| {
        let mut tally = Tally::new();
        let (mut malformed, mut unknown) = (0u64, 0u64);
        for_share(&review_files, t, threads, |line| {
            let Some((id, stars)) = review(line) else {
                malformed += 1;
                return;
            };
            let Some(cities) = businesses.get(id.as_ref()) else {
                unknown += 1;
                return;
            };
            for city in cities {
                let (count, sum) = tally.entry(city.as_str()).or_insert((0, 0));
                *count += 1;
                *sum += u64::from(stars);
            }
        })?;
        Ok((tally, malformed, unknown))
    })?;
    let mut tally = Tally::new();
    let (mut bad_reviews, mut unknown) = (0, 0);
    for (part, malformed, unknowns) in parts {
        bad_reviews += malformed;
        unknown += unknowns;
        for (city, (count, sum)) in part {
            let total = tally.entry(city).or_insert((0, 0));
            total.0 += count;
            total.1 += sum;
        }
    }

    if bad_businesses > 0 {
        eprintln!("malformed business lines: {bad_businesses}");
    }
    if bad_reviews > 0 {
        eprintln!("malformed review lines: {bad_reviews}");
    }
    if unknown > 0 {
        eprintln!("reviews of unknown businesses: {unknown}");
    }

    // Byte order of UTF-8 is code point order, Python's `sorted`.
    let mut cities: Vec<_> = tally
        .into_iter()
        .filter(|&(_, (count, _))| count >= cli.min_reviews)
        .collect();
    cities.sort_unstable_by_key(|&(city, _)| city);
    let mut out = Vec::with_capacity(cities.len() * 32);
    for (city, (count, sum)) in cities {
        write_json_str(&mut out, city);
        out.extend_from_slice(format!("\t[{count}, ").as_bytes());
        // Both below 2^53, so exact; the division rounds as Python's does.
        write_py_float(&mut out, sum as f64 / count as f64);
        out.extend_from_slice(b"]\n");
    }
    io::stdout().lock().write_all(&out)?;
    Ok(())
}

/// Opens every file, with its length.
fn open_all(paths: &[PathBuf]) -> Result<Vec<(&Path, File, u64)>, String> {
    paths
        .iter()
        .map(|p| {
            let file = File::open(p).map_err(|e| format!("{}: {e}", p.display()))?;
            let len = file.metadata().map_err(|e| format!("{}: {e}", p.display()))?.len();
            Ok((p.as_path(), file, len))
        })
        .collect()
}

/// Runs `work(t)` on threads `0..threads` and returns their results in
/// thread order.
fn in_threads<T: Send>(threads: usize, work: impl Fn(usize) -> Result<T, String> + Sync) -> Result<Vec<T>, String> {
    std::thread::scope(|s| {
        let work = &work;
        let handles: Vec<_> = (0..threads).map(|t| s.spawn(move || work(t))).collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err("a thread panicked".into())))
            .collect()
    })
}

/// Calls `f` with every line (without its `\n` and one `\r`) that starts in
/// thread `t`'s contiguous share of each file.
fn for_share(files: &[(&Path, File, u64)], t: usize, threads: usize, mut f: impl FnMut(&[u8])) -> Result<(), String> {
    let mut buf = vec![0; BLOCK];
    for (path, file, len) in files {
        let start = len * t as u64 / threads as u64;
        let end = len * (t as u64 + 1) / threads as u64;
        for_each_lines(file, start, end, &mut buf, |lines| {
            for line in lines.split_inclusive(|&b| b == b'\n') {
                let line = match line.strip_suffix(b"\n") {
                    Some(l) => l.strip_suffix(b"\r").unwrap_or(l),
                    None => line,
                };
                f(line);
            }
        })
        .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(())
}

/// A business line's `(business_id, city key)`, or None if it is malformed.
fn business(line: &[u8]) -> Option<(Cow<'_, str>, Cow<'_, str>)> {
    let [id, city] = fields(line, ["business_id", "city"])?;
    let Some(Field::Str(id)) = id else { return None };
    let city = match city {
        None | Some(Field::Null) => Cow::Borrowed(MISSING_CITY),
        Some(Field::Str(c)) if c.is_empty() => Cow::Borrowed(MISSING_CITY),
        Some(Field::Str(c)) => c,
        Some(_) => return None,
    };
    Some((id, city))
}

/// A review line's `(business_id, stars)`, or None if it is malformed.
fn review(line: &[u8]) -> Option<(Cow<'_, str>, u8)> {
    match fields(line, ["business_id", "stars"])? {
        [Some(Field::Str(id)), Some(Field::Stars(stars))] => Some((id, stars)),
        _ => None,
    }
}

/// The values of the keys `names` (the last one, where a key repeats) of
/// the JSON object that is the whole of `line`; None if `line` is not UTF-8
/// or not one JSON object.
fn fields<'a>(line: &'a [u8], names: [&'static str; 2]) -> Option<[Option<Field<'a>>; 2]> {
    let text = std::str::from_utf8(line).ok()?;
    let mut de = serde_json::Deserializer::from_str(text);
    let found = Object { names }.deserialize(&mut de).ok()?;
    de.end().ok()?;
    Some(found)
}

/// A value, as far as the checks tell values apart.
enum Field<'a> {
    Str(Cow<'a, str>),
    Null,
    /// A number (not a bool) equal to 1, 2, 3, 4 or 5.
    Stars(u8),
    /// Anything else: another number, a bool, an array or an object.
    Other,
}

impl<'de> Deserialize<'de> for Field<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(FieldVisitor)
    }
}

struct FieldVisitor;

impl FieldVisitor {
    fn stars(x: f64) -> Field<'static> {
        match x {
            1.0 => Field::Stars(1),
            2.0 => Field::Stars(2),
            3.0 => Field::Stars(3),
            4.0 => Field::Stars(4),
            5.0 => Field::Stars(5),
            _ => Field::Other,
        }
    }
}

impl<'de> Visitor<'de> for FieldVisitor {
    type Value = Field<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Field<'de>, E> {
        Ok(Field::Str(Cow::Borrowed(v)))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Field<'de>, E> {
        Ok(Field::Str(Cow::Owned(v.to_owned())))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Field<'de>, E> {
        Ok(Field::Str(Cow::Owned(v)))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Field<'de>, E> {
        Ok(Field::Null)
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Field<'de>, E> {
        Ok(Field::Other)
    }

    // Every u64 and i64 whose nearest f64 is 1 to 5 is that integer.
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Field<'de>, E> {
        Ok(Self::stars(v as f64))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Field<'de>, E> {
        Ok(Self::stars(v as f64))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Field<'de>, E> {
        Ok(Self::stars(v))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Field<'de>, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Field::Other)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Field<'de>, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Field::Other)
    }
}

/// Reads a JSON object (only an object), keeping the values of `names`.
struct Object {
    names: [&'static str; 2],
}

impl<'de> DeserializeSeed<'de> for Object {
    type Value = [Option<Field<'de>>; 2];

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Object {
    type Value = [Option<Field<'de>>; 2];

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut found = [None, None];
        while let Some(key) = map.next_key_seed(Key { names: self.names })? {
            match key {
                Some(i) => found[i] = Some(map.next_value::<Field<'de>>()?),
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(found)
    }
}

/// Reads an object's key: the index of the name it is among `names`, if any.
struct Key {
    names: [&'static str; 2],
}

impl<'de> DeserializeSeed<'de> for Key {
    type Value = Option<usize>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key {
    type Value = Option<usize>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a key")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Option<usize>, E> {
        Ok(self.names.iter().position(|&name| name == v))
    }
}
