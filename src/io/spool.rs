//! Spooling: copying standard input and other streams (FIFOs, devices,
//! `<(...)`) to regular files before a job reads them.
//!
//! A stream can be read once; a retried task, a second split, or the
//! total-order sampler would find it exhausted and "succeed" on nothing.
//! Hadoop's input always lives on HDFS; ours lives in a spool directory:
//!
//! ```text
//! <temp>/mr-spool-<pid>-<n>-<nanos>/input-<i>   the bytes of the i-th input, as read
//! ```
//!
//! The directory name follows [`cleanup`]'s rule (`mr-<kind>-<pid>-...`,
//! like the job directory) and the run holds its lock while it lives, so a
//! sweep removes those of killed runs and only those. It is registered for
//! removal on Ctrl-C and removed when dropped.
//!
//! Compressed streams are copied compressed (less disk) and decoded when
//! read. While copying plain text, the maximum line length is enforced, so
//! an endless line (`/dev/zero`) stops the job before it fills the disk.

use std::fs::{self, File};
use std::io::{self, ErrorKind, Read, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Location, Result};
use crate::io::cleanup;
use crate::io::compression;
use crate::io::input::InputSource;

/// Copy buffer: large reads from a pipe, one allocation per input.
const CHUNK: usize = 1 << 20;

/// A run's spool directory; created on first use, removed when dropped.
pub(crate) struct SpoolDir {
    root: PathBuf,
    path: Option<PathBuf>,
    /// Tells sweeps that this run is alive; released after removal.
    held: Option<cleanup::Held>,
    count: usize,
}

/// Whether `src` must be spooled to be read more than once: standard input
/// and anything that is not a regular file.
pub(crate) fn needs_spool(src: &InputSource) -> Result<bool> {
    Ok(match src {
        InputSource::Stdin => true,
        InputSource::File(path) => !fs::metadata(path).map_err(|e| Error::io(path, e))?.is_file(),
        _ => false,
    })
}

impl SpoolDir {
    /// A spool directory under `root`, not created until something is
    /// spooled.
    pub(crate) fn new(root: &Path) -> Self {
        SpoolDir {
            root: root.to_path_buf(),
            path: None,
            held: None,
            count: 0,
        }
    }

    fn dir(&mut self) -> Result<&Path> {
        if self.path.is_none() {
            let (path, held) = cleanup::create_temp_dir(&self.root, "spool")?;
            self.path = Some(path);
            self.held = Some(held);
        }
        Ok(self.path.as_deref().unwrap_or(&self.root))
    }

    /// Copies `src` (standard input or a stream) into the spool directory,
    /// returning the source that reads the copy under the original's name.
    /// A plain-text line longer than `max_line` bytes is
    /// [`Error::LineTooLong`]; undecodable compressed content is refused
    /// before anything is copied.
    pub(crate) fn spool(&mut self, src: &InputSource, max_line: u64) -> Result<InputSource> {
        let origin = src.path().map(Path::to_path_buf);
        let name = src.error_name();
        let index = self.count;
        self.count += 1;
        let path = self.dir()?.join(format!("input-{index}"));
        let mut out = File::create(&path).map_err(|e| Error::io(&path, e))?;
        let mut input: Box<dyn Read> = match &origin {
            None => Box::new(io::stdin().lock()),
            Some(p) => Box::new(File::open(p).map_err(|e| Error::io(p, e))?),
        };
        copy(&mut input, &mut out, &name, origin.as_deref(), &path, max_line)?;
        Ok(InputSource::Spooled { origin, spool: path })
    }
}

impl Drop for SpoolDir {
    fn drop(&mut self) {
        if let Some(path) = &self.path {
            let _ = fs::remove_dir_all(path);
            cleanup::unregister(path);
        }
        self.held = None;
    }
}

/// Copies `input` to `out` (the spool file at `spool`), checking line
/// lengths when the content is plain. Read errors name the input (`name`),
/// write errors the spool file. Returns the bytes copied.
fn copy(
    input: &mut dyn Read,
    out: &mut dyn Write,
    name: &Path,
    origin: Option<&Path>,
    spool: &Path,
    max_line: u64,
) -> Result<u64> {
    let write_err = |e: io::Error| {
        let kind = e.kind();
        Error::io(
            spool,
            io::Error::new(
                kind,
                format!(
                    "writing a copy of input {} (streams are copied so they can be split and re-read): {e}{}",
                    name.display(),
                    if kind == ErrorKind::StorageFull || e.raw_os_error() == Some(28) {
                        "; pass --temp-dir DIR to use a disk with more room"
                    } else {
                        ""
                    }
                ),
            ),
        )
    };
    let head = compression::read_head(input, name)?;
    let plain = compression::detect(name, origin, &head)?.is_none();
    let mut lines = LineCheck {
        max: max_line.max(1),
        line_start: 0,
        lines: 0,
        pos: 0,
    };
    let mut buf = vec![0u8; CHUNK];
    buf[..head.len()].copy_from_slice(&head);
    let mut filled = head.len();
    let mut total = 0u64;
    loop {
        if filled > 0 {
            if plain {
                lines.scan(&buf[..filled], name)?;
            }
            out.write_all(&buf[..filled]).map_err(write_err)?;
            total += filled as u64;
        }
        filled = match input.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::Interrupted => 0,
            Err(e) => return Err(Error::io(name, e)),
        };
    }
    out.flush().map_err(write_err)?;
    Ok(total)
}

/// Line-length bookkeeping over a stream seen in chunks.
struct LineCheck {
    max: u64,
    /// Offset of the current line's first byte.
    line_start: u64,
    /// Lines finished so far.
    lines: u64,
    /// Offset of the next byte.
    pos: u64,
}

impl LineCheck {
    /// Checks the lines in `chunk`, the bytes at `pos`. One byte of slack
    /// for a `\r` before the `\n`: the line reader enforces the exact
    /// limit when the copy is read; this only bounds the copy.
    fn scan(&mut self, chunk: &[u8], name: &Path) -> Result<()> {
        let limit = self.max.saturating_add(1);
        for i in memchr::memchr_iter(b'\n', chunk) {
            let nl = self.pos + i as u64;
            if nl - self.line_start > limit {
                return Err(self.too_long(name));
            }
            self.line_start = nl + 1;
            self.lines += 1;
        }
        self.pos += chunk.len() as u64;
        if self.pos - self.line_start > limit {
            return Err(self.too_long(name));
        }
        Ok(())
    }

    fn too_long(&self, name: &Path) -> Error {
        Error::LineTooLong {
            location: Location {
                path: Some(name.to_path_buf()),
                line: Some(self.lines + 1),
                offset: Some(self.line_start),
                split_start: None,
            },
            max: self.max,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Endless zeros, like `/dev/zero`.
    struct Zeros(u64);

    impl Read for Zeros {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.0 += buf.len() as u64;
            buf.fill(0);
            Ok(buf.len())
        }
    }

    /// A disk that fills after `room` bytes.
    struct Full {
        room: usize,
    }

    impl Write for Full {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if self.room == 0 {
                return Err(io::Error::from_raw_os_error(28));
            }
            let n = buf.len().min(self.room);
            self.room -= n;
            Ok(n)
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn issue8_spooling_an_endless_line_stops_at_the_limit() {
        let mut zeros = Zeros(0);
        let mut out = Vec::new();
        let err = copy(
            &mut zeros,
            &mut out,
            Path::new("/dev/zero"),
            None,
            Path::new("s"),
            3 << 20,
        )
        .unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, Error::LineTooLong { .. }), "{err:?}");
        assert!(msg.contains("/dev/zero, line 1 (byte offset 0)"), "{msg}");
        assert!(out.len() <= 4 << 20, "copied {} bytes", out.len());
        assert!(zeros.0 <= 5 << 20, "read {} bytes", zeros.0);
    }

    #[test]
    fn issue8_line_check_counts_lines_across_chunks() {
        let mut data = b"ab\ncd\n".to_vec();
        data.extend(std::iter::repeat_n(b'x', 10));
        let mut check = LineCheck {
            max: 5,
            line_start: 0,
            lines: 0,
            pos: 0,
        };
        let err = data
            .chunks(4)
            .try_for_each(|c| check.scan(c, Path::new("<stdin>")))
            .unwrap_err()
            .to_string();
        assert!(err.contains("<stdin>, line 3 (byte offset 6)"), "{err}");
    }

    #[test]
    fn issue8_disk_full_while_spooling_names_the_spool_file_and_input() {
        let text = b"a line\n".repeat(1000);
        let mut out = Full { room: 100 };
        let err = copy(
            &mut &text[..],
            &mut out,
            Path::new("<stdin>"),
            None,
            Path::new("/t/mr-spool-1/input-0"),
            1 << 20,
        )
        .unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, Error::Io { .. }), "{err:?}");
        for part in ["/t/mr-spool-1/input-0", "<stdin>", "--temp-dir"] {
            assert!(msg.contains(part), "{part:?} in {msg}");
        }
    }

    #[test]
    fn compressed_streams_are_copied_as_they_are() {
        // An endless line inside compressed data is the decoder's reader's
        // to catch; the copy keeps the compressed bytes.
        let data = zstd::stream::encode_all(&vec![b'x'; 100_000][..], 3).unwrap();
        let mut out = Vec::new();
        copy(&mut &data[..], &mut out, Path::new("-"), None, Path::new("s"), 10).unwrap();
        assert_eq!(out, data);
    }

    #[test]
    fn spool_dir_is_named_for_the_sweep_and_removed_on_drop() {
        let root = tempfile::tempdir().unwrap();
        let mut spool = SpoolDir::new(root.path());
        assert_eq!(fs::read_dir(root.path()).unwrap().count(), 0, "created lazily");
        let dir = spool.dir().unwrap().to_path_buf();
        let name = dir.file_name().unwrap().to_str().unwrap().to_owned();
        assert!(name.starts_with(&format!("mr-spool-{}-", std::process::id())), "{name}");
        drop(spool);
        assert!(!dir.exists());
    }
}
