//! The JSON and plain-text renderings, checked against Python.
//!
//! Expected strings were produced by Python 3.11's `json.dumps` on the
//! equivalent Python value (f32 rows: `json.dumps(float(s))` on the f32's
//! shortest digits `s`, since Python has no f32).

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde::{Serialize, Serializer};

use super::number::{SHORTEST_BUF, is_minimal_fixed, write_python_float};
use super::{write_json, write_text};

fn json<T: Serialize + ?Sized>(value: &T) -> String {
    let mut out = Vec::new();
    write_json(&mut out, value).unwrap();
    String::from_utf8(out).unwrap()
}

fn text<T: Serialize + ?Sized>(value: &T) -> String {
    let mut out = Vec::new();
    write_text(&mut out, value).unwrap();
    String::from_utf8(out).unwrap()
}

#[derive(Serialize)]
struct Point {
    x: i32,
    y: f64,
    name: String,
    tags: Vec<String>,
    extra: Option<u8>,
}

fn point() -> Point {
    Point {
        x: 1,
        y: 2.0,
        name: "pé".to_owned(),
        tags: vec![],
        extra: None,
    }
}

const POINT_JSON: &str = r#"{"x": 1, "y": 2.0, "name": "p\u00e9", "tags": [], "extra": null}"#;

#[derive(Serialize)]
enum E {
    Unit,
    New(i32),
    Seq(Vec<i32>),
    Tup(i32, String),
    Rec { a: u8 },
}

#[derive(Serialize)]
struct Meters(f64);

#[derive(Serialize)]
struct Wrapped(BTreeMap<String, i32>);

#[derive(Serialize)]
struct Pair(&'static str, u8);

#[derive(Serialize)]
struct Marker;

/// A map with float keys, which std maps cannot hold.
struct FloatKeys(Vec<(f64, i32)>);

impl Serialize for FloatKeys {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(k, v)| (k, v)))
    }
}

/// A value whose serialization always fails.
struct Broken;

impl Serialize for Broken {
    fn serialize<S: Serializer>(&self, _s: S) -> Result<S::Ok, S::Error> {
        Err(serde::ser::Error::custom("broken value"))
    }
}

/// A writer that refuses every write.
struct FailingWriter;

impl Write for FailingWriter {
    fn write(&mut self, _buf: &[u8]) -> io::Result<usize> {
        Err(io::Error::other("disk full"))
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn f64_matches_python_repr() {
    let cases: &[(f64, &str)] = &[
        (0.0, "0.0"),
        (-0.0, "-0.0"),
        (1.0, "1.0"),
        (-1.0, "-1.0"),
        (100.0, "100.0"),
        (100000.0, "100000.0"),
        (0.1, "0.1"),
        (0.5, "0.5"),
        (0.3, "0.3"),
        (0.1 + 0.2, "0.30000000000000004"),
        (1.0 / 3.0, "0.3333333333333333"),
        (-2.0 / 3.0, "-0.6666666666666666"),
        (123.456, "123.456"),
        (12345.678, "12345.678"),
        (std::f64::consts::PI, "3.141592653589793"),
        // Lower fixed/scientific switch point: 1e-4 is fixed, below is not.
        (0.001, "0.001"),
        (0.0001, "0.0001"),
        (-0.0001, "-0.0001"),
        (0.00012345, "0.00012345"),
        (1e-4 * 1.0000000000000002, "0.00010000000000000003"),
        (9.999999999999999e-05, "9.999999999999999e-05"),
        (1e-05, "1e-05"),
        (-1.5e-05, "-1.5e-05"),
        (2.5e-05, "2.5e-05"),
        (1e-7, "1e-07"),
        (f64::EPSILON, "2.220446049250313e-16"),
        // Upper switch point: below 1e16 is fixed, 1e16 is not.
        (1e15, "1000000000000000.0"),
        (999999999999999.9, "999999999999999.9"),
        (123456789012345.0, "123456789012345.0"),
        (1234567890123456.8, "1234567890123456.8"),
        (9999999999999998.0, "9999999999999998.0"),
        (1e16 * (1.0 - 2f64.powi(-53)), "9999999999999998.0"),
        (2f64.powi(53) + 1.0, "9007199254740992.0"),
        (1e16, "1e+16"),
        (-1e16, "-1e+16"),
        (12345678901234567.0, "1.2345678901234568e+16"),
        (2f64.powi(63), "9.223372036854776e+18"),
        (1e21, "1e+21"),
        (1e22, "1e+22"),
        (1e23, "1e+23"),
        (1e100, "1e+100"),
        (1e200, "1e+200"),
        (1.5e300, "1.5e+300"),
        (-1.5e300, "-1.5e+300"),
        (1e-100, "1e-100"),
        (f64::MAX, "1.7976931348623157e+308"),
        (f64::MIN, "-1.7976931348623157e+308"),
        (f64::MIN_POSITIVE, "2.2250738585072014e-308"),
        // Largest subnormal, and the two smallest.
        (2.225073858507201e-308, "2.225073858507201e-308"),
        (1e-323, "1e-323"),
        (5e-324, "5e-324"),
    ];
    for &(value, expected) in cases {
        assert_eq!(json(&value), expected, "bits {:#x}", value.to_bits());
    }
}

#[test]
fn f32_uses_its_own_shortest_digits_in_python_layout() {
    let cases: &[(f32, &str)] = &[
        (1.0, "1.0"),
        // Widening to f64 first would print 1.100000023841858.
        (1.1, "1.1"),
        (0.1, "0.1"),
        (-1.5, "-1.5"),
        (0.0001, "0.0001"),
        (1e-5, "1e-05"),
        (123456.79, "123456.79"),
        (16777216.0, "16777216.0"),
        (1e15, "1000000000000000.0"),
        (1e16, "1e+16"),
        (f32::MAX, "3.4028235e+38"),
        (7.0e-39, "7e-39"),
        (1e-45, "1e-45"),
        // Exactly halfway between 2657737.2 and 2657737.3: ties go to
        // the even digit, as ryu and Python's dtoa do.
        (2_657_737.0 + 0.25, "2657737.2"),
    ];
    for &(value, expected) in cases {
        assert_eq!(json(&value), expected, "bits {:#x}", value.to_bits());
    }
}

#[test]
fn non_finite_floats_are_null() {
    assert_eq!(json(&f64::NAN), "null");
    assert_eq!(json(&f64::INFINITY), "null");
    assert_eq!(json(&[f64::NEG_INFINITY]), "[null]");
    assert_eq!(json(&f32::NAN), "null");
}

#[test]
fn float_layout_accepts_any_decimal_rendering() {
    let cases: &[(&str, &str)] = &[
        ("1e16", "1e+16"),
        ("1E+16", "1e+16"),
        ("1.5e300", "1.5e+300"),
        ("0.0001", "0.0001"),
        ("0.00001", "1e-05"),
        ("00100.000", "100.0"),
        ("-0e0", "-0.0"),
        ("12.5e-1", "1.25"),
        ("0.000123e4", "1.23"),
    ];
    for &(rendered, expected) in cases {
        let mut out = Vec::new();
        write_python_float(&mut out, rendered.as_bytes()).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), expected, "{rendered}");
    }
    for (rendered, expected) in [
        ("0.0", true),
        ("-0.0", true),
        ("100.0", true),
        ("0.0001", true),
        ("1234567890123456.8", true),
        ("1.50", false),
        ("01.5", false),
        ("00.5", false),
        ("1.", false),
        (".5", false),
        ("1.2.3", false),
        ("1e5", false),
        ("1.5e5", false),
        ("15", false),
        ("1-0.5", false),
        ("--1.5", false),
        ("-1.5", true),
        ("1.\u{0}5", false),
    ] {
        let mut buf = [0u8; SHORTEST_BUF];
        buf[..rendered.len()].copy_from_slice(rendered.as_bytes());
        assert_eq!(is_minimal_fixed(&buf, rendered.len()), expected, "{rendered}");
    }
    for bad in ["1e", "1x", "1.2.3", "1e+", "1e123456"] {
        let mut out = Vec::new();
        assert!(write_python_float(&mut out, bad.as_bytes()).is_err(), "{bad}");
    }
}

#[test]
fn strings_are_ascii_escaped_like_python() {
    let cases: &[(&str, &str)] = &[
        ("", r#""""#),
        ("plain", r#""plain""#),
        ("Montréal", r#""Montr\u00e9al""#),
        ("😀", r#""\ud83d\ude00""#),
        ("a/b", r#""a/b""#),
        (
            "\u{0}\u{1}\u{1f}\u{7f}\u{80}\u{9f}",
            r#""\u0000\u0001\u001f\u007f\u0080\u009f""#,
        ),
        ("\"\\\n\r\t\u{8}\u{c}", r#""\"\\\n\r\t\b\f""#),
        ("tab\there", r#""tab\there""#),
        ("\u{b}\u{1b}", r#""\u000b\u001b""#),
        ("\u{ffff}", r#""\uffff""#),
        ("\u{10ffff}", r#""\udbff\udfff""#),
        ("\u{2028}\u{2029}", r#""\u2028\u2029""#),
        ("日本語", r#""\u65e5\u672c\u8a9e""#),
        ("naïve café ☕ 𝄞", r#""na\u00efve caf\u00e9 \u2615 \ud834\udd1e""#),
    ];
    for &(value, expected) in cases {
        assert_eq!(json(value), expected, "{value:?}");
    }
    // Longer than the 16-byte plain-block skip, escapes at block edges.
    assert_eq!(
        json("0123456789abcdefé0123456789abcdef\"0123456789abcdef😀tail"),
        r#""0123456789abcdef\u00e90123456789abcdef\"0123456789abcdef\ud83d\ude00tail""#
    );
    assert_eq!(json(&'é'), r#""\u00e9""#);
}

#[test]
fn integers_are_plain_decimal() {
    assert_eq!(json(&0u8), "0");
    assert_eq!(json(&u64::MAX), "18446744073709551615");
    assert_eq!(json(&i64::MIN), "-9223372036854775808");
    assert_eq!(json(&i128::MIN), "-170141183460469231731687303715884105728");
    assert_eq!(json(&u128::MAX), "340282366920938463463374607431768211455");
}

#[test]
fn containers_use_python_separators() {
    assert_eq!(
        json(&(1, (2, (3, Vec::<i32>::new())), BTreeMap::<String, i32>::new())),
        "[1, [2, [3, []]], {}]"
    );
    let mut map = BTreeMap::new();
    map.insert("a", json_value_a());
    assert_eq!(json(&map), r#"{"a": [true, false, null]}"#);
    let nested = serde_json::json!({"nested": {"deep": [{"x": null}]}});
    assert_eq!(json(&nested), r#"{"nested": {"deep": [{"x": null}]}}"#);
    assert_eq!(json(&(Vec::<u8>::new(), BTreeMap::<u8, u8>::new())), "[[], {}]");
    assert_eq!(json(&vec![255u8, 0, 127]), "[255, 0, 127]");
    assert_eq!(json(&[1.0, -0.0, 1e16]), "[1.0, -0.0, 1e+16]");
    let mut escaped_key = BTreeMap::new();
    escaped_key.insert("kéy", "v\n");
    assert_eq!(json(&escaped_key), r#"{"k\u00e9y": "v\n"}"#);
}

fn json_value_a() -> (bool, bool, Option<i32>) {
    (true, false, None)
}

#[test]
fn non_string_keys_are_quoted_like_python() {
    let ints: BTreeMap<i32, &str> = [(1, "a"), (2, "b")].into_iter().collect();
    assert_eq!(json(&ints), r#"{"1": "a", "2": "b"}"#);
    let bools: BTreeMap<bool, i32> = [(false, 0), (true, 1)].into_iter().collect();
    assert_eq!(json(&bools), r#"{"false": 0, "true": 1}"#);
    assert_eq!(json(&FloatKeys(vec![(1.5, 1), (2.0, 2)])), r#"{"1.5": 1, "2.0": 2}"#);
    let mut out = Vec::new();
    assert!(write_json(&mut out, &FloatKeys(vec![(f64::NAN, 1)])).is_err());
}

#[test]
fn options_units_tuples_structs_enums() {
    assert_eq!(json(&Some(5)), "5");
    assert_eq!(json(&None::<i32>), "null");
    assert_eq!(json(&vec![Some(1), None]), "[1, null]");
    assert_eq!(json(&()), "null");
    assert_eq!(json(&Marker), "null");
    assert_eq!(json(&(1, "a", 2.5)), r#"[1, "a", 2.5]"#);
    assert_eq!(json(&Pair("a", 1)), r#"["a", 1]"#);
    assert_eq!(json(&Meters(1.5)), "1.5");
    assert_eq!(json(&point()), POINT_JSON);
    assert_eq!(json(&E::Unit), r#""Unit""#);
    assert_eq!(json(&E::New(3)), r#"{"New": 3}"#);
    assert_eq!(json(&E::Tup(1, "x".to_owned())), r#"{"Tup": [1, "x"]}"#);
    assert_eq!(json(&E::Rec { a: 1 }), r#"{"Rec": {"a": 1}}"#);
}

#[test]
fn text_strings_are_raw() {
    assert_eq!(text("hello"), "hello");
    assert_eq!(text("tab\there\nnewline \"q\""), "tab\there\nnewline \"q\"");
    assert_eq!(text("Montréal 😀"), "Montréal 😀");
    assert_eq!(text(&'é'), "é");
    assert_eq!(text(&E::Unit), "Unit");
    let mut raw = Vec::new();
    struct Bytes;
    impl Serialize for Bytes {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.serialize_bytes(b"a\xffb")
        }
    }
    write_text(&mut raw, &Bytes).unwrap();
    assert_eq!(raw, b"a\xffb");
}

#[test]
fn text_empty_values_write_nothing() {
    assert_eq!(text(&()), "");
    assert_eq!(text(&None::<String>), "");
    assert_eq!(text(&Marker), "");
    assert_eq!(text(&Vec::<String>::new()), "");
}

#[test]
fn text_sequences_are_tab_joined() {
    assert_eq!(text(&("key", 3)), "key\t3");
    assert_eq!(text(&vec!["a", "b"]), "a\tb");
    assert_eq!(text(&(1, 2.5, true, None::<i32>, ())), "1\t2.5\ttrue\t\t");
    assert_eq!(text(&("a", vec![1, 2], ("b", "c"))), "a\t1\t2\tb\tc");
    assert_eq!(text(&Pair("x", 7)), "x\t7");
    assert_eq!(text(&E::Seq(vec![1, 2])), "1\t2");
    assert_eq!(text(&(Some("x"), E::New(4))), "x\t4");
}

#[test]
fn text_scalars_use_json_form() {
    assert_eq!(text(&1e16), "1e+16");
    assert_eq!(text(&1.0f32), "1.0");
    assert_eq!(text(&-0.0), "-0.0");
    assert_eq!(text(&f64::NAN), "null");
    assert_eq!(text(&false), "false");
    assert_eq!(text(&u128::MAX), "340282366920938463463374607431768211455");
    assert_eq!(text(&i128::MIN), "-170141183460469231731687303715884105728");
    assert_eq!(text(&Meters(0.1 + 0.2)), "0.30000000000000004");
}

#[test]
fn text_maps_structs_and_data_variants_use_json() {
    assert_eq!(text(&point()), POINT_JSON);
    assert_eq!(text(&("k", Some(point()))), format!("k\t{POINT_JSON}"));
    let map: BTreeMap<&str, &str> = [("é", "v\t")].into_iter().collect();
    assert_eq!(text(&map), r#"{"\u00e9": "v\t"}"#);
    assert_eq!(
        text(&Wrapped([("a".to_owned(), 1)].into_iter().collect())),
        r#"{"a": 1}"#
    );
    assert_eq!(text(&E::Tup(1, "x".to_owned())), r#"{"Tup": [1, "x"]}"#);
    assert_eq!(text(&E::Rec { a: 1 }), r#"{"Rec": {"a": 1}}"#);
    assert_eq!(text(&E::New(3)), "3");
    assert_eq!(
        text(&vec![serde_json::json!({"a": [1, 2]}), serde_json::json!("s")]),
        "{\"a\": [1, 2]}\ts"
    );
}

#[test]
fn errors_propagate() {
    let mut out = Vec::new();
    let err = write_text(&mut out, &("ok", Broken)).unwrap_err();
    assert!(err.to_string().contains("broken value"), "{err}");
    let err = write_json(&mut out, &Broken).unwrap_err();
    assert!(err.to_string().contains("broken value"), "{err}");
    let err = write_text(&mut out, &("k", FloatKeys(vec![(f64::INFINITY, 1)]))).unwrap_err();
    assert!(err.to_string().contains("finite"), "{err}");
    let err = write_text(&mut FailingWriter, &("a", 1)).unwrap_err();
    assert!(err.is_io(), "{err}");
    let err = write_json(&mut FailingWriter, &1.5).unwrap_err();
    assert!(err.is_io(), "{err}");
    let err = write_text(&mut FailingWriter, &point()).unwrap_err();
    assert!(err.is_io(), "{err}");
}
