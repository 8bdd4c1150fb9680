//! One top-level string field of a JSON object line, found by a single
//! validating scan instead of a full deserialization.
//!
//! yelp-top-city needs only `city` from lines of some 700 bytes, and
//! serde_json spends most of its time there skipping the other fields
//! through its generic visitor machinery (`IgnoredAny`, key by key). This
//! scanner walks the bytes once, validating the whole line as JSON while it
//! goes, and reports the field only when it is *certain* that serde_json
//! would have accepted the line with the same value. Anything unusual
//! (an escape in a top-level key or in the field's value, deep nesting, a wrong type, a duplicate field, any
//! syntax error) makes it answer "not sure", and the caller asks serde_json,
//! which stays the one authority on what is malformed and why. A wrong
//! "not sure" costs time; a wrong answer would cost correctness, so the
//! tests compare every answer with serde_json's.

/// What the scan found, on a line that is certainly a valid JSON object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field<'a> {
    /// The field, a string with no escapes, borrowed from the line.
    Str(&'a str),
    /// The field is absent or `null`.
    Absent,
}

/// Nesting deeper than this is left to serde_json (whose limit is 128).
const MAX_DEPTH: u32 = 64;

/// The top-level string field `name` of the object `line`, or `None` when
/// the scan is not sure (see the module docs): then ask serde_json.
pub fn string_field<'a>(line: &'a str, name: &str) -> Option<Field<'a>> {
    let b = line.as_bytes();
    let mut c = Cursor {
        b,
        i: 0,
        plain: plain(b),
    };
    let mut found = None;
    c.ws();
    c.eat(b'{')?;
    c.ws();
    if c.peek() == Some(b'}') {
        c.i += 1;
    } else {
        loop {
            c.eat(b'"')?;
            let start = c.i;
            // An escaped key might unescape to `name`: not sure.
            if c.string()? {
                return None;
            }
            let key = &c.b[start..c.i - 1];
            c.ws();
            c.eat(b':')?;
            c.ws();
            if key == name.as_bytes() {
                // serde's derive rejects a field given twice.
                if found.is_some() {
                    return None;
                }
                found = Some(match c.peek()? {
                    b'"' => {
                        c.i += 1;
                        let start = c.i;
                        if c.string()? {
                            return None;
                        }
                        Field::Str(line.get(start..c.i - 1)?)
                    }
                    b'n' => {
                        c.literal(b"null")?;
                        Field::Absent
                    }
                    _ => return None,
                });
            } else {
                c.member_value(1)?;
            }
            c.ws();
            match c.next()? {
                b',' => c.ws(),
                b'}' => break,
                _ => return None,
            }
        }
    }
    c.ws();
    (c.i == c.b.len()).then_some(found.unwrap_or(Field::Absent))
}

struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
    /// The line has no backslash and no control character, so every
    /// string ends at the next quote.
    plain: bool,
}

/// Whether `b` has no backslash and no byte below 0x20: one pass in
/// 32-byte chunks the compiler vectorizes, cheaper than looking for those
/// bytes string by string.
fn plain(b: &[u8]) -> bool {
    let odd = |acc: u8, &c: &u8| acc | u8::from(c < 0x20) | u8::from(c == b'\\');
    let mut chunks = b.chunks_exact(32);
    for chunk in &mut chunks {
        if chunk.iter().fold(0, odd) != 0 {
            return false;
        }
    }
    chunks.remainder().iter().fold(0, odd) == 0
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// The high bit of each byte of `v` that is zero (exact for the lowest one,
/// which is all `string` looks at).
#[inline(always)]
fn zero_bytes(v: u64) -> u64 {
    v.wrapping_sub(ONES) & !v & HIGHS
}

impl Cursor<'_> {
    #[inline(always)]
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    #[inline(always)]
    fn next(&mut self) -> Option<u8> {
        let c = self.peek()?;
        self.i += 1;
        Some(c)
    }

    #[inline(always)]
    fn eat(&mut self, want: u8) -> Option<()> {
        (self.next()? == want).then_some(())
    }

    #[inline(always)]
    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.i += 1;
        }
    }

    fn literal(&mut self, lit: &[u8]) -> Option<()> {
        let end = self.i + lit.len();
        (self.b.get(self.i..end)? == lit).then(|| self.i = end)
    }

    /// Past the closing quote of a string whose opening quote is behind;
    /// `Some(true)` if it held an escape.
    #[inline(always)]
    fn string(&mut self) -> Option<bool> {
        if self.plain {
            let mut i = self.i;
            while let Some(chunk) = self.b.get(i..i + 8) {
                let v = u64::from_le_bytes(chunk.try_into().ok()?);
                let quotes = zero_bytes(v ^ (ONES * u64::from(b'"')));
                if quotes != 0 {
                    self.i = i + (quotes.trailing_zeros() / 8) as usize + 1;
                    return Some(false);
                }
                i += 8;
            }
            self.i = i + memchr::memchr(b'"', self.b.get(i..)?)? + 1;
            return Some(false);
        }
        self.escaped_string()
    }

    /// [`Cursor::string`] on a line that is not plain.
    fn escaped_string(&mut self) -> Option<bool> {
        let mut escaped = false;
        loop {
            // Eight bytes at a time to the first quote, backslash or
            // control character (which JSON forbids inside strings).
            while let Some(chunk) = self.b.get(self.i..self.i + 8) {
                let v = u64::from_le_bytes(chunk.try_into().ok()?);
                let stops = zero_bytes(v ^ (ONES * u64::from(b'"')))
                    | zero_bytes(v ^ (ONES * u64::from(b'\\')))
                    | (v.wrapping_sub(ONES * 0x20) & !v & HIGHS);
                if stops != 0 {
                    self.i += (stops.trailing_zeros() / 8) as usize;
                    break;
                }
                self.i += 8;
            }
            match self.next()? {
                b'"' => return Some(escaped),
                b'\\' => {
                    escaped = true;
                    match self.next()? {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => {}
                        // Any four hex digits: serde_json checks surrogates
                        // only in strings it decodes, which here bail above.
                        b'u' => {
                            let hex = self.b.get(self.i..self.i + 4)?;
                            if !hex.iter().all(u8::is_ascii_hexdigit) {
                                return None;
                            }
                            self.i += 4;
                        }
                        _ => return None,
                    }
                }
                c if c < 0x20 => return None,
                _ => {}
            }
        }
    }

    fn number(&mut self) -> Option<()> {
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        match self.next()? {
            b'0' => {}
            b'1'..=b'9' => self.digits(),
            _ => return None,
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            self.some_digits()?;
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.i += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.i += 1;
            }
            self.some_digits()?;
        }
        Some(())
    }

    #[inline(always)]
    fn digits(&mut self) {
        while let Some(b'0'..=b'9') = self.peek() {
            self.i += 1;
        }
    }

    fn some_digits(&mut self) -> Option<()> {
        let start = self.i;
        self.digits();
        (self.i > start).then_some(())
    }

    /// [`Cursor::value`], with a string (most values here) scanned
    /// inline instead of through the call and its dispatch.
    #[inline(always)]
    fn member_value(&mut self, depth: u32) -> Option<()> {
        if self.peek() == Some(b'"') {
            self.i += 1;
            return self.string().map(drop);
        }
        self.value(depth)
    }

    /// One value of any kind, at nesting `depth`.
    fn value(&mut self, depth: u32) -> Option<()> {
        match self.next()? {
            b'"' => self.string().map(drop),
            b'{' => self.object(depth + 1),
            b'[' => self.array(depth + 1),
            b't' => self.rest_of(b"rue"),
            b'f' => self.rest_of(b"alse"),
            b'n' => self.rest_of(b"ull"),
            b'-' | b'0'..=b'9' => {
                self.i -= 1;
                self.number()
            }
            _ => None,
        }
    }

    fn rest_of(&mut self, lit: &[u8]) -> Option<()> {
        self.literal(lit)
    }

    fn object(&mut self, depth: u32) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.ws();
        if self.peek() == Some(b'}') {
            self.i += 1;
            return Some(());
        }
        loop {
            self.eat(b'"')?;
            self.string()?;
            self.ws();
            self.eat(b':')?;
            self.ws();
            self.member_value(depth)?;
            self.ws();
            match self.next()? {
                b',' => self.ws(),
                b'}' => return Some(()),
                _ => return None,
            }
        }
    }

    fn array(&mut self, depth: u32) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.ws();
        if self.peek() == Some(b']') {
            self.i += 1;
            return Some(());
        }
        loop {
            self.member_value(depth)?;
            self.ws();
            match self.next()? {
                b',' => self.ws(),
                b']' => return Some(()),
                _ => return None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;

    #[derive(serde::Deserialize)]
    struct CityOnly<'a> {
        #[serde(borrow, default)]
        city: Option<Cow<'a, str>>,
    }

    /// serde_json's verdict, as yelp-top-city reads it.
    fn oracle(line: &str) -> Option<Option<String>> {
        let is_object = line.trim_start().starts_with('{');
        match serde_json::from_str::<CityOnly<'_>>(line) {
            Ok(r) if is_object => Some(r.city.map(Cow::into_owned)),
            _ => None,
        }
    }

    /// Every answer the scanner gives must be serde_json's.
    fn agrees(line: &str) -> bool {
        match string_field(line, "city") {
            None => true,
            Some(f) => {
                let got = match f {
                    Field::Str(s) => Some(s.to_owned()),
                    Field::Absent => None,
                };
                assert_eq!(oracle(line), Some(got), "scanner disagrees with serde_json on {line:?}");
                true
            }
        }
    }

    #[test]
    fn plain_lines_are_answered_and_match_serde() {
        let cases = [
            (r#"{"city":"Phoenix"}"#, Some(Field::Str("Phoenix"))),
            (
                r#" { "a" : [1, -2.5e+3, true, false, null, {"b": {}}, []] , "city" : "Las Vegas" } "#,
                Some(Field::Str("Las Vegas")),
            ),
            (r#"{"city":null,"x":"\"\\\/\b\f\n\r\t\u00e9"}"#, Some(Field::Absent)),
            (r#"{}"#, Some(Field::Absent)),
            (r#"{"x":"\ud800\uDFFF","city":"A"}"#, Some(Field::Str("A"))),
            (r#"{"name":"Café Zoë","city":""}"#, Some(Field::Str(""))),
            (r#"{"n":0,"m":-0.0,"k":1E9}"#, Some(Field::Absent)),
        ];
        for (line, want) in cases {
            assert_eq!(string_field(line, "city"), want, "{line}");
            assert!(agrees(line));
        }
    }

    #[test]
    fn doubtful_or_malformed_lines_are_left_to_serde() {
        for line in [
            r#"{"city":"Montr\u00e9al"}"#,
            r#"{"ci\u0074y":"X"}"#,
            r#"{"city":"A","city":"B"}"#,
            r#"{"city":5}"#,
            r#"{"x":01}"#,
            r#"{"x":1.}"#,
            r#"{"x":.5}"#,
            r#"{"x":-}"#,
            r#"{"x":1e}"#,
            r#"{"x":tru}"#,
            r#"{"x":"a	b"}"#,
            r#"{"x":"\q"}"#,
            r#"{"x":[1,]}"#,
            r#"{"x":1,}"#,
            r#"{"x":1} x"#,
            r#"{"x":1"#,
            r#"{"x" 1}"#,
            r#"["city","A"]"#,
            r#""city""#,
            "",
            r#"{"x":"\u12G4"}"#,
            r#"{"x":"\u+123"}"#,
            r#"{"x":"\u12"}"#,
        ] {
            assert_eq!(string_field(line, "city"), None, "{line}");
        }
        let deep = format!(r#"{{"x":{}1{},"city":"A"}}"#, "[".repeat(100), "]".repeat(100));
        assert_eq!(string_field(&deep, "city"), None);
        let shallow = format!(r#"{{"x":{}1{},"city":"A"}}"#, "[".repeat(60), "]".repeat(60));
        assert_eq!(string_field(&shallow, "city"), Some(Field::Str("A")));
        assert!(agrees(&shallow));
    }

    #[test]
    fn generated_records_take_the_fast_path() {
        let mut data = Vec::new();
        crate::datagen::yelp(&mut data, 1 << 20, 7).expect("generate");
        let text = String::from_utf8(data).expect("utf-8");
        let (mut lines, mut fast) = (0, 0);
        for line in text.lines() {
            lines += 1;
            if string_field(line, "city").is_some() {
                fast += 1;
                assert!(agrees(line));
            } else {
                // Only a city spelled with escapes is left to serde.
                let raw = line.split(r#""city":""#).nth(1).and_then(|rest| rest.split('"').next());
                assert!(raw.is_some_and(|raw| raw.contains('\\')), "fell back on {line}");
            }
        }
        eprintln!("{fast} of {lines} generated lines took the fast path");
        assert!(lines > 1000);
        assert!(
            fast * 100 >= lines * 95,
            "only {fast} of {lines} lines took the fast path"
        );
    }

    /// Random edits of records (bytes cut, doubled or swapped for JSON's
    /// structural characters) never make the scanner disagree, and many of
    /// the edited lines are still answered (so the comparison has teeth).
    #[test]
    fn edited_records_never_disagree() {
        const ALPHABET: &[u8] = br#"{}[]":,\ u0e-.+1tnfA"#;
        let records = [
            &br#"{"business_id":"x1","name":"Joe's \"Diner\"","city":"Tempe","stars":4.5,"review_count":12,"attributes":{"A":"True","B":null,"C":[1,2,{"d":-0.5e-3}]},"hours":{},"is_open":1}"#[..],
            br#"{"a":[],"city":null,"b":"\u00e9\/","c":[true,false,0,-1E+2]}"#,
            br#" {"city" : "X"} "#,
        ];
        let mut state = 0x9E37_79B9_7F4A_7C15_u64;
        let mut rand = |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n as u64) as usize
        };
        let (mut answered, mut tried) = (0, 0);
        for round in 0..60_000 {
            let mut line = records[round % records.len()].to_vec();
            for _ in 0..1 + rand(3) {
                let at = rand(line.len() + 1);
                let byte = ALPHABET[rand(ALPHABET.len())];
                match rand(3) {
                    0 if at < line.len() => drop(line.remove(at)),
                    1 if at < line.len() => line[at] = byte,
                    _ => line.insert(at, byte),
                }
            }
            let line = String::from_utf8(line).expect("ASCII edits of ASCII records");
            tried += 1;
            if string_field(&line, "city").is_some() {
                answered += 1;
            }
            agrees(&line);
        }
        eprintln!("{answered} of {tried} edited lines answered");
        assert!(
            answered * 10 > tried,
            "only {answered} of {tried} edited lines answered"
        );
    }
}
