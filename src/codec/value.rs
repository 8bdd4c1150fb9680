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

/// The most a decoded value may claim: bincode allocates the length a
/// string or byte buffer says before reading it, so without a limit a
/// damaged length (`u64::MAX`) panics or aborts the process. Claims are
/// the decoded strings' bytes and 1-16 bytes per number, so a legitimate
/// value reaches this only past a gigabyte in memory.
const MAX_DECODED: usize = 1 << 30;

const CONFIG: bincode::config::Configuration<
    bincode::config::LittleEndian,
    bincode::config::Varint,
    bincode::config::Limit<MAX_DECODED>,
> = bincode::config::standard().with_limit::<MAX_DECODED>();

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
    let (v, used) = bincode::serde::decode_from_slice(bytes, CONFIG).map_err(|e| match e {
        bincode::error::DecodeError::LimitExceeded => Error::Codec(format!(
            "cannot decode value: it claims more than {MAX_DECODED} bytes (damaged data?)"
        )),
        e => Error::Codec(format!("cannot decode value: {e}")),
    })?;
    if used != bytes.len() {
        return Err(Error::Codec(format!(
            "cannot decode value: {} trailing bytes",
            bytes.len() - used
        )));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by the `key` fuzz target (issue 8), through `Pairs::from_pair`:
    /// a string claiming `u64::MAX` bytes made bincode panic ("capacity
    /// overflow") or abort, instead of failing.
    #[test]
    fn issue8_fuzz_huge_string_length_in_a_value() {
        // Varint tag 0xfd (a u64 follows), then u64::MAX: the string's length.
        let bytes = [0xfd, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
        let res = std::panic::catch_unwind(|| decode::<String>(&bytes));
        assert!(
            matches!(res, Ok(Err(Error::Codec(_)))),
            "an error, not a panic: {res:?}"
        );
        // Just past the limit, too (a claim the machine might even grant).
        let mut past = vec![0xfc];
        past.extend_from_slice(&(MAX_DECODED as u32 + 1).to_le_bytes());
        assert!(decode::<Vec<u8>>(&past).is_err());
        // Values well inside it round-trip.
        let mut buf = Vec::new();
        let v = ("x".repeat(100_000), vec![u64::MAX; 1000]);
        encode_into(&v, &mut buf).unwrap();
        assert_eq!(decode::<(String, Vec<u64>)>(&buf).unwrap(), v);
    }
}
