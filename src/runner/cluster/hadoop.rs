//! `-r hadoop`: each step one Hadoop Streaming job, as mrjob's hadoop
//! runner runs it:
//!
//! ```text
//! hadoop jar hadoop-streaming.jar -files BINARY[,partitions] -D ... \
//!   -partitioner org.apache.hadoop.mapred.lib.KeyFieldBasedPartitioner \
//!   -input IN... -output TMP/step-N -mapper './BINARY [JOB] --step-num N --mapper' \
//!   -reducer './BINARY [JOB] --step-num N --reducer' -numReduceTasks R
//! ```
//!
//! The steps chain through a directory for this run under the cluster's
//! temporary directory (`--cloud-tmp-dir`), removed at the end. Local
//! inputs are uploaded there first, unless the cluster's file system is
//! this machine's (Hadoop's local job runner), when they are read where
//! they are. The last step writes to `--output-dir` if given; else its
//! part files are copied back and delivered like any runner's output.

use std::ffi::OsString;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use super::{
    ClusterInput, TaskCommand, deliver_parts, run_name, sample_bounds, shell_line, shell_quote, tail, task_paragraph,
};
use crate::api::counters::Counters;
use crate::api::job::JobPlan;
use crate::codec::streaming::partition_file;
use crate::error::{Error, Result};
use crate::io::output::OutputDir;
use crate::runner::streaming::TaskKind;
use crate::runner::{RunConfig, StepReport};

/// The partitioner that puts a shuffle line where its `PART` field says.
const PARTITIONER: &str = "org.apache.hadoop.mapred.lib.KeyFieldBasedPartitioner";

/// Runs every step of `plan` on Hadoop; `output` receives the last
/// step's parts unless they stay on the cluster (`--output-dir`).
pub(crate) fn run_steps(
    plan: &JobPlan,
    config: &RunConfig,
    output: Option<&OutputDir>,
    work: &Path,
) -> Result<Vec<StepReport>> {
    let cluster = &config.cluster;
    let hadoop = hadoop_bin(config);
    let jar = streaming_jar(config)?;
    let task = TaskCommand::new(config)?;
    let inputs = super::inputs(config)?;
    let dry = cluster.dry_run;
    let mut run = Runner {
        hadoop,
        work: work.to_path_buf(),
        dry,
        progress: config.progress,
    };
    // Where the cluster keeps this run's data: beside the inputs when its
    // file system is this machine's.
    let local_fs = match &cluster.cloud_tmp_dir {
        Some(dir) => dir.starts_with("file:") || !super::is_uri(dir.as_ref()) && !dry && run.default_fs_is_local()?,
        None => !dry && run.default_fs_is_local()?,
    };
    let base = match (&cluster.cloud_tmp_dir, local_fs) {
        (Some(dir), _) => dir.trim_end_matches('/').to_owned(),
        (None, true) => format!("file://{}", work.join("cluster").display()),
        (None, false) => "tmp/mr-run".to_owned(),
    };
    let tmp = format!("{base}/{}", run_name(&plan.name));
    let result = run_job(&mut run, plan, config, &jar, &task, &inputs, &tmp, local_fs, output);
    // The run's directory goes whether the job worked or not; a failure
    // to remove it is reported, not fatal.
    if !dry && !local_fs {
        if let Err(e) = run.hadoop_fs(&["-rm", "-r", "-f", "-skipTrash", &tmp], config) {
            eprintln!("warning: could not remove {tmp}: {e}");
        }
    } else if dry && !local_fs {
        run.print(&run.fs_args(&["-rm", "-r", "-f", "-skipTrash", &tmp], config));
    }
    result
}

#[allow(clippy::too_many_arguments)]
fn run_job(
    run: &mut Runner,
    plan: &JobPlan,
    config: &RunConfig,
    jar: &Path,
    task: &TaskCommand,
    inputs: &[(ClusterInput, Option<String>)],
    tmp: &str,
    local_fs: bool,
    output: Option<&OutputDir>,
) -> Result<Vec<StepReport>> {
    let cluster = &config.cluster;
    // The first step's inputs as Hadoop names them.
    let mut step_inputs: Vec<String> = Vec::new();
    let mut uploads: Vec<(PathBuf, String)> = Vec::new();
    for (i, (input, _)) in inputs.iter().enumerate() {
        match input {
            ClusterInput::Remote(uri) => step_inputs.push(uri.clone()),
            ClusterInput::Local(path) if local_fs => step_inputs.push(format!("file://{}", path.display())),
            ClusterInput::Local(path) => {
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let to = format!("{tmp}/input/{i:05}/{name}");
                step_inputs.push(to.clone());
                uploads.push((path.clone(), to));
            }
        }
    }
    let inputs_json = serde_json::to_string(&step_inputs).map_err(|e| Error::Internal(e.to_string()))?;
    // Which named input each of them is: a task tells its own by its file.
    let names: Option<Vec<&str>> = inputs.iter().map(|(_, n)| n.as_deref()).collect();
    let names_json = match names {
        Some(names) if !names.is_empty() => {
            Some(serde_json::to_string(&names).map_err(|e| Error::Internal(e.to_string()))?)
        }
        _ => None,
    };
    // Side files go with every step, linked in each task's directory
    // under a name of their own.
    let sides: Vec<String> = super::side_paths(config)?
        .iter()
        .map(|(name, path)| format!("{}#{}", path.display(), super::hadoop_side_name(name, path)))
        .collect();
    if !uploads.is_empty() {
        let dirs: Vec<String> = uploads
            .iter()
            .filter_map(|(_, to)| to.rsplit_once('/').map(|(d, _)| d.to_owned()))
            .collect();
        let mut mkdir = vec!["-mkdir", "-p"];
        mkdir.extend(dirs.iter().map(String::as_str));
        run.hadoop_fs(&mkdir, config)?;
        for (from, to) in &uploads {
            let from = from.to_string_lossy();
            run.hadoop_fs(&["-put", &from, to], config)?;
        }
    }
    // Total order: the boundaries are sampled here and shipped with the
    // step (a later step's from the previous step's output).
    let mut partitions = match sample_bounds(plan, inputs, config)? {
        Some(bounds) => {
            let path = run.work.join("partitions");
            std::fs::write(&path, partition_file(&bounds)).map_err(|e| Error::io(&path, e))?;
            Some(path)
        }
        None => None,
    };
    let steps = plan.steps.len();
    let final_dir = match &cluster.output_dir {
        Some(dir) => dir.clone(),
        None => format!("{tmp}/output"),
    };
    let mut reports = Vec::with_capacity(steps);
    for (index, step) in plan.steps.iter().enumerate() {
        let last = index + 1 == steps;
        let out_dir = if last {
            final_dir.clone()
        } else {
            format!("{tmp}/step-{index}")
        };
        let ship_partitions = partitions.as_ref().filter(|_| step.total_order());
        // Its name in the task's directory.
        let partitions_name = ship_partitions.and_then(|p| p.file_name()).map(|n| n.to_string_lossy());
        let mut files = vec![task.binary.display().to_string()];
        if let Some(p) = ship_partitions {
            files.push(p.display().to_string());
        }
        files.extend(sides.iter().cloned());
        let mut args: Vec<OsString> = vec!["jar".into(), jar.into(), "-files".into(), files.join(",").into()];
        let mut define = |key: &str, value: &str| {
            args.push("-D".into());
            args.push(format!("{key}={value}").into());
        };
        define(
            "mapreduce.job.name",
            &format!("{} step {} of {}", plan.name, index + 1, steps),
        );
        define("mr.run.inputs", &inputs_json);
        if let Some(names) = &names_json {
            define("mr.run.input.names", names);
        }
        define("mapreduce.map.maxattempts", &config.max_attempts.to_string());
        define("mapreduce.reduce.maxattempts", &config.max_attempts.to_string());
        // A task's output line is written as it is (`keyonlytext`):
        // Streaming's default splits it at its first tab and writes
        // `key TAB value`, adding a tab to a line that has none.
        if step.shuffle.is_some() {
            define("stream.num.map.output.key.fields", "3");
            define("mapreduce.partition.keypartitioner.options", "-k1,1");
            define("stream.reduce.output", "keyonlytext");
        } else {
            define("stream.map.output", "keyonlytext");
        }
        for (key, value) in &cluster.jobconf {
            define(key, value);
        }
        let command = |kind: TaskKind| {
            let partition_arg = partitions_name.as_deref().filter(|_| kind == TaskKind::Mapper);
            let words: Vec<String> = std::iter::once(format!("./{}", task.name))
                .chain(task.task_args(index, kind, config, partition_arg, super::hadoop_side_name))
                .map(|w| shell_quote(&w))
                .collect();
            words.join(" ")
        };
        let ins: Vec<String> = if index == 0 {
            step_inputs.clone()
        } else {
            vec![format!("{tmp}/step-{}", index - 1)]
        };
        for input in &ins {
            args.push("-input".into());
            args.push(input.into());
        }
        args.push("-output".into());
        args.push(out_dir.clone().into());
        args.push("-mapper".into());
        args.push(command(TaskKind::Mapper).into());
        match &step.shuffle {
            Some(_) => {
                args.push("-partitioner".into());
                args.push(PARTITIONER.into());
                args.push("-reducer".into());
                args.push(command(TaskKind::Reducer).into());
                args.push("-numReduceTasks".into());
                args.push(config.reducers.to_string().into());
            }
            None => {
                args.push("-numReduceTasks".into());
                args.push("0".into());
            }
        }
        let started = Instant::now();
        let printed = run.hadoop(&args)?;
        let mut report = StepReport::default();
        if let Some(printed) = printed {
            if let Some(mut failure) = job_failure(&printed.text, printed.success) {
                // On YARN a task's stderr stays in its container's log:
                // fetched (`yarn logs`) for the task's own paragraph.
                if task_paragraph(&printed.text).is_none()
                    && let Some(app) = application_id(&printed.text)
                    && let Some(paragraph) = run.task_logs(&app)
                {
                    failure = paragraph;
                }
                return Err(Error::Engine {
                    engine: "Hadoop".into(),
                    step: index + 1,
                    steps,
                    message: failure,
                });
            }
            report.counters = parse_counters(&printed.text);
        }
        report.seconds = started.elapsed().as_secs_f64();
        report.map_seconds = report.seconds;
        reports.push(report);
        partitions = match plan.steps.get(index + 1).filter(|s| s.total_order()) {
            Some(_) => Some(run.sample_step_output(plan, index, tmp, config)?),
            None => None,
        };
        if index > 0 && !run.dry && !local_fs {
            let _ = run.hadoop_fs(
                &["-rm", "-r", "-f", "-skipTrash", &format!("{tmp}/step-{}", index - 1)],
                config,
            );
        }
    }
    if run.dry && cluster.output_dir.is_none() {
        run.print(&run.fs_args(&["-get", &final_dir, "LOCAL_OUTPUT"], config));
    }
    if let (Some(output), None) = (output, &cluster.output_dir) {
        if local_fs {
            let dir = final_dir.strip_prefix("file://").unwrap_or(&final_dir);
            deliver_parts(Path::new(dir), output)?;
        } else {
            let local = run.work.join("output");
            let local_text = local.to_string_lossy().into_owned();
            run.hadoop_fs(&["-get", &final_dir, &local_text], config)?;
            deliver_parts(&local, output)?;
        }
    }
    Ok(reports)
}

/// The `hadoop` program.
fn hadoop_bin(config: &RunConfig) -> PathBuf {
    super::engine_program(config.cluster.hadoop_bin.as_deref(), "HADOOP_HOME", "hadoop")
}

/// The Streaming jar: `--hadoop-streaming-jar`, `$HADOOP_STREAMING_JAR`,
/// or the first `hadoop-streaming*.jar` in the places Hadoop
/// distributions put it (as mrjob looks).
fn streaming_jar(config: &RunConfig) -> Result<PathBuf> {
    if let Some(jar) = &config.cluster.hadoop_streaming_jar {
        return Ok(super::absolute_program(jar));
    }
    if let Some(jar) = std::env::var_os("HADOOP_STREAMING_JAR") {
        return Ok(super::absolute_program(Path::new(&jar)));
    }
    let mut dirs: Vec<PathBuf> = Vec::new();
    for var in ["HADOOP_HOME", "HADOOP_PREFIX", "HADOOP_INSTALL", "HADOOP_MAPRED_HOME"] {
        if let Some(home) = std::env::var_os(var) {
            let home = PathBuf::from(home);
            dirs.push(home.join("share/hadoop/tools/lib"));
            dirs.push(home.join("contrib/streaming"));
            dirs.push(home);
        }
    }
    dirs.extend(
        [
            "/usr/lib/hadoop-mapreduce",
            "/usr/lib/hadoop",
            "/usr/lib/hadoop/tools/lib",
        ]
        .map(PathBuf::from),
    );
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        let mut jars: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.file_name().is_some_and(|n| {
                    let n = n.to_string_lossy();
                    n.starts_with("hadoop-streaming") && n.ends_with(".jar") && !n.contains("sources")
                })
            })
            .collect();
        jars.sort();
        if let Some(jar) = jars.into_iter().next() {
            return Ok(jar);
        }
    }
    Err(Error::Config(
        "no Hadoop Streaming jar: pass --hadoop-streaming-jar JAR or set HADOOP_STREAMING_JAR (none found under $HADOOP_HOME or /usr/lib/hadoop*)".into(),
    ))
}

/// What a `hadoop` command printed, and whether it exited 0.
struct Printed {
    text: String,
    success: bool,
}

/// Runs `hadoop` commands, or prints them for `--dry-run`.
struct Runner {
    hadoop: PathBuf,
    /// This run's local directory (the commands' working directory:
    /// Hadoop's local job runner links shipped files there).
    work: PathBuf,
    dry: bool,
    progress: bool,
}

impl Runner {
    fn print(&self, args: &[OsString]) {
        println!("{}", shell_line(self.hadoop.as_os_str(), args));
    }

    fn fs_args(&self, args: &[&str], config: &RunConfig) -> Vec<OsString> {
        let mut all: Vec<OsString> = vec!["fs".into()];
        for (key, value) in &config.cluster.jobconf {
            all.push("-D".into());
            all.push(format!("{key}={value}").into());
        }
        all.extend(args.iter().map(OsString::from));
        all
    }

    /// `hadoop fs ARGS`, which must succeed.
    fn hadoop_fs(&mut self, args: &[&str], config: &RunConfig) -> Result<()> {
        let all = self.fs_args(args, config);
        match self.hadoop(&all)? {
            Some(p) if !p.success => Err(Error::Engine {
                engine: "Hadoop".into(),
                step: 0,
                steps: 0,
                message: format!(
                    "`{}` failed:\n{}",
                    shell_line(self.hadoop.as_os_str(), &all),
                    tail(&p.text, 12)
                ),
            }),
            _ => Ok(()),
        }
    }

    /// Runs `hadoop ARGS` and collects what it prints (on stderr, where
    /// its log goes at INFO, so that the counters are there); `None` on a
    /// dry run.
    fn hadoop(&mut self, args: &[OsString]) -> Result<Option<Printed>> {
        if self.dry {
            self.print(args);
            return Ok(None);
        }
        if self.progress {
            eprintln!("{}", shell_line(self.hadoop.as_os_str(), args));
        }
        let mut child = Command::new(&self.hadoop)
            .args(args)
            .current_dir(&self.work)
            .env("HADOOP_ROOT_LOGGER", "INFO,console")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| Error::io(&self.hadoop, e))?;
        let stdout = child.stdout.take();
        let out_thread = std::thread::spawn(move || {
            let mut text = String::new();
            if let Some(mut s) = stdout {
                let _ = s.read_to_string(&mut text);
            }
            text
        });
        let mut text = String::new();
        if let Some(stderr) = child.stderr.take() {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                // The job's progress, as Hadoop reports it.
                if self.progress && (line.contains("mapreduce.Job:  map ") || line.contains("Running job: ")) {
                    eprintln!("{}", line.split_once(": ").map_or(line.as_str(), |(_, m)| m.trim()));
                }
                text.push_str(&line);
                text.push('\n');
            }
        }
        let status = child.wait().map_err(|e| Error::io(&self.hadoop, e))?;
        let out = out_thread.join().unwrap_or_default();
        text.push_str(&out);
        Ok(Some(Printed {
            text,
            success: status.success(),
        }))
    }

    /// Step `index + 1`'s partition file, sampled from step `index`'s
    /// output (`hadoop fs -cat TMP/step-INDEX/part-*`, pair lines), written
    /// to `partitions-{index + 1}` in the run's directory.
    fn sample_step_output(&mut self, plan: &JobPlan, index: usize, tmp: &str, config: &RunConfig) -> Result<PathBuf> {
        let path = self.work.join(format!("partitions-{}", index + 1));
        let parts = format!("{tmp}/step-{index}/part-*");
        let args = self.fs_args(&["-cat", &parts], config);
        if self.dry {
            self.print(&args);
            return Ok(path);
        }
        let sample = super::sample_command_output(&self.hadoop, &args, &self.work, &parts, "Hadoop")?;
        let bounds = sample.bounds(plan, index + 1, config, config.reducers)?;
        std::fs::write(&path, partition_file(&bounds)).map_err(|e| Error::io(&path, e))?;
        Ok(path)
    }

    /// A failed task's own error paragraph from its YARN container logs
    /// (`yarn logs -applicationId APP -log_files stderr`, through the
    /// class `yarn` runs), if they can be had.
    fn task_logs(&mut self, app: &str) -> Option<String> {
        let args: Vec<OsString> = [
            "org.apache.hadoop.yarn.client.cli.LogsCLI",
            "-applicationId",
            app,
            "-log_files",
            "stderr",
        ]
        .iter()
        .map(OsString::from)
        .collect();
        // Aggregation takes a few seconds after the application ends
        // (5-12 s on the mini cluster).
        for _ in 0..30 {
            let printed = self.hadoop(&args).ok()??;
            if let Some(paragraph) = task_paragraph(&printed.text) {
                return Some(paragraph);
            }
            std::thread::sleep(std::time::Duration::from_secs(1));
        }
        None
    }

    /// Whether `fs.defaultFS` is this machine's file system: `hadoop fs
    /// -df /` names the file system in its first column.
    fn default_fs_is_local(&mut self) -> Result<bool> {
        let printed = self.hadoop(&["fs".into(), "-df".into(), "/".into()])?;
        match printed {
            Some(p) if p.success => Ok(p
                .text
                .lines()
                .filter(|l| !l.starts_with("Filesystem") && !l.contains(" INFO ") && !l.contains(" WARN "))
                .find_map(|l| l.split_whitespace().next())
                .is_some_and(|fs| fs.starts_with("file:"))),
            Some(p) => Err(Error::Engine {
                engine: "Hadoop".into(),
                step: 0,
                steps: 0,
                message: format!("`hadoop fs -df /` failed:\n{}", tail(&p.text, 12)),
            }),
            None => Ok(false),
        }
    }
}

/// The YARN application a job ran as (`Submitted application
/// application_...` in the client's log).
fn application_id(printed: &str) -> Option<String> {
    let at = printed.find("application_")?;
    let id: String = printed[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    (id.len() > "application_".len()).then_some(id)
}

/// Why a Streaming job failed, if it did: the failed task's own error
/// paragraph when Hadoop passed it on (the local job runner copies a
/// task's stderr to its own), else Hadoop's last words.
fn job_failure(printed: &str, success: bool) -> Option<String> {
    let failed = !success
        || printed.contains("Streaming Command Failed!")
        || printed
            .lines()
            .any(|l| l.contains("Job ") && l.contains(" failed with state FAILED"));
    if !failed {
        return None;
    }
    Some(match task_paragraph(printed) {
        Some(paragraph) => paragraph,
        None => tail(printed, 15),
    })
}

/// The job's counters from Hadoop's log: after `Counters: N`, a group name
/// on a line of its own, then `NAME=VALUE` lines indented deeper.
fn parse_counters(printed: &str) -> Counters {
    let mut counters = Counters::default();
    let mut group: Option<String> = None;
    let mut inside = false;
    for line in printed.lines() {
        if line.contains("Counters: ")
            && line
                .trim_end()
                .rsplit(' ')
                .next()
                .is_some_and(|n| n.parse::<u64>().is_ok())
        {
            inside = true;
            group = None;
            continue;
        }
        if !inside {
            continue;
        }
        if !line.starts_with('\t') {
            inside = false;
            continue;
        }
        let text = line.trim();
        match text.rsplit_once('=') {
            Some((name, value)) if line.starts_with("\t\t") => {
                if let (Some(g), Ok(v)) = (&group, value.trim().parse::<i64>()) {
                    counters.add(g, name.trim(), v);
                }
            }
            _ => group = Some(text.to_owned()),
        }
    }
    counters
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_are_read_from_hadoops_log() {
        let log = "26/12/02 01:00:00 INFO mapreduce.Job: Counters: 3\n\
            \tFile System Counters\n\
            \t\tFILE: Number of bytes read=1200\n\
            \tmapreduce\n\
            \t\tbad records=2\n\
            \t\tMap input records=40\n\
            26/12/02 01:00:00 INFO streaming.StreamJob: Output directory: out\n\
            \tnot a counter=7\n";
        let c = parse_counters(log);
        assert_eq!(c.get("File System Counters", "FILE: Number of bytes read"), 1200);
        assert_eq!(c.get("mapreduce", "bad records"), 2);
        assert_eq!(c.get("mapreduce", "Map input records"), 40);
        assert_eq!(c.get("mapreduce", "not a counter"), 0);
    }

    #[test]
    fn a_failed_job_is_told_by_its_words_or_its_status() {
        assert_eq!(job_failure("all fine\n", true), None);
        let failed = "26/12/02 01:00:00 ERROR streaming.StreamJob: Job not successful!\nStreaming Command Failed!\n";
        assert!(job_failure(failed, true).unwrap().contains("Streaming Command Failed!"));
        assert!(job_failure("boom\n", false).unwrap().contains("boom"));
    }
}
