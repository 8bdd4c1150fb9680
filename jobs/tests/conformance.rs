//! mrjob's conformance vectors (its `tests/examples/` and fixture jobs),
//! run against the ported jobs. Outputs are compared as decoded pairs, as
//! mrjob's own tests do, and also byte for byte where the order is defined.

use std::collections::BTreeMap;
use std::io::Write;

use mapreduce::{AnyJob, RunConfig};
use serde_json::{Value, json};

/// Runs `job` on input files with these contents; returns the output text.
fn run(job: &dyn AnyJob, files: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let paths: Vec<String> = files
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let p = dir.path().join(format!("f{i}.txt"));
            std::fs::write(&p, c).unwrap();
            p.to_string_lossy().into_owned()
        })
        .collect();
    let mut out = Vec::new();
    mapreduce::runner::run(job, &RunConfig::new(paths), &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

/// Output lines decoded as JSON `(key, value)` pairs, in output order.
fn pairs(out: &str) -> Vec<(Value, Value)> {
    out.lines()
        .map(|l| {
            let (k, v) = l.split_once('\t').expect("a tab");
            (serde_json::from_str(k).unwrap(), serde_json::from_str(v).unwrap())
        })
        .collect()
}

fn as_map(out: &str) -> BTreeMap<String, Value> {
    pairs(out).into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

const BUS: &str = "    The wheels on the bus go round and round,\n    round and round, round and round\n    The wheels on the bus go round and round,\n    all through the town.\n";

#[test]
fn word_freq_count() {
    let out = run(&mapreduce_jobs::words::word_count(), &[BUS]);
    let expected = [
        ("all", 1),
        ("and", 4),
        ("bus", 2),
        ("go", 2),
        ("on", 2),
        ("round", 8),
        ("the", 5),
        ("through", 1),
        ("town", 1),
        ("wheels", 2),
    ];
    let text: String = expected.iter().map(|(w, n)| format!("\"{w}\"\t{n}\n")).collect();
    assert_eq!(out, text);
    assert_eq!(run(&mapreduce_jobs::words::word_count(), &[""]), "");
}

#[test]
fn most_used_word() {
    let joke = "A Car Joke:\nWhen is a car not a car?\nWhen it turns into a driveway!\n";
    assert_eq!(run(&mapreduce_jobs::words::most_used_word(), &[joke]), "\"car\"\n");
    assert_eq!(run(&mapreduce_jobs::words::most_used_word(), &[""]), "");
}

#[test]
fn next_word_stats() {
    let input = "Oh where, oh where, has my little dog gone?\nOh where, oh where can he be?\n";
    let got = as_map(&run(&mapreduce_jobs::words::next_word_stats(), &[input]));
    let mut expected = BTreeMap::new();
    expected.insert(json!(["oh", "where"]).to_string(), json!([4, 4, 100.0]));
    expected.insert(json!(["where", "oh"]).to_string(), json!([4, 2, 50.0]));
    expected.insert(json!(["where", "has"]).to_string(), json!([4, 1, 25.0]));
    expected.insert(json!(["where", "can"]).to_string(), json!([4, 1, 25.0]));
    for (a, b) in [
        ("has", "my"),
        ("my", "little"),
        ("little", "dog"),
        ("dog", "gone"),
        ("can", "he"),
        ("he", "be"),
    ] {
        expected.insert(json!([a, b]).to_string(), json!([1, 1, 100.0]));
    }
    assert_eq!(got, expected);
}

#[test]
fn wc() {
    let out = run(&mapreduce_jobs::examples::wc(), &["dog dog dog\ncat cat\n"]);
    assert_eq!(out, "\"chars\"\t20\n\"lines\"\t2\n\"words\"\t5\n");
    // mapper_final still runs in the one empty split.
    let out = run(&mapreduce_jobs::examples::wc(), &[""]);
    assert_eq!(out, "\"chars\"\t0\n\"lines\"\t0\n\"words\"\t0\n");
}

const CATS_DOGS: [&str; 3] = ["cats are the best", "woof woof woof\nwoof woof", ""];

#[test]
fn count_lines_right() {
    assert_eq!(run(&mapreduce_jobs::examples::count_lines(), &CATS_DOGS), "null\t3\n");
    assert_eq!(run(&mapreduce_jobs::examples::count_lines(), &[""]), "null\t0\n");
}

#[test]
fn count_lines_by_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut paths = Vec::new();
    for (name, content) in ["cats.txt", "dogs.txt", "empty.txt"].iter().zip(CATS_DOGS) {
        let p = dir.path().join(name);
        std::fs::write(&p, content).unwrap();
        paths.push(p);
    }
    let mut out = Vec::new();
    let config = RunConfig::new(paths.iter().map(|p| p.to_string_lossy().into_owned()));
    mapreduce::runner::run(&mapreduce_jobs::examples::count_lines_by_file(), &config, &mut out).unwrap();
    let got = as_map(&String::from_utf8(out).unwrap());
    let uri = |p: &std::path::Path| json!(format!("file://{}", p.display())).to_string();
    let expected = BTreeMap::from([(uri(&paths[0]), json!(1)), (uri(&paths[1]), json!(2))]);
    assert_eq!(got, expected);
}

#[test]
fn group_and_sort_and_group() {
    let animals = "alligator\nactuary\nbowling\nartichoke\nballoon\nbaby\n";
    assert_eq!(
        pairs(&run(&mapreduce_jobs::examples::first_letter(), &[animals])),
        vec![
            (json!("a"), json!(["alligator", "actuary", "artichoke"])),
            (json!("b"), json!(["bowling", "balloon", "baby"])),
        ]
    );
    assert_eq!(
        pairs(&run(&mapreduce_jobs::examples::first_letter_sorted(), &[animals])),
        vec![
            (json!("a"), json!(["actuary", "alligator", "artichoke"])),
            (json!("b"), json!(["baby", "balloon", "bowling"])),
        ]
    );
    assert_eq!(
        pairs(&run(
            &mapreduce_jobs::examples::first_letter_sorted(),
            &["Aaron\naardvark\nABC\n"]
        )),
        vec![(json!("A"), json!(["ABC", "Aaron"])), (json!("a"), json!(["aardvark"]))]
    );
}

#[test]
fn no_mapper_second_step() {
    let out = run(
        &mapreduce_jobs::words::words_by_count(),
        &["one fish two fish\nred fish blue fish\n"],
    );
    assert_eq!(
        pairs(&out),
        vec![
            (json!(1), json!(["blue", "one", "red", "two"])),
            (json!(4), json!(["fish"]))
        ]
    );
}

#[test]
fn gzip_and_plain_inputs_mix() {
    // mrjob's two-step fixture reads a plain file and a .gz side by side.
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("a.txt");
    std::fs::write(&plain, "bar\nqux\n").unwrap();
    let gz = dir.path().join("b.gz");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(b"foo\n").unwrap();
    std::fs::write(&gz, enc.finish().unwrap()).unwrap();
    let config = RunConfig::new([plain.to_string_lossy().into_owned(), gz.to_string_lossy().into_owned()]);
    let mut out = Vec::new();
    mapreduce::runner::run(&mapreduce_jobs::examples::count_lines(), &config, &mut out).unwrap();
    assert_eq!(String::from_utf8(out).unwrap(), "null\t3\n");
}
