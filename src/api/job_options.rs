//! A job's own command-line options (mrjob's `add_passthru_arg`): a clap
//! [`Args`](clap::Args) struct the job declares with
//! [`Job::options`](crate::Job::options), parsed once with the run's
//! options (so `--help` lists them), and read by every task with
//! [`Emitter::options`](crate::Emitter::options).
//!
//! The parsed value travels to task processes (`-r streaming`, `-r
//! hadoop`, `-r spark`) as JSON in `--job-options HEX`, hex so that no
//! shell or engine splits or quotes it: a task sees exactly the value the
//! command line gave.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{Error, Result};

/// A job's parsed options, whatever their type.
#[derive(Clone)]
pub struct JobOptions {
    value: Arc<dyn Any + Send + Sync>,
    json: String,
}

impl fmt::Debug for JobOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JobOptions").field("json", &self.json).finish()
    }
}

impl JobOptions {
    /// Options given as a value (to run a job with options from code).
    pub fn new<T: Serialize + Send + Sync + 'static>(value: T) -> Result<Self> {
        let json = serde_json::to_string(&value).map_err(|e| Error::Codec(format!("job options: {e}")))?;
        Ok(JobOptions {
            value: Arc::new(value),
            json,
        })
    }

    /// The value, if it is a `T`.
    pub(crate) fn get<T: 'static>(&self) -> Option<&T> {
        self.value.downcast_ref()
    }

    /// The value as `--job-options` carries it: JSON, hex-encoded.
    pub(crate) fn to_hex(&self) -> String {
        let mut out = Vec::new();
        crate::codec::streaming::push_hex(&mut out, self.json.as_bytes());
        String::from_utf8_lossy(&out).into_owned()
    }
}

/// How the CLI and task mode handle one job's options type, its type
/// erased (see [`JobPlan`](crate::api::job::JobPlan)).
#[derive(Clone, Copy)]
pub(crate) struct OptionsSpec {
    /// Adds the options to a clap command (`--help` shows them).
    pub(crate) augment: fn(clap::Command) -> clap::Command,
    /// The parsed value from the matches of that command.
    pub(crate) from_matches: fn(&clap::ArgMatches) -> std::result::Result<JobOptions, clap::Error>,
    /// The value from `--job-options HEX`.
    pub(crate) from_hex: fn(&str) -> Result<JobOptions>,
    /// The value with no option given (the defaults), for runs from code.
    pub(crate) defaults: fn() -> Result<JobOptions>,
}

impl OptionsSpec {
    pub(crate) fn of<T>() -> Self
    where
        T: clap::Args + Serialize + DeserializeOwned + Send + Sync + 'static,
    {
        OptionsSpec {
            augment: |command| T::augment_args(command),
            from_matches: |matches| {
                let value = T::from_arg_matches(matches)?;
                JobOptions::new(value).map_err(|e| clap::Error::raw(clap::error::ErrorKind::ValueValidation, e))
            },
            from_hex: |text| {
                let mut bytes = Vec::new();
                crate::codec::streaming::decode_hex(text.as_bytes(), &mut bytes)
                    .map_err(|e| Error::Config(format!("--job-options: {e}")))?;
                let value: T = serde_json::from_slice(&bytes)
                    .map_err(|e| Error::Config(format!("--job-options: not this job's options: {e}")))?;
                JobOptions::new(value)
            },
            defaults: || {
                let command = T::augment_args(clap::Command::new("job").no_binary_name(true));
                let matches = command.try_get_matches_from(Vec::<String>::new()).map_err(|e| {
                    Error::Config(format!(
                        "the job's options have no defaults to run with ({}); set RunConfig::job_options",
                        e.kind()
                    ))
                })?;
                let value = T::from_arg_matches(&matches).map_err(|e| Error::Config(e.to_string()))?;
                JobOptions::new(value)
            },
        }
    }
}
