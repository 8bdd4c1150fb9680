//! Issue 28: what a new user meets first. A small input fills the
//! workers by default (Spark's split rule), while an explicit
//! `--block-size` is used as given, and the output is the same either way.

use std::path::Path;
use std::process::Command;

fn mr(args: &[&str], dir: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_mr-run"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("mr-run runs")
}

/// The map tasks of step 1 that `--stats FILE` reports.
fn map_tasks(stats: &Path) -> usize {
    let stats: serde_json::Value = serde_json::from_slice(&std::fs::read(stats).unwrap()).unwrap();
    stats["steps"][0]["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["phase"] == "map")
        .count()
}

#[test]
fn issue28_a_40_mb_input_with_two_workers_runs_at_least_two_map_tasks() {
    let dir = tempfile::tempdir().unwrap();
    let made = mr(
        &["gen", "text", "--size", "40M", "--seed", "5", "-o", "text.txt"],
        dir.path(),
    );
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let mut outputs = Vec::new();
    for (extra, at_least, at_most) in [
        (&[][..], 2, 2),
        (&["--block-size", "128M"][..], 1, 1),
        (&["--block-size", "8M"][..], 5, 5),
    ] {
        let mut args = vec![
            "word-count",
            "text.txt",
            "-q",
            "--workers",
            "2",
            "--stats",
            "stats.json",
        ];
        args.extend_from_slice(extra);
        let out = mr(&args, dir.path());
        assert!(
            out.status.success(),
            "{extra:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let tasks = map_tasks(&dir.path().join("stats.json"));
        assert!((at_least..=at_most).contains(&tasks), "{extra:?}: {tasks} map tasks");
        outputs.push(out.stdout);
    }
    assert!(
        outputs.windows(2).all(|w| w[0] == w[1]),
        "the split size changes no output"
    );
}
