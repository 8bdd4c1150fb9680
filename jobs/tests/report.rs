//! `--report FILE.html` in a real browser: Debian's Chromium, headless
//! (installed by `engines/chromium.sh` on first use; its absence fails the
//! test). A two-step job on four workers: the page renders with its
//! script run and no console message, fetches nothing, draws exactly one
//! timeline bar per task `--stats` lists and one thinner bar per spill or
//! merge it lists, and a screenshot is taken.

use std::path::{Path, PathBuf};
use std::process::Command;

fn mr_run() -> &'static str {
    env!("CARGO_BIN_EXE_mr-run")
}

fn chromium() -> PathBuf {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../engines/chromium.sh");
    let out = Command::new("bash").arg(script).output().expect("bash runs");
    assert!(
        out.status.success(),
        "engines/chromium.sh found no browser: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}

/// Chromium, headless, with no way to reach any host.
fn browser(page: &Path, extra: &[&str]) -> std::process::Output {
    Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--enable-logging=stderr",
            "--v=0",
            "--disable-background-networking",
            "--host-resolver-rules=MAP * ~NOTFOUND",
        ])
        .args(extra)
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium starts")
}

#[test]
fn the_report_opens_in_chromium_with_one_bar_per_task() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("text.txt");
    mapreduce_jobs::datagen::write_file(&input, mapreduce_jobs::datagen::text, 3 << 20, 1).unwrap();
    let (stats, page) = (dir.path().join("stats.json"), dir.path().join("report.html"));
    let ran = Command::new(mr_run())
        .arg("most-used-word")
        .arg(&input)
        .args([
            "--workers",
            "4",
            "--block-size",
            "256K",
            "--reducers",
            "3",
            "--sort-buffer",
            "1M",
            "-q",
            "--stats",
        ])
        .arg(&stats)
        .arg("--report")
        .arg(&page)
        .output()
        .unwrap();
    assert!(ran.status.success(), "{}", String::from_utf8_lossy(&ran.stderr));
    let stats: serde_json::Value = serde_json::from_slice(&std::fs::read(&stats).unwrap()).unwrap();
    assert_eq!(stats["schema_version"], 2);
    let steps = stats["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 2);
    let tasks: usize = steps.iter().map(|s| s["tasks"].as_array().unwrap().len()).sum();
    // 12 map tasks and 3 reduce tasks in step 1, at least one map and 3
    // reduce tasks in step 2.
    assert!(tasks >= 19, "{tasks} tasks");
    let workers: std::collections::BTreeSet<u64> = steps[0]["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["worker"].as_u64().unwrap())
        .collect();
    assert!(workers.len() > 1 && workers.iter().all(|&w| w < 4), "{workers:?}");
    let spans = |kind: &str| -> usize {
        steps
            .iter()
            .flat_map(|s| s["tasks"].as_array().unwrap())
            .map(|t| {
                let spans = t["spans"].as_array().unwrap();
                let of_kind = spans.iter().filter(|s| s["kind"] == kind).count();
                if kind == "spill" {
                    // Every map task spills at least once, and says so.
                    assert_eq!(
                        of_kind as u64,
                        if t["phase"] == "map" {
                            t["spills"].as_u64().unwrap()
                        } else {
                            0
                        }
                    );
                }
                for s in spans {
                    let (a, b) = (s["start_ms"].as_f64().unwrap(), s["end_ms"].as_f64().unwrap());
                    let (ta, tb) = (t["start_ms"].as_f64().unwrap(), t["end_ms"].as_f64().unwrap());
                    assert!(ta <= a && a <= b && b <= tb, "span {s} outside its task {t}");
                }
                of_kind
            })
            .sum()
    };
    let (spills, merges) = (spans("spill"), spans("merge"));
    // A 1 MiB sort buffer over 256 KiB splits of words: several spills per
    // map task, so the combiner's merge runs in some of them.
    assert!(spills > tasks && merges > 0, "{spills} spills, {merges} merges");

    let html = std::fs::read_to_string(&page).unwrap();
    assert!(!html.contains("http"), "the page names a URL: nothing may be fetched");

    let dom = browser(&page, &["--dump-dom"]);
    assert!(dom.status.success(), "{}", String::from_utf8_lossy(&dom.stderr));
    let dom_text = String::from_utf8_lossy(&dom.stdout);
    assert!(
        dom_text.contains("data-rendered=\"yes\""),
        "the page's script did not run"
    );
    assert_eq!(
        dom_text.matches("<rect class=\"task ").count(),
        tasks,
        "one bar per task"
    );
    assert!(
        dom_text.contains(&format!("id=\"task-count\">{tasks}<")),
        "the page counts its own bars"
    );
    assert_eq!(
        dom_text.matches("<rect class=\"span spill\"").count(),
        spills,
        "one bar per spill"
    );
    assert_eq!(
        dom_text.matches("<rect class=\"span merge\"").count(),
        merges,
        "one bar per merge"
    );
    let log = String::from_utf8_lossy(&dom.stderr);
    assert!(
        !log.contains("CONSOLE") && !log.contains("Uncaught"),
        "console messages:\n{log}"
    );
    assert!(
        !log.contains("ERR_NAME_NOT_RESOLVED"),
        "the page tried the network:\n{log}"
    );

    let shot = dir.path().join("report.png");
    let screenshot = browser(
        &page,
        &["--window-size=1100,900", &format!("--screenshot={}", shot.display())],
    );
    assert!(
        screenshot.status.success(),
        "{}",
        String::from_utf8_lossy(&screenshot.stderr)
    );
    let png = std::fs::read(&shot).unwrap();
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 10_000,
        "screenshot of {} bytes",
        png.len()
    );
}
