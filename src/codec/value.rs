//! Values as bincode 2 bytes (standard config: varint integers).
//!
//! This is the only module that names bincode, so the dependency (pinned at
//! 2.0.1, the last release that builds) can be swapped for postcard or
//! another serde format without touching the engine. Serde attributes that
//! need a self-describing format (`flatten`, `skip_serializing_if`, `tag`,
//! `untagged`) lose data here; value types must not use them.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{Error, Result};

const CONFIG: bincode::config::Configuration = bincode::config::standard();

/// Appends to a `Vec` directly: bincode's `std::io::Write` adapter costs
/// a dynamic write call per field.
struct VecWriter<'a>(&'a mut Vec<u8>);

impl bincode::enc::write::Writer for VecWriter<'_> {
    fn write(&mut self, bytes: &[u8]) -> std::result::Result<(), bincode::error::EncodeError> {
        self.0.extend_from_slice(bytes);
        Ok(())
    }
}

pub(crate) fn encode_into<T: Serialize + ?Sized>(v: &T, out: &mut Vec<u8>) -> Result<()> {
    bincode::serde::encode_into_writer(v, VecWriter(out), CONFIG)
        .map_err(|e| Error::Codec(format!("cannot encode value: {e}")))
}

/// The length of `v`'s encoding, without writing it.
pub(crate) fn encoded_len<T: Serialize + ?Sized>(v: &T) -> Result<usize> {
    let mut size = bincode::enc::write::SizeWriter::default();
    bincode::serde::encode_into_writer(v, &mut size, CONFIG)
        .map_err(|e| Error::Codec(format!("cannot encode value: {e}")))?;
    Ok(size.bytes_written)
}

pub(crate) fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T> {
    let (v, used) = bincode::serde::decode_from_slice(bytes, CONFIG)
        .map_err(|e| Error::Codec(format!("cannot decode value: {e}")))?;
    if used != bytes.len() {
        return Err(Error::Codec(format!(
            "cannot decode value: {} trailing bytes",
            bytes.len() - used
        )));
    }
    Ok(v)
}
