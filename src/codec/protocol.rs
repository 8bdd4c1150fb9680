//! Output protocols: how a job's final `(key, value)` pairs become lines.

use std::io::Write;

use serde::Serialize;

use super::text;
use crate::error::{Error, Result};

/// The line format of a job's final output, chosen per job with
/// [`Job::output`](crate::Job::output).
///
/// JSON is written exactly as Python's `json.dumps` writes it (`", "` and
/// `": "` separators, non-ASCII escaped as `\uXXXX`, floats as Python's
/// `repr`), so output bytes are stable and match mrjob's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Protocol {
    /// `JSON(key) TAB JSON(value)`: mrjob's default `JSONProtocol`.
    #[default]
    Json,
    /// `JSON(value)` only: mrjob's `JSONValueProtocol`.
    JsonValue,
    /// The value as plain text only (strings unquoted, tuples tab-joined):
    /// mrjob's `RawValueProtocol`.
    RawValue,
    /// Key and value as plain text, tab-separated, tuples flattened into
    /// columns; a unit or `None` key writes no column.
    Tsv,
}

impl Protocol {
    /// Writes one output line, newline included.
    pub(crate) fn write_pair<W, K, V>(self, w: &mut W, key: &K, value: &V) -> Result<()>
    where
        W: Write,
        K: Serialize + ?Sized,
        V: Serialize + ?Sized,
    {
        let res = match self {
            Protocol::Json => text::write_json(w, key)
                .and_then(|()| w.write_all(b"\t").map_err(serde_json::Error::io))
                .and_then(|()| text::write_json(w, value)),
            Protocol::JsonValue => text::write_json(w, value),
            Protocol::RawValue => text::write_text(w, value),
            Protocol::Tsv => {
                let mut key_text = Vec::new();
                text::write_text(&mut key_text, key).and_then(|()| {
                    if !key_text.is_empty() {
                        key_text.push(b'\t');
                    }
                    w.write_all(&key_text).map_err(serde_json::Error::io)?;
                    text::write_text(w, value)
                })
            }
        };
        res.and_then(|()| w.write_all(b"\n").map_err(serde_json::Error::io))
            .map_err(|e| match e.is_io() {
                // The output's failure (a full disk), not the data's.
                true => Error::from_write(e.into(), "<output>"),
                false => Error::Codec(format!("cannot write output line: {e}")),
            })
    }
}
