//! End-to-end tests of how `mr-run` reads its inputs (issue 8, "no wrong
//! answer with exit 0"): compression detected by content, streams (stdin,
//! FIFOs, `/dev/stdin`) spooled so retries and splits can re-read them,
//! inputs that change under the job, the maximum line length, and the
//! messages about odd inputs.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{ExitCode, Output};

use assert_cmd::Command;
use mapreduce::prelude::*;
use mapreduce_jobs::examples::SumAll;
use tempfile::TempDir;

// ---------------------------------------------------------------------------
// Helpers (as in cli.rs)
// ---------------------------------------------------------------------------

fn mr(dir: &TempDir) -> Command {
    let mut cmd = assert_cmd::cargo::cargo_bin_cmd!("mr-run");
    cmd.current_dir(dir.path()).env("RUST_BACKTRACE", "1");
    cmd
}

fn run(cmd: &mut Command, args: &[&str]) -> Output {
    cmd.args(args).output().expect("mr-run starts")
}

fn run_stdin(dir: &TempDir, args: &[&str], stdin: impl Into<Vec<u8>>) -> Output {
    mr(dir)
        .args(args)
        .write_stdin(stdin.into())
        .output()
        .expect("mr-run starts")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("stdout is UTF-8")
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).expect("stderr is UTF-8")
}

fn assert_no_panic(o: &Output) {
    let err = stderr(o);
    for noise in ["panicked", "RUST_BACKTRACE", "stack backtrace", "note: run with"] {
        assert!(!err.contains(noise), "stderr has {noise:?}:\n{err}");
    }
}

/// A clean failure: exit status 1, nothing on stdout, one `error:` line.
fn assert_error(o: &Output) -> String {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(1), "exit status; stderr:\n{err}");
    assert!(o.stdout.is_empty(), "stdout should be empty, got {:?}", stdout(o));
    assert_no_panic(o);
    assert!(err.starts_with("error: "), "stderr: {err:?}");
    assert_eq!(err.lines().count(), 1, "one error paragraph, got:\n{err}");
    assert!(
        !err.contains("mr-spool"),
        "names the input, not its spooled copy: {err}"
    );
    err
}

fn assert_ok(o: &Output) -> String {
    assert!(o.status.success(), "exit status {:?}; stderr:\n{}", o.status, stderr(o));
    assert_no_panic(o);
    stdout(o)
}

fn write(dir: &TempDir, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.path().join(name);
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).unwrap();
    }
    fs::write(&path, contents).unwrap();
    path
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

fn bzip2(data: &[u8]) -> Vec<u8> {
    let mut enc = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::default());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

fn zstd(data: &[u8]) -> Vec<u8> {
    zstd::stream::encode_all(data, 3).unwrap()
}

/// 20,000 numbered lines.
fn numbers() -> String {
    (0..20_000).map(|i| format!("{i}\n")).collect()
}

/// `mr-run gen yelp --size 1M --seed 1` into `dir/b.json`; returns its bytes.
fn yelp(dir: &TempDir) -> Vec<u8> {
    let o = run(
        &mut mr(dir),
        &["gen", "yelp", "--size", "1M", "--seed", "1", "-o", "b.json"],
    );
    assert_ok(&o);
    fs::read(dir.path().join("b.json")).unwrap()
}

/// The names in `dir`, which the job's temporary data must not outlive.
fn leftovers(dir: &Path) -> Vec<String> {
    fs::read_dir(dir)
        .map(|d| d.map(|e| e.unwrap().file_name().into_string().unwrap()).collect())
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------
// Compression, by content
// ---------------------------------------------------------------------------

#[test]
fn issue8_compressed_stdin_and_zst_files_give_the_plain_answer() {
    let tmp = TempDir::new().unwrap();
    let data = yelp(&tmp);
    let plain = assert_ok(&run(&mut mr(&tmp), &["yelp-top-city", "-q", "b.json"]));
    assert!(plain.contains("\t\"Las Vegas\""), "a real answer: {plain:?}");
    for (codec, bytes) in [("gzip", gzip(&data)), ("bzip2", bzip2(&data)), ("zstd", zstd(&data))] {
        for runner in ["local", "inline"] {
            let o = run_stdin(&tmp, &["yelp-top-city", "-q", "-r", runner, "-"], bytes.clone());
            assert_eq!(assert_ok(&o), plain, "{codec} on stdin, {runner}");
        }
    }
    write(&tmp, "b.json.zst", zstd(&data));
    // Misnamed: the content decides, not the extension.
    write(&tmp, "b.txt", gzip(&data));
    write(&tmp, "b.gz", bzip2(&data));
    for name in ["b.json.zst", "b.txt", "b.gz"] {
        let o = run(&mut mr(&tmp), &["yelp-top-city", "-q", name]);
        assert_eq!(assert_ok(&o), plain, "{name}");
    }
}

#[test]
fn issue8_gzip_stdin_is_decoded() {
    let tmp = TempDir::new().unwrap();
    let text = "apple\nbanana\navocado\n";
    let plain = assert_ok(&run_stdin(&tmp, &["first-letter", "-q", "-"], text));
    assert_eq!(
        assert_ok(&run_stdin(&tmp, &["first-letter", "-q", "-"], gzip(text.as_bytes()))),
        plain
    );
}

#[test]
fn issue8_zst_file_reads_every_frame() {
    // And every member of gzip and bzip2 files, with the same decoders.
    let tmp = TempDir::new().unwrap();
    type Compress = fn(&[u8]) -> Vec<u8>;
    let codecs: [(&str, Compress); 3] = [("two.zst", zstd), ("two.gz", gzip), ("two.bz2", bzip2)];
    for (name, compress) in codecs {
        let mut bytes = compress(b"one\ntwo\n");
        bytes.extend(compress(b"three\nfour\nfive\n"));
        write(&tmp, name, bytes);
        let o = run(&mut mr(&tmp), &["count-lines", "-q", name]);
        assert_eq!(assert_ok(&o), "null\t5\n", "{name}");
    }
}

#[test]
fn issue8_undecodable_or_misnamed_compression_is_refused() {
    let tmp = TempDir::new().unwrap();
    let xz = b"\xfd7zXZ\x00\x00\x04\xe6\xd6\xb4\x46 more";
    write(&tmp, "data.txt", xz);
    write(
        &tmp,
        "data.lz4",
        "plain text, no magic: Hadoop's lz4 block format has none\n",
    );
    write(&tmp, "data.snappy", b"\xff\x06\x00\x00sNaPpY and so on\n");
    write(&tmp, "data.gz", "plain text under a gzip name\n");
    for name in ["data.txt", "data.lz4", "data.snappy", "data.gz"] {
        let err = assert_error(&run(&mut mr(&tmp), &["count-lines", name]));
        assert!(err.contains(name), "{err}");
    }
    let err = assert_error(&run_stdin(&tmp, &["count-lines", "-"], &xz[..]));
    assert!(err.contains("<stdin>") && err.contains("xz"), "{err}");
}

/// Replaces issue 8's trailing-garbage test (audit finding 4 of issue
/// 27): bytes after the last member that are not zero padding used to be
/// ignored with a warning, so `cat p.gz p.txt`, or a second member whose
/// header was damaged, read as half the file with exit 0.
#[test]
fn issue27_gzip_bytes_after_a_member_fail_naming_file_and_offset() {
    let tmp = TempDir::new().unwrap();
    let one = gzip(b"one\ntwo\n");
    let two = gzip(b"three\n");
    let mut appended = one.clone();
    appended.extend_from_slice(&two);
    appended.extend_from_slice(b"four\nfive\n");
    write(&tmp, "appended.gz", appended);
    let mut damaged = one.clone();
    damaged.extend_from_slice(&two);
    damaged[one.len()] = b'x';
    write(&tmp, "damaged.gz", damaged);
    for (name, offset) in [("appended.gz", one.len() + two.len()), ("damaged.gz", one.len())] {
        for runner in ["local", "inline", "streaming"] {
            let o = run(&mut mr(&tmp), &["count-lines", "-r", runner, name]);
            let err = assert_error(&o);
            assert!(
                err.contains(name) && err.contains(&format!("byte offset {offset}")),
                "{name} {runner}: {err}"
            );
        }
        let o = run_stdin(&tmp, &["count-lines", "-"], fs::read(tmp.path().join(name)).unwrap());
        let err = assert_error(&o);
        assert!(
            err.contains("<stdin>") && err.contains(&format!("byte offset {offset}")),
            "{err}"
        );
    }
    // Zero padding (a tar or tape block's rest) is accepted, as gzip -d
    // accepts it, with one warning.
    let mut padded = one.clone();
    padded.extend_from_slice(&two);
    padded.extend_from_slice(&[0; 512]);
    write(&tmp, "padded.gz", padded);
    let o = run(&mut mr(&tmp), &["count-lines", "padded.gz"]);
    assert_eq!(assert_ok(&o), "null\t3\n");
    let err = stderr(&o);
    assert_eq!(
        err.matches("warning: padded.gz: decompression OK, trailing zero bytes ignored")
            .count(),
        1,
        "{err}"
    );
    let o = run(&mut mr(&tmp), &["count-lines", "-q", "padded.gz"]);
    assert_eq!(assert_ok(&o), "null\t3\n");
    assert_eq!(stderr(&o), "");
}

#[test]
fn issue8_corrupt_bz2_is_an_io_error_naming_the_file() {
    let tmp = TempDir::new().unwrap();
    let data = yelp(&tmp);
    let mut bytes = bzip2(&data);
    // Damage inside the first block's data: it decodes to garbage that
    // the block checksum, at the block's end, catches.
    for b in &mut bytes[5000..5004] {
        *b ^= 0x55;
    }
    write(&tmp, "c.bz2", bytes);
    for runner in ["local", "inline"] {
        let err = assert_error(&run(&mut mr(&tmp), &["yelp-city-stats", "-r", runner, "c.bz2"]));
        assert!(err.contains("c.bz2") && err.contains("bzip2"), "{runner}: {err}");
        assert!(!err.contains("bad record"), "{runner}: {err}");
    }
}

// ---------------------------------------------------------------------------
// Streams: spooled, so that every reader sees all of them
// ---------------------------------------------------------------------------

#[test]
fn issue8_dev_stdin_reads_every_line() {
    let tmp = TempDir::new().unwrap();
    for runner in ["local", "inline"] {
        let o = run_stdin(&tmp, &["count-lines", "-q", "-r", runner, "/dev/stdin"], numbers());
        assert_eq!(assert_ok(&o), "null\t20000\n", "{runner}");
    }
}

#[cfg(unix)]
#[test]
fn issue8_fifo_reads_every_line_and_keeps_its_name() {
    let tmp = TempDir::new().unwrap();
    let fifo = tmp.path().join("pipe");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    for (job, expected) in [
        ("count-lines", "null\t20000\n".to_owned()),
        (
            "count-lines-by-file",
            format!(
                "{}\t20000\n",
                serde_json::to_string(&format!("file://{}", fifo.display())).unwrap()
            ),
        ),
    ] {
        let writer = {
            let fifo = fifo.clone();
            std::thread::spawn(move || fs::write(fifo, numbers()).unwrap())
        };
        let o = run(
            &mut mr(&tmp),
            &[job, "-q", "--block-size", "4K", fifo.to_str().unwrap()],
        );
        writer.join().unwrap();
        assert_eq!(assert_ok(&o), expected, "{job}");
    }
}

#[test]
fn issue8_stdin_is_split_and_its_errors_name_stdin() {
    let tmp = TempDir::new().unwrap();
    let temp = tmp.path().join("tmp");
    let temp = temp.to_str().unwrap();
    let o = run_stdin(
        &tmp,
        &["count-lines", "-q", "--block-size", "1K", "--temp-dir", temp, "-"],
        numbers(),
    );
    assert_eq!(assert_ok(&o), "null\t20000\n");
    let good = "{\"city\":\"A\",\"stars\":4.0,\"review_count\":3,\"is_open\":1,\"state\":\"X\"}\n";
    let mut json = good.repeat(100);
    json.push_str("{\"city\": oops\n");
    // One split: the line number is known.
    let o = run_stdin(&tmp, &["yelp-city-stats", "--temp-dir", temp, "-"], json.clone());
    let err = assert_error(&o);
    assert!(err.contains("bad record at <stdin>, line 101"), "{err}");
    // A later split of the spooled copy knows the offset, not the line.
    let o = run_stdin(
        &tmp,
        &["yelp-city-stats", "--block-size", "1K", "--temp-dir", temp, "-"],
        json,
    );
    let err = assert_error(&o);
    assert!(
        err.contains(&format!("bad record at <stdin>, byte offset {}", good.len() * 100)),
        "{err}"
    );
    assert!(
        leftovers(&tmp.path().join("tmp")).is_empty(),
        "{:?}",
        leftovers(&tmp.path().join("tmp"))
    );
}

/// Counts its records, and fails its first attempt after reading one.
#[derive(Clone)]
struct FailsOnce;

static FAILED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

impl Mapper for FailsOnce {
    type Input = TextLine;
    type Key = ();
    type Value = u64;

    fn map(&mut self, _: Line<'_>, out: &mut Emitter<'_, (), u64>) -> TaskResult {
        if !FAILED.swap(true, std::sync::atomic::Ordering::SeqCst) {
            return Err("fails on its first attempt".into());
        }
        out.emit((), 1);
        Ok(())
    }
}

const CHILD: &str = "MR_ISSUE8_CHILD_ARGS";

/// A job binary needs its own process for standard input, so this test
/// re-runs its own test binary as one, with the job's arguments in
/// [`CHILD`].
#[test]
fn issue8_retried_map_task_on_stdin_sees_every_record() {
    if let Ok(args) = std::env::var(CHILD) {
        let job = Job::new("fails-once", step::map(FailsOnce).reduce(SumAll));
        let argv = std::iter::once("fails-once".to_owned()).chain(args.split('\u{1f}').map(str::to_owned));
        let code = mapreduce::cli::run_with_args(&job, argv.map(Into::into));
        std::process::exit(if code == ExitCode::SUCCESS { 0 } else { 1 });
    }
    let tmp = TempDir::new().unwrap();
    let out = tmp.path().join("out");
    let stats = tmp.path().join("stats.json");
    let args = [
        "-",
        "-q",
        "--max-attempts",
        "2",
        "-o",
        out.to_str().unwrap(),
        "--stats",
        stats.to_str().unwrap(),
    ];
    let o = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "issue8_retried_map_task_on_stdin_sees_every_record",
            "--nocapture",
        ])
        .env(CHILD, args.join("\u{1f}"))
        .write_stdin(numbers())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(fs::read_to_string(out.join("part-00000")).unwrap(), "null\t20000\n");
    let stats: serde_json::Value = serde_json::from_slice(&fs::read(stats).unwrap()).unwrap();
    assert_eq!(
        stats["counters"]["Map-Reduce Framework"]["MAP_INPUT_RECORDS"], 20_000,
        "{stats}"
    );
}

/// Replaces terasort.rs's `total_order_refuses_standard_input`: the sampler
/// reads the spooled copy, so total order works on stdin too.
#[test]
fn issue8_total_order_samples_spooled_stdin() {
    let tmp = TempDir::new().unwrap();
    let lines: String = (0..5000u32)
        .map(|i| format!("{:05}\t{i}\n", (i * 7919) % 5000))
        .collect();
    write(&tmp, "lines.tsv", &lines);
    let from_file = assert_ok(&run(&mut mr(&tmp), &["sort", "-q", "--reducers", "3", "lines.tsv"]));
    let o = run_stdin(
        &tmp,
        &["sort", "-q", "--reducers", "3", "--block-size", "8K", "-"],
        lines.clone(),
    );
    assert_eq!(assert_ok(&o), from_file);
    let mut sorted: Vec<&str> = lines.lines().collect();
    sorted.sort_unstable();
    assert_eq!(from_file.lines().collect::<Vec<_>>(), sorted);
}

// ---------------------------------------------------------------------------
// Inputs that change while the job reads them
// ---------------------------------------------------------------------------

/// Changes its input file when its task starts: truncates it to half, or
/// appends to it.
#[derive(Clone)]
struct Tamper {
    path: PathBuf,
    truncate: bool,
}

impl Mapper for Tamper {
    type Input = TextLine;
    type Key = ();
    type Value = u64;

    fn setup(&mut self, _: &mut Emitter<'_, (), u64>) -> TaskResult {
        let len = fs::metadata(&self.path)?.len();
        let file = fs::OpenOptions::new().append(true).open(&self.path)?;
        if self.truncate {
            file.set_len(len / 2)?;
        } else {
            (&file).write_all(b"appended\n")?;
        }
        Ok(())
    }

    fn map(&mut self, _: Line<'_>, out: &mut Emitter<'_, (), u64>) -> TaskResult {
        out.emit((), 1);
        Ok(())
    }
}

#[test]
fn issue8_input_changed_while_read_fails_the_job() {
    for runner in [
        mapreduce::runner::RunnerKind::Local,
        mapreduce::runner::RunnerKind::Inline,
    ] {
        for truncate in [true, false] {
            let tmp = TempDir::new().unwrap();
            let path = write(&tmp, "in.txt", numbers());
            let before = numbers().len();
            let job = Job::new(
                "tamper",
                step::map(Tamper {
                    path: path.clone(),
                    truncate,
                })
                .reduce(SumAll),
            );
            let mut config = RunConfig::new([path.to_str().unwrap()]);
            config.runner = runner;
            config.temp_dir = Some(tmp.path().join("tmp"));
            let mut out = Vec::new();
            let err = mapreduce::runner::run(&job, &config, &mut out).unwrap_err();
            let msg = err.to_string();
            let after = fs::metadata(&path).unwrap().len();
            assert!(
                matches!(err, mapreduce::Error::InputChanged { .. }),
                "{runner:?}: {err:?}"
            );
            assert!(msg.contains("in.txt changed while the job read it"), "{msg}");
            assert!(
                msg.contains(&format!("size {before} -> {after} bytes")),
                "{runner:?} {truncate}: {msg}"
            );
            assert!(out.is_empty());
        }
    }
}

/// Replaces its input file by rename, once, when the first task starts:
/// a new file with the same size and modification time but other lines
/// (what rsync, `cp -p` or a restore leave behind).
#[derive(Clone)]
struct Replace {
    path: PathBuf,
    done: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Mapper for Replace {
    type Input = TextLine;
    type Key = ();
    type Value = u64;

    fn setup(&mut self, _: &mut Emitter<'_, (), u64>) -> TaskResult {
        if self.done.swap(true, std::sync::atomic::Ordering::SeqCst) {
            return Ok(());
        }
        let modified = fs::metadata(&self.path)?.modified()?;
        let other: Vec<u8> = fs::read(&self.path)?
            .into_iter()
            .map(|b| if b == b'1' { b'\n' } else { b })
            .collect();
        let new = self.path.with_extension("new");
        fs::write(&new, other)?;
        fs::File::options().write(true).open(&new)?.set_modified(modified)?;
        fs::rename(&new, &self.path)?;
        Ok(())
    }

    fn map(&mut self, _: Line<'_>, out: &mut Emitter<'_, (), u64>) -> TaskResult {
        out.emit((), 1);
        Ok(())
    }
}

/// Audit finding 5 of issue 27: the change check compared size and
/// modification time only, and each split reopens the path, so after a
/// rename over the input with both kept, later splits read the new file:
/// exit 0 with the counts of neither version.
#[test]
fn issue27_input_replaced_by_rename_with_same_size_and_mtime_fails_the_job() {
    for runner in [
        mapreduce::runner::RunnerKind::Local,
        mapreduce::runner::RunnerKind::Inline,
    ] {
        let tmp = TempDir::new().unwrap();
        let path = write(&tmp, "in.txt", numbers());
        let before = fs::metadata(&path).unwrap();
        let job = Job::new(
            "replace",
            step::map(Replace {
                path: path.clone(),
                done: Default::default(),
            })
            .reduce(SumAll),
        );
        let mut config = RunConfig::new([path.to_str().unwrap()]);
        config.runner = runner;
        config.block_size = 8 << 10;
        config.temp_dir = Some(tmp.path().join("tmp"));
        let mut out = Vec::new();
        let result = mapreduce::runner::run(&job, &config, &mut out);
        let after = fs::metadata(&path).unwrap();
        assert_eq!(
            (after.len(), after.modified().unwrap()),
            (before.len(), before.modified().unwrap()),
            "the replacement keeps size and time"
        );
        let err = result.expect_err("a replaced input must fail the job");
        assert!(
            matches!(err, mapreduce::Error::InputChanged { .. }),
            "{runner:?}: {err:?}"
        );
        let msg = err.to_string();
        assert!(msg.contains("in.txt changed while the job read it"), "{msg}");
        assert!(msg.contains("replaced by another file"), "{msg}");
        assert!(out.is_empty());
    }
}

// ---------------------------------------------------------------------------
// The maximum line length
// ---------------------------------------------------------------------------

#[cfg(unix)]
#[test]
fn issue8_dev_zero_stops_at_the_max_line_length() {
    let tmp = TempDir::new().unwrap();
    let temp = tmp.path().join("tmp");
    let o = run(
        &mut mr(&tmp),
        &[
            "word-count",
            "--max-line-length",
            "1M",
            "--temp-dir",
            temp.to_str().unwrap(),
            "/dev/zero",
        ],
    );
    let err = assert_error(&o);
    for part in [
        "/dev/zero, line 1 (byte offset 0)",
        "1048576 bytes",
        "--max-line-length",
    ] {
        assert!(err.contains(part), "{part:?} in {err}");
    }
    assert!(leftovers(&temp).is_empty(), "{:?}", leftovers(&temp));
}

#[test]
fn issue8_long_line_is_an_error_naming_file_line_and_offset() {
    let tmp = TempDir::new().unwrap();
    let mut text = "short line\n".repeat(3);
    text.push_str(&"x".repeat(5000));
    text.push('\n');
    write(&tmp, "long.txt", &text);
    for runner in ["local", "inline"] {
        let o = run(
            &mut mr(&tmp),
            &["word-count", "-r", runner, "--max-line-length", "4K", "long.txt"],
        );
        let err = assert_error(&o);
        assert!(err.contains("long.txt, line 4 (byte offset 33)"), "{runner}: {err}");
        let o = run(
            &mut mr(&tmp),
            &[
                "count-lines",
                "-q",
                "-r",
                runner,
                "--max-line-length",
                "5000",
                "long.txt",
            ],
        );
        assert_eq!(assert_ok(&o), "null\t4\n", "{runner}: the limit itself is allowed");
    }
    let zeros = vec![0u8; 3 << 20];
    let err = assert_error(&run_stdin(
        &tmp,
        &["word-count", "--max-line-length", "1M", "-"],
        zeros.clone(),
    ));
    assert!(err.contains("<stdin>, line 1 (byte offset 0)"), "{err}");
    let err = assert_error(&run_stdin(
        &tmp,
        &["word-count", "--max-line-length", "1M", "-"],
        gzip(&zeros),
    ));
    assert!(err.contains("<stdin>, line 1 (byte offset 0)"), "compressed: {err}");
}

// ---------------------------------------------------------------------------
// Directories
// ---------------------------------------------------------------------------

#[test]
fn issue8_skipped_subdirectory_is_named_on_stderr() {
    let tmp = TempDir::new().unwrap();
    write(&tmp, "in/a", "x\n");
    write(&tmp, "in/sub/b", "y\n");
    write(&tmp, "in/_logs/c", "z\n");
    let o = run(&mut mr(&tmp), &["count-lines", "in"]);
    assert_eq!(assert_ok(&o), "null\t1\n");
    let err = stderr(&o);
    let warnings: Vec<&str> = err.lines().filter(|l| l.starts_with("warning:")).collect();
    assert_eq!(
        warnings,
        ["warning: skipping subdirectory in/sub of input directory in (pass --recursive to read it)"],
        "{err}"
    );
    let o = run(&mut mr(&tmp), &["count-lines", "-q", "in"]);
    assert_eq!(stderr(&o), "", "-q prints no warning");
}

/// Audit finding 12 of issue 27: a FIFO in an input directory (or
/// matched by a glob) was opened like a file, and with no writer the job
/// hung forever, saying nothing. It is skipped and named; a FIFO named
/// outright is still read (issue8_fifo_reads_every_line_and_keeps_its_name).
#[cfg(unix)]
#[test]
fn issue27_fifo_in_an_input_directory_or_glob_is_skipped_and_named() {
    let tmp = TempDir::new().unwrap();
    write(&tmp, "in/a", "x\ny\n");
    let made = std::process::Command::new("mkfifo")
        .arg(tmp.path().join("in/p"))
        .status()
        .unwrap();
    assert!(made.success());
    for (spec, warning) in [
        (
            "in",
            "warning: skipping FIFO in/p in input directory in (not a regular file: name it to read it)",
        ),
        (
            "in/*",
            "warning: skipping FIFO in/p matched by in/* (not a regular file: name it to read it)",
        ),
    ] {
        for runner in ["local", "streaming"] {
            let o = mr(&tmp)
                .args(["count-lines", "-r", runner, spec])
                .timeout(std::time::Duration::from_secs(60))
                .output()
                .unwrap();
            assert_eq!(assert_ok(&o), "null\t2\n", "{spec} {runner}");
            let err = stderr(&o);
            let warnings: Vec<&str> = err.lines().filter(|l| l.starts_with("warning:")).collect();
            assert_eq!(warnings, [warning], "{spec} {runner}: {err}");
        }
    }
    let o = mr(&tmp)
        .args(["count-lines", "in/p*"])
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    let err = assert_error(&o);
    assert!(err.contains("in/p*") && err.contains("named outright"), "{err}");
}

#[test]
fn issue8_directory_without_files_is_an_error() {
    let tmp = TempDir::new().unwrap();
    write(&tmp, "empty/_SUCCESS", "");
    write(&tmp, "empty/.crc", "x\n");
    let err = assert_error(&run(&mut mr(&tmp), &["count-lines", "empty"]));
    assert!(err.contains("input directory empty contains no files"), "{err}");
    write(&tmp, "nested/sub/a", "x\n");
    let err = assert_error(&run(&mut mr(&tmp), &["count-lines", "nested"]));
    assert!(
        err.contains("input directory nested contains no files") && err.contains("--recursive"),
        "{err}"
    );
}
