//! The writer of large output files: buffered at first, then, past a size,
//! straight to the disk (`O_DIRECT`), around the page cache.
//!
//! Why: writing a file through the page cache costs the kernel a copy into
//! pages it must first find, and on a machine whose memory is handed out
//! lazily (a VM, a container near its limit) finding fresh pages is the
//! bulk of a big sort's system time: writing 1 GiB of output took more
//! kernel time than the sort's whole user time in one of its phases. A
//! direct write is one DMA from the writer's own aligned buffer. Small
//! files stay wholly in the page cache, where a next step reads them for
//! free; only the part beyond [`DIRECT_AFTER`] bypasses it, which is also
//! what keeps one huge output from evicting everything else cached.
//!
//! Direct I/O needs the buffer's address, the file offset and the length
//! all aligned to the device's block: the buffer is aligned to
//! [`ALIGN`] and only whole [`CHUNK`]s are written directly. Whatever does
//! not fit that (the last partial chunk, anything after a `flush`, a
//! filesystem that refuses `O_DIRECT`) is written through the page cache,
//! so the bytes on disk are the same either way.

use std::fs::File;
use std::io::{self, Write};

use rustix::fs::{OFlags, fcntl_getfl, fcntl_setfl};

/// Alignment of the buffer, file offsets and lengths of direct writes:
/// the largest logical block size in common use.
const ALIGN: usize = 4096;
/// Bytes per write: large, so each synchronous direct write keeps the disk
/// busy long enough to be worth the system call.
const CHUNK: usize = 1 << 20;
/// Files stay in the page cache up to this many bytes.
pub(crate) const DIRECT_AFTER: u64 = 32 << 20;

/// A [`Write`] over a file that switches to direct I/O once the file is
/// [`DIRECT_AFTER`] bytes long (see the module docs).
pub(crate) struct DirectWriter {
    file: File,
    /// Holds one aligned chunk at `start..start + CHUNK`; never reallocated,
    /// so the alignment holds.
    raw: Vec<u8>,
    start: usize,
    /// Bytes of the chunk filled.
    len: usize,
    /// Bytes written to the file so far.
    written: u64,
    after: u64,
    state: Mode,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Through the page cache; may switch to direct.
    Buffered,
    Direct,
    /// Through the page cache for good: the offset is no longer aligned,
    /// or the filesystem refused direct I/O.
    BufferedOnly,
}

impl DirectWriter {
    /// A writer for `file`, empty and open for writing at offset 0.
    pub(crate) fn new(file: File) -> Self {
        Self::with_threshold(file, DIRECT_AFTER)
    }

    /// A writer going direct after `after` bytes (tests use small ones).
    pub(crate) fn with_threshold(file: File, after: u64) -> Self {
        let raw = vec![0; CHUNK + ALIGN];
        let start = raw.as_ptr().align_offset(ALIGN);
        DirectWriter {
            file,
            raw,
            start,
            len: 0,
            written: 0,
            after,
            state: Mode::Buffered,
        }
    }

    /// Writes what is buffered and `fsync`s the file: its bytes are on the
    /// disk, and any error writing them back is reported here.
    pub(crate) fn sync(&mut self) -> io::Result<()> {
        self.flush()?;
        self.file.sync_all()
    }

    /// Whether writes go around the page cache now.
    #[cfg(test)]
    fn is_direct(&self) -> bool {
        self.state == Mode::Direct
    }

    fn set_direct(&self, on: bool) -> io::Result<()> {
        let flags = fcntl_getfl(&self.file)?;
        let flags = if on {
            flags | OFlags::DIRECT
        } else {
            flags - OFlags::DIRECT
        };
        Ok(fcntl_setfl(&self.file, flags)?)
    }

    /// Writes the whole chunk, which is full or the last of the file.
    fn write_chunk(&mut self) -> io::Result<()> {
        let whole = self.len == CHUNK;
        if self.state == Mode::Buffered && whole && self.written >= self.after {
            // A refusal is not an error: the page cache still works.
            self.state = if self.set_direct(true).is_ok() {
                Mode::Direct
            } else {
                Mode::BufferedOnly
            };
        }
        if self.state == Mode::Direct && !whole {
            self.set_direct(false)?;
            self.state = Mode::BufferedOnly;
        }
        let einval = rustix::io::Errno::INVAL.raw_os_error();
        let mut done = 0;
        while done < self.len {
            match self.file.write(&self.raw[self.start + done..self.start + self.len]) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => done += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                // This device wants another alignment (or a short write
                // left the offset unaligned): the rest goes through the
                // page cache, from where the refused write stopped.
                Err(e) if self.state == Mode::Direct && e.raw_os_error() == Some(einval) => {
                    self.set_direct(false)?;
                    self.state = Mode::BufferedOnly;
                }
                Err(e) => return Err(e),
            }
        }
        self.written += self.len as u64;
        self.len = 0;
        Ok(())
    }
}

impl Write for DirectWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = buf.len().min(CHUNK - self.len);
        let at = self.start + self.len;
        self.raw[at..at + n].copy_from_slice(&buf[..n]);
        self.len += n;
        if self.len == CHUNK {
            self.write_chunk()?;
        }
        Ok(n)
    }

    /// Writes what is buffered. Past this the file is never direct again,
    /// since its length is no longer a multiple of the block.
    fn flush(&mut self) -> io::Result<()> {
        if self.len > 0 {
            self.write_chunk()?;
            if !self.written.is_multiple_of(ALIGN as u64) && self.state == Mode::Buffered {
                self.state = Mode::BufferedOnly;
            }
        }
        Ok(())
    }
}

impl Drop for DirectWriter {
    /// As `BufWriter` does: what was written is not dropped with the
    /// buffer. Errors here have no one to go to; callers that care call
    /// `flush` first.
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i * 31 + i / 7919) as u8).collect()
    }

    /// Writes `data` in pieces of `piece` bytes, flushing after `flush_at`.
    fn write_through(data: &[u8], piece: usize, after: u64, flush_at: Option<usize>) -> (Vec<u8>, bool) {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("part");
        let mut w = DirectWriter::with_threshold(File::create(&path).expect("create"), after);
        let mut was_direct = false;
        let mut done = 0;
        for p in data.chunks(piece) {
            w.write_all(p).expect("write");
            done += p.len();
            was_direct |= w.is_direct();
            if flush_at.is_some_and(|at| done >= at && done - p.len() < at) {
                w.flush().expect("flush");
            }
        }
        w.flush().expect("flush");
        drop(w);
        (std::fs::read(&path).expect("read back"), was_direct)
    }

    #[test]
    fn the_file_holds_exactly_what_was_written_across_the_switch() {
        let data = pattern(5 * CHUNK + 12_345);
        for piece in [1, 4095, 65_536, 3 * CHUNK] {
            let (got, direct) = write_through(&data, piece, CHUNK as u64, None);
            assert!(got == data, "bytes differ with pieces of {piece}");
            // The temp dir may be on a filesystem without O_DIRECT; where
            // it has it, the writer must have used it.
            let supported = {
                let f = tempfile::tempfile().expect("temp file");
                let w = DirectWriter::new(f);
                w.set_direct(true).is_ok()
            };
            assert_eq!(direct, supported, "pieces of {piece}");
        }
    }

    #[test]
    fn a_flush_mid_file_ends_direct_writes_and_loses_nothing() {
        let data = pattern(4 * CHUNK + 7);
        for flush_at in [10, CHUNK + 1, 2 * CHUNK + 100, 4 * CHUNK] {
            let (got, _) = write_through(&data, 50_000, 0, Some(flush_at));
            assert!(got == data, "bytes differ with a flush at {flush_at}");
        }
    }

    #[test]
    fn small_files_never_go_direct() {
        let data = pattern(3 * CHUNK);
        let (got, direct) = write_through(&data, 8192, DIRECT_AFTER, None);
        assert!(got == data);
        assert!(!direct);
    }
}
