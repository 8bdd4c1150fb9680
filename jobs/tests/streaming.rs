//! Streaming task mode against the local runner: every job in `jobs/` run
//! as Hadoop Streaming would run it, one `mr-run JOB --step-num N
//! --mapper|--reducer` process per task, with a byte-order sort between
//! them, must print exactly what `mr-run JOB` prints, at 1 and at 3
//! reducers, through this file's harness and through `-r streaming`
//! (total-order jobs at 3 reducers, through `-r streaming`, which samples
//! their boundaries).
//!
//! The harness does what Hadoop Streaming does around the tasks: one map
//! task per input file (with `mapreduce_map_input_file` set), the map
//! outputs sorted in byte order of their three key fields (partition,
//! key, and the arrival position or, for a secondary sort, the value),
//! cut into one input per reduce task by Hadoop's
//! `KeyFieldBasedPartitioner` rule on the first field. Like Hadoop's, its
//! sort is not stable and it merges the map outputs in no particular
//! order (here: last task first), so a key's values come in input order
//! only because the lines say where they arrived.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

mod common;

fn mr_run() -> &'static str {
    env!("CARGO_BIN_EXE_mr-run")
}

/// Runs `mr-run JOB --step-num STEP --KIND` with `input` on stdin.
fn task(job: &str, step: usize, kind: &str, reducers: u32, input: &[u8], file: Option<&Path>) -> Vec<u8> {
    let mut cmd = Command::new(mr_run());
    cmd.args([
        job,
        "--step-num",
        &step.to_string(),
        kind,
        "--reducers",
        &reducers.to_string(),
    ])
    .stdin(Stdio::piped())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    if let Some(f) = file {
        cmd.env("mapreduce_map_input_file", f);
    }
    let mut child = cmd.spawn().expect("mr-run starts");
    let mut stdin = child.stdin.take().expect("stdin");
    let input = input.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().expect("task runs");
    writer.join().expect("writer").expect("stdin written");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{job} step {step} {kind} failed: {stderr}");
    // Counters and status are Hadoop's reporter lines, nothing else.
    for line in stderr.lines() {
        assert!(line.starts_with("reporter:"), "{job} step {step} {kind}: {line}");
    }
    out.stdout
}

/// The reduce task Hadoop's `KeyFieldBasedPartitioner -k1,1` sends a line
/// to (Java `31 * h + b` over the first field's signed bytes, from 0;
/// written here again as the oracle for the engine's tokens).
fn hadoop_partition(line: &[u8], reducers: u32) -> u32 {
    let field = line.split(|&b| b == b'\t').next().unwrap_or_default();
    let h = field
        .iter()
        .fold(0i32, |h, &b| h.wrapping_mul(31).wrapping_add(i32::from(b as i8)));
    (h & 0x7fff_ffff) as u32 % reducers
}

/// The byte-order key of a shuffle line: its first `fields` tab-separated fields.
fn sort_key(line: &[u8], fields: usize) -> &[u8] {
    let mut end = 0;
    for _ in 0..fields {
        match line[end..].iter().position(|&b| b == b'\t') {
            Some(i) if end + i < line.len() => end += i + 1,
            _ => return line,
        }
    }
    &line[..end - 1]
}

/// Runs `job` as Streaming tasks over `inputs`; returns the concatenated
/// output of the last step's tasks.
fn run_streaming(job: &str, inputs: &[PathBuf], reducers: u32) -> Vec<u8> {
    let describe = Command::new(mr_run())
        .args([job, "--steps"])
        .output()
        .expect("describe");
    let steps: Value = serde_json::from_slice(&describe.stdout).expect("steps JSON");
    let steps = steps["steps"].as_array().expect("steps").clone();
    // Each map task's input: raw files for the first step, then the
    // previous step's task outputs.
    let mut task_inputs: Vec<(Vec<u8>, Option<PathBuf>)> = inputs
        .iter()
        .map(|p| (std::fs::read(p).expect("input"), Some(p.clone())))
        .collect();
    for (n, step) in steps.iter().enumerate() {
        let maps: Vec<Vec<u8>> = task_inputs
            .iter()
            .map(|(bytes, file)| task(job, n, "--mapper", reducers, bytes, file.as_deref()))
            .collect();
        if step["type"] == "map-only" {
            task_inputs = maps
                .into_iter()
                .enumerate()
                .map(|(i, m)| (m, Some(PathBuf::from(format!("/tmp/step-{n}/part-{i:05}")))))
                .collect();
            continue;
        }
        let fields = 3;
        // As Hadoop does on a map task's sorted spill: the combiner task.
        let maps: Vec<Vec<u8>> = if step["combiner"].is_null() {
            maps
        } else {
            maps.iter()
                .map(|m| {
                    let mut lines: Vec<&[u8]> = m.split_inclusive(|&b| b == b'\n').collect();
                    lines.sort_unstable_by(|a, b| sort_key(a, fields).cmp(sort_key(b, fields)));
                    task(job, n, "--combiner", reducers, &lines.concat(), None)
                })
                .collect()
        };
        let mut lines: Vec<&[u8]> = maps
            .iter()
            .rev()
            .flat_map(|m| m.split_inclusive(|&b| b == b'\n'))
            .collect();
        lines.sort_unstable_by(|a, b| sort_key(a, fields).cmp(sort_key(b, fields)));
        task_inputs = (0..reducers)
            .map(|r| {
                let mine: Vec<u8> = lines
                    .iter()
                    .filter(|l| hadoop_partition(l, reducers) == r)
                    .flat_map(|l| l.iter().copied())
                    .collect();
                // The next step's map task reads this part file.
                let part = PathBuf::from(format!("/tmp/step-{n}/part-{r:05}"));
                (task(job, n, "--reducer", reducers, &mine, None), Some(part))
            })
            .collect();
    }
    task_inputs.into_iter().flat_map(|(out, _)| out).collect()
}

fn run_local(job: &str, inputs: &[PathBuf], reducers: u32) -> Vec<u8> {
    run_runner(job, inputs, reducers, "local")
}

fn run_runner(job: &str, inputs: &[PathBuf], reducers: u32, runner: &str) -> Vec<u8> {
    let out = Command::new(mr_run())
        .arg(job)
        .args(inputs)
        .args(["--reducers", &reducers.to_string(), "-q", "-r", runner])
        .output()
        .expect("mr-run runs");
    assert!(out.status.success(), "{job}: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

#[test]
fn every_job_as_streaming_tasks_prints_what_the_local_runner_prints() {
    let data = common::inputs(mr_run());
    let (yelp, text, tera) = (data.yelp.clone(), data.text.clone(), data.tera.clone());
    let listing = Command::new(mr_run()).arg("list").output().expect("list");
    let jobs: Vec<String> = String::from_utf8_lossy(&listing.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .collect();
    assert!(jobs.len() >= 14, "{jobs:?}");
    let mut checked = Vec::new();
    for job in &jobs {
        // teragen's command line makes its own input (the tasks file), so
        // `mr-run teragen FILE` is not how it runs.
        if job == "teragen" {
            continue;
        }
        // Total order: the `-r streaming` runner samples the boundaries
        // and hands the mappers a partition file; this harness has no
        // sampler, so these run only through the runner.
        if matches!(job.as_str(), "terasort" | "sort" | "countwords") {
            let inputs = if job == "terasort" { &tera } else { &text };
            let expected = run_local(job, inputs, 3);
            assert!(!expected.is_empty(), "{job}: no output");
            assert!(
                run_runner(job, inputs, 3, "streaming") == expected,
                "{job}: -r streaming differs from -r local"
            );
            checked.push(job.as_str());
            continue;
        }
        // Named inputs and side files: the harness feeds one input per
        // task by hand and knows neither; these run through the runner
        // (and jobs/tests/joins.rs checks them against an oracle).
        if let Some(args) = common::join_args(job, &yelp, &data.reviews) {
            for reducers in [1, 3] {
                let run = |runner: &str| {
                    let out = Command::new(mr_run())
                        .arg(job)
                        .args(&args)
                        .args(["--reducers", &reducers.to_string(), "-q", "-r", runner])
                        .output()
                        .unwrap();
                    assert!(out.status.success(), "{job}: {}", String::from_utf8_lossy(&out.stderr));
                    out.stdout
                };
                let expected = run("local");
                assert!(!expected.is_empty(), "{job}: no output");
                assert!(
                    run("streaming") == expected,
                    "{job} at {reducers} reducers: -r streaming differs"
                );
            }
            checked.push(job.as_str());
            continue;
        }
        let inputs = match job.as_str() {
            j if j.starts_with("yelp") => &yelp,
            _ => &text,
        };
        for reducers in [1, 3] {
            let expected = run_local(job, inputs, reducers);
            // The `-r streaming` runner does what this harness does.
            let runner = run_runner(job, inputs, reducers, "streaming");
            assert!(
                runner == expected,
                "{job} at {reducers} reducers: -r streaming differs from -r local"
            );
            let got = run_streaming(job, inputs, reducers);
            assert!(!expected.is_empty(), "{job}: no output");
            assert!(
                got == expected,
                "{job} at {reducers} reducers: Streaming output differs from local\n--- streaming\n{}\n--- local\n{}",
                String::from_utf8_lossy(&got[..got.len().min(600)]),
                String::from_utf8_lossy(&expected[..expected.len().min(600)])
            );
        }
        checked.push(job.as_str());
    }
    assert_eq!(checked.len(), jobs.len() - 1, "{checked:?}");

    // Many splits: map tasks run on the local runner's splits, so a key's
    // values (first-letter keeps input order) arrive in the same order.
    for job in ["first-letter", "word-count", "count-lines-by-file"] {
        let run = |runner: &str| {
            let out = Command::new(mr_run())
                .arg(job)
                .args(&text)
                .args(["--block-size", "8K", "--reducers", "3", "-q", "-r", runner])
                .output()
                .unwrap();
            assert!(out.status.success(), "{job}: {}", String::from_utf8_lossy(&out.stderr));
            out.stdout
        };
        assert!(
            run("streaming") == run("local"),
            "{job} with 8K splits: -r streaming differs"
        );
    }
}

#[test]
fn a_failing_mapper_prints_the_framework_error_and_exits_non_zero() {
    let mut cmd = Command::new(mr_run());
    cmd.args(["yelp-city-stats", "--step-num", "0", "--mapper"])
        .env("mapreduce_map_input_file", "hdfs:///data/business.json")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(
            b"{\"city\": \"Reno\", \"state\": \"NV\", \"stars\": 4.5, \"review_count\": 3, \"is_open\": 1}\nnot json\n",
        )
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("step 1: bad record at hdfs:/data/business.json, line 2")
            || stderr.contains("hdfs:///data/business.json, line 2"),
        "{stderr}"
    );
    let bad = Command::new(mr_run())
        .args(["word-count", "--step-num", "5", "--mapper"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("has 1 step(s)"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
}

#[test]
fn a_failing_task_under_the_streaming_runner_reports_its_own_error() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("business.json");
    std::fs::write(
        &input,
        b"{\"city\": \"Reno\", \"state\": \"NV\", \"stars\": 4.5, \"review_count\": 3, \"is_open\": 1}\nnot json\n",
    )
    .unwrap();
    let out = Command::new(mr_run())
        .args(["yelp-city-stats", "-r", "streaming", "-q"])
        .arg(&input)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(out.stdout.is_empty());
    // The task's own paragraph (step, file, line, error), then which task
    // process failed; a bad record is not retried (exit status 2).
    assert!(stderr.contains("bad record at"), "{stderr}");
    assert!(stderr.contains("business.json, line 2"), "{stderr}");
    assert!(stderr.contains("mapper task 0 exited with status 2"), "{stderr}");
    assert!(!stderr.contains("attempts"), "{stderr}");
}

/// The processes (pid, command line) whose environment holds `marker`,
/// a `NAME=VALUE` that only one test's runner and its children have.
#[cfg(target_os = "linux")]
fn marked_processes(marker: &str) -> Vec<(u32, String)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else {
            continue;
        };
        // Gone already, or a zombie (whose environment reads empty).
        let Ok(environ) = std::fs::read(entry.path().join("environ")) else {
            continue;
        };
        if environ.split(|&b| b == 0).any(|v| v == marker.as_bytes()) {
            let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
            out.push((pid, String::from_utf8_lossy(&cmdline).replace('\0', " ")));
        }
    }
    out
}

/// Waits up to `secs` for a marked process whose command line contains
/// `what`.
#[cfg(target_os = "linux")]
fn wait_for_marked(marker: &str, what: &str, secs: u64) -> bool {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    while std::time::Instant::now() < deadline {
        if marked_processes(marker).iter().any(|(_, cmd)| cmd.contains(what)) {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    false
}

/// Audit finding 6 of issue 27: `-r streaming` killed with SIGKILL left
/// its children running, re-parented to init: GNU `sort` went on writing
/// hundreds of MB into the temp dir. Every child now gets SIGKILL with its
/// runner. The `sort` here is a stand-in on PATH that only sleeps, so
/// that it is surely still running when the runner is killed; the map
/// tasks are the job binary itself.
#[cfg(target_os = "linux")]
#[test]
fn issue27_sigkilled_streaming_runner_leaves_no_child_running() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let bin = tmp.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let sort = bin.join("sort");
    std::fs::write(&sort, "#!/bin/sh\nexec sleep 60\n").unwrap();
    std::fs::set_permissions(&sort, std::fs::Permissions::from_mode(0o755)).unwrap();
    let input = common::write(tmp.path(), "text.txt", mapreduce_jobs::datagen::text, 8 << 20, 3);
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    // Kill it once while map tasks run, once while `sort` runs.
    for (stage, what) in [("map", "--mapper"), ("sort", "sleep 60")] {
        let marker = format!(
            "MR_ISSUE27_ORPHANS={}-{stage}-{:?}",
            std::process::id(),
            std::time::SystemTime::now()
        );
        let (name, value) = marker.split_once('=').unwrap();
        let mut runner = Command::new(mr_run())
            .args(["word-count", "-r", "streaming", "-q", "--block-size", "1M"])
            .arg("--temp-dir")
            .arg(tmp.path().join("tmp"))
            .arg(&input)
            .env("PATH", &path)
            .env(name, value)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let reached = wait_for_marked(&marker, what, 120);
        runner.kill().unwrap();
        runner.wait().unwrap();
        assert!(reached, "{stage}: no process with {what:?} seen before the job ended");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
        let mut left = marked_processes(&marker);
        while !left.is_empty() && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(20));
            left = marked_processes(&marker);
        }
        // Leave nothing behind even when the check fails.
        for (pid, _) in &left {
            let _ = Command::new("kill").args(["-KILL", &pid.to_string()]).status();
        }
        assert!(
            left.is_empty(),
            "{stage}: still running 2 s after the runner's SIGKILL: {left:?}"
        );
    }
}

#[test]
fn issue28_a_later_steps_boundaries_from_samples_of_samples_are_the_whole_samples() {
    // countwords' step 1 output (its step 2's input) as pair lines: the
    // word counts of a text with 400 words at 1 to 37 occurrences.
    let mut text = String::new();
    for i in 0..400u32 {
        for _ in 0..=(i * 11 % 37) {
            text.push_str(&format!("w{i} "));
        }
        text.push('\n');
    }
    let mapped = task("countwords", 0, "--mapper", 1, text.as_bytes(), None);
    let mut lines: Vec<&[u8]> = mapped.split_inclusive(|&b| b == b'\n').collect();
    lines.sort();
    let pairs = task("countwords", 0, "--reducer", 1, &lines.concat(), None);
    assert_eq!(pairs.iter().filter(|&&b| b == b'\n').count(), 400);
    let whole = task("countwords", 1, "--sample-partitions", 3, &pairs, None);
    let bounds: Vec<&[u8]> = whole.split(|&b| b == b'\n').filter(|l| !l.is_empty()).collect();
    assert_eq!(bounds.len(), 2, "{}", String::from_utf8_lossy(&whole));
    assert!(bounds[0] < bounds[1], "{}", String::from_utf8_lossy(&whole));
    // What -r spark's driver does: each part sampled apart, then cut.
    let half = pairs.len() / 2 + pairs[pairs.len() / 2..].iter().position(|&b| b == b'\n').unwrap() + 1;
    let mut samples = task("countwords", 1, "--sample-pairs", 3, &pairs[..half], None);
    samples.extend(task("countwords", 1, "--sample-pairs", 3, &pairs[half..], None));
    assert_eq!(task("countwords", 1, "--sample-partitions", 3, &samples, None), whole);
    for (job, step, said) in [
        ("terasort", "0", "which the runner samples itself"),
        ("word-count", "0", "does not partition by total order"),
    ] {
        let out = Command::new(mr_run())
            .args([job, "--step-num", step, "--sample-partitions"])
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && stderr.contains(said), "{job}: {stderr}");
    }
}
