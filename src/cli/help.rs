//! `JOB --help`, as mrjob shows it: the job's own options and the dozen
//! switches most runs use; `--help -v` (or `--help-all`) shows every
//! option, grouped by what it is about.
//!
//! clap renders both from the one command: the short form hides the
//! other arguments, the long form sets each one's heading. Hidden
//! arguments (the Streaming task mode's internals) stay hidden in both.

use std::ffi::OsString;

/// The switches the short help shows, beside the job's own options.
const MOST_USED: [&str; 14] = [
    "inputs",
    "output",
    "overwrite",
    "runner",
    "workers",
    "reducers",
    "block_size",
    "sort_buffer",
    "jobconf",
    "skip_bad_records",
    "stats",
    "report",
    "quiet",
    "verbose",
];

/// Every run option's group in the long help, by argument id.
const GROUPS: [(&str, &[&str]); 5] = [
    (
        "Input",
        &[
            "inputs",
            "named_inputs",
            "side_files",
            "recursive",
            "max_line_length",
            "skip_bad_records",
            "bad_records_log",
        ],
    ),
    (
        "Output",
        &[
            "output",
            "overwrite",
            "cat_output",
            "no_cat_output",
            "max_output_files",
            "step_output_dir",
            "stats",
            "report",
            "describe",
            "quiet",
            "verbose",
        ],
    ),
    (
        "Engine",
        &[
            "runner",
            "workers",
            "reducers",
            "block_size",
            "min_split_size",
            "max_split_size",
            "sort_buffer",
            "compress_spills",
            "max_attempts",
            "merge_fan_in",
            "temp_dir",
            "jobconf",
            "conf_path",
            "no_conf",
        ],
    ),
    (
        "Cluster (-r hadoop, -r spark)",
        &[
            "hadoop_bin",
            "hadoop_streaming_jar",
            "spark_submit",
            "spark_master",
            "cloud_tmp_dir",
            "output_dir",
            "dry_run",
        ],
    ),
    (
        "Streaming task mode (how Hadoop, Spark and -r streaming run each task)",
        &["step_num", "mapper", "reducer", "combiner", "partition_file"],
    ),
];

/// Which help `argv` asks for: `None` for none, `Some(true)` for every
/// option (`--help -v`, `--help --verbose`, `--help-all`).
pub(super) fn requested(argv: &[OsString]) -> Option<bool> {
    let has = |names: &[&str]| {
        argv.iter()
            .skip(1)
            .any(|a| a.to_str().is_some_and(|a| names.contains(&a)))
    };
    if has(&["--help-all"]) {
        return Some(true);
    }
    has(&["--help", "-h"]).then(|| has(&["-v", "--verbose"]))
}

/// The help text for `command` (the job's run options, its own options
/// under their heading). `job_options` are the ids of the job's own.
/// What the help says depends on of the job besides its options.
pub(super) struct JobTraits {
    /// The job's own options' argument ids.
    pub(super) options: Vec<String>,
    pub(super) has_sample: bool,
    /// It reads named inputs (`--input NAME=PATH`): shown as most used.
    pub(super) named_inputs: bool,
    /// It reads side files (`--side NAME=PATH`): shown as most used.
    pub(super) side_files: bool,
}

pub(super) fn render(mut command: clap::Command, bin_name: &str, job: &JobTraits, all: bool) -> String {
    let (job_options, has_sample) = (&job.options, job.has_sample);
    command = command.bin_name(bin_name.to_owned());
    // clap adds its `--help` when the command is built.
    command.build();
    command = command.mut_arg("help", |a| {
        a.help("Print help (`--help -v`: every option)")
            .long_help("Print help (`--help` alone: the most used options)")
    });
    // Only a job with a built-in sample may promise to run without input.
    let inputs = "Input files, directories or globs (gzip, bzip2 and zstd content is decompressed, whatever the name); `-` reads standard input.";
    let inputs = if has_sample {
        format!("{inputs} With none, the job runs on its built-in sample")
    } else {
        format!("{inputs} This job has no built-in sample: name its input")
    };
    command = command.mut_arg("inputs", |a| a.help(inputs.clone()).long_help(inputs));
    let ids: Vec<String> = command.get_arguments().map(|a| a.get_id().to_string()).collect();
    for id in ids {
        let own = job_options.contains(&id);
        if own || id == "help" || (id == "inputs" && !all) {
            continue;
        }
        if all {
            let heading = GROUPS
                .iter()
                .find(|(_, members)| members.contains(&id.as_str()))
                .map_or("Other", |(heading, _)| heading);
            command = command.mut_arg(&id, |a| a.help_heading(heading));
        } else if !(MOST_USED.contains(&id.as_str())
            || (id == "named_inputs" && job.named_inputs)
            || (id == "side_files" && job.side_files))
        {
            command = command.mut_arg(&id, |a| a.hide(true));
        } else {
            command = command.mut_arg(&id, |a| a.help_heading("Most used options"));
        }
    }
    let after = if all {
        "`--help` alone shows the job's own options and the most used switches."
    } else {
        "`--help -v` (or `--help-all`) lists every option, grouped: input, output, engine, cluster, Streaming task mode."
    };
    command = command.after_help(after).after_long_help(after);
    // The short help's one-line descriptions; the long one's paragraphs.
    let rendered = if all {
        command.render_long_help()
    } else {
        command.render_help()
    };
    rendered.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn which_help() {
        let argv = |a: &[&str]| a.iter().map(OsString::from).collect::<Vec<_>>();
        assert_eq!(requested(&argv(&["job", "x"])), None);
        assert_eq!(requested(&argv(&["job", "--help"])), Some(false));
        assert_eq!(requested(&argv(&["job", "-h", "-v"])), Some(true));
        assert_eq!(requested(&argv(&["job", "--help-all"])), Some(true));
    }
}
