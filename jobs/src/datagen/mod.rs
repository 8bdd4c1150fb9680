//! Deterministic test and benchmark inputs, in the spirit of Hadoop's
//! teragen / randomtextwriter.
//!
//! This module owns the generators ([`yelp`], [`yelp_reviews`], [`text`]) and
//! the plumbing they
//! share: the seeded random stream, a table-driven weighted sampler, and the
//! line-at-a-time writer that gives every generator its two guarantees:
//!
//! * determinism: the bytes depend only on `(size, seed)` (and, for
//!   [`yelp_reviews`], its business ids and options), on every platform
//!   and for every future build, because the stream is ChaCha8 keyed directly
//!   from the seed and every draw is turned into a value with integer
//!   arithmetic only (no `powf`/`ln`, whose last bits vary between libms, and
//!   no `rand` distributions, whose value stability is not promised across
//!   versions);
//! * the prefix property: one endless stream of lines per seed is cut after
//!   the first whole line that reaches `size`, so a smaller output is always
//!   a prefix of a larger one with the same seed.

use std::io::{self, BufRead, Write};
use std::path::Path;

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};

mod reviews;
mod text;
mod yelp;

/// What a generator wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Generated {
    pub bytes: u64,
    pub records: u64,
}

/// Yelp-like `business.json` lines (one JSON object per line) until at least `size` bytes are written.
///
/// Each line is one business shaped like the real
/// `yelp_academic_dataset_business.json`, quirks included (null dicts, Python
/// repr strings inside `attributes`, `\/` and `\u00e9` escapes next to raw
/// UTF-8, missing / null / empty / case-variant cities, an old-dump
/// `neighborhood` field). No real Yelp record is reproduced.
pub fn yelp(out: &mut dyn Write, size: u64, seed: u64) -> io::Result<Generated> {
    let mut generator = yelp::Yelp::new(Rand::new(seed, *b"yelp-biz"));
    drive(out, size, |buf| generator.line(buf))
}

/// Yelp-like `review.json` lines (one JSON object per line) for the
/// businesses `business_ids` until at least `size` bytes are written.
///
/// Each line is one review shaped like the real
/// `yelp_academic_dataset_review.json`: `review_id`, `user_id` (from a
/// Zipf-like pool of users), `business_id` (Zipf-distributed over
/// `business_ids` in a seed-shuffled order; ~0.5% name a well-formed id that
/// is not among them), `stars` (1-5, skewed to 4-5, as `4.0` or `4`),
/// `useful` / `funny` / `cool`, `text` (sentences matching the stars, with
/// `\n`, `\"`, `\/`, `\u00e9` escapes, raw UTF-8 and emoji) and `date`
/// (`YYYY-MM-DD HH:MM:SS`). No real Yelp record is reproduced.
///
/// Duplicate ids count once; their order matters (the same ids in another
/// order give other bytes). `malformed_per_mille` (at most 1000) lines per
/// thousand are spoiled: cut short, or replaced by a line that is not JSON;
/// the other lines are the same bytes as with 0. [`Generated::records`]
/// counts every line, spoiled ones included.
///
/// # Errors
///
/// `InvalidInput` when `business_ids` is empty or `malformed_per_mille`
/// exceeds 1000, and any error from `out`.
pub fn yelp_reviews(
    out: &mut dyn Write,
    size: u64,
    seed: u64,
    business_ids: &[String],
    malformed_per_mille: u32,
) -> io::Result<Generated> {
    let mut generator = reviews::Reviews::new(
        Rand::new(seed, *b"yelp-rev"),
        Rand::new(seed, *b"yelp-bad"),
        business_ids,
        malformed_per_mille,
    )?;
    drive(out, size, |buf| generator.line(buf))
}

/// The `business_id` of every line of a `business.json`-style file (as
/// [`yelp`] writes it), in file order, read once.
///
/// A line that is not a JSON object with a string `business_id` (blank,
/// malformed, not UTF-8, or without the field) is skipped.
///
/// # Errors
///
/// Any error opening or reading `path`.
pub fn read_business_ids(path: &Path) -> io::Result<Vec<String>> {
    business_ids(io::BufReader::with_capacity(1 << 20, std::fs::File::open(path)?))
}

/// [`read_business_ids`] for any buffered reader.
///
/// # Errors
///
/// Any error reading `input`.
pub fn business_ids(mut input: impl BufRead) -> io::Result<Vec<String>> {
    #[derive(serde::Deserialize)]
    struct Business<'a> {
        #[serde(borrow)]
        business_id: std::borrow::Cow<'a, str>,
    }
    let mut ids = Vec::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        if input.read_until(b'\n', &mut line)? == 0 {
            return Ok(ids);
        }
        if let Ok(business) = serde_json::from_slice::<Business>(&line) {
            ids.push(business.business_id.into_owned());
        }
    }
}

/// English-like text lines with a Zipf vocabulary until at least `size` bytes are written.
///
/// The vocabulary has ~100,000 words (real common English words first, then
/// synthetic pronounceable ones) drawn with a Zipf law of exponent 1; lines
/// hold 5-20 words with some capitals, punctuation, apostrophes and a rare
/// non-ASCII word.
pub fn text(out: &mut dyn Write, size: u64, seed: u64) -> io::Result<Generated> {
    let mut generator = text::Text::new(Rand::new(seed, *b"text-zpf"));
    drive(out, size, |buf| generator.line(buf))
}

/// A generator: [`yelp`] or [`text`] ([`yelp_reviews`] needs more than a
/// size and a seed).
pub type Generator = fn(&mut dyn Write, u64, u64) -> io::Result<Generated>;

/// Writes `make`'s data for `size` and `seed` into the file `path` (tests
/// and benchmarks write their inputs this way).
pub fn write_file(path: &std::path::Path, make: Generator, size: u64, seed: u64) -> io::Result<Generated> {
    make(&mut std::fs::File::create(path)?, size, seed)
}

/// Bytes gathered before handing them to the writer: big enough that the
/// caller needs no `BufWriter`, small enough to stay in cache.
const CHUNK: usize = 1 << 20;

/// Appends lines until `size` bytes are reached, writing in large chunks.
fn drive(out: &mut dyn Write, size: u64, mut line: impl FnMut(&mut Vec<u8>)) -> io::Result<Generated> {
    let mut done = Generated { bytes: 0, records: 0 };
    if size == 0 {
        return Ok(done);
    }
    let capacity = usize::try_from(size).map_or(CHUNK, |s| s.min(CHUNK)) + 4096;
    let mut buf = Vec::with_capacity(capacity);
    while done.bytes < size {
        let before = buf.len();
        line(&mut buf);
        debug_assert_eq!(buf.last(), Some(&b'\n'));
        done.bytes += (buf.len() - before) as u64;
        done.records += 1;
        if buf.len() >= CHUNK {
            out.write_all(&buf)?;
            buf.clear();
        }
    }
    out.write_all(&buf)?;
    out.flush()?;
    Ok(done)
}

/// The seeded random stream, with the few integer-only draws the generators
/// need.
pub(crate) struct Rand(ChaCha8Rng);

impl Rand {
    /// Keys ChaCha8 with the seed and a per-generator tag, so that the
    /// generators' streams are unrelated even for the same seed. `from_seed`
    /// is used instead of `seed_from_u64` because its mapping is the cipher
    /// key itself, with nothing in between that a release could change.
    pub(crate) fn new(seed: u64, tag: [u8; 8]) -> Self {
        let mut key = [0u8; 32];
        key[..8].copy_from_slice(&seed.to_le_bytes());
        key[8..16].copy_from_slice(&tag);
        Rand(ChaCha8Rng::from_seed(key))
    }

    pub(crate) fn u32(&mut self) -> u32 {
        self.0.next_u32()
    }

    pub(crate) fn u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// Uniform in `0..n` (multiply-shift; the bias of at most `n / 2^32` is
    /// irrelevant for test data).
    pub(crate) fn below(&mut self, n: u32) -> u32 {
        ((u64::from(self.u32()) * u64::from(n)) >> 32) as u32
    }

    /// Uniform in `lo..=hi`.
    pub(crate) fn range(&mut self, lo: u32, hi: u32) -> u32 {
        lo + self.below(hi - lo + 1)
    }

    /// True with probability `per_10k / 10_000`.
    pub(crate) fn chance(&mut self, per_10k: u32) -> bool {
        self.below(10_000) < per_10k
    }

    pub(crate) fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u32) as usize]
    }
}

/// A discrete distribution sampled in O(1) expected time: cumulative 32-bit
/// cut points plus a guide table indexed by the top bits of the draw, so a
/// draw costs one table lookup and a binary search over a handful of entries
/// even for a 100,000-word vocabulary.
pub(crate) struct Weighted {
    /// `cuts[k]` is the end (exclusive) of item `k`'s share of `0..2^32`,
    /// saturated to `u32::MAX` (32 bits halve the table's cache footprint;
    /// the one draw the saturation misplaces is clamped back in `sample`).
    cuts: Vec<u32>,
    /// `guide[j]` is the first item whose share ends after the start of
    /// bucket `j`; `guide[buckets]` is the last item.
    guide: Vec<u32>,
    shift: u32,
}

impl Weighted {
    /// Items `0..weights.len()` with the given integer weights (not all zero).
    pub(crate) fn new(weights: &[u64]) -> Self {
        assert!(!weights.is_empty() && weights.len() < u32::MAX as usize);
        let total: u128 = weights.iter().map(|&w| u128::from(w)).sum();
        assert!(total > 0, "weights must not all be zero");
        let mut cuts = Vec::with_capacity(weights.len());
        let mut cumulative: u128 = 0;
        for &w in weights {
            cumulative += u128::from(w);
            let cut = (cumulative << 32) / total;
            cuts.push(u32::try_from(cut).unwrap_or(u32::MAX));
        }
        let bits = weights.len().next_power_of_two().trailing_zeros().clamp(4, 16);
        let shift = 32 - bits;
        let buckets = 1usize << bits;
        let mut guide = Vec::with_capacity(buckets + 1);
        let mut k = 0usize;
        for j in 0..buckets {
            let start = (j as u32) << shift;
            while cuts[k] <= start {
                k += 1;
            }
            guide.push(k as u32);
        }
        guide.push((weights.len() - 1) as u32);
        Weighted { cuts, guide, shift }
    }

    /// Zipf–Mandelbrot with exponent 1: item `k` has weight `1 / (k + 1 + q)`.
    /// Exponent 1 keeps the weights to integer divisions.
    pub(crate) fn zipf(n: usize, q: u64) -> Self {
        let weights: Vec<u64> = (0..n as u64).map(|k| (1u64 << 48) / (k + 1 + q)).collect();
        Self::new(&weights)
    }

    pub(crate) fn sample(&self, rng: &mut Rand) -> usize {
        let r = rng.u32();
        let j = (r >> self.shift) as usize;
        let lo = self.guide[j] as usize;
        let hi = self.guide[j + 1] as usize;
        (lo + self.cuts[lo..=hi].partition_point(|&c| c <= r)).min(hi)
    }
}

/// A cheap, fixed integer hash (splitmix64's finalizer), for values that must
/// be derived from an index rather than drawn from the stream.
pub(crate) fn mix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// Appends the decimal digits of `n`.
pub(crate) fn push_u64(buf: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    buf.extend_from_slice(&digits[i..]);
}

/// Properties every generator must have, checked by each one's tests:
/// output of a smaller size is a prefix of a bigger one's, and the output
/// ends with the first whole line that reaches the size.
#[cfg(test)]
pub(crate) fn check_sizes_and_prefixes(
    make: fn(&mut dyn std::io::Write, u64, u64) -> std::io::Result<Generated>,
    big: u64,
    sizes: &[u64],
    seed: u64,
) {
    let run = |size| {
        let mut out = Vec::new();
        let g = make(&mut out, size, seed).unwrap();
        (out, g)
    };
    let (all, gall) = run(big);
    for &size in sizes {
        let (out, g) = run(size);
        assert!(all.starts_with(&out), "size {size}: not a prefix");
        assert!(g.records <= gall.records);
        assert_eq!(g.bytes, out.len() as u64);
        assert!(g.bytes >= size);
        assert_eq!(out.last(), Some(&b'\n'));
        assert_eq!(g.records, out.iter().filter(|&&b| b == b'\n').count() as u64);
        // Stops at the first line that reaches `size`: without its last
        // line the output would be short.
        let before_last = out[..out.len() - 1]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |p| p + 1);
        assert!((before_last as u64) < size, "size {size}: stopped late");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weighted_follows_weights() {
        let w = Weighted::new(&[1, 0, 3, 6]);
        let mut rng = Rand::new(1, *b"test-wgt");
        let mut counts = [0u32; 4];
        for _ in 0..100_000 {
            counts[w.sample(&mut rng)] += 1;
        }
        assert_eq!(counts[1], 0, "a zero weight is never drawn");
        assert!((9_000..11_000).contains(&counts[0]), "{counts:?}");
        assert!((29_000..31_000).contains(&counts[2]), "{counts:?}");
        assert!((59_000..61_000).contains(&counts[3]), "{counts:?}");
    }

    #[test]
    fn weighted_matches_plain_search() {
        // The guide table must be a pure speed-up: same item as a full scan.
        let w = Weighted::zipf(100_000, 0);
        let mut a = Rand::new(7, *b"test-wgt");
        let mut b = Rand::new(7, *b"test-wgt");
        for _ in 0..200_000 {
            let got = w.sample(&mut a);
            let r = b.u32();
            let last = w.cuts.len() - 1;
            assert_eq!(got, w.cuts.partition_point(|&c| c <= r).min(last));
        }
    }

    #[test]
    fn push_u64_formats() {
        let mut buf = Vec::new();
        for n in [0, 7, 10, 123_456, u64::MAX] {
            buf.clear();
            push_u64(&mut buf, n);
            assert_eq!(buf, n.to_string().as_bytes());
        }
    }

    #[test]
    fn size_zero_writes_nothing() {
        let mut out = Vec::new();
        let g = yelp(&mut out, 0, 1).unwrap();
        assert_eq!(g, Generated { bytes: 0, records: 0 });
        let g = text(&mut out, 0, 1).unwrap();
        assert_eq!(g, Generated { bytes: 0, records: 0 });
        assert!(out.is_empty());
    }

    #[test]
    fn generators_use_unrelated_streams() {
        let mut a = Rand::new(3, *b"yelp-biz");
        let mut b = Rand::new(3, *b"text-zpf");
        assert_ne!(a.u64(), b.u64());
    }
}
