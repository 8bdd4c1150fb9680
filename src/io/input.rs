//! Which inputs a job reads, and opening them.
//!
//! This module owns turning the input specs given on the command line into an
//! ordered list of sources, following Hadoop's `FileInputFormat` as mrjob's
//! hadoop runner sees it (directories expanded, `_`/`.` names hidden, globs
//! expanded), and opening each source with the decompression its content
//! asks for (see [`crate::io::compression`]).

use std::ffi::OsStr;
use std::fs::{self, File};
use std::io::{Cursor, ErrorKind, Read};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::io::compression::{self, Codec};
use crate::io::warn;
// Where the runners have always found it.
pub(crate) use crate::io::stamp::Stamp;

/// One input to read.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum InputSource {
    /// Standard input, given as `-`.
    Stdin,
    /// A file.
    File(PathBuf),
    /// Standard input or a file that is not a regular file (a FIFO, a
    /// device, `<(...)`), copied to a regular file before the job reads it,
    /// so that it can be split and a retried task can read it again.
    /// Messages and the task's input path still name the original.
    Spooled {
        /// The path as given, or `None` for standard input.
        origin: Option<PathBuf>,
        /// The copy that is read.
        spool: PathBuf,
    },
}

impl InputSource {
    /// The path as given, or `-` for standard input.
    pub fn display_name(&self) -> String {
        match self.path() {
            None => "-".to_owned(),
            Some(p) => p.display().to_string(),
        }
    }

    /// The file's path as given, or `None` for standard input.
    pub fn path(&self) -> Option<&Path> {
        match self {
            InputSource::Stdin => None,
            InputSource::File(p) => Some(p),
            InputSource::Spooled { origin, .. } => origin.as_deref(),
        }
    }

    /// What messages about this input name: its path as given, or
    /// `<stdin>`.
    pub fn error_name(&self) -> PathBuf {
        self.path().map_or_else(|| PathBuf::from("<stdin>"), Path::to_path_buf)
    }

    /// The file the bytes are read from (the copy, for a spooled input);
    /// `None` for standard input.
    pub fn read_path(&self) -> Option<&Path> {
        match self {
            InputSource::Stdin => None,
            InputSource::File(p) => Some(p),
            InputSource::Spooled { spool, .. } => Some(spool),
        }
    }

    /// How the input's content is compressed (`None`: plain), from its
    /// first bytes and name. Standard input cannot be looked at without
    /// consuming it, and counts as compressed-or-not-yet-known: `Err`.
    pub fn codec(&self) -> Result<Option<Codec>> {
        let name = self.error_name();
        let Some(read_path) = self.read_path() else {
            return Err(Error::Internal(
                "standard input can only be inspected once it is spooled".to_owned(),
            ));
        };
        let mut file = File::open(read_path).map_err(|e| Error::io(&name, e))?;
        let head = compression::read_head(&mut file, &name)?;
        compression::detect(&name, self.path(), &head)
    }
}

/// Expands input specs into the sources to read, in order.
///
/// `-` is standard input (at most once). An existing file is read whatever its
/// name, a FIFO or device too. A directory contributes its regular files
/// sorted by name, skipping names starting with `_` or `.`, FIFOs, sockets
/// and devices (named on stderr) and, unless `recursive`, subdirectories. A
/// spec with `*`, `?` or `[` is a glob: its matches, sorted, each expanded
/// like a spec, hidden names and FIFOs, sockets and devices skipped. A missing path or a glob matching nothing is
/// [`Error::InputNotFound`]. Duplicates are kept, as Hadoop reads a file
/// twice if it is named twice. Specs are OS strings: a file name need not
/// be UTF-8 (a name that is not is never a glob).
pub fn resolve_inputs<S: AsRef<OsStr>>(specs: &[S], recursive: bool) -> Result<Vec<InputSource>> {
    let mut out = Vec::new();
    let mut seen_stdin = false;
    for spec in specs {
        let spec = spec.as_ref();
        if spec == "-" {
            if seen_stdin {
                return Err(Error::Config(
                    "standard input (`-`) can be given as an input only once".to_owned(),
                ));
            }
            seen_stdin = true;
            out.push(InputSource::Stdin);
        } else if let Some(pattern) = spec.to_str().filter(|s| is_glob(s)) {
            resolve_glob(pattern, recursive, &mut out)?;
        } else {
            resolve_path(Path::new(spec), recursive, &mut out)?;
        }
    }
    Ok(out)
}

/// Opens a source for reading, decoded as its content says (gzip, bzip2
/// and zstd, concatenated members included); formats that cannot be
/// decoded, and compressed names over plain content, are errors naming it.
pub fn open_input(src: &InputSource) -> Result<Box<dyn Read + Send>> {
    Ok(open_decoded(src)?.0)
}

/// [`open_input`], and the codec it decodes (`None`: plain).
pub(crate) fn open_decoded(src: &InputSource) -> Result<(Box<dyn Read + Send>, Option<Codec>)> {
    let raw: Box<dyn Read + Send> = match src.read_path() {
        None => Box::new(std::io::stdin()),
        Some(p) => Box::new(File::open(p).map_err(|e| Error::io(src.error_name(), e))?),
    };
    decode_opened(src, raw)
}

/// [`open_decoded`] over `raw`, the source's bytes already opened.
pub(crate) fn decode_opened(
    src: &InputSource,
    mut raw: Box<dyn Read + Send>,
) -> Result<(Box<dyn Read + Send>, Option<Codec>)> {
    let name = src.error_name();
    let head = compression::read_head(&mut raw, &name)?;
    let codec = compression::detect(&name, src.path(), &head)?;
    let raw: Box<dyn Read + Send> = Box::new(Cursor::new(head).chain(raw));
    match codec {
        None => Ok((raw, None)),
        Some(codec) => Ok((compression::decoder(codec, raw, &name)?, Some(codec))),
    }
}

fn is_glob(spec: &str) -> bool {
    spec.contains(['*', '?', '['])
}

/// How far past a malformed record in compressed data to look for the
/// decoder's error that explains it (a bzip2 block decodes to at most a
/// few MiB).
pub(crate) const ERROR_AHEAD: u64 = 64 << 20;

/// Hadoop's hidden-file filter: `_SUCCESS`, `_logs`, `.crc` files and the
/// like are bookkeeping, not data.
fn is_hidden(name: &OsStr) -> bool {
    matches!(name.as_encoded_bytes().first(), Some(b'_' | b'.'))
}

/// What a file that is neither a regular file nor a directory is, for the
/// message that skips it; `None` for regular files and directories.
fn special_kind(meta: &fs::Metadata) -> Option<&'static str> {
    let ft = meta.file_type();
    if ft.is_file() || ft.is_dir() {
        return None;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if ft.is_fifo() {
            return Some("FIFO");
        }
        if ft.is_socket() {
            return Some("socket");
        }
        if ft.is_char_device() || ft.is_block_device() {
            return Some("device");
        }
    }
    Some("special file")
}

fn resolve_glob(spec: &str, recursive: bool, out: &mut Vec<InputSource>) -> Result<()> {
    let paths = match glob::glob(spec) {
        Ok(paths) => paths,
        // Not a valid pattern (e.g. an unclosed `[`): it can only be a
        // literal name.
        Err(_) => return resolve_path(Path::new(spec), recursive, out),
    };
    let mut matches = Vec::new();
    for entry in paths {
        let path = match entry {
            Ok(path) => path,
            Err(e) => {
                let path = e.path().to_path_buf();
                return Err(Error::io(path, std::io::Error::from(e)));
            }
        };
        if !path.file_name().is_some_and(is_hidden) {
            matches.push(path);
        }
    }
    if matches.is_empty() {
        // A file literally named like a pattern (`data[1]`) is still an
        // existing file, and existing files are read whatever their name.
        return resolve_path(Path::new(spec), recursive, out);
    }
    matches.sort();
    let before = out.len();
    let mut skipped = Vec::new();
    for path in matches {
        // A FIFO that a pattern happens to match may have no writer, and
        // opening it would wait forever: only a FIFO named outright is read.
        if let Ok(meta) = fs::metadata(&path)
            && let Some(kind) = special_kind(&meta)
        {
            skipped.push((kind, path));
            continue;
        }
        resolve_path(&path, recursive, out)?;
    }
    if !skipped.is_empty() && out.len() == before {
        return Err(only_special(&format!("input {spec} matches"), skipped.len()));
    }
    for (kind, path) in skipped {
        warn::once(format!(
            "skipping {kind} {} matched by {spec} (not a regular file: name it to read it)",
            path.display()
        ));
    }
    Ok(())
}

/// The error for an input that names only FIFOs, sockets or devices
/// through a directory or glob.
fn only_special(what: &str, count: usize) -> Error {
    Error::Config(format!(
        "{what} no regular file, only {count} FIFO(s), socket(s) or device(s), which are read only when named outright"
    ))
}

fn resolve_path(path: &Path, recursive: bool, out: &mut Vec<InputSource>) -> Result<()> {
    let meta = fs::metadata(path).map_err(|e| match e.kind() {
        ErrorKind::NotFound => Error::InputNotFound {
            path: path.to_path_buf(),
        },
        _ => Error::io(path, e),
    })?;
    if meta.is_dir() {
        let mut ancestors = Vec::new();
        let before = out.len();
        let mut skipped = Skipped::default();
        expand_dir(path, recursive, &mut ancestors, out, &mut skipped)?;
        if out.len() == before {
            // Reading nothing would print an empty answer with exit 0, as
            // if the data had no records.
            if !skipped.special.is_empty() {
                return Err(only_special(
                    &format!("input directory {} holds", path.display()),
                    skipped.special.len(),
                ));
            }
            return Err(Error::EmptyInput {
                path: path.to_path_buf(),
                skipped_dirs: skipped.dirs.len(),
            });
        }
        for (kind, file) in &skipped.special {
            warn::once(format!(
                "skipping {kind} {} in input directory {} (not a regular file: name it to read it)",
                file.display(),
                path.display()
            ));
        }
        for dir in skipped.dirs {
            warn::once(format!(
                "skipping subdirectory {} of input directory {} (pass --recursive to read it)",
                dir.display(),
                path.display()
            ));
        }
        Ok(())
    } else {
        // Named outright, a FIFO or device is read (spooled first).
        out.push(InputSource::File(path.to_path_buf()));
        Ok(())
    }
}

/// What a directory walk left out, to be named on stderr.
#[derive(Default)]
struct Skipped {
    /// Visible subdirectories not walked (without `--recursive`).
    dirs: Vec<PathBuf>,
    /// FIFOs, sockets and devices, with what each is.
    special: Vec<(&'static str, PathBuf)>,
}

/// Adds a directory's visible regular files, sorted by name, walking
/// visible subdirectories depth-first when `recursive`. `ancestors` holds
/// the canonical paths of the directories being walked, so that a symlink
/// back up the tree is an error rather than endless recursion. What it
/// leaves out goes to `skipped`: subdirectories it does not walk, and
/// FIFOs, sockets and devices (a FIFO without a writer would hang the
/// job on its open, a device may never end).
fn expand_dir(
    dir: &Path,
    recursive: bool,
    ancestors: &mut Vec<PathBuf>,
    out: &mut Vec<InputSource>,
    skipped: &mut Skipped,
) -> Result<()> {
    if recursive {
        let canonical = fs::canonicalize(dir).map_err(|e| Error::io(dir, e))?;
        if ancestors.contains(&canonical) {
            return Err(Error::Config(format!(
                "input directory {} contains a symlink loop",
                dir.display()
            )));
        }
        ancestors.push(canonical);
    }
    let mut names = Vec::new();
    for entry in fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let name = entry.map_err(|e| Error::io(dir, e))?.file_name();
        if !is_hidden(&name) {
            names.push(name);
        }
    }
    names.sort();
    for name in names {
        let path = dir.join(name);
        // `metadata` follows symlinks, so a link to a file is read and a link
        // to a directory is walked, as Hadoop does.
        let meta = fs::metadata(&path).map_err(|e| Error::io(&path, e))?;
        if let Some(kind) = special_kind(&meta) {
            skipped.special.push((kind, path));
        } else if !meta.is_dir() {
            out.push(InputSource::File(path));
        } else if recursive {
            expand_dir(&path, recursive, ancestors, out, skipped)?;
        } else {
            skipped.dirs.push(path);
        }
    }
    if recursive {
        ancestors.pop();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::lines::LineReader;
    use std::io::Write;
    use tempfile::TempDir;

    fn touch(path: &Path, contents: &[u8]) {
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).unwrap();
        }
        fs::write(path, contents).unwrap();
    }

    /// `a`, `b`, `_SUCCESS`, `.hidden` and `sub/c` under a fresh directory.
    fn sample_dir() -> TempDir {
        let tmp = tempfile::tempdir().unwrap();
        for name in ["b", "a", "_SUCCESS", ".hidden", "sub/c", "_logs/x", ".git/y"] {
            touch(&tmp.path().join(name), b"x\n");
        }
        tmp
    }

    fn spec(p: &Path) -> String {
        p.to_str().unwrap().to_owned()
    }

    fn files(root: &Path, names: &[&str]) -> Vec<InputSource> {
        names.iter().map(|n| InputSource::File(root.join(n))).collect()
    }

    fn read_lines(src: &InputSource) -> Result<Vec<String>> {
        let mut r = LineReader::new(open_input(src)?, src.display_name());
        let mut out = Vec::new();
        while let Some(l) = r.next_line()? {
            out.push(String::from_utf8(l.bytes.to_vec()).unwrap());
        }
        Ok(out)
    }

    #[test]
    fn directory_non_recursive() {
        let tmp = sample_dir();
        let got = resolve_inputs(&[spec(tmp.path())], false).unwrap();
        assert_eq!(got, files(tmp.path(), &["a", "b"]));
    }

    #[test]
    fn directory_recursive() {
        let tmp = sample_dir();
        let got = resolve_inputs(&[spec(tmp.path())], true).unwrap();
        assert_eq!(got, files(tmp.path(), &["a", "b", "sub/c"]));
    }

    #[test]
    fn explicit_files_are_read_whatever_their_name() {
        let tmp = sample_dir();
        let specs = [
            spec(&tmp.path().join("_SUCCESS")),
            spec(&tmp.path().join("a")),
            spec(&tmp.path().join("a")),
        ];
        let got = resolve_inputs(&specs, false).unwrap();
        assert_eq!(got, files(tmp.path(), &["_SUCCESS", "a", "a"]));
    }

    /// Replaces `empty_directory_gives_no_inputs`: an input that names no
    /// file used to run the job on nothing and print an empty answer.
    #[test]
    fn issue8_directory_without_files_is_an_error() {
        let tmp = tempfile::tempdir().unwrap();
        touch(&tmp.path().join("_SUCCESS"), b"");
        touch(&tmp.path().join(".hidden"), b"x\n");
        for recursive in [false, true] {
            let err = resolve_inputs(&[spec(tmp.path())], recursive).unwrap_err();
            assert!(matches!(err, Error::EmptyInput { .. }), "{err:?}");
            let msg = err.to_string();
            assert!(
                msg.contains(&format!("input directory {} contains no files", tmp.path().display())),
                "{msg}"
            );
        }
        touch(&tmp.path().join("sub/a"), b"x\n");
        let msg = resolve_inputs(&[spec(tmp.path())], false).unwrap_err().to_string();
        assert!(msg.contains("--recursive"), "{msg}");
        assert_eq!(
            resolve_inputs(&[spec(tmp.path())], true).unwrap(),
            files(tmp.path(), &["sub/a"])
        );
    }

    #[test]
    fn glob_matches_sorted_and_filtered() {
        let tmp = tempfile::tempdir().unwrap();
        for name in ["z.txt", "a.txt", "b.log", "_x.txt", ".y.txt", "d.txt/in"] {
            touch(&tmp.path().join(name), b"x\n");
        }
        let pattern = spec(&tmp.path().join("*.txt"));
        let got = resolve_inputs(&[pattern], false).unwrap();
        assert_eq!(got, files(tmp.path(), &["a.txt", "d.txt/in", "z.txt"]));
    }

    #[test]
    fn literal_name_with_glob_characters() {
        let tmp = tempfile::tempdir().unwrap();
        touch(&tmp.path().join("data[1]"), b"x\n");
        let got = resolve_inputs(&[spec(&tmp.path().join("data[1]"))], false).unwrap();
        assert_eq!(got, files(tmp.path(), &["data[1]"]));
    }

    #[test]
    fn missing_file_is_input_not_found() {
        let tmp = tempfile::tempdir().unwrap();
        let missing = tmp.path().join("nope.txt");
        let err = resolve_inputs(&[spec(&missing)], false).unwrap_err();
        assert!(
            matches!(&err, Error::InputNotFound { path } if *path == missing),
            "{err:?}"
        );
        assert!(err.to_string().contains("nope.txt"));
    }

    #[test]
    fn empty_glob_is_input_not_found() {
        let tmp = sample_dir();
        for pattern in ["*.nothing", "_*"] {
            let err = resolve_inputs(&[spec(&tmp.path().join(pattern))], false).unwrap_err();
            assert!(matches!(err, Error::InputNotFound { .. }), "{err:?}");
        }
    }

    #[test]
    fn stdin_at_most_once() {
        let got = resolve_inputs(&["-".to_owned()], false).unwrap();
        assert_eq!(got, vec![InputSource::Stdin]);
        assert_eq!(got[0].display_name(), "-");
        assert_eq!(got[0].path(), None);
        let err = resolve_inputs(&["-".to_owned(), "-".to_owned()], false).unwrap_err();
        assert!(matches!(err, Error::Config(_)), "{err:?}");
    }

    #[cfg(unix)]
    #[test]
    fn symlink_loop_is_an_error_not_a_hang() {
        let tmp = tempfile::tempdir().unwrap();
        touch(&tmp.path().join("d/f"), b"x\n");
        std::os::unix::fs::symlink(tmp.path().join("d"), tmp.path().join("d/loop")).unwrap();
        let err = resolve_inputs(&[spec(&tmp.path().join("d"))], true).unwrap_err();
        assert!(matches!(err, Error::Config(_)), "{err:?}");
        // Without recursion the link is just a skipped subdirectory.
        let got = resolve_inputs(&[spec(&tmp.path().join("d"))], false).unwrap();
        assert_eq!(got, files(tmp.path(), &["d/f"]));
    }

    /// Audit finding 12: a FIFO in an input directory, or matched by a
    /// glob, was read, and opening one with no writer hangs the job.
    #[cfg(unix)]
    #[test]
    fn issue27_fifo_in_a_directory_or_glob_is_skipped_unless_named() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("in");
        touch(&dir.join("a"), b"x\n");
        let made = std::process::Command::new("mkfifo")
            .arg(dir.join("p"))
            .status()
            .unwrap();
        assert!(made.success());
        for recursive in [false, true] {
            assert_eq!(resolve_inputs(&[spec(&dir)], recursive).unwrap(), files(&dir, &["a"]));
            assert_eq!(
                resolve_inputs(&[spec(&dir.join("*"))], recursive).unwrap(),
                files(&dir, &["a"])
            );
        }
        let err = resolve_inputs(&[spec(&dir.join("p*"))], false).unwrap_err();
        assert!(matches!(err, Error::Config(_)), "{err:?}");
        assert!(err.to_string().contains("read only when named outright"), "{err}");
        assert_eq!(
            resolve_inputs(&[spec(&dir.join("p"))], false).unwrap(),
            files(&dir, &["p"]),
            "a FIFO named outright is read"
        );
        fs::remove_file(dir.join("a")).unwrap();
        let err = resolve_inputs(&[spec(&dir)], false).unwrap_err();
        assert!(err.to_string().contains("holds no regular file, only 1 FIFO"), "{err}");
    }

    #[test]
    fn plain_file_reads_as_is() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("x.txt");
        touch(&path, b"one\ntwo\n");
        assert_eq!(read_lines(&InputSource::File(path)).unwrap(), ["one", "two"]);
    }

    #[test]
    fn concatenated_gzip_reads_every_member() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("x.gz");
        let mut bytes = Vec::new();
        for part in [&b"one\ntwo\n"[..], b"three\nfour"] {
            let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            enc.write_all(part).unwrap();
            bytes.extend(enc.finish().unwrap());
        }
        touch(&path, &bytes);
        assert_eq!(
            read_lines(&InputSource::File(path)).unwrap(),
            ["one", "two", "three", "four"]
        );
    }

    #[test]
    fn multi_stream_bz2_reads_every_stream() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("x.bz2");
        let mut bytes = Vec::new();
        for part in [&b"one\ntwo\n"[..], b"three\nfour\n"] {
            let mut enc = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::default());
            enc.write_all(part).unwrap();
            bytes.extend(enc.finish().unwrap());
        }
        touch(&path, &bytes);
        assert_eq!(
            read_lines(&InputSource::File(path)).unwrap(),
            ["one", "two", "three", "four"]
        );
    }

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(data).unwrap();
        enc.finish().unwrap()
    }

    /// Reading `bytes` as a file named `name` fails with the name in the
    /// message.
    fn assert_read_fails(name: &str, bytes: &[u8]) {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join(name);
        touch(&path, bytes);
        let err = read_lines(&InputSource::File(path)).unwrap_err();
        assert!(matches!(err, Error::Io { .. }), "{err:?}");
        assert!(err.to_string().contains(name), "{err}");
    }

    #[test]
    fn corrupt_gzip_error_names_the_file() {
        let mut bytes = gzip(b"hello\n")[..10].to_vec();
        bytes.extend_from_slice(b"this is not a deflate stream at all, not at all\n");
        assert_read_fails("corrupt.gz", &bytes);
    }

    #[test]
    fn truncated_gzip_error_names_the_file() {
        let data: Vec<u8> = (0..10_000u32).flat_map(|i| format!("{i}\n").into_bytes()).collect();
        let bytes = gzip(&data);
        assert_read_fails("truncated.gz", &bytes[..bytes.len() / 2]);
    }

    #[test]
    fn truncated_bz2_error_names_the_file() {
        let data: Vec<u8> = (0..10_000u32).flat_map(|i| format!("{i}\n").into_bytes()).collect();
        let mut enc = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::default());
        enc.write_all(&data).unwrap();
        let bytes = enc.finish().unwrap();
        assert_read_fails("truncated.bz2", &bytes[..bytes.len() / 2]);
    }

    #[test]
    fn open_missing_file_names_it() {
        let err = open_input(&InputSource::File(PathBuf::from("/no/such/file.gz")))
            .err()
            .unwrap();
        assert!(err.to_string().contains("/no/such/file.gz"), "{err}");
    }
}
