//! The join jobs (`yelp-city-reviews`, its broadcast variant,
//! `yelp-top-reviewed-city`) through the real binary, against the plain
//! Python oracle (`tests/oracle/yelp_city_reviews.py`: dicts and
//! `json.loads`) on generated businesses and reviews of several sizes and
//! seeds, with malformed lines, gzip and standard input, under every local
//! runner; and what a user of named inputs, side files and job options
//! sees: `--help`, errors before any work, a side file loaded once per
//! process, `--step-output-dir`. The cluster engines run the same jobs in
//! `engines.rs`.

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use mapreduce_jobs::datagen;

fn mr_run() -> &'static str {
    env!("CARGO_BIN_EXE_mr-run")
}

fn oracle(args: &[OsString]) -> String {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oracle/yelp_city_reviews.py");
    let out = Command::new("python3")
        .arg(&script)
        .args(args)
        .output()
        .expect("python3 is required for the oracle tests (it is part of the CI image)");
    assert!(out.status.success(), "oracle: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn mr(args: &[OsString], stdin: Option<&Path>) -> Output {
    let mut cmd = Command::new(mr_run());
    cmd.args(args);
    match stdin {
        Some(path) => cmd.stdin(std::fs::File::open(path).unwrap()),
        None => cmd.stdin(Stdio::null()),
    };
    cmd.output().expect("mr-run runs")
}

fn ok(args: &[OsString], stdin: Option<&Path>) -> String {
    let out = mr(args, stdin);
    assert!(
        out.status.success(),
        "mr-run {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn os(items: &[&dyn AsRef<std::ffi::OsStr>]) -> Vec<OsString> {
    items.iter().map(|s| s.as_ref().to_owned()).collect()
}

fn named(name: &str, path: &Path) -> OsString {
    let mut arg = OsString::from(format!("{name}="));
    arg.push(path);
    arg
}

fn sorted(text: &str) -> Vec<&str> {
    let mut lines: Vec<&str> = text.lines().collect();
    lines.sort_unstable();
    lines
}

struct Data {
    _dir: tempfile::TempDir,
    business: PathBuf,
    reviews: PathBuf,
    reviews_gz: PathBuf,
}

fn data(business_size: u64, review_size: u64, seed: u64, malformed: u32) -> Data {
    let dir = tempfile::tempdir().unwrap();
    let business = dir.path().join("business.json");
    datagen::write_file(&business, datagen::yelp, business_size, seed).unwrap();
    let ids = datagen::read_business_ids(&business).unwrap();
    let reviews = dir.path().join("review.json");
    let mut file = std::fs::File::create(&reviews).unwrap();
    datagen::yelp_reviews(&mut file, review_size, seed, &ids, malformed).unwrap();
    let reviews_gz = dir.path().join("review.json.gz");
    let mut gz =
        flate2::write::GzEncoder::new(std::fs::File::create(&reviews_gz).unwrap(), flate2::Compression::fast());
    gz.write_all(&std::fs::read(&reviews).unwrap()).unwrap();
    gz.finish().unwrap();
    Data {
        _dir: dir,
        business,
        reviews,
        reviews_gz,
    }
}

fn reduce_side(job: &str, business: &Path, reviews: &Path) -> Vec<OsString> {
    os(&[
        &job,
        &"--input",
        &named("business", business),
        &"--input",
        &named("review", reviews),
        &"-q",
    ])
}

fn broadcast(business: &Path, reviews: &Path) -> Vec<OsString> {
    os(&[
        &"yelp-city-reviews-broadcast",
        &"--side",
        &named("business", business),
        &reviews,
        &"-q",
    ])
}

fn with(mut args: Vec<OsString>, more: &[&str]) -> Vec<OsString> {
    args.extend(more.iter().map(OsString::from));
    args
}

/// Both joins under every local runner equal the oracle: byte for byte at
/// one reducer (sorted by city), line for line at four (each part sorted).
#[test]
fn both_joins_equal_the_python_oracle_on_every_local_runner() {
    for (business_size, review_size, seed, malformed) in [(40 << 10, 120 << 10, 1, 0), (200 << 10, 600 << 10, 2, 15)] {
        let d = data(business_size, review_size, seed, malformed);
        let expected = oracle(&os(&[&"--business", &d.business, &d.reviews]));
        assert!(expected.lines().count() > 5, "{expected}");
        let one = ok(&reduce_side("yelp-city-reviews", &d.business, &d.reviews), None);
        assert_eq!(one, expected, "seed {seed}: -r local, 1 reducer");
        for runner in ["local", "inline", "streaming"] {
            for reducers in ["1", "4"] {
                let extra = ["-r", runner, "--reducers", reducers, "--block-size", "64K"];
                let a = ok(
                    &with(reduce_side("yelp-city-reviews", &d.business, &d.reviews), &extra),
                    None,
                );
                let b = ok(&with(broadcast(&d.business, &d.reviews), &extra), None);
                assert!(
                    a == b,
                    "seed {seed} -r {runner} --reducers {reducers}: the two joins differ"
                );
                if reducers == "1" {
                    assert_eq!(a, expected, "seed {seed} -r {runner}");
                } else {
                    assert_eq!(sorted(&a), sorted(&expected), "seed {seed} -r {runner} --reducers 4");
                }
            }
        }
    }
}

#[test]
fn gzip_and_standard_input_give_the_same_answer() {
    let d = data(60 << 10, 300 << 10, 3, 10);
    let expected = oracle(&os(&[&"--business", &d.business, &d.reviews]));
    assert_eq!(
        ok(&reduce_side("yelp-city-reviews", &d.business, &d.reviews_gz), None),
        expected
    );
    assert_eq!(ok(&broadcast(&d.business, &d.reviews_gz), None), expected);
    let dash = Path::new("-");
    for runner in ["local", "streaming"] {
        let a = with(reduce_side("yelp-city-reviews", &d.business, dash), &["-r", runner]);
        assert_eq!(ok(&a, Some(&d.reviews)), expected, "-r {runner}, reviews on stdin");
        let b = with(broadcast(&d.business, dash), &["-r", runner]);
        assert_eq!(ok(&b, Some(&d.reviews_gz)), expected, "-r {runner}, gzip on stdin");
    }
}

#[test]
fn the_top_reviewed_city_and_min_reviews_match_the_oracle() {
    let d = data(100 << 10, 400 << 10, 4, 5);
    let top = oracle(&os(&[&"--top", &"--business", &d.business, &d.reviews]));
    assert_eq!(top.lines().count(), 1, "{top}");
    assert_eq!(
        ok(&reduce_side("yelp-top-reviewed-city", &d.business, &d.reviews), None),
        top
    );
    let expected = oracle(&os(&[&"--min-reviews", &"3", &"--business", &d.business, &d.reviews]));
    let all = oracle(&os(&[&"--business", &d.business, &d.reviews]));
    assert!(
        expected.lines().count() < all.lines().count(),
        "--min-reviews 3 leaves some out"
    );
    // Parsed once here, handed to every task process by -r streaming.
    for runner in ["local", "streaming"] {
        let a = with(
            reduce_side("yelp-city-reviews", &d.business, &d.reviews),
            &["--min-reviews", "3", "-r", runner, "--reducers", "2"],
        );
        assert_eq!(sorted(&ok(&a, None)), sorted(&expected), "-r {runner}");
        let b = with(
            broadcast(&d.business, &d.reviews),
            &["--min-reviews", "3", "-r", runner],
        );
        assert_eq!(ok(&b, None), expected, "broadcast -r {runner}");
    }
}

#[test]
fn the_jobs_options_are_in_help() {
    let out = ok(&os(&[&"yelp-city-reviews", &"--help"]), None);
    assert!(out.contains("Options of this job"), "{out}");
    assert!(out.contains("--min-reviews <N>"), "{out}");
    assert!(out.contains("--input <NAME=PATH>"), "{out}");
    let out = ok(&os(&[&"yelp-city-reviews-broadcast", &"--help"]), None);
    assert!(
        out.contains("--side <NAME=PATH>") && out.contains("--min-reviews"),
        "{out}"
    );
    // A job without options of its own has no such heading.
    let out = ok(&os(&[&"word-count", &"--help"]), None);
    assert!(!out.contains("Options of this job"), "{out}");
    let bad = mr(&os(&[&"yelp-city-reviews", &"--min-reviews", &"many"]), None);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--min-reviews"));
}

/// The side file is loaded by the first task that asks, once per process:
/// with many map tasks on the local runner (threads of one process) the
/// counter says 1; under -r streaming every task is a process of its own.
#[test]
fn a_side_file_is_loaded_once_per_process() {
    let d = data(40 << 10, 400 << 10, 5, 0);
    let dir = tempfile::tempdir().unwrap();
    let stats = |runner: &str| {
        let path = dir.path().join(format!("{runner}.json"));
        let args = with(
            broadcast(&d.business, &d.reviews),
            &["-r", runner, "--block-size", "32K", "--workers", "2", "--stats"],
        );
        let mut args = args;
        args.push(path.clone().into());
        ok(&args, None);
        let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let counters = &report["steps"][0]["counters"];
        let maps = counters["Map-Reduce Framework"]["MAP_INPUT_RECORDS"].as_i64().unwrap();
        assert!(maps > 0);
        (
            counters["side files"]["business loaded"].as_i64(),
            report["steps"][0]["counters"].clone(),
        )
    };
    let tasks = std::fs::metadata(&d.reviews).unwrap().len().div_ceil(32 << 10) as i64;
    assert!(tasks >= 8, "{tasks} map tasks");
    assert_eq!(stats("local").0, Some(1), "one load for {tasks} map tasks");
    assert_eq!(stats("streaming").0, Some(tasks), "one load per task process");
}

#[test]
fn step_output_dir_shows_what_the_join_step_handed_on() {
    let d = data(40 << 10, 200 << 10, 6, 0);
    let dir = tempfile::tempdir().unwrap();
    let steps = dir.path().join("steps");
    let mut args = reduce_side("yelp-city-reviews", &d.business, &d.reviews);
    args.extend(os(&[&"--reducers", &"2", &"--step-output-dir", &steps]));
    let out = ok(&args, None);
    // Step 1's per-city tallies, summed, are step 2's counts.
    let mut parts: Vec<PathBuf> = std::fs::read_dir(steps.join("step-1"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    parts.sort();
    assert!(!parts.is_empty());
    let mut tallies = std::collections::BTreeMap::<String, (u64, u64)>::new();
    for part in parts {
        for line in std::fs::read_to_string(part).unwrap().lines() {
            let (city, tally) = line.split_once('\t').unwrap();
            let city: String = serde_json::from_str(city).unwrap();
            let (n, s): (u64, u64) = serde_json::from_str(tally).unwrap();
            let t = tallies.entry(city).or_default();
            t.0 += n;
            t.1 += s;
        }
    }
    let expected: Vec<String> = tallies
        .iter()
        .map(|(c, (n, s))| {
            format!(
                "{}\t[{n}, {:?}]",
                serde_json::to_string(c).unwrap(),
                *s as f64 / *n as f64
            )
        })
        .collect();
    assert_eq!(sorted(&out), expected.iter().map(String::as_str).collect::<Vec<_>>());
    // A second run may not mix its steps into the first's, nor replace
    // them without --overwrite.
    let again = mr(&args, None);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
}

#[test]
fn missing_unknown_and_misplaced_names_fail_before_any_work() {
    let d = data(20 << 10, 40 << 10, 7, 0);
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("out");
    let cases: Vec<(Vec<OsString>, &str)> = vec![
        (
            os(&[&"yelp-city-reviews", &"--input", &named("business", &d.business)]),
            "needs input review",
        ),
        (
            with(
                reduce_side("yelp-city-reviews", &d.business, &d.reviews),
                &["--input", "users=x"],
            ),
            "no input named \"users\"",
        ),
        (
            os(&[&"yelp-city-reviews", &d.reviews]),
            "reads named inputs (business, review)",
        ),
        (
            os(&[&"yelp-city-reviews-broadcast", &d.reviews]),
            "give --side business=PATH",
        ),
        (
            os(&[&"word-count", &"--side", &named("business", &d.business), &d.reviews]),
            "has no side file named \"business\"",
        ),
        (
            os(&[&"word-count", &"--input", &named("text", &d.reviews)]),
            "reads unnamed inputs",
        ),
        (
            os(&[
                &"yelp-city-reviews-broadcast",
                &"--side",
                &named("business", &dir.path().join("nope.json")),
                &d.reviews,
            ]),
            "nope.json",
        ),
    ];
    for (args, message) in cases {
        let args = with(args, &["-o"])
            .into_iter()
            .chain([out_dir.clone().into()])
            .collect::<Vec<_>>();
        let out = mr(&args, None);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?}");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
        assert!(!out_dir.exists(), "{args:?}: an output directory was made");
    }
}
