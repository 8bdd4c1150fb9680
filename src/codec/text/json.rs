//! Python's `json.dumps` layout for serde_json: `", "` and `": "`
//! separators, `ensure_ascii` string escaping, and floats as `repr` writes
//! them (through `number`).

use std::io::{self, Write};

use serde_json::ser::{CharEscape, Formatter};

use super::number;

/// `serde_json` formatter reproducing Python's `json.dumps` defaults.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct PyFormatter;

impl Formatter for PyFormatter {
    fn begin_array_value<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        if first { Ok(()) } else { w.write_all(b", ") }
    }

    fn begin_object_key<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        if first { Ok(()) } else { w.write_all(b", ") }
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        w.write_all(b": ")
    }

    fn write_f64<W: ?Sized + Write>(&mut self, w: &mut W, value: f64) -> io::Result<()> {
        number::write_f64(w, value)
    }

    fn write_f32<W: ?Sized + Write>(&mut self, w: &mut W, value: f32) -> io::Result<()> {
        number::write_f32(w, value)
    }

    fn write_string_fragment<W: ?Sized + Write>(&mut self, w: &mut W, fragment: &str) -> io::Result<()> {
        write_ascii_escaped(w, fragment)
    }

    fn write_char_escape<W: ?Sized + Write>(&mut self, w: &mut W, char_escape: CharEscape) -> io::Result<()> {
        let short: &[u8] = match char_escape {
            CharEscape::Quote => b"\\\"",
            CharEscape::ReverseSolidus => b"\\\\",
            // Python never escapes '/', so undo the escape if it is requested.
            CharEscape::Solidus => b"/",
            CharEscape::Backspace => b"\\b",
            CharEscape::FormFeed => b"\\f",
            CharEscape::LineFeed => b"\\n",
            CharEscape::CarriageReturn => b"\\r",
            CharEscape::Tab => b"\\t",
            CharEscape::AsciiControl(byte) => {
                let mut buf = [0u8; 6];
                u_escape(&mut buf, u16::from(byte));
                return w.write_all(&buf);
            }
        };
        w.write_all(short)
    }
}

/// Writes `s` with Python's `ensure_ascii=True` escaping.
///
/// serde_json hands us fragments that only exclude `"`, `\` and C0 controls;
/// everything else outside printable ASCII (DEL, non-ASCII) is escaped here.
/// Printable runs are written in one call to keep ASCII-heavy text cheap.
fn write_ascii_escaped<W: ?Sized + Write>(w: &mut W, s: &str) -> io::Result<()> {
    let bytes = s.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        // Skip plain 16-byte blocks with a branch-free test that vectorizes.
        if let Some(block) = bytes.get(i..i + 16)
            && !block.iter().fold(false, |acc, &b| acc | needs_escape(b))
        {
            i += 16;
            continue;
        }
        // Within a block known to hold an escape, or in the short tail.
        match bytes[i..].iter().position(|&b| needs_escape(b)) {
            Some(offset) => i += offset,
            None => break,
        }
        if start < i {
            w.write_all(&bytes[start..i])?;
        }
        // `i` is always at a char boundary: we only stop on ASCII bytes or
        // UTF-8 lead bytes, and skip whole chars below.
        let Some(c) = s.get(i..).and_then(|tail| tail.chars().next()) else {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "string split inside a UTF-8 sequence",
            ));
        };
        write_escaped_char(w, c)?;
        i += c.len_utf8();
        start = i;
    }
    if start < bytes.len() {
        w.write_all(&bytes[start..])?;
    }
    Ok(())
}

/// Whether Python's `ensure_ascii` output changes this UTF-8 byte: anything
/// but printable ASCII, plus `"` and `\`.
#[inline]
fn needs_escape(b: u8) -> bool {
    !(0x20..0x7f).contains(&b) || b == b'"' || b == b'\\'
}

/// Escapes one char that is not printable ASCII (or is `"` / `\`).
fn write_escaped_char<W: ?Sized + Write>(w: &mut W, c: char) -> io::Result<()> {
    let short: &[u8] = match c {
        '"' => b"\\\"",
        '\\' => b"\\\\",
        '\n' => b"\\n",
        '\r' => b"\\r",
        '\t' => b"\\t",
        '\u{8}' => b"\\b",
        '\u{c}' => b"\\f",
        _ => {
            let mut buf = [0u8; 12];
            let mut units = [0u16; 2];
            let mut len = 0;
            for unit in c.encode_utf16(&mut units) {
                u_escape(&mut buf[len..len + 6], *unit);
                len += 6;
            }
            return w.write_all(&buf[..len]);
        }
    };
    w.write_all(short)
}

/// Fills `out[..6]` with `\uXXXX`, lowercase hex as Python writes it.
fn u_escape(out: &mut [u8], unit: u16) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out[0] = b'\\';
    out[1] = b'u';
    out[2] = HEX[usize::from(unit >> 12)];
    out[3] = HEX[usize::from((unit >> 8) & 0xf)];
    out[4] = HEX[usize::from((unit >> 4) & 0xf)];
    out[5] = HEX[usize::from(unit & 0xf)];
}
