//! `-r spark`: the whole job as one Spark application. `spark-submit`
//! runs the driver this crate ships (`spark_driver.py`, written to the
//! run's directory) with a spec of the steps; the job binary goes to the
//! executors with `--files`, and every map and reduce task is a process
//! of it in Streaming task mode, the shuffle between them Spark's
//! (partitioned by the lines' `PART` field, sorted within partitions in
//! byte order).
//!
//! Spec layout (JSON, written here, read by the driver): `name`, `binary`
//! (the shipped file's name), `reducers`, `inputs` (URIs; local files as
//! `file://`), `steps` (each `{"mapper": [ARGS], "reducer": [ARGS] | null,
//! "sample": SAMPLE | null}`, the arguments after the binary; `sample`, on
//! a total-order step after the first: `{"pairs": [ARGS], "partitions":
//! [ARGS], "file": NAME}`, how the driver samples the previous step's
//! output into the partition file `NAME` the mapper's arguments name), `output` (the URI the last step is
//! saved to), `report` (a local file the driver writes the counters to:
//! `{"STEP\tGROUP\tNAME": amount}`, STEP 0-based).

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use super::{ClusterInput, TaskCommand, deliver_parts, run_name, sample_bounds, shell_line, tail, task_paragraph};
use crate::api::job::JobPlan;
use crate::codec::streaming::partition_file;
use crate::error::{Error, Result};
use crate::io::output::OutputDir;
use crate::runner::streaming::TaskKind;
use crate::runner::{RunConfig, StepReport};

/// The driver, shipped inside the binary so that it always matches it.
const DRIVER: &str = include_str!("spark_driver.py");

/// Runs every step of `plan` as one Spark application.
pub(crate) fn run_steps(
    plan: &JobPlan,
    config: &RunConfig,
    output: Option<&OutputDir>,
    work: &Path,
) -> Result<Vec<StepReport>> {
    let cluster = &config.cluster;
    let task = TaskCommand::new(config)?;
    let inputs = super::inputs(config)?;
    let uris: Vec<String> = inputs
        .iter()
        .map(|(i, _)| match i {
            ClusterInput::Local(p) => format!("file://{}", p.display()),
            ClusterInput::Remote(u) => u.clone(),
        })
        .collect();
    let mut files = vec![task.binary.display().to_string()];
    let partitions = match sample_bounds(plan, &inputs, config)? {
        Some(bounds) => {
            let path = work.join("partitions");
            std::fs::write(&path, partition_file(&bounds)).map_err(|e| Error::io(&path, e))?;
            files.push(path.display().to_string());
            Some("partitions")
        }
        None => None,
    };
    // Side files land in each task's directory under their base names,
    // which must then differ from each other and from what else is shipped.
    for (name, path) in super::side_paths(config)? {
        let base = super::spark_side_name(&name, &path);
        if base == task.name || base.starts_with("partitions") || files.iter().any(|f| f.ends_with(&format!("/{base}")))
        {
            return Err(Error::Config(format!(
                "--side {name}={}: -r spark ships side files under their base names, and {base} is taken: rename the file",
                path.display()
            )));
        }
        files.push(path.display().to_string());
    }
    let steps: Vec<serde_json::Value> = plan
        .steps
        .iter()
        .enumerate()
        .map(|(n, step)| {
            // A later total-order step's boundaries: sampled by the driver
            // from the previous step's output and added as `partitions-N`.
            let later = format!("partitions-{n}");
            let shipped = match n {
                0 => partitions,
                _ => Some(later.as_str()),
            }
            .filter(|_| step.total_order());
            let args = |kind| task.task_args(n, kind, config, None, super::spark_side_name);
            serde_json::json!({
                "mapper": task.task_args(n, TaskKind::Mapper, config, shipped, super::spark_side_name),
                "reducer": step.shuffle.as_ref().map(|_| args(TaskKind::Reducer)),
                "sample": (n > 0 && step.total_order()).then(|| serde_json::json!({
                    "pairs": args(TaskKind::SamplePairs),
                    "partitions": args(TaskKind::SamplePartitions),
                    "file": later,
                })),
            })
        })
        .collect();
    if output.is_some()
        && cluster.output_dir.is_none()
        && cluster
            .cloud_tmp_dir
            .as_deref()
            .is_some_and(|t| !t.starts_with("file:"))
    {
        return Err(Error::Config(
            "-r spark with a --cloud-tmp-dir on the cluster: pass --output-dir there too (the output stays on the cluster; it is not copied back)".into(),
        ));
    }
    let output_uri = match (&cluster.output_dir, &cluster.cloud_tmp_dir) {
        (Some(dir), _) => dir.clone(),
        (None, Some(tmp)) => format!("{}/{}/output", tmp.trim_end_matches('/'), run_name(&plan.name)),
        (None, None) => format!("file://{}", work.join("output").display()),
    };
    let report_path = work.join("counters.json");
    let spec = serde_json::json!({
        "name": format!("mr-run {}", plan.name),
        "binary": task.name,
        "reducers": config.reducers,
        "inputs": uris,
        "input_names": inputs.iter().map(|(_, n)| n.clone()).collect::<Vec<_>>(),
        "jobconf": cluster.jobconf,
        "steps": steps,
        "output": output_uri,
        "report": report_path.display().to_string(),
    });
    let spec_path = work.join("spec.json");
    let driver_path = work.join("spark_driver.py");
    let submit = spark_submit(config);
    let mut args: Vec<OsString> = vec![
        "--master".into(),
        cluster.spark_master.clone().unwrap_or_else(|| "local[*]".into()).into(),
        "--name".into(),
        format!("mr-run {}", plan.name).into(),
        "--files".into(),
        files.join(",").into(),
    ];
    for (key, value) in &cluster.jobconf {
        args.push("--conf".into());
        args.push(format!("{key}={value}").into());
    }
    args.push(driver_path.clone().into());
    args.push(spec_path.clone().into());
    if cluster.dry_run {
        println!("{}", shell_line(submit.as_os_str(), &args));
        return Ok(Vec::new());
    }
    let text = serde_json::to_string_pretty(&spec).map_err(|e| Error::Internal(e.to_string()))?;
    std::fs::write(&spec_path, text).map_err(|e| Error::io(&spec_path, e))?;
    std::fs::write(&driver_path, DRIVER).map_err(|e| Error::io(&driver_path, e))?;
    if config.progress {
        eprintln!("{}", shell_line(submit.as_os_str(), &args));
    }
    let started = Instant::now();
    let mut child = Command::new(&submit)
        .args(&args)
        .current_dir(work)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| Error::io(&submit, e))?;
    let mut printed = String::new();
    if let Some(stderr) = child.stderr.take() {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            printed.push_str(&line);
            printed.push('\n');
        }
    }
    let status = child.wait().map_err(|e| Error::io(&submit, e))?;
    if !status.success() {
        return Err(Error::Engine {
            engine: "Spark".into(),
            step: failed_step(&printed).unwrap_or(1),
            steps: plan.steps.len(),
            message: task_paragraph(&printed).unwrap_or_else(|| tail(&printed, 15)),
        });
    }
    let seconds = started.elapsed().as_secs_f64();
    let mut reports: Vec<StepReport> = (0..plan.steps.len()).map(|_| StepReport::default()).collect();
    let counters: BTreeMap<String, i64> = std::fs::read(&report_path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();
    for (key, amount) in counters {
        let mut fields = key.splitn(3, '\t');
        if let (Some(step), Some(group), Some(name)) = (fields.next(), fields.next(), fields.next())
            && let Some(report) = step.parse::<usize>().ok().and_then(|s| reports.get_mut(s))
        {
            report.counters.add(group, name, amount);
        }
    }
    if let Some(first) = reports.first_mut() {
        first.seconds = seconds;
    }
    if let (Some(output), None) = (output, &cluster.output_dir) {
        let dir = output_uri.strip_prefix("file://").unwrap_or(&output_uri);
        deliver_parts(Path::new(dir), output)?;
    }
    Ok(reports)
}

/// The step a failed task belonged to: the task paragraph says `step N`.
fn failed_step(printed: &str) -> Option<usize> {
    let paragraph = task_paragraph(printed)?;
    let at = paragraph.find("step ")?;
    paragraph[at + 5..]
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

/// The `spark-submit` program.
fn spark_submit(config: &RunConfig) -> PathBuf {
    super::engine_program(config.cluster.spark_submit.as_deref(), "SPARK_HOME", "spark-submit")
}
