//! [`short_string`]: the encoding of a key that is one short string, built
//! without the serializer, for the map-side table that a combinable word
//! count feeds once per word.

use std::fmt::{self, Display};

use serde::Serialize;
use serde::ser::{self, Impossible};

use super::{TERMINATOR, has_zero};

/// The longest encoding [`short_string`] answers for: the map-side table
/// keeps keys of up to 15 bytes inline (its 16th byte is the length).
pub(crate) const SHORT_KEY: usize = 15;

/// A key's encoding, zero-padded to 16 bytes: `bytes[..len]` is exactly
/// what [`encode_into`](super::encode_into) writes for the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShortKey {
    pub(crate) bytes: [u8; 16],
    pub(crate) len: usize,
}

impl ShortKey {
    /// The encoded key: the bytes [`encode`](super::encode) writes for it.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

/// The encoding of `key` if it serializes as one string (a `str`, a
/// `String`, a newtype of one) of at most 13 bytes with no NUL, so that it
/// and its terminator fit [`SHORT_KEY`]; `None` for every other key, which
/// then takes the serializer. For any other type the probe fails at its
/// first call, which the compiler folds away.
#[inline]
pub fn short_string<Q: Serialize + ?Sized>(key: &Q) -> Option<ShortKey> {
    // A reversed string is complemented: the serializer's business.
    if super::reverse::reversed::<Q>() {
        return None;
    }
    key.serialize(Probe).ok()
}

/// `bytes` (at most 13, no NUL) zero-padded, as a little-endian `u128`:
/// two overlapping loads joined with shifts, with no stores at a variable
/// offset. `None` if longer or holding a NUL.
#[inline]
fn padded(bytes: &[u8]) -> Option<u128> {
    let n = bytes.len();
    let (word, zero) = if n > 8 {
        if n + TERMINATOR.len() > SHORT_KEY {
            return None;
        }
        let a = u64::from_le_bytes(*bytes.first_chunk::<8>()?);
        // Bytes n-8 .. n; those below 8 are a's again and shift out.
        let b = u64::from_le_bytes(*bytes.last_chunk::<8>()?);
        let tail = b >> (8 * (16 - n));
        (u128::from(a) | u128::from(tail) << 64, has_zero(a) || has_zero(b))
    } else if n >= 4 {
        let a = u64::from(u32::from_le_bytes(*bytes.first_chunk::<4>()?));
        let b = u64::from(u32::from_le_bytes(*bytes.last_chunk::<4>()?));
        let w = a | (b >> (8 * (8 - n))) << 32;
        // One word: the first four bytes low, the last four high.
        (u128::from(w), has_zero(a | b << 32))
    } else {
        let mut w = 0u64;
        let mut zero = false;
        for (i, &c) in bytes.iter().enumerate() {
            w |= u64::from(c) << (8 * i);
            zero |= c == 0;
        }
        (u128::from(w), zero)
    };
    (!zero).then_some(word)
}

/// Why a key is not a short string; carries nothing, since the caller falls
/// back to the serializer, which words any real error.
#[derive(Debug)]
struct NotShort;

impl Display for NotShort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not a short string key")
    }
}

impl std::error::Error for NotShort {}

impl ser::Error for NotShort {
    fn custom<T: Display>(_: T) -> Self {
        NotShort
    }
}

struct Probe;

macro_rules! not_short {
    ($($method:ident($($arg:ty),*)),* $(,)?) => {$(
        fn $method(self, $(_: $arg),*) -> Result<ShortKey, NotShort> {
            Err(NotShort)
        }
    )*};
}

impl ser::Serializer for Probe {
    type Ok = ShortKey;
    type Error = NotShort;
    type SerializeSeq = Impossible<ShortKey, NotShort>;
    type SerializeTuple = Impossible<ShortKey, NotShort>;
    type SerializeTupleStruct = Impossible<ShortKey, NotShort>;
    type SerializeTupleVariant = Impossible<ShortKey, NotShort>;
    type SerializeMap = Impossible<ShortKey, NotShort>;
    type SerializeStruct = Impossible<ShortKey, NotShort>;
    type SerializeStructVariant = Impossible<ShortKey, NotShort>;

    #[inline]
    fn serialize_str(self, v: &str) -> Result<ShortKey, NotShort> {
        let word = padded(v.as_bytes()).ok_or(NotShort)?;
        let n = v.len();
        // The padding already holds the terminator's 00; the 01 follows.
        let word = word | u128::from(TERMINATOR[1]) << (8 * (n + 1));
        Ok(ShortKey {
            bytes: word.to_le_bytes(),
            len: n + TERMINATOR.len(),
        })
    }

    // The key codec writes a newtype as its inner value.
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _: &'static str, value: &T) -> Result<ShortKey, NotShort> {
        if super::reverse::reversed::<T>() {
            return Err(NotShort);
        }
        value.serialize(self)
    }

    not_short!(
        serialize_bool(bool),
        serialize_i8(i8),
        serialize_i16(i16),
        serialize_i32(i32),
        serialize_i64(i64),
        serialize_i128(i128),
        serialize_u8(u8),
        serialize_u16(u16),
        serialize_u32(u32),
        serialize_u64(u64),
        serialize_u128(u128),
        serialize_f32(f32),
        serialize_f64(f64),
        serialize_char(char),
        serialize_bytes(&[u8]),
        serialize_none(),
        serialize_unit(),
        serialize_unit_struct(&'static str),
        serialize_unit_variant(&'static str, u32, &'static str),
    );

    fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result<ShortKey, NotShort> {
        Err(NotShort)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<ShortKey, NotShort> {
        Err(NotShort)
    }

    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, NotShort> {
        Err(NotShort)
    }

    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, NotShort> {
        Err(NotShort)
    }

    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeTupleStruct, NotShort> {
        Err(NotShort)
    }

    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, NotShort> {
        Err(NotShort)
    }

    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, NotShort> {
        Err(NotShort)
    }

    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct, NotShort> {
        Err(NotShort)
    }

    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, NotShort> {
        Err(NotShort)
    }

    // A Display string is written in pieces; the serializer handles it.
    fn collect_str<T: Display + ?Sized>(self, _: &T) -> Result<ShortKey, NotShort> {
        Err(NotShort)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::key::encode;

    /// Every length from 0 to 20, NUL-free and with a NUL at each place,
    /// against the serializer's bytes; and keys that are not one string.
    #[test]
    fn a_short_string_is_its_encoding_padded_and_nothing_else_is() {
        for n in 0..=20usize {
            let plain: String = (0..n).map(|i| char::from(b'a' + (i * 7 % 26) as u8)).collect();
            let mut cases = vec![plain.clone()];
            for at in 0..n {
                let mut b = plain.clone().into_bytes();
                b[at] = 0;
                cases.push(String::from_utf8(b).unwrap());
            }
            for s in cases {
                let enc = encode(&s).unwrap();
                match short_string(&s) {
                    Some(k) => {
                        assert!(!s.contains('\0') && enc.len() <= SHORT_KEY, "{s:?}");
                        assert_eq!(&k.bytes[..k.len], &enc[..], "{s:?}");
                        assert!(k.bytes[k.len..].iter().all(|&b| b == 0), "{s:?}");
                        assert_eq!(short_string(s.as_str()), Some(k));
                    }
                    None => assert!(s.contains('\0') || enc.len() > SHORT_KEY, "{s:?}"),
                }
            }
        }
        #[derive(serde::Serialize)]
        struct Word(String);
        assert_eq!(
            short_string(&Word("é!".into())).map(|k| k.bytes[..k.len].to_vec()),
            Some(encode("é!").unwrap())
        );
        assert_eq!(short_string(&7u64), None);
        assert_eq!(short_string(&("a".to_owned(), 1u8)), None);
        assert_eq!(short_string(&Some("a")), None);
        assert_eq!(short_string(&'a'), None);
    }
}
