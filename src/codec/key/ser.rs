//! The serializer: writes a value in the order-preserving layout described
//! in the parent module.

use std::fmt::{self, Display, Write as _};

use serde::ser::{self, Serialize};

use super::reverse::reversed;
use super::{CodecError, CodecResult, ESCAPED_NUL, TERMINATOR, f32_key, f64_key, find_nul, has_zero};

/// Borrows its output buffer, so that [`encode_into`](super::encode_into)
/// can append to the caller's and cut a failed key back off.
pub(super) struct KeySerializer<'a> {
    pub(super) out: &'a mut Vec<u8>,
}

/// Appends `bytes` with every NUL escaped, without the terminator, so that
/// `collect_str` can feed it a string in pieces.
fn put_escaped(out: &mut Vec<u8>, mut bytes: &[u8]) {
    // The common NUL-free case costs one reservation, one copy and, for the
    // caller's terminator, no reallocation.
    out.reserve(bytes.len() + TERMINATOR.len());
    // A word-sized key (most string keys) into a reused buffer with room
    // for 16 bytes (the emitter's): a fixed 16-byte copy cut back to the
    // key's length, inline, instead of a `memcpy` call. A fresh `Vec` is
    // not grown for it: that allocation would cost more than the call.
    if out.capacity() - out.len() >= 16
        && let Some(word) = short_nul_free(bytes)
    {
        let at = out.len();
        out.extend_from_slice(&word);
        out.truncate(at + bytes.len());
        return;
    }
    while let Some(i) = find_nul(bytes) {
        let (head, rest) = bytes.split_at(i + 1);
        out.extend_from_slice(head);
        out.push(ESCAPED_NUL);
        bytes = rest;
    }
    out.extend_from_slice(bytes);
}

/// `bytes` zero-padded to 16, if it is at most 16 bytes and holds no NUL:
/// two (overlapping) fixed-size loads and a bit trick per 8 bytes.
#[inline]
fn short_nul_free(bytes: &[u8]) -> Option<[u8; 16]> {
    let n = bytes.len();
    let mut w = [0u8; 16];
    let zero = if n > 8 && n <= 16 {
        let (a, b) = (load8(&bytes[..8]), load8(&bytes[n - 8..]));
        w[..8].copy_from_slice(&a.to_le_bytes());
        w[n - 8..n].copy_from_slice(&b.to_le_bytes());
        has_zero(a) || has_zero(b)
    } else if (4..=8).contains(&n) {
        let (a, b) = (load4(&bytes[..4]), load4(&bytes[n - 4..]));
        w[..4].copy_from_slice(&a.to_le_bytes());
        w[n - 4..n].copy_from_slice(&b.to_le_bytes());
        // One word: the first four bytes low, the last four high.
        has_zero(u64::from(a) | u64::from(b) << 32)
    } else if n < 4 {
        let mut zero = false;
        for (d, &s) in w.iter_mut().zip(bytes) {
            *d = s;
            zero |= s == 0;
        }
        zero
    } else {
        return None;
    };
    (!zero).then_some(w)
}

fn load8(b: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(b);
    u64::from_le_bytes(a)
}

fn load4(b: &[u8]) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(b);
    u32::from_le_bytes(a)
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
    /// Writes `value`, complemented if its type is a `Reverse` (see
    /// `reverse`): every nested value goes through here, so a `Reverse`
    /// field of a tuple, struct, option or sequence sorts descending.
    #[inline]
    pub(super) fn put<T: Serialize + ?Sized>(&mut self, value: &T) -> CodecResult<()> {
        if !reversed::<T>() {
            return value.serialize(&mut *self);
        }
        let start = self.out.len();
        value.serialize(&mut *self)?;
        for b in &mut self.out[start..] {
            *b = !*b;
        }
        Ok(())
    }

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
        self.put(value)
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
        self.put(value)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        value: &T,
    ) -> CodecResult<()> {
        self.variant(name, index, variant)?;
        self.put(value)
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
        self.put(value)
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
        self.put(key)
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> CodecResult<()> {
        self.put(value)
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
                self.put(value)
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
                self.put(value)
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
        self.put(value)
    }

    fn end(self) -> CodecResult<()> {
        Ok(())
    }
}
