//! `mr-run gen yelp-reviews` and `datagen::yelp_reviews`: review.json-style
//! lines for the businesses of a generated business.json, checked through
//! the public API and the real binary.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::path::Path;
use std::process::Output;
use std::sync::OnceLock;

use mapreduce_jobs::datagen;
use serde_json::Value;

/// A generated business.json (~2,800 businesses) and its ids.
fn business() -> &'static (Vec<u8>, Vec<String>) {
    static BUSINESS: OnceLock<(Vec<u8>, Vec<String>)> = OnceLock::new();
    BUSINESS.get_or_init(|| {
        let mut out = Vec::new();
        datagen::yelp(&mut out, 2 << 20, 21).unwrap();
        let ids = datagen::business_ids(&out[..]).unwrap();
        (out, ids)
    })
}

fn ids() -> &'static [String] {
    &business().1
}

fn reviews(size: u64, seed: u64, malformed: u32) -> Vec<u8> {
    let mut out = Vec::new();
    let g = datagen::yelp_reviews(&mut out, size, seed, ids(), malformed).unwrap();
    assert_eq!(g.bytes, out.len() as u64);
    out
}

/// 4 MB of reviews (~7,500), generated once for the tests that read them.
fn sample() -> &'static [u8] {
    static SAMPLE: OnceLock<Vec<u8>> = OnceLock::new();
    SAMPLE.get_or_init(|| reviews(4 << 20, 1, 0))
}

/// The sample, parsed.
fn records() -> &'static [serde_json::Map<String, Value>] {
    static RECORDS: OnceLock<Vec<serde_json::Map<String, Value>>> = OnceLock::new();
    RECORDS.get_or_init(|| {
        lines(sample())
            .iter()
            .map(|l| match serde_json::from_str(l) {
                Ok(Value::Object(map)) => map,
                other => panic!("not a JSON object ({other:?}): {l}"),
            })
            .collect()
    })
}

fn lines(out: &[u8]) -> Vec<&str> {
    std::str::from_utf8(out).unwrap().lines().collect()
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    let a = reviews(300_000, 7, 0);
    assert!(a == reviews(300_000, 7, 0));
    assert!(a != reviews(300_000, 8, 0));
    // Other businesses, other bytes.
    let mut fewer = Vec::new();
    datagen::yelp_reviews(&mut fewer, 300_000, 7, &ids()[1..], 0).unwrap();
    assert!(a != fewer);
}

#[test]
fn smaller_outputs_are_prefixes() {
    for malformed in [0, 25] {
        let big = reviews(1 << 20, 3, malformed);
        for size in [1, 999, 10_000, 123_457, 1 << 20] {
            let small = reviews(size, 3, malformed);
            assert!(big.starts_with(&small), "size {size}");
            assert!(small.len() as u64 >= size && small.ends_with(b"\n"));
            // Cut after the first whole line that reaches the size.
            let before_last = small[..small.len() - 1]
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |p| p + 1);
            assert!((before_last as u64) < size, "size {size}: stopped late");
        }
    }
}

#[test]
fn every_line_is_a_review() {
    let records = records();
    assert!(records.len() > 5_000, "{} reviews", records.len());
    let mut review_ids = HashSet::new();
    for r in records {
        for key in ["review_id", "user_id", "business_id"] {
            let id = r[key].as_str().unwrap();
            assert_eq!(id.len(), 22, "{key} {id}");
            assert!(
                id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
                "{id}"
            );
        }
        assert!(
            review_ids.insert(r["review_id"].as_str().unwrap()),
            "duplicate review_id"
        );
        let stars = r["stars"].as_f64().unwrap();
        assert!([1.0, 2.0, 3.0, 4.0, 5.0].contains(&stars), "stars {stars}");
        for key in ["useful", "funny", "cool"] {
            assert!(r[key].as_u64().is_some(), "{key}: {}", r[key]);
        }
        assert!(!r["text"].as_str().unwrap().is_empty());
        let date = r["date"].as_str().unwrap();
        let shape = date
            .bytes()
            .map(|b| if b.is_ascii_digit() { b'9' } else { b })
            .collect::<Vec<u8>>();
        assert_eq!(shape, b"9999-99-99 99:99:99", "{date}");
        assert_eq!(r.len(), 9);
    }
}

#[test]
fn stars_are_skewed_and_written_both_ways() {
    let (mut int_form, mut float_form) = (0, 0);
    for line in lines(sample()) {
        int_form += usize::from(line.contains(r#""stars":4,"#));
        float_form += usize::from(line.contains(r#""stars":4.0,"#));
    }
    assert!(int_form > 100 && float_form > 100, "{int_form} `4`, {float_form} `4.0`");
    let records = records();
    let high = records.iter().filter(|r| r["stars"].as_f64().unwrap() >= 4.0).count();
    assert!(
        high * 100 / records.len() > 55,
        "{high} of {} are 4-5 stars",
        records.len()
    );
    let votes = |key: &str| records.iter().map(|r| r[key].as_u64().unwrap()).collect::<Vec<_>>();
    for key in ["useful", "funny", "cool"] {
        let v = votes(key);
        let zeros = v.iter().filter(|&&x| x == 0).count();
        assert!(zeros * 100 / v.len() >= 40, "{key}: {zeros} zeros");
        assert!(v.iter().any(|&x| x >= 10), "{key}: no tail");
    }
}

#[test]
fn business_ids_come_from_the_business_file_but_a_few() {
    let known: HashSet<&str> = ids().iter().map(String::as_str).collect();
    let records = records();
    let unknown = records
        .iter()
        .filter(|r| !known.contains(r["business_id"].as_str().unwrap()))
        .count();
    let per_10k = unknown * 10_000 / records.len();
    assert!((20..=100).contains(&per_10k), "{unknown} of {} unknown", records.len());
}

#[test]
fn a_few_businesses_get_most_reviews() {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for r in records() {
        *counts.entry(r["business_id"].as_str().unwrap()).or_default() += 1;
    }
    let mut per_business: Vec<usize> = ids()
        .iter()
        .map(|id| counts.get(id.as_str()).copied().unwrap_or(0))
        .collect();
    per_business.sort_unstable_by(|a, b| b.cmp(a));
    let total: usize = per_business.iter().sum();
    let top: usize = per_business[..per_business.len().div_ceil(100)].iter().sum();
    assert!(top * 100 / total > 10, "top 1% hold {top} of {total}");
    let median = per_business[per_business.len() / 2];
    assert!(
        median * per_business.len() < total / 2,
        "median {median}, mean {}",
        total / per_business.len()
    );
    // And the busiest users write many reviews.
    let mut users: HashMap<&str, usize> = HashMap::new();
    for r in records() {
        *users.entry(r["user_id"].as_str().unwrap()).or_default() += 1;
    }
    assert!(users.values().any(|&c| c >= 3), "no user wrote 3 reviews");
}

#[test]
fn texts_hold_escapes_unicode_and_emoji() {
    let raw = std::str::from_utf8(sample()).unwrap();
    for needle in [r"\n", r#"\""#, r"\u00e9", r"\/", r"\ud83d", "é", "😋"] {
        assert!(raw.contains(needle), "no {needle} in the raw lines");
    }
    let texts: Vec<&str> = records().iter().map(|r| r["text"].as_str().unwrap()).collect();
    for (what, found) in [
        ("newline", texts.iter().any(|t| t.contains('\n'))),
        ("quote", texts.iter().any(|t| t.contains('"'))),
        ("slash", texts.iter().any(|t| t.contains('/'))),
        ("non-ASCII", texts.iter().any(|t| t.contains('é'))),
        ("emoji", texts.iter().any(|t| t.chars().any(|c| c as u32 >= 0x1f300))),
    ] {
        assert!(found, "no {what} in any text");
    }
}

#[test]
fn malformed_lines_come_at_the_asked_rate() {
    let out = reviews(4 << 20, 1, 20);
    let all = lines(&out);
    let bad = all.iter().filter(|l| serde_json::from_str::<Value>(l).is_err()).count();
    let per_mille = bad * 1000 / all.len();
    assert!((12..=28).contains(&per_mille), "{bad} of {} malformed", all.len());
    // Deterministic too.
    assert!(out == reviews(4 << 20, 1, 20));
    // And none without the option.
    assert!(lines(sample()).iter().all(|l| serde_json::from_str::<Value>(l).is_ok()));
}

#[test]
fn reading_business_ids_skips_lines_without_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("business.json");
    fs::write(
        &path,
        concat!(
            "{\"business_id\":\"one\",\"name\":\"x\"}\n",
            "not json\n",
            "\n",
            "{\"name\":\"no id\"}\n",
            "{\"business_id\":null}\n",
            "{\"business_id\":\"two\"\n",
            "[1,2]\n",
            "{\"stars\":4.0,\"business_id\":\"thr\\u00e9e\"}\n",
            "{\"business_id\":\"four\"}",
        ),
    )
    .unwrap();
    assert_eq!(datagen::read_business_ids(&path).unwrap(), ["one", "thrée", "four"]);
    assert_eq!(
        datagen::read_business_ids(&dir.path().join("absent"))
            .unwrap_err()
            .kind(),
        std::io::ErrorKind::NotFound
    );
}

// ---------------------------------------------------------------------------
// mr-run gen yelp-reviews
// ---------------------------------------------------------------------------

fn mr(dir: &Path, args: &[&str]) -> Output {
    assert_cmd::cargo::cargo_bin_cmd!("mr-run")
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

#[test]
fn gen_yelp_reviews_needs_business() {
    let dir = tempfile::tempdir().unwrap();
    let o = mr(dir.path(), &["gen", "yelp-reviews", "--size", "10K", "-o", "r.json"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.starts_with("error: ") && err.contains("--business FILE"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(!dir.path().join("r.json").exists(), "no file written");
}

#[test]
fn business_and_malformed_are_only_for_reviews() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("b.json"), &business().0).unwrap();
    for (kind, option, value) in [
        ("yelp", "--business", "b.json"),
        ("text", "--business", "b.json"),
        ("text", "--malformed-per-mille", "3"),
    ] {
        let o = mr(dir.path(), &["gen", kind, option, value, "--size", "1K", "-o", "out"]);
        assert_eq!(o.status.code(), Some(2), "{kind} {option}");
        let err = stderr(&o);
        assert!(
            err.contains(option) && err.contains("only for `gen yelp-reviews`"),
            "{err}"
        );
        assert!(!dir.path().join("out").exists());
    }
    let o = mr(
        dir.path(),
        &[
            "gen",
            "yelp-reviews",
            "--business",
            "b.json",
            "--malformed-per-mille",
            "1001",
            "-o",
            "out",
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("1001"));
}

#[test]
fn gen_yelp_reviews_writes_what_the_library_writes() {
    let dir = tempfile::tempdir().unwrap();
    let o = mr(
        dir.path(),
        &["gen", "yelp", "--size", "2M", "--seed", "21", "-o", "b.json"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(fs::read(dir.path().join("b.json")).unwrap() == business().0);
    let args = [
        "gen",
        "yelp-reviews",
        "--business",
        "b.json",
        "--size",
        "300K",
        "--seed",
        "4",
    ];
    let o = mr(
        dir.path(),
        &[&args[..], &["--malformed-per-mille", "5", "-o", "r.json"]].concat(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let file = fs::read(dir.path().join("r.json")).unwrap();
    assert!(file == reviews(300 << 10, 4, 5), "the file is the library's output");
    assert_eq!(
        stderr(&o),
        format!("wrote {} records, {} bytes\n", lines(&file).len(), file.len())
    );
    // To stdout, the same bytes.
    let o = mr(
        dir.path(),
        &[&args[..], &["--malformed-per-mille", "5", "-o", "-"]].concat(),
    );
    assert!(o.status.success() && o.stdout == file);
}

#[test]
fn gen_yelp_reviews_reports_a_bad_business_file() {
    let dir = tempfile::tempdir().unwrap();
    let o = mr(
        dir.path(),
        &["gen", "yelp-reviews", "--business", "absent.json", "-o", "r.json"],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("absent.json"), "{}", stderr(&o));
    assert!(!dir.path().join("r.json").exists());

    fs::write(dir.path().join("text.txt"), "no json here\nnor here\n").unwrap();
    let o = mr(
        dir.path(),
        &["gen", "yelp-reviews", "--business", "text.txt", "-o", "r.json"],
    );
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.contains("text.txt") && err.contains("no line with a business_id"),
        "{err}"
    );
    assert!(!dir.path().join("r.json").exists());
}
