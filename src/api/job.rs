//! Jobs: named chains of steps whose types line up, and how a job
//! describes itself.

use std::marker::PhantomData;
use std::sync::Arc;

use serde::Serialize;

use crate::api::input::{InputFormat, Pairs};
use crate::api::job_options::OptionsSpec;
use crate::api::side::SideFile;
use crate::api::step::plan::StepPlan;
use crate::api::step::{Step, StepDescription};
use crate::api::task::{Key, Value};
use crate::codec::protocol::Protocol;

/// A job: one or more steps, where step N+1 reads step N's `(K, V)` pairs,
/// checked by the compiler. `I` is the first step's input format and
/// `(K, V)` the last step's output.
///
/// ```
/// use mapreduce::prelude::*;
///
/// #[derive(Clone)]
/// struct Words;
/// impl Mapper for Words {
///     type Input = TextLine;
///     type Key = String;
///     type Value = u64;
///     fn map(&mut self, line: Line<'_>, out: &mut Emitter<'_, String, u64>) -> TaskResult {
///         for word in line.text.split_whitespace() {
///             out.emit_ref(word, &1);
///         }
///         Ok(())
///     }
/// }
///
/// #[derive(Clone)]
/// struct Sum;
/// impl Reducer for Sum {
///     type Key = String;
///     type Value = u64;
///     type OutKey = String;
///     type OutValue = u64;
///     fn reduce(&mut self, word: &String, counts: Values<'_, u64>, out: &mut Emitter<'_, String, u64>) -> TaskResult {
///         out.emit(word.clone(), counts.sum());
///         Ok(())
///     }
/// }
///
/// let job = Job::new("word-count", step::map(Words).combine_with(|a, b| *a += b).reduce(Sum))
///     .about("Counts words");
/// assert_eq!(job.description().steps.len(), 1);
/// ```
pub struct Job<I, K, V> {
    plan: JobPlan,
    _types: PhantomData<fn(I) -> (K, V)>,
}

/// A job with its types erased, as runners and the CLI see it.
#[doc(hidden)]
pub struct JobPlan {
    pub(crate) name: String,
    pub(crate) about: String,
    pub(crate) input: &'static str,
    pub(crate) steps: Vec<StepPlan>,
    pub(crate) protocol: Protocol,
    pub(crate) sample: Option<Arc<dyn Fn() -> Vec<u8> + Send + Sync>>,
    /// The named inputs the first step reads (empty: unnamed inputs).
    pub(crate) inputs: Vec<String>,
    /// The side files the job's tasks read.
    pub(crate) sides: Vec<String>,
    /// The job's own command-line options.
    pub(crate) options: Option<OptionsSpec>,
}

/// What `--describe` prints: the job and its steps as data (like mrjob's
/// `--steps`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JobDescription {
    /// The job's name.
    pub name: String,
    /// Its one-line description.
    pub about: String,
    /// The first step's input format.
    pub input: &'static str,
    /// The final output protocol.
    pub output: Protocol,
    /// The steps, in order.
    pub steps: Vec<StepDescription>,
    /// The named inputs the first step reads (`--input NAME=PATH`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub inputs: Vec<String>,
    /// The side files the tasks read (`--side NAME=PATH`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub side_files: Vec<String>,
}

impl<I: InputFormat, K: Key, V: Value> Job<I, K, V> {
    /// A one-step job. `first` is a [`Step`], or a map stage for a map-only job.
    pub fn new(name: impl Into<String>, first: impl Into<Step<I, K, V>>) -> Self {
        let first = first.into().plan;
        Job {
            plan: JobPlan {
                name: name.into(),
                about: String::new(),
                input: I::NAME,
                inputs: first.inputs.clone(),
                steps: vec![first],
                protocol: Protocol::default(),
                sample: None,
                sides: Vec::new(),
                options: None,
            },
            _types: PhantomData,
        }
    }

    /// Appends a step that reads this job's current output.
    pub fn then<K2: Key, V2: Value>(self, next: impl Into<Step<Pairs<K, V>, K2, V2>>) -> Job<I, K2, V2> {
        let mut plan = self.plan;
        plan.steps.push(next.into().plan);
        Job {
            plan,
            _types: PhantomData,
        }
    }

    /// Sets the one-line description `mr-run list` shows.
    pub fn about(mut self, about: impl Into<String>) -> Self {
        self.plan.about = about.into();
        self
    }

    /// Sets the output line format (default: [`Protocol::Json`]).
    pub fn output(mut self, protocol: Protocol) -> Self {
        self.plan.protocol = protocol;
        self
    }

    /// Declares a side file the job's tasks read ([`SideFile`]): a run
    /// must give it (`--side NAME=PATH`), and may give no other.
    pub fn side_file<T: Send + Sync + 'static>(mut self, file: &SideFile<T>) -> Self {
        self.plan.sides.push(file.name().to_owned());
        self
    }

    /// Declares the job's own command-line options, a clap [`Args`](clap::Args)
    /// struct (mrjob's `add_passthru_arg`): `mr-run JOB --help` lists them
    /// with the run's options, the command line is parsed once, and every
    /// task reads the value with [`Emitter::options`](crate::Emitter::options),
    /// in task processes too.
    ///
    /// ```
    /// use mapreduce::prelude::*;
    ///
    /// #[derive(Debug, Clone, clap::Args, serde::Serialize, serde::Deserialize)]
    /// struct Opts {
    ///     /// Ignore words shorter than this.
    ///     #[arg(long, default_value_t = 1)]
    ///     min_length: usize,
    /// }
    ///
    /// #[derive(Clone)]
    /// struct Words {
    ///     min: usize,
    /// }
    /// impl Mapper for Words {
    ///     type Input = TextLine;
    ///     type Key = String;
    ///     type Value = u64;
    ///     fn setup(&mut self, out: &mut Emitter<'_, String, u64>) -> TaskResult {
    ///         self.min = out.options::<Opts>()?.min_length;
    ///         Ok(())
    ///     }
    ///     fn map(&mut self, line: Line<'_>, out: &mut Emitter<'_, String, u64>) -> TaskResult {
    ///         for w in line.text.split_whitespace().filter(|w| w.len() >= self.min) {
    ///             out.emit_ref(w, &1);
    ///         }
    ///         Ok(())
    ///     }
    /// }
    ///
    /// #[derive(Clone)]
    /// struct Sum;
    /// impl Reducer for Sum {
    ///     type Key = String;
    ///     type Value = u64;
    ///     type OutKey = String;
    ///     type OutValue = u64;
    ///     fn reduce(&mut self, k: &String, v: Values<'_, u64>, out: &mut Emitter<'_, String, u64>) -> TaskResult {
    ///         out.emit(k.clone(), v.sum());
    ///         Ok(())
    ///     }
    /// }
    ///
    /// let job = Job::new("long-words", step::map(Words { min: 0 }).reduce(Sum)).options::<Opts>();
    /// let dir = tempfile::tempdir()?;
    /// let input = dir.path().join("in.txt");
    /// std::fs::write(&input, "a bb ccc bb\n")?;
    /// let mut config = RunConfig::new([&input]);
    /// config.job_options = Some(JobOptions::new(Opts { min_length: 2 })?);
    /// let mut out = Vec::new();
    /// mapreduce::runner::run(&job, &config, &mut out)?;
    /// assert_eq!(String::from_utf8(out)?, "\"bb\"\t2\n\"ccc\"\t1\n");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn options<T>(mut self) -> Self
    where
        T: clap::Args + Serialize + serde::de::DeserializeOwned + Send + Sync + 'static,
    {
        self.plan.options = Some(OptionsSpec::of::<T>());
        self
    }

    /// Gives the job a built-in sample input, used when it is run with no
    /// input paths.
    pub fn sample_input(mut self, sample: impl Fn() -> Vec<u8> + Send + Sync + 'static) -> Self {
        self.plan.sample = Some(Arc::new(sample));
        self
    }
}

/// Any job, whatever its types: what runners and the CLI take.
pub trait AnyJob: Send + Sync {
    /// The job's erased plan.
    #[doc(hidden)]
    fn plan(&self) -> &JobPlan;

    /// The job's name, as `mr-run` knows it.
    fn name(&self) -> &str {
        &self.plan().name
    }

    /// The one-line description.
    fn about(&self) -> &str {
        &self.plan().about
    }

    /// The job and its steps as data.
    fn description(&self) -> JobDescription {
        let plan = self.plan();
        JobDescription {
            name: plan.name.clone(),
            about: plan.about.clone(),
            input: plan.input,
            output: plan.protocol,
            steps: plan.steps.iter().map(|s| s.description.clone()).collect(),
            inputs: plan.inputs.clone(),
            side_files: plan.sides.clone(),
        }
    }

    /// Whether the job has a built-in sample input.
    fn has_sample(&self) -> bool {
        self.plan().sample.is_some()
    }
}

impl<I: InputFormat, K: Key, V: Value> AnyJob for Job<I, K, V> {
    fn plan(&self) -> &JobPlan {
        &self.plan
    }
}
