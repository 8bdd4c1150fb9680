//! Input formats: how a step's raw records become the mapper's input type.
//!
//! The first step reads text files line by line; the format decides what a
//! line becomes ([`TextLine`] lends the line itself, [`JsonLine`] parses it
//! into the user's serde type, [`Pairs`] parses mrjob's `JSON TAB JSON`).
//! Later steps read the previous step's output, always as [`Pairs`], in the
//! binary format (the compiler checks the types line up).

use std::marker::PhantomData;

use serde::de::DeserializeOwned;

use crate::api::{Key, Value};
use crate::codec;
use crate::error::BoxError;

/// What a mapper reads. Implemented by [`TextLine`], [`JsonLine`] and
/// [`Pairs`]; a step's mapper names one as its `Input`.
pub trait InputFormat: 'static {
    /// The record handed to `Mapper::map`; it may borrow from the line.
    type Record<'a>;

    /// A short name for `--describe`.
    const NAME: &'static str;

    /// Decodes one text line (without its line ending). `scratch` is a buffer
    /// the format may fill and borrow from. An error marks the record as
    /// malformed: the job fails, or skips it under `--skip-bad-records`.
    fn from_line<'a>(line: &'a [u8], offset: u64, scratch: &'a mut String) -> Result<Self::Record<'a>, BoxError>;

    /// Decodes one pair written by a previous step, in the binary format.
    fn from_pair<'a>(key: &'a [u8], value: &'a [u8]) -> Result<Self::Record<'a>, BoxError> {
        let _ = (key, value);
        Err(format!(
            "the {} input format reads text, not a previous step's output",
            Self::NAME
        )
        .into())
    }
}

/// Plain text lines: the mapper gets a [`Line`].
#[derive(Debug, Clone, Copy, Default)]
pub struct TextLine;

/// One line of text and where it starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Line<'a> {
    /// Byte offset of the line's first byte in its (decompressed) file:
    /// Hadoop's `LongWritable` key.
    pub offset: u64,
    /// The line, without `\n` or `\r\n`. Bytes that are not UTF-8 are read
    /// as Latin-1, as mrjob does.
    pub text: &'a str,
}

impl InputFormat for TextLine {
    type Record<'a> = Line<'a>;
    const NAME: &'static str = "text";

    fn from_line<'a>(line: &'a [u8], offset: u64, scratch: &'a mut String) -> Result<Line<'a>, BoxError> {
        let text = match simdutf8::basic::from_utf8(line) {
            Ok(s) => s,
            Err(_) => {
                scratch.clear();
                scratch.extend(line.iter().map(|&b| char::from(b)));
                scratch.as_str()
            }
        };
        Ok(Line { offset, text })
    }
}

/// JSON lines, each deserialized into the user's type `T`. A line that does
/// not parse is a malformed record.
pub struct JsonLine<T>(PhantomData<fn() -> T>);

impl<T: DeserializeOwned + 'static> InputFormat for JsonLine<T> {
    type Record<'a> = T;
    const NAME: &'static str = "json";

    fn from_line<'a>(line: &'a [u8], _offset: u64, _scratch: &'a mut String) -> Result<T, BoxError> {
        serde_json::from_slice(line).map_err(|e| format!("invalid JSON record: {e}").into())
    }
}

/// Key/value pairs: the previous step's output, or, in a first step, text
/// lines in mrjob's `JSON(key) TAB JSON(value)` format.
pub struct Pairs<K, V>(PhantomData<fn() -> (K, V)>);

impl<K: Key, V: Value> InputFormat for Pairs<K, V> {
    type Record<'a> = (K, V);
    const NAME: &'static str = "pairs";

    fn from_line<'a>(line: &'a [u8], _offset: u64, _scratch: &'a mut String) -> Result<(K, V), BoxError> {
        let tab = memchr::memchr(b'\t', line).ok_or("expected JSON(key) TAB JSON(value), found no tab")?;
        let key = serde_json::from_slice(&line[..tab]).map_err(|e| format!("invalid JSON key: {e}"))?;
        // mrjob's protocols accept a trailing tab after the value (Hadoop
        // adds one under secondary sort).
        let mut value_bytes = &line[tab + 1..];
        if let Some(stripped) = value_bytes.strip_suffix(b"\t") {
            value_bytes = stripped;
        }
        let value = serde_json::from_slice(value_bytes).map_err(|e| format!("invalid JSON value: {e}"))?;
        Ok((key, value))
    }

    fn from_pair<'a>(key: &'a [u8], value: &'a [u8]) -> Result<(K, V), BoxError> {
        Ok((codec::key::decode(key)?, codec::value::decode(value)?))
    }
}
