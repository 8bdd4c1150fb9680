//! Byte encodings: the only place that turns user types into bytes and back.
//!
//! - [`key`]: keys as order-preserving bytes, so the shuffle
//!   sorts and groups by comparing raw slices.
//! - `value`: values as compact bincode, behind this one private module.
//! - `text`: job output lines in mrjob's canonical JSON, or raw text.
//! - [`protocol`]: the output line formats a job can choose.
//! - `streaming`: pairs as text lines between Streaming tasks.
//!
//! A step's values are encoded with the key codec instead of bincode when the
//! step sorts values (secondary sort), so that value order is byte order too.
//! A join step's values are one side byte then bincode ([`ValueCodec::Tagged`]),
//! so that sorting values by bytes puts each key's first side first.

pub mod key;
pub mod protocol;
pub(crate) mod streaming;
pub(crate) mod text;
pub(crate) mod value;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::Result;

/// How a step's values are turned into bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ValueCodec {
    /// Compact and fast; byte order means nothing.
    Bincode,
    /// Order-preserving, for steps that sort values within a key.
    Ordered,
    /// A join side's values: `[side: u8][bincode value]`. Sorting a key's
    /// values by bytes sorts them by side (the order within a side is
    /// that of the encoded bytes: fixed, but meaningless).
    Tagged(u8),
}

impl ValueCodec {
    pub(crate) fn encode_into<T: Serialize + ?Sized>(self, v: &T, out: &mut Vec<u8>) -> Result<()> {
        match self {
            ValueCodec::Bincode => value::encode_into(v, out),
            ValueCodec::Ordered => key::encode_into(v, out),
            ValueCodec::Tagged(side) => {
                out.push(side);
                value::encode_into(v, out)
            }
        }
    }

    /// Whether the shuffle sorts a key's values by their bytes.
    pub(crate) fn sorts_values(self) -> bool {
        self != ValueCodec::Bincode
    }

    /// The length of `v`'s encoding (`scratch` is used where only
    /// encoding tells).
    pub(crate) fn encoded_len<T: Serialize + ?Sized>(self, v: &T, scratch: &mut Vec<u8>) -> Result<usize> {
        match self {
            ValueCodec::Bincode => value::encoded_len(v),
            ValueCodec::Tagged(_) => Ok(1 + value::encoded_len(v)?),
            ValueCodec::Ordered => {
                scratch.clear();
                key::encode_into(v, scratch)?;
                Ok(scratch.len())
            }
        }
    }

    pub(crate) fn decode<T: DeserializeOwned>(self, bytes: &[u8]) -> Result<T> {
        match self {
            ValueCodec::Bincode => value::decode(bytes),
            ValueCodec::Ordered => key::decode(bytes),
            ValueCodec::Tagged(side) => match bytes.split_first() {
                Some((&tag, rest)) if tag == side => value::decode(rest),
                _ => Err(crate::error::Error::Codec(format!(
                    "a join value of side {side} does not start with its side byte"
                ))),
            },
        }
    }
}

/// The partition of an encoded key: `xxh3_64(key bytes) % partitions`.
///
/// xxh3 is specified and stable across versions, platforms and processes,
/// unlike std's `Hash` or foldhash, so the same key lands in the same part
/// file on every runner and every run.
pub fn hash_partition(key: &[u8], partitions: u32) -> u32 {
    debug_assert!(partitions > 0);
    (xxhash_rust::xxh3::xxh3_64(key) % u64::from(partitions.max(1))) as u32
}
