//! Which values sort reversed: `std::cmp::Reverse<T>` and what nests it.
//!
//! serde serializes `Reverse<T>` exactly as it serializes `T`, so nothing
//! a serializer is handed says "descending". The one place the type still
//! shows is the generic parameter of each `serialize_*`/seed call, and
//! [`std::any::type_name`] spells it (`core::cmp::Reverse<u64>`). The codec
//! writes such a value's encoding with every byte complemented: the
//! encoding is prefix-free, so two different values differ at a byte both
//! have, and complementing that byte reverses their order; complementing
//! keeps the encoding prefix-free, so a reversed field still concatenates
//! with the next one. `Reverse<Reverse<T>>` never reaches the serializer as
//! two calls (the outer one calls the inner one's `serialize` directly), so
//! the reversals in one type name are counted and only an odd count flips.
//!
//! `type_name`'s text is not a stable interface; the property test over
//! every key type (in `properties`) fails if a compiler spells it
//! otherwise, and a key whose order the codec does not reproduce is caught
//! at run time by the reduce side's order check in any case.

/// The wrappers whose serde form and `Ord` are their content's: looked
/// through on the way to a `Reverse`.
const TRANSPARENT: [&str; 6] = [
    "&mut ",
    "&",
    "alloc::boxed::Box<",
    "alloc::rc::Rc<",
    "alloc::sync::Arc<",
    "core::num::wrapping::Wrapping<",
];

const REVERSE: &str = "core::cmp::Reverse<";

/// How many `Reverse`s the type named `name` starts with, looking through
/// references and the transparent wrappers.
pub(super) fn reversals(mut name: &str) -> u32 {
    let mut n = 0;
    loop {
        if let Some(rest) = name.strip_prefix(REVERSE) {
            n += 1;
            name = rest;
            continue;
        }
        match TRANSPARENT.iter().find_map(|w| name.strip_prefix(w)) {
            Some(rest) => name = rest,
            None => return n,
        }
    }
}

/// Whether `name` can start with a `Reverse` at all: each test compares a
/// constant prefix with a constant name, which the optimizer folds, so for
/// every other type (nearly every key) the whole check costs nothing on
/// the hot path of each key encoded and decoded. Measured: without it,
/// `reversals`' loop ran for every key (callgrind, terasort 20 MB: 16M
/// instructions of 830M).
#[inline(always)]
fn may_reverse(name: &str) -> bool {
    name.starts_with(REVERSE) || name.starts_with('&') || TRANSPARENT[2..].iter().any(|w| name.starts_with(w))
}

/// Counts the reversals of a name that may have some: out of line, since
/// only `Reverse` keys get here.
#[inline(never)]
fn odd_reversals(name: &str) -> bool {
    reversals(name) % 2 == 1
}

/// Whether a value named `name` is written complemented (an odd number of
/// `Reverse`s at its head).
#[inline(always)]
fn name_reversed(name: &str) -> bool {
    may_reverse(name) && odd_reversals(name)
}

/// Whether values of `T` are written complemented. A constant per type.
#[inline(always)]
pub(super) fn reversed<T: ?Sized>() -> bool {
    name_reversed(std::any::type_name::<T>())
}

/// For a deserializer's seed of type `S` producing `V`: whether what it
/// reads is reversed. serde's in-place seeds produce `()` and carry the
/// target type in their own name (`...::InPlaceSeed<'_, T>`); serde is
/// pinned, and the property test decodes `Reverse` fields in place.
#[inline(always)]
pub(super) fn seed_reversed<S: ?Sized, V: ?Sized>() -> bool {
    const IN_PLACE: [&str; 2] = [
        "serde_core::private::seed::InPlaceSeed<'_, ",
        "serde::__private::de::InPlaceSeed<'_, ",
    ];
    let seed = std::any::type_name::<S>();
    match IN_PLACE.iter().find_map(|p| seed.strip_prefix(p)) {
        Some(target) => name_reversed(target),
        None => reversed::<V>(),
    }
}

/// For `deserialize_option` with a visitor producing `V`: whether the
/// content of the `Some` is reversed (`Option<Reverse<T>>`).
#[inline(always)]
pub(super) fn option_content_reversed<V: ?Sized>() -> bool {
    std::any::type_name::<V>()
        .strip_prefix("core::option::Option<")
        .is_some_and(name_reversed)
}

#[cfg(test)]
mod tests {
    use std::cmp::Reverse;
    use std::num::Wrapping;

    use super::*;

    #[test]
    fn counts_reversals_through_references_and_wrappers() {
        assert!(!reversed::<u64>());
        assert!(reversed::<Reverse<u64>>());
        assert!(reversed::<&Reverse<String>>());
        assert!(reversed::<Box<Reverse<(u8, String)>>>());
        assert!(!reversed::<Reverse<Reverse<u64>>>());
        assert!(reversed::<Reverse<Wrapping<Reverse<Reverse<u8>>>>>());
        // A Reverse inside another type is that type's field's business.
        assert!(!reversed::<(Reverse<u64>, u8)>());
        assert!(!reversed::<Option<Reverse<u64>>>());
        assert!(option_content_reversed::<Option<Reverse<u64>>>());
        assert!(!option_content_reversed::<Option<u64>>());
        assert!(seed_reversed::<std::marker::PhantomData<Reverse<u8>>, Reverse<u8>>());
    }
}
