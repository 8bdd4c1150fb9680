//! The files a run writes besides its output (`--stats FILE`, `--report
//! FILE`, `--bad-records-log FILE`), and where their bytes go.
//!
//! FILE is resolved first: symbolic links are followed to their final
//! target (which the run writes; the links stay links). Then:
//!
//! - a regular file, or a name where nothing exists yet, is *staged*: the
//!   bytes go into a hidden temporary file beside the target
//!   (`.NAME.mr-OPTION-PID`), which is `fsync`ed and renamed onto the
//!   target when the run delivers, then the directory is `fsync`ed. Until
//!   then an earlier FILE is untouched, and a run that delivers nothing
//!   leaves it as it was;
//! - a FIFO or a device (`/dev/null`, `/dev/stderr`'s terminal, a pipe's
//!   reader) is *written through*: opened for writing, never created,
//!   truncated or renamed over, when the bytes are delivered;
//! - a directory or a socket is refused before any work.
//!
//! The three options may not name the same file (by any spelling, link
//! or hard link): one would overwrite the other.

use std::ffi::OsString;
use std::fs::File;
use std::io::Write;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use crate::error::Error;

/// Symbolic links followed at most, as the kernel's `ELOOP` limit.
const MAX_LINKS: usize = 40;
/// The longest part of FILE's name kept in its temporary sibling's name,
/// so that the sibling of a 255-byte name is still a valid name.
const TEMP_NAME_BYTES: usize = 100;

/// FILE, resolved: its final target and what is there now.
pub(super) struct Resolved {
    /// The option that named it (`--stats`), for messages.
    option: &'static str,
    /// FILE as given, for messages.
    named: PathBuf,
    /// The final target of FILE's symbolic links.
    target: PathBuf,
    /// The target's directory, canonical, and its name: what two spellings
    /// of one file share.
    identity: (PathBuf, OsString),
    /// Device and inode of an existing target.
    inode: Option<(u64, u64)>,
    /// Whether the target is written through (a FIFO or a device).
    through: bool,
}

impl Resolved {
    /// Resolves FILE for `option`; refuses a directory, a socket, a name
    /// whose directory is missing, and a loop of links.
    pub(super) fn new(path: &Path, option: &'static str) -> Result<Resolved, Error> {
        let refused = |why: String| Error::Config(format!("{option} {}: {why}", path.display()));
        // What is there, through every link: `/dev/stderr` and
        // `/proc/self/fd/N` lead to pipes and terminals this way, which
        // their links' text does not name.
        match std::fs::metadata(path) {
            Ok(m) if m.is_file() => {}
            Ok(m) if m.is_dir() => return Err(refused("is a directory".into())),
            Ok(m) if m.file_type().is_socket() => {
                return Err(refused("is a socket: name a file, a FIFO or a device".into()));
            }
            // A FIFO, a character or block device: written through the
            // name as given.
            Ok(m) => {
                rustix::fs::access(path, rustix::fs::Access::WRITE_OK)
                    .map_err(|e| refused(format!("cannot write it: {}", std::io::Error::from(e))))?;
                return Ok(Resolved {
                    option,
                    named: path.to_path_buf(),
                    target: path.to_path_buf(),
                    identity: (path.to_path_buf(), OsString::new()),
                    inode: Some((m.dev(), m.ino())),
                    through: true,
                });
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(refused(e.to_string())),
        }
        // A regular file, or nothing yet: staged beside the links' final
        // target, which is followed link by link (it may not exist).
        let mut target = path.to_path_buf();
        let mut links = 0;
        let meta = loop {
            match std::fs::symlink_metadata(&target) {
                Ok(m) if m.file_type().is_symlink() => {
                    links += 1;
                    if links > MAX_LINKS {
                        return Err(refused("too many levels of symbolic links".into()));
                    }
                    let link = std::fs::read_link(&target).map_err(|e| refused(e.to_string()))?;
                    // A relative link is relative to the link's directory.
                    target = match target.parent() {
                        Some(dir) => dir.join(link),
                        None => link,
                    };
                }
                Ok(m) => break Some(m),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => break None,
                Err(e) => return Err(refused(e.to_string())),
            }
        };
        let name = target
            .file_name()
            .ok_or_else(|| refused("name a file".into()))?
            .to_os_string();
        let dir = parent(&target);
        let canonical =
            std::fs::canonicalize(&dir).map_err(|e| refused(format!("cannot write in {}: {e}", dir.display())))?;
        Ok(Resolved {
            option,
            named: path.to_path_buf(),
            target,
            identity: (canonical, name),
            inode: meta.map(|m| (m.dev(), m.ino())),
            through: false,
        })
    }

    /// Whether `self` and `other` are one file (by spelling, link or inode).
    fn same_file(&self, other: &Resolved) -> bool {
        self.identity == other.identity || (self.inode.is_some() && self.inode == other.inode)
    }
}

/// Refuses two options that name the same file: one would replace the
/// other's bytes (or both would interleave in a FIFO).
pub(super) fn check_distinct(files: &[&Resolved]) -> Result<(), Error> {
    for (i, a) in files.iter().enumerate() {
        if let Some(b) = files[..i].iter().find(|b| b.same_file(a)) {
            let spelled = match a.named == b.named {
                true => format!("{}", a.named.display()),
                false => format!("{} and {}", b.named.display(), a.named.display()),
            };
            return Err(Error::Config(format!(
                "{} and {} name the same file ({spelled}): one would overwrite the other; give each its own file",
                b.option, a.option
            )));
        }
    }
    Ok(())
}

/// The directory of `path` (`.` for a bare name).
fn parent(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// A file the run writes besides its output; see the module docs.
pub(super) struct PendingFile {
    option: &'static str,
    named: PathBuf,
    target: PathBuf,
    how: How,
}

enum How {
    /// Bytes go into `temp` (open as `file`), renamed onto the target.
    Staged { temp: PathBuf, file: File },
    /// Bytes are kept until delivered, then written to the target.
    Through { bytes: Option<Vec<u8>> },
}

impl PendingFile {
    /// Creates the temporary file of a staged target (which proves its
    /// directory writable) before any work.
    pub(super) fn claim(resolved: Resolved) -> Result<PendingFile, Error> {
        let Resolved {
            option,
            named,
            target,
            through,
            ..
        } = resolved;
        let how = match through {
            true => How::Through { bytes: None },
            false => {
                let dir = parent(&target);
                let prefix = temp_prefix(&target, option);
                remove_stale(&dir, &prefix);
                let temp = dir.join(format!("{prefix}{}", std::process::id()));
                let file = File::create(&temp).map_err(|e| {
                    Error::Config(format!(
                        "{option} {}: cannot write in {}: {e}",
                        named.display(),
                        dir.display()
                    ))
                })?;
                crate::io::cleanup::register(&temp);
                How::Staged { temp, file }
            }
        };
        Ok(PendingFile {
            option,
            named,
            target,
            how,
        })
    }

    /// Where a writer that writes as the run goes (the bad-records log)
    /// puts its bytes: the temporary file, or the target itself when it
    /// is written through.
    pub(super) fn write_path(&self) -> &Path {
        match &self.how {
            How::Staged { temp, .. } => temp,
            How::Through { .. } => &self.target,
        }
    }

    /// FILE as the user named it.
    pub(super) fn named(&self) -> &Path {
        &self.named
    }

    /// Writes the file's contents (before the output is committed: a
    /// staged file's write errors fail the job while nothing is delivered).
    pub(super) fn write(&mut self, contents: &[u8]) -> Result<(), Error> {
        match &mut self.how {
            How::Staged { file, .. } => file
                .write_all(contents)
                .and_then(|()| file.flush())
                .map_err(|e| self.error(e)),
            How::Through { bytes } => {
                *bytes = Some(contents.to_vec());
                Ok(())
            }
        }
    }

    fn error(&self, e: std::io::Error) -> Error {
        Error::Config(format!("{} {}: {e}", self.option, self.named.display()))
    }

    /// Delivers the file: a staged one is synced and renamed onto its
    /// target (then its directory synced); a written-through one gets its
    /// bytes now. Every error names the file.
    pub(super) fn persist(mut self) -> Result<(), Error> {
        let how = std::mem::replace(&mut self.how, How::Through { bytes: None });
        match how {
            How::Staged { temp, file } => {
                let delivered = file
                    .sync_all()
                    .and_then(|()| {
                        drop(file);
                        std::fs::rename(&temp, &self.target)
                    })
                    .and_then(|()| File::open(parent(&self.target))?.sync_all())
                    .map_err(|e| self.error(e));
                // Nothing left behind if the rename failed.
                let _ = std::fs::remove_file(&temp);
                crate::io::cleanup::unregister(&temp);
                delivered
            }
            How::Through { bytes: Some(bytes) } => std::fs::OpenOptions::new()
                .write(true)
                .open(&self.target)
                .and_then(|mut f| f.write_all(&bytes).and_then(|()| f.flush()))
                .map_err(|e| self.error(e)),
            How::Through { bytes: None } => Ok(()),
        }
    }

    /// After a failed run: delivers a staged file that holds something
    /// (the bad-records log that explains the failure), and otherwise
    /// leaves the target as it was. Returns whether it delivered.
    pub(super) fn persist_if_written(self) -> Result<bool, Error> {
        let written = match &self.how {
            How::Staged { file, .. } => file.metadata().is_ok_and(|m| m.len() > 0),
            How::Through { .. } => false,
        };
        match written {
            true => self.persist().map(|()| true),
            false => Ok(false),
        }
    }
}

impl Drop for PendingFile {
    fn drop(&mut self) {
        // Not delivered (or already renamed, and this finds nothing).
        if let How::Staged { temp, .. } = &self.how {
            let _ = std::fs::remove_file(temp);
            crate::io::cleanup::unregister(temp);
        }
    }
}

/// `.NAME.mr-OPTION-`, the start of `target`'s temporary sibling's name
/// (NAME cut to [`TEMP_NAME_BYTES`]).
fn temp_prefix(target: &Path, option: &str) -> String {
    let name = target.file_name().unwrap_or_default().to_string_lossy();
    let mut cut = name.len().min(TEMP_NAME_BYTES);
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    format!(".{}.mr-{}-", &name[..cut], option.trim_start_matches('-'))
}

/// Removes the temporary siblings in `dir` that killed runs left: their
/// process is gone.
fn remove_stale(dir: &Path, prefix: &str) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let stale = entry
            .file_name()
            .to_str()
            .and_then(|n| n.strip_prefix(prefix))
            .is_some_and(|pid| {
                pid.parse::<u32>()
                    .is_ok_and(|pid| !crate::io::cleanup::process_alive(pid))
            });
        if stale {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issue27_links_resolve_to_their_final_target_and_names_to_one_identity() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join("real.json"), "old").unwrap();
        std::os::unix::fs::symlink("real.json", d.join("a")).unwrap();
        std::os::unix::fs::symlink(d.join("a"), d.join("b")).unwrap();
        let real = Resolved::new(&d.join("real.json"), "--stats").unwrap();
        let b = Resolved::new(&d.join("b"), "--report").unwrap();
        assert_eq!(b.target, d.join("real.json"));
        assert!(real.same_file(&b) && !b.through);
        let e = check_distinct(&[&real, &b]).unwrap_err().to_string();
        assert!(e.contains("--stats and --report name the same file"), "{e}");
        // Another spelling of a file not there yet.
        let x = Resolved::new(&d.join("new.json"), "--stats").unwrap();
        let y = Resolved::new(&d.join(".").join("new.json"), "--bad-records-log").unwrap();
        assert!(check_distinct(&[&x, &y]).is_err());
        assert!(check_distinct(&[&x, &real]).is_ok());
        // A loop of links, a missing directory.
        std::os::unix::fs::symlink("loop", d.join("loop")).unwrap();
        let e = Resolved::new(&d.join("loop"), "--stats").err().unwrap().to_string();
        assert!(e.to_lowercase().contains("too many levels of symbolic links"), "{e}");
        assert!(Resolved::new(&d.join("nowhere/x"), "--stats").is_err());
    }

    #[test]
    fn issue27_a_staged_file_replaces_its_target_only_when_delivered() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("log");
        std::fs::write(&target, "earlier").unwrap();
        let mut f = PendingFile::claim(Resolved::new(&target, "--stats").unwrap()).unwrap();
        f.write(b"new").unwrap();
        drop(f);
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "earlier");
        // Nothing written: a failed run keeps the earlier file.
        let f = PendingFile::claim(Resolved::new(&target, "--bad-records-log").unwrap()).unwrap();
        assert!(!f.persist_if_written().unwrap());
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "earlier");
        let mut f = PendingFile::claim(Resolved::new(&target, "--stats").unwrap()).unwrap();
        f.write(b"new").unwrap();
        f.persist().unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "new");
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temporary file left"
        );
        // A 255-byte name has a valid temporary sibling.
        let long = dir.path().join("n".repeat(255));
        let mut f = PendingFile::claim(Resolved::new(&long, "--bad-records-log").unwrap()).unwrap();
        f.write(b"x").unwrap();
        f.persist().unwrap();
        assert_eq!(std::fs::read(&long).unwrap(), b"x");
    }
}
