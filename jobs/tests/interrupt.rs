//! Ctrl-C during a job: exit status 130, and no temporary data or partial
//! output left behind.

use std::process::{Command, Stdio};
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
