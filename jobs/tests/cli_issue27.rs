//! Issue 27's findings in the command line, as a user meets them through
//! `mr-run`: where `--stats`, `--report` and `--bad-records-log` are
//! written (devices, FIFOs, links, the same file twice, a failed run's
//! log), stdout that is full or closed, a panic outside the tasks, and the
//! sort buffer's floor.

mod common;
use common::names;

use std::ffi::OsString;
use std::fs;
use std::io::Read;
use std::os::unix::fs::FileTypeExt;
use std::path::Path;
use std::process::{Command, ExitCode, Output, Stdio};

use mapreduce::prelude::*;

fn mr() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mr-run"));
    cmd.env("RUST_BACKTRACE", "1").stdin(Stdio::null());
    cmd
}

fn run_in(dir: &Path, args: &[&str]) -> Output {
    mr().current_dir(dir).args(args).output().expect("mr-run starts")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Asserts a clean failure with `code`: one `error:` paragraph, no panic,
/// nothing on stdout. Returns the message.
fn assert_error(o: &Output, code: i32) -> String {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(code), "exit status; stderr:\n{err}");
    assert!(o.stdout.is_empty(), "stdout: {:?}", String::from_utf8_lossy(&o.stdout));
    assert!(err.starts_with("error: ") && err.ends_with('\n'), "stderr: {err:?}");
    assert_eq!(err.lines().count(), 1, "one paragraph:\n{err}");
    assert!(!err.contains("panicked") && !err.contains("RUST_BACKTRACE"), "{err}");
    err
}

fn assert_ok(o: &Output) -> String {
    assert!(o.status.success(), "{:?}; stderr:\n{}", o.status, stderr(o));
    String::from_utf8(o.stdout.clone()).unwrap()
}

/// A directory with `in.txt`, a few words.
fn words_dir() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(tmp.path().join("in.txt"), "the cat and the hat\nand so on\n").unwrap();
    tmp
}

/// Runs a shell command in `dir`, which must succeed (`mknod`, `mkfifo`:
/// the tests run as root).
fn sh(dir: &Path, script: &str) {
    let status = Command::new("sh")
        .current_dir(dir)
        .arg("-c")
        .arg(script)
        .status()
        .unwrap();
    assert!(status.success(), "`{script}` failed (the tests need root for mknod)");
}

fn is_stats_json(bytes: &[u8]) -> bool {
    serde_json::from_slice::<serde_json::Value>(bytes).is_ok_and(|v| v["schema_version"] == 2)
}

// ---------------------------------------------------------------------------
// Finding 1: --stats and --report write through devices, FIFOs and links
// ---------------------------------------------------------------------------

#[test]
fn issue27_stats_and_report_on_a_device_write_through_it_never_replace_it() {
    let tmp = words_dir();
    let d = tmp.path();
    sh(
        d,
        "mkdir dv && mknod -m 666 dv/null c 1 3 && mknod -m 666 dv/full c 1 7",
    );
    for option in ["--stats", "--report"] {
        let o = run_in(d, &["word-count", "in.txt", "-q", option, "dv/null"]);
        assert!(assert_ok(&o).contains("\"cat\"\t1"));
        let meta = fs::symlink_metadata(d.join("dv/null")).unwrap();
        assert!(
            meta.file_type().is_char_device(),
            "{option} dv/null replaced the device node"
        );
    }
    // A write error names the option and the file, after the output was
    // printed (it says so), exit 1.
    let o = run_in(d, &["word-count", "in.txt", "-q", "--stats", "dv/full"]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.contains(
            "output is complete, but the stats file was not written: --stats dv/full: No space left on device"
        ),
        "{err}"
    );
    assert!(
        fs::symlink_metadata(d.join("dv/full"))
            .unwrap()
            .file_type()
            .is_char_device()
    );
    assert_eq!(names(&d.join("dv")), ["full", "null"], "no temporary file left");
}

#[test]
fn issue27_stats_into_a_fifo_reach_its_reader() {
    let tmp = words_dir();
    let d = tmp.path();
    sh(d, "mkfifo fifo");
    let fifo = d.join("fifo");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut got = Vec::new();
        fs::File::open(fifo).unwrap().read_to_end(&mut got).unwrap();
        let _ = tx.send(got);
    });
    let o = run_in(d, &["word-count", "in.txt", "-q", "--stats", "fifo"]);
    assert_ok(&o);
    // A FIFO replaced by a file leaves its reader waiting forever.
    let got = rx
        .recv_timeout(std::time::Duration::from_secs(30))
        .expect("the FIFO's reader got nothing");
    assert!(is_stats_json(&got), "{}", String::from_utf8_lossy(&got));
    assert!(fs::symlink_metadata(d.join("fifo")).unwrap().file_type().is_fifo());
    // A socket cannot be written, nor a directory: refused before any work.
    let _socket = std::os::unix::net::UnixListener::bind(d.join("sock")).unwrap();
    let o = run_in(d, &["word-count", "in.txt", "-q", "--report", "sock", "-o", "out"]);
    assert!(assert_error(&o, 1).contains("--report sock: is a socket"));
    let o = run_in(d, &["word-count", "in.txt", "-q", "--report", ".", "-o", "out"]);
    assert!(assert_error(&o, 1).contains("--report .: is a directory"));
    assert!(!d.join("out").exists());
}

#[test]
fn issue27_stats_through_a_symlink_write_its_target_and_keep_the_link() {
    let tmp = words_dir();
    let d = tmp.path();
    fs::create_dir(d.join("keep")).unwrap();
    fs::write(d.join("keep/stats.json"), "old").unwrap();
    std::os::unix::fs::symlink("keep/stats.json", d.join("link")).unwrap();
    // A link to a link, and a dangling one.
    std::os::unix::fs::symlink(d.join("link"), d.join("link2")).unwrap();
    std::os::unix::fs::symlink("keep/report.html", d.join("dangling")).unwrap();
    let o = run_in(
        d,
        &["word-count", "in.txt", "-q", "--stats", "link2", "--report", "dangling"],
    );
    assert_ok(&o);
    for link in ["link", "link2", "dangling"] {
        assert!(
            fs::symlink_metadata(d.join(link)).unwrap().file_type().is_symlink(),
            "{link} replaced"
        );
    }
    assert!(is_stats_json(&fs::read(d.join("keep/stats.json")).unwrap()));
    assert!(
        fs::read_to_string(d.join("keep/report.html"))
            .unwrap()
            .contains("<html")
    );
    assert_eq!(
        names(&d.join("keep")),
        ["report.html", "stats.json"],
        "no temporary file left"
    );
}

// ---------------------------------------------------------------------------
// Finding 14: the same file twice, the bad-records log, stdout
// ---------------------------------------------------------------------------

#[test]
fn issue27_two_options_naming_one_file_are_refused_before_any_work() {
    let tmp = words_dir();
    let d = tmp.path();
    fs::write(d.join("real.json"), "earlier").unwrap();
    std::os::unix::fs::symlink("real.json", d.join("alias")).unwrap();
    fs::create_dir(d.join("sub")).unwrap();
    for (a, b, c) in [
        ("--stats", "x.json", "--report=x.json"),
        ("--stats", "x.json", "--report=./sub/../x.json"),
        ("--report", "alias", "--stats=real.json"),
        ("--stats", "y.json", "--bad-records-log=y.json"),
        ("--bad-records-log", "alias", "--report=real.json"),
    ] {
        let o = run_in(d, &["word-count", "in.txt", "-q", "-o", "out", a, b, c]);
        let msg = assert_error(&o, 1);
        assert!(
            msg.contains("name the same file") && msg.contains(a),
            "{a} {b} {c}: {msg}"
        );
        assert_eq!(
            names(d),
            ["alias", "in.txt", "real.json", "sub"],
            "{a} {b} {c}: nothing written"
        );
        assert_eq!(fs::read_to_string(d.join("real.json")).unwrap(), "earlier");
    }
}

/// Yelp business lines: two good, then malformed lines 2, 4 and 5.
const BUSINESSES: &str = concat!(
    "{\"city\": \"Reno\", \"stars\": 4.5}\n",
    "not json\n",
    "{\"city\": \"Elko\"}\n",
    "{\"city\": 3\n",
    "bad again\n",
);

#[test]
fn issue27_bad_records_log_is_kept_when_the_budget_fails_the_job_and_never_wiped_for_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    fs::write(d.join("b.json"), BUSINESSES).unwrap();
    let log = d.join("bad.jsonl");
    let args = |budget: &'static str, input: &'static str| {
        [
            "yelp-city-stats",
            input,
            "-q",
            "--skip-bad-records",
            budget,
            "--bad-records-log",
            "bad.jsonl",
        ]
    };
    // The budget runs out at line 5: the two records skipped before it
    // explain the failure, and replace the earlier log.
    fs::write(&log, "earlier\n").unwrap();
    let msg = assert_error(&run_in(d, &args("2", "b.json")), 1);
    assert!(msg.contains("too many bad records") && msg.contains("line 5"), "{msg}");
    let text = fs::read_to_string(&log).unwrap();
    let lines: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let mut at: Vec<u64> = lines.iter().map(|l| l["line"].as_u64().unwrap()).collect();
    at.sort_unstable();
    assert_eq!(at, [2, 4], "{text}");
    // A run that fails before skipping anything leaves an earlier log.
    fs::write(&log, "earlier\n").unwrap();
    assert_error(&run_in(d, &args("2", "missing.json")), 1);
    assert_eq!(fs::read_to_string(&log).unwrap(), "earlier\n");
    // A successful run replaces it, even with nothing skipped.
    fs::write(d.join("good.json"), "{\"city\": \"Reno\", \"stars\": 4.5}\n").unwrap();
    assert_ok(&run_in(d, &args("2", "good.json")));
    assert_eq!(fs::read_to_string(&log).unwrap(), "");
    assert_eq!(names(d), ["b.json", "bad.jsonl", "good.json"], "no temporary file left");
}

#[test]
fn issue27_cat_output_to_a_full_stdout_fails_saying_the_output_is_committed() {
    let tmp = words_dir();
    let d = tmp.path();
    let full = fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
    let o = mr()
        .current_dir(d)
        .args([
            "word-count",
            "in.txt",
            "-q",
            "-o",
            "out",
            "--cat-output",
            "--stats",
            "s.json",
        ])
        .stdout(full)
        .output()
        .unwrap();
    let msg = assert_error(&o, 1);
    assert!(
        msg.contains("the job's output is committed in out, but printing it (--cat-output) failed")
            && msg.contains("No space left on device"),
        "{msg}"
    );
    // Committed, and described: the stats file says what is in out.
    assert_eq!(names(&d.join("out")), ["_SUCCESS", "part-00000"]);
    assert!(is_stats_json(&fs::read(d.join("s.json")).unwrap()));
}

/// `mr-run ARGS` started with its stdout closed (`>&-`).
fn run_with_stdout_closed(dir: &Path, args: &[&str]) -> Output {
    Command::new("sh")
        .current_dir(dir)
        .arg("-c")
        .arg("exec \"$0\" \"$@\" >&-")
        .arg(env!("CARGO_BIN_EXE_mr-run"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

#[test]
fn issue27_a_closed_stdout_fails_as_gnu_tools_do_before_any_work() {
    let tmp = words_dir();
    let d = tmp.path();
    let o = run_with_stdout_closed(d, &["word-count", "in.txt", "-q"]);
    assert!(assert_error(&o, 1).contains("error: <stdout>: Bad file descriptor"));
    let o = run_with_stdout_closed(d, &["word-count", "in.txt", "-q", "-o", "out", "--cat-output"]);
    assert!(assert_error(&o, 1).contains("<stdout>: Bad file descriptor"));
    assert!(!d.join("out").exists(), "refused before any work");
    for args in [
        &["word-count", "--describe"][..],
        &["list"],
        &["gen", "text", "--size", "1K", "-o", "-"],
    ] {
        let o = run_with_stdout_closed(d, args);
        assert!(
            assert_error(&o, 1).contains("<stdout>: Bad file descriptor"),
            "{args:?}"
        );
    }
    // Output that does not go to stdout runs as usual.
    assert_ok(&run_with_stdout_closed(d, &["word-count", "in.txt", "-q", "-o", "out"]));
    assert_eq!(names(&d.join("out")), ["_SUCCESS", "part-00000"]);
    assert_ok(&run_with_stdout_closed(
        d,
        &["word-count", "in.txt", "-q", "--no-cat-output"],
    ));
}

// ---------------------------------------------------------------------------
// Finding 14: a panic outside the tasks
// ---------------------------------------------------------------------------

/// A job whose built-in sample panics: the sample is made by the driver,
/// outside any task, as a user's job binary would run it.
fn job_with_a_broken_sample() -> impl AnyJob {
    Job::new(
        "broken-sample",
        step::map(mapreduce_jobs::examples::WcTally::default()).reduce(mapreduce_jobs::words::SumCounts),
    )
    .sample_input(|| panic!("the sample generator broke"))
}

const PANIC_CHILD: &str = "ISSUE27_PANIC_CHILD";

#[test]
fn issue27_a_panic_outside_the_tasks_is_one_error_paragraph() {
    if std::env::var_os(PANIC_CHILD).is_some() {
        // The child: a job binary's main, its exit status passed on.
        let argv = ["broken-sample", "-q"].map(OsString::from);
        let code = mapreduce::cli::run_with_args(&job_with_a_broken_sample(), argv);
        std::process::exit(match code {
            c if c == ExitCode::SUCCESS => 0,
            c if c == ExitCode::FAILURE => 1,
            _ => 3,
        });
    }
    let o = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "issue27_a_panic_outside_the_tasks_is_one_error_paragraph",
            "--nocapture",
        ])
        .env(PANIC_CHILD, "1")
        .env("RUST_BACKTRACE", "1")
        .output()
        .unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "stderr:\n{err}");
    assert_eq!(err.lines().count(), 1, "one paragraph:\n{err}");
    assert!(
        err.starts_with("error: internal error: the sample generator broke (at jobs/tests/cli_issue27.rs:"),
        "{err}"
    );
    assert!(!err.contains("panicked") && !err.contains("stack backtrace"), "{err}");
}

// ---------------------------------------------------------------------------
// Finding 10: the sort buffer's floor
// ---------------------------------------------------------------------------

#[test]
fn issue27_a_tiny_sort_buffer_is_raised_to_the_floor_and_spills_are_bounded() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let mut text = Vec::new();
    mapreduce_jobs::datagen::text(&mut text, 300 << 10, 5).unwrap();
    fs::write(d.join("t.txt"), text).unwrap();
    let expected = assert_ok(&run_in(d, &["next-word-stats", "t.txt", "-q"]));
    let o = run_in(
        d,
        &[
            "next-word-stats",
            "t.txt",
            "--sort-buffer",
            "4K",
            "--stats",
            "s.json",
            "--temp-dir",
            "tmp",
        ],
    );
    assert!(assert_ok(&o) == expected, "a raised sort buffer changed the output");
    let err = stderr(&o);
    assert!(
        err.starts_with("warning: --sort-buffer 4096 bytes is below the smallest sort buffer, 64K"),
        "{err}"
    );
    let stats: serde_json::Value = serde_json::from_slice(&fs::read(d.join("s.json")).unwrap()).unwrap();
    let spills = stats["counters"]["Map-Reduce Framework"]["SPILLS"].as_u64().unwrap();
    // 4K held one record a spill: 100,000 spills here. 64K holds hundreds.
    assert!(spills > 0 && spills < 1_000, "{spills} spills");
    // With -q, no warning.
    let o = run_in(
        d,
        &["next-word-stats", "t.txt", "-q", "--sort-buffer", "1K", "-o", "out"],
    );
    assert_ok(&o);
    assert!(o.stderr.is_empty(), "{}", stderr(&o));
}
