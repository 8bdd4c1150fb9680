//! The deserializer: reads the parent module's layout back into a value,
//! borrowing strings from the key where it can, and names the byte where
//! damaged input goes wrong.

use serde::de::value::U32Deserializer;
use serde::de::{self, DeserializeSeed, Deserializer as _, IntoDeserializer, Visitor};

use super::reverse::{option_content_reversed, reversed, seed_reversed};
use super::{CodecError, CodecResult, ESCAPED_NUL, TERMINATOR, f32_from_key, f64_from_key, find_nul};

/// Reads one key; [`finish`](KeyDeserializer::finish) then checks that
/// nothing follows it.
pub(super) struct KeyDeserializer<'de> {
    /// What is left to read.
    input: &'de [u8],
    /// The whole key's length, to report byte offsets in errors.
    len: usize,
    /// Unescaped copies of strings that contain a NUL (or that are read
    /// complemented); empty, and so unallocated, until one is met.
    scratch: Vec<u8>,
    /// Inside a `Reverse`: every byte was written complemented.
    invert: bool,
}

/// A decoded string's bytes: borrowed from the key when it needed no
/// unescaping, else from the deserializer's scratch buffer.
enum Unescaped<'de, 's> {
    Borrowed(&'de [u8]),
    Copied(&'s [u8]),
}

impl<'de> KeyDeserializer<'de> {
    pub(super) fn new(input: &'de [u8]) -> Self {
        KeyDeserializer {
            input,
            len: input.len(),
            scratch: Vec::new(),
            invert: false,
        }
    }

    /// Starts reading a value of type `T`, the key's whole type.
    pub(super) fn for_type<T: ?Sized>(mut self) -> Self {
        self.invert = reversed::<T>();
        self
    }

    /// Reads what `seed` reads, complemented if its type is a `Reverse`
    /// (the serializer's `put`): every nested value comes through here.
    #[inline]
    fn seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> CodecResult<S::Value> {
        if !seed_reversed::<S, S::Value>() {
            return seed.deserialize(self);
        }
        self.invert = !self.invert;
        let res = seed.deserialize(&mut *self);
        self.invert = !self.invert;
        res
    }

    /// Offset of the next unread byte.
    fn pos(&self) -> usize {
        self.len - self.input.len()
    }

    #[inline]
    pub(super) fn finish(&self) -> CodecResult<()> {
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
                let mut head = *head;
                if self.invert {
                    for b in &mut head {
                        *b = !*b;
                    }
                }
                Ok(head)
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
        if self.invert {
            return self.string_complemented().map(Unescaped::Copied);
        }
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

impl KeyDeserializer<'_> {
    /// A string inside a `Reverse`: its bytes, NULs and terminator all
    /// complemented, so it is copied back into `scratch`.
    fn string_complemented(&mut self) -> CodecResult<&[u8]> {
        let start = self.pos();
        let input = self.input;
        self.scratch.clear();
        let mut from = 0;
        loop {
            // A complemented NUL is FF.
            let Some(i) = memchr::memchr(0xFF, &input[from..]).map(|i| from + i) else {
                return Err(CodecError(format!("key ends inside a string starting at byte {start}")));
            };
            self.scratch.extend(input[from..i].iter().map(|b| !b));
            match input.get(i + 1).map(|b| !b) {
                Some(1) => {
                    self.input = &input[i + TERMINATOR.len()..];
                    return Ok(&self.scratch);
                }
                Some(ESCAPED_NUL) => {
                    self.scratch.push(0);
                    from = i + 2;
                }
                Some(b) => {
                    return Err(CodecError(format!(
                        "invalid escape 0x00 0x{b:02x} at byte {} in a string starting at byte {start}",
                        start + i
                    )));
                }
                None => return Err(CodecError(format!("key ends inside a string starting at byte {start}"))),
            }
        }
    }
}

#[inline]
fn utf8(bytes: &[u8], start: usize) -> CodecResult<&str> {
    // simdutf8 checks ASCII a vector at a time (std: two words); std runs
    // again only to say where a bad string goes wrong.
    simdutf8::basic::from_utf8(bytes)
        .or_else(|_| std::str::from_utf8(bytes))
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
            if !option_content_reversed::<V::Value>() {
                return visitor.visit_some(self);
            }
            self.invert = !self.invert;
            let res = visitor.visit_some(&mut *self);
            self.invert = !self.invert;
            res
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
        // As a one-field tuple, not `visit_newtype_struct(self)`: the
        // sequence's seed shows the field's type, so a `Reverse` field is
        // read complemented as the serializer wrote it. Derived newtype
        // structs accept both.
        visitor.visit_seq(Counted { de: self, left: 1 })
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
            self.de.seed(seed).map(Some)
        } else {
            Ok(None)
        }
    }
}

impl<'de> de::MapAccess<'de> for Flagged<'_, 'de> {
    type Error = CodecError;

    fn next_key_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> CodecResult<Option<S::Value>> {
        if self.de.flag("map entry tag")? {
            self.de.seed(seed).map(Some)
        } else {
            Ok(None)
        }
    }

    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> CodecResult<S::Value> {
        self.de.seed(seed)
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
        self.de.seed(seed).map(Some)
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
        self.seed(seed)
    }

    fn tuple_variant<V: Visitor<'de>>(self, len: usize, visitor: V) -> CodecResult<V::Value> {
        self.deserialize_tuple(len, visitor)
    }

    fn struct_variant<V: Visitor<'de>>(self, fields: &'static [&'static str], visitor: V) -> CodecResult<V::Value> {
        self.deserialize_tuple(fields.len(), visitor)
    }
}
