//! `mr-run.toml`, defaults for the run's options per runner (mrjob's
//! `mrjob.conf`): `--conf-path FILE`, else `$MR_RUN_CONF`, else
//! `~/.mr-run.toml` if it exists; `--no-conf` reads none.
//!
//! ```toml
//! [runners.local]
//! workers = 2
//! reducers = 4
//! compress_spills = "lz4"
//!
//! [runners.hadoop]
//! hadoop_bin = "/opt/hadoop/bin/hadoop"
//! jobconf = ["mapreduce.job.queuename=batch"]
//! ```
//!
//! A key is an option's long name (`_` or `-`); a value is a string or
//! number (`--key VALUE`), `true` (a flag), or an array (the option once
//! per element). The command line wins: an option it gives is not taken
//! from the file. The file's defaults are added to the arguments before
//! they are parsed, so they are checked exactly as typed ones are; a key
//! that names no option is an error naming the file and the key.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::error::Error;

/// The config file this run reads, if any: `--conf-path`, `$MR_RUN_CONF`,
/// `~/.mr-run.toml`; none with `--no-conf` or in a Streaming task (whose
/// runner passes every option it means).
fn conf_path(argv: &[OsString]) -> Option<PathBuf> {
    let arg = |i: usize| argv.get(i).and_then(|a| a.to_str());
    let mut given = None;
    for (i, a) in argv.iter().enumerate() {
        match a.to_str() {
            Some("--no-conf" | "--step-num") => return None,
            Some("--conf-path") => given = arg(i + 1).map(PathBuf::from),
            Some(s) if s.starts_with("--conf-path=") => given = Some(PathBuf::from(&s["--conf-path=".len()..])),
            Some(s) if s.starts_with("--step-num=") => return None,
            _ => {}
        }
    }
    given
        .or_else(|| std::env::var_os("MR_RUN_CONF").map(PathBuf::from))
        .or_else(|| {
            let home = PathBuf::from(std::env::var_os("HOME")?).join(".mr-run.toml");
            home.is_file().then_some(home)
        })
}

/// The runner `argv` asks for (`-r NAME`, `--runner NAME`,
/// `--runner=NAME`; `local` by default).
fn runner(argv: &[OsString]) -> String {
    let mut runner = "local".to_owned();
    for (i, a) in argv.iter().enumerate() {
        match a.to_str() {
            Some("-r" | "--runner") => {
                if let Some(next) = argv.get(i + 1).and_then(|n| n.to_str()) {
                    runner = next.to_owned();
                }
            }
            Some(s) if s.starts_with("--runner=") => runner = s["--runner=".len()..].to_owned(),
            Some(s) if s.starts_with("-r") && s.len() > 2 => runner = s[2..].to_owned(),
            _ => {}
        }
    }
    runner
}

/// Whether `argv` gives option `--long` (or its short form) itself.
fn given(argv: &[OsString], long: &str, short: Option<char>) -> bool {
    let flag = format!("--{long}");
    argv.iter().filter_map(|a| a.to_str()).any(|a| {
        a == flag
            || a.strip_prefix(&flag).is_some_and(|rest| rest.starts_with('='))
            || short
                .is_some_and(|c| a.len() >= 2 && a.starts_with('-') && !a.starts_with("--") && a[1..].starts_with(c))
    })
}

/// `argv` with the config file's defaults for its runner added after the
/// program name; `command` says which options exist.
pub(super) fn with_defaults(argv: Vec<OsString>, command: &clap::Command) -> Result<Vec<OsString>, Error> {
    let Some(path) = conf_path(&argv) else {
        return Ok(argv);
    };
    let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
    let conf: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| Error::Config(format!("{}: {}", path.display(), e.message())))?;
    check_layout(&path, &conf)?;
    let runner = runner(&argv);
    let Some(section) = conf
        .get("runners")
        .and_then(|r| r.as_table())
        .and_then(|r| r.get(&runner))
    else {
        return Ok(argv);
    };
    let section = section
        .as_table()
        .ok_or_else(|| bad(&path, &runner, "", "is not a table"))?;
    let mut added: Vec<OsString> = Vec::new();
    for (key, value) in section {
        let long = key.replace('_', "-");
        let Some(option) = command.get_arguments().find(|a| a.get_long() == Some(long.as_str())) else {
            return Err(bad(&path, &runner, key, "is not an option (`--help` lists them)"));
        };
        if given(&argv, &long, option.get_short()) {
            continue;
        }
        let values = match value {
            toml::Value::Array(items) => items.clone(),
            one => vec![one.clone()],
        };
        for v in values {
            match v {
                toml::Value::Boolean(true) => added.push(format!("--{long}").into()),
                toml::Value::Boolean(false) => {}
                toml::Value::String(s) => added.extend([format!("--{long}").into(), s.into()]),
                toml::Value::Integer(n) => added.extend([format!("--{long}").into(), n.to_string().into()]),
                toml::Value::Float(f) => added.extend([format!("--{long}").into(), f.to_string().into()]),
                _ => {
                    return Err(bad(
                        &path,
                        &runner,
                        key,
                        "must be a string, number, true or an array of them",
                    ));
                }
            }
        }
    }
    let mut out = Vec::with_capacity(argv.len() + added.len());
    let mut argv = argv.into_iter();
    out.extend(argv.next());
    out.extend(added);
    out.extend(argv);
    Ok(out)
}

/// The runners a `[runners.NAME]` section may name.
const RUNNERS: [&str; 5] = ["local", "inline", "streaming", "hadoop", "spark"];

/// Refuses what the file holds besides `[runners.NAME]` tables for known
/// runners: a misspelt section (`[runners.locl]`, `[runner.local]`) would
/// otherwise be read by no run, silently.
fn check_layout(path: &Path, conf: &toml::Table) -> Result<(), Error> {
    for (key, value) in conf {
        if key != "runners" {
            return Err(Error::Config(format!(
                "{}: unknown section or key `{key}`{}; the file holds only [runners.NAME] sections",
                path.display(),
                hint(key, &["runners"])
            )));
        }
        let Some(runners) = value.as_table() else {
            return Err(Error::Config(format!(
                "{}: `runners` must be a table of [runners.NAME] sections",
                path.display()
            )));
        };
        for name in runners.keys() {
            if !RUNNERS.contains(&name.as_str()) {
                return Err(Error::Config(format!(
                    "{}: unknown runner in section [runners.{name}]{}; the runners are {}",
                    path.display(),
                    hint(name, &RUNNERS),
                    RUNNERS.join(", ")
                )));
            }
        }
    }
    Ok(())
}

/// ` (did you mean `X`?)` for a candidate close to `typed`.
fn hint(typed: &str, candidates: &[&str]) -> String {
    super::did_you_mean(typed, candidates.iter().copied())
        .map(|c| format!(" (did you mean `{c}`?)"))
        .unwrap_or_default()
}

fn bad(path: &Path, runner: &str, key: &str, why: &str) -> Error {
    Error::Config(format!("{}: runners.{runner}.{key} {why}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(text: &str) -> Result<(), String> {
        let conf: toml::Table = text.parse().unwrap();
        check_layout(Path::new("my.toml"), &conf).map_err(|e| e.to_string())
    }

    #[test]
    fn issue28_a_misspelt_runner_section_is_an_error_naming_the_file() {
        assert!(layout("[runners.local]\nworkers = 2\n[runners.spark]\n").is_ok());
        let err = layout("[runners.locl]\nworkers = 2\n").unwrap_err();
        assert!(err.contains("my.toml") && err.contains("[runners.locl]"), "{err}");
        assert!(err.contains("did you mean `local`"), "{err}");
        let err = layout("[runner.local]\nworkers = 2\n").unwrap_err();
        assert!(
            err.contains("`runner`") && err.contains("did you mean `runners`"),
            "{err}"
        );
        let err = layout("workers = 2\n").unwrap_err();
        assert!(err.contains("unknown section or key `workers`"), "{err}");
    }
}
