//! libFuzzer target; the check (and what it asserts) is in checks/json.rs.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mapreduce_fuzz::json::check(data));
