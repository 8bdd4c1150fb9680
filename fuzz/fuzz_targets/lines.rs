//! libFuzzer target; the check (and what it asserts) is in checks/lines.rs.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mapreduce_fuzz::lines::check(data));
