//! Issue 8's regressions on the output side, as a user meets them through
//! `mr-run`: `--overwrite` never deletes what the job did not write, every
//! output location is checked before the first task, signals clean up, and
//! killed runs' leftovers are swept by the next run.

mod common;
use common::names;

use std::fs;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

fn mr() -> Command {
    Command::new(env!("CARGO_BIN_EXE_mr-run"))
}

fn run_in(dir: &Path, args: &[&str]) -> Output {
    mr().current_dir(dir).args(args).output().expect("mr-run starts")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A text input big enough that a job with a tiny sort buffer runs for a
/// few seconds.
fn big_text(dir: &Path) -> std::path::PathBuf {
    let input = dir.join("text.txt");
    let mut data = Vec::new();
    mapreduce_jobs::datagen::text(&mut data, 24 << 20, 3).unwrap();
    fs::write(&input, data).unwrap();
    input
}

/// A slow word count over `input`, with its temp dir under `temp`.
fn spawn_slow(input: &Path, temp: &Path, extra: &[&str]) -> Child {
    mr().args(["word-count", "-q", "--sort-buffer", "64K", "--workers", "1"])
        .arg(input)
        .arg("--temp-dir")
        .arg(temp)
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits until `dir` holds an entry whose name starts with `prefix`.
fn wait_for_entry(dir: &Path, prefix: &str) {
    let started = Instant::now();
    loop {
        let found = fs::read_dir(dir)
            .map(|d| d.flatten().any(|e| e.file_name().to_string_lossy().starts_with(prefix)))
            .unwrap_or(false);
        if found {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no {prefix}* appeared in {}",
            dir.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn signal(child: &Child, sig: &str) {
    let status = Command::new("kill")
        .arg(sig)
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn issue8_overwrite_never_deletes_files_the_job_did_not_write() {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(tmp.path().join("in.txt"), "a b\n").unwrap();
    fs::create_dir_all(tmp.path().join("precious/drafts")).unwrap();
    fs::write(tmp.path().join("precious/thesis.txt"), "years of work\n").unwrap();
    fs::write(tmp.path().join("precious/drafts/one.txt"), "draft\n").unwrap();
    let o = run_in(tmp.path(), &["word-count", "in.txt", "-o", "precious", "--overwrite"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("thesis.txt") && err.contains("drafts/"),
        "says what is in the way: {err}"
    );
    assert_eq!(
        fs::read_to_string(tmp.path().join("precious/thesis.txt")).unwrap(),
        "years of work\n"
    );
    assert_eq!(
        fs::read_to_string(tmp.path().join("precious/drafts/one.txt")).unwrap(),
        "draft\n"
    );
    assert_eq!(names(tmp.path()), ["in.txt", "precious"]);
}

#[test]
fn issue8_overwrite_refuses_an_output_directory_holding_the_input() {
    let tmp = tempfile::tempdir().unwrap();
    fs::create_dir(tmp.path().join("p2")).unwrap();
    fs::write(tmp.path().join("p2/in.txt"), "a\nb\n").unwrap();
    let o = run_in(tmp.path(), &["count-lines", "p2/in.txt", "-o", "p2", "--overwrite"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(o.stdout.is_empty());
    assert_eq!(fs::read_to_string(tmp.path().join("p2/in.txt")).unwrap(), "a\nb\n");
    // A previous output that holds the input named on the command line.
    fs::create_dir(tmp.path().join("out")).unwrap();
    fs::write(tmp.path().join("out/part-00000"), "x\n").unwrap();
    fs::write(tmp.path().join("out/_SUCCESS"), "").unwrap();
    let o = run_in(
        tmp.path(),
        &["count-lines", "out/part-00000", "-o", "out", "--overwrite"],
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("lies inside it"), "{err}");
    assert_eq!(fs::read_to_string(tmp.path().join("out/part-00000")).unwrap(), "x\n");
}

#[test]
fn issue8_unwritable_stats_fails_before_any_output() {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(tmp.path().join("in.txt"), "a b\n").unwrap();
    // /proc takes no new files, even from root.
    let o = run_in(tmp.path(), &["word-count", "in.txt", "--stats", "/proc/stats.json"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(o.stdout.is_empty(), "no output was delivered");
    assert!(err.contains("--stats /proc/stats.json"), "{err}");
    let o = run_in(
        tmp.path(),
        &["word-count", "in.txt", "-o", "out", "--stats", "/proc/stats.json"],
    );
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(names(tmp.path()), ["in.txt"], "no output directory was committed");
    // A stats file that can be written is, beside the committed output,
    // with no temporary file left.
    let o = run_in(tmp.path(), &["word-count", "in.txt", "-o", "out", "--stats", "s.json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(names(tmp.path()), ["in.txt", "out", "s.json"]);
}

#[test]
fn issue8_output_path_messages_say_what_is_there() {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(tmp.path().join("in.txt"), "a\n").unwrap();
    fs::write(tmp.path().join("afile"), "keep\n").unwrap();
    let o = run_in(tmp.path(), &["count-lines", "in.txt", "-o", "afile"]);
    let err = stderr(&o);
    assert!(err.contains("is a file, not a directory"), "{err}");
    assert!(
        !err.contains("--overwrite"),
        "does not suggest --overwrite for a file: {err}"
    );
    // An existing empty directory is taken, as mrjob does.
    fs::create_dir(tmp.path().join("empty")).unwrap();
    let o = run_in(tmp.path(), &["count-lines", "in.txt", "-o", "empty"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(names(&tmp.path().join("empty")), ["_SUCCESS", "part-00000"]);
}

#[test]
fn issue8_sigterm_cleans_up_and_exits_143() {
    let tmp = tempfile::tempdir().unwrap();
    let input = big_text(tmp.path());
    let temp = tmp.path().join("tmp");
    let child = spawn_slow(&input, &temp, &["-o", tmp.path().join("out").to_str().unwrap()]);
    wait_for_entry(&temp, "mr-job-");
    std::thread::sleep(Duration::from_millis(200));
    signal(&child, "-TERM");
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(143), "{}", stderr(&o));
    assert_eq!(names(&temp), Vec::<String>::new(), "temp data removed");
    assert_eq!(
        names(tmp.path()),
        ["text.txt", "tmp"],
        "no staging, lock or output left"
    );
}

#[test]
fn issue8_killed_run_writing_to_stdout_is_swept_by_the_next_run() {
    let tmp = tempfile::tempdir().unwrap();
    let input = big_text(tmp.path());
    let temp = tmp.path().join("tmp");
    let mut child = spawn_slow(&input, &temp, &[]);
    wait_for_entry(&temp, "mr-output-");
    signal(&child, "-KILL");
    let _ = child.wait();
    assert!(
        names(&temp).iter().any(|n| n.starts_with("mr-output-")),
        "the kill left staging behind"
    );
    let small = tmp.path().join("small.txt");
    fs::write(&small, "a\n").unwrap();
    let o = mr()
        .args(["word-count", "-q"])
        .arg(&small)
        .arg("--temp-dir")
        .arg(&temp)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(names(&temp), Vec::<String>::new(), "every kind of leftover swept");
}

#[test]
fn issue8_a_second_run_into_the_same_output_fails_at_once() {
    let tmp = tempfile::tempdir().unwrap();
    let input = big_text(tmp.path());
    let temp = tmp.path().join("tmp");
    let out = tmp.path().join("out");
    let mut first = spawn_slow(&input, &temp, &["-o", out.to_str().unwrap()]);
    wait_for_entry(&temp, "mr-job-");
    let started = Instant::now();
    let o = mr()
        .args(["count-lines", "-q"])
        .arg(&input)
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("another run (process"), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "refused before doing the work"
    );
    signal(&first, "-INT");
    let _ = first.wait();
    assert!(!out.exists());
}

#[test]
fn issue8_non_utf8_file_names_are_read_and_a_bad_option_value_is_named() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let tmp = tempfile::tempdir().unwrap();
    let name = OsStr::from_bytes(b"caf\xe9 \n.txt");
    fs::write(tmp.path().join(name), "a\nb\n").unwrap();
    let o = mr()
        .current_dir(tmp.path())
        .args([OsStr::new("count-lines"), OsStr::new("-q"), name])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(String::from_utf8_lossy(&o.stdout), "null\t2\n");
    // An option value that must be text, beside a valid non-UTF-8 input.
    let o = mr()
        .current_dir(tmp.path())
        .args([
            OsStr::new("count-lines"),
            name,
            OsStr::new("--sort-buffer"),
            OsStr::from_bytes(b"1\xff"),
        ])
        .output()
        .unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("argument \"1\u{fffd}\" is not valid UTF-8"),
        "names the bad one: {err}"
    );
}
