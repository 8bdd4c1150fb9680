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

#[test]
fn issue28_many_small_files_pack_into_few_map_tasks_each_file_keeping_its_name() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    for i in 0..20_000 {
        std::fs::write(
            data.join(format!("f{i:05}.txt")),
            format!("word{} other{} line\n", i % 50, i % 7),
        )
        .unwrap();
    }
    let local = mr(
        &[
            "count-lines-by-file",
            "data",
            "-q",
            "--workers",
            "2",
            "--stats",
            "stats.json",
        ],
        dir.path(),
    );
    assert!(local.status.success(), "{}", String::from_utf8_lossy(&local.stderr));
    let tasks = map_tasks(&dir.path().join("stats.json"));
    assert!((2..=16).contains(&tasks), "20,000 tiny files in {tasks} map tasks");
    // input_path() names each packed file: one count per file, as the
    // one-task-per-file inline runner gives.
    let inline = mr(&["count-lines-by-file", "data", "-q", "-r", "inline"], dir.path());
    assert!(inline.status.success());
    assert_eq!(
        String::from_utf8_lossy(&local.stdout),
        String::from_utf8_lossy(&inline.stdout)
    );
    assert_eq!(local.stdout.iter().filter(|&&b| b == b'\n').count(), 20_000);

    // A bad record in a packed file is reported in that file.
    let yelp = dir.path().join("yelp");
    std::fs::create_dir(&yelp).unwrap();
    let good = r#"{"business_id": "b", "name": "n", "city": "Reno", "state": "NV", "stars": 4.5, "review_count": 3, "is_open": 1}"#;
    for i in 0..300 {
        let line = if i == 217 { "not json" } else { good };
        std::fs::write(yelp.join(format!("b{i:03}.json")), format!("{line}\n")).unwrap();
    }
    let bad = mr(&["yelp-city-stats", "yelp", "-q", "--workers", "2"], dir.path());
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(!bad.status.success());
    assert!(stderr.contains("b217.json, line 1"), "{stderr}");
}
