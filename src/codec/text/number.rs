//! Floats as Python's `repr(float)` writes them, laid out from serde_json's
//! shortest round-trip digits.

use std::io::{self, Write};

use serde_json::ser::{CompactFormatter, Formatter};

/// Writes `value` as Python's `repr(float)` does, or `null` if it is not
/// finite.
pub(super) fn write_f64<W: ?Sized + Write>(w: &mut W, value: f64) -> io::Result<()> {
    if !value.is_finite() {
        // serde_json never gets here with a non-finite value; stay valid
        // JSON and agree with its `null` if some other caller does.
        return w.write_all(b"null");
    }
    let magnitude = value.abs();
    let fixed = magnitude == 0.0 || (1e-4..1e16).contains(&magnitude);
    write_float(w, fixed, |buf| CompactFormatter.write_f64(buf, value))
}

/// Writes `value` with its own shortest digits (not widened to `f64`) in
/// Python's layout, or `null` if it is not finite.
pub(super) fn write_f32<W: ?Sized + Write>(w: &mut W, value: f32) -> io::Result<()> {
    if !value.is_finite() {
        return w.write_all(b"null");
    }
    let magnitude = value.abs();
    let fixed = magnitude == 0.0 || (1e-4..1e16).contains(&magnitude);
    write_float(w, fixed, |buf| CompactFormatter.write_f32(buf, value))
}

/// Room for serde_json's shortest float rendering (at most 24 bytes).
pub(super) const SHORTEST_BUF: usize = 32;

/// Python's `repr(float)` switches to scientific notation outside
/// `1e-4 <= |x| < 1e16`, i.e. for decimal exponents outside this range.
const FIXED_EXP: std::ops::Range<i32> = -4..16;

/// Writes a finite float in Python's layout from serde_json's shortest
/// rendering, which `render` writes into a stack buffer.
///
/// `python_fixed` says whether Python uses fixed notation for the value,
/// decided from the value itself: `repr` is fixed for `x == 0` and
/// `1e-4 <= |x| < 1e16`, and because rounding to nearest is monotonic, the
/// shortest digits of `x` are at least the decimal bound exactly when `x` is
/// at least the bound rounded to `x`'s type, which is what the literal
/// bounds are. Then any plain `int.frac` rendering without redundant zeros
/// is already Python's, the common case; anything else is re-laid out.
fn write_float<W: ?Sized + Write>(
    w: &mut W,
    python_fixed: bool,
    render: impl FnOnce(&mut &mut [u8]) -> io::Result<()>,
) -> io::Result<()> {
    let mut buf = [0u8; SHORTEST_BUF];
    let len = {
        let mut cur: &mut [u8] = &mut buf;
        render(&mut cur)?;
        SHORTEST_BUF - cur.len()
    };
    if python_fixed && is_minimal_fixed(&buf, len) {
        return w.write_all(&buf[..len]);
    }
    write_python_float(w, &buf[..len])
}

/// Re-lays out a finite float that serde_json rendered with shortest
/// round-trip digits into Python's `repr` layout.
///
/// serde_json (ryu, now zmij) and Python (David Gay's dtoa, mode 0) both pick
/// the shortest digit string that round-trips, closest to the exact value;
/// only the layout differs. The parser accepts any plain decimal layout
/// (`1.5e300`, `1e+16`, `0.0001`, `100.0`) so it does not depend on which
/// layout the serde_json version in use happens to choose.
pub(super) fn write_python_float<W: ?Sized + Write>(w: &mut W, rendered: &[u8]) -> io::Result<()> {
    let bad = || io::Error::new(io::ErrorKind::InvalidData, "unexpected float rendering");

    let (negative, rest) = match rendered.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, rendered),
    };

    // Significant digits without leading zeros; the value is
    // 0.DIGITS * 10^(point + exp), so `point + exp` is Python's `decpt`.
    let mut digits = [0u8; 24];
    let mut n = 0usize;
    let mut point: i32 = 0;
    let mut after_dot = false;
    let mut exp: i32 = 0;
    let mut i = 0;
    while i < rest.len() {
        let b = rest[i];
        match b {
            b'0'..=b'9' => {
                if n == 0 && b == b'0' {
                    if after_dot {
                        point -= 1;
                    }
                } else {
                    if n < digits.len() {
                        digits[n] = b;
                        n += 1;
                    } else if b != b'0' {
                        // More significant digits than any shortest
                        // rendering has: refuse rather than truncate.
                        return Err(bad());
                    }
                    if !after_dot {
                        point += 1;
                    }
                }
            }
            b'.' if !after_dot => after_dot = true,
            b'e' | b'E' => {
                exp = parse_exponent(&rest[i + 1..]).ok_or_else(bad)?;
                break;
            }
            _ => return Err(bad()),
        }
        i += 1;
    }
    while n > 0 && digits[n - 1] == b'0' {
        n -= 1;
    }

    let mut out = [0u8; 40];
    let mut len = 0usize;
    let mut push = |bytes: &[u8]| {
        out[len..len + bytes.len()].copy_from_slice(bytes);
        len += bytes.len();
    };
    if negative {
        push(b"-");
    }
    if n == 0 {
        push(b"0.0");
    } else {
        let digits = &digits[..n];
        let decpt = point + exp;
        let sci_exp = decpt - 1;
        if FIXED_EXP.contains(&sci_exp) {
            if decpt <= 0 {
                push(b"0.");
                for _ in 0..-decpt {
                    push(b"0");
                }
                push(digits);
            } else {
                // `decpt` is in 1..=16 here.
                let int_len = decpt as usize;
                if int_len >= n {
                    push(digits);
                    for _ in n..int_len {
                        push(b"0");
                    }
                    push(b".0");
                } else {
                    push(&digits[..int_len]);
                    push(b".");
                    push(&digits[int_len..]);
                }
            }
        } else {
            push(&digits[..1]);
            if n > 1 {
                push(b".");
                push(&digits[1..]);
            }
            push(if sci_exp < 0 { b"e-" } else { b"e+" });
            let mag = sci_exp.unsigned_abs();
            if mag >= 100 {
                push(&[b'0' + (mag / 100 % 10) as u8]);
            }
            push(&[b'0' + (mag / 10 % 10) as u8, b'0' + (mag % 10) as u8]);
        }
    }
    w.write_all(&out[..len])
}

/// Whether `buf[..len]` is a plain `int.frac` rendering without redundant
/// zeros (the unique fixed layout of its digits, as Python writes it).
///
/// Checking instead of assuming keeps the output independent of serde_json's
/// layout choices. The scan is branch-free on purpose: the bytes were just
/// written by a small `memmove`, and data-dependent branches on them stall.
pub(super) fn is_minimal_fixed(buf: &[u8; SHORTEST_BUF], len: usize) -> bool {
    // Whole-buffer counts with a fixed trip count vectorize to a handful of
    // instructions; the zero padding after `len` is in none of the counts.
    let mut dots = 0u8;
    let mut minus = 0u8;
    let mut digits = 0u8;
    for &b in buf {
        dots += u8::from(b == b'.');
        minus += u8::from(b == b'-');
        digits += u8::from(b.is_ascii_digit());
    }
    let Some(s) = buf.get(..len) else {
        return false;
    };
    let body = match s {
        [b'-', rest @ ..] => rest,
        _ => s,
    };
    let n = body.len();
    n >= 3
        && dots == 1
        && usize::from(dots + minus + digits) == len
        && usize::from(minus) == len - n
        && body[0] != b'.'
        && body[n - 1] != b'.'
        && (body[0] != b'0' || body[1] == b'.')
        && (body[n - 1] != b'0' || body[n - 2] == b'.')
}

/// Parses the exponent part after `e`: optional sign, then decimal digits.
fn parse_exponent(s: &[u8]) -> Option<i32> {
    let (negative, digits) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, s),
    };
    if digits.is_empty() || digits.len() > 5 {
        return None;
    }
    let mut value: i32 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        value = value * 10 + i32::from(d - b'0');
    }
    Some(if negative { -value } else { value })
}
