//! The TeraSort trio and `sort`: teragen writes the same records however
//! the rows are split, terasort's concatenated parts equal a byte-order
//! sort of its input (what `LC_ALL=C sort` prints), and teravalidate sees
//! the order and the checksum.

use std::path::Path;

use mapreduce::runner::RunnerKind;
use mapreduce::{AnyJob, RunConfig};
use mapreduce_jobs::terasort::{self, RECORD_LEN};

fn run(job: &dyn AnyJob, inputs: &[&Path], configure: impl FnOnce(&mut RunConfig)) -> String {
    let mut config = RunConfig::new(inputs.iter().map(|p| p.to_string_lossy().into_owned()));
    configure(&mut config);
    let mut out = Vec::new();
    mapreduce::runner::run(job, &config, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

fn teragen(dir: &Path, rows: u64, tasks: u64, seed: u64) -> String {
    let input = dir.join(format!("tasks-{rows}-{tasks}.txt"));
    std::fs::write(&input, terasort::teragen_tasks(rows, tasks)).unwrap();
    run(&terasort::teragen(seed), &[&input], |c| {
        c.block_size = terasort::TASK_LINE_LEN as u64;
        c.workers = 3;
    })
}

/// What `LC_ALL=C sort` prints: lines in byte order.
fn byte_sorted(text: &str) -> String {
    let mut lines: Vec<&str> = text.lines().collect();
    lines.sort_unstable();
    lines.iter().map(|l| format!("{l}\n")).collect()
}

#[test]
fn teragen_records_are_fixed_width_and_independent_of_the_task_split() {
    let dir = tempfile::tempdir().unwrap();
    let one = teragen(dir.path(), 5000, 1, 7);
    assert_eq!(one.len(), 5000 * RECORD_LEN);
    assert!(
        one.lines()
            .all(|l| l.len() == RECORD_LEN - 1 && l.as_bytes()[10] == b'\t')
    );
    assert!(one.lines().all(|l| l[..10].bytes().all(|b| (b'!'..=b'~').contains(&b))));
    assert_eq!(teragen(dir.path(), 5000, 13, 7), one, "13 tasks write the same rows");
    assert_ne!(teragen(dir.path(), 5000, 1, 8), one, "another seed, other keys");
}

#[test]
fn terasort_equals_a_byte_order_sort_and_teravalidate_agrees() {
    let dir = tempfile::tempdir().unwrap();
    let data = teragen(dir.path(), 20_000, 4, 1);
    let input = dir.path().join("records.txt");
    std::fs::write(&input, &data).unwrap();
    let expected = byte_sorted(&data);
    for (runner, workers, reducers, sort_buffer) in [
        (RunnerKind::Inline, 1, 1, 64 << 20),
        (RunnerKind::Local, 2, 1, 64 << 20),
        (RunnerKind::Local, 2, 5, 256 << 10),
        (RunnerKind::Local, 4, 8, 64 << 10),
    ] {
        let out_dir = dir.path().join(format!("sorted-{runner:?}-{reducers}-{sort_buffer}"));
        run(&terasort::terasort(), &[&input], |c| {
            c.runner = runner;
            c.workers = workers;
            c.reducers = reducers;
            c.sort_buffer = sort_buffer;
            c.block_size = 100 << 10;
            c.output = Some(out_dir.clone());
        });
        let mut parts: Vec<_> = std::fs::read_dir(&out_dir)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("part-")))
            .collect();
        parts.sort();
        assert_eq!(parts.len(), reducers as usize);
        let sizes: Vec<usize> = parts.iter().map(|p| std::fs::read(p).unwrap().len()).collect();
        let joined: String = parts.iter().map(|p| std::fs::read_to_string(p).unwrap()).collect();
        assert!(
            joined == expected,
            "{runner:?} {reducers} reducers: not a byte-order sort"
        );
        // The sample spreads records evenly: no part over twice its share.
        let share = data.len() / reducers as usize;
        assert!(sizes.iter().all(|&s| s < 2 * share + RECORD_LEN), "{sizes:?}");

        let report = run(&terasort::teravalidate(), &[&out_dir], |c| c.block_size = 64 << 10);
        let unsorted = run(&terasort::teravalidate(), &[&input], |_| {});
        let field = |text: &str, name: &str| -> u64 {
            let line = text.lines().find(|l| l.starts_with(&format!("\"{name}\""))).unwrap();
            line.split('\t').nth(1).unwrap().parse().unwrap()
        };
        assert_eq!(field(&report, "records"), 20_000);
        assert_eq!(field(&report, "misordered"), 0);
        assert!(field(&unsorted, "misordered") > 0);
        assert_eq!(field(&report, "checksum"), field(&unsorted, "checksum"));
    }
}

/// `job`'s output on a file holding `text`, with `reducers` reducers.
fn sorted_by(job: &dyn AnyJob, text: &str, reducers: u32) -> String {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("lines.txt");
    std::fs::write(&input, text).unwrap();
    run(job, &[&input], |c| c.reducers = reducers)
}

#[test]
fn sort_orders_lines_by_first_column_then_whole_line() {
    // `a\x05` is a longer first column than `a`, so it sorts after every
    // `a` line although its whole line sorts before them (0x05 < tab).
    let lines = "b\t2\na\t9\nb\t1\n\tempty key\nab\t0\na\x05\tz\na\t10\né\tx\n";
    let got = sorted_by(&terasort::sort(), lines, 3);
    assert_eq!(got, "\tempty key\na\t10\na\t9\na\x05\tz\nab\t0\nb\t1\nb\t2\né\tx\n");
}

#[test]
fn terasort_orders_short_and_multibyte_keys_as_byte_order_does() {
    // A character straddling byte 10 would cut a 10-byte key short of
    // another line's; the whole line must still order byte by byte.
    let data = "aaaaaaaaa€x\naaaaaaaaaab\naaa\naaaaaaaaa\n\nzz\u{7f}\naaaaaaaaaa\u{1}\n";
    assert_eq!(sorted_by(&terasort::terasort(), data, 2), byte_sorted(data));
}
