//! The output committer: part files are written into a staging directory
//! and only a complete job puts them where the user asked.
//!
//! With `-o DIR`, the staging directory is a hidden sibling of DIR
//! (`.DIR.mr-staging-PID`, on the same filesystem so the final `rename` is
//! atomic). `_SUCCESS` is written into it before the rename, so DIR either
//! does not exist or is complete; a failed job removes its staging
//! directory, and a killed one leaves only a hidden, recognizable sibling
//! that the next run into DIR removes. Without `-o`, parts are staged in a
//! temporary directory and copied to standard output in part order once the
//! job succeeds, so a failed job prints nothing.
//!
//! Layout of a committed directory: `part-00000`, `part-00001`, ... (one per
//! reduce task, or per map task in a map-only last step), each a sequence of
//! protocol lines ending in `\n`, and an empty `_SUCCESS`.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::error::{Error, FileWriteError, Result};
use crate::io::cleanup;

const STAGING_TAG: &str = ".mr-staging-";

/// Where a job's output is going, until it is committed or dropped.
pub(crate) struct OutputDir {
    staging: PathBuf,
    /// `None` means standard output.
    dest: Option<PathBuf>,
    overwrite: bool,
    parts: AtomicUsize,
    committed: bool,
}

impl OutputDir {
    /// Prepares to write to `dest` (or standard output). Refuses an existing
    /// `dest` unless `overwrite`, before any work is done.
    pub(crate) fn create(dest: Option<&Path>, overwrite: bool, temp_root: &Path) -> Result<Self> {
        let staging = match dest {
            None => {
                let dir = tempfile::Builder::new()
                    .prefix("mr-output-")
                    .tempdir_in(temp_root)
                    .map_err(|e| Error::io(temp_root, e))?;
                // The Drop impl below owns removal from here on.
                dir.keep()
            }
            Some(dest) => {
                if dest.exists() && !overwrite {
                    return Err(Error::OutputExists { path: dest.into() });
                }
                if dest.is_file() {
                    return Err(Error::Config(format!(
                        "output path {} is a file, not a directory",
                        dest.display()
                    )));
                }
                let (parent, name) = split_dest(dest)?;
                fs::create_dir_all(&parent).map_err(|e| Error::io(&parent, e))?;
                remove_stale_staging(&parent, &name);
                let staging = parent.join(format!(".{name}{STAGING_TAG}{}", std::process::id()));
                if staging.exists() {
                    fs::remove_dir_all(&staging).map_err(|e| Error::io(&staging, e))?;
                }
                fs::create_dir(&staging).map_err(|e| Error::io(&staging, e))?;
                staging
            }
        };
        cleanup::register(&staging);
        Ok(OutputDir {
            staging,
            dest: dest.map(Path::to_path_buf),
            overwrite,
            parts: AtomicUsize::new(0),
            committed: false,
        })
    }

    /// Opens part file `index` for writing.
    pub(crate) fn part(&self, index: usize) -> Result<PartWriter> {
        self.parts.fetch_max(index + 1, Ordering::Relaxed);
        let path = self.staging.join(format!("part-{index:05}"));
        let file = File::create(&path).map_err(|e| Error::io(&path, e))?;
        // Errors name the part as the user will see it, not the hidden
        // staging copy (standard output's parts have only that name).
        let shown = match &self.dest {
            Some(dest) => dest.join(format!("part-{index:05}")),
            None => path,
        };
        Ok(PartWriter {
            out: BufWriter::with_capacity(1 << 16, file),
            path: shown,
            bytes: 0,
        })
    }

    /// Makes the output visible: renames the staging directory into place,
    /// or copies the parts to `stdout`. Returns the bytes delivered.
    pub(crate) fn commit(mut self, stdout: &mut dyn Write) -> Result<()> {
        match self.dest.clone() {
            None => {
                for i in 0..self.parts.load(Ordering::Relaxed) {
                    let path = self.staging.join(format!("part-{i:05}"));
                    let mut f = File::open(&path).map_err(|e| Error::io(&path, e))?;
                    io::copy(&mut f, stdout).map_err(|e| Error::io("<stdout>", e))?;
                }
                stdout.flush().map_err(|e| Error::io("<stdout>", e))?;
            }
            Some(dest) => {
                let success = self.staging.join("_SUCCESS");
                File::create(&success).map_err(|e| Error::io(&success, e))?;
                if self.overwrite && dest.exists() {
                    fs::remove_dir_all(&dest).map_err(|e| Error::io(&dest, e))?;
                }
                fs::rename(&self.staging, &dest).map_err(|e| Error::io(&dest, e))?;
                self.committed = true;
                cleanup::unregister(&self.staging);
            }
        }
        Ok(())
    }
}

impl Drop for OutputDir {
    fn drop(&mut self) {
        if !self.committed {
            // Best effort: the job's real error (if any) is what matters.
            let _ = fs::remove_dir_all(&self.staging);
            cleanup::unregister(&self.staging);
        }
    }
}

fn split_dest(dest: &Path) -> Result<(PathBuf, String)> {
    let name = dest
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| Error::Config(format!("bad output directory name: {}", dest.display())))?
        .to_owned();
    let parent = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    Ok((parent, name))
}

/// Removes staging directories for `name` left by runs that were killed
/// (their process no longer exists).
fn remove_stale_staging(parent: &Path, name: &str) {
    let prefix = format!(".{name}{STAGING_TAG}");
    let Ok(entries) = fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let Some(pid) = file_name.to_str().and_then(|n| n.strip_prefix(&prefix)) else {
            continue;
        };
        let alive = pid.parse::<u32>().is_ok_and(cleanup::process_alive);
        if !alive {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

/// One part file being written; counts the bytes.
pub(crate) struct PartWriter {
    out: BufWriter<File>,
    /// The part's name in the output directory, for errors.
    path: PathBuf,
    bytes: u64,
}

impl PartWriter {
    /// Flushes the part and returns the bytes it holds.
    pub(crate) fn finish(mut self) -> Result<u64> {
        self.out.flush().map_err(|e| Error::io(&self.path, e))?;
        Ok(self.bytes)
    }
}

impl PartWriter {
    fn named(&self, e: io::Error) -> io::Error {
        io::Error::new(
            e.kind(),
            FileWriteError {
                path: self.path.clone(),
                source: e,
            },
        )
    }
}

impl Write for PartWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.out.write(buf).map_err(|e| self.named(e))?;
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush().map_err(|e| self.named(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issue8_a_full_output_disk_is_an_io_error_naming_the_part() {
        use crate::api::context::TaskContext;
        use crate::api::emitter::{Emitter, Target};
        use crate::codec::protocol::Protocol;
        use crate::error::Phase;
        use crate::runner::StepId;

        let tmp = tempfile::tempdir().unwrap();
        let dest = tmp.path().join("out");
        let out = OutputDir::create(Some(&dest), false, tmp.path()).unwrap();
        let mut part = out.part(0).unwrap();
        // /dev/full fails every write with ENOSPC: a full disk without root.
        let full = File::options().write(true).open("/dev/full").unwrap();
        part.out = BufWriter::with_capacity(64, full);
        let mut ctx = TaskContext::new(0, 0);
        {
            let target = Target::Text {
                out: &mut part,
                protocol: Protocol::Json,
            };
            let mut emit: Emitter<'_, String, u64> = Emitter::new(target, None, &mut ctx);
            for i in 0..100 {
                emit.emit(format!("key-{i}"), i);
            }
        }
        let e = ctx.take_error().unwrap_err();
        // Raised inside a reducer, it keeps its class: an I/O error on the
        // part the user will see, not a codec error, and not retried.
        let e = StepId { index: 0, count: 1 }.task_error(Phase::Reduce, 0, None, e.into());
        match &e {
            Error::Io { path, source } => {
                assert_eq!(path, &dest.join("part-00000"));
                assert_eq!(source.kind(), io::ErrorKind::StorageFull);
            }
            other => panic!("not an I/O error: {other}"),
        }
        assert!(!e.is_retryable());
        assert!(e.to_string().contains("out/part-00000: No space left on device"), "{e}");
    }

    #[test]
    fn commit_renames_into_place_with_success_and_refuses_existing() {
        let tmp = tempfile::tempdir().unwrap();
        let dest = tmp.path().join("out");
        let out = OutputDir::create(Some(&dest), false, tmp.path()).unwrap();
        let mut p = out.part(0).unwrap();
        p.write_all(b"x\n").unwrap();
        assert_eq!(p.finish().unwrap(), 2);
        assert!(!dest.exists(), "nothing is visible before commit");
        out.commit(&mut io::sink()).unwrap();
        assert_eq!(fs::read(dest.join("part-00000")).unwrap(), b"x\n");
        assert!(dest.join("_SUCCESS").exists());
        assert!(matches!(
            OutputDir::create(Some(&dest), false, tmp.path()),
            Err(Error::OutputExists { .. })
        ));
        let again = OutputDir::create(Some(&dest), true, tmp.path()).unwrap();
        drop(again);
        assert!(
            dest.join("_SUCCESS").exists(),
            "an uncommitted overwrite keeps the old output"
        );
        let leftovers: Vec<_> = fs::read_dir(tmp.path())
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(leftovers, vec![std::ffi::OsString::from("out")]);
    }

    #[test]
    fn stale_staging_of_dead_process_is_removed() {
        let tmp = tempfile::tempdir().unwrap();
        // PIDs are below 2^22 on Linux, so this one is never alive.
        let stale = tmp.path().join(".out.mr-staging-99999999");
        fs::create_dir(&stale).unwrap();
        let dest = tmp.path().join("out");
        let out = OutputDir::create(Some(&dest), false, tmp.path()).unwrap();
        assert!(!stale.exists());
        drop(out);
    }
}
