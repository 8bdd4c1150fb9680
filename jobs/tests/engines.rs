//! The jobs on real engines: Apache Hadoop's own local job runner
//! (`-r hadoop`, `mapreduce.framework.name=local`, its Streaming jar) and
//! Apache Spark (`-r spark`, `local[2]`), installed by
//! `engines/install.sh` (Maven Central and PyPI, cached under `.engines/`)
//! on first use. A missing engine fails these tests; nothing is skipped.
//!
//! Every job in `jobs/` must print exactly what `-r local` prints, on
//! Hadoop at 1 and at 3 reducers (total-order jobs at 3), with Hadoop
//! cutting the inputs into several splits so that its unstable sort and
//! merge order meet values that must keep their input order; on Spark at
//! 3 reducers (its driver treats 1 no differently, and each run is a
//! spark-submit of several seconds: CI's time goes to the cases that differ).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

mod common;

fn mr_run() -> &'static str {
    env!("CARGO_BIN_EXE_mr-run")
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Installs the engines once per test process (a no-op when cached).
fn engines() -> &'static Path {
    static INSTALLED: OnceLock<PathBuf> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        let root = repo();
        let out = Command::new("bash")
            .arg(root.join("engines/install.sh"))
            .output()
            .expect("bash runs");
        assert!(
            out.status.success(),
            "engines/install.sh failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        root
    })
}

fn hadoop_args() -> Vec<String> {
    let root = engines();
    vec![
        "-r".into(),
        "hadoop".into(),
        "--hadoop-bin".into(),
        root.join("engines/hadoop/hadoop").display().to_string(),
        "--hadoop-streaming-jar".into(),
        root.join(".engines/hadoop/hadoop-streaming.jar").display().to_string(),
        // Several map tasks even for these small inputs.
        "-D".into(),
        "mapreduce.input.fileinputformat.split.maxsize=24576".into(),
    ]
}

fn spark_args() -> Vec<String> {
    let root = engines();
    vec![
        "-r".into(),
        "spark".into(),
        "--spark-submit".into(),
        root.join("engines/spark/spark-submit").display().to_string(),
        "--spark-master".into(),
        "local[2]".into(),
    ]
}

/// JVM options for the engines' short test jobs: the client JIT and the
/// serial collector start faster and take a third less CPU (measured:
/// a two-step job on the local job runner, 11.1 s -> 8.2 s).
const QUICK_JVM: &str = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC";

fn run<S: AsRef<std::ffi::OsStr>>(job: &str, inputs: &[S], reducers: u32, extra: &[String]) -> Output {
    Command::new(mr_run())
        .arg(job)
        .args(inputs)
        .args(["--reducers", &reducers.to_string(), "-q"])
        .args(extra)
        .env("HADOOP_OPTS", QUICK_JVM)
        .env("SPARK_SUBMIT_OPTS", QUICK_JVM)
        .output()
        .expect("mr-run runs")
}

fn output_of<S: AsRef<std::ffi::OsStr>>(job: &str, inputs: &[S], reducers: u32, extra: &[String]) -> Vec<u8> {
    let out = run(job, inputs, reducers, extra);
    assert!(
        out.status.success(),
        "{job} {extra:?} at {reducers} reducers failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn jobs() -> Vec<String> {
    let listing = Command::new(mr_run()).arg("list").output().expect("list");
    String::from_utf8_lossy(&listing.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        // teragen makes its own input from its options.
        .filter(|j| j != "teragen")
        .collect()
}

/// Every job on `engine` equals `-r local` at 1 and 3 reducers, or at 3
/// only with `only_3`.
fn every_job_equals_local(engine: &[String], only_3: bool) {
    let data = common::inputs(mr_run());
    let jobs = jobs();
    assert!(jobs.len() >= 14, "{jobs:?}");
    for job in &jobs {
        let (inputs, counts): (&[PathBuf], &[u32]) = match job.as_str() {
            "terasort" | "teravalidate" => (&data.tera, if job == "terasort" { &[3] } else { &[1, 3] }),
            "sort" | "countwords" => (&data.text, &[3]),
            j if j.starts_with("yelp") => (&data.yelp, &[1, 3]),
            _ => (&data.text, &[1, 3]),
        };
        // The joins at 3 reducers only: the dedicated join test below runs
        // them at 1, with gzip, side files and options.
        let counts: &[u32] = if only_3 || common::join_args(job, &data.yelp, &data.reviews).is_some() {
            &[3]
        } else {
            counts
        };
        let inputs: Vec<std::ffi::OsString> = common::join_args(job, &data.yelp, &data.reviews)
            .unwrap_or_else(|| inputs.iter().map(|p| p.clone().into_os_string()).collect());
        let inputs = inputs.as_slice();
        for &reducers in counts {
            let expected = output_of(job, inputs, reducers, &[]);
            assert!(!expected.is_empty(), "{job}: no output");
            let got = output_of(job, inputs, reducers, engine);
            assert!(
                got == expected,
                "{job} at {reducers} reducers: {} differs from -r local\n--- engine\n{}\n--- local\n{}",
                engine[1],
                String::from_utf8_lossy(&got[..got.len().min(800)]),
                String::from_utf8_lossy(&expected[..expected.len().min(800)])
            );
        }
    }
}

#[test]
fn every_job_on_hadoops_local_job_runner_prints_what_the_local_runner_prints() {
    every_job_equals_local(&hadoop_args(), false);
}

#[test]
fn every_job_on_spark_local_prints_what_the_local_runner_prints() {
    every_job_equals_local(&spark_args(), true);
}

/// A Yelp-like input with one line that is not JSON.
fn bad_input(dir: &Path) -> PathBuf {
    let input = dir.join("business.json");
    std::fs::write(
        &input,
        b"{\"city\": \"Reno\", \"state\": \"NV\", \"stars\": 4.5, \"review_count\": 3, \"is_open\": 1}\nnot json\n",
    )
    .unwrap();
    input
}

#[test]
fn a_failing_mapper_on_hadoop_and_spark_names_the_step_the_input_and_the_record() {
    let dir = tempfile::tempdir().unwrap();
    let input = bad_input(dir.path());
    for engine in [hadoop_args(), spark_args()] {
        let out = run("yelp-city-stats", std::slice::from_ref(&input), 1, &engine);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{}: {stderr}", engine[1]);
        assert!(out.stdout.is_empty(), "{}", engine[1]);
        // The task's own paragraph: step, file, line, the parser's error.
        assert!(stderr.contains("step 1"), "{}: {stderr}", engine[1]);
        // Spark cuts even this file in two: the record is the first whole
        // line of the second split.
        assert!(
            stderr.contains("business.json, line 2") || stderr.contains("business.json, line 1 of the split from byte"),
            "{}: {stderr}",
            engine[1]
        );
        assert!(stderr.contains("invalid JSON record"), "{}: {stderr}", engine[1]);
        assert!(stderr.contains("bad record"), "{}: {stderr}", engine[1]);
        assert!(
            stderr.contains(if engine[1] == "hadoop" { "on Hadoop" } else { "on Spark" }),
            "{}: {stderr}",
            engine[1]
        );
        // One paragraph, not the engine's log.
        assert!(stderr.lines().count() <= 6, "{}: {stderr}", engine[1]);
    }
}

/// `--dry-run` prints the commands and runs nothing; the test pins them
/// (the run directory's time and process id replaced).
#[test]
fn hadoop_dry_run_prints_the_commands_a_golden_file_pins() {
    let out = Command::new(mr_run())
        .args([
            "yelp-top-city",
            "hdfs:///data/business.json",
            "-r",
            "hadoop",
            "--dry-run",
            "--reducers",
            "3",
            "--hadoop-bin",
            "/opt/hadoop/bin/hadoop",
            "--hadoop-streaming-jar",
            "/opt/hadoop/hadoop-streaming.jar",
            "--cloud-tmp-dir",
            "hdfs:///tmp/mr",
            "-D",
            "mapreduce.job.queuename=batch",
            "-q",
        ])
        .env("USER", "alice")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    // yelp-top-city.alice.SECONDS.MICROS.PID -> yelp-top-city.alice.RUN
    let mut pinned = String::new();
    let mut rest = text.as_str();
    while let Some(at) = rest.find("yelp-top-city.alice.") {
        let after = &rest[at + "yelp-top-city.alice.".len()..];
        let end = after
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(after.len());
        pinned.push_str(&rest[..at]);
        pinned.push_str("yelp-top-city.alice.RUN");
        rest = &after[end..];
    }
    pinned.push_str(rest);
    let bin = std::fs::canonicalize(mr_run()).unwrap().display().to_string();
    let pinned = pinned.replace(&bin, "/BIN/mr-run");
    let golden_path = repo().join("jobs/tests/golden/hadoop-dry-run.txt");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&golden_path, &pinned).unwrap();
    }
    let golden = std::fs::read_to_string(&golden_path).expect("golden file");
    assert_eq!(
        pinned, golden,
        "--dry-run output changed (UPDATE_GOLDEN=1 rewrites the golden file)"
    );
}

/// The joins on both engines with what a cluster run adds: reviews
/// gzipped, the business file shipped as a side file (`-files`,
/// `--files`), and the job's `--min-reviews` handed to every task; each
/// equals the Python oracle and `-r local`.
#[test]
fn the_joins_on_hadoop_and_spark_equal_the_oracle_with_gzip_side_files_and_options() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let business = common::write(dir.path(), "business.json", mapreduce_jobs::datagen::yelp, 40 << 10, 11);
    let plain = common::write_reviews(&business, &dir.path().join("review.json"), 120 << 10, 11);
    let reviews = dir.path().join("review.json.gz");
    let mut gz = flate2::write::GzEncoder::new(std::fs::File::create(&reviews).unwrap(), flate2::Compression::fast());
    gz.write_all(&std::fs::read(&plain).unwrap()).unwrap();
    gz.finish().unwrap();
    let oracle = Command::new("python3")
        .arg(repo().join("jobs/tests/oracle/yelp_city_reviews.py"))
        .args(["--min-reviews", "2", "--business"])
        .arg(&business)
        .arg(&plain)
        .output()
        .expect("python3");
    assert!(oracle.status.success(), "{}", String::from_utf8_lossy(&oracle.stderr));
    assert!(oracle.stdout.len() > 100, "{}", String::from_utf8_lossy(&oracle.stdout));
    let min = ["--min-reviews".to_owned(), "2".to_owned()];
    for job in ["yelp-city-reviews", "yelp-city-reviews-broadcast"] {
        let args = common::join_args(job, std::slice::from_ref(&business), &reviews).unwrap();
        let local = output_of(job, &args, 1, &min);
        assert!(local == oracle.stdout, "{job}: -r local differs from the oracle");
        for engine in [hadoop_args(), spark_args()] {
            let got = output_of(job, &args, 1, &[engine.as_slice(), &min].concat());
            assert!(
                got == oracle.stdout,
                "{job} on {}: differs from the oracle\n{}",
                engine[1],
                String::from_utf8_lossy(&got)
            );
        }
    }
}
