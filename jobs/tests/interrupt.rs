//! Ctrl-C during a job: exit status 130, and no temporary data or partial
//! output left behind.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn sigint_mid_job_removes_temporary_data_and_staged_output() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("text.txt");
    let mut data = Vec::new();
    mapreduce_jobs::datagen::text(&mut data, 24 << 20, 3).unwrap();
    std::fs::write(&input, data).unwrap();
    let temp = dir.path().join("tmp");
    let out = dir.path().join("out");
    let child = Command::new(env!("CARGO_BIN_EXE_mr-run"))
        .args(["word-count", "-q", "--sort-buffer", "64K", "--workers", "1"])
        .arg(&input)
        .arg("--temp-dir")
        .arg(&temp)
        .arg("-o")
        .arg(&out)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the job is under way: its job directory exists.
    let started = Instant::now();
    while std::fs::read_dir(&temp).map_or(true, |d| d.count() == 0) {
        assert!(started.elapsed() < Duration::from_secs(60), "the job never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(200));
    let status = Command::new("kill")
        .arg("-INT")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    assert!(!stderr.contains("error"), "{stderr}");
    assert_eq!(std::fs::read_dir(&temp).unwrap().count(), 0, "job directory removed");
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(left.len(), 2, "only the input and the temp dir remain: {left:?}");
}

/// Writes `size` bytes of generated text to `dir/text.txt`.
fn text_input(dir: &Path, size: u64) -> PathBuf {
    let input = dir.join("text.txt");
    let mut data = Vec::new();
    mapreduce_jobs::datagen::text(&mut data, size, 3).unwrap();
    std::fs::write(&input, data).unwrap();
    input
}

fn signal(child: &Child, name: &str) {
    let status = Command::new("kill")
        .arg(format!("-{name}"))
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
}

/// Waits up to `limit` for `child` to end; kills it (and fails) if not.
fn wait_within(child: &mut Child, limit: Duration, what: &str) -> std::process::ExitStatus {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what}: the process did not end within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits until something matching `found` exists.
fn wait_for(what: &str, found: impl Fn() -> bool) {
    let started = Instant::now();
    while !found() {
        assert!(started.elapsed() < Duration::from_secs(60), "{what} never appeared");
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Issue 27, finding 13: with stderr a closed pipe (`mr-run ... 2>&1 | head`
/// after `head` exited), the handler's message failed, its thread died
/// before `exit`, and the process waited forever.
#[test]
fn issue27_a_signal_with_stderr_a_closed_pipe_still_ends_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let input = text_input(dir.path(), 24 << 20);
    for sig in ["INT", "TERM"] {
        let temp = dir.path().join(format!("tmp-{sig}"));
        let mut child = Command::new(env!("CARGO_BIN_EXE_mr-run"))
            .args(["word-count", "-q", "--sort-buffer", "64K", "--workers", "1"])
            .arg(&input)
            .arg("--temp-dir")
            .arg(&temp)
            .arg("-o")
            .arg(dir.path().join(format!("out-{sig}")))
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // The reading end closed: every write to stderr fails with EPIPE.
        drop(child.stderr.take());
        wait_for("the job directory", || {
            std::fs::read_dir(&temp).is_ok_and(|d| d.count() > 0)
        });
        signal(&child, sig);
        let status = wait_within(&mut child, Duration::from_secs(20), sig);
        let want = if sig == "INT" { 130 } else { 143 };
        assert_eq!(status.code(), Some(want), "{sig}");
        assert_eq!(std::fs::read_dir(&temp).unwrap().count(), 0, "{sig}: temp data removed");
    }
}

/// Issue 27, finding 7: a signal around the commit. The exit status says
/// what happened: 0 with the output committed, 128 + the signal with no
/// output at all; never one with the other.
#[test]
fn issue27_a_signal_around_the_commit_exit_status_matches_the_output() {
    let dir = tempfile::tempdir().unwrap();
    let input = text_input(dir.path(), 2 << 20);
    let mut outcomes = [0, 0];
    for trial in 0..6 {
        let out = dir.path().join(format!("out-{trial}"));
        let mut child = Command::new(env!("CARGO_BIN_EXE_mr-run"))
            .args(["word-count", "-q", "--reducers", "4"])
            .arg(&input)
            .arg("--temp-dir")
            .arg(dir.path().join("tmp"))
            .arg("-o")
            .arg(&out)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // The commit starts when the staging directory gets `_SUCCESS`.
        let staging = dir.path().join(format!(".out-{trial}.mr-staging-{}", child.id()));
        wait_for("the commit", || staging.join("_SUCCESS").exists() || out.exists());
        signal(&child, if trial % 2 == 0 { "TERM" } else { "HUP" });
        let status = wait_within(&mut child, Duration::from_secs(20), "commit signal");
        let mut stderr = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
        let committed = out.join("_SUCCESS").exists();
        match status.code() {
            Some(0) => {
                assert!(committed, "exit 0 without the output: {stderr}");
                outcomes[0] += 1;
            }
            Some(143 | 129) => {
                assert!(!out.exists(), "exit {status} but the output was committed: {stderr}");
                outcomes[1] += 1;
            }
            other => panic!("exit {other:?}: {stderr}"),
        }
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with('.'))
            .collect();
        assert!(left.is_empty(), "hidden siblings left: {left:?}");
    }
    eprintln!("committed {}, stopped {}", outcomes[0], outcomes[1]);
}

/// Issue 27, finding 8: `--step-output-dir` is staged like `-o`: a run
/// stopped after step 1 was written leaves nothing there, and the next
/// run is not refused; a completed one is replaced only with --overwrite.
#[test]
fn issue27_step_output_of_an_interrupted_run_leaves_nothing_and_the_retry_runs() {
    let dir = tempfile::tempdir().unwrap();
    let input = text_input(dir.path(), 8 << 20);
    let steps = dir.path().join("steps");
    let args = |extra: &[&str]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_mr-run"));
        cmd.args(["words-by-count", "-q", "--sort-buffer", "64K", "--workers", "1"])
            .arg(&input)
            .arg("--temp-dir")
            .arg(dir.path().join("tmp"))
            .arg("--step-output-dir")
            .arg(&steps)
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        cmd
    };
    let child = args(&[]).spawn().unwrap();
    // Step 1's output is written (staged now; before, right into DIR).
    let staged = dir.path().join(format!(".steps.mr-staging-{}/step-1", child.id()));
    wait_for("step 1's output", || staged.exists() || steps.join("step-1").exists());
    signal(&child, "INT");
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let left = steps.exists();
    let retry = args(&[]).output().unwrap();
    let retry_err = String::from_utf8_lossy(&retry.stderr);
    match output.status.code() {
        Some(130) => {
            assert!(!left, "an interrupted run left its step output");
            assert!(retry.status.success(), "the retry was refused: {retry_err}");
        }
        // The job ended before the signal: its step output stands, and is
        // replaced only with --overwrite.
        Some(0) => {
            assert!(!retry.status.success());
            assert!(retry_err.contains("--overwrite"), "{retry_err}");
        }
        other => panic!("exit {other:?}: {stderr}"),
    }
    let again = args(&["--overwrite"]).output().unwrap();
    assert!(again.status.success(), "{}", String::from_utf8_lossy(&again.stderr));
    let mut names: Vec<_> = std::fs::read_dir(&steps)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["_SUCCESS", "step-1"]);
}
