//! Side files (mrjob's `--files`, Hadoop's distributed cache): a small
//! file every task may read, given at run time as `--side NAME=PATH`, and
//! loaded into the user's own type once per process.
//!
//! A [`SideFile`] is a handle the job's tasks hold (cloned with them): its
//! loader turns the file into a `T` (say a `HashMap` for a map-side
//! join), and the first task of a process that asks for it
//! ([`Emitter::side`](crate::Emitter::side)) loads it while the others
//! wait; every later task gets the same `Arc<T>`. The local runner's
//! tasks are threads of one process, so the file is read once per run;
//! under `-r streaming`, `-r hadoop` and `-r spark` each task is a
//! process and reads it once.

use std::fmt;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use crate::error::{BoxError, Error, Result};
use crate::io::input::{InputSource, open_input};

type Loader<T> = dyn Fn(&mut dyn BufRead) -> std::result::Result<T, BoxError> + Send + Sync;

/// A side file of type `T`: its name (`--side NAME=PATH`) and how to load
/// it. Register it on the job with [`Job::side_file`](crate::Job::side_file)
/// so that a missing or unknown name fails before any work.
///
/// ```
/// use std::collections::HashMap;
/// use std::io::BufRead;
/// use std::sync::Arc;
///
/// use mapreduce::prelude::*;
///
/// /// Replaces each `id` line by the name the side file gives it.
/// #[derive(Clone)]
/// struct Lookup {
///     names: SideFile<HashMap<String, String>>,
///     table: Option<Arc<HashMap<String, String>>>,
/// }
///
/// impl Mapper for Lookup {
///     type Input = TextLine;
///     type Key = String;
///     type Value = u64;
///     fn setup(&mut self, out: &mut Emitter<'_, String, u64>) -> TaskResult {
///         self.table = Some(out.side(&self.names)?);
///         Ok(())
///     }
///     fn map(&mut self, line: Line<'_>, out: &mut Emitter<'_, String, u64>) -> TaskResult {
///         let table = self.table.as_ref().ok_or("setup did not run")?;
///         let name = table.get(line.text).cloned().unwrap_or_else(|| "unknown".into());
///         out.emit(name, 1);
///         Ok(())
///     }
/// }
///
/// let names = SideFile::new("names", |file: &mut dyn BufRead| {
///     let mut table = HashMap::new();
///     for line in file.lines() {
///         let line = line?;
///         if let Some((id, name)) = line.split_once(',') {
///             table.insert(id.to_owned(), name.to_owned());
///         }
///     }
///     Ok(table)
/// });
/// let job = Job::new("lookup", step::map(Lookup { names: names.clone(), table: None })).side_file(&names);
///
/// let dir = tempfile::tempdir()?;
/// let (side, input) = (dir.path().join("names.csv"), dir.path().join("ids.txt"));
/// std::fs::write(&side, "1,ann\n2,bob\n")?;
/// std::fs::write(&input, "2\n1\n3\n")?;
/// let mut config = RunConfig::new([&input]);
/// config.side_files = vec![("names".into(), side)];
/// let mut out = Vec::new();
/// let report = mapreduce::runner::run(&job, &config, &mut out)?;
/// assert_eq!(String::from_utf8(out)?, "\"bob\"\t1\n\"ann\"\t1\n\"unknown\"\t1\n");
/// assert_eq!(report.counters().get("side files", "names loaded"), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct SideFile<T> {
    inner: Arc<Inner<T>>,
}

struct Inner<T> {
    name: String,
    load: Box<Loader<T>>,
    /// The loaded value and the file it came from: a run with another
    /// file (or the same file changed) in the same process loads again.
    loaded: Mutex<Option<(Stamp, Arc<T>)>>,
}

/// A file's identity for the cache: path, size and modification time.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Stamp {
    path: PathBuf,
    len: u64,
    modified: Option<SystemTime>,
}

impl<T> Clone for SideFile<T> {
    fn clone(&self) -> Self {
        SideFile {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<T> fmt::Debug for SideFile<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SideFile").field("name", &self.inner.name).finish()
    }
}

impl<T: Send + Sync + 'static> SideFile<T> {
    /// A side file called `name`, turned into a `T` by `load` (which gets
    /// the file buffered and decompressed, as inputs are).
    pub fn new<F>(name: impl Into<String>, load: F) -> Self
    where
        F: Fn(&mut dyn BufRead) -> std::result::Result<T, BoxError> + Send + Sync + 'static,
    {
        SideFile {
            inner: Arc::new(Inner {
                name: name.into(),
                load: Box::new(load),
                loaded: Mutex::new(None),
            }),
        }
    }

    /// Its name, as `--side NAME=PATH` gives it.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The value loaded from `path`, loading it unless this process
    /// already has; `loaded` is set when this call read the file.
    pub(crate) fn get(&self, path: &Path, loaded: &mut bool) -> Result<Arc<T>> {
        let name = &self.inner.name;
        let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
        let stamp = Stamp {
            path: path.to_path_buf(),
            len: meta.len(),
            modified: meta.modified().ok(),
        };
        // Tasks that ask while one loads wait for it rather than read too.
        let mut slot = self
            .inner
            .loaded
            .lock()
            .map_err(|_| Error::Internal(format!("side file {name}: a task panicked while loading it")))?;
        if let Some((have, value)) = slot.as_ref()
            && *have == stamp
        {
            return Ok(Arc::clone(value));
        }
        let source = InputSource::File(path.to_path_buf());
        let mut reader = BufReader::with_capacity(1 << 16, open_input(&source)?);
        let value = (self.inner.load)(&mut reader)
            .map_err(|e| Error::Config(format!("side file {name} ({}): cannot load it: {e}", path.display())))?;
        let value = Arc::new(value);
        *slot = Some((stamp, Arc::clone(&value)));
        *loaded = true;
        Ok(value)
    }
}
