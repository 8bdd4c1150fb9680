//! Yelp-like `business.json`: one compact JSON object per line, with the
//! field order, value shapes and quirks of the real
//! `yelp_academic_dataset_business.json` (which may not be redistributed),
//! but with invented records.
//!
//! Quirks reproduced, per line (rates are targets; the tests count them):
//! * `"attributes":null` ~10%, `"hours":null` ~15%, `"categories":null` ~1%;
//! * attribute values are strings, some holding Python reprs (`"u'casual'"`,
//!   `"{'garage': False, ...}"`, `"None"`);
//! * `categories` is one comma-separated string, and a few category names
//!   contain a comma or a `/` themselves;
//! * `/` written as `\/` on ~30% of lines (~8% of lines have a `/`, so ~2.5%
//!   show `\/`), non-ASCII written as `\uXXXX` on ~40% of lines and as raw
//!   UTF-8 on the rest (~10% of lines have non-ASCII: accented and CJK names,
//!   `Montréal`, `Québec`, `Zürich`, `São Paulo`, `多伦多`, French and German
//!   street names);
//! * `city` empty ~0.5%, missing ~0.3%, null ~0.2%, and ~2% written in
//!   another case (`las vegas`, `LAS VEGAS`, `Las vegas`), which are
//!   different keys; two names (`Concord`, `Aurora`) each used in two
//!   states;
//! * an old-dump `neighborhood` field on ~20% of lines;
//! * a Zipf-like city popularity over ~300 cities, each with its own state,
//!   coordinates and postal code format.

mod tables;
#[cfg(test)]
mod tests;

use std::fmt::Write as _;

use super::{Rand, Weighted, mix64, push_u64};
use tables::*;

/// How strings are escaped on a line. The real file mixes dumps written by
/// different JSON encoders, so both choices vary per line.
#[derive(Clone, Copy)]
struct Escapes {
    /// Non-ASCII as `\uXXXX` (lowercase hex, surrogate pairs), as Python's
    /// `json.dumps` writes it.
    ascii: bool,
    /// `/` as `\/`.
    slash: bool,
}

/// Appends `s` as a JSON string literal.
fn put_str(buf: &mut Vec<u8>, s: &str, esc: Escapes) {
    buf.push(b'"');
    put_str_body(buf, s, esc);
    buf.push(b'"');
}

/// Appends `s` escaped for the inside of a JSON string literal.
fn put_str_body(buf: &mut Vec<u8>, s: &str, esc: Escapes) {
    for c in s.chars() {
        match c {
            '"' => buf.extend_from_slice(b"\\\""),
            '\\' => buf.extend_from_slice(b"\\\\"),
            '/' if esc.slash => buf.extend_from_slice(b"\\/"),
            c if (c as u32) < 0x20 => put_u_escape(buf, c as u16),
            c if c.is_ascii() => buf.push(c as u8),
            c if esc.ascii => {
                let mut units = [0u16; 2];
                for &unit in c.encode_utf16(&mut units).iter() {
                    put_u_escape(buf, unit);
                }
            }
            c => {
                let mut bytes = [0u8; 4];
                buf.extend_from_slice(c.encode_utf8(&mut bytes).as_bytes());
            }
        }
    }
}

fn put_u_escape(buf: &mut Vec<u8>, unit: u16) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    buf.extend_from_slice(b"\\u");
    for shift in [12, 8, 4, 0] {
        buf.push(HEX[usize::from((unit >> shift) & 0xf)]);
    }
}

/// Appends a coordinate given in units of 1e-7 degrees the way Python's
/// `repr(float)` would print it: trailing zeros dropped, at least one
/// decimal.
fn put_coord(buf: &mut Vec<u8>, e7: i64) {
    if e7 < 0 {
        buf.push(b'-');
    }
    let abs = e7.unsigned_abs();
    push_u64(buf, abs / 10_000_000);
    buf.push(b'.');
    let mut frac = [0u8; 7];
    let mut rest = abs % 10_000_000;
    for d in frac.iter_mut().rev() {
        *d = b'0' + (rest % 10) as u8;
        rest /= 10;
    }
    let len = frac.iter().rposition(|&d| d != b'0').map_or(1, |p| p + 1);
    buf.extend_from_slice(&frac[..len]);
}

/// The Yelp generator's state: its random stream, the samplers, and scratch
/// space reused across lines so that a line allocates nothing.
pub(crate) struct Yelp {
    rng: Rand,
    cities: Weighted,
    categories: Weighted,
    category_count: Weighted,
    stars: Weighted,
    scratch: String,
    picked: Vec<usize>,
}

impl Yelp {
    pub(crate) fn new(rng: Rand) -> Self {
        Yelp {
            rng,
            // q = 1: the top city gets ~9% of businesses, 1.5x the next.
            cities: Weighted::zipf(CITIES.len(), 1),
            categories: Weighted::zipf(CATEGORIES.len(), 2),
            category_count: Weighted::new(CATEGORY_COUNT_WEIGHTS),
            stars: Weighted::new(STAR_WEIGHTS),
            scratch: String::with_capacity(128),
            picked: Vec::with_capacity(8),
        }
    }

    /// Appends one business, `\n` included.
    pub(crate) fn line(&mut self, buf: &mut Vec<u8>) {
        let esc = Escapes {
            ascii: self.rng.chance(4000),
            slash: self.rng.chance(3000),
        };
        let city_index = self.cities.sample(&mut self.rng);
        let (city, metro_index) = CITIES[city_index];
        let metro = &METROS[metro_index];

        // Categories come first because the name and attributes depend on
        // them, though they are written near the end.
        self.picked.clear();
        let has_categories = !self.rng.chance(100);
        if has_categories {
            let n = self.category_count.sample(&mut self.rng) + 1;
            // Rejection keeps the picks distinct; the cap only matters if
            // the table were ever shrunk below `n` entries.
            for _ in 0..n * 8 {
                let c = self.categories.sample(&mut self.rng);
                if !self.picked.contains(&c) {
                    self.picked.push(c);
                    if self.picked.len() == n {
                        break;
                    }
                }
            }
        }
        let food = self.picked.iter().any(|&c| CATEGORIES[c].1);

        buf.extend_from_slice(b"{\"business_id\":\"");
        self.business_id(buf);
        buf.extend_from_slice(b"\",\"name\":");
        self.name(metro, food);
        put_str(buf, &self.scratch, esc);

        if self.rng.chance(2000) {
            buf.extend_from_slice(b",\"neighborhood\":");
            if self.rng.chance(6000) {
                buf.extend_from_slice(b"\"\"");
            } else {
                let list = match metro.lang {
                    Lang::En => EN_NEIGHBORHOODS,
                    Lang::Gb => GB_NEIGHBORHOODS,
                    Lang::Fr => FR_NEIGHBORHOODS,
                    Lang::De => DE_NEIGHBORHOODS,
                    Lang::Pt => PT_NEIGHBORHOODS,
                };
                put_str(buf, self.rng.pick(list), esc);
            }
        }

        buf.extend_from_slice(b",\"address\":");
        self.address(metro);
        put_str(buf, &self.scratch, esc);

        match self.rng.below(10_000) {
            0..=29 => {} // the key is missing altogether
            30..=49 => buf.extend_from_slice(b",\"city\":null"),
            50..=99 => buf.extend_from_slice(b",\"city\":\"\""),
            r => {
                buf.extend_from_slice(b",\"city\":");
                self.scratch.clear();
                match r {
                    100..=219 => self.scratch.extend(city.chars().flat_map(char::to_lowercase)),
                    220..=269 => self.scratch.extend(city.chars().flat_map(char::to_uppercase)),
                    270..=299 => {
                        let mut chars = city.chars();
                        self.scratch.extend(chars.next());
                        self.scratch.extend(chars.flat_map(char::to_lowercase));
                    }
                    _ => self.scratch.push_str(city),
                }
                put_str(buf, &self.scratch, esc);
            }
        }

        buf.extend_from_slice(b",\"state\":\"");
        buf.extend_from_slice(metro.state.as_bytes());
        buf.extend_from_slice(b"\",\"postal_code\":\"");
        self.postal_code(metro, buf);

        // The city sits at a fixed offset of up to ~0.2 degrees from its
        // metro's centre; businesses spread ~0.05 degrees around it.
        let h = mix64(city_index as u64);
        let city_lat = i64::from(metro.lat) + (h % 4001) as i64 - 2000;
        let city_lon = i64::from(metro.lon) + ((h >> 32) % 4001) as i64 - 2000;
        buf.extend_from_slice(b"\",\"latitude\":");
        put_coord(buf, city_lat * 1000 + i64::from(self.rng.below(1_000_001)) - 500_000);
        buf.extend_from_slice(b",\"longitude\":");
        put_coord(buf, city_lon * 1000 + i64::from(self.rng.below(1_000_001)) - 500_000);

        buf.extend_from_slice(b",\"stars\":");
        buf.extend_from_slice(STARS[self.stars.sample(&mut self.rng)].as_bytes());
        buf.extend_from_slice(b",\"review_count\":");
        push_u64(buf, self.review_count());
        buf.extend_from_slice(if self.rng.chance(8000) {
            b",\"is_open\":1"
        } else {
            b",\"is_open\":0"
        });

        buf.extend_from_slice(b",\"attributes\":");
        if self.rng.chance(1000) {
            buf.extend_from_slice(b"null");
        } else {
            self.attributes(food, buf);
        }

        buf.extend_from_slice(b",\"categories\":");
        if has_categories {
            buf.push(b'"');
            for (i, &c) in self.picked.iter().enumerate() {
                if i > 0 {
                    buf.extend_from_slice(b", ");
                }
                put_str_body(buf, CATEGORIES[c].0, esc);
            }
            buf.push(b'"');
        } else {
            buf.extend_from_slice(b"null");
        }

        buf.extend_from_slice(b",\"hours\":");
        if self.rng.chance(1500) {
            buf.extend_from_slice(b"null");
        } else {
            self.hours(buf);
        }
        buf.extend_from_slice(b"}\n");
    }

    /// 22 characters of the URL-safe base64 alphabet, like Yelp's ids.
    fn business_id(&mut self, buf: &mut Vec<u8>) {
        let mut bits = 0;
        for i in 0..22 {
            if i % 10 == 0 {
                bits = self.rng.u64();
            }
            buf.push(ID_ALPHABET[(bits & 63) as usize]);
            bits >>= 6;
        }
    }

    /// Leaves the business's name in `self.scratch`.
    fn name(&mut self, metro: &Metro, food: bool) {
        let rng = &mut self.rng;
        let s = &mut self.scratch;
        s.clear();
        if metro.lang != Lang::En && metro.lang != Lang::Gb && rng.chance(4500) {
            let (heads, tails) = match metro.lang {
                Lang::Fr => (FR_HEADS, FR_TAILS),
                Lang::De => (DE_HEADS, DE_TAILS),
                _ => (PT_HEADS, PT_TAILS),
            };
            s.push_str(rng.pick(heads));
            s.push(' ');
            s.push_str(rng.pick(tails));
            return;
        }
        if rng.chance(metro.cjk + 40) {
            s.push_str(rng.pick(CJK));
            return;
        }
        if rng.chance(200) {
            s.push_str(rng.pick(ACCENTED));
            return;
        }
        let kind = if food {
            rng.pick(FOOD_KINDS)
        } else {
            rng.pick(OTHER_KINDS)
        };
        match rng.below(100) {
            0..=7 => s.push_str(rng.pick(CHAINS)),
            8..=27 => {
                s.push_str(rng.pick(SURNAMES));
                s.push_str("'s ");
                s.push_str(kind);
            }
            28..=44 => {
                s.push_str(rng.pick(ADJECTIVES));
                s.push(' ');
                s.push_str(rng.pick(NOUNS));
                s.push(' ');
                s.push_str(kind);
            }
            45..=55 => {
                s.push_str("The ");
                s.push_str(rng.pick(ADJECTIVES));
                s.push(' ');
                s.push_str(rng.pick(NOUNS));
            }
            56..=65 => {
                s.push_str(rng.pick(NOUNS));
                s.push_str(" & ");
                s.push_str(rng.pick(NOUNS));
            }
            66..=80 => {
                s.push_str(rng.pick(SURNAMES));
                s.push(' ');
                s.push_str(kind);
            }
            81..=88 => {
                s.push_str(rng.pick(SURNAMES));
                s.push_str(" & ");
                s.push_str(rng.pick(SURNAMES));
                s.push(' ');
                s.push_str(kind);
            }
            89..=94 => {
                s.push_str(rng.pick(ADJECTIVES));
                s.push(' ');
                s.push_str(rng.pick(SLASHED));
            }
            95..=96 => {
                // Quotes inside a name, escaped as `\"`.
                s.push_str("The \"");
                s.push_str(rng.pick(ADJECTIVES));
                s.push(' ');
                s.push_str(rng.pick(NOUNS));
                s.push('"');
            }
            _ => {
                s.push_str(rng.pick(NOUNS));
                s.push(' ');
                s.push_str(kind);
            }
        }
    }

    /// Leaves the business's street address in `self.scratch`.
    fn address(&mut self, metro: &Metro) {
        let rng = &mut self.rng;
        let s = &mut self.scratch;
        s.clear();
        // Some real businesses (food trucks, services) have no address.
        if rng.chance(300) {
            return;
        }
        let number = rng.range(1, 9999);
        match metro.lang {
            Lang::En => {
                push_decimal(s, number);
                s.push(' ');
                s.push_str(rng.pick(EN_DIRECTIONS));
                s.push_str(rng.pick(EN_STREETS));
                s.push(' ');
                s.push_str(rng.pick(EN_SUFFIXES));
                if rng.chance(2000) {
                    s.push_str(rng.pick(UNITS));
                    push_decimal(s, rng.range(1, 450));
                }
            }
            Lang::Gb => {
                push_decimal(s, number % 200 + 1);
                s.push(' ');
                s.push_str(rng.pick(GB_STREETS));
            }
            Lang::Fr => {
                push_decimal(s, number);
                s.push(' ');
                s.push_str(rng.pick(FR_STREETS));
            }
            Lang::De => {
                s.push_str(rng.pick(DE_STREETS));
                s.push(' ');
                push_decimal(s, number % 150 + 1);
            }
            Lang::Pt => {
                s.push_str(rng.pick(PT_STREETS));
                s.push_str(", ");
                push_decimal(s, number % 3000 + 1);
            }
        }
    }

    /// Appends the postal code's characters (inside the quotes).
    fn postal_code(&mut self, metro: &Metro, buf: &mut Vec<u8>) {
        let rng = &mut self.rng;
        if rng.chance(50) {
            return;
        }
        let digit = |rng: &mut Rand| b'0' + rng.below(10) as u8;
        match metro.post {
            Post::Us(prefix) => {
                buf.extend_from_slice(prefix.as_bytes());
                buf.push(digit(rng));
                buf.push(digit(rng));
            }
            Post::Ca(first) => {
                buf.push(first);
                buf.push(digit(rng));
                buf.push(rng.pick(CA_LETTERS));
                buf.push(b' ');
                buf.push(digit(rng));
                buf.push(rng.pick(CA_LETTERS));
                buf.push(digit(rng));
            }
            Post::Uk => {
                buf.extend_from_slice(b"EH");
                push_u64(buf, u64::from(rng.range(1, 17)));
                buf.push(b' ');
                buf.push(digit(rng));
                buf.push(rng.pick(UPPER));
                buf.push(rng.pick(UPPER));
            }
            Post::De(prefix) => {
                buf.extend_from_slice(prefix.as_bytes());
                for _ in 0..3 {
                    buf.push(digit(rng));
                }
            }
            Post::Ch(prefix) => {
                buf.extend_from_slice(prefix.as_bytes());
                buf.push(digit(rng));
                buf.push(digit(rng));
            }
            Post::Br => {
                buf.push(b'0');
                for _ in 0..4 {
                    buf.push(digit(rng));
                }
                buf.push(b'-');
                for _ in 0..3 {
                    buf.push(digit(rng));
                }
            }
        }
    }

    /// At least 3 (the dataset's floor) with a Pareto tail: median ~8, a few
    /// percent in the hundreds, a rare few thousand.
    fn review_count(&mut self) -> u64 {
        let x = u64::from(self.rng.u32() >> 12) + 1;
        let count = 3 + (5 << 20) / x - 5;
        // Redraw the far tail rather than clamp, so there is no spike at
        // the cap.
        if count > 12_000 {
            3 + u64::from(self.rng.below(12_000))
        } else {
            count
        }
    }

    fn attributes(&mut self, food: bool, buf: &mut Vec<u8>) {
        let rng = &mut self.rng;
        buf.push(b'{');
        let mut first = true;
        for attr in ATTRS {
            let per_1000 = if food { attr.food } else { attr.other };
            if per_1000 == 0 || rng.below(1000) >= per_1000 {
                continue;
            }
            put_attr_key(buf, attr.key, &mut first);
            match attr.value {
                AttrValue::OneOf(values) => buf.extend_from_slice(rng.pick(values).as_bytes()),
                AttrValue::Dict(keys) => put_py_dict(buf, keys, rng),
            }
            buf.push(b'"');
        }
        // The real file has no empty attribute dicts: those are null.
        if first {
            put_attr_key(buf, "BusinessAcceptsCreditCards", &mut first);
            buf.extend_from_slice(b"True\"");
        }
        buf.push(b'}');
    }

    fn hours(&mut self, buf: &mut Vec<u8>) {
        let rng = &mut self.rng;
        let days: u8 = match rng.below(100) {
            0..=44 => 0b111_1111,
            45..=64 => 0b001_1111,
            65..=84 => 0b011_1111,
            85..=92 => 0b111_1110,
            _ => (rng.below(127) + 1) as u8,
        };
        // "0:0-0:0" is how the real file writes both 24h and unknown.
        let all_day = rng.chance(400);
        let open_h = rng.pick(&[6, 7, 7, 8, 8, 8, 9, 9, 9, 10, 10, 11, 11, 12, 16, 17]);
        let open_m = rng.pick(&[0, 0, 0, 0, 0, 0, 30, 30, 15, 45]);
        let close_h = if open_h >= 16 {
            rng.pick(&[0, 1, 2, 22, 23])
        } else {
            rng.pick(&[14, 15, 16, 17, 17, 18, 18, 19, 20, 21, 21, 22, 22, 23, 0])
        };
        let close_m = rng.pick(&[0, 0, 0, 0, 30, 30, 45]);
        let weekend_shift = if rng.chance(3000) { 1 } else { 0 };
        buf.push(b'{');
        let mut first = true;
        for (d, day) in DAYS.iter().enumerate() {
            if days & (1 << d) == 0 {
                continue;
            }
            if !first {
                buf.push(b',');
            }
            first = false;
            buf.push(b'"');
            buf.extend_from_slice(day.as_bytes());
            buf.extend_from_slice(b"\":\"");
            if all_day {
                buf.extend_from_slice(b"0:0-0:0");
            } else {
                let shift = if d >= 5 { weekend_shift } else { 0 };
                push_u64(buf, open_h + shift);
                buf.push(b':');
                push_u64(buf, open_m);
                buf.push(b'-');
                push_u64(buf, close_h);
                buf.push(b':');
                push_u64(buf, close_m);
            }
            buf.push(b'"');
        }
        buf.push(b'}');
    }
}

fn put_attr_key(buf: &mut Vec<u8>, key: &str, first: &mut bool) {
    if !*first {
        buf.push(b',');
    }
    *first = false;
    buf.push(b'"');
    buf.extend_from_slice(key.as_bytes());
    buf.extend_from_slice(b"\":\"");
}

/// A Python dict repr such as `{'garage': False, 'street': True}`, or the
/// string `None` as the real file sometimes has instead.
fn put_py_dict(buf: &mut Vec<u8>, keys: &[&str], rng: &mut Rand) {
    if rng.chance(500) {
        buf.extend_from_slice(b"None");
        return;
    }
    buf.push(b'{');
    for (i, key) in keys.iter().enumerate() {
        if i > 0 {
            buf.extend_from_slice(b", ");
        }
        buf.push(b'\'');
        buf.extend_from_slice(key.as_bytes());
        buf.extend_from_slice(b"': ");
        buf.extend_from_slice(match rng.below(20) {
            0..=3 => b"True",
            4 => b"None",
            _ => b"False",
        });
    }
    buf.push(b'}');
}

fn push_decimal(s: &mut String, n: u32) {
    // Writing to a `String` cannot fail.
    let _ = write!(s, "{n}");
}
