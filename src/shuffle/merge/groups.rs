//! [`Groups`]: a sorted cursor walked key group by key group, each group's
//! values streamed as a [`GroupValues`].

use super::{Cursor, repeat_error};
use crate::error::{Error, Result};
use crate::shuffle::ValueSource;

/// Key equality, cheap for sorted neighbours: they usually differ near the
/// end, so the last 8 bytes are compared first.
#[inline]
pub(super) fn same_key(a: &[u8], b: &[u8]) -> bool {
    match (a.last_chunk::<8>(), b.last_chunk::<8>()) {
        _ if a.len() != b.len() => false,
        (Some(x), Some(y)) if x != y => false,
        _ => a == b,
    }
}

/// Walks a sorted cursor key group by key group, for reducers and
/// combiners. A group's values stream straight from the cursor: nothing is
/// collected, so a key with millions of values takes no more memory than
/// one with one.
pub struct Groups<C: Cursor> {
    cursor: C,
    /// The current group's key, owned: the cursor moves on past it.
    key: Vec<u8>,
    walk: Walk,
}

/// Where a walk stands, apart from the cursor and the key, so that a
/// group's key and its values can be borrowed at once.
#[derive(Default)]
struct Walk {
    /// The cursor has been advanced at least once.
    started: bool,
    /// The cursor is on a record (not at its end).
    on_record: bool,
    /// The current record's value was handed out; the cursor moves on
    /// lazily, at the next call, so that value stays valid until then.
    consumed: bool,
    in_group: bool,
    records_read: u64,
    failed: Option<Error>,
}

impl Walk {
    /// Moves the cursor on, remembering a failure so that it is never
    /// mistaken for the end of the data.
    fn step<C: Cursor>(&mut self, cursor: &mut C) -> Result<()> {
        self.consumed = false;
        match cursor.advance() {
            Ok(more) => {
                self.on_record = more;
                Ok(())
            }
            Err(e) => {
                self.on_record = false;
                self.failed = Some(repeat_error(&e));
                Err(e)
            }
        }
    }
}

impl<C: Cursor> Groups<C> {
    /// Walks `cursor`, which must be sorted by key; reads nothing yet.
    pub fn new(cursor: C) -> Self {
        Groups {
            cursor,
            key: Vec::new(),
            walk: Walk::default(),
        }
    }

    /// Starts the next group, skipping whatever values of the previous group
    /// the caller did not consume. Returns false at the end.
    pub fn next_group(&mut self) -> Result<bool> {
        let (w, cursor) = (&mut self.walk, &mut self.cursor);
        if let Some(e) = &w.failed {
            return Err(repeat_error(e));
        }
        if !w.started {
            w.started = true;
            w.step(cursor)?;
        } else if w.in_group {
            loop {
                if w.consumed {
                    w.step(cursor)?;
                }
                if !w.on_record || !same_key(cursor.key(), &self.key) {
                    break;
                }
                w.records_read += 1;
                w.consumed = true;
            }
        } else if w.consumed {
            w.step(cursor)?;
        }
        w.in_group = w.on_record;
        if w.in_group {
            self.key.clear();
            self.key.extend_from_slice(cursor.key());
        }
        Ok(w.in_group)
    }

    /// The current group's key.
    pub fn key(&self) -> &[u8] {
        &self.key
    }

    /// The values of the current group, streamed.
    pub fn values(&mut self) -> GroupValues<'_, C> {
        self.group().1
    }

    /// The current group's key and its values at once: a caller that needs
    /// both need not copy the key.
    pub fn group(&mut self) -> (&[u8], GroupValues<'_, C>) {
        let values = GroupValues {
            cursor: &mut self.cursor,
            key: &self.key,
            walk: &mut self.walk,
        };
        (&self.key, values)
    }

    /// Records read from the cursor so far: the values handed out plus
    /// those skipped because the caller moved to the next group without
    /// consuming them (those are counted when `next_group` skips them).
    pub fn records_read(&self) -> u64 {
        self.walk.records_read
    }
}

/// One group's values, as a [`ValueSource`]: each value stays valid until
/// the next call. Ends when the key changes or the cursor ends; a read error
/// comes out once, as `Some(Err(_))`, then the values end and
/// [`Groups::next_group`] fails.
pub struct GroupValues<'a, C: Cursor> {
    cursor: &'a mut C,
    key: &'a [u8],
    walk: &'a mut Walk,
}

impl<C: Cursor> ValueSource for GroupValues<'_, C> {
    fn next_value(&mut self) -> Option<Result<&[u8]>> {
        let w = &mut *self.walk;
        if !w.in_group || w.failed.is_some() {
            return None;
        }
        if w.consumed
            && let Err(e) = w.step(self.cursor)
        {
            return Some(Err(e));
        }
        if !w.on_record || !same_key(self.cursor.key(), self.key) {
            // Ends the group for good: a later call must not hand out the
            // next group's first value.
            w.in_group = false;
            return None;
        }
        w.consumed = true;
        w.records_read += 1;
        Some(Ok(self.cursor.value()))
    }
}
