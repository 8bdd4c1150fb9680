//! The order contract over every key type the codec accepts, and each of
//! them reversed: sorting values by `Ord` is sorting their encodings as
//! bytes, equal encodings are equal values, and every encoding decodes
//! back (fresh and in place) to its value.

use std::cmp::Reverse;
use std::fmt::Debug;

use proptest::prelude::*;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::{decode, decode_in_place, encode};

/// Thousands of cases per type, as the issue asks.
const CASES: u32 = 2000;

#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
struct Unit;

#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
struct Named {
    city: String,
    stars: i8,
    open: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
enum Shape {
    #[default]
    Empty,
    Dot(u16),
    Line(i32, String),
    Box {
        w: u8,
        h: Option<u8>,
    },
}

/// A derived struct with a descending field: sorts by `desc` descending,
/// then `name` ascending.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
struct Ranked {
    desc: Reverse<u64>,
    name: String,
}

/// A derived newtype around a reversed value.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
struct Desc(Reverse<String>);

fn named() -> impl Strategy<Value = Named> {
    ("[a\\x00\u{e9}]{0,4}", any::<i8>(), any::<bool>()).prop_map(|(city, stars, open)| Named { city, stars, open })
}

fn shape() -> impl Strategy<Value = Shape> {
    prop_oneof![
        Just(Shape::Empty),
        any::<u16>().prop_map(Shape::Dot),
        (any::<i32>(), "[ab\\x00]{0,3}").prop_map(|(n, s)| Shape::Line(n, s)),
        (any::<u8>(), proptest::option::of(any::<u8>())).prop_map(|(w, h)| Shape::Box { w, h }),
    ]
}

fn ranked() -> impl Strategy<Value = Ranked> {
    (0u64..4, "[ab]{0,2}").prop_map(|(n, name)| Ranked { desc: Reverse(n), name })
}

/// Strings drawn from a small alphabet (NUL, FF-producing bytes, multi-byte
/// characters) so that pairs share prefixes and escapes often.
fn text() -> impl Strategy<Value = String> {
    "[ab\\x00\u{ff}\u{e9}\u{1f600}]{0,8}"
}

/// The contract for one pair of values of one type.
fn agrees<T: Serialize + DeserializeOwned + Ord + Debug + Default>(a: &T, b: &T) -> Result<(), TestCaseError> {
    let (ea, eb) = (encode(a).unwrap(), encode(b).unwrap());
    prop_assert_eq!(ea.cmp(&eb), a.cmp(b), "{:?} vs {:?}: {:02x?} vs {:02x?}", a, b, ea, eb);
    prop_assert_eq!(ea == eb, a == b, "equal encodings must mean equal values");
    if a != b {
        prop_assert!(
            !ea.starts_with(&eb) && !eb.starts_with(&ea),
            "{:?} / {:?}: prefix",
            a,
            b
        );
    }
    prop_assert_eq!(&decode::<T>(&ea).unwrap(), a);
    let mut place = T::default();
    decode_in_place(&eb, &mut place).unwrap();
    prop_assert_eq!(&place, b);
    // Twice into the same place: the reused allocations must not leak
    // into the next value.
    decode_in_place(&ea, &mut place).unwrap();
    prop_assert_eq!(&place, a);
    Ok(())
}

/// The type itself, reversed, reversed twice, and reversed inside the
/// containers and tuples a key nests it in.
fn agrees_every_way<T>(a: &T, b: &T) -> Result<(), TestCaseError>
where
    T: Serialize + DeserializeOwned + Ord + Debug + Default + Clone,
{
    agrees(a, b)?;
    agrees(&Reverse(a.clone()), &Reverse(b.clone()))?;
    agrees(&Reverse(Reverse(a.clone())), &Reverse(Reverse(b.clone())))?;
    agrees(&Some(Reverse(a.clone())), &Some(Reverse(b.clone())))?;
    agrees(&Some(Reverse(a.clone())), &None)?;
    agrees(&(Reverse(a.clone()), a.clone()), &(Reverse(a.clone()), b.clone()))?;
    agrees(&(a.clone(), Reverse(b.clone())), &(b.clone(), Reverse(a.clone())))?;
    agrees(&vec![Reverse(a.clone())], &vec![Reverse(b.clone()), Reverse(a.clone())])?;
    agrees(
        &Reverse((a.clone(), Reverse(b.clone()))),
        &Reverse((b.clone(), Reverse(a.clone()))),
    )?;
    agrees(
        &[Reverse(a.clone()), Reverse(b.clone())],
        &[Reverse(b.clone()), Reverse(a.clone())],
    )?;
    Ok(())
}

/// Sorting a list by `Ord` and by encoding gives the same list.
fn sorts_alike<T: Serialize + Ord + Debug + Clone>(mut values: Vec<T>) -> Result<(), TestCaseError> {
    let mut by_bytes: Vec<(Vec<u8>, T)> = values.iter().map(|v| (encode(v).unwrap(), v.clone())).collect();
    by_bytes.sort_by(|x, y| x.0.cmp(&y.0));
    values.sort();
    let by_bytes: Vec<T> = by_bytes.into_iter().map(|(_, v)| v).collect();
    prop_assert_eq!(by_bytes, values);
    Ok(())
}

macro_rules! key_type {
    ($($name:ident: $ty:ty = $strategy:expr;)*) => {$(
        proptest! {
            #![proptest_config(ProptestConfig::with_cases(CASES))]
            #[test]
            fn $name(a in $strategy, b in $strategy, list in proptest::collection::vec($strategy, 0..12)) {
                let (a, b): ($ty, $ty) = (a, b);
                agrees_every_way(&a, &b)?;
                agrees_every_way(&a, &a)?;
                sorts_alike(list.clone())?;
                sorts_alike(list.into_iter().map(Reverse).collect::<Vec<_>>())?;
            }
        }
    )*};
}

key_type! {
    u8s: u8 = any::<u8>();
    u16s: u16 = any::<u16>();
    u32s: u32 = any::<u32>();
    u64s: u64 = any::<u64>();
    u128s: u128 = any::<u128>();
    usizes: usize = any::<usize>();
    i8s: i8 = any::<i8>();
    i16s: i16 = any::<i16>();
    i32s: i32 = any::<i32>();
    i64s: i64 = any::<i64>();
    i128s: i128 = any::<i128>();
    isizes: isize = any::<isize>();
    bools: bool = any::<bool>();
    chars: char = any::<char>();
    strings: String = text();
    units: () = Just(());
    unit_structs: Unit = Just(Unit);
    options: Option<u32> = proptest::option::of(any::<u32>());
    option_strings: Option<String> = proptest::option::of(text());
    pairs: (u8, String) = (any::<u8>(), text());
    triples: (i32, bool, char) = (any::<i32>(), any::<bool>(), any::<char>());
    vecs: Vec<u16> = proptest::collection::vec(any::<u16>(), 0..4);
    vec_strings: Vec<String> = proptest::collection::vec(text(), 0..4);
    arrays: [u8; 3] = any::<[u8; 3]>();
    string_arrays: [String; 2] = [text(), text()];
    structs: Named = named();
    enums: Shape = shape();
    structs_with_a_descending_field: Ranked = ranked();
    newtypes_of_reverse: Desc = text().prop_map(|s| Desc(Reverse(s)));
}

#[test]
fn reverse_of_u64_sorts_descending() {
    let mut keys: Vec<Vec<u8>> = [3u64, 0, u64::MAX, 7]
        .iter()
        .map(|&n| encode(&Reverse(n)).unwrap())
        .collect();
    keys.sort();
    let back: Vec<u64> = keys.iter().map(|k| decode::<Reverse<u64>>(k).unwrap().0).collect();
    assert_eq!(back, [u64::MAX, 7, 3, 0]);
}

#[test]
fn damaged_reversed_keys_are_errors() {
    let good = encode(&Reverse(("a\0b".to_owned(), 5u32))).unwrap();
    for cut in 0..good.len() {
        assert!(decode::<Reverse<(String, u32)>>(&good[..cut]).is_err(), "cut at {cut}");
    }
    let mut longer = good.clone();
    longer.push(0);
    assert!(decode::<Reverse<(String, u32)>>(&longer).is_err());
}
