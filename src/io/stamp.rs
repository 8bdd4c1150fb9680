//! Telling whether an input file changed under the job: a file is
//! stamped when the job is planned (size, modification time, and which
//! file it is), and checked when the first step's map phase has read it;
//! each split also checks that its open found the planned file.

use std::fs;
use std::io::ErrorKind;
use std::path::PathBuf;
use std::time::SystemTime;

use crate::error::{Error, Result};
use crate::io::input::InputSource;

/// Which file a path names, as far as a reader can tell a replacement:
/// the device and inode (a file renamed over the path is another inode)
/// and the status change time (a rewrite in place, `cp -p` over it
/// included, moves it even when the writer sets the modification time
/// back). Only on Unix; elsewhere every file looks the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileId {
    dev: u64,
    ino: u64,
    ctime: (i64, i64),
}

impl FileId {
    /// The identity of the file `meta` describes (`None` off Unix).
    pub(crate) fn of(meta: &fs::Metadata) -> Option<FileId> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            Some(FileId {
                dev: meta.dev(),
                ino: meta.ino(),
                ctime: (meta.ctime(), meta.ctime_nsec()),
            })
        }
        #[cfg(not(unix))]
        {
            let _ = meta;
            None
        }
    }

    /// How [`change`](Self::change) says the path names another file.
    pub(crate) const REPLACED: &'static str =
        "it was replaced by another file (a new inode at its path: renamed over it?)";

    /// Whether `now` is the same file (device and inode), changed or not.
    pub(crate) fn is_same_file(&self, now: &FileId) -> bool {
        (self.dev, self.ino) == (now.dev, now.ino)
    }

    /// What differs between the planned file (`self`) and `now`, if
    /// anything.
    pub(crate) fn change(&self, now: &FileId) -> Option<&'static str> {
        if !self.is_same_file(now) {
            Some(Self::REPLACED)
        } else if self.ctime != now.ctime {
            Some("its status change time moved (rewritten in place, its modification time set back?)")
        } else {
            None
        }
    }
}

/// An input file's size, modification time and identity when the job was
/// planned, to tell at the end of its map phase whether it changed under
/// the job (which would make the answer that of neither version). Size and
/// time alone miss a file replaced by rename with both kept (rsync, `cp
/// -p`, a restore), which later splits, reopening the path, would read.
#[derive(Debug, Clone)]
pub(crate) struct Stamp {
    path: PathBuf,
    len: u64,
    modified: Option<SystemTime>,
    id: Option<FileId>,
}

impl Stamp {
    /// The stamp of a file input; `None` for standard input and spooled
    /// copies, which only this process writes.
    pub(crate) fn take(src: &InputSource) -> Result<Option<Stamp>> {
        let InputSource::File(path) = src else {
            return Ok(None);
        };
        let meta = fs::metadata(path).map_err(|e| Error::io(path, e))?;
        Ok(Some(Stamp {
            path: path.clone(),
            len: meta.len(),
            modified: meta.modified().ok(),
            id: FileId::of(&meta),
        }))
    }

    /// Fails if the file is not as stamped.
    pub(crate) fn check(&self) -> Result<()> {
        let changed = |detail: String| Error::InputChanged {
            path: self.path.clone(),
            detail,
        };
        let meta = match fs::metadata(&self.path) {
            Ok(meta) => meta,
            Err(e) if e.kind() == ErrorKind::NotFound => return Err(changed("it was deleted".to_owned())),
            Err(e) => return Err(Error::io(&self.path, e)),
        };
        let replaced = match (&self.id, FileId::of(&meta)) {
            (Some(before), Some(now)) if !before.is_same_file(&now) => Some(FileId::REPLACED),
            _ => None,
        };
        if let Some(what) = replaced {
            return Err(changed(format!("{what}; size {} -> {} bytes", self.len, meta.len())));
        }
        if meta.len() != self.len {
            return Err(changed(format!("size {} -> {} bytes", self.len, meta.len())));
        }
        if meta.modified().ok() != self.modified {
            return Err(changed(format!(
                "modified (same size, {} bytes, new modification time)",
                self.len
            )));
        }
        if let (Some(before), Some(now)) = (&self.id, FileId::of(&meta))
            && let Some(what) = before.change(&now)
        {
            return Err(changed(format!(
                "same size ({} bytes) and modification time, but {what}",
                self.len
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::lines::DEFAULT_MAX_LINE_LENGTH;
    use crate::io::split::{SplitReader, compute_splits};

    /// Audit finding 5: a file replaced by rename with the same size and
    /// modification time passed the change check, and splits opened after
    /// the rename read the new file.
    #[test]
    fn issue27_file_replaced_by_rename_with_same_size_and_mtime_is_input_changed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.txt");
        let data: Vec<u8> = (0..1000u32).flat_map(|i| format!("{i}\n").into_bytes()).collect();
        std::fs::write(&path, &data).unwrap();
        let source = InputSource::File(path.clone());
        let stamp = Stamp::take(&source).unwrap().unwrap();
        let splits = compute_splits(std::slice::from_ref(&source), 1000).unwrap();
        assert!(splits.len() > 2);
        let mtime = std::fs::metadata(&path).unwrap().modified().unwrap();
        let new = dir.path().join("new");
        let other: Vec<u8> = data.iter().map(|&b| if b == b'1' { b'\n' } else { b }).collect();
        std::fs::write(&new, &other).unwrap();
        std::fs::File::options()
            .write(true)
            .open(&new)
            .unwrap()
            .set_modified(mtime)
            .unwrap();
        std::fs::rename(&new, &path).unwrap();
        let meta = std::fs::metadata(&path).unwrap();
        assert_eq!((meta.len(), meta.modified().unwrap()), (data.len() as u64, mtime));
        for split in &splits {
            let err = SplitReader::open(split, DEFAULT_MAX_LINE_LENGTH).err().unwrap();
            assert!(matches!(err, Error::InputChanged { .. }), "{err:?}");
            let msg = err.to_string();
            assert!(msg.contains("f.txt changed while the job read it"), "{msg}");
            assert!(msg.contains("replaced by another file"), "{msg}");
        }
        let msg = stamp.check().unwrap_err().to_string();
        assert!(msg.contains("replaced by another file"), "{msg}");
        // Rewritten in place, its times set back: same inode, new ctime.
        let stamp = Stamp::take(&source).unwrap().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        let file = std::fs::File::options().write(true).open(&path).unwrap();
        std::io::Write::write_all(&mut &file, &data).unwrap();
        file.set_modified(mtime).unwrap();
        let msg = stamp.check().unwrap_err().to_string();
        assert!(msg.contains("status change time moved"), "{msg}");
    }
}
