//! The streaming iterator over one key's values.

use std::marker::PhantomData;

use serde::de::DeserializeOwned;

use crate::codec::ValueCodec;
use crate::error::Error;
use crate::shuffle::ValueSource;

/// The values of one key, decoded one at a time as the reducer pulls them.
///
/// The framework never collects them: a key with ten million values streams
/// through in constant memory unless the reducer itself collects. If a value
/// cannot be read (corrupt intermediate data), iteration stops early and the
/// task fails with that error once `reduce` returns.
pub struct Values<'a, V> {
    source: &'a mut dyn ValueSource,
    codec: ValueCodec,
    error: &'a mut Option<Error>,
    _type: PhantomData<fn() -> V>,
}

impl<'a, V: DeserializeOwned> Values<'a, V> {
    pub(crate) fn new(source: &'a mut dyn ValueSource, codec: ValueCodec, error: &'a mut Option<Error>) -> Self {
        Values {
            source,
            codec,
            error,
            _type: PhantomData,
        }
    }
}

impl<V: DeserializeOwned> Iterator for Values<'_, V> {
    type Item = V;

    fn next(&mut self) -> Option<V> {
        if self.error.is_some() {
            return None;
        }
        let decoded = match self.source.next_value()? {
            Ok(bytes) => self.codec.decode(bytes),
            Err(e) => Err(e),
        };
        match decoded {
            Ok(v) => Some(v),
            Err(e) => {
                *self.error = Some(e);
                None
            }
        }
    }
}
