//! The key codec's properties (order, prefix-freedom, exact round trips),
//! its pinned byte layouts, and its errors on damaged input.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt::{self, Debug};

use proptest::prelude::*;
use serde::de::{self, DeserializeOwned, IgnoredAny, Visitor};
use serde::{Deserialize, Serialize, ser};

use super::*;

fn check<T: Serialize + DeserializeOwned + Ord + Debug>(a: &T, b: &T) -> std::result::Result<(), TestCaseError> {
    let (ea, eb) = (encode(a).unwrap(), encode(b).unwrap());
    prop_assert_eq!(ea.cmp(&eb), a.cmp(b), "order of {:?} vs {:?}", a, b);
    prop_assert_eq!(&decode::<T>(&ea).unwrap(), a);
    prop_assert_eq!(&decode::<T>(&eb).unwrap(), b);
    if a != b {
        prop_assert!(!ea.starts_with(&eb) && !eb.starts_with(&ea), "{:?} / {:?} prefix", a, b);
    }
    Ok(())
}

/// Every proper prefix of a key, and the key with a byte appended, must be
/// rejected, never decoded as something else and never a panic.
fn check_damaged<T: DeserializeOwned + Debug>(bytes: &[u8]) {
    for cut in 0..bytes.len() {
        let res = decode::<T>(&bytes[..cut]);
        assert!(res.is_err(), "{bytes:?} cut at {cut} decoded as {res:?}");
    }
    let mut longer = bytes.to_vec();
    longer.push(0);
    let err = decode::<T>(&longer).unwrap_err().to_string();
    assert!(err.contains("trailing bytes after key"), "{err}");
}

/// A user key type deriving `Ord`: structs and enums order field by field
/// and variant by variant.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
enum Event {
    Start,
    Click { x: u16, y: i32 },
    Named(String),
    Pair(u8, Option<String>),
}

fn event() -> impl Strategy<Value = Event> {
    prop_oneof![
        Just(Event::Start),
        (any::<u16>(), any::<i32>()).prop_map(|(x, y)| Event::Click { x, y }),
        "[a-c\\x00]{0,12}".prop_map(Event::Named),
        (any::<u8>(), proptest::option::of("[a\\x00]{0,3}")).prop_map(|(n, s)| Event::Pair(n, s)),
    ]
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
struct Unit;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
struct Wrapper(String);

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
struct Point(i16, u8);

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
struct Record {
    name: String,
    n: i64,
    tags: Vec<String>,
    flag: bool,
    unit: Unit,
    wrapped: Wrapper,
    point: Point,
    inner: Option<(u8, String)>,
}

fn record() -> impl Strategy<Value = Record> {
    (
        "[ab\\x00]{0,4}",
        any::<i64>(),
        proptest::collection::vec("[ab\\x00]{0,3}", 0..3),
        any::<bool>(),
        "[a\\x00]{0,2}",
        (any::<i16>(), any::<u8>()),
        proptest::option::of((any::<u8>(), "[ab]{0,2}")),
    )
        .prop_map(|(name, n, tags, flag, w, (p, q), inner)| Record {
            name,
            n,
            tags,
            flag,
            unit: Unit,
            wrapped: Wrapper(w),
            point: Point(p, q),
            inner,
        })
}

/// Serializes through `serialize_bytes`, as `serde_bytes` does.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Bytes(Vec<u8>);

impl Serialize for Bytes {
    fn serialize<S: ser::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_bytes(&self.0)
    }
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Bytes;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("bytes")
            }
            fn visit_bytes<E: de::Error>(self, v: &[u8]) -> std::result::Result<Bytes, E> {
                Ok(Bytes(v.to_vec()))
            }
        }
        d.deserialize_bytes(V)
    }
}

/// Serializes through `collect_str`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Shown(String);

impl Serialize for Shown {
    fn serialize<S: ser::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(&format_args!("{}{}", self.0, "!"))
    }
}

fn byte_strings() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(prop_oneof![Just(0u8), Just(1), Just(0xFF), any::<u8>()], 0..12)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn integers(a: i64, b: i64, c: u64, d: u64, e: i8, f: i8, g: u8, h: u8, i: i128, j: i128, k: u128, l: u128) {
        check(&a, &b)?;
        check(&c, &d)?;
        check(&e, &f)?;
        check(&g, &h)?;
        check(&i, &j)?;
        check(&k, &l)?;
        check(&(a as i32), &(b as i32))?;
        check(&(a as i16), &(b as i16))?;
        check(&(c as u16), &(d as u16))?;
        check(&(c as u32), &(d as u32))?;
    }

    #[test]
    fn strings(a in "[a-c\\x00\\xff\u{e9}\u{1f600}]{0,20}", b in "[a-c\\x00\\xff\u{e9}\u{1f600}]{0,20}") {
        check(&a, &b)?;
        // Shared prefixes are the interesting case.
        let longer = format!("{a}{b}");
        check(&a, &longer)?;
        check(&format!("{a}\0"), &format!("{a}\x01"))?;
    }

    #[test]
    fn byte_strings_through_serialize_bytes(a in byte_strings(), b in byte_strings()) {
        check(&Bytes(a.clone()), &Bytes(b.clone()))?;
        let mut ext = a.clone();
        ext.push(0);
        check(&Bytes(a.clone()), &Bytes(ext))?;
        let mut joined = a.clone();
        joined.extend_from_slice(&b);
        check(&Bytes(a), &Bytes(joined))?;
    }

    #[test]
    fn collect_str_matches_serialize_str(a in "[a\\x00\u{e9}]{0,20}") {
        prop_assert_eq!(encode(&Shown(a.clone())).unwrap(), encode(&format!("{a}!")).unwrap());
    }

    #[test]
    fn bytes_bools_units_chars(a: Vec<u8>, b: Vec<u8>, x: bool, y: bool, c: char, d: char) {
        check(&a, &b)?;
        let mut ext = a.clone();
        ext.push(0);
        check(&a, &ext)?;
        check(&x, &y)?;
        check(&(), &())?;
        check(&Unit, &Unit)?;
        check(&c, &d)?;
    }

    #[test]
    fn options_and_tuples(a: Option<u32>, b: Option<u32>, s in "[ab]{0,9}", t in "[ab]{0,9}", n: i16, m: i16) {
        check(&a, &b)?;
        check(&(s.clone(), n), &(t.clone(), m))?;
        check(&(a, s.clone(), ()), &(b, t.clone(), ()))?;
        check(&Some((s.clone(), n)), &Some((t.clone(), m)))?;
        check(&Some(Some(s.clone())), &Some(None))?;
        check(&vec![s.clone(), t.clone()], &vec![t, s])?;
    }

    #[test]
    fn sequences_and_maps(
        a in proptest::collection::vec("[a\\x00]{0,3}", 0..5),
        b in proptest::collection::vec("[a\\x00]{0,3}", 0..5),
        m in proptest::collection::btree_map("[ab\\x00]{0,3}", any::<u8>(), 0..4),
        n in proptest::collection::btree_map("[ab\\x00]{0,3}", any::<u8>(), 0..4),
        nested in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..3), 0..3),
    ) {
        check(&a, &b)?;
        let mut ext = a.clone();
        ext.push(String::new());
        check(&a, &ext)?;
        check(&m, &n)?;
        check(&nested, &vec![])?;
        check(&(m, a), &(n, b))?;
    }

    #[test]
    fn derived_structs_and_enums(a in event(), b in event(), r in record(), s in record()) {
        check(&a, &b)?;
        check(&r, &s)?;
        check(&(a, r), &(b, s))?;
    }

    #[test]
    fn floats_sort_by_total_order_and_round_trip_exactly(a: u64, b: u64, c: u32, d: u32) {
        let (x, y) = (f64::from_bits(a), f64::from_bits(b));
        let (ex, ey) = (encode(&x).unwrap(), encode(&y).unwrap());
        prop_assert_eq!(ex.cmp(&ey), x.total_cmp(&y));
        prop_assert_eq!(decode::<f64>(&ex).unwrap().to_bits(), a);
        let (x, y) = (f32::from_bits(c), f32::from_bits(d));
        let (ex, ey) = (encode(&x).unwrap(), encode(&y).unwrap());
        prop_assert_eq!(ex.cmp(&ey), x.total_cmp(&y));
        prop_assert_eq!(decode::<f32>(&ex).unwrap().to_bits(), c);
    }

    #[test]
    fn decode_in_place_matches_decode(a in "[ab\\x00\u{e9}]{0,12}", b in "[ab\\x00]{0,12}", r in record()) {
        let mut place = (String::from("old"), String::from("older"));
        decode_in_place(&encode(&(&a, &b)).unwrap(), &mut place).unwrap();
        prop_assert_eq!(&place, &(a, b));
        let mut rec = Record {
            name: "x".into(),
            n: 0,
            tags: vec![],
            flag: false,
            unit: Unit,
            wrapped: Wrapper(String::new()),
            point: Point(0, 0),
            inner: None,
        };
        decode_in_place(&encode(&r).unwrap(), &mut rec).unwrap();
        prop_assert_eq!(rec, r);
    }
}

#[test]
fn float_order_endpoints() {
    let order = [
        f64::from_bits(u64::MAX),
        f64::NEG_INFINITY,
        f64::MIN,
        -1.0,
        -f64::MIN_POSITIVE,
        -0.0,
        0.0,
        f64::MIN_POSITIVE,
        1.0,
        f64::MAX,
        f64::INFINITY,
        f64::NAN,
    ];
    let enc: Vec<Vec<u8>> = order.iter().map(|f| encode(f).unwrap()).collect();
    assert!(enc.windows(2).all(|w| w[0] < w[1]), "{enc:?}");
}

#[test]
fn pinned_layouts() {
    assert_eq!(encode("ab").unwrap(), [0x61, 0x62, 0x00, 0x01]);
    assert_eq!(encode("a\0").unwrap(), [0x61, 0x00, 0xFF, 0x00, 0x01]);
    assert_eq!(encode("").unwrap(), [0x00, 0x01]);
    assert_eq!(encode(&Bytes(vec![0, 0xFF])).unwrap(), [0x00, 0xFF, 0xFF, 0x00, 0x01]);
    assert_eq!(encode(&-1i32).unwrap(), [0x7F, 0xFF, 0xFF, 0xFF]);
    assert_eq!(encode(&0i8).unwrap(), [0x80]);
    assert_eq!(encode(&258u16).unwrap(), [0x01, 0x02]);
    assert_eq!(encode(&Some(3u8)).unwrap(), [0x01, 0x03]);
    assert_eq!(encode(&None::<u8>).unwrap(), [0x00]);
    assert_eq!(encode(&vec!["x"]).unwrap(), [0x01, 0x78, 0x00, 0x01, 0x00]);
    assert_eq!(encode(&Vec::<u8>::new()).unwrap(), [0x00]);
    assert_eq!(
        encode(&BTreeMap::from([("k", 7u8)])).unwrap(),
        [0x01, 0x6B, 0x00, 0x01, 0x07, 0x00]
    );
    assert_eq!(encode(&true).unwrap(), [0x01]);
    assert_eq!(encode(&'a').unwrap(), [0x00, 0x00, 0x00, 0x61]);
    assert_eq!(encode(&()).unwrap(), [] as [u8; 0]);
    assert_eq!(encode(&Unit).unwrap(), [] as [u8; 0]);
    assert_eq!(encode(&Wrapper("a".into())).unwrap(), [0x61, 0x00, 0x01]);
    assert_eq!(encode(&("a", 1u8)).unwrap(), [0x61, 0x00, 0x01, 0x01]);
    assert_eq!(encode(&1.0f64).unwrap(), [0xBF, 0xF0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(
        encode(&-1.0f64).unwrap(),
        [0x40, 0x0F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]
    );
    assert_eq!(encode(&Event::Start).unwrap(), [0x00]);
    assert_eq!(
        encode(&Event::Click { x: 1, y: -1 }).unwrap(),
        [0x01, 0x00, 0x01, 0x7F, 0xFF, 0xFF, 0xFF]
    );
    assert_eq!(encode(&Event::Named("b".into())).unwrap(), [0x02, 0x62, 0x00, 0x01]);
    assert_eq!(encode(&Event::Pair(5, None)).unwrap(), [0x03, 0x05, 0x00]);
}

#[test]
fn encode_into_appends_and_restores_on_error() {
    let mut out = vec![9, 9];
    encode_into("a", &mut out).unwrap();
    assert_eq!(out, [9, 9, 0x61, 0x00, 0x01]);

    struct Huge;
    impl Serialize for Huge {
        fn serialize<S: ser::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
            s.serialize_unit_variant("Huge", 300, "V300")
        }
    }
    let err = encode_into(&("prefix", Huge), &mut out).unwrap_err().to_string();
    assert!(
        err.contains("cannot encode key") && err.contains("Huge::V300") && err.contains("256"),
        "{err}"
    );
    assert_eq!(out, [9, 9, 0x61, 0x00, 0x01]);
}

#[test]
fn nul_free_strings_encode_with_one_reservation() {
    let s = "x".repeat(99);
    let mut out = Vec::new();
    encode_into(&s, &mut out).unwrap();
    assert_eq!(out.capacity(), 101);
}

#[test]
fn decode_in_place_reuses_allocations() {
    let mut place = (String::with_capacity(64), String::with_capacity(64));
    let ptrs = (place.0.as_ptr(), place.1.as_ptr());
    for (a, b) in [
        ("hello", "world"),
        ("a\0b", ""),
        ("", "\0\0"),
        ("x".repeat(64).as_str(), "y"),
    ] {
        let key = encode(&(a, b)).unwrap();
        decode_in_place(&key, &mut place).unwrap();
        assert_eq!((place.0.as_str(), place.1.as_str()), (a, b));
        assert_eq!((place.0.as_ptr(), place.1.as_ptr()), ptrs);
        assert_eq!((place.0.capacity(), place.1.capacity()), (64, 64));
    }

    let mut one = String::with_capacity(16);
    let ptr = one.as_ptr();
    decode_in_place(&encode("word").unwrap(), &mut one).unwrap();
    assert_eq!((one.as_str(), one.as_ptr()), ("word", ptr));

    let mut words = vec![String::with_capacity(16), String::with_capacity(16)];
    let ptrs: Vec<*const u8> = words.iter().map(|w| w.as_ptr()).collect();
    decode_in_place(&encode(&vec!["ab", "c\0"]).unwrap(), &mut words).unwrap();
    assert_eq!(words, ["ab", "c\0"]);
    assert_eq!(words.iter().map(|w| w.as_ptr()).collect::<Vec<_>>(), ptrs);
    decode_in_place(&encode(&vec!["z"]).unwrap(), &mut words).unwrap();
    assert_eq!(words, ["z"]);

    let err = decode_in_place(&[0x61, 0x00, 0x01, 0x00], &mut one)
        .unwrap_err()
        .to_string();
    assert!(err.contains("trailing bytes after key"), "{err}");
}

#[test]
fn nul_free_strings_decode_without_copying() {
    let key = encode(&("borrowed", 7u8)).unwrap();
    let mut place: (&str, u8) = ("", 0);
    decode_in_place(&key, &mut place).unwrap();
    assert_eq!(place, ("borrowed", 7));
    assert!(key.as_ptr_range().contains(&place.0.as_ptr()));

    let mut bytes: &[u8] = &[];
    let key = encode(&Bytes(b"raw".to_vec())).unwrap();
    decode_in_place(&key, &mut bytes).unwrap();
    assert_eq!(bytes, b"raw");

    // An escaped NUL cannot be borrowed; the visitor of `&str` says so.
    let key = encode("a\0").unwrap();
    let mut s: &str = "";
    assert!(decode_in_place(&key, &mut s).is_err());
    assert_eq!(decode::<String>(&key).unwrap(), "a\0");
}

#[test]
fn damaged_keys_are_errors_not_panics() {
    check_damaged::<String>(&encode("ab\0c\0").unwrap());
    check_damaged::<(String, String)>(&encode(&("x\0", "\0y")).unwrap());
    check_damaged::<Vec<String>>(&encode(&vec!["a", "", "\0"]).unwrap());
    check_damaged::<BTreeMap<String, i32>>(&encode(&BTreeMap::from([("k", -1), ("\0", 2)])).unwrap());
    check_damaged::<Option<u32>>(&encode(&Some(5u32)).unwrap());
    check_damaged::<Option<u32>>(&encode(&None::<u32>).unwrap());
    check_damaged::<f64>(&encode(&-2.5f64).unwrap());
    check_damaged::<(i128, char, bool)>(&encode(&(-7i128, 'é', true)).unwrap());
    check_damaged::<Event>(&encode(&Event::Click { x: 3, y: 4 }).unwrap());
    check_damaged::<Event>(&encode(&Event::Pair(1, Some("\0".into()))).unwrap());
    check_damaged::<Bytes>(&encode(&Bytes(vec![0, 0, 1])).unwrap());
    check_damaged::<Record>(
        &encode(&Record {
            name: "n\0".into(),
            n: -3,
            tags: vec!["t".into()],
            flag: true,
            unit: Unit,
            wrapped: Wrapper("w".into()),
            point: Point(-1, 2),
            inner: Some((1, "i".into())),
        })
        .unwrap(),
    );
}

fn decode_err<T: DeserializeOwned + Debug>(bytes: &[u8]) -> String {
    let err = decode::<T>(bytes).unwrap_err().to_string();
    assert!(err.contains("cannot decode key: "), "{err}");
    err
}

#[test]
fn malformed_keys_have_clear_errors() {
    let err = decode_err::<String>(b"ab");
    assert!(err.contains("key ends inside a string starting at byte 0"), "{err}");
    let err = decode_err::<String>(b"ab\0");
    assert!(err.contains("key ends inside a string"), "{err}");
    let err = decode_err::<String>(b"a\0\xFFb\0");
    assert!(err.contains("key ends inside a string"), "{err}");
    let err = decode_err::<String>(b"ab\0\x02");
    assert!(err.contains("invalid escape 0x00 0x02 at byte 2"), "{err}");
    let err = decode_err::<(u8, String)>(b"\x07a\0\xFF\0\x00");
    assert!(
        err.contains("invalid escape 0x00 0x00 at byte 4 in a string starting at byte 1"),
        "{err}"
    );
    let err = decode_err::<Bytes>(b"\0\x80\0\x01");
    assert!(err.contains("invalid escape 0x00 0x80"), "{err}");

    let err = decode_err::<String>(b"\xFF\0\x01");
    assert!(err.contains("invalid UTF-8 in a string key"), "{err}");
    // The same bytes on the unescaping path.
    let err = decode_err::<String>(b"\xC3\0\xFF\0\x01");
    assert!(err.contains("invalid UTF-8 in a string key"), "{err}");
    assert_eq!(decode::<Bytes>(b"\xFF\0\x01").unwrap(), Bytes(vec![0xFF]));

    let err = decode_err::<u32>(&[0, 0, 0, 1, 5]);
    assert!(
        err.contains("trailing bytes after key: 1 left over at byte 4 of 5"),
        "{err}"
    );
    let err = decode_err::<u32>(&[0, 0]);
    assert!(err.contains("expected u32 (4 bytes) at byte 0, 2 left"), "{err}");
    let err = decode_err::<bool>(&[2]);
    assert!(err.contains("invalid bool 0x02 at byte 0"), "{err}");
    let err = decode_err::<(u8, Option<u8>)>(&[0, 2, 0]);
    assert!(err.contains("invalid option tag 0x02 at byte 1"), "{err}");
    let err = decode_err::<Vec<u8>>(&[1, 5, 7]);
    assert!(err.contains("invalid sequence element tag 0x07 at byte 2"), "{err}");
    let err = decode_err::<BTreeMap<u8, u8>>(&[3]);
    assert!(err.contains("invalid map entry tag 0x03"), "{err}");
    let err = decode_err::<char>(&[0, 0, 0xD8, 0]);
    assert!(err.contains("invalid char 0x0000d800"), "{err}");
    let err = decode_err::<Event>(&[9]);
    assert!(err.contains("variant index"), "{err}");
    let err = decode_err::<IgnoredAny>(&[0]);
    assert!(err.contains("not self-describing"), "{err}");
    let err = decode_err::<serde_untagged::Either>(&[0]);
    assert!(err.contains("not self-describing"), "{err}");
}

mod serde_untagged {
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(untagged)]
    pub enum Either {
        Number(#[allow(dead_code)] u8),
        Text(#[allow(dead_code)] String),
    }
}

#[test]
fn ordering_across_escapes() {
    // NUL sorts below every other byte, and a string below its extensions.
    let keys = [
        "", "\0", "\0\0", "\0\x01", "\x01", "a", "a\0", "a\0b", "a\x01", "ab", "\u{ff}",
    ];
    let enc: Vec<Vec<u8>> = keys.iter().map(|k| encode(k).unwrap()).collect();
    for (i, a) in enc.iter().enumerate() {
        for (j, b) in enc.iter().enumerate() {
            assert_eq!(a.cmp(b), i.cmp(&j), "{:?} vs {:?}", keys[i], keys[j]);
        }
    }
    assert_eq!(Ordering::Less, encode(&1u8).unwrap().cmp(&encode(&2u8).unwrap()));
}

#[test]
fn strings_of_every_short_length_escape_each_nul() {
    // The short-key path covers 0..=16 bytes in three shapes; a NUL at any
    // position must still be escaped, and the bytes kept in order.
    for len in 0..=20usize {
        let base: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
        let mut variants = vec![base.clone()];
        for at in 0..len {
            let mut v = base.clone();
            v[at] = 0;
            variants.push(v);
        }
        for bytes in variants {
            let s = String::from_utf8(bytes.clone()).unwrap();
            let mut want = Vec::new();
            for &b in &bytes {
                want.push(b);
                if b == 0 {
                    want.push(0xFF);
                }
            }
            want.extend_from_slice(&[0, 1]);
            assert_eq!(encode(&s).unwrap(), want, "{bytes:?}");
            // Into a buffer with room, as the emitter's: the short path.
            let mut roomy = Vec::with_capacity(64);
            roomy.push(7);
            encode_into(&s, &mut roomy).unwrap();
            assert_eq!(roomy[1..], want[..], "{bytes:?} after a byte");
            assert_eq!(decode::<String>(&want).unwrap(), s);
        }
    }
}
