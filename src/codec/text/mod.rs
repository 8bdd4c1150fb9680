//! Canonical text output for job results.
//!
//! This module owns the exact bytes of every textual record a job writes:
//!
//! * [`write_json`] renders a value byte-for-byte the way Python 3's
//!   `json.dumps(value)` does with default arguments, which is what mrjob's
//!   JSON protocols emit. Output produced by a Rust job can therefore be
//!   diffed against (and consumed by) the output of an equivalent Python job.
//! * [`write_text`] renders the "plain text" form used by the raw and TSV
//!   protocols: strings raw, sequences tab-joined, everything else as JSON.
//!
//! Both write straight into the caller's writer through serde, with no
//! intermediate `serde_json::Value` and no per-value heap allocation. They
//! issue many small writes, so callers should hand in a buffered writer.

use std::fmt;
use std::io::{self, Write};

use serde::Serialize;
use serde::ser::{self, Impossible};
use serde_json::ser::{CharEscape, CompactFormatter, Formatter};

/// Writes `value` exactly as Python 3's `json.dumps(value)` would.
///
/// The Python value is the natural counterpart of the serde data model:
/// sequences and tuples become lists, maps and structs become objects
/// (keys in serialization order, non-string keys quoted as serde_json does,
/// which matches Python for ints, bools and finite floats), `None` and unit
/// become `null`, enums use serde_json's external tagging.
///
/// Layout follows Python's defaults: `", "` and `": "` separators,
/// `ensure_ascii=True` escaping with lowercase `\uXXXX` (surrogate pairs above
/// U+FFFF), and floats as `repr(float)` prints them. `f32` values are printed
/// with their own shortest digits (not widened to `f64` first), in Python's
/// layout.
///
/// NaN and infinities are written as `null`: serde_json's serializer decides
/// that before the formatter is consulted. Python would write `NaN` /
/// `Infinity`, which is not JSON, so we deliberately keep serde_json's
/// choice. Non-finite floats used as map keys are an error.
pub(crate) fn write_json<W: Write, T: Serialize + ?Sized>(w: &mut W, value: &T) -> Result<(), serde_json::Error> {
    let mut ser = serde_json::Serializer::with_formatter(w, PyFormatter);
    value.serialize(&mut ser)
}

/// Writes the plain-text rendering of `value` used by the raw and TSV
/// protocols.
///
/// * strings and chars are written raw: no quotes and no escaping, so a
///   string containing tabs or newlines is written with those bytes as-is and
///   can break TSV framing; that is the caller's (protocol's) concern, as it
///   is in mrjob;
/// * byte strings (`serialize_bytes`) are written raw as well;
/// * unit, unit structs and `None` produce nothing; `Some(x)`, newtype
///   structs and newtype variants render their inner value;
/// * sequences, tuples and tuple structs render their elements recursively,
///   joined by a single TAB (nested sequences are flattened);
/// * a unit variant is written as its bare name (its JSON form is a string,
///   and strings are raw here);
/// * numbers and bools, maps, structs, and tuple/struct variants are written
///   in their [`write_json`] form.
pub(crate) fn write_text<W: Write, T: Serialize + ?Sized>(w: &mut W, value: &T) -> Result<(), serde_json::Error> {
    text_value(w, value).map_err(TextError::into_json)
}

/// Renders one value as text, switching to JSON when the value turns out to
/// be a map, struct or data-carrying variant.
///
/// The switch needs the value itself, which only the caller of `serialize`
/// holds; `TextSerializer` signals it with `TextError::NeedsJson` from the
/// first serializer call for that value, i.e. before anything is written, so
/// re-serializing the same value as JSON here never duplicates output.
fn text_value<W: Write, T: Serialize + ?Sized>(w: &mut W, value: &T) -> Result<(), TextError> {
    match value.serialize(TextSerializer { w: &mut *w }) {
        Err(TextError::NeedsJson) => write_json(w, value).map_err(TextError::Json),
        other => other,
    }
}

/// `serde_json` formatter reproducing Python's `json.dumps` defaults.
#[derive(Clone, Copy, Debug, Default)]
struct PyFormatter;

impl Formatter for PyFormatter {
    fn begin_array_value<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        if first { Ok(()) } else { w.write_all(b", ") }
    }

    fn begin_object_key<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        if first { Ok(()) } else { w.write_all(b", ") }
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        w.write_all(b": ")
    }

    fn write_f64<W: ?Sized + Write>(&mut self, w: &mut W, value: f64) -> io::Result<()> {
        if !value.is_finite() {
            // serde_json never gets here with a non-finite value; stay valid
            // JSON and agree with its `null` if some other caller does.
            return w.write_all(b"null");
        }
        let magnitude = value.abs();
        let fixed = magnitude == 0.0 || (1e-4..1e16).contains(&magnitude);
        write_float(w, fixed, |buf| CompactFormatter.write_f64(buf, value))
    }

    fn write_f32<W: ?Sized + Write>(&mut self, w: &mut W, value: f32) -> io::Result<()> {
        if !value.is_finite() {
            return w.write_all(b"null");
        }
        let magnitude = value.abs();
        let fixed = magnitude == 0.0 || (1e-4..1e16).contains(&magnitude);
        write_float(w, fixed, |buf| CompactFormatter.write_f32(buf, value))
    }

    fn write_string_fragment<W: ?Sized + Write>(&mut self, w: &mut W, fragment: &str) -> io::Result<()> {
        write_ascii_escaped(w, fragment)
    }

    fn write_char_escape<W: ?Sized + Write>(&mut self, w: &mut W, char_escape: CharEscape) -> io::Result<()> {
        let short: &[u8] = match char_escape {
            CharEscape::Quote => b"\\\"",
            CharEscape::ReverseSolidus => b"\\\\",
            // Python never escapes '/', so undo the escape if it is requested.
            CharEscape::Solidus => b"/",
            CharEscape::Backspace => b"\\b",
            CharEscape::FormFeed => b"\\f",
            CharEscape::LineFeed => b"\\n",
            CharEscape::CarriageReturn => b"\\r",
            CharEscape::Tab => b"\\t",
            CharEscape::AsciiControl(byte) => {
                let mut buf = [0u8; 6];
                u_escape(&mut buf, u16::from(byte));
                return w.write_all(&buf);
            }
        };
        w.write_all(short)
    }
}

/// Room for serde_json's shortest float rendering (at most 24 bytes).
const SHORTEST_BUF: usize = 32;

/// Python's `repr(float)` switches to scientific notation outside
/// `1e-4 <= |x| < 1e16`, i.e. for decimal exponents outside this range.
const FIXED_EXP: std::ops::Range<i32> = -4..16;

/// Writes a finite float in Python's layout from serde_json's shortest
/// rendering, which `render` writes into a stack buffer.
///
/// `python_fixed` says whether Python uses fixed notation for the value,
/// decided from the value itself: `repr` is fixed for `x == 0` and
/// `1e-4 <= |x| < 1e16`, and because rounding to nearest is monotonic, the
/// shortest digits of `x` are at least the decimal bound exactly when `x` is
/// at least the bound rounded to `x`'s type, which is what the literal
/// bounds are. Then any plain `int.frac` rendering without redundant zeros
/// is already Python's, the common case; anything else is re-laid out.
fn write_float<W: ?Sized + Write>(
    w: &mut W,
    python_fixed: bool,
    render: impl FnOnce(&mut &mut [u8]) -> io::Result<()>,
) -> io::Result<()> {
    let mut buf = [0u8; SHORTEST_BUF];
    let len = {
        let mut cur: &mut [u8] = &mut buf;
        render(&mut cur)?;
        SHORTEST_BUF - cur.len()
    };
    if python_fixed && is_minimal_fixed(&buf, len) {
        return w.write_all(&buf[..len]);
    }
    write_python_float(w, &buf[..len])
}

/// Re-lays out a finite float that serde_json rendered with shortest
/// round-trip digits into Python's `repr` layout.
///
/// serde_json (ryu, now zmij) and Python (David Gay's dtoa, mode 0) both pick
/// the shortest digit string that round-trips, closest to the exact value;
/// only the layout differs. The parser accepts any plain decimal layout
/// (`1.5e300`, `1e+16`, `0.0001`, `100.0`) so it does not depend on which
/// layout the serde_json version in use happens to choose.
fn write_python_float<W: ?Sized + Write>(w: &mut W, rendered: &[u8]) -> io::Result<()> {
    let bad = || io::Error::new(io::ErrorKind::InvalidData, "unexpected float rendering");

    let (negative, rest) = match rendered.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, rendered),
    };

    // Significant digits without leading zeros; the value is
    // 0.DIGITS * 10^(point + exp), so `point + exp` is Python's `decpt`.
    let mut digits = [0u8; 24];
    let mut n = 0usize;
    let mut point: i32 = 0;
    let mut after_dot = false;
    let mut exp: i32 = 0;
    let mut i = 0;
    while i < rest.len() {
        let b = rest[i];
        match b {
            b'0'..=b'9' => {
                if n == 0 && b == b'0' {
                    if after_dot {
                        point -= 1;
                    }
                } else {
                    if n < digits.len() {
                        digits[n] = b;
                        n += 1;
                    } else if b != b'0' {
                        // More significant digits than any shortest
                        // rendering has: refuse rather than truncate.
                        return Err(bad());
                    }
                    if !after_dot {
                        point += 1;
                    }
                }
            }
            b'.' if !after_dot => after_dot = true,
            b'e' | b'E' => {
                exp = parse_exponent(&rest[i + 1..]).ok_or_else(bad)?;
                break;
            }
            _ => return Err(bad()),
        }
        i += 1;
    }
    while n > 0 && digits[n - 1] == b'0' {
        n -= 1;
    }

    let mut out = [0u8; 40];
    let mut len = 0usize;
    let mut push = |bytes: &[u8]| {
        out[len..len + bytes.len()].copy_from_slice(bytes);
        len += bytes.len();
    };
    if negative {
        push(b"-");
    }
    if n == 0 {
        push(b"0.0");
    } else {
        let digits = &digits[..n];
        let decpt = point + exp;
        let sci_exp = decpt - 1;
        if FIXED_EXP.contains(&sci_exp) {
            if decpt <= 0 {
                push(b"0.");
                for _ in 0..-decpt {
                    push(b"0");
                }
                push(digits);
            } else {
                // `decpt` is in 1..=16 here.
                let int_len = decpt as usize;
                if int_len >= n {
                    push(digits);
                    for _ in n..int_len {
                        push(b"0");
                    }
                    push(b".0");
                } else {
                    push(&digits[..int_len]);
                    push(b".");
                    push(&digits[int_len..]);
                }
            }
        } else {
            push(&digits[..1]);
            if n > 1 {
                push(b".");
                push(&digits[1..]);
            }
            push(if sci_exp < 0 { b"e-" } else { b"e+" });
            let mag = sci_exp.unsigned_abs();
            if mag >= 100 {
                push(&[b'0' + (mag / 100 % 10) as u8]);
            }
            push(&[b'0' + (mag / 10 % 10) as u8, b'0' + (mag % 10) as u8]);
        }
    }
    w.write_all(&out[..len])
}

/// Whether `buf[..len]` is a plain `int.frac` rendering without redundant
/// zeros (the unique fixed layout of its digits, as Python writes it).
///
/// Checking instead of assuming keeps the output independent of serde_json's
/// layout choices. The scan is branch-free on purpose: the bytes were just
/// written by a small `memmove`, and data-dependent branches on them stall.
fn is_minimal_fixed(buf: &[u8; SHORTEST_BUF], len: usize) -> bool {
    // Whole-buffer counts with a fixed trip count vectorize to a handful of
    // instructions; the zero padding after `len` is in none of the counts.
    let mut dots = 0u8;
    let mut minus = 0u8;
    let mut digits = 0u8;
    for &b in buf {
        dots += u8::from(b == b'.');
        minus += u8::from(b == b'-');
        digits += u8::from(b.is_ascii_digit());
    }
    let Some(s) = buf.get(..len) else {
        return false;
    };
    let body = match s {
        [b'-', rest @ ..] => rest,
        _ => s,
    };
    let n = body.len();
    n >= 3
        && dots == 1
        && usize::from(dots + minus + digits) == len
        && usize::from(minus) == len - n
        && body[0] != b'.'
        && body[n - 1] != b'.'
        && (body[0] != b'0' || body[1] == b'.')
        && (body[n - 1] != b'0' || body[n - 2] == b'.')
}

/// Parses the exponent part after `e`: optional sign, then decimal digits.
fn parse_exponent(s: &[u8]) -> Option<i32> {
    let (negative, digits) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, s),
    };
    if digits.is_empty() || digits.len() > 5 {
        return None;
    }
    let mut value: i32 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        value = value * 10 + i32::from(d - b'0');
    }
    Some(if negative { -value } else { value })
}

/// Writes `s` with Python's `ensure_ascii=True` escaping.
///
/// serde_json hands us fragments that only exclude `"`, `\` and C0 controls;
/// everything else outside printable ASCII (DEL, non-ASCII) is escaped here.
/// Printable runs are written in one call to keep ASCII-heavy text cheap.
fn write_ascii_escaped<W: ?Sized + Write>(w: &mut W, s: &str) -> io::Result<()> {
    let bytes = s.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        // Skip plain 16-byte blocks with a branch-free test that vectorizes.
        if let Some(block) = bytes.get(i..i + 16)
            && !block.iter().fold(false, |acc, &b| acc | needs_escape(b))
        {
            i += 16;
            continue;
        }
        // Within a block known to hold an escape, or in the short tail.
        match bytes[i..].iter().position(|&b| needs_escape(b)) {
            Some(offset) => i += offset,
            None => break,
        }
        if start < i {
            w.write_all(&bytes[start..i])?;
        }
        // `i` is always at a char boundary: we only stop on ASCII bytes or
        // UTF-8 lead bytes, and skip whole chars below.
        let Some(c) = s.get(i..).and_then(|tail| tail.chars().next()) else {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "string split inside a UTF-8 sequence",
            ));
        };
        write_escaped_char(w, c)?;
        i += c.len_utf8();
        start = i;
    }
    if start < bytes.len() {
        w.write_all(&bytes[start..])?;
    }
    Ok(())
}

/// Whether Python's `ensure_ascii` output changes this UTF-8 byte: anything
/// but printable ASCII, plus `"` and `\`.
#[inline]
fn needs_escape(b: u8) -> bool {
    !(0x20..0x7f).contains(&b) || b == b'"' || b == b'\\'
}

/// Escapes one char that is not printable ASCII (or is `"` / `\`).
fn write_escaped_char<W: ?Sized + Write>(w: &mut W, c: char) -> io::Result<()> {
    let short: &[u8] = match c {
        '"' => b"\\\"",
        '\\' => b"\\\\",
        '\n' => b"\\n",
        '\r' => b"\\r",
        '\t' => b"\\t",
        '\u{8}' => b"\\b",
        '\u{c}' => b"\\f",
        _ => {
            let mut buf = [0u8; 12];
            let mut units = [0u16; 2];
            let mut len = 0;
            for unit in c.encode_utf16(&mut units) {
                u_escape(&mut buf[len..len + 6], *unit);
                len += 6;
            }
            return w.write_all(&buf[..len]);
        }
    };
    w.write_all(short)
}

/// Fills `out[..6]` with `\uXXXX`, lowercase hex as Python writes it.
fn u_escape(out: &mut [u8], unit: u16) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out[0] = b'\\';
    out[1] = b'u';
    out[2] = HEX[usize::from(unit >> 12)];
    out[3] = HEX[usize::from((unit >> 8) & 0xf)];
    out[4] = HEX[usize::from((unit >> 4) & 0xf)];
    out[5] = HEX[usize::from(unit & 0xf)];
}

/// Error of the plain-text serializer.
#[derive(Debug)]
enum TextError {
    /// The value must be rendered as JSON; raised before anything is written.
    NeedsJson,
    Io(io::Error),
    Json(serde_json::Error),
    Custom(String),
}

impl TextError {
    fn into_json(self) -> serde_json::Error {
        match self {
            TextError::Io(e) => serde_json::Error::io(e),
            TextError::Json(e) => e,
            TextError::Custom(msg) => <serde_json::Error as ser::Error>::custom(msg),
            // `text_value` always intercepts it; reaching here is a bug, but
            // an error is better than a panic in an output path.
            TextError::NeedsJson => {
                <serde_json::Error as ser::Error>::custom("internal error: plain-text rendering fell through to JSON")
            }
        }
    }
}

impl fmt::Display for TextError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TextError::NeedsJson => f.write_str("value needs JSON rendering"),
            TextError::Io(e) => fmt::Display::fmt(e, f),
            TextError::Json(e) => fmt::Display::fmt(e, f),
            TextError::Custom(msg) => f.write_str(msg),
        }
    }
}

impl std::error::Error for TextError {}

impl ser::Error for TextError {
    fn custom<M: fmt::Display>(msg: M) -> Self {
        TextError::Custom(msg.to_string())
    }
}

impl From<io::Error> for TextError {
    fn from(e: io::Error) -> Self {
        TextError::Io(e)
    }
}

/// Serializer for the plain-text rendering; see [`write_text`].
struct TextSerializer<'a, W> {
    w: &'a mut W,
}

/// Tab-joined elements of a sequence, tuple or tuple struct.
struct TextSeq<'a, W> {
    w: &'a mut W,
    first: bool,
}

impl<W: Write> TextSeq<'_, W> {
    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), TextError> {
        if !self.first {
            self.w.write_all(b"\t")?;
        }
        self.first = false;
        text_value(self.w, value)
    }
}

impl<W: Write> ser::SerializeSeq for TextSeq<'_, W> {
    type Ok = ();
    type Error = TextError;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), TextError> {
        self.element(value)
    }

    fn end(self) -> Result<(), TextError> {
        Ok(())
    }
}

impl<W: Write> ser::SerializeTuple for TextSeq<'_, W> {
    type Ok = ();
    type Error = TextError;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), TextError> {
        self.element(value)
    }

    fn end(self) -> Result<(), TextError> {
        Ok(())
    }
}

impl<W: Write> ser::SerializeTupleStruct for TextSeq<'_, W> {
    type Ok = ();
    type Error = TextError;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), TextError> {
        self.element(value)
    }

    fn end(self) -> Result<(), TextError> {
        Ok(())
    }
}

impl<'a, W: Write> ser::Serializer for TextSerializer<'a, W> {
    type Ok = ();
    type Error = TextError;
    type SerializeSeq = TextSeq<'a, W>;
    type SerializeTuple = TextSeq<'a, W>;
    type SerializeTupleStruct = TextSeq<'a, W>;
    type SerializeTupleVariant = Impossible<(), TextError>;
    type SerializeMap = Impossible<(), TextError>;
    type SerializeStruct = Impossible<(), TextError>;
    type SerializeStructVariant = Impossible<(), TextError>;

    fn serialize_bool(self, v: bool) -> Result<(), TextError> {
        Ok(PyFormatter.write_bool(self.w, v)?)
    }

    fn serialize_i8(self, v: i8) -> Result<(), TextError> {
        Ok(PyFormatter.write_i8(self.w, v)?)
    }

    fn serialize_i16(self, v: i16) -> Result<(), TextError> {
        Ok(PyFormatter.write_i16(self.w, v)?)
    }

    fn serialize_i32(self, v: i32) -> Result<(), TextError> {
        Ok(PyFormatter.write_i32(self.w, v)?)
    }

    fn serialize_i64(self, v: i64) -> Result<(), TextError> {
        Ok(PyFormatter.write_i64(self.w, v)?)
    }

    fn serialize_i128(self, v: i128) -> Result<(), TextError> {
        Ok(PyFormatter.write_i128(self.w, v)?)
    }

    fn serialize_u8(self, v: u8) -> Result<(), TextError> {
        Ok(PyFormatter.write_u8(self.w, v)?)
    }

    fn serialize_u16(self, v: u16) -> Result<(), TextError> {
        Ok(PyFormatter.write_u16(self.w, v)?)
    }

    fn serialize_u32(self, v: u32) -> Result<(), TextError> {
        Ok(PyFormatter.write_u32(self.w, v)?)
    }

    fn serialize_u64(self, v: u64) -> Result<(), TextError> {
        Ok(PyFormatter.write_u64(self.w, v)?)
    }

    fn serialize_u128(self, v: u128) -> Result<(), TextError> {
        Ok(PyFormatter.write_u128(self.w, v)?)
    }

    fn serialize_f32(self, v: f32) -> Result<(), TextError> {
        // Same `null` for non-finite values as the JSON form.
        Ok(PyFormatter.write_f32(self.w, v)?)
    }

    fn serialize_f64(self, v: f64) -> Result<(), TextError> {
        Ok(PyFormatter.write_f64(self.w, v)?)
    }

    fn serialize_char(self, v: char) -> Result<(), TextError> {
        let mut buf = [0u8; 4];
        Ok(self.w.write_all(v.encode_utf8(&mut buf).as_bytes())?)
    }

    fn serialize_str(self, v: &str) -> Result<(), TextError> {
        Ok(self.w.write_all(v.as_bytes())?)
    }

    fn serialize_bytes(self, v: &[u8]) -> Result<(), TextError> {
        Ok(self.w.write_all(v)?)
    }

    fn serialize_none(self) -> Result<(), TextError> {
        Ok(())
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), TextError> {
        text_value(self.w, value)
    }

    fn serialize_unit(self) -> Result<(), TextError> {
        Ok(())
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), TextError> {
        Ok(())
    }

    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _variant_index: u32,
        variant: &'static str,
    ) -> Result<(), TextError> {
        Ok(self.w.write_all(variant.as_bytes())?)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _name: &'static str, value: &T) -> Result<(), TextError> {
        text_value(self.w, value)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _variant_index: u32,
        _variant: &'static str,
        value: &T,
    ) -> Result<(), TextError> {
        text_value(self.w, value)
    }

    fn serialize_seq(self, _len: Option<usize>) -> Result<TextSeq<'a, W>, TextError> {
        Ok(TextSeq { w: self.w, first: true })
    }

    fn serialize_tuple(self, _len: usize) -> Result<TextSeq<'a, W>, TextError> {
        Ok(TextSeq { w: self.w, first: true })
    }

    fn serialize_tuple_struct(self, _name: &'static str, _len: usize) -> Result<TextSeq<'a, W>, TextError> {
        Ok(TextSeq { w: self.w, first: true })
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _variant_index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, TextError> {
        Err(TextError::NeedsJson)
    }

    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap, TextError> {
        Err(TextError::NeedsJson)
    }

    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<Self::SerializeStruct, TextError> {
        Err(TextError::NeedsJson)
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _variant_index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, TextError> {
        Err(TextError::NeedsJson)
    }

    fn collect_str<T: fmt::Display + ?Sized>(self, value: &T) -> Result<(), TextError> {
        // Formats straight into the writer instead of serde's default of
        // building a `String` first.
        Ok(write!(self.w, "{value}")?)
    }
}

#[cfg(test)]
mod tests {
    //! Expected strings were produced by Python 3.11's `json.dumps` on the
    //! equivalent Python value (f32 rows: `json.dumps(float(s))` on the f32's
    //! shortest digits `s`, since Python has no f32).

    use std::collections::BTreeMap;

    use serde::{Serialize, Serializer};

    use super::*;

    fn json<T: Serialize + ?Sized>(value: &T) -> String {
        let mut out = Vec::new();
        write_json(&mut out, value).unwrap();
        String::from_utf8(out).unwrap()
    }

    fn text<T: Serialize + ?Sized>(value: &T) -> String {
        let mut out = Vec::new();
        write_text(&mut out, value).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[derive(Serialize)]
    struct Point {
        x: i32,
        y: f64,
        name: String,
        tags: Vec<String>,
        extra: Option<u8>,
    }

    fn point() -> Point {
        Point {
            x: 1,
            y: 2.0,
            name: "pé".to_owned(),
            tags: vec![],
            extra: None,
        }
    }

    const POINT_JSON: &str = r#"{"x": 1, "y": 2.0, "name": "p\u00e9", "tags": [], "extra": null}"#;

    #[derive(Serialize)]
    enum E {
        Unit,
        New(i32),
        Seq(Vec<i32>),
        Tup(i32, String),
        Rec { a: u8 },
    }

    #[derive(Serialize)]
    struct Meters(f64);

    #[derive(Serialize)]
    struct Wrapped(BTreeMap<String, i32>);

    #[derive(Serialize)]
    struct Pair(&'static str, u8);

    #[derive(Serialize)]
    struct Marker;

    /// A map with float keys, which std maps cannot hold.
    struct FloatKeys(Vec<(f64, i32)>);

    impl Serialize for FloatKeys {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.collect_map(self.0.iter().map(|(k, v)| (k, v)))
        }
    }

    /// A value whose serialization always fails.
    struct Broken;

    impl Serialize for Broken {
        fn serialize<S: Serializer>(&self, _s: S) -> Result<S::Ok, S::Error> {
            Err(serde::ser::Error::custom("broken value"))
        }
    }

    /// A writer that refuses every write.
    struct FailingWriter;

    impl Write for FailingWriter {
        fn write(&mut self, _buf: &[u8]) -> io::Result<usize> {
            Err(io::Error::other("disk full"))
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn f64_matches_python_repr() {
        let cases: &[(f64, &str)] = &[
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (1.0, "1.0"),
            (-1.0, "-1.0"),
            (100.0, "100.0"),
            (100000.0, "100000.0"),
            (0.1, "0.1"),
            (0.5, "0.5"),
            (0.3, "0.3"),
            (0.1 + 0.2, "0.30000000000000004"),
            (1.0 / 3.0, "0.3333333333333333"),
            (-2.0 / 3.0, "-0.6666666666666666"),
            (123.456, "123.456"),
            (12345.678, "12345.678"),
            (std::f64::consts::PI, "3.141592653589793"),
            // Lower fixed/scientific switch point: 1e-4 is fixed, below is not.
            (0.001, "0.001"),
            (0.0001, "0.0001"),
            (-0.0001, "-0.0001"),
            (0.00012345, "0.00012345"),
            (1e-4 * 1.0000000000000002, "0.00010000000000000003"),
            (9.999999999999999e-05, "9.999999999999999e-05"),
            (1e-05, "1e-05"),
            (-1.5e-05, "-1.5e-05"),
            (2.5e-05, "2.5e-05"),
            (1e-7, "1e-07"),
            (f64::EPSILON, "2.220446049250313e-16"),
            // Upper switch point: below 1e16 is fixed, 1e16 is not.
            (1e15, "1000000000000000.0"),
            (999999999999999.9, "999999999999999.9"),
            (123456789012345.0, "123456789012345.0"),
            (1234567890123456.8, "1234567890123456.8"),
            (9999999999999998.0, "9999999999999998.0"),
            (1e16 * (1.0 - 2f64.powi(-53)), "9999999999999998.0"),
            (2f64.powi(53) + 1.0, "9007199254740992.0"),
            (1e16, "1e+16"),
            (-1e16, "-1e+16"),
            (12345678901234567.0, "1.2345678901234568e+16"),
            (2f64.powi(63), "9.223372036854776e+18"),
            (1e21, "1e+21"),
            (1e22, "1e+22"),
            (1e23, "1e+23"),
            (1e100, "1e+100"),
            (1e200, "1e+200"),
            (1.5e300, "1.5e+300"),
            (-1.5e300, "-1.5e+300"),
            (1e-100, "1e-100"),
            (f64::MAX, "1.7976931348623157e+308"),
            (f64::MIN, "-1.7976931348623157e+308"),
            (f64::MIN_POSITIVE, "2.2250738585072014e-308"),
            // Largest subnormal, and the two smallest.
            (2.225073858507201e-308, "2.225073858507201e-308"),
            (1e-323, "1e-323"),
            (5e-324, "5e-324"),
        ];
        for &(value, expected) in cases {
            assert_eq!(json(&value), expected, "bits {:#x}", value.to_bits());
        }
    }

    #[test]
    fn f32_uses_its_own_shortest_digits_in_python_layout() {
        let cases: &[(f32, &str)] = &[
            (1.0, "1.0"),
            // Widening to f64 first would print 1.100000023841858.
            (1.1, "1.1"),
            (0.1, "0.1"),
            (-1.5, "-1.5"),
            (0.0001, "0.0001"),
            (1e-5, "1e-05"),
            (123456.79, "123456.79"),
            (16777216.0, "16777216.0"),
            (1e15, "1000000000000000.0"),
            (1e16, "1e+16"),
            (f32::MAX, "3.4028235e+38"),
            (7.0e-39, "7e-39"),
            (1e-45, "1e-45"),
            // Exactly halfway between 2657737.2 and 2657737.3: ties go to
            // the even digit, as ryu and Python's dtoa do.
            (2_657_737.0 + 0.25, "2657737.2"),
        ];
        for &(value, expected) in cases {
            assert_eq!(json(&value), expected, "bits {:#x}", value.to_bits());
        }
    }

    #[test]
    fn non_finite_floats_are_null() {
        assert_eq!(json(&f64::NAN), "null");
        assert_eq!(json(&f64::INFINITY), "null");
        assert_eq!(json(&[f64::NEG_INFINITY]), "[null]");
        assert_eq!(json(&f32::NAN), "null");
    }

    #[test]
    fn float_layout_accepts_any_decimal_rendering() {
        let cases: &[(&str, &str)] = &[
            ("1e16", "1e+16"),
            ("1E+16", "1e+16"),
            ("1.5e300", "1.5e+300"),
            ("0.0001", "0.0001"),
            ("0.00001", "1e-05"),
            ("00100.000", "100.0"),
            ("-0e0", "-0.0"),
            ("12.5e-1", "1.25"),
            ("0.000123e4", "1.23"),
        ];
        for &(rendered, expected) in cases {
            let mut out = Vec::new();
            write_python_float(&mut out, rendered.as_bytes()).unwrap();
            assert_eq!(String::from_utf8(out).unwrap(), expected, "{rendered}");
        }
        for (rendered, expected) in [
            ("0.0", true),
            ("-0.0", true),
            ("100.0", true),
            ("0.0001", true),
            ("1234567890123456.8", true),
            ("1.50", false),
            ("01.5", false),
            ("00.5", false),
            ("1.", false),
            (".5", false),
            ("1.2.3", false),
            ("1e5", false),
            ("1.5e5", false),
            ("15", false),
            ("1-0.5", false),
            ("--1.5", false),
            ("-1.5", true),
            ("1.\u{0}5", false),
        ] {
            let mut buf = [0u8; SHORTEST_BUF];
            buf[..rendered.len()].copy_from_slice(rendered.as_bytes());
            assert_eq!(is_minimal_fixed(&buf, rendered.len()), expected, "{rendered}");
        }
        for bad in ["1e", "1x", "1.2.3", "1e+", "1e123456"] {
            let mut out = Vec::new();
            assert!(write_python_float(&mut out, bad.as_bytes()).is_err(), "{bad}");
        }
    }

    #[test]
    fn strings_are_ascii_escaped_like_python() {
        let cases: &[(&str, &str)] = &[
            ("", r#""""#),
            ("plain", r#""plain""#),
            ("Montréal", r#""Montr\u00e9al""#),
            ("😀", r#""\ud83d\ude00""#),
            ("a/b", r#""a/b""#),
            (
                "\u{0}\u{1}\u{1f}\u{7f}\u{80}\u{9f}",
                r#""\u0000\u0001\u001f\u007f\u0080\u009f""#,
            ),
            ("\"\\\n\r\t\u{8}\u{c}", r#""\"\\\n\r\t\b\f""#),
            ("tab\there", r#""tab\there""#),
            ("\u{b}\u{1b}", r#""\u000b\u001b""#),
            ("\u{ffff}", r#""\uffff""#),
            ("\u{10ffff}", r#""\udbff\udfff""#),
            ("\u{2028}\u{2029}", r#""\u2028\u2029""#),
            ("日本語", r#""\u65e5\u672c\u8a9e""#),
            ("naïve café ☕ 𝄞", r#""na\u00efve caf\u00e9 \u2615 \ud834\udd1e""#),
        ];
        for &(value, expected) in cases {
            assert_eq!(json(value), expected, "{value:?}");
        }
        // Longer than the 16-byte plain-block skip, escapes at block edges.
        assert_eq!(
            json("0123456789abcdefé0123456789abcdef\"0123456789abcdef😀tail"),
            r#""0123456789abcdef\u00e90123456789abcdef\"0123456789abcdef\ud83d\ude00tail""#
        );
        assert_eq!(json(&'é'), r#""\u00e9""#);
    }

    #[test]
    fn integers_are_plain_decimal() {
        assert_eq!(json(&0u8), "0");
        assert_eq!(json(&u64::MAX), "18446744073709551615");
        assert_eq!(json(&i64::MIN), "-9223372036854775808");
        assert_eq!(json(&i128::MIN), "-170141183460469231731687303715884105728");
        assert_eq!(json(&u128::MAX), "340282366920938463463374607431768211455");
    }

    #[test]
    fn containers_use_python_separators() {
        assert_eq!(
            json(&(1, (2, (3, Vec::<i32>::new())), BTreeMap::<String, i32>::new())),
            "[1, [2, [3, []]], {}]"
        );
        let mut map = BTreeMap::new();
        map.insert("a", json_value_a());
        assert_eq!(json(&map), r#"{"a": [true, false, null]}"#);
        let nested = serde_json::json!({"nested": {"deep": [{"x": null}]}});
        assert_eq!(json(&nested), r#"{"nested": {"deep": [{"x": null}]}}"#);
        assert_eq!(json(&(Vec::<u8>::new(), BTreeMap::<u8, u8>::new())), "[[], {}]");
        assert_eq!(json(&vec![255u8, 0, 127]), "[255, 0, 127]");
        assert_eq!(json(&[1.0, -0.0, 1e16]), "[1.0, -0.0, 1e+16]");
        let mut escaped_key = BTreeMap::new();
        escaped_key.insert("kéy", "v\n");
        assert_eq!(json(&escaped_key), r#"{"k\u00e9y": "v\n"}"#);
    }

    fn json_value_a() -> (bool, bool, Option<i32>) {
        (true, false, None)
    }

    #[test]
    fn non_string_keys_are_quoted_like_python() {
        let ints: BTreeMap<i32, &str> = [(1, "a"), (2, "b")].into_iter().collect();
        assert_eq!(json(&ints), r#"{"1": "a", "2": "b"}"#);
        let bools: BTreeMap<bool, i32> = [(false, 0), (true, 1)].into_iter().collect();
        assert_eq!(json(&bools), r#"{"false": 0, "true": 1}"#);
        assert_eq!(json(&FloatKeys(vec![(1.5, 1), (2.0, 2)])), r#"{"1.5": 1, "2.0": 2}"#);
        let mut out = Vec::new();
        assert!(write_json(&mut out, &FloatKeys(vec![(f64::NAN, 1)])).is_err());
    }

    #[test]
    fn options_units_tuples_structs_enums() {
        assert_eq!(json(&Some(5)), "5");
        assert_eq!(json(&None::<i32>), "null");
        assert_eq!(json(&vec![Some(1), None]), "[1, null]");
        assert_eq!(json(&()), "null");
        assert_eq!(json(&Marker), "null");
        assert_eq!(json(&(1, "a", 2.5)), r#"[1, "a", 2.5]"#);
        assert_eq!(json(&Pair("a", 1)), r#"["a", 1]"#);
        assert_eq!(json(&Meters(1.5)), "1.5");
        assert_eq!(json(&point()), POINT_JSON);
        assert_eq!(json(&E::Unit), r#""Unit""#);
        assert_eq!(json(&E::New(3)), r#"{"New": 3}"#);
        assert_eq!(json(&E::Tup(1, "x".to_owned())), r#"{"Tup": [1, "x"]}"#);
        assert_eq!(json(&E::Rec { a: 1 }), r#"{"Rec": {"a": 1}}"#);
    }

    #[test]
    fn text_strings_are_raw() {
        assert_eq!(text("hello"), "hello");
        assert_eq!(text("tab\there\nnewline \"q\""), "tab\there\nnewline \"q\"");
        assert_eq!(text("Montréal 😀"), "Montréal 😀");
        assert_eq!(text(&'é'), "é");
        assert_eq!(text(&E::Unit), "Unit");
        let mut raw = Vec::new();
        struct Bytes;
        impl Serialize for Bytes {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_bytes(b"a\xffb")
            }
        }
        write_text(&mut raw, &Bytes).unwrap();
        assert_eq!(raw, b"a\xffb");
    }

    #[test]
    fn text_empty_values_write_nothing() {
        assert_eq!(text(&()), "");
        assert_eq!(text(&None::<String>), "");
        assert_eq!(text(&Marker), "");
        assert_eq!(text(&Vec::<String>::new()), "");
    }

    #[test]
    fn text_sequences_are_tab_joined() {
        assert_eq!(text(&("key", 3)), "key\t3");
        assert_eq!(text(&vec!["a", "b"]), "a\tb");
        assert_eq!(text(&(1, 2.5, true, None::<i32>, ())), "1\t2.5\ttrue\t\t");
        assert_eq!(text(&("a", vec![1, 2], ("b", "c"))), "a\t1\t2\tb\tc");
        assert_eq!(text(&Pair("x", 7)), "x\t7");
        assert_eq!(text(&E::Seq(vec![1, 2])), "1\t2");
        assert_eq!(text(&(Some("x"), E::New(4))), "x\t4");
    }

    #[test]
    fn text_scalars_use_json_form() {
        assert_eq!(text(&1e16), "1e+16");
        assert_eq!(text(&1.0f32), "1.0");
        assert_eq!(text(&-0.0), "-0.0");
        assert_eq!(text(&f64::NAN), "null");
        assert_eq!(text(&false), "false");
        assert_eq!(text(&u128::MAX), "340282366920938463463374607431768211455");
        assert_eq!(text(&i128::MIN), "-170141183460469231731687303715884105728");
        assert_eq!(text(&Meters(0.1 + 0.2)), "0.30000000000000004");
    }

    #[test]
    fn text_maps_structs_and_data_variants_use_json() {
        assert_eq!(text(&point()), POINT_JSON);
        assert_eq!(text(&("k", Some(point()))), format!("k\t{POINT_JSON}"));
        let map: BTreeMap<&str, &str> = [("é", "v\t")].into_iter().collect();
        assert_eq!(text(&map), r#"{"\u00e9": "v\t"}"#);
        assert_eq!(
            text(&Wrapped([("a".to_owned(), 1)].into_iter().collect())),
            r#"{"a": 1}"#
        );
        assert_eq!(text(&E::Tup(1, "x".to_owned())), r#"{"Tup": [1, "x"]}"#);
        assert_eq!(text(&E::Rec { a: 1 }), r#"{"Rec": {"a": 1}}"#);
        assert_eq!(text(&E::New(3)), "3");
        assert_eq!(
            text(&vec![serde_json::json!({"a": [1, 2]}), serde_json::json!("s")]),
            "{\"a\": [1, 2]}\ts"
        );
    }

    #[test]
    fn errors_propagate() {
        let mut out = Vec::new();
        let err = write_text(&mut out, &("ok", Broken)).unwrap_err();
        assert!(err.to_string().contains("broken value"), "{err}");
        let err = write_json(&mut out, &Broken).unwrap_err();
        assert!(err.to_string().contains("broken value"), "{err}");
        let err = write_text(&mut out, &("k", FloatKeys(vec![(f64::INFINITY, 1)]))).unwrap_err();
        assert!(err.to_string().contains("finite"), "{err}");
        let err = write_text(&mut FailingWriter, &("a", 1)).unwrap_err();
        assert!(err.is_io(), "{err}");
        let err = write_json(&mut FailingWriter, &1.5).unwrap_err();
        assert!(err.is_io(), "{err}");
        let err = write_text(&mut FailingWriter, &point()).unwrap_err();
        assert!(err.is_io(), "{err}");
    }
}
