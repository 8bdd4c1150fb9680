//! Runners on a cluster engine: `-r hadoop` (Hadoop Streaming, one
//! `hadoop jar hadoop-streaming.jar` job per step) and `-r spark` (one
//! `spark-submit` of the driver this crate ships). Both run the job
//! binary in Streaming task mode (`runner::streaming`) on the engine's
//! machines and leave the sort between map and reduce to the engine;
//! the lines' layouts (`codec::streaming`) make its output equal the local
//! runner's, byte for byte.
//!
//! What this module owns: what both share. Their settings
//! ([`ClusterConfig`]), the task command line shipped to the engine, the
//! job's inputs as the engine names them, reading a failed task's own
//! error paragraph out of what the engine printed, and handing the
//! engine's part files over as the job's output.

pub(crate) mod hadoop;
pub(crate) mod spark;

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::path::{Path, PathBuf};

use crate::api::job::JobPlan;
use crate::error::{Error, Result};
use crate::io::input::resolve_inputs;
use crate::io::output::OutputDir;
use crate::runner::RunConfig;
use crate::runner::streaming::TaskKind;

/// Settings of the cluster runners (`-r hadoop`, `-r spark`).
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct ClusterConfig {
    /// The `hadoop` program (default: `$HADOOP_HOME/bin/hadoop`, else
    /// `hadoop` on `PATH`).
    pub hadoop_bin: Option<PathBuf>,
    /// The Hadoop Streaming jar (default: `$HADOOP_STREAMING_JAR`, else
    /// searched under `$HADOOP_HOME` and the usual install places).
    pub hadoop_streaming_jar: Option<PathBuf>,
    /// The `spark-submit` program (default: `$SPARK_HOME/bin/spark-submit`,
    /// else `spark-submit` on `PATH`).
    pub spark_submit: Option<PathBuf>,
    /// Spark's master URL (default `local[*]`).
    pub spark_master: Option<String>,
    /// Where the job keeps its intermediate data on the cluster's file
    /// system (a URI or a path there); a directory for this run is made
    /// under it and removed at the end.
    pub cloud_tmp_dir: Option<String>,
    /// Leave the output on the cluster here (a URI) instead of copying it
    /// back.
    pub output_dir: Option<String>,
    /// `-D KEY=VALUE` settings passed to the engine as they are.
    pub jobconf: Vec<(String, String)>,
    /// Print the commands instead of running them.
    pub dry_run: bool,
}

/// Whether an input or output names a place by URI (`hdfs://`, `s3://`,
/// `gs://`, `file:` ...), which the engine reads itself.
pub(crate) fn is_uri(path: &OsStr) -> bool {
    let text = path.to_string_lossy();
    match text.split_once(':') {
        Some((scheme, _)) => {
            scheme.len() > 1
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '+' || c == '-' || c == '.')
        }
        None => false,
    }
}

/// The name of a run's directory on the cluster: the job, the user, the
/// time, the process (mrjob's `JOB.USER.YYYYMMDD.HHMMSS.MICROS` in spirit).
pub(crate) fn run_name(job: &str) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let user = std::env::var("USER").unwrap_or_else(|_| "user".into());
    format!(
        "{job}.{user}.{}.{:06}.{}",
        now.as_secs(),
        now.subsec_micros(),
        std::process::id()
    )
}

/// A program or file the user named, made absolute when it is a path (the
/// engine runs in the run's own directory); a bare name stays one, for
/// `PATH` to find.
pub(crate) fn absolute_program(path: &Path) -> PathBuf {
    if path.components().count() > 1 {
        std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
    } else {
        path.to_path_buf()
    }
}

/// An engine's program: the one given, else `$HOME_VAR/bin/NAME` if it
/// exists, else `NAME` for `PATH` to find.
pub(crate) fn engine_program(given: Option<&Path>, home_var: &str, name: &str) -> PathBuf {
    if let Some(bin) = given {
        return absolute_program(bin);
    }
    if let Some(home) = std::env::var_os(home_var) {
        let bin = Path::new(&home).join("bin").join(name);
        if bin.exists() {
            return bin;
        }
    }
    PathBuf::from(name)
}

/// `text` as one word of a POSIX shell command line.
pub(crate) fn shell_quote(text: &str) -> String {
    let plain = !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./=:,+@%[]*".contains(&b));
    if plain {
        text.to_owned()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

/// A command line as a shell would read it.
pub(crate) fn shell_line(program: &OsStr, args: &[OsString]) -> String {
    std::iter::once(program)
        .chain(args.iter().map(OsString::as_os_str))
        .map(|a| shell_quote(&a.to_string_lossy()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The job binary as the engine runs it: the file to ship, the name it
/// has in a task's working directory, and the arguments before
/// `--step-num` (the job's name, for `mr-run`).
pub(crate) struct TaskCommand {
    pub(crate) binary: PathBuf,
    pub(crate) name: String,
    pub(crate) args: Vec<String>,
}

impl TaskCommand {
    pub(crate) fn new(config: &RunConfig) -> Result<Self> {
        let command = config.task_command()?;
        let binary = std::path::absolute(&command[0]).map_err(|e| Error::io(&command[0], e))?;
        let name = binary
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| Error::Config(format!("{}: the job binary has no file name", binary.display())))?;
        let args = command[1..].iter().map(|a| a.to_string_lossy().into_owned()).collect();
        Ok(TaskCommand { binary, name, args })
    }

    /// The arguments of one task (after the binary): `--step-num N
    /// --mapper|--reducer` and the options a task needs from the run.
    pub(crate) fn task_args(
        &self,
        step: usize,
        kind: TaskKind,
        config: &RunConfig,
        partitions: Option<&str>,
        side_in_task: fn(&str, &Path) -> String,
    ) -> Vec<String> {
        let mut args = self.args.clone();
        args.push("--step-num".into());
        args.push(step.to_string());
        args.push(
            match kind {
                TaskKind::Mapper => "--mapper",
                TaskKind::Reducer => "--reducer",
                TaskKind::Combiner => "--combiner",
                TaskKind::SamplePartitions => "--sample-partitions",
                TaskKind::SamplePairs => "--sample-pairs",
            }
            .into(),
        );
        if config.skip_bad_records > 0 {
            args.push("--skip-bad-records".into());
            args.push(config.skip_bad_records.to_string());
        }
        if config.max_line_length != crate::io::lines::DEFAULT_MAX_LINE_LENGTH {
            args.push("--max-line-length".into());
            args.push(config.max_line_length.to_string());
        }
        if let Some(p) = partitions {
            args.push("--partition-file".into());
            args.push(p.into());
        }
        args.extend(config.task_options(side_in_task));
        args
    }
}

/// A job input as the engine is given it.
pub(crate) enum ClusterInput {
    /// A file on this machine, resolved as the local runner resolves
    /// inputs (directories listed, globs expanded, `_`/`.` names skipped).
    Local(PathBuf),
    /// A URI the engine reads itself.
    Remote(String),
}

/// The job's inputs, each with the name it was given under (`--input
/// NAME=PATH`): URIs as they are, local paths resolved to their files in
/// the local runner's order.
pub(crate) fn inputs(config: &RunConfig) -> Result<Vec<(ClusterInput, Option<String>)>> {
    if config.inputs.is_empty() && config.named_inputs.is_empty() {
        return Err(Error::Config(
            "-r hadoop and -r spark need input paths (the built-in sample is for the local runners)".into(),
        ));
    }
    let specs: Vec<(&OsStr, Option<&str>)> = match config.named_inputs.is_empty() {
        true => config.inputs.iter().map(|i| (i.as_os_str(), None)).collect(),
        false => config
            .named_inputs
            .iter()
            .map(|(n, i)| (i.as_os_str(), Some(n.as_str())))
            .collect(),
    };
    let mut out = Vec::new();
    for (input, name) in specs {
        let name = name.map(str::to_owned);
        if is_uri(input) {
            out.push((ClusterInput::Remote(input.to_string_lossy().into_owned()), name));
        } else if input == "-" {
            return Err(Error::Config(
                "-r hadoop and -r spark read files, not standard input: name the input files".into(),
            ));
        } else {
            for source in resolve_inputs(&[input], config.recursive)? {
                if let Some(path) = source.path() {
                    out.push((
                        ClusterInput::Local(std::path::absolute(path).map_err(|e| Error::io(path, e))?),
                        name.clone(),
                    ));
                }
            }
        }
    }
    Ok(out)
}

/// The local inputs as the total-order sampler reads them; an error if
/// the job needs a sample and some input is only on the cluster.
pub(crate) fn sample_bounds(
    plan: &JobPlan,
    inputs: &[(ClusterInput, Option<String>)],
    config: &RunConfig,
) -> Result<Option<Vec<Vec<u8>>>> {
    if !plan.steps.iter().any(|s| s.total_order()) {
        return Ok(None);
    }
    let mut sources = Vec::new();
    for (input, name) in inputs {
        match input {
            ClusterInput::Local(path) => {
                sources.extend(
                    resolve_inputs(&[path.as_os_str()], false)?
                        .into_iter()
                        .map(|s| super::TextSource::Input(s, name.as_deref().map(std::sync::Arc::from))),
                );
            }
            ClusterInput::Remote(uri) => {
                return Err(Error::Config(format!(
                    "{uri}: job {} partitions by total order, which samples its input here: give the input as local files (they are uploaded), not a URI",
                    plan.name
                )));
            }
        }
    }
    super::sample::ranges(plan, &sources, config)
}

/// A sample of the pair lines `program ARGS` prints (`hadoop fs -cat` of
/// a step's output); `name` is what errors name, `engine` whose command
/// it is.
pub(crate) fn sample_command_output(
    program: &Path,
    args: &[OsString],
    cwd: &Path,
    name: &str,
    engine: &str,
) -> Result<super::sample::PairSample> {
    let mut child = std::process::Command::new(program)
        .args(args)
        .current_dir(cwd)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| Error::io(program, e))?;
    let stderr = child.stderr.take();
    let printed = std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(mut s) = stderr {
            let _ = std::io::Read::read_to_string(&mut s, &mut text);
        }
        text
    });
    let mut sample = super::sample::PairSample::new();
    let read = match child.stdout.take() {
        Some(out) => sample.push_lines(out, Path::new(name)),
        None => Err(Error::Internal("a command without a standard output".into())),
    };
    if read.is_err() {
        // It may be blocked writing what is no longer read.
        let _ = child.kill();
    }
    let status = child.wait().map_err(|e| Error::io(program, e))?;
    let text = printed.join().unwrap_or_default();
    if !status.success() {
        return Err(Error::Engine {
            engine: engine.into(),
            step: 0,
            steps: 0,
            message: format!(
                "sampling {name} for total order: `{}` failed:\n{}",
                shell_line(program.as_os_str(), args),
                tail(&text, 12)
            ),
        });
    }
    read.map(|()| sample)
}

/// The side files as a task's `--side` names them in its working
/// directory, where the engine put them: Hadoop links each shipped
/// `PATH#NAME` under its fragment.
pub(crate) fn hadoop_side_name(name: &str, _: &Path) -> String {
    format!("mr-side-{name}")
}

/// Spark's `--files` puts a file in the task's directory under its own
/// base name (a `#` alias works only on YARN).
pub(crate) fn spark_side_name(_: &str, path: &Path) -> String {
    path.file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
}

/// The side files' absolute paths, checked to be files.
pub(crate) fn side_paths(config: &RunConfig) -> Result<Vec<(String, PathBuf)>> {
    config
        .side_files
        .iter()
        .map(|(name, path)| {
            let abs = std::path::absolute(path).map_err(|e| Error::io(path, e))?;
            Ok((name.clone(), abs))
        })
        .collect()
}

/// A failed task's own error paragraph in what an engine printed: from a
/// line the task started with `error: ` to the first line that is the
/// engine's again (a log line, a Java stack frame), or the end.
pub(crate) fn task_paragraph(printed: &str) -> Option<String> {
    let mut lines = printed.lines();
    let first = lines.by_ref().find_map(|l| {
        let at = l.find("error: ")?;
        // The task's own lines begin with it; an engine quoting them may
        // put a prefix before.
        (at == 0 || !l[..at].contains(' ') || l[..at].ends_with(": ")).then(|| l[at + "error: ".len()..].to_owned())
    })?;
    let mut paragraph = vec![first];
    for line in lines {
        let engine = line.starts_with('\t')
            || line.starts_with("    at ")
            || line.starts_with("Caused by")
            || line.starts_with("java.")
            || line.starts_with("org.apache")
            || line.starts_with("py4j")
            || line.starts_with("Traceback")
            || line.starts_with("reporter:")
            || line.trim().is_empty()
            || is_log_line(line);
        if engine {
            break;
        }
        paragraph.push(line.to_owned());
    }
    Some(paragraph.join("\n"))
}

/// Whether `line` is a log4j line as Hadoop and Spark print them
/// (`yy/MM/dd HH:mm:ss LEVEL ...`).
fn is_log_line(line: &str) -> bool {
    let b = line.as_bytes();
    b.len() > 17
        && [0, 1, 3, 4, 6, 7, 9, 10, 12, 13, 15, 16]
            .iter()
            .all(|&i| b[i].is_ascii_digit())
        && b[2] == b'/'
        && b[5] == b'/'
        && b[8] == b' '
}

/// The last lines of what an engine printed, for an error that has no
/// task paragraph (the engine itself failed).
pub(crate) fn tail(printed: &str, lines: usize) -> String {
    let all: Vec<&str> = printed.lines().filter(|l| !l.trim().is_empty()).collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Hands the engine's part files in `dir` (a local directory) over as the
/// job's output, in part order: `part-00000`, `part-00001`, ...
pub(crate) fn deliver_parts(dir: &Path, output: &OutputDir) -> Result<()> {
    let mut parts: Vec<(u64, PathBuf)> = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(n) = name.strip_prefix("part-").and_then(|n| n.parse::<u64>().ok()) {
            parts.push((n, entry.path()));
        }
    }
    parts.sort();
    for (index, (_, path)) in parts.iter().enumerate() {
        let mut from = File::open(path).map_err(|e| Error::io(path, e))?;
        let mut part = output.part(index)?;
        std::io::copy(&mut from, &mut part).map_err(|e| Error::io(part.path(), e))?;
        part.finish()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_and_paths_are_told_apart() {
        for uri in ["hdfs:///data", "s3://b/k", "gs://b/o", "file:/tmp/x", "s3a://b/k"] {
            assert!(is_uri(OsStr::new(uri)), "{uri}");
        }
        for path in ["/data/x", "rel/x", "c", "a:b/../x"] {
            assert!(!is_uri(OsStr::new(path)) || path.contains(':'), "{path}");
        }
        assert!(!is_uri(OsStr::new("/data/x:y")));
    }

    #[test]
    fn shell_words_quote_what_a_shell_would_split() {
        assert_eq!(shell_quote("-D"), "-D");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote(""), "''");
        assert_eq!(
            shell_quote("./mr-run word-count --step-num 0"),
            "'./mr-run word-count --step-num 0'"
        );
    }

    #[test]
    fn the_task_paragraph_is_found_among_engine_lines() {
        let printed = "26/12/02 01:00:00 INFO mapred.LocalJobRunner: map task executor complete.\n\
            error: step 1 of 1, map task 0: bad record at /in/a.json, line 2: expected value\n\
            \x20 record: not json\n\
            26/12/02 01:00:01 WARN mapred.LocalJobRunner: job_local1_0001\n\
            java.lang.Exception: java.lang.RuntimeException: PipeMapRed.waitOutputThreads(): subprocess failed with code 2\n";
        assert_eq!(
            task_paragraph(printed).unwrap(),
            "step 1 of 1, map task 0: bad record at /in/a.json, line 2: expected value\n  record: not json"
        );
        assert_eq!(task_paragraph("26/12/02 WARN nothing here\n"), None);
        assert_eq!(tail("a\n\nb\nc\n", 2), "b\nc");
    }
}
