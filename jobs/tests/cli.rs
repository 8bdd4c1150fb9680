//! End-to-end tests of the `mr-run` binary: error reporting, the output
//! committer, input resolution, job listing/description and `mr-run gen`,
//! all as a user sees them (exit status, stdout/stderr bytes, files).

use std::collections::BTreeSet;
use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::{Output, Stdio};

use assert_cmd::Command;
use flate2::Compression;
use flate2::write::GzEncoder;
use serde_json::Value;
use tempfile::TempDir;

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// `mr-run`, with `RUST_BACKTRACE=1` so that any panic or backtrace that
/// escapes to stderr shows up in full and fails the checks below.
fn mr(dir: &TempDir) -> Command {
    let mut cmd = assert_cmd::cargo::cargo_bin_cmd!("mr-run");
    cmd.current_dir(dir.path()).env("RUST_BACKTRACE", "1");
    cmd
}

/// Runs `cmd` with the given arguments and returns what it did.
fn run(cmd: &mut Command, args: &[&str]) -> Output {
    cmd.args(args).output().expect("mr-run starts")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("stdout is UTF-8")
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).expect("stderr is UTF-8")
}

/// Fails if stderr holds a Rust panic or backtrace.
fn assert_no_panic(o: &Output) {
    let err = stderr(o);
    for noise in ["panicked", "RUST_BACKTRACE", "stack backtrace", "note: run with"] {
        assert!(!err.contains(noise), "stderr has {noise:?}:\n{err}");
    }
}

/// Asserts a clean failure: exit status `code`, nothing on stdout, and one
/// `error: ...` line on stderr without any panic. Returns the message.
fn assert_error(o: &Output, code: i32) -> String {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(code), "exit status; stderr:\n{err}");
    assert!(o.stdout.is_empty(), "stdout should be empty, got {:?}", stdout(o));
    assert_no_panic(o);
    assert!(err.starts_with("error: "), "stderr: {err:?}");
    assert!(err.ends_with('\n'), "stderr: {err:?}");
    assert_eq!(err.lines().count(), 1, "one error paragraph, got:\n{err}");
    assert_eq!(err.matches("error:").count(), 1, "stderr: {err:?}");
    err
}

/// Asserts a command-line usage error: exit status 2, nothing on stdout,
/// clap's `error:` first on stderr, and no panic. Returns stderr.
fn assert_usage_error(o: &Output) -> String {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(2), "exit status; stderr:\n{err}");
    assert!(o.stdout.is_empty(), "stdout should be empty, got {:?}", stdout(o));
    assert_no_panic(o);
    assert!(err.starts_with("error: "), "stderr: {err:?}");
    err
}

/// Asserts success and returns stdout.
fn assert_ok(o: &Output) -> String {
    assert!(o.status.success(), "exit status {:?}; stderr:\n{}", o.status, stderr(o));
    assert_no_panic(o);
    stdout(o)
}

/// Runs `mr-run ARGS` with its stdout a pipe whose reader is gone (as in
/// `mr-run ... | head -1`) and checks it ends quietly: success, no panic,
/// no error message.
fn assert_quiet_into_closed_pipe(dir: &TempDir, args: &[&str]) {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let o = std::process::Command::new(assert_cmd::cargo::cargo_bin!("mr-run"))
        .current_dir(dir.path())
        .env("RUST_BACKTRACE", "1")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::from(writer))
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert_no_panic(&o);
    assert!(o.status.success(), "{:?}: {}", o.status, stderr(&o));
    assert!(!stderr(&o).contains("error"), "{}", stderr(&o));
}

fn write(dir: &TempDir, name: &str, contents: impl AsRef<[u8]>) {
    let path = dir.path().join(name);
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).unwrap();
    }
    fs::write(path, contents).unwrap();
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::default());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

/// The names in a directory, sorted (hidden ones included).
fn names(dir: &Path) -> BTreeSet<String> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

/// Lines of `text`, sorted.
fn sorted_lines(text: &str) -> Vec<&str> {
    let mut lines: Vec<&str> = text.lines().collect();
    lines.sort_unstable();
    lines
}

/// A `count-lines-by-file` output key for `path`.
fn file_key(path: &Path) -> String {
    serde_json::to_string(&format!("file://{}", path.display())).unwrap()
}

/// A small text and its exact `word-count` output (sorted by key, JSON
/// keys, tab, count).
const WORDS_TEXT: &str = "The cat and the hat.\nAnd so, and then: AND don't!\n";
const WORDS_COUNTED: &str = "\"and\"\t4\n\"cat\"\t1\n\"don't\"\t1\n\"hat\"\t1\n\"so\"\t1\n\"the\"\t2\n\"then\"\t1\n";

/// Three valid business lines (cities A, B, A) with a malformed line 2.
const BUSINESSES_ONE_BAD: &str = concat!(
    "{\"city\":\"A\",\"state\":\"X\",\"stars\":4.0,\"review_count\":3,\"is_open\":1}\n",
    "{\"city\": oops\n",
    "{\"city\":\"B\",\"state\":\"X\",\"stars\":3.5,\"review_count\":10,\"is_open\":0}\n",
    "{\"city\":\"A\",\"state\":\"X\",\"stars\":5.0,\"review_count\":7,\"is_open\":0}\n",
);

/// yelp-city-stats' output for the valid lines of [`BUSINESSES_ONE_BAD`]
/// (values as Python's `json.dumps` writes them).
const CITY_STATS: &str = concat!(
    "\"A\"\t{\"businesses\": 2, \"mean_stars\": 4.5, \"share_open\": 0.5, \"reviews\": 10}\n",
    "\"B\"\t{\"businesses\": 1, \"mean_stars\": 3.5, \"share_open\": 0.0, \"reviews\": 10}\n",
);

// ---------------------------------------------------------------------------
// Errors: one `error:` line naming the culprit, no panic, nothing on stdout
// ---------------------------------------------------------------------------

#[test]
fn missing_input_file_is_named() {
    let tmp = TempDir::new().unwrap();
    write(&tmp, "here.txt", "a\n");
    let o = run(&mut mr(&tmp), &["word-count", "here.txt", "nope.txt"]);
    let err = assert_error(&o, 1);
    assert!(err.contains("nope.txt"), "{err}");
    assert!(!err.contains("here.txt"), "{err}");
}

#[test]
fn missing_input_with_output_dir_creates_nothing() {
    let tmp = TempDir::new().unwrap();
    let o = run(&mut mr(&tmp), &["count-lines", "nope.txt", "-o", "out"]);
    assert!(assert_error(&o, 1).contains("nope.txt"));
    assert!(names(tmp.path()).is_empty(), "{:?}", names(tmp.path()));
}

#[test]
fn gzip_with_garbage_after_header_is_named() {
    let tmp = TempDir::new().unwrap();
    let mut bytes = gzip(b"hello\nworld\n")[..10].to_vec();
    bytes.extend_from_slice(b"this is not a deflate stream, not at all\n");
    write(&tmp, "bad.gz", bytes);
    let o = run(&mut mr(&tmp), &["count-lines", "bad.gz"]);
    assert!(assert_error(&o, 1).contains("bad.gz"));
}

#[test]
fn truncated_gzip_is_named() {
    let tmp = TempDir::new().unwrap();
    let data: String = (0..20_000).map(|i| format!("{i}\n")).collect();
    let bytes = gzip(data.as_bytes());
    write(&tmp, "trunc.gz", &bytes[..bytes.len() / 2]);
    let o = run(&mut mr(&tmp), &["count-lines", "trunc.gz"]);
    assert!(assert_error(&o, 1).contains("trunc.gz"));
}

/// A job that fails mid-run leaves neither the output directory nor its
/// hidden staging sibling behind.
#[test]
fn failed_job_leaves_no_output_dir_nor_staging() {
    let tmp = TempDir::new().unwrap();
    let data: String = (0..20_000).map(|i| format!("{i}\n")).collect();
    let bytes = gzip(data.as_bytes());
    write(&tmp, "trunc.gz", &bytes[..bytes.len() / 2]);
    let o = run(&mut mr(&tmp), &["count-lines", "trunc.gz", "-o", "out"]);
    assert!(assert_error(&o, 1).contains("trunc.gz"));
    assert_eq!(names(tmp.path()), set(&["trunc.gz"]));
}

#[test]
fn existing_output_dir_is_refused_and_left_untouched() {
    let tmp = TempDir::new().unwrap();
    write(&tmp, "in.txt", WORDS_TEXT);
    write(&tmp, "out/old", "keep me\n");
    let o = run(&mut mr(&tmp), &["word-count", "in.txt", "-o", "out"]);
    let err = assert_error(&o, 1);
    assert!(err.contains("out"), "{err}");
    assert!(err.contains("--overwrite"), "{err}");
    assert_eq!(names(&tmp.path().join("out")), set(&["old"]));
    assert_eq!(fs::read_to_string(tmp.path().join("out/old")).unwrap(), "keep me\n");
    assert_eq!(names(tmp.path()), set(&["in.txt", "out"]), "no staging left");
}

#[test]
fn overwrite_replaces_existing_output_dir() {
    let tmp = TempDir::new().unwrap();
    write(&tmp, "in.txt", WORDS_TEXT);
    // A previous output: `--overwrite` replaces only what this tool wrote
    // (issue 8: a directory with other files in it is refused, see
    // `issue8_overwrite_never_deletes_files_the_job_did_not_write`).
    write(&tmp, "out/_SUCCESS", "");
    write(&tmp, "out/part-00007", "stale\n");
    let o = run(&mut mr(&tmp), &["word-count", "in.txt", "-o", "out", "--overwrite"]);
    assert_eq!(assert_ok(&o), "");
    let out = tmp.path().join("out");
    assert_eq!(names(&out), set(&["_SUCCESS", "part-00000"]));
    assert_eq!(fs::read_to_string(out.join("part-00000")).unwrap(), WORDS_COUNTED);
    assert_eq!(names(tmp.path()), set(&["in.txt", "out"]));
}

/// `--overwrite` replaces the old output only once the new one is complete.
#[test]
fn failed_overwrite_keeps_the_old_output() {
    let tmp = TempDir::new().unwrap();
    write(&tmp, "in.txt", "{\"city\": oops\n");
    write(&tmp, "out/part-00000", "old\n");
    write(&tmp, "out/_SUCCESS", "");
    let o = run(
        &mut mr(&tmp),
        &["yelp-city-stats", "in.txt", "-o", "out", "--overwrite"],
    );
    assert_error(&o, 1);
    assert_eq!(names(&tmp.path().join("out")), set(&["_SUCCESS", "part-00000"]));
    assert_eq!(fs::read_to_string(tmp.path().join("out/part-00000")).unwrap(), "old\n");
    assert_eq!(names(tmp.path()), set(&["in.txt", "out"]));
}

#[test]
fn output_path_that_is_a_file_is_refused_even_with_overwrite() {
    let tmp = TempDir::new().unwrap();
    write(&tmp, "in.txt", "a\n");
    write(&tmp, "taken", "precious\n");
    let o = run(&mut mr(&tmp), &["count-lines", "in.txt", "-o", "taken", "--overwrite"]);
    assert!(assert_error(&o, 1).contains("taken"));
    assert_eq!(fs::read_to_string(tmp.path().join("taken")).unwrap(), "precious\n");
    assert_eq!(names(tmp.path()), set(&["in.txt", "taken"]));
}

/// yelp-city-stats reads the framework's JSON records: a malformed line is
/// an error naming file and line unless `--skip-bad-records` allows it.
#[test]
fn malformed_json_record_fails_naming_file_and_line() {
    let tmp = TempDir::new().unwrap();
    write(&tmp, "biz.json", BUSINESSES_ONE_BAD);
    let o = run(&mut mr(&tmp), &["yelp-city-stats", "biz.json"]);
    let err = assert_error(&o, 1);
    assert!(err.contains("biz.json, line 2"), "{err}");
    assert!(err.contains("--skip-bad-records"), "{err}");
}

#[test]
fn malformed_json_record_on_stdin_names_stdin() {
    let tmp = TempDir::new().unwrap();
    let o = mr(&tmp)
        .args(["yelp-city-stats", "-"])
        .write_stdin("{\"city\":\"A\"}\n{\"city\": oops\n")
        .output()
        .unwrap();
    assert!(assert_error(&o, 1).contains("<stdin>, line 2"));
}

#[test]
fn skip_bad_records_skips_and_counts() {
    let tmp = TempDir::new().unwrap();
    write(&tmp, "biz.json", BUSINESSES_ONE_BAD);
    let o = run(
        &mut mr(&tmp),
        &["yelp-city-stats", "biz.json", "--skip-bad-records", "1"],
    );
    assert_eq!(assert_ok(&o), CITY_STATS);
    assert!(stderr(&o).contains("\tSKIPPED_RECORDS=1\n"), "{}", stderr(&o));
}

#[test]
fn skip_bad_records_budget_exceeded_names_the_next_bad_line() {
    let tmp = TempDir::new().unwrap();
    let text = format!("{BUSINESSES_ONE_BAD}not json either\n");
    write(&tmp, "biz.json", text);
    let o = run(
        &mut mr(&tmp),
        &["yelp-city-stats", "biz.json", "--skip-bad-records", "1"],
    );
    let err = assert_error(&o, 1);
    assert!(err.contains("budget"), "{err}");
    assert!(err.contains("biz.json, line 5"), "{err}");
}

/// The budget is the job's, not each file's.
#[test]
fn skip_bad_records_budget_spans_input_files() {
    let tmp = TempDir::new().unwrap();
    write(&tmp, "d/1.json", "{\"city\":\"A\"}\n{\"city\": oops\n");
    write(&tmp, "d/2.json", "{\"city\":\"B\"}\n{\"city\": oops\n");
    let o = run(&mut mr(&tmp), &["yelp-city-stats", "d", "--skip-bad-records", "1"]);
    let err = assert_error(&o, 1);
    // Map tasks run in parallel: either file's bad line may be the one that
    // breaks the job-wide budget.
    assert!(
        err.contains("1.json, line 2") || err.contains("2.json, line 2"),
        "{err}"
    );
    assert!(err.contains("budget"), "{err}");
    let o = run(
        &mut mr(&tmp),
        &["yelp-city-stats", "d", "--skip-bad-records", "2", "-q"],
    );
    assert_eq!(
        assert_ok(&o),
        "\"A\"\t{\"businesses\": 1, \"mean_stars\": null, \"share_open\": 0.0, \"reviews\": 0}\n\
         \"B\"\t{\"businesses\": 1, \"mean_stars\": null, \"share_open\": 0.0, \"reviews\": 0}\n"
    );
}

/// yelp-top-city parses lines itself, like the original Python job: bad
/// lines are skipped and counted by the job, and the run succeeds.
#[test]
fn yelp_top_city_counts_malformed_lines_itself() {
    let tmp = TempDir::new().unwrap();
    let text = format!("{BUSINESSES_ONE_BAD}[1, 2]\nnot json\n");
    write(&tmp, "biz.json", text);
    let o = run(&mut mr(&tmp), &["yelp-top-city", "biz.json"]);
    assert_eq!(assert_ok(&o), "2\t\"A\"\n");
    let err = stderr(&o);
    assert!(err.contains("\tyelp\n"), "{err}");
    assert!(err.contains("\tmalformed lines=3\n"), "{err}");
    assert!(!err.contains("error"), "{err}");
}

#[test]
fn unknown_job_points_to_list() {
    let tmp = TempDir::new().unwrap();
    let o = run(&mut mr(&tmp), &["no-such-job", "x.txt"]);
    let err = assert_error(&o, 2);
    assert!(err.contains("no-such-job"), "{err}");
    assert!(err.contains("mr-run list"), "{err}");
}

#[test]
fn job_without_sample_needs_inputs() {
    let tmp = TempDir::new().unwrap();
    let o = run(&mut mr(&tmp), &["wc"]);
    let err = assert_error(&o, 1);
    assert!(err.contains("wc"), "{err}");
    assert!(err.contains("name input"), "{err}");
    assert!(err.contains("- for standard input"), "{err}");
}

#[test]
fn stdin_given_twice_is_refused() {
    let tmp = TempDir::new().unwrap();
    let o = mr(&tmp)
        .args(["count-lines", "-", "-"])
        .write_stdin("a\n")
        .output()
        .unwrap();
    assert!(assert_error(&o, 1).contains("standard input"));
}

#[test]
fn zero_reducers_is_a_usage_error() {
    let tmp = TempDir::new().unwrap();
    write(&tmp, "in.txt", "a\n");
    let o = run(&mut mr(&tmp), &["word-count", "in.txt", "--reducers", "0"]);
    assert!(assert_usage_error(&o).contains("--reducers"));
}

#[test]
fn quiet_still_prints_errors() {
    let tmp = TempDir::new().unwrap();
    let o = run(&mut mr(&tmp), &["word-count", "-q", "nope.txt"]);
    assert!(assert_error(&o, 1).contains("nope.txt"));
}

// ---------------------------------------------------------------------------
// Output: stdout bytes, part files, counters and stats
// ---------------------------------------------------------------------------

#[test]
fn word_count_stdout_is_exact() {
    let tmp = TempDir::new().unwrap();
    write(&tmp, "in.txt", WORDS_TEXT);
    let o = run(&mut mr(&tmp), &["word-count", "in.txt"]);
    assert_eq!(assert_ok(&o), WORDS_COUNTED);
}

#[test]
fn output_dir_has_one_part_and_success() {
    let tmp = TempDir::new().unwrap();
    write(&tmp, "in.txt", WORDS_TEXT);
    let o = run(&mut mr(&tmp), &["word-count", "in.txt", "-o", "out"]);
    assert_eq!(assert_ok(&o), "", "nothing on stdout with -o");
    let out = tmp.path().join("out");
    assert_eq!(names(&out), set(&["_SUCCESS", "part-00000"]));
    assert_eq!(fs::read_to_string(out.join("part-00000")).unwrap(), WORDS_COUNTED);
    assert_eq!(fs::read(out.join("_SUCCESS")).unwrap(), b"");
    assert_eq!(names(tmp.path()), set(&["in.txt", "out"]), "no staging left");
}

#[test]
fn output_dir_parents_are_created() {
    let tmp = TempDir::new().unwrap();
    write(&tmp, "in.txt", WORDS_TEXT);
    let o = run(&mut mr(&tmp), &["word-count", "in.txt", "-o", "a/b/out"]);
    assert_ok(&o);
    let out = tmp.path().join("a/b/out");
    assert_eq!(names(&out), set(&["_SUCCESS", "part-00000"]));
    assert_eq!(names(&tmp.path().join("a/b")), set(&["out"]));
}

/// A staging directory left by a killed run (its PID is gone) is cleaned up
/// by the next run into the same directory.
#[test]
fn stale_staging_sibling_is_removed() {
    let tmp = TempDir::new().unwrap();
    write(&tmp, "in.txt", WORDS_TEXT);
    // PIDs are at most 2^22 on Linux, so this process never exists.
    write(&tmp, ".out.mr-staging-99999999/part-00000", "junk\n");
    let o = run(&mut mr(&tmp), &["word-count", "in.txt", "-o", "out"]);
    assert_ok(&o);
    assert_eq!(names(tmp.path()), set(&["in.txt", "out"]));
}

#[test]
fn three_reducers_partition_the_same_output() {
    let tmp = TempDir::new().unwrap();
    let text: String = (0..300).map(|i| format!("w{i} w{} common\n", i % 7)).collect();
    write(&tmp, "in.txt", text);
    let single = assert_ok(&run(&mut mr(&tmp), &["word-count", "in.txt", "-q"]));
    assert_eq!(single.lines().count(), 301);
    let o = run(
        &mut mr(&tmp),
        &["word-count", "in.txt", "-q", "--reducers", "3", "-o", "out"],
    );
    assert_ok(&o);
    let out = tmp.path().join("out");
    assert_eq!(
        names(&out),
        set(&["_SUCCESS", "part-00000", "part-00001", "part-00002"])
    );
    let mut all = String::new();
    for i in 0..3 {
        let part = fs::read_to_string(out.join(format!("part-{i:05}"))).unwrap();
        assert!(!part.is_empty(), "part {i} is empty");
        let lines: Vec<&str> = part.lines().collect();
        assert_eq!(lines, sorted_lines(&part), "part {i} is sorted by key");
        all.push_str(&part);
    }
    assert_eq!(sorted_lines(&all), sorted_lines(&single));
    // The single reducer's output is itself sorted.
    assert_eq!(single.lines().collect::<Vec<_>>(), sorted_lines(&single));
}

#[test]
fn quiet_prints_nothing_on_stderr() {
    let tmp = TempDir::new().unwrap();
    write(&tmp, "in.txt", WORDS_TEXT);
    let o = run(&mut mr(&tmp), &["word-count", "in.txt", "-q"]);
    assert_eq!(assert_ok(&o), WORDS_COUNTED);
    assert_eq!(stderr(&o), "");
}

#[test]
fn counters_are_printed_on_stderr() {
    let tmp = TempDir::new().unwrap();
    write(&tmp, "in.txt", WORDS_TEXT);
    let o = run(&mut mr(&tmp), &["word-count", "in.txt"]);
    assert_eq!(assert_ok(&o), WORDS_COUNTED, "counters never go to stdout");
    let err = stderr(&o);
    assert!(err.starts_with("Step 1 of 1 "), "{err}");
    assert!(err.contains("Counters:"), "{err}");
    assert!(err.contains("\tMAP_INPUT_RECORDS=2\n"), "{err}");
    assert!(err.contains("\tREDUCE_OUTPUT_RECORDS=7\n"), "{err}");
}

#[test]
fn stats_file_has_counters_and_steps() {
    let tmp = TempDir::new().unwrap();
    write(&tmp, "in.txt", WORDS_TEXT);
    let o = run(&mut mr(&tmp), &["word-count", "in.txt", "-q", "--stats", "stats.json"]);
    assert_eq!(assert_ok(&o), WORDS_COUNTED);
    assert_eq!(stderr(&o), "");
    let stats: Value = serde_json::from_slice(&fs::read(tmp.path().join("stats.json")).unwrap()).unwrap();
    assert_eq!(stats["job"], "word-count");
    assert_eq!(stats["used_sample"], false);
    let framework = &stats["counters"]["Map-Reduce Framework"];
    assert_eq!(framework["MAP_INPUT_RECORDS"], 2);
    assert_eq!(framework["REDUCE_OUTPUT_RECORDS"], 7);
    let steps = stats["steps"].as_array().expect("steps is an array");
    assert_eq!(steps.len(), 1);
    assert_eq!(steps[0]["counters"], stats["counters"]);
    assert!(steps[0]["seconds"].is_number());
}

#[test]
fn stats_of_two_step_job_has_two_steps() {
    let tmp = TempDir::new().unwrap();
    write(&tmp, "biz.json", BUSINESSES_ONE_BAD);
    let o = run(&mut mr(&tmp), &["yelp-top-city", "biz.json", "-q", "--stats", "s.json"]);
    assert_ok(&o);
    let stats: Value = serde_json::from_slice(&fs::read(tmp.path().join("s.json")).unwrap()).unwrap();
    assert_eq!(stats["steps"].as_array().map(Vec::len), Some(2));
    assert_eq!(stats["counters"]["yelp"]["malformed lines"], 1);
}

/// BYTES_READ is documented as the bytes read from the input files, but it
/// is computed as line length + 1, so CRLF line ends are undercounted and a
/// missing final newline is overcounted.
#[test]
fn bytes_read_counts_the_file_bytes() {
    let tmp = TempDir::new().unwrap();
    for (name, text) in [
        ("lf.txt", "a b\nc\n"),
        ("crlf.txt", "a b\r\nc\r\n"),
        ("nonl.txt", "a b\nc"),
    ] {
        write(&tmp, name, text);
        let o = run(&mut mr(&tmp), &["word-count", name, "-q", "--stats", "s.json"]);
        assert_ok(&o);
        let stats: Value = serde_json::from_slice(&fs::read(tmp.path().join("s.json")).unwrap()).unwrap();
        assert_eq!(
            stats["counters"]["Map-Reduce Framework"]["BYTES_READ"],
            text.len(),
            "{name}"
        );
    }
}

/// A reader that goes away (`mr-run ... | head -1`) ends the run quietly.
#[test]
fn closed_stdout_ends_a_job_quietly() {
    let tmp = TempDir::new().unwrap();
    let text: String = (0..50_000).map(|i| format!("word{i} and more\n")).collect();
    write(&tmp, "big.txt", text);
    assert_quiet_into_closed_pipe(&tmp, &["word-count", "big.txt"]);
}

// ---------------------------------------------------------------------------
// Inputs: directories, globs, stdin, gzip, line ends
// ---------------------------------------------------------------------------

/// Directories are read like Hadoop's FileInputFormat: files sorted by
/// name, `_x` and `.x` names skipped, subdirectories only with --recursive.
#[test]
fn directory_input_skips_hidden_and_bookkeeping_files() {
    let tmp = TempDir::new().unwrap();
    write(&tmp, "in/b", "y\nz\n");
    write(&tmp, "in/a", "x\n");
    for hidden in ["in/_SUCCESS", "in/_x", "in/.hidden", "in/sub/c", "in/sub/_d"] {
        write(&tmp, hidden, "skip me\n");
    }
    let dir = tmp.path().join("in");
    let o = run(&mut mr(&tmp), &["count-lines-by-file", "-q", dir.to_str().unwrap()]);
    let expected = format!("{}\t1\n{}\t2\n", file_key(&dir.join("a")), file_key(&dir.join("b")));
    assert_eq!(assert_ok(&o), expected);
    let o = run(&mut mr(&tmp), &["count-lines", "-q", "in"]);
    assert_eq!(assert_ok(&o), "null\t3\n");
    let o = run(&mut mr(&tmp), &["count-lines", "-q", "--recursive", "in"]);
    assert_eq!(assert_ok(&o), "null\t4\n");
}

#[test]
fn glob_input_matches_visible_files() {
    let tmp = TempDir::new().unwrap();
    write(&tmp, "d/z.txt", "1\n2\n");
    write(&tmp, "d/a.txt", "1\n");
    for other in ["d/b.log", "d/_x.txt", "d/.y.txt"] {
        write(&tmp, other, "skip me\n");
    }
    let dir = tmp.path().join("d");
    let pattern = dir.join("*.txt");
    let o = run(&mut mr(&tmp), &["count-lines-by-file", "-q", pattern.to_str().unwrap()]);
    let expected = format!(
        "{}\t1\n{}\t2\n",
        file_key(&dir.join("a.txt")),
        file_key(&dir.join("z.txt"))
    );
    assert_eq!(assert_ok(&o), expected);
}

#[test]
fn glob_matching_nothing_is_named() {
    let tmp = TempDir::new().unwrap();
    write(&tmp, "d/a.log", "1\n");
    let o = run(&mut mr(&tmp), &["count-lines", "d/*.txt"]);
    assert!(assert_error(&o, 1).contains("d/*.txt"));
}

#[test]
fn dash_reads_stdin() {
    let tmp = TempDir::new().unwrap();
    let o = mr(&tmp)
        .args(["word-count", "-q", "-"])
        .write_stdin(WORDS_TEXT)
        .output()
        .unwrap();
    assert_eq!(assert_ok(&o), WORDS_COUNTED);
}

#[test]
fn stdin_and_files_are_read_together() {
    let tmp = TempDir::new().unwrap();
    write(&tmp, "in.txt", "a\nb\n");
    let o = mr(&tmp)
        .args(["count-lines", "-q", "in.txt", "-"])
        .write_stdin("c\nd\ne\n")
        .output()
        .unwrap();
    assert_eq!(assert_ok(&o), "null\t5\n");
}

#[test]
fn gzip_input_counts_like_plain_input() {
    let tmp = TempDir::new().unwrap();
    write(&tmp, "in.txt.gz", gzip(WORDS_TEXT.as_bytes()));
    let o = run(&mut mr(&tmp), &["word-count", "-q", "in.txt.gz"]);
    assert_eq!(assert_ok(&o), WORDS_COUNTED);
}

#[test]
fn crlf_and_missing_final_newline_count_like_lf() {
    let tmp = TempDir::new().unwrap();
    let lf = "one two\nTwo three\nthree three\n";
    let expected = "\"one\"\t1\n\"three\"\t3\n\"two\"\t2\n";
    let variants = [
        ("lf.txt", lf.to_owned()),
        ("crlf.txt", lf.replace('\n', "\r\n")),
        ("nonl.txt", lf.trim_end().to_owned()),
        ("crlf-nonl.txt", lf.trim_end().replace('\n', "\r\n")),
    ];
    for (name, text) in variants {
        write(&tmp, name, text);
        let o = run(&mut mr(&tmp), &["word-count", "-q", name]);
        assert_eq!(assert_ok(&o), expected, "{name}");
        let o = run(&mut mr(&tmp), &["count-lines", "-q", name]);
        assert_eq!(assert_ok(&o), "null\t3\n", "{name}");
    }
}

// ---------------------------------------------------------------------------
// Listing, describing, and the built-in sample
// ---------------------------------------------------------------------------

#[test]
fn list_shows_jobs_with_aligned_descriptions() {
    let tmp = TempDir::new().unwrap();
    let o = run(&mut mr(&tmp), &["list"]);
    let out = assert_ok(&o);
    assert_eq!(stderr(&o), "");
    let mut columns = BTreeSet::new();
    let mut seen = BTreeSet::new();
    for line in out.lines() {
        let (name, rest) = line.split_once("  ").expect("name, two spaces, description");
        let about = rest.trim_start();
        assert!(!about.is_empty(), "{line:?}");
        columns.insert(line.len() - about.len());
        seen.insert(name.to_owned());
    }
    assert_eq!(columns.len(), 1, "descriptions start in one column:\n{out}");
    for job in ["yelp-top-city", "yelp-city-stats", "word-count", "wc", "count-lines"] {
        assert!(seen.contains(job), "{job} missing from:\n{out}");
    }
    assert!(out.lines().next().unwrap().starts_with("yelp-top-city "), "{out}");
    let word_count = out.lines().find(|l| l.starts_with("word-count ")).unwrap();
    assert!(word_count.contains("How often each word occurs"), "{word_count}");
}

#[test]
fn describe_prints_steps_as_json() {
    let tmp = TempDir::new().unwrap();
    let o = run(&mut mr(&tmp), &["yelp-top-city", "--describe"]);
    let out = assert_ok(&o);
    assert_eq!(stderr(&o), "");
    assert!(out.ends_with("}\n"), "{out}");
    let description: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(description["name"], "yelp-top-city");
    let steps = description["steps"].as_array().expect("steps is an array");
    assert_eq!(steps.len(), 2);
    assert!(steps[0]["mapper"].is_string(), "{}", steps[0]);
    assert!(steps[1]["mapper"].is_null(), "{}", steps[1]);
}

/// `--describe` needs no input, even for a job without a sample.
#[test]
fn describe_needs_no_input() {
    let tmp = TempDir::new().unwrap();
    let o = run(&mut mr(&tmp), &["wc", "--describe"]);
    let description: Value = serde_json::from_str(&assert_ok(&o)).unwrap();
    assert_eq!(description["steps"].as_array().map(Vec::len), Some(1));
}

#[test]
fn job_without_input_runs_on_its_sample() {
    let tmp = TempDir::new().unwrap();
    let o = run(&mut mr(&tmp), &["yelp-top-city"]);
    let out = assert_ok(&o);
    let line = regex::Regex::new(r#"^\d+\t".*"\n$"#).unwrap();
    assert!(line.is_match(&out), "{out:?}");
    assert!(stderr(&o).contains("built-in sample"), "{}", stderr(&o));
    // -q silences the notice too.
    let o = run(&mut mr(&tmp), &["yelp-top-city", "-q"]);
    assert_eq!(assert_ok(&o), out, "the sample is deterministic");
    assert_eq!(stderr(&o), "");
}

// ---------------------------------------------------------------------------
// mr-run gen: deterministic data for any generator
// ---------------------------------------------------------------------------

/// Runs `mr-run gen KIND --size SIZE --seed SEED -o NAME` and returns the
/// file's bytes.
fn generate(tmp: &TempDir, kind: &str, size: &str, seed: &str, name: &str) -> Vec<u8> {
    let o = run(&mut mr(tmp), &["gen", kind, "--size", size, "--seed", seed, "-o", name]);
    assert_eq!(assert_ok(&o), "", "gen -o FILE prints nothing on stdout");
    fs::read(tmp.path().join(name)).unwrap()
}

fn check_generator(kind: &str) {
    let tmp = TempDir::new().unwrap();
    let first = generate(&tmp, kind, "10K", "7", "a");
    let again = generate(&tmp, kind, "10K", "7", "b");
    assert!(first.len() >= 10 * 1024, "{kind}: {} bytes", first.len());
    assert_eq!(first.last(), Some(&b'\n'), "{kind} ends with a whole line");
    assert!(first == again, "{kind}: same seed and size give the same bytes");
    let other = generate(&tmp, kind, "10K", "8", "c");
    assert!(first != other, "{kind}: another seed gives other bytes");
}

#[test]
fn gen_yelp_is_deterministic_per_seed() {
    check_generator("yelp");
}

#[test]
fn gen_text_is_deterministic_per_seed() {
    check_generator("text");
}

/// The `wrote N records, M bytes` report matches the file.
#[test]
fn gen_reports_the_bytes_written() {
    let tmp = TempDir::new().unwrap();
    let report = regex::Regex::new(r"^wrote ([1-9][0-9]*) records, ([0-9]+) bytes\n$").unwrap();
    for kind in ["yelp", "text"] {
        let o = run(&mut mr(&tmp), &["gen", kind, "--size", "10K", "-o", kind]);
        assert_ok(&o);
        let err = stderr(&o);
        let caps = report.captures(&err).unwrap_or_else(|| panic!("{kind}: {err:?}"));
        let len = fs::metadata(tmp.path().join(kind)).unwrap().len();
        assert_eq!(caps[2].parse::<u64>().unwrap(), len, "{kind}: {err:?}");
    }
}

#[test]
fn gen_to_stdout_matches_gen_to_file() {
    let tmp = TempDir::new().unwrap();
    let file = generate(&tmp, "text", "10K", "3", "f");
    let o = run(
        &mut mr(&tmp),
        &["gen", "text", "--size", "10K", "--seed", "3", "-o", "-"],
    );
    assert_ok(&o);
    assert!(o.stdout == file, "stdout and file differ");
}

#[test]
fn gen_bad_size_is_a_usage_error() {
    let tmp = TempDir::new().unwrap();
    let o = run(&mut mr(&tmp), &["gen", "yelp", "--size", "1X", "-o", "f"]);
    assert!(assert_usage_error(&o).contains("1X"));
    assert!(names(tmp.path()).is_empty(), "no file written");
}

#[test]
fn gen_into_missing_directory_names_the_file() {
    let tmp = TempDir::new().unwrap();
    let o = run(&mut mr(&tmp), &["gen", "text", "--size", "1K", "-o", "no/such/f"]);
    assert!(assert_error(&o, 1).contains("no/such/f"));
}

/// `mr-run gen text -o - | head` should end quietly like `mr-run list | head`
/// and jobs do.
#[test]
fn gen_to_closed_stdout_ends_quietly() {
    let tmp = TempDir::new().unwrap();
    assert_quiet_into_closed_pipe(&tmp, &["gen", "text", "--size", "1M", "-o", "-"]);
}

/// Every job, through the real binary: `-r local` with many small splits,
/// several workers and reducers and a small sort buffer prints exactly what
/// `-r inline` prints.
#[test]
fn local_and_inline_runners_print_identical_output_for_every_job() {
    let tmp = TempDir::new().unwrap();
    let mut yelp = Vec::new();
    mapreduce_jobs::datagen::yelp(&mut yelp, 120 << 10, 5).unwrap();
    write(&tmp, "business.json", String::from_utf8(yelp).unwrap());
    let mut text = Vec::new();
    mapreduce_jobs::datagen::text(&mut text, 120 << 10, 6).unwrap();
    write(&tmp, "text.txt", String::from_utf8(text).unwrap());
    let ids = mapreduce_jobs::datagen::read_business_ids(&tmp.path().join("business.json")).unwrap();
    let mut reviews = Vec::new();
    mapreduce_jobs::datagen::yelp_reviews(&mut reviews, 120 << 10, 7, &ids, 5).unwrap();
    write(&tmp, "reviews.json", reviews);
    for job in mapreduce_jobs::all() {
        let name = job.name();
        let input = if name.starts_with("yelp") {
            "business.json"
        } else {
            "text.txt"
        };
        // `mr-run teragen` makes its own input from --rows; the joins
        // read the businesses by name or as a side file.
        let input: &[&str] = match name {
            "teragen" => &["--rows", "2000", "--tasks", "3"],
            "yelp-city-reviews" | "yelp-top-reviewed-city" => {
                &["--input", "business=business.json", "--input", "review=reviews.json"]
            }
            "yelp-city-reviews-broadcast" => &["--side", "business=business.json", "reviews.json"],
            _ => &[input],
        };
        let blocks: &[&str] = if name == "teragen" {
            &[]
        } else {
            &["--block-size", "8K"]
        };
        let inline = run(
            &mut mr(&tmp),
            &[&[name], input, &["-q", "-r", "inline", "--reducers", "3"]].concat(),
        );
        let local = run(
            &mut mr(&tmp),
            &[
                &[name] as &[&str],
                input,
                &[
                    "-q",
                    "-r",
                    "local",
                    "--reducers",
                    "3",
                    "--workers",
                    "3",
                    "--sort-buffer",
                    "64K",
                ],
                blocks,
            ]
            .concat(),
        );
        assert!(inline.status.success() && local.status.success(), "{name}");
        assert!(!inline.stdout.is_empty(), "{name} printed something");
        assert!(inline.stdout == local.stdout, "{name}: -r local differs from -r inline");
    }
}

// ---------------------------------------------------------------------------
// Issue 8: limits (memory, open files, extreme settings)
// ---------------------------------------------------------------------------

/// Runs `mr-run ARGS` under `ulimit -v KIB` (set by a shell that then
/// execs it, so the limit is the process's own).
fn run_under_ulimit_v(tmp: &TempDir, kib: u64, args: &[&str]) -> Output {
    let script = format!("ulimit -v {kib} && exec \"$0\" \"$@\"");
    std::process::Command::new("sh")
        .current_dir(tmp.path())
        .arg("-c")
        .arg(script)
        .arg(assert_cmd::cargo::cargo_bin!("mr-run"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("sh starts")
}

#[test]
fn issue8_under_an_address_space_limit_a_run_succeeds_or_fails_cleanly_never_aborts() {
    let tmp = TempDir::new().unwrap();
    generate(&tmp, "text", "8M", "1", "in.txt");
    let expected = assert_ok(&run(&mut mr(&tmp), &["word-count", "-q", "in.txt"]));
    let args = ["word-count", "-q", "--workers", "4", "--block-size", "1M", "in.txt"];
    for kib in [300_000, 300_000, 400_000, 512_000, 512_000] {
        let o = run_under_ulimit_v(&tmp, kib, &args);
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(o.status.signal(), None, "killed by a signal; stderr:\n{}", stderr(&o));
        if o.status.success() {
            assert_no_panic(&o);
            assert!(stdout(&o) == expected, "ulimit -v {kib}: wrong output");
        } else {
            let msg = assert_error(&o, 1);
            assert!(msg.contains("memory"), "{msg}");
        }
    }
    // An explicit sort buffer that cannot fit is refused before any work,
    // naming the limit, and leaves nothing behind.
    let o = run_under_ulimit_v(
        &tmp,
        512_000,
        &[
            "word-count",
            "--workers",
            "4",
            "--sort-buffer",
            "256M",
            "-o",
            "out",
            "in.txt",
        ],
    );
    let msg = assert_error(&o, 1);
    assert!(
        msg.contains("--sort-buffer 256 MiB × 4 workers needs about") && msg.contains("ulimit -v"),
        "{msg}"
    );
    assert_eq!(names(tmp.path()), set(&["in.txt"]));
}

#[test]
fn issue8_extreme_settings_give_the_default_runs_output() {
    let tmp = TempDir::new().unwrap();
    generate(&tmp, "text", "4K", "3", "in.txt");
    let expected = assert_ok(&run(&mut mr(&tmp), &["word-count", "-q", "in.txt"]));
    for extra in [
        &["--workers", "64"][..],
        &["--sort-buffer", "1K"],
        &["--block-size", "1"],
    ] {
        let args: Vec<&str> = ["word-count", "-q", "in.txt"].iter().chain(extra).copied().collect();
        let got = assert_ok(&run(&mut mr(&tmp), &args));
        assert!(got == expected, "{extra:?}: output differs from the default run's");
    }
    // A thousand reducers: the same lines, in part order.
    let got = assert_ok(&run(
        &mut mr(&tmp),
        &["word-count", "-q", "--reducers", "1000", "in.txt"],
    ));
    assert_eq!(sorted_lines(&got), sorted_lines(&expected));
}

// ---------------------------------------------------------------------------
// Issue 12: the mrjob switches a migrating user expects
// ---------------------------------------------------------------------------

#[test]
fn output_dir_is_dash_o_and_cat_output_prints_it_too() {
    let tmp = TempDir::new().unwrap();
    write(&tmp, "in.txt", "b a\na\n");
    let o = run(&mut mr(&tmp), &["word-count", "in.txt", "--output-dir", "out", "-q"]);
    assert_eq!(assert_ok(&o), "", "mrjob prints nothing with --output-dir");
    assert_eq!(names(&tmp.path().join("out")), set(&["_SUCCESS", "part-00000"]));
    let o = run(
        &mut mr(&tmp),
        &[
            "word-count",
            "in.txt",
            "-o",
            "out2",
            "--reducers",
            "2",
            "--cat-output",
            "-q",
        ],
    );
    let mut printed: Vec<String> = assert_ok(&o).lines().map(str::to_owned).collect();
    printed.sort();
    assert_eq!(printed, ["\"a\"\t2", "\"b\"\t1"]);
    assert_eq!(
        names(&tmp.path().join("out2")),
        set(&["_SUCCESS", "part-00000", "part-00001"])
    );
    // The summary says where the output went.
    let o = run(&mut mr(&tmp), &["word-count", "in.txt", "--output-dir", "out3"]);
    assert!(stderr(&o).contains("output in out3"), "{}", stderr(&o));
    let o = run(&mut mr(&tmp), &["word-count", "in.txt"]);
    assert!(stderr(&o).contains("output written to stdout"), "{}", stderr(&o));
    // Both at once on this machine is a mistake, said before any work.
    let o = run(&mut mr(&tmp), &["word-count", "in.txt", "-o", "x", "--output-dir", "y"]);
    assert!(assert_error(&o, 1).contains("-o and --output-dir"));
    assert!(!tmp.path().join("x").exists() && !tmp.path().join("y").exists());
}

#[test]
fn no_cat_output_prints_nothing_and_still_runs() {
    let tmp = TempDir::new().unwrap();
    write(&tmp, "in.txt", "b a\na\n");
    let o = run(
        &mut mr(&tmp),
        &["word-count", "in.txt", "--no-cat-output", "--stats", "s.json"],
    );
    assert_eq!(assert_ok(&o), "");
    assert!(stderr(&o).contains("output discarded"), "{}", stderr(&o));
    let stats: serde_json::Value = serde_json::from_slice(&fs::read(tmp.path().join("s.json")).unwrap()).unwrap();
    assert_eq!(stats["counters"]["Map-Reduce Framework"]["REDUCE_OUTPUT_RECORDS"], 2);
    // The later of the two switches wins, as in mrjob.
    let o = run(
        &mut mr(&tmp),
        &["word-count", "in.txt", "--no-cat-output", "--cat-output", "-q"],
    );
    assert_eq!(assert_ok(&o), "\"a\"\t2\n\"b\"\t1\n");
}

#[test]
fn conf_path_gives_defaults_per_runner_and_the_command_line_wins() {
    let tmp = TempDir::new().unwrap();
    write(&tmp, "in.txt", "b a\na\nc\n");
    write(
        &tmp,
        "mr-run.toml",
        "[runners.local]\nreducers = 3\nquiet = true\n\n[runners.inline]\nreducers = 2\njobconf = [\"a.b=1\", \"c=2\"]\n",
    );
    let parts = |dir: &str| {
        names(&tmp.path().join(dir))
            .into_iter()
            .filter(|n| n.starts_with("part-"))
            .count()
    };
    let o = run(
        &mut mr(&tmp),
        &["word-count", "in.txt", "--conf-path", "mr-run.toml", "-o", "a"],
    );
    assert_eq!(assert_ok(&o), "");
    assert_eq!(stderr(&o), "", "quiet = true");
    assert_eq!(parts("a"), 3);
    let o = run(
        &mut mr(&tmp),
        &[
            "word-count",
            "in.txt",
            "--conf-path",
            "mr-run.toml",
            "-r",
            "inline",
            "-o",
            "b",
            "-q",
        ],
    );
    assert_ok(&o);
    assert_eq!(parts("b"), 2, "the inline runner's section");
    let o = run(
        &mut mr(&tmp),
        &[
            "word-count",
            "in.txt",
            "--conf-path",
            "mr-run.toml",
            "--reducers",
            "1",
            "-o",
            "c",
        ],
    );
    assert_ok(&o);
    assert_eq!(parts("c"), 1, "the command line wins");
    // $MR_RUN_CONF names it too; --no-conf reads none.
    let o = mr(&tmp)
        .args(["word-count", "in.txt", "-o", "d", "-q"])
        .env("MR_RUN_CONF", tmp.path().join("mr-run.toml"))
        .output()
        .unwrap();
    assert_ok(&o);
    assert_eq!(parts("d"), 3);
    let o = mr(&tmp)
        .args(["word-count", "in.txt", "-o", "e", "-q", "--no-conf"])
        .env("MR_RUN_CONF", tmp.path().join("mr-run.toml"))
        .output()
        .unwrap();
    assert_ok(&o);
    assert_eq!(parts("e"), 1);
    // A key that is no option is an error naming the file and the key.
    write(&tmp, "bad.toml", "[runners.local]\nreducer_count = 3\n");
    let o = run(&mut mr(&tmp), &["word-count", "in.txt", "--conf-path", "bad.toml"]);
    let err = assert_error(&o, 1);
    assert!(
        err.contains("bad.toml: runners.local.reducer_count is not an option"),
        "{err}"
    );
}

#[test]
fn unknown_switches_get_a_hint_not_clap_advice() {
    let tmp = TempDir::new().unwrap();
    for (arg, hint) in [
        ("--reducres", "'--reducers'"),
        ("--files", "--side NAME=PATH"),
        ("--num-cores", "--workers"),
        ("--outptu-dir", "'--output-dir'"),
    ] {
        let o = run(&mut mr(&tmp), &["word-count", arg, "x"]);
        let err = assert_usage_error(&o);
        assert!(err.contains(&format!("unknown option '{arg}'")), "{err}");
        assert!(err.contains(hint), "{arg}: {err}");
        assert!(!err.contains("use '--"), "{arg}: clap's advice: {err}");
    }
}

#[test]
fn issue28_near_misses_get_did_you_mean_and_no_streaming_usage() {
    let tmp = TempDir::new().unwrap();
    for (args, hint) in [
        (
            &["word-count", "x", "--reducer", "3"][..],
            "did you mean '--reducers 3'",
        ),
        (&["word-count", "x", "--worker", "2"][..], "did you mean '--workers'"),
        (
            &["word-count", "x", "--split-size", "8M"][..],
            "did you mean '--block-size'",
        ),
        (&["word-cont", "x"][..], "did you mean \"word-count\""),
    ] {
        let o = run(&mut mr(&tmp), args);
        let err = assert_usage_error(&o);
        assert!(err.contains(hint), "{args:?}: {err}");
        assert!(
            !err.contains("--step-num <N>"),
            "{args:?}: the Streaming usage line: {err}"
        );
    }
}

#[test]
fn issue28_jobconf_reduces_sets_the_reducers_on_every_local_runner() {
    let tmp = TempDir::new().unwrap();
    std::fs::write(tmp.path().join("in.txt"), "a b c d e f g h i j\nk l m n o p\n").unwrap();
    for runner in ["local", "inline", "streaming"] {
        let o = run(
            &mut mr(&tmp),
            &[
                "word-count",
                "in.txt",
                "-q",
                "-r",
                runner,
                "-D",
                "mapreduce.job.reduces=3",
                "-o",
                runner,
            ],
        );
        assert!(o.status.success(), "{runner}: {}", stderr(&o));
        let parts = std::fs::read_dir(tmp.path().join(runner))
            .unwrap()
            .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().starts_with("part-"))
            .count();
        assert_eq!(parts, 3, "{runner}: one part per reducer");
    }
    let o = run(
        &mut mr(&tmp),
        &[
            "word-count",
            "in.txt",
            "--reducers",
            "2",
            "-D",
            "mapreduce.job.reduces=3",
        ],
    );
    assert!(stderr(&o).contains("disagree"), "{}", stderr(&o));
    let o = run(
        &mut mr(&tmp),
        &["word-count", "in.txt", "-D", "mapreduce.job.reduces=lots"],
    );
    assert!(
        !o.status.success() && stderr(&o).contains("whole number"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn issue28_job_help_is_short_and_help_v_shows_every_option_grouped() {
    let tmp = TempDir::new().unwrap();
    let short = run(&mut mr(&tmp), &["word-count", "--help"]);
    assert!(short.status.success());
    let text = stdout(&short);
    assert!(text.lines().count() < 45, "{} lines:\n{text}", text.lines().count());
    for shown in [
        "Most used options",
        "--reducers",
        "--workers",
        "-o, --output",
        "--help -v",
    ] {
        assert!(text.contains(shown), "{shown}: {text}");
    }
    for hidden in ["--hadoop-bin", "--merge-fan-in", "--step-num"] {
        assert!(!text.contains(hidden), "{hidden}: {text}");
    }
    for args in [&["word-count", "--help", "-v"][..], &["word-count", "--help-all"][..]] {
        let all = run(&mut mr(&tmp), args);
        assert!(all.status.success());
        let text = stdout(&all);
        for heading in ["Input:", "Output:", "Engine:", "Cluster (", "Streaming task mode ("] {
            assert!(text.contains(heading), "{args:?}: {heading}");
        }
        for shown in ["--hadoop-bin", "--merge-fan-in", "--step-num", "--reducers"] {
            assert!(text.contains(shown), "{args:?}: {shown}");
        }
    }
    // The built-in sample is promised only by a job that has one.
    assert!(stdout(&run(&mut mr(&tmp), &["word-count", "--help"])).contains("runs on its built-in sample"));
    let terasort = stdout(&run(&mut mr(&tmp), &["terasort", "--help"]));
    assert!(
        terasort.contains("no built-in sample") && !terasort.contains("runs on its built-in sample"),
        "{terasort}"
    );
}

/// On a terminal (a pty from `script`), the map line shows bytes read of
/// the input with a rate and an ETA, the reduce line records and a rate;
/// a line per phase stays.
#[test]
fn progress_on_a_terminal_shows_bytes_rate_and_eta() {
    let tmp = TempDir::new().unwrap();
    let input = tmp.path().join("text.txt");
    mapreduce_jobs::datagen::write_file(&input, mapreduce_jobs::datagen::text, 48 << 20, 3).unwrap();
    let command = format!(
        "{} word-count {} --workers 2 --block-size 8M -o out",
        assert_cmd::cargo::cargo_bin!("mr-run").display(),
        input.display()
    );
    let o = std::process::Command::new("script")
        .current_dir(tmp.path())
        .args(["-qec", &command, "/dev/null"])
        .stdin(Stdio::null())
        .output()
        .expect("script (util-linux) runs");
    let shown = String::from_utf8_lossy(&o.stdout).replace('\r', "\n");
    assert!(o.status.success(), "{shown}");
    let map = shown
        .lines()
        .rfind(|l| l.contains("step 1/1 map") && l.contains("6/6 tasks"))
        .unwrap_or_else(|| panic!("no finished map line:\n{shown}"));
    assert!(
        map.contains("48.00 MiB of 48.00 MiB") && map.contains("MiB/s") && map.contains("ETA"),
        "{map}"
    );
    // The tasks' spills, counted as each task ends.
    assert!(map.contains(" spills"), "{map}");
    assert!(
        shown
            .lines()
            .any(|l| l.contains("step 1/1 reduce") && l.contains("records") && l.contains("/s")),
        "{shown}"
    );
    // Not a terminal: no progress at all.
    let plain = run(
        &mut mr(&tmp),
        &["word-count", "text.txt", "--block-size", "8M", "-o", "out2"],
    );
    assert!(!stderr(&plain).contains("tasks"), "{}", stderr(&plain));
}

/// Skipped bad records are kept, with where they were and why.
#[test]
fn bad_records_log_keeps_every_skipped_record_with_its_place() {
    let tmp = TempDir::new().unwrap();
    write(
        &tmp,
        "b.json",
        "{\"city\": \"Reno\", \"stars\": 4.5}\nnot json\n{\"city\": \"Elko\"}\n{\"city\": 3\n",
    );
    let o = run(
        &mut mr(&tmp),
        &[
            "yelp-city-stats",
            "b.json",
            "--skip-bad-records",
            "5",
            "--bad-records-log",
            "bad.jsonl",
            "--block-size",
            "20",
            "-q",
        ],
    );
    assert!(assert_ok(&o).contains("Reno"));
    let log = fs::read_to_string(tmp.path().join("bad.jsonl")).unwrap();
    let mut lines: Vec<serde_json::Value> = log.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    lines.sort_by_key(|l| l["offset"].as_u64());
    assert_eq!(lines.len(), 2, "{log}");
    assert_eq!(lines[0]["record"], "not json");
    assert_eq!(lines[0]["file"], "b.json");
    assert_eq!(lines[0]["offset"], 31);
    assert_eq!(lines[0]["step"], 1);
    assert!(
        lines[0]["error"].as_str().unwrap().contains("invalid JSON record"),
        "{log}"
    );
    assert_eq!(lines[1]["record"], "{\"city\": 3");
    // Only where tasks run in this process.
    let o = run(
        &mut mr(&tmp),
        &["yelp-city-stats", "b.json", "--bad-records-log", "x", "-r", "streaming"],
    );
    assert!(assert_error(&o, 1).contains("--bad-records-log works with -r local and -r inline"));
}

#[test]
fn max_output_files_joins_adjacent_parts_keeping_their_order() {
    let tmp = TempDir::new().unwrap();
    let text: String = (0..3000).map(|i| format!("w{} w{} x{}\n", i % 97, i % 13, i)).collect();
    write(&tmp, "in.txt", &text);
    let parts = |dir: &str| -> Vec<String> {
        let mut names: Vec<String> = names(&tmp.path().join(dir))
            .into_iter()
            .filter(|n| n.starts_with("part-"))
            .collect();
        names.sort();
        names
    };
    let joined = |dir: &str| -> String {
        parts(dir)
            .iter()
            .map(|p| fs::read_to_string(tmp.path().join(dir).join(p)).unwrap())
            .collect()
    };
    for runner in ["local", "inline", "streaming"] {
        let (all, few) = (format!("all-{runner}"), format!("few-{runner}"));
        let job = ["word-count", "in.txt", "-r", runner, "--reducers", "5", "-q", "-o"];
        assert_ok(&run(&mut mr(&tmp), &[&job[..], &[all.as_str()]].concat()));
        assert_eq!(parts(&all).len(), 5);
        let limited = [&job[..], &[few.as_str(), "--max-output-files", "2"]].concat();
        assert_ok(&run(&mut mr(&tmp), &limited));
        assert_eq!(parts(&few), ["part-00000", "part-00001"], "{runner}");
        assert!(tmp.path().join(&few).join("_SUCCESS").exists());
        assert_eq!(joined(&few), joined(&all), "{runner}: the same lines in the same order");
        // Parts 0 and 1 of five make the first of two (Spark's grouping).
        let first: String = ["part-00000", "part-00001"]
            .iter()
            .map(|p| fs::read_to_string(tmp.path().join(&all).join(p)).unwrap())
            .collect();
        assert_eq!(
            fs::read_to_string(tmp.path().join(&few).join("part-00000")).unwrap(),
            first
        );
    }
    // More room than parts changes nothing; stdout is one stream anyway.
    let o = run(
        &mut mr(&tmp),
        &[
            "word-count",
            "in.txt",
            "--reducers",
            "3",
            "-q",
            "-o",
            "roomy",
            "--max-output-files",
            "9",
        ],
    );
    assert_ok(&o);
    assert_eq!(parts("roomy").len(), 3);
    let o = run(
        &mut mr(&tmp),
        &[
            "word-count",
            "in.txt",
            "--reducers",
            "5",
            "-q",
            "--max-output-files",
            "1",
        ],
    );
    assert_eq!(sorted_lines(&assert_ok(&o)), sorted_lines(&joined("all-local")));
    let o = run(&mut mr(&tmp), &["word-count", "in.txt", "--max-output-files", "0"]);
    assert!(assert_usage_error(&o).contains("--max-output-files"));
    // Output left on a cluster is the engine's one file per task: refused
    // before anything starts, rather than ignored.
    let o = run(
        &mut mr(&tmp),
        &[
            "word-count",
            "in.txt",
            "-r",
            "hadoop",
            "--output-dir",
            "hdfs:///out",
            "--max-output-files",
            "2",
        ],
    );
    assert!(assert_error(&o, 1).contains("--max-output-files"));
}
