//! The jobs against straightforward Python scripts (`tests/oracle/*.py`,
//! stdlib only) on generated data: the answers must be byte-identical.
//! python3 is part of the machine image CI runs on; its absence is a
//! failure, not a skip.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use mapreduce::{AnyJob, RunConfig};
use mapreduce_jobs::datagen;

fn python(script: &str, args: &[&Path]) -> String {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oracle").join(script);
    let out = Command::new("python3")
        .arg(&script)
        .args(args)
        .output()
        .expect("python3 is required for the oracle tests (it is part of the CI image)");
    assert!(
        out.status.success(),
        "{} failed: {}",
        script.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

fn run(job: &dyn AnyJob, inputs: &[&Path], reducers: u32) -> String {
    let mut config = RunConfig::new(inputs.iter().map(|p| p.to_string_lossy().into_owned()));
    config.reducers = reducers;
    let mut out = Vec::new();
    mapreduce::runner::run(job, &config, &mut out).expect("job runs");
    String::from_utf8(out).expect("utf-8")
}

fn generate(dir: &Path, name: &str, make: datagen::Generator, size: u64, seed: u64) -> PathBuf {
    let path = dir.join(name);
    datagen::write_file(&path, make, size, seed).expect("generate");
    path
}

#[test]
fn yelp_top_city_matches_python_on_generated_data() {
    let dir = tempfile::tempdir().unwrap();
    for (size, seed) in [(16 << 10, 1), (300 << 10, 2), (2 << 20, 3), (2 << 20, 4)] {
        let file = generate(dir.path(), &format!("business-{seed}.json"), datagen::yelp, size, seed);
        let expected = python("yelp_top_city.py", &[&file]);
        assert!(!expected.is_empty(), "the oracle found a top city");
        assert_eq!(
            run(&mapreduce_jobs::yelp::top_city(), &[&file], 1),
            expected,
            "size {size} seed {seed}"
        );
        assert_eq!(
            run(&mapreduce_jobs::yelp::top_city(), &[&file], 3),
            expected,
            "3 reducers"
        );
    }
}

#[test]
fn yelp_top_city_matches_python_on_gzip_several_files_and_malformed_lines() {
    let dir = tempfile::tempdir().unwrap();
    let a = generate(dir.path(), "a.json", datagen::yelp, 200 << 10, 11);
    let b = generate(dir.path(), "b.json", datagen::yelp, 100 << 10, 12);
    // Malformed lines the job must skip and count, as Python's try/except does.
    let mut bytes = std::fs::read(&b).unwrap();
    bytes.extend_from_slice(b"{\"city\": \"Broken\n[1, 2]\n\n{\"city\": 7}\nnot json\n");
    std::fs::write(&b, &bytes).unwrap();
    let gz = dir.path().join("a.json.gz");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(&std::fs::read(&a).unwrap()).unwrap();
    std::fs::write(&gz, enc.finish().unwrap()).unwrap();

    let expected = python("yelp_top_city.py", &[&a, &b]);
    assert_eq!(run(&mapreduce_jobs::yelp::top_city(), &[&gz, &b], 1), expected);

    let mut out = Vec::new();
    let config = RunConfig::new([b.to_string_lossy().into_owned()]);
    let report = mapreduce::runner::run(&mapreduce_jobs::yelp::top_city(), &config, &mut out).unwrap();
    assert_eq!(report.counters().get("yelp", "malformed lines"), 5);
}

#[test]
fn word_count_matches_python_counter() {
    let dir = tempfile::tempdir().unwrap();
    for (size, seed) in [(64 << 10, 1), (1 << 20, 9)] {
        let file = generate(dir.path(), &format!("text-{seed}.txt"), datagen::text, size, seed);
        let expected = python("word_count.py", &[&file]);
        assert!(expected.lines().count() > 100, "a real vocabulary");
        assert_eq!(
            run(&mapreduce_jobs::words::word_count(), &[&file], 1),
            expected,
            "seed {seed}"
        );
    }
}

#[test]
fn mr_run_gen_then_stdin_matches_python() {
    // The whole user path: `mr-run gen yelp`, then the job reading `-`.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("business.json");
    assert_cmd::cargo::cargo_bin_cmd!("mr-run")
        .args(["gen", "yelp", "--size", "1M", "--seed", "5", "-o"])
        .arg(&file)
        .assert()
        .success();
    let expected = python("yelp_top_city.py", &[&file]);
    let out = assert_cmd::cargo::cargo_bin_cmd!("mr-run")
        .args(["yelp-top-city", "-", "-q"])
        .pipe_stdin(&file)
        .unwrap()
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(String::from_utf8(out.stdout).unwrap(), expected);
}
