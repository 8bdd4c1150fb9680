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
//!
//! This module holds the two entry points and the plain-text serializer;
//! `json` holds the formatter that gives serde_json Python's layout, and
//! `number` the float rendering that matches Python's `repr(float)`.

mod json;
mod number;
#[cfg(test)]
mod tests;

use std::fmt;
use std::io::{self, Write};

use serde::Serialize;
use serde::ser::{self, Impossible};
use serde_json::ser::Formatter;

use self::json::PyFormatter;

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
