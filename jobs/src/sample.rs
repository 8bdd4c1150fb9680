//! Built-in sample inputs, made by the project's own generators (never
//! real records): what a job reads when it is given no input.

/// Size of each built-in sample.
pub const SAMPLE_BYTES: u64 = 256 << 10;
/// Seed of the built-in samples.
pub const SAMPLE_SEED: u64 = 2026;

/// A Yelp-like `business.json` sample.
pub fn yelp() -> Vec<u8> {
    let mut out = Vec::new();
    // Writing to a Vec cannot fail.
    let _ = crate::datagen::yelp(&mut out, SAMPLE_BYTES, SAMPLE_SEED);
    out
}

/// An English-like text sample.
pub fn text() -> Vec<u8> {
    let mut out = Vec::new();
    let _ = crate::datagen::text(&mut out, SAMPLE_BYTES, SAMPLE_SEED);
    out
}
