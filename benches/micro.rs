//! Placeholder until the micro-benchmarks land.
fn main() {}
