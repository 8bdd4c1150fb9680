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
//! `std::cmp::Reverse<T>` (as a key or any field of one) is written as
//! `T`'s encoding with every byte complemented, which reverses its order
//! and keeps it prefix-free (see `reverse` for how the codec tells it is
//! there). A type with a hand-written `Ord` (reversed, case-insensitive)
//! breaks the contract: it is sorted by its encoded bytes, and the reduce
//! side's order check fails the job. Floats have no `Ord`; they sort like
//! `total_cmp`.
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
//! | `Reverse<T>` | `T`'s bytes, each complemented (`Reverse<Reverse<T>>` is `T`) |
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
//!
//! The serializer, which writes this layout, is in `ser`; the deserializer,
//! which reads it back and reports where damaged bytes go wrong, in `de`;
//! the short-string probe the map-side table uses, in `short`;
//! this module holds the public functions and what both sides share.

mod de;
#[cfg(test)]
mod properties;
mod reverse;
mod ser;
mod short;
#[cfg(test)]
mod tests;

use std::fmt::{self, Display};

use memchr::memchr;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use self::de::KeyDeserializer;
use self::ser::KeySerializer;
pub(crate) use self::short::SHORT_KEY;
pub use self::short::{ShortKey, short_string};
use crate::error::{Error, Result};

/// Whether any byte of `x` is zero (exact: borrows cannot cross a zero
/// byte's lane into a lower one): the NUL test of both short-string copies.
#[inline]
fn has_zero(x: u64) -> bool {
    x.wrapping_sub(0x0101_0101_0101_0101) & !x & 0x8080_8080_8080_8080 != 0
}

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
    let res = KeySerializer { out: &mut *out }.put(v);
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
    let mut de = KeyDeserializer::new(bytes).for_type::<T>();
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
    let mut de = KeyDeserializer::new(bytes).for_type::<T>();
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

impl serde::ser::Error for CodecError {
    fn custom<T: Display>(msg: T) -> Self {
        CodecError(msg.to_string())
    }
}

impl serde::de::Error for CodecError {
    fn custom<T: Display>(msg: T) -> Self {
        CodecError(msg.to_string())
    }
}

type CodecResult<T> = std::result::Result<T, CodecError>;

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

/// Maps a float's bits to an unsigned integer whose order is `total_cmp`'s:
/// negatives are stored in sign-magnitude, so flipping all their bits
/// reverses them below the positives, whose sign bit is set to lift them.
#[inline]
fn f64_key(v: f64) -> u64 {
    let bits = v.to_bits();
    if bits >> 63 == 1 { !bits } else { bits ^ (1 << 63) }
}

#[inline]
fn f64_from_key(key: u64) -> f64 {
    f64::from_bits(if key >> 63 == 1 { key ^ (1 << 63) } else { !key })
}

#[inline]
fn f32_key(v: f32) -> u32 {
    let bits = v.to_bits();
    if bits >> 31 == 1 { !bits } else { bits ^ (1 << 31) }
}

#[inline]
fn f32_from_key(key: u32) -> f32 {
    f32::from_bits(if key >> 31 == 1 { key ^ (1 << 31) } else { !key })
}
