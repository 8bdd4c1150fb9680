//! Keys as order-preserving bytes.
//!
//! The shuffle sorts and groups keys by comparing their encodings as raw byte
//! slices, so for any key type whose `Ord` is the derived, structural one the
//! encoding guarantees:
//!
//! - **order**: `enc(a).cmp(&enc(b)) == a.cmp(&b)`;
//! - **prefix-freedom**: no value's encoding is a proper prefix of the
//!   encoding of another value of the same type. This is what lets a tuple's
//!   or struct's fields be concatenated with no lengths or separators, and
//!   what makes every truncated key a decode error.
//!
//! A type with a hand-written `Ord` (reversed, case-insensitive) breaks the
//! contract: it is sorted by its encoded bytes. Floats have no `Ord`; they sort
//! like `total_cmp`.
//!
//! These bytes are stored in run files and hashed by
//! [`hash_partition`](super::hash_partition), so changing the layout changes
//! both the on-disk format and which part file every key lands in.
//!
//! # Layout
//!
//! | type | bytes |
//! |------|-------|
//! | `bool` | `00` or `01` |
//! | `u8` ... `u128` | big-endian, fixed width |
//! | `i8` ... `i128` | big-endian with the sign bit flipped, so negatives sort first |
//! | `f32`, `f64` | the IEEE bits, all flipped if the sign bit is set, else just the sign bit; big-endian |
//! | `char` | the code point as a big-endian `u32` |
//! | `str`, bytes | every byte as is, except `00` which becomes `00 FF`; then the terminator `00 01` |
//! | `Option` | `None`: `00`; `Some(v)`: `01`, then `v` |
//! | unit, unit struct | nothing |
//! | newtype struct | the inner value |
//! | tuple, tuple struct, struct, array `[T; N]` | the fields concatenated, in declaration order |
//! | sequence, map | `01` before every element (for a map: the key, then the value); `00` at the end |
//! | enum | the variant index as one byte (so at most 256 variants), then the variant's content as above |
//!
//! The float mapping orders like `total_cmp`: `-NaN < -inf < ... < -0.0 <
//! +0.0 < ... < +inf < +NaN`, and decoding returns the exact bits.
//!
//! The string terminator `00 01` sorts below anything that can follow a
//! string's prefix (`00 FF` for a NUL, `01`..`FF` for any other byte), so a
//! string sorts before its extensions, as `str`'s `Ord` wants. NUL-free
//! strings, nearly every real key, are copied verbatim, and decode without a
//! copy when the target can borrow.
//!
//! A `Vec<u8>` is a sequence of `u8` (two bytes per byte); a type that
//! serializes as bytes (`serde_bytes`) gets the compact string layout.
//!
//! The format is not self-describing: decoding needs the type, and
//! `deserialize_any` fails, so `#[serde(flatten)]`, untagged and internally
//! tagged enums cannot be keys. `skip_serializing_if` makes a key
//! undecodable.

use std::fmt::{self, Display, Write as _};

use memchr::memchr;
use serde::de::value::U32Deserializer;
use serde::de::{self, DeserializeOwned, DeserializeSeed, IntoDeserializer, Visitor};
use serde::ser::{self, Serialize};
use serde::{Deserialize, Deserializer as _};

use crate::error::{Error, Result};

/// Ends every string and byte string; sorts below `00 FF` (an escaped NUL)
/// and below every other byte that could continue the string.
const TERMINATOR: [u8; 2] = [0x00, 0x01];
/// Follows a `00` that is part of the string rather than the terminator.
const ESCAPED_NUL: u8 = 0xFF;

/// Appends the order-preserving encoding of `v` to `out`.
///
/// On error `out` is truncated back to its length on entry, so a caller
/// appending several keys to one buffer never sees half a key.
pub(crate) fn encode_into<T: Serialize + ?Sized>(v: &T, out: &mut Vec<u8>) -> Result<()> {
    let start = out.len();
    let res = v.serialize(&mut KeySerializer { out: &mut *out });
    res.map_err(|e| {
        out.truncate(start);
        Error::Codec(format!("cannot encode key: {e}"))
    })
}

/// The order-preserving encoding of `v`: what the shuffle sorts by.
pub fn encode<T: Serialize + ?Sized>(v: &T) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    encode_into(v, &mut out)?;
    Ok(out)
}

/// Decodes a value written by `encode_into` or [`encode`]. Fails if `bytes`
/// holds anything after the value.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T> {
    let mut de = KeyDeserializer::new(bytes);
    T::deserialize(&mut de)
        .and_then(|v| de.finish().map(|()| v))
        .map_err(decode_error)
}

/// Decodes a value written by `encode_into` or [`encode`] into `place`,
/// reusing what it already owns: a `String`, the `String`s of a tuple, or a
/// `Vec`'s elements keep their allocation when the new value fits. Fails if
/// `bytes` holds anything after the value.
///
/// Derived structs and enums gain nothing (serde_derive builds a fresh value
/// and assigns it, unless its `deserialize_in_place` feature is on).
///
/// On error `place` holds an unspecified but valid value.
pub fn decode_in_place<'de, T: Deserialize<'de>>(bytes: &'de [u8], place: &mut T) -> Result<()> {
    let mut de = KeyDeserializer::new(bytes);
    T::deserialize_in_place(&mut de, place)
        .and_then(|()| de.finish())
        .map_err(decode_error)
}

fn decode_error(e: CodecError) -> Error {
    Error::Codec(format!("cannot decode key: {e}"))
}

/// The serde error type of both directions, turned into [`Error::Codec`] at
/// the public functions; serde needs a type implementing its error traits,
/// which the crate-wide `Error` does not.
#[derive(Debug)]
struct CodecError(String);

impl Display for CodecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CodecError {}

impl ser::Error for CodecError {
    fn custom<T: Display>(msg: T) -> Self {
        CodecError(msg.to_string())
    }
}

impl de::Error for CodecError {
    fn custom<T: Display>(msg: T) -> Self {
        CodecError(msg.to_string())
    }
}

type CodecResult<T> = std::result::Result<T, CodecError>;

// ---------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------

struct KeySerializer<'a> {
    out: &'a mut Vec<u8>,
}

/// Appends `bytes` with every NUL escaped, without the terminator, so that
/// `collect_str` can feed it a string in pieces.
fn put_escaped(out: &mut Vec<u8>, mut bytes: &[u8]) {
    // The common NUL-free case costs one reservation, one copy and, for the
    // caller's terminator, no reallocation.
    out.reserve(bytes.len() + TERMINATOR.len());
    while let Some(i) = find_nul(bytes) {
        let (head, rest) = bytes.split_at(i + 1);
        out.extend_from_slice(head);
        out.push(ESCAPED_NUL);
        bytes = rest;
    }
    out.extend_from_slice(bytes);
}

/// The first NUL in `bytes`. memchr's runtime-dispatched SIMD search pays a
/// call that costs more than it saves on word-sized keys (measured: a 5-byte
/// word encodes in 7 ns this way, 10 ns through memchr alone).
#[inline]
fn find_nul(bytes: &[u8]) -> Option<usize> {
    if bytes.len() < 16 {
        bytes.iter().position(|&b| b == 0)
    } else {
        memchr(0, bytes)
    }
}

fn put_string(out: &mut Vec<u8>, bytes: &[u8]) {
    put_escaped(out, bytes);
    out.extend_from_slice(&TERMINATOR);
}

/// Feeds `Display` output straight into the escaper, so `collect_str` needs
/// no temporary `String`.
struct Escaper<'a>(&'a mut Vec<u8>);

impl fmt::Write for Escaper<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        put_escaped(self.0, s.as_bytes());
        Ok(())
    }
}

impl KeySerializer<'_> {
    fn variant(&mut self, name: &str, index: u32, variant: &str) -> CodecResult<()> {
        let index = u8::try_from(index).map_err(|_| {
            CodecError(format!(
                "variant {name}::{variant} has index {index}, but a key's enum may have at most 256 variants"
            ))
        })?;
        self.out.push(index);
        Ok(())
    }
}

macro_rules! serialize_unsigned {
    ($($method:ident: $ty:ty),*) => {$(
        fn $method(self, v: $ty) -> CodecResult<()> {
            self.out.extend_from_slice(&v.to_be_bytes());
            Ok(())
        }
    )*};
}

macro_rules! serialize_signed {
    ($($method:ident: $ty:ty),*) => {$(
        fn $method(self, v: $ty) -> CodecResult<()> {
            // `MIN` is exactly the sign bit: flipping it puts negatives below
            // positives in unsigned byte order.
            self.out.extend_from_slice(&(v ^ <$ty>::MIN).to_be_bytes());
            Ok(())
        }
    )*};
}

impl ser::Serializer for &mut KeySerializer<'_> {
    type Ok = ();
    type Error = CodecError;
    type SerializeSeq = Self;
    type SerializeTuple = Self;
    type SerializeTupleStruct = Self;
    type SerializeTupleVariant = Self;
    type SerializeMap = Self;
    type SerializeStruct = Self;
    type SerializeStructVariant = Self;

    serialize_unsigned!(
        serialize_u8: u8,
        serialize_u16: u16,
        serialize_u32: u32,
        serialize_u64: u64,
        serialize_u128: u128
    );
    serialize_signed!(
        serialize_i8: i8,
        serialize_i16: i16,
        serialize_i32: i32,
        serialize_i64: i64,
        serialize_i128: i128
    );

    fn serialize_bool(self, v: bool) -> CodecResult<()> {
        self.out.push(u8::from(v));
        Ok(())
    }

    fn serialize_f32(self, v: f32) -> CodecResult<()> {
        self.out.extend_from_slice(&f32_key(v).to_be_bytes());
        Ok(())
    }

    fn serialize_f64(self, v: f64) -> CodecResult<()> {
        self.out.extend_from_slice(&f64_key(v).to_be_bytes());
        Ok(())
    }

    fn serialize_char(self, v: char) -> CodecResult<()> {
        self.out.extend_from_slice(&u32::from(v).to_be_bytes());
        Ok(())
    }

    fn serialize_str(self, v: &str) -> CodecResult<()> {
        put_string(self.out, v.as_bytes());
        Ok(())
    }

    fn serialize_bytes(self, v: &[u8]) -> CodecResult<()> {
        put_string(self.out, v);
        Ok(())
    }

    fn collect_str<T: Display + ?Sized>(self, value: &T) -> CodecResult<()> {
        write!(Escaper(&mut *self.out), "{value}")
            .map_err(|_| CodecError("a Display implementation failed while writing a string key".into()))?;
        self.out.extend_from_slice(&TERMINATOR);
        Ok(())
    }

    fn serialize_none(self) -> CodecResult<()> {
        self.out.push(0);
        Ok(())
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> CodecResult<()> {
        self.out.push(1);
        value.serialize(self)
    }

    fn serialize_unit(self) -> CodecResult<()> {
        Ok(())
    }

    fn serialize_unit_struct(self, _name: &'static str) -> CodecResult<()> {
        Ok(())
    }

    fn serialize_unit_variant(self, name: &'static str, index: u32, variant: &'static str) -> CodecResult<()> {
        self.variant(name, index, variant)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _name: &'static str, value: &T) -> CodecResult<()> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        value: &T,
    ) -> CodecResult<()> {
        self.variant(name, index, variant)?;
        value.serialize(self)
    }

    fn serialize_seq(self, _len: Option<usize>) -> CodecResult<Self> {
        Ok(self)
    }

    fn serialize_tuple(self, _len: usize) -> CodecResult<Self> {
        Ok(self)
    }

    fn serialize_tuple_struct(self, _name: &'static str, _len: usize) -> CodecResult<Self> {
        Ok(self)
    }

    fn serialize_tuple_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        _len: usize,
    ) -> CodecResult<Self> {
        self.variant(name, index, variant)?;
        Ok(self)
    }

    fn serialize_map(self, _len: Option<usize>) -> CodecResult<Self> {
        Ok(self)
    }

    fn serialize_struct(self, _name: &'static str, _len: usize) -> CodecResult<Self> {
        Ok(self)
    }

    fn serialize_struct_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        _len: usize,
    ) -> CodecResult<Self> {
        self.variant(name, index, variant)?;
        Ok(self)
    }

    fn is_human_readable(&self) -> bool {
        false
    }
}

impl ser::SerializeSeq for &mut KeySerializer<'_> {
    type Ok = ();
    type Error = CodecError;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> CodecResult<()> {
        // The `01` marker before each element, against the `00` end, makes a
        // sequence sort before its extensions.
        self.out.push(1);
        value.serialize(&mut **self)
    }

    fn end(self) -> CodecResult<()> {
        self.out.push(0);
        Ok(())
    }
}

impl ser::SerializeMap for &mut KeySerializer<'_> {
    type Ok = ();
    type Error = CodecError;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> CodecResult<()> {
        self.out.push(1);
        key.serialize(&mut **self)
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> CodecResult<()> {
        value.serialize(&mut **self)
    }

    fn end(self) -> CodecResult<()> {
        self.out.push(0);
        Ok(())
    }
}

macro_rules! serialize_fields {
    ($($trait:ident),*) => {$(
        impl ser::$trait for &mut KeySerializer<'_> {
            type Ok = ();
            type Error = CodecError;

            fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> CodecResult<()> {
                value.serialize(&mut **self)
            }

            fn end(self) -> CodecResult<()> {
                Ok(())
            }
        }
    )*};
    ($($trait:ident),* ; named) => {$(
        impl ser::$trait for &mut KeySerializer<'_> {
            type Ok = ();
            type Error = CodecError;

            fn serialize_field<T: Serialize + ?Sized>(&mut self, _name: &'static str, value: &T) -> CodecResult<()> {
                value.serialize(&mut **self)
            }

            fn end(self) -> CodecResult<()> {
                Ok(())
            }
        }
    )*};
}

serialize_fields!(SerializeTupleStruct, SerializeTupleVariant);
serialize_fields!(SerializeStruct, SerializeStructVariant; named);

impl ser::SerializeTuple for &mut KeySerializer<'_> {
    type Ok = ();
    type Error = CodecError;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> CodecResult<()> {
        value.serialize(&mut **self)
    }

    fn end(self) -> CodecResult<()> {
        Ok(())
    }
}

/// Maps a float's bits to an unsigned integer whose order is `total_cmp`'s:
/// negatives are stored in sign-magnitude, so flipping all their bits
/// reverses them below the positives, whose sign bit is set to lift them.
fn f64_key(v: f64) -> u64 {
    let bits = v.to_bits();
    if bits >> 63 == 1 { !bits } else { bits ^ (1 << 63) }
}

fn f64_from_key(key: u64) -> f64 {
    f64::from_bits(if key >> 63 == 1 { key ^ (1 << 63) } else { !key })
}

fn f32_key(v: f32) -> u32 {
    let bits = v.to_bits();
    if bits >> 31 == 1 { !bits } else { bits ^ (1 << 31) }
}

fn f32_from_key(key: u32) -> f32 {
    f32::from_bits(if key >> 31 == 1 { key ^ (1 << 31) } else { !key })
}

// ---------------------------------------------------------------------------
// Decoding
// ---------------------------------------------------------------------------

struct KeyDeserializer<'de> {
    /// What is left to read.
    input: &'de [u8],
    /// The whole key's length, to report byte offsets in errors.
    len: usize,
    /// Unescaped copies of strings that contain a NUL; empty, and so
    /// unallocated, until one is met.
    scratch: Vec<u8>,
}

/// A decoded string's bytes: borrowed from the key when it needed no
/// unescaping, else from the deserializer's scratch buffer.
enum Unescaped<'de, 's> {
    Borrowed(&'de [u8]),
    Copied(&'s [u8]),
}

impl<'de> KeyDeserializer<'de> {
    fn new(input: &'de [u8]) -> Self {
        KeyDeserializer {
            input,
            len: input.len(),
            scratch: Vec::new(),
        }
    }

    /// Offset of the next unread byte.
    fn pos(&self) -> usize {
        self.len - self.input.len()
    }

    #[inline]
    fn finish(&self) -> CodecResult<()> {
        if self.input.is_empty() {
            Ok(())
        } else {
            Err(CodecError(format!(
                "trailing bytes after key: {} left over at byte {} of {}",
                self.input.len(),
                self.pos(),
                self.len
            )))
        }
    }

    fn take<const N: usize>(&mut self, what: &str) -> CodecResult<[u8; N]> {
        match self.input.split_first_chunk::<N>() {
            Some((head, rest)) => {
                self.input = rest;
                Ok(*head)
            }
            None => Err(CodecError(format!(
                "key ends early: expected {what} ({N} bytes) at byte {}, {} left",
                self.pos(),
                self.input.len()
            ))),
        }
    }

    fn byte(&mut self, what: &str) -> CodecResult<u8> {
        self.take::<1>(what).map(|[b]| b)
    }

    /// Reads the `00` / `01` byte of a bool, an option or a sequence element.
    fn flag(&mut self, what: &str) -> CodecResult<bool> {
        let at = self.pos();
        match self.byte(what)? {
            0 => Ok(false),
            1 => Ok(true),
            b => Err(CodecError(format!(
                "invalid {what} 0x{b:02x} at byte {at}, expected 0x00 or 0x01"
            ))),
        }
    }

    #[inline]
    fn string(&mut self) -> CodecResult<Unescaped<'de, '_>> {
        let start = self.pos();
        let input = self.input;
        let mut rest = input;
        // Only a NUL-free string can be handed out as a slice of the key.
        let mut copying = false;
        loop {
            let Some(i) = find_nul(rest) else {
                return Err(CodecError(format!("key ends inside a string starting at byte {start}")));
            };
            let (chunk, marker) = (&rest[..i], rest.get(i + 1).copied());
            match marker {
                Some(1) => {
                    let end = input.len() - rest.len() + i + TERMINATOR.len();
                    self.input = &input[end..];
                    if !copying {
                        return Ok(Unescaped::Borrowed(chunk));
                    }
                    self.scratch.extend_from_slice(chunk);
                    return Ok(Unescaped::Copied(&self.scratch));
                }
                Some(ESCAPED_NUL) => {
                    if !copying {
                        copying = true;
                        self.scratch.clear();
                    }
                    self.scratch.extend_from_slice(chunk);
                    self.scratch.push(0);
                    rest = &rest[i + 2..];
                }
                Some(b) => {
                    let at = start + (input.len() - rest.len()) + i;
                    return Err(CodecError(format!(
                        "invalid escape 0x00 0x{b:02x} at byte {at} in a string starting at byte {start}"
                    )));
                }
                None => return Err(CodecError(format!("key ends inside a string starting at byte {start}"))),
            }
        }
    }
}

#[inline]
fn utf8(bytes: &[u8], start: usize) -> CodecResult<&str> {
    std::str::from_utf8(bytes)
        .map_err(|e| CodecError(format!("invalid UTF-8 in a string key starting at byte {start}: {e}")))
}

macro_rules! deserialize_unsigned {
    ($($method:ident => $visit:ident: $ty:ty),*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> CodecResult<V::Value> {
            visitor.$visit(<$ty>::from_be_bytes(self.take(stringify!($ty))?))
        }
    )*};
}

macro_rules! deserialize_signed {
    ($($method:ident => $visit:ident: $ty:ty),*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> CodecResult<V::Value> {
            visitor.$visit(<$ty>::from_be_bytes(self.take(stringify!($ty))?) ^ <$ty>::MIN)
        }
    )*};
}

impl<'de> de::Deserializer<'de> for &mut KeyDeserializer<'de> {
    type Error = CodecError;

    deserialize_unsigned!(
        deserialize_u8 => visit_u8: u8,
        deserialize_u16 => visit_u16: u16,
        deserialize_u32 => visit_u32: u32,
        deserialize_u64 => visit_u64: u64,
        deserialize_u128 => visit_u128: u128
    );
    deserialize_signed!(
        deserialize_i8 => visit_i8: i8,
        deserialize_i16 => visit_i16: i16,
        deserialize_i32 => visit_i32: i32,
        deserialize_i64 => visit_i64: i64,
        deserialize_i128 => visit_i128: i128
    );

    fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> CodecResult<V::Value> {
        Err(CodecError(
            "the key format is not self-describing, so a key type cannot use deserialize_any \
             (serde's flatten, untagged or internally tagged enums)"
                .into(),
        ))
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, _visitor: V) -> CodecResult<V::Value> {
        Err(CodecError(
            "the key format is not self-describing, so a key type cannot skip values".into(),
        ))
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, _visitor: V) -> CodecResult<V::Value> {
        Err(CodecError(
            "the key format stores no field or variant names, so a key type cannot deserialize an identifier".into(),
        ))
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> CodecResult<V::Value> {
        visitor.visit_bool(self.flag("bool")?)
    }

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> CodecResult<V::Value> {
        visitor.visit_f32(f32_from_key(u32::from_be_bytes(self.take("f32")?)))
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> CodecResult<V::Value> {
        visitor.visit_f64(f64_from_key(u64::from_be_bytes(self.take("f64")?)))
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> CodecResult<V::Value> {
        let at = self.pos();
        let code = u32::from_be_bytes(self.take("char")?);
        match char::from_u32(code) {
            Some(c) => visitor.visit_char(c),
            None => Err(CodecError(format!("invalid char 0x{code:08x} at byte {at}"))),
        }
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> CodecResult<V::Value> {
        let start = self.pos();
        match self.string()? {
            Unescaped::Borrowed(b) => visitor.visit_borrowed_str(utf8(b, start)?),
            Unescaped::Copied(b) => visitor.visit_str(utf8(b, start)?),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> CodecResult<V::Value> {
        // `String`'s visitors copy from a borrowed `&str` themselves (into
        // their existing buffer when deserializing in place).
        self.deserialize_str(visitor)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> CodecResult<V::Value> {
        match self.string()? {
            Unescaped::Borrowed(b) => visitor.visit_borrowed_bytes(b),
            Unescaped::Copied(b) => visitor.visit_bytes(b),
        }
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> CodecResult<V::Value> {
        self.deserialize_bytes(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> CodecResult<V::Value> {
        if self.flag("option tag")? {
            visitor.visit_some(self)
        } else {
            visitor.visit_none()
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> CodecResult<V::Value> {
        visitor.visit_unit()
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(self, _name: &'static str, visitor: V) -> CodecResult<V::Value> {
        visitor.visit_unit()
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, _name: &'static str, visitor: V) -> CodecResult<V::Value> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> CodecResult<V::Value> {
        visitor.visit_seq(Flagged { de: self })
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> CodecResult<V::Value> {
        visitor.visit_map(Flagged { de: self })
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, len: usize, visitor: V) -> CodecResult<V::Value> {
        visitor.visit_seq(Counted { de: self, left: len })
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        len: usize,
        visitor: V,
    ) -> CodecResult<V::Value> {
        self.deserialize_tuple(len, visitor)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> CodecResult<V::Value> {
        self.deserialize_tuple(fields.len(), visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> CodecResult<V::Value> {
        visitor.visit_enum(self)
    }

    fn is_human_readable(&self) -> bool {
        false
    }
}

/// Elements of a sequence or entries of a map, each announced by `01`.
struct Flagged<'a, 'de> {
    de: &'a mut KeyDeserializer<'de>,
}

impl<'de> de::SeqAccess<'de> for Flagged<'_, 'de> {
    type Error = CodecError;

    fn next_element_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> CodecResult<Option<S::Value>> {
        if self.de.flag("sequence element tag")? {
            seed.deserialize(&mut *self.de).map(Some)
        } else {
            Ok(None)
        }
    }
}

impl<'de> de::MapAccess<'de> for Flagged<'_, 'de> {
    type Error = CodecError;

    fn next_key_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> CodecResult<Option<S::Value>> {
        if self.de.flag("map entry tag")? {
            seed.deserialize(&mut *self.de).map(Some)
        } else {
            Ok(None)
        }
    }

    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> CodecResult<S::Value> {
        seed.deserialize(&mut *self.de)
    }
}

/// Fields of a tuple or struct: their number comes from the type.
struct Counted<'a, 'de> {
    de: &'a mut KeyDeserializer<'de>,
    left: usize,
}

impl<'de> de::SeqAccess<'de> for Counted<'_, 'de> {
    type Error = CodecError;

    fn next_element_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> CodecResult<Option<S::Value>> {
        if self.left == 0 {
            return Ok(None);
        }
        self.left -= 1;
        seed.deserialize(&mut *self.de).map(Some)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.left)
    }
}

impl<'de> de::EnumAccess<'de> for &mut KeyDeserializer<'de> {
    type Error = CodecError;
    type Variant = Self;

    fn variant_seed<S: DeserializeSeed<'de>>(self, seed: S) -> CodecResult<(S::Value, Self)> {
        let index = self.byte("enum variant index")?;
        // Derived enums accept their variant index as an integer identifier;
        // an index past the last variant fails there, naming the enum.
        let index: U32Deserializer<CodecError> = u32::from(index).into_deserializer();
        Ok((seed.deserialize(index)?, self))
    }
}

impl<'de> de::VariantAccess<'de> for &mut KeyDeserializer<'de> {
    type Error = CodecError;

    fn unit_variant(self) -> CodecResult<()> {
        Ok(())
    }

    fn newtype_variant_seed<S: DeserializeSeed<'de>>(self, seed: S) -> CodecResult<S::Value> {
        seed.deserialize(self)
    }

    fn tuple_variant<V: Visitor<'de>>(self, len: usize, visitor: V) -> CodecResult<V::Value> {
        self.deserialize_tuple(len, visitor)
    }

    fn struct_variant<V: Visitor<'de>>(self, fields: &'static [&'static str], visitor: V) -> CodecResult<V::Value> {
        self.deserialize_tuple(fields.len(), visitor)
    }
}

#[cfg(test)]
mod tests {
    use std::cmp::Ordering;
    use std::collections::BTreeMap;
    use std::fmt::Debug;

    use proptest::prelude::*;
    use serde::de::IgnoredAny;
    use serde::{Deserialize, Serialize};

    use super::*;

    fn check<T: Serialize + DeserializeOwned + Ord + Debug>(a: &T, b: &T) -> std::result::Result<(), TestCaseError> {
        let (ea, eb) = (encode(a).unwrap(), encode(b).unwrap());
        prop_assert_eq!(ea.cmp(&eb), a.cmp(b), "order of {:?} vs {:?}", a, b);
        prop_assert_eq!(&decode::<T>(&ea).unwrap(), a);
        prop_assert_eq!(&decode::<T>(&eb).unwrap(), b);
        if a != b {
            prop_assert!(!ea.starts_with(&eb) && !eb.starts_with(&ea), "{:?} / {:?} prefix", a, b);
        }
        Ok(())
    }

    /// Every proper prefix of a key, and the key with a byte appended, must be
    /// rejected, never decoded as something else and never a panic.
    fn check_damaged<T: DeserializeOwned + Debug>(bytes: &[u8]) {
        for cut in 0..bytes.len() {
            let res = decode::<T>(&bytes[..cut]);
            assert!(res.is_err(), "{bytes:?} cut at {cut} decoded as {res:?}");
        }
        let mut longer = bytes.to_vec();
        longer.push(0);
        let err = decode::<T>(&longer).unwrap_err().to_string();
        assert!(err.contains("trailing bytes after key"), "{err}");
    }

    /// A user key type deriving `Ord`: structs and enums order field by field
    /// and variant by variant.
    #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
    enum Event {
        Start,
        Click { x: u16, y: i32 },
        Named(String),
        Pair(u8, Option<String>),
    }

    fn event() -> impl Strategy<Value = Event> {
        prop_oneof![
            Just(Event::Start),
            (any::<u16>(), any::<i32>()).prop_map(|(x, y)| Event::Click { x, y }),
            "[a-c\\x00]{0,12}".prop_map(Event::Named),
            (any::<u8>(), proptest::option::of("[a\\x00]{0,3}")).prop_map(|(n, s)| Event::Pair(n, s)),
        ]
    }

    #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
    struct Unit;

    #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
    struct Wrapper(String);

    #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
    struct Point(i16, u8);

    #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
    struct Record {
        name: String,
        n: i64,
        tags: Vec<String>,
        flag: bool,
        unit: Unit,
        wrapped: Wrapper,
        point: Point,
        inner: Option<(u8, String)>,
    }

    fn record() -> impl Strategy<Value = Record> {
        (
            "[ab\\x00]{0,4}",
            any::<i64>(),
            proptest::collection::vec("[ab\\x00]{0,3}", 0..3),
            any::<bool>(),
            "[a\\x00]{0,2}",
            (any::<i16>(), any::<u8>()),
            proptest::option::of((any::<u8>(), "[ab]{0,2}")),
        )
            .prop_map(|(name, n, tags, flag, w, (p, q), inner)| Record {
                name,
                n,
                tags,
                flag,
                unit: Unit,
                wrapped: Wrapper(w),
                point: Point(p, q),
                inner,
            })
    }

    /// Serializes through `serialize_bytes`, as `serde_bytes` does.
    #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
    struct Bytes(Vec<u8>);

    impl Serialize for Bytes {
        fn serialize<S: ser::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
            s.serialize_bytes(&self.0)
        }
    }

    impl<'de> Deserialize<'de> for Bytes {
        fn deserialize<D: de::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
            struct V;
            impl Visitor<'_> for V {
                type Value = Bytes;
                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("bytes")
                }
                fn visit_bytes<E: de::Error>(self, v: &[u8]) -> std::result::Result<Bytes, E> {
                    Ok(Bytes(v.to_vec()))
                }
            }
            d.deserialize_bytes(V)
        }
    }

    /// Serializes through `collect_str`.
    #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
    struct Shown(String);

    impl Serialize for Shown {
        fn serialize<S: ser::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
            s.collect_str(&format_args!("{}{}", self.0, "!"))
        }
    }

    fn byte_strings() -> impl Strategy<Value = Vec<u8>> {
        proptest::collection::vec(prop_oneof![Just(0u8), Just(1), Just(0xFF), any::<u8>()], 0..12)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn integers(a: i64, b: i64, c: u64, d: u64, e: i8, f: i8, g: u8, h: u8, i: i128, j: i128, k: u128, l: u128) {
            check(&a, &b)?;
            check(&c, &d)?;
            check(&e, &f)?;
            check(&g, &h)?;
            check(&i, &j)?;
            check(&k, &l)?;
            check(&(a as i32), &(b as i32))?;
            check(&(a as i16), &(b as i16))?;
            check(&(c as u16), &(d as u16))?;
            check(&(c as u32), &(d as u32))?;
        }

        #[test]
        fn strings(a in "[a-c\\x00\\xff\u{e9}\u{1f600}]{0,20}", b in "[a-c\\x00\\xff\u{e9}\u{1f600}]{0,20}") {
            check(&a, &b)?;
            // Shared prefixes are the interesting case.
            let longer = format!("{a}{b}");
            check(&a, &longer)?;
            check(&format!("{a}\0"), &format!("{a}\x01"))?;
        }

        #[test]
        fn byte_strings_through_serialize_bytes(a in byte_strings(), b in byte_strings()) {
            check(&Bytes(a.clone()), &Bytes(b.clone()))?;
            let mut ext = a.clone();
            ext.push(0);
            check(&Bytes(a.clone()), &Bytes(ext))?;
            let mut joined = a.clone();
            joined.extend_from_slice(&b);
            check(&Bytes(a), &Bytes(joined))?;
        }

        #[test]
        fn collect_str_matches_serialize_str(a in "[a\\x00\u{e9}]{0,20}") {
            prop_assert_eq!(encode(&Shown(a.clone())).unwrap(), encode(&format!("{a}!")).unwrap());
        }

        #[test]
        fn bytes_bools_units_chars(a: Vec<u8>, b: Vec<u8>, x: bool, y: bool, c: char, d: char) {
            check(&a, &b)?;
            let mut ext = a.clone();
            ext.push(0);
            check(&a, &ext)?;
            check(&x, &y)?;
            check(&(), &())?;
            check(&Unit, &Unit)?;
            check(&c, &d)?;
        }

        #[test]
        fn options_and_tuples(a: Option<u32>, b: Option<u32>, s in "[ab]{0,9}", t in "[ab]{0,9}", n: i16, m: i16) {
            check(&a, &b)?;
            check(&(s.clone(), n), &(t.clone(), m))?;
            check(&(a, s.clone(), ()), &(b, t.clone(), ()))?;
            check(&Some((s.clone(), n)), &Some((t.clone(), m)))?;
            check(&Some(Some(s.clone())), &Some(None))?;
            check(&vec![s.clone(), t.clone()], &vec![t, s])?;
        }

        #[test]
        fn sequences_and_maps(
            a in proptest::collection::vec("[a\\x00]{0,3}", 0..5),
            b in proptest::collection::vec("[a\\x00]{0,3}", 0..5),
            m in proptest::collection::btree_map("[ab\\x00]{0,3}", any::<u8>(), 0..4),
            n in proptest::collection::btree_map("[ab\\x00]{0,3}", any::<u8>(), 0..4),
            nested in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..3), 0..3),
        ) {
            check(&a, &b)?;
            let mut ext = a.clone();
            ext.push(String::new());
            check(&a, &ext)?;
            check(&m, &n)?;
            check(&nested, &vec![])?;
            check(&(m, a), &(n, b))?;
        }

        #[test]
        fn derived_structs_and_enums(a in event(), b in event(), r in record(), s in record()) {
            check(&a, &b)?;
            check(&r, &s)?;
            check(&(a, r), &(b, s))?;
        }

        #[test]
        fn floats_sort_by_total_order_and_round_trip_exactly(a: u64, b: u64, c: u32, d: u32) {
            let (x, y) = (f64::from_bits(a), f64::from_bits(b));
            let (ex, ey) = (encode(&x).unwrap(), encode(&y).unwrap());
            prop_assert_eq!(ex.cmp(&ey), x.total_cmp(&y));
            prop_assert_eq!(decode::<f64>(&ex).unwrap().to_bits(), a);
            let (x, y) = (f32::from_bits(c), f32::from_bits(d));
            let (ex, ey) = (encode(&x).unwrap(), encode(&y).unwrap());
            prop_assert_eq!(ex.cmp(&ey), x.total_cmp(&y));
            prop_assert_eq!(decode::<f32>(&ex).unwrap().to_bits(), c);
        }

        #[test]
        fn decode_in_place_matches_decode(a in "[ab\\x00\u{e9}]{0,12}", b in "[ab\\x00]{0,12}", r in record()) {
            let mut place = (String::from("old"), String::from("older"));
            decode_in_place(&encode(&(&a, &b)).unwrap(), &mut place).unwrap();
            prop_assert_eq!(&place, &(a, b));
            let mut rec = Record {
                name: "x".into(),
                n: 0,
                tags: vec![],
                flag: false,
                unit: Unit,
                wrapped: Wrapper(String::new()),
                point: Point(0, 0),
                inner: None,
            };
            decode_in_place(&encode(&r).unwrap(), &mut rec).unwrap();
            prop_assert_eq!(rec, r);
        }
    }

    #[test]
    fn float_order_endpoints() {
        let order = [
            f64::from_bits(u64::MAX),
            f64::NEG_INFINITY,
            f64::MIN,
            -1.0,
            -f64::MIN_POSITIVE,
            -0.0,
            0.0,
            f64::MIN_POSITIVE,
            1.0,
            f64::MAX,
            f64::INFINITY,
            f64::NAN,
        ];
        let enc: Vec<Vec<u8>> = order.iter().map(|f| encode(f).unwrap()).collect();
        assert!(enc.windows(2).all(|w| w[0] < w[1]), "{enc:?}");
    }

    #[test]
    fn pinned_layouts() {
        assert_eq!(encode("ab").unwrap(), [0x61, 0x62, 0x00, 0x01]);
        assert_eq!(encode("a\0").unwrap(), [0x61, 0x00, 0xFF, 0x00, 0x01]);
        assert_eq!(encode("").unwrap(), [0x00, 0x01]);
        assert_eq!(encode(&Bytes(vec![0, 0xFF])).unwrap(), [0x00, 0xFF, 0xFF, 0x00, 0x01]);
        assert_eq!(encode(&-1i32).unwrap(), [0x7F, 0xFF, 0xFF, 0xFF]);
        assert_eq!(encode(&0i8).unwrap(), [0x80]);
        assert_eq!(encode(&258u16).unwrap(), [0x01, 0x02]);
        assert_eq!(encode(&Some(3u8)).unwrap(), [0x01, 0x03]);
        assert_eq!(encode(&None::<u8>).unwrap(), [0x00]);
        assert_eq!(encode(&vec!["x"]).unwrap(), [0x01, 0x78, 0x00, 0x01, 0x00]);
        assert_eq!(encode(&Vec::<u8>::new()).unwrap(), [0x00]);
        assert_eq!(
            encode(&BTreeMap::from([("k", 7u8)])).unwrap(),
            [0x01, 0x6B, 0x00, 0x01, 0x07, 0x00]
        );
        assert_eq!(encode(&true).unwrap(), [0x01]);
        assert_eq!(encode(&'a').unwrap(), [0x00, 0x00, 0x00, 0x61]);
        assert_eq!(encode(&()).unwrap(), [] as [u8; 0]);
        assert_eq!(encode(&Unit).unwrap(), [] as [u8; 0]);
        assert_eq!(encode(&Wrapper("a".into())).unwrap(), [0x61, 0x00, 0x01]);
        assert_eq!(encode(&("a", 1u8)).unwrap(), [0x61, 0x00, 0x01, 0x01]);
        assert_eq!(encode(&1.0f64).unwrap(), [0xBF, 0xF0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(
            encode(&-1.0f64).unwrap(),
            [0x40, 0x0F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]
        );
        assert_eq!(encode(&Event::Start).unwrap(), [0x00]);
        assert_eq!(
            encode(&Event::Click { x: 1, y: -1 }).unwrap(),
            [0x01, 0x00, 0x01, 0x7F, 0xFF, 0xFF, 0xFF]
        );
        assert_eq!(encode(&Event::Named("b".into())).unwrap(), [0x02, 0x62, 0x00, 0x01]);
        assert_eq!(encode(&Event::Pair(5, None)).unwrap(), [0x03, 0x05, 0x00]);
    }

    #[test]
    fn encode_into_appends_and_restores_on_error() {
        let mut out = vec![9, 9];
        encode_into("a", &mut out).unwrap();
        assert_eq!(out, [9, 9, 0x61, 0x00, 0x01]);

        struct Huge;
        impl Serialize for Huge {
            fn serialize<S: ser::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
                s.serialize_unit_variant("Huge", 300, "V300")
            }
        }
        let err = encode_into(&("prefix", Huge), &mut out).unwrap_err().to_string();
        assert!(
            err.contains("cannot encode key") && err.contains("Huge::V300") && err.contains("256"),
            "{err}"
        );
        assert_eq!(out, [9, 9, 0x61, 0x00, 0x01]);
    }

    #[test]
    fn nul_free_strings_encode_with_one_reservation() {
        let s = "x".repeat(99);
        let mut out = Vec::new();
        encode_into(&s, &mut out).unwrap();
        assert_eq!(out.capacity(), 101);
    }

    #[test]
    fn decode_in_place_reuses_allocations() {
        let mut place = (String::with_capacity(64), String::with_capacity(64));
        let ptrs = (place.0.as_ptr(), place.1.as_ptr());
        for (a, b) in [
            ("hello", "world"),
            ("a\0b", ""),
            ("", "\0\0"),
            ("x".repeat(64).as_str(), "y"),
        ] {
            let key = encode(&(a, b)).unwrap();
            decode_in_place(&key, &mut place).unwrap();
            assert_eq!((place.0.as_str(), place.1.as_str()), (a, b));
            assert_eq!((place.0.as_ptr(), place.1.as_ptr()), ptrs);
            assert_eq!((place.0.capacity(), place.1.capacity()), (64, 64));
        }

        let mut one = String::with_capacity(16);
        let ptr = one.as_ptr();
        decode_in_place(&encode("word").unwrap(), &mut one).unwrap();
        assert_eq!((one.as_str(), one.as_ptr()), ("word", ptr));

        let mut words = vec![String::with_capacity(16), String::with_capacity(16)];
        let ptrs: Vec<*const u8> = words.iter().map(|w| w.as_ptr()).collect();
        decode_in_place(&encode(&vec!["ab", "c\0"]).unwrap(), &mut words).unwrap();
        assert_eq!(words, ["ab", "c\0"]);
        assert_eq!(words.iter().map(|w| w.as_ptr()).collect::<Vec<_>>(), ptrs);
        decode_in_place(&encode(&vec!["z"]).unwrap(), &mut words).unwrap();
        assert_eq!(words, ["z"]);

        let err = decode_in_place(&[0x61, 0x00, 0x01, 0x00], &mut one)
            .unwrap_err()
            .to_string();
        assert!(err.contains("trailing bytes after key"), "{err}");
    }

    #[test]
    fn nul_free_strings_decode_without_copying() {
        let key = encode(&("borrowed", 7u8)).unwrap();
        let mut place: (&str, u8) = ("", 0);
        decode_in_place(&key, &mut place).unwrap();
        assert_eq!(place, ("borrowed", 7));
        assert!(key.as_ptr_range().contains(&place.0.as_ptr()));

        let mut bytes: &[u8] = &[];
        let key = encode(&Bytes(b"raw".to_vec())).unwrap();
        decode_in_place(&key, &mut bytes).unwrap();
        assert_eq!(bytes, b"raw");

        // An escaped NUL cannot be borrowed; the visitor of `&str` says so.
        let key = encode("a\0").unwrap();
        let mut s: &str = "";
        assert!(decode_in_place(&key, &mut s).is_err());
        assert_eq!(decode::<String>(&key).unwrap(), "a\0");
    }

    #[test]
    fn damaged_keys_are_errors_not_panics() {
        check_damaged::<String>(&encode("ab\0c\0").unwrap());
        check_damaged::<(String, String)>(&encode(&("x\0", "\0y")).unwrap());
        check_damaged::<Vec<String>>(&encode(&vec!["a", "", "\0"]).unwrap());
        check_damaged::<BTreeMap<String, i32>>(&encode(&BTreeMap::from([("k", -1), ("\0", 2)])).unwrap());
        check_damaged::<Option<u32>>(&encode(&Some(5u32)).unwrap());
        check_damaged::<Option<u32>>(&encode(&None::<u32>).unwrap());
        check_damaged::<f64>(&encode(&-2.5f64).unwrap());
        check_damaged::<(i128, char, bool)>(&encode(&(-7i128, 'é', true)).unwrap());
        check_damaged::<Event>(&encode(&Event::Click { x: 3, y: 4 }).unwrap());
        check_damaged::<Event>(&encode(&Event::Pair(1, Some("\0".into()))).unwrap());
        check_damaged::<Bytes>(&encode(&Bytes(vec![0, 0, 1])).unwrap());
        check_damaged::<Record>(
            &encode(&Record {
                name: "n\0".into(),
                n: -3,
                tags: vec!["t".into()],
                flag: true,
                unit: Unit,
                wrapped: Wrapper("w".into()),
                point: Point(-1, 2),
                inner: Some((1, "i".into())),
            })
            .unwrap(),
        );
    }

    fn decode_err<T: DeserializeOwned + Debug>(bytes: &[u8]) -> String {
        let err = decode::<T>(bytes).unwrap_err().to_string();
        assert!(err.contains("cannot decode key: "), "{err}");
        err
    }

    #[test]
    fn malformed_keys_have_clear_errors() {
        let err = decode_err::<String>(b"ab");
        assert!(err.contains("key ends inside a string starting at byte 0"), "{err}");
        let err = decode_err::<String>(b"ab\0");
        assert!(err.contains("key ends inside a string"), "{err}");
        let err = decode_err::<String>(b"a\0\xFFb\0");
        assert!(err.contains("key ends inside a string"), "{err}");
        let err = decode_err::<String>(b"ab\0\x02");
        assert!(err.contains("invalid escape 0x00 0x02 at byte 2"), "{err}");
        let err = decode_err::<(u8, String)>(b"\x07a\0\xFF\0\x00");
        assert!(
            err.contains("invalid escape 0x00 0x00 at byte 4 in a string starting at byte 1"),
            "{err}"
        );
        let err = decode_err::<Bytes>(b"\0\x80\0\x01");
        assert!(err.contains("invalid escape 0x00 0x80"), "{err}");

        let err = decode_err::<String>(b"\xFF\0\x01");
        assert!(err.contains("invalid UTF-8 in a string key"), "{err}");
        // The same bytes on the unescaping path.
        let err = decode_err::<String>(b"\xC3\0\xFF\0\x01");
        assert!(err.contains("invalid UTF-8 in a string key"), "{err}");
        assert_eq!(decode::<Bytes>(b"\xFF\0\x01").unwrap(), Bytes(vec![0xFF]));

        let err = decode_err::<u32>(&[0, 0, 0, 1, 5]);
        assert!(
            err.contains("trailing bytes after key: 1 left over at byte 4 of 5"),
            "{err}"
        );
        let err = decode_err::<u32>(&[0, 0]);
        assert!(err.contains("expected u32 (4 bytes) at byte 0, 2 left"), "{err}");
        let err = decode_err::<bool>(&[2]);
        assert!(err.contains("invalid bool 0x02 at byte 0"), "{err}");
        let err = decode_err::<(u8, Option<u8>)>(&[0, 2, 0]);
        assert!(err.contains("invalid option tag 0x02 at byte 1"), "{err}");
        let err = decode_err::<Vec<u8>>(&[1, 5, 7]);
        assert!(err.contains("invalid sequence element tag 0x07 at byte 2"), "{err}");
        let err = decode_err::<BTreeMap<u8, u8>>(&[3]);
        assert!(err.contains("invalid map entry tag 0x03"), "{err}");
        let err = decode_err::<char>(&[0, 0, 0xD8, 0]);
        assert!(err.contains("invalid char 0x0000d800"), "{err}");
        let err = decode_err::<Event>(&[9]);
        assert!(err.contains("variant index"), "{err}");
        let err = decode_err::<IgnoredAny>(&[0]);
        assert!(err.contains("not self-describing"), "{err}");
        let err = decode_err::<serde_untagged::Either>(&[0]);
        assert!(err.contains("not self-describing"), "{err}");
    }

    mod serde_untagged {
        use serde::Deserialize;

        #[derive(Debug, Deserialize)]
        #[serde(untagged)]
        pub enum Either {
            Number(#[allow(dead_code)] u8),
            Text(#[allow(dead_code)] String),
        }
    }

    #[test]
    fn ordering_across_escapes() {
        // NUL sorts below every other byte, and a string below its extensions.
        let keys = [
            "", "\0", "\0\0", "\0\x01", "\x01", "a", "a\0", "a\0b", "a\x01", "ab", "\u{ff}",
        ];
        let enc: Vec<Vec<u8>> = keys.iter().map(|k| encode(k).unwrap()).collect();
        for (i, a) in enc.iter().enumerate() {
            for (j, b) in enc.iter().enumerate() {
                assert_eq!(a.cmp(b), i.cmp(&j), "{:?} vs {:?}", keys[i], keys[j]);
            }
        }
        assert_eq!(Ordering::Less, encode(&1u8).unwrap().cmp(&encode(&2u8).unwrap()));
    }
}
