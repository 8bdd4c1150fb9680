//! Yelp-like `review.json`: one compact JSON object per line, in the real
//! `yelp_academic_dataset_review.json`'s field order (`review_id`,
//! `user_id`, `business_id`, `stars`, `useful`, `funny`, `cool`, `text`,
//! `date`), for the businesses of a `business.json`-style file, with
//! invented records and text.
//!
//! Shapes and quirks, per line (rates are targets; the tests count them):
//! * ids are 22 characters of the URL-safe base64 alphabet;
//! * `business_id` follows a Zipf law over the businesses, in an order
//!   shuffled by the seed, so a few businesses get very many reviews and
//!   most get few; ~0.5% of reviews name a well-formed id that is not in the
//!   business file (from a small pool, so each such id recurs, like a
//!   deleted business's reviews);
//! * `user_id` comes from a fixed pool of ~4 million users with a
//!   Zipf-like law (16 octaves of users, each octave twice the users of the
//!   one before and the same share of reviews), so some users write many
//!   reviews;
//! * `stars` is an integer 1-5, skewed to 4-5 and differently per business,
//!   written `4.0` on ~75% of lines and `4` on the rest;
//! * `useful`, `funny`, `cool` are small non-negative counts with a
//!   Pareto tail (mostly 0, rarely hundreds);
//! * `text` is 1-8 paragraphs of template sentences matching the stars,
//!   joined by `\n\n` or `\n`, with `\"` quotes, `/` written as `\/` on ~30%
//!   of lines, non-ASCII (`café`, `phở`, `José`, emoji) written as `\uXXXX`
//!   on ~40% of lines (surrogate pairs beyond the BMP), as raw UTF-8 on
//!   most others and mixed on ~2%, and a curly `’` apostrophe in ~10% of
//!   reviews;
//! * `date` is `YYYY-MM-DD HH:MM:SS` from 2005 to 2021, more in later
//!   years.
//!
//! With a malformed rate, that many lines per thousand are then spoiled
//! (cut short at a character boundary, or replaced by a non-JSON line).
//! The decision comes from a separate stream, so every other line is the
//! same as without the option.

mod tables;
#[cfg(test)]
mod tests;

use std::collections::HashSet;
use std::io;

use super::{Rand, Weighted, mix64, push_u64};
use tables::*;

/// Users in the pool: octaves `USER_OCTAVE0..USER_OCTAVE0 + USER_OCTAVES`,
/// octave `j` holding `2^j` users.
const USER_OCTAVE0: u32 = 6;
const USER_OCTAVES: u32 = 16;

/// Reviews of a business missing from the business file, per 10,000.
const UNKNOWN_PER_10K: u32 = 50;

/// How strings are escaped on a line; the real files mix encoders.
#[derive(Clone, Copy)]
struct Escapes {
    /// Non-ASCII as `\uXXXX` (lowercase hex), as Python's `json.dumps` does.
    ascii: bool,
    /// Each non-ASCII character escaped or not by a coin flip.
    mixed: bool,
    /// `/` as `\/`.
    slash: bool,
}

/// The review generator's state: its random streams, the businesses with
/// their popularity, the samplers, and scratch space reused across lines.
pub(crate) struct Reviews {
    rng: Rand,
    /// Decides which lines are malformed and how, apart from `rng`.
    bad: Rand,
    malformed_per_mille: u32,
    /// The distinct business ids, JSON-escaped, in file order.
    ids: Vec<String>,
    /// `by_rank[r]` is the index in `ids` of the `r`-th most reviewed.
    by_rank: Vec<u32>,
    popularity: Weighted,
    /// Well-formed ids not among `ids`.
    unknown: Vec<[u8; 22]>,
    /// Mixed into business and user indexes, so that qualities and user
    /// ids differ per seed.
    salt: u64,
    stars: [Weighted; 3],
    years: Weighted,
    paragraphs: Weighted,
    sentences: Weighted,
    text: String,
}

impl Reviews {
    /// A generator over `business_ids` (duplicates count once; none may be
    /// empty), with `malformed_per_mille` (at most 1000) spoiled lines.
    pub(crate) fn new(mut rng: Rand, bad: Rand, business_ids: &[String], malformed_per_mille: u32) -> io::Result<Self> {
        if malformed_per_mille > 1000 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("malformed lines per thousand must be at most 1000, not {malformed_per_mille}"),
            ));
        }
        let mut seen = HashSet::with_capacity(business_ids.len());
        let distinct: Vec<&str> = business_ids
            .iter()
            .map(String::as_str)
            .filter(|id| seen.insert(*id))
            .collect();
        if distinct.is_empty() {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "no business ids to review"));
        }
        if distinct.len() >= u32::MAX as usize {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "too many business ids"));
        }
        let n = distinct.len();
        let ids = distinct.iter().map(|id| json_escaped(id)).collect();

        // Fisher-Yates with the stream: which businesses are popular
        // depends on the seed, not on their place in the file.
        let mut by_rank: Vec<u32> = (0..n as u32).collect();
        for i in (1..n).rev() {
            let j = rng.below(i as u32 + 1) as usize;
            by_rank.swap(i, j);
        }
        // q grows with n so that the shape does not depend on the file's
        // size: the top business gets ~0.1-3% of the reviews, the top 1% of
        // businesses ~35%, the median one ~1/4 of the mean.
        let popularity = Weighted::zipf(n, (n / 1500) as u64);

        let mut unknown = Vec::new();
        while unknown.len() < (n / 100).max(16) {
            let mut id = [0u8; 22];
            random_id(&mut rng, &mut id);
            let text = std::str::from_utf8(&id).unwrap_or_default();
            if !seen.contains(text) && !unknown.contains(&id) {
                unknown.push(id);
            }
        }
        let salt = rng.u64();

        Ok(Reviews {
            rng,
            bad,
            malformed_per_mille,
            ids,
            by_rank,
            popularity,
            unknown,
            salt,
            stars: STAR_WEIGHTS.map(Weighted::new),
            years: Weighted::new(YEAR_WEIGHTS),
            paragraphs: Weighted::new(PARAGRAPH_WEIGHTS),
            sentences: Weighted::new(SENTENCE_WEIGHTS),
            text: String::with_capacity(4096),
        })
    }

    /// Appends one line, `\n` included.
    pub(crate) fn line(&mut self, buf: &mut Vec<u8>) {
        let start = buf.len();
        self.review(buf);
        if self.malformed_per_mille > 0 && self.bad.below(1000) < self.malformed_per_mille {
            self.spoil(buf, start);
        }
    }

    /// Appends one well-formed review.
    fn review(&mut self, buf: &mut Vec<u8>) {
        let esc = Escapes {
            ascii: self.rng.chance(4000),
            mixed: self.rng.chance(200),
            slash: self.rng.chance(3000),
        };
        let curly = self.rng.chance(1000);

        buf.extend_from_slice(b"{\"review_id\":\"");
        let mut id = [0u8; 22];
        random_id(&mut self.rng, &mut id);
        buf.extend_from_slice(&id);

        buf.extend_from_slice(b"\",\"user_id\":\"");
        let octave = USER_OCTAVE0 + self.rng.below(USER_OCTAVES);
        let user = (1u64 << octave) - (1 << USER_OCTAVE0) + u64::from(self.rng.below(1 << octave));
        hashed_id(mix64(self.salt ^ user), &mut id);
        buf.extend_from_slice(&id);

        buf.extend_from_slice(b"\",\"business_id\":\"");
        let quality = if self.rng.chance(UNKNOWN_PER_10K) {
            buf.extend_from_slice(&self.unknown[self.rng.below(self.unknown.len() as u32) as usize]);
            1
        } else {
            let index = self.by_rank[self.popularity.sample(&mut self.rng)];
            buf.extend_from_slice(self.ids[index as usize].as_bytes());
            // 30% well liked, 50% typical, 20% poorly liked.
            match mix64(self.salt.rotate_left(32) ^ u64::from(index)) % 10 {
                0..=2 => 0,
                3..=7 => 1,
                _ => 2,
            }
        };

        let stars = self.stars[quality].sample(&mut self.rng) as u8 + 1;
        buf.extend_from_slice(b"\",\"stars\":");
        buf.push(b'0' + stars);
        if !self.rng.chance(2500) {
            buf.extend_from_slice(b".0");
        }
        buf.extend_from_slice(b",\"useful\":");
        push_u64(buf, self.votes(1, 1));
        buf.extend_from_slice(b",\"funny\":");
        push_u64(buf, self.votes(1, 4));
        buf.extend_from_slice(b",\"cool\":");
        push_u64(buf, self.votes(1, 3));

        buf.extend_from_slice(b",\"text\":\"");
        self.review_text(stars, curly);
        put_text(buf, &self.text, esc, &mut self.rng);

        buf.extend_from_slice(b"\",\"date\":\"");
        self.date(buf);
        buf.extend_from_slice(b"\"}\n");
    }

    /// A vote count with `P(count >= t) = c / (t + c)` for `c = num / den`
    /// (so `P(0) = 1 / (1 + c)`), its tail past 500 redrawn uniformly.
    fn votes(&mut self, num: u64, den: u64) -> u64 {
        let x = u64::from(self.rng.u32() >> 16) + 1;
        let count = num * (65_536 - x) / (den * x);
        if count > 500 {
            u64::from(self.rng.below(500))
        } else {
            count
        }
    }

    /// Leaves the review's text, unescaped, in `self.text`.
    fn review_text(&mut self, stars: u8, curly: bool) {
        self.text.clear();
        let paragraphs = self.paragraphs.sample(&mut self.rng) + 1;
        for p in 0..paragraphs {
            if p > 0 {
                self.text.push_str(if self.rng.chance(8000) { "\n\n" } else { "\n" });
            }
            let sentences = self.sentences.sample(&mut self.rng) + 1;
            for s in 0..sentences {
                if s > 0 {
                    self.text.push(' ');
                }
                // Per mille: positive, then negative; the rest neutral.
                let (good, bad) = match stars {
                    5 => (700, 0),
                    4 => (600, 50),
                    3 => (250, 250),
                    2 => (50, 600),
                    _ => (0, 700),
                };
                let r = self.rng.below(1000);
                let templates = if r < good {
                    POSITIVE
                } else if r < good + bad {
                    NEGATIVE
                } else {
                    NEUTRAL
                };
                let template = self.rng.pick(templates);
                self.expand(template, stars, curly);
                if self.rng.chance(150) {
                    self.text.push(' ');
                    self.text.push_str(self.rng.pick(EMOJI));
                }
            }
        }
    }

    /// Appends `template` to `self.text` with its slots filled.
    fn expand(&mut self, template: &str, stars: u8, curly: bool) {
        let mut rest = template;
        while let Some(at) = rest.find('$') {
            push_apostrophes(&mut self.text, &rest[..at], curly);
            let slot = rest.as_bytes().get(at + 1).copied().unwrap_or(b'$');
            rest = rest.get(at + 2..).unwrap_or_default();
            let rng = &mut self.rng;
            let word = match slot {
                b'D' => rng.pick(DISHES),
                b'A' => rng.pick(GOOD),
                b'B' => rng.pick(BAD),
                b'V' => rng.pick(INTENSIFIERS),
                b'S' => rng.pick(STAFF),
                b'P' => rng.pick(COMPANIONS),
                b'O' => rng.pick(OCCASIONS),
                b'T' => rng.pick(TIMES),
                b'M' => rng.pick(NAMES),
                b'K' => rng.pick(PLACES),
                b'E' => rng.pick(EMOJI),
                _ => {
                    let n = match slot {
                        b'm' => 5 + 5 * rng.below(19),
                        b'n' => rng.range(2, 12),
                        b'p' => {
                            self.text.push('$');
                            rng.range(8, 85)
                        }
                        b's' => u32::from(stars),
                        _ => rng.range(1, 10), // b'R'
                    };
                    push_decimal(&mut self.text, n);
                    continue;
                }
            };
            push_apostrophes(&mut self.text, word, curly);
        }
        push_apostrophes(&mut self.text, rest, curly);
    }

    /// Appends `YYYY-MM-DD HH:MM:SS`.
    fn date(&mut self, buf: &mut Vec<u8>) {
        let year = FIRST_YEAR + self.years.sample(&mut self.rng) as u32;
        let leap = u32::from(year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)));
        let mut day = self.rng.below(365 + leap);
        let month = MONTH_STARTS
            .iter()
            .rposition(|&s| s + u32::from(s >= 59) * leap <= day)
            .unwrap_or(0);
        day -= MONTH_STARTS[month] + u32::from(month >= 2) * leap;
        push_u64(buf, u64::from(year));
        buf.push(b'-');
        push_2(buf, month as u32 + 1);
        buf.push(b'-');
        push_2(buf, day + 1);
        buf.push(b' ');
        push_2(buf, self.rng.below(24));
        buf.push(b':');
        push_2(buf, self.rng.below(60));
        buf.push(b':');
        push_2(buf, self.rng.below(60));
    }

    /// Replaces the line at `buf[start..]` by a malformed one: cut short
    /// (70%) before its closing brace, at a character boundary, or a line
    /// that is not JSON at all.
    fn spoil(&mut self, buf: &mut Vec<u8>, start: usize) {
        if self.bad.below(10) < 7 {
            // The line is `{...}\n`: keep `{` plus up to all but the `}`.
            let len = buf.len() - start - 2;
            let mut cut = start + 1 + self.bad.below(len as u32) as usize;
            while cut > start + 1 && buf[cut] & 0xc0 == 0x80 {
                cut -= 1;
            }
            buf.truncate(cut);
        } else {
            buf.truncate(start);
            buf.extend_from_slice(self.bad.pick(GARBAGE).as_bytes());
        }
        buf.push(b'\n');
    }
}

/// 22 characters of the URL-safe base64 alphabet from the stream.
fn random_id(rng: &mut Rand, id: &mut [u8; 22]) {
    let mut bits = 0;
    for (i, c) in id.iter_mut().enumerate() {
        if i % 10 == 0 {
            bits = rng.u64();
        }
        *c = ID_ALPHABET[(bits & 63) as usize];
        bits >>= 6;
    }
}

/// 22 characters of the URL-safe base64 alphabet from the hash `h`.
fn hashed_id(mut h: u64, id: &mut [u8; 22]) {
    let mut bits = h;
    for (i, c) in id.iter_mut().enumerate() {
        if i % 10 == 0 && i > 0 {
            h = mix64(h);
            bits = h;
        }
        *c = ID_ALPHABET[(bits & 63) as usize];
        bits >>= 6;
    }
}

/// `id` as it goes between a JSON string's quotes.
fn json_escaped(id: &str) -> String {
    match serde_json::to_string(id) {
        Ok(quoted) => quoted[1..quoted.len() - 1].to_owned(),
        Err(_) => String::new(), // a `&str` always serializes
    }
}

/// Appends `s`, with `'` as `’` when `curly`.
fn push_apostrophes(text: &mut String, s: &str, curly: bool) {
    if curly && s.contains('\'') {
        text.extend(s.chars().map(|c| if c == '\'' { '’' } else { c }));
    } else {
        text.push_str(s);
    }
}

/// Appends `text` escaped for the inside of a JSON string literal.
fn put_text(buf: &mut Vec<u8>, text: &str, esc: Escapes, rng: &mut Rand) {
    let bytes = text.as_bytes();
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let plain = match b {
            b'"' | b'\\' | 0..0x20 => false,
            b'/' => !esc.slash,
            0x80.. => !esc.ascii && !esc.mixed,
            _ => true,
        };
        if plain {
            i += 1;
            continue;
        }
        buf.extend_from_slice(&bytes[copied..i]);
        match b {
            b'"' => buf.extend_from_slice(b"\\\""),
            b'\\' => buf.extend_from_slice(b"\\\\"),
            b'/' => buf.extend_from_slice(b"\\/"),
            b'\n' => buf.extend_from_slice(b"\\n"),
            b'\r' => buf.extend_from_slice(b"\\r"),
            b'\t' => buf.extend_from_slice(b"\\t"),
            0..0x20 => put_u_escape(buf, u16::from(b)),
            _ => {
                let Some(c) = text[i..].chars().next() else { break };
                if esc.ascii || rng.chance(5000) {
                    let mut units = [0u16; 2];
                    for &unit in c.encode_utf16(&mut units).iter() {
                        put_u_escape(buf, unit);
                    }
                } else {
                    buf.extend_from_slice(&bytes[i..i + c.len_utf8()]);
                }
                i += c.len_utf8();
                copied = i;
                continue;
            }
        }
        i += 1;
        copied = i;
    }
    buf.extend_from_slice(&bytes[copied..]);
}

fn put_u_escape(buf: &mut Vec<u8>, unit: u16) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    buf.extend_from_slice(b"\\u");
    for shift in [12, 8, 4, 0] {
        buf.push(HEX[usize::from((unit >> shift) & 0xf)]);
    }
}

/// Appends `n` (below 100) as two digits.
fn push_2(buf: &mut Vec<u8>, n: u32) {
    buf.push(b'0' + (n / 10) as u8);
    buf.push(b'0' + (n % 10) as u8);
}

fn push_decimal(s: &mut String, n: u32) {
    use std::fmt::Write as _;
    // Writing to a `String` cannot fail.
    let _ = write!(s, "{n}");
}
