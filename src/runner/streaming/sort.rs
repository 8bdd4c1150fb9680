//! The shuffle of `-r streaming`: GNU `sort` orders the map outputs'
//! shuffle lines and this process cuts its output into one input per
//! reduce task; and the guard that makes every process the runner starts
//! (tasks and `sort`) die with it.
//!
//! Disk: the map outputs are removed as soon as `sort` starts writing
//! (it has read all of its input by then: its first line could come from
//! the last file), and its output is cut as it streams out rather than
//! kept as a whole sorted file, so the shuffle holds about one copy of the
//! shuffle lines at a time (plus `sort`'s own temporary files, in the job
//! directory, when they exceed its buffer) instead of three.

use std::ffi::OsStr;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::codec::streaming::PartitionFields;
use crate::error::{Error, Result};

/// The file, in the shuffle directory, that lists the map outputs for
/// `sort --files0-from`.
pub(super) const INPUT_LIST: &str = "map-outputs";

/// Makes the process `cmd` starts get SIGKILL when the runner dies, even
/// by SIGKILL, so no task or `sort` is left running and writing into the
/// job directory. The signal is tied to the thread that starts the child,
/// which here waits for it. A runner that died between the fork and the
/// `prctl` would not signal: the child sees it has another parent, and
/// does not start.
#[cfg(target_os = "linux")]
#[allow(unsafe_code)] // one pre_exec hook, see SAFETY
pub(super) fn die_with_runner(cmd: &mut Command) {
    use std::os::unix::process::CommandExt;
    let runner = rustix::process::getpid();
    // SAFETY: the hook runs in the forked child before `exec`, where only
    // async-signal-safe work is allowed. It makes two raw system calls
    // (prctl, getppid) and builds an `io::Error` from an errno code, which
    // neither allocates nor takes a lock; it touches no memory shared with
    // the parent's other threads.
    unsafe {
        cmd.pre_exec(move || {
            rustix::process::set_parent_process_death_signal(Some(rustix::process::Signal::KILL))?;
            if rustix::process::getppid() != Some(runner) {
                return Err(std::io::Error::from_raw_os_error(libc::ESRCH));
            }
            Ok(())
        });
    }
}

/// Elsewhere no such signal exists: children outlive a killed runner.
#[cfg(not(target_os = "linux"))]
pub(super) fn die_with_runner(_cmd: &mut Command) {}

/// The `sort` command over `map_files`, whose paths it reads from the
/// list file `dir/map-outputs` (written here), not from its command line,
/// which past some 30,000 map tasks exceeds the kernel's limit
/// (`Argument list too long`).
///
/// The list's layout is what `--files0-from` reads: each path's bytes,
/// each followed by one NUL byte (a path cannot hold one).
pub(super) fn sort_command(map_files: &[&Path], dir: &Path, buffer: u64, parallel: usize) -> Result<Command> {
    let list = dir.join(INPUT_LIST);
    let mut bytes = Vec::new();
    for path in map_files {
        bytes.extend_from_slice(path.as_os_str().as_encoded_bytes());
        bytes.push(0);
    }
    std::fs::write(&list, bytes).map_err(|e| Error::io(&list, e))?;
    let mut cmd = Command::new("sort");
    cmd.env("LC_ALL", "C")
        .args(["-t", "\t", "-k1,3"])
        .arg(format!("--buffer-size={}", buffer.max(1 << 20)))
        .arg(format!("--parallel={}", parallel.max(1)))
        .arg("-T")
        .arg(dir)
        .arg({
            let mut arg = OsStr::new("--files0-from=").to_os_string();
            arg.push(&list);
            arg
        });
    Ok(cmd)
}

/// Sorts the map outputs' shuffle lines (byte order of their three key
/// fields, as Hadoop compares them) and cuts them into one file per
/// partition in `dir`, by the partition token that starts each line.
/// The map outputs are removed once read.
pub(super) fn sort_and_cut(
    map_files: &[&Path],
    dir: &Path,
    buffer: u64,
    parallel: usize,
    reducers: u32,
) -> Result<Vec<PathBuf>> {
    let paths: Vec<PathBuf> = (0..reducers).map(|r| dir.join(format!("reduce-input-{r}"))).collect();
    let mut parts = paths
        .iter()
        .map(|p| {
            File::create(p)
                .map(|f| BufWriter::with_capacity(1 << 16, f))
                .map_err(|e| Error::io(p, e))
        })
        .collect::<Result<Vec<_>>>()?;
    if map_files.is_empty() {
        // Nothing to sort; `sort --files0-from` refuses an empty list.
        return flush(parts, &paths);
    }
    let mut cmd = sort_command(map_files, dir, buffer, parallel)?;
    cmd.stdin(Stdio::null()).stdout(Stdio::piped());
    die_with_runner(&mut cmd);
    let mut child = cmd.spawn().map_err(|e| Error::io("sort", e))?;
    let cut = cut(&mut child, map_files, &mut parts, &paths, reducers);
    if cut.is_err() {
        // Its output is no longer read: stop it rather than wait.
        let _ = child.kill();
    }
    let status = child.wait().map_err(|e| Error::io("sort", e))?;
    cut?;
    if !status.success() {
        return Err(Error::Internal(format!("sort of the map outputs failed: {status}")));
    }
    flush(parts, &paths)
}

/// Reads `sort`'s output line by line into the partitions' files.
fn cut(
    child: &mut Child,
    map_files: &[&Path],
    parts: &mut [BufWriter<File>],
    paths: &[PathBuf],
    reducers: u32,
) -> Result<()> {
    let name = Path::new("<sort output>");
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| Error::Internal("sort without a standard output".into()))?;
    let mut reader = BufReader::with_capacity(1 << 16, stdout);
    // Its first byte (or the end) comes only once every input is read.
    reader.fill_buf().map_err(|e| Error::io(name, e))?;
    for path in map_files {
        let _ = std::fs::remove_file(path);
    }
    let tokens = PartitionFields::new(reducers);
    let mut line = Vec::new();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line).map_err(|e| Error::io(name, e))? == 0 {
            return Ok(());
        }
        // Where Hadoop's KeyFieldBasedPartitioner sends the line.
        let token = line.split(|&b| b == b'\t').next().unwrap_or_default();
        let partition = tokens.partition_of(token).map_err(|e| Error::Corrupt {
            path: name.to_path_buf(),
            message: e.to_string(),
        })? as usize;
        parts[partition]
            .write_all(&line)
            .map_err(|e| Error::io(&paths[partition], e))?;
    }
}

fn flush(parts: Vec<BufWriter<File>>, paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    for (mut w, path) in parts.into_iter().zip(paths) {
        w.flush().map_err(|e| Error::io(path, e))?;
    }
    Ok(paths.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Audit finding 11 of issue 27: every map output was an argument of
    /// `sort`, and past ~30,000 map tasks the command line is too long.
    #[test]
    fn issue27_sort_reads_its_inputs_from_a_list_not_its_command_line() {
        let tmp = tempfile::tempdir().unwrap();
        // Paths long enough that 10,000 of them pass the usual 2 MiB
        // limit on a command line (as 30,000 map tasks' paths do). Each of
        // 16 files is listed many times: creating 10,000 files takes
        // seconds on some file systems, and `sort` reads a file as often
        // as it is listed.
        let inputs = tmp.path().join(format!("step-0-{}", "x".repeat(220)));
        std::fs::create_dir(&inputs).unwrap();
        let n = 10_000usize;
        let token = String::from_utf8(PartitionFields::new(1).token(0).to_vec()).unwrap();
        let files: Vec<PathBuf> = (0..16).map(|i| inputs.join(format!("map-{i:05}-output"))).collect();
        for (i, p) in files.iter().enumerate() {
            // Partition token, key, no arrival, value: keys in reverse.
            std::fs::write(p, format!("{token}\t{:05}\t\tv\n", 15 - i)).unwrap();
        }
        let paths: Vec<PathBuf> = (0..n).map(|i| files[i % 16].clone()).collect();
        let args_len: usize = paths.iter().map(|p| p.as_os_str().len() + 1).sum();
        assert!(args_len > 2 << 20, "{args_len} bytes of paths");
        let refs: Vec<&Path> = paths.iter().map(PathBuf::as_path).collect();
        let shuffle = tmp.path().join("shuffle");
        std::fs::create_dir(&shuffle).unwrap();
        let cmd = sort_command(&refs, &shuffle, 1 << 20, 1).unwrap();
        let args: Vec<&OsStr> = cmd.get_args().collect();
        assert!(args.len() < 20, "{args:?}");
        let list = shuffle.join(INPUT_LIST);
        let mut expected = OsStr::new("--files0-from=").to_os_string();
        expected.push(&list);
        assert!(args.contains(&expected.as_os_str()), "{args:?}");
        let listed = std::fs::read(&list).unwrap();
        let listed: Vec<PathBuf> = listed
            .split(|&b| b == 0)
            .filter(|p| !p.is_empty())
            .map(|p| PathBuf::from(std::str::from_utf8(p).unwrap()))
            .collect();
        assert_eq!(listed, paths);

        let parts = sort_and_cut(&refs, &shuffle, 1 << 20, 1, 1).unwrap();
        let sorted = std::fs::read_to_string(&parts[0]).unwrap();
        let lines: Vec<&str> = sorted.lines().collect();
        assert_eq!(lines.len(), n);
        assert!(lines.is_sorted(), "sorted");
        assert_eq!(lines[0], format!("{token}\t00000\t\tv"));
        assert!(files.iter().all(|p| !p.exists()), "map outputs removed once read");
    }

    #[test]
    fn no_map_output_gives_empty_reduce_inputs() {
        let tmp = tempfile::tempdir().unwrap();
        let parts = sort_and_cut(&[], tmp.path(), 1 << 20, 1, 3).unwrap();
        assert_eq!(parts.len(), 3);
        assert!(parts.iter().all(|p| std::fs::read(p).unwrap().is_empty()));
    }
}
