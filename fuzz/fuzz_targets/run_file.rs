//! libFuzzer target; the check (and what it asserts) is in checks/run_file.rs.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mapreduce_fuzz::run_file::check(data));
