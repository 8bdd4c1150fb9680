//! The key codec (`src/codec/key/mod.rs`): decoding arbitrary bytes as a key
//! type gives a value or an error, never a panic; and whenever it gives a
//! value, the module's guarantees hold for it:
//!
//! - the encoding is canonical: re-encoding the value gives back exactly
//!   the bytes it was decoded from (for every type here but maps, whose
//!   decoder accepts duplicate and unsorted keys);
//! - prefix-freedom: every proper prefix of those bytes, and the bytes with
//!   one more byte, fail to decode;
//! - `decode_in_place` over any previous value agrees with `decode`;
//! - order: for two decoded values `a`, `b`, `enc(a).cmp(&enc(b)) ==
//!   a.cmp(&b)` (`total_cmp` for floats), and when `a != b` neither
//!   encoding is a prefix of the other.
//!
//! Input: a type selector byte, the length `n` of the first key, then the
//! first key (`n` bytes) and the second (the rest).

use std::collections::BTreeMap;
use std::fmt::{self, Debug};

use mapreduce::codec::key::{decode, decode_in_place, encode};
use mapreduce::prelude::{InputFormat, Pairs};
use serde::de::{self, DeserializeOwned};
use serde::{Deserialize, Serialize, ser};

use super::Bytes;

/// A derived enum, as a user key type: variants in order, then fields.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Event {
    Start,
    Click { x: u16, y: i32 },
    Named(String),
    Pair(u8, Option<String>),
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Unit;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Wrapper(String);

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Point(i16, u8);

/// A derived struct with every kind of field.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Record {
    name: String,
    n: i64,
    tags: Vec<String>,
    flag: bool,
    unit: Unit,
    wrapped: Wrapper,
    point: Point,
    inner: Option<(u8, String)>,
    event: Event,
}

/// Serializes through `serialize_bytes`, as `serde_bytes` does, so the
/// compact byte-string layout is reached.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ByteString(Vec<u8>);

impl Serialize for ByteString {
    fn serialize<S: ser::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(&self.0)
    }
}

impl<'de> Deserialize<'de> for ByteString {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl de::Visitor<'_> for V {
            type Value = ByteString;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("bytes")
            }
            fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<ByteString, E> {
                Ok(ByteString(v.to_vec()))
            }
        }
        d.deserialize_bytes(V)
    }
}

/// The number of key types `check` picks from.
const TYPES: u8 = 19;

pub fn check(data: &[u8]) {
    let mut b = Bytes::new(data);
    let which = b.u8() % TYPES;
    let n = usize::from(b.u8());
    let first = b.take(n);
    let second = b.rest();
    match which {
        0 => ordered::<String>(first, second),
        1 => ordered::<u64>(first, second),
        2 => ordered::<i64>(first, second),
        3 => ordered::<(String, u64)>(first, second),
        4 => ordered::<(i64, String, bool)>(first, second),
        5 => ordered::<Vec<String>>(first, second),
        6 => ordered::<Vec<u8>>(first, second),
        7 => ordered::<Option<String>>(first, second),
        8 => ordered::<Option<(u8, String)>>(first, second),
        9 => ordered::<Event>(first, second),
        10 => ordered::<Record>(first, second),
        11 => ordered::<(char, i128, u128)>(first, second),
        12 => ordered::<(i8, u16, i32, u8, bool)>(first, second),
        13 => ordered::<Vec<Option<Event>>>(first, second),
        14 => ordered::<(ByteString, [u16; 3], (), Unit, Wrapper)>(first, second),
        15 => ordered::<Vec<Vec<u8>>>(first, second),
        16 => floats(first, second),
        17 => maps(first, second),
        _ => pairs(first, second),
    }
}

/// Decodes both keys as `T`; checks each, and their order when both decode.
fn ordered<T: Serialize + DeserializeOwned + Ord + Debug + Clone>(x: &[u8], y: &[u8]) {
    let a = decoded::<T>(x);
    let b = decoded::<T>(y);
    if let (Some(a), Some(b)) = (&a, &b) {
        let (ea, eb) = (encode(a).expect("re-encode"), encode(b).expect("re-encode"));
        assert_eq!(ea.cmp(&eb), a.cmp(b), "byte order vs Ord of {a:?} and {b:?}");
        if a != b {
            assert!(
                !ea.starts_with(&eb) && !eb.starts_with(&ea),
                "{a:?} and {b:?}: one encoding is a prefix of the other"
            );
        }
        // In place over a different value: a String or Vec reused, not
        // appended to.
        let mut place = b.clone();
        decode_in_place(x, &mut place).expect("decode_in_place of a key decode accepts");
        assert_eq!(&place, a, "decode_in_place over {b:?}");
    }
}

/// `bytes` decoded as `T`, if they decode, after checking the invariants
/// that hold for one key.
fn decoded<T: Serialize + DeserializeOwned + Debug + Clone + PartialEq>(bytes: &[u8]) -> Option<T> {
    let v = decode::<T>(bytes).ok()?;
    let again = encode(&v).expect("a decoded key re-encodes");
    assert_eq!(again, bytes, "decode then encode of {v:?} is not the identity");
    prefix_free::<T>(bytes);
    let mut place = v.clone();
    decode_in_place(bytes, &mut place).expect("decode_in_place of a key decode accepts");
    assert_eq!(place, v, "decode_in_place over itself");
    Some(v)
}

/// No proper prefix of a valid key decodes, nor the key with a byte added.
fn prefix_free<T: DeserializeOwned + Debug>(bytes: &[u8]) {
    // All cuts of short keys, a sample of long ones, so that one exec stays
    // linear-ish in the input.
    let step = (bytes.len() / 256).max(1);
    for cut in (0..bytes.len())
        .step_by(step)
        .chain(bytes.len().saturating_sub(3)..bytes.len())
    {
        if let Ok(v) = decode::<T>(&bytes[..cut]) {
            panic!("{bytes:?} cut at {cut} decoded as {v:?}");
        }
    }
    let mut longer = bytes.to_vec();
    longer.push(0);
    if let Ok(v) = decode::<T>(&longer) {
        panic!("{bytes:?} with a 0 appended decoded as {v:?}");
    }
}

/// Floats: exact bits back, and `total_cmp` order.
fn floats(x: &[u8], y: &[u8]) {
    fn one<F: Serialize + DeserializeOwned + Debug + Copy + PartialEq>(bytes: &[u8]) -> Option<F> {
        let v = decode::<F>(bytes).ok()?;
        assert_eq!(encode(&v).expect("re-encode"), bytes, "float {v:?} is not canonical");
        prefix_free::<F>(bytes);
        Some(v)
    }
    if let (Some(a), Some(b)) = (one::<f64>(x), one::<f64>(y)) {
        assert_eq!(
            encode(&a).expect("encode").cmp(&encode(&b).expect("encode")),
            a.total_cmp(&b)
        );
    }
    if let (Some(a), Some(b)) = (one::<f32>(x), one::<f32>(y)) {
        assert_eq!(
            encode(&a).expect("encode").cmp(&encode(&b).expect("encode")),
            a.total_cmp(&b)
        );
    }
    // Floats inside a sequence and an option.
    if let Some(v) = one_loose::<Vec<Option<f64>>>(x) {
        let bits: Vec<Option<u64>> = v.iter().map(|f| f.map(f64::to_bits)).collect();
        let back: Vec<Option<f64>> = decode(&encode(&v).expect("re-encode")).expect("decode");
        let back_bits: Vec<Option<u64>> = back.iter().map(|f| f.map(f64::to_bits)).collect();
        assert_eq!(bits, back_bits, "floats in a sequence lost bits");
    }
}

/// Decodes without the canonical check, for types without `PartialEq` on
/// the bits.
fn one_loose<T: DeserializeOwned>(bytes: &[u8]) -> Option<T> {
    decode::<T>(bytes).ok()
}

/// Maps: the decoder takes duplicate and unsorted keys (the last one wins),
/// so only what was re-encoded is canonical, and it must decode to the
/// same map.
fn maps(x: &[u8], y: &[u8]) {
    for bytes in [x, y] {
        if let Ok(m) = decode::<BTreeMap<String, u8>>(bytes) {
            let e = encode(&m).expect("re-encode a map");
            assert_eq!(decode::<BTreeMap<String, u8>>(&e).expect("decode a re-encoded map"), m);
            prefix_free::<BTreeMap<String, u8>>(&e);
        }
        if let Ok(m) = decode::<BTreeMap<(u8, String), Vec<Option<String>>>>(bytes) {
            let e = encode(&m).expect("re-encode a map");
            assert_eq!(
                decode::<BTreeMap<(u8, String), Vec<Option<String>>>>(&e).expect("decode"),
                m
            );
        }
    }
}

/// A previous step's output as the next step reads it: a key-codec key and
/// a bincode value (`Pairs::from_pair`), from arbitrary bytes: an error or
/// a pair, never a panic.
///
/// Values with strings and byte buffers included: bincode allocates the
/// length a string claims before reading it, which this target found
/// panicking on a crafted length until the value codec got a decode limit
/// (`issue8_fuzz_huge_string_length_in_a_value` in `src/codec/value.rs`).
fn pairs(key: &[u8], value: &[u8]) {
    let _ = <Pairs<(String, u64), Vec<u64>> as InputFormat>::from_pair(key, value);
    let _ = <Pairs<u64, (String, Vec<String>, Option<String>)> as InputFormat>::from_pair(key, value);
    let _ = <Pairs<String, ByteString> as InputFormat>::from_pair(key, value);
    let _ = <Pairs<Event, (u8, Option<f64>, i64, char)> as InputFormat>::from_pair(key, value);
    let _ = <Pairs<Vec<u8>, BTreeMap<u16, Vec<Option<i32>>>> as InputFormat>::from_pair(key, value);
}

fn seed<T: Serialize>(which: u8, a: &T, b: &T) -> Vec<u8> {
    let (ea, eb) = (encode(a).expect("encode a seed"), encode(b).expect("encode a seed"));
    let n = u8::try_from(ea.len()).expect("a seed key under 256 bytes");
    let mut out = vec![which, n];
    out.extend_from_slice(&ea);
    out.extend_from_slice(&eb);
    out
}

/// Two real encoded keys of every type.
pub fn seeds() -> Vec<Vec<u8>> {
    let s = |v: &str| v.to_owned();
    let record = |name: &str, n: i64, event: Event| Record {
        name: name.into(),
        n,
        tags: vec!["t".into(), "a\0b".into()],
        flag: n > 0,
        unit: Unit,
        wrapped: Wrapper("w".into()),
        point: Point(-1, 2),
        inner: Some((1, "i".into())),
        event,
    };
    let mut out = vec![
        seed(0, &s("apple"), &s("a\0pple")),
        seed(1, &7u64, &u64::MAX),
        seed(2, &-5i64, &3i64),
        seed(3, &(s("city"), 3u64), &(s("city"), 2u64)),
        seed(4, &(-1i64, s("x"), true), &(-1i64, s(""), false)),
        seed(5, &vec![s("a"), s("")], &vec![s("a")]),
        seed(6, &vec![0u8, 1, 255], &vec![]),
        seed(7, &Some(s("s")), &None),
        seed(8, &Some((4u8, s("\0"))), &None),
        seed(9, &Event::Click { x: 1, y: -2 }, &Event::Pair(3, Some(s("p")))),
        seed(
            10,
            &record("r", 5, Event::Start),
            &record("r\0", -5, Event::Named(s("n"))),
        ),
        seed(11, &('é', -7i128, 9u128), &('a', 0, 0)),
        seed(12, &(-1i8, 2u16, -3i32, 4u8, false), &(1i8, 0u16, 0i32, 0u8, true)),
        seed(13, &vec![Some(Event::Start), None], &vec![None]),
        seed(
            14,
            &(ByteString(vec![0, 1, 2]), [1u16, 2, 3], (), Unit, Wrapper(s("w"))),
            &(ByteString(vec![]), [0u16; 3], (), Unit, Wrapper(s(""))),
        ),
        seed(15, &vec![vec![1u8], vec![]], &vec![]),
        seed(16, &-2.5f64, &f64::NAN),
        seed(17, &BTreeMap::from([(s("k"), 1u8), (s("\0"), 2)]), &BTreeMap::new()),
    ];
    // A key, then a bincode `Vec<u64>` (varint lengths and numbers) for
    // `from_pair`.
    let key = encode(&(s("k"), 1u64)).expect("encode");
    let mut pair = vec![18, u8::try_from(key.len()).expect("short key")];
    pair.extend_from_slice(&key);
    pair.extend_from_slice(&[2, 1, 0xfb, 0x00, 0x01]);
    out.push(pair);
    out
}
