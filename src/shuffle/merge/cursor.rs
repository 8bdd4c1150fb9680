//! The [`Cursor`] trait, a sorted stream of encoded records, and
//! [`repeat_error`], which keeps a failed stream failing.

use crate::error::{Error, Result};

/// A sorted stream of records with a current record.
pub trait Cursor {
    /// Moves to the next record; false at the end.
    fn advance(&mut self) -> Result<bool>;
    /// The current record's key; valid after [`advance`](Cursor::advance) returned true.
    fn key(&self) -> &[u8];
    /// The current record's value; valid after [`advance`](Cursor::advance) returned true.
    fn value(&self) -> &[u8];
}

impl<C: Cursor + ?Sized> Cursor for &mut C {
    fn advance(&mut self) -> Result<bool> {
        (**self).advance()
    }
    fn key(&self) -> &[u8] {
        (**self).key()
    }
    fn value(&self) -> &[u8] {
        (**self).value()
    }
}

impl<C: Cursor + ?Sized> Cursor for Box<C> {
    fn advance(&mut self) -> Result<bool> {
        (**self).advance()
    }
    fn key(&self) -> &[u8] {
        (**self).key()
    }
    fn value(&self) -> &[u8] {
        (**self).value()
    }
}

/// A copy of an error that was already returned once, for a caller that
/// reads on after it: a stream that failed must not look merely finished.
pub fn repeat_error(e: &Error) -> Error {
    match e {
        Error::Io { path, source } => Error::io(path.clone(), std::io::Error::new(source.kind(), source.to_string())),
        Error::Corrupt { path, message } => Error::Corrupt {
            path: path.clone(),
            message: message.clone(),
        },
        Error::Codec(m) => Error::Codec(m.clone()),
        Error::TooLarge { what, bytes, limit } => Error::TooLarge {
            what,
            bytes: *bytes,
            limit: *limit,
        },
        Error::Contract(m) => Error::Contract(m.clone()),
        Error::Internal(m) => Error::Internal(m.clone()),
        other => Error::Internal(other.to_string()),
    }
}

/// Records from memory, for tests.
#[cfg(test)]
pub struct VecCursor {
    records: Vec<(Vec<u8>, Vec<u8>)>,
    /// One past the current record; 0 before the first `advance`.
    next: usize,
}

#[cfg(test)]
impl VecCursor {
    /// A cursor over `records`, in the order given.
    pub fn new(records: Vec<(Vec<u8>, Vec<u8>)>) -> Self {
        VecCursor { records, next: 0 }
    }
}

#[cfg(test)]
impl Cursor for VecCursor {
    fn advance(&mut self) -> Result<bool> {
        if self.next < self.records.len() {
            self.next += 1;
            Ok(true)
        } else {
            self.next = self.records.len() + 1;
            Ok(false)
        }
    }
    fn key(&self) -> &[u8] {
        self.records.get(self.next.wrapping_sub(1)).map_or(&[], |r| &r.0)
    }
    fn value(&self) -> &[u8] {
        self.records.get(self.next.wrapping_sub(1)).map_or(&[], |r| &r.1)
    }
}
