//! Keys as order-preserving bytes.
//!
//! The encoding is memcomparable's (MySQL/MyRocks style: big-endian integers
//! with the sign bit flipped, strings and byte sequences in escaped 8-byte
//! groups, so every encoding is prefix-free). For any key type whose `Ord` is
//! the derived, structural one, `enc(a).cmp(&enc(b)) == a.cmp(&b)`; the
//! property test in `tests/engine/codec.rs` checks this for every supported
//! type. A type with a hand-written `Ord` (reversed, case-insensitive) or
//! floats breaks that contract: it will be sorted by its encoded bytes.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{Error, Result};

/// Appends the order-preserving encoding of `v` to `out`.
pub(crate) fn encode_into<T: Serialize + ?Sized>(v: &T, out: &mut Vec<u8>) -> Result<()> {
    let mut ser = memcomparable::Serializer::new(std::mem::take(out));
    let res = v.serialize(&mut ser);
    *out = ser.into_inner();
    res.map_err(|e| Error::Codec(format!("cannot encode key: {e}")))
}

/// Decodes a value written by `encode_into` or [`encode`].
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T> {
    memcomparable::from_slice(bytes).map_err(|e| Error::Codec(format!("cannot decode key: {e}")))
}

/// Decodes into `place`, reusing its allocations (TEMPORARY shim).
pub fn decode_in_place<'de, T: serde::Deserialize<'de>>(bytes: &'de [u8], place: &mut T) -> Result<()> {
    *place = memcomparable::from_slice(bytes).map_err(|e| Error::Codec(format!("cannot decode key: {e}")))?;
    Ok(())
}

/// The order-preserving encoding of `v`: what the shuffle sorts by.
pub fn encode<T: Serialize + ?Sized>(v: &T) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    encode_into(v, &mut out)?;
    Ok(out)
}
