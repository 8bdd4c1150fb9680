//! What the machine lets a job use, and the engine settings sized from it.
//!
//! This module owns reading the process's limits ([`Limits::current`]: the
//! open-file limit, raised to its hard limit first; the address-space
//! limit; the cgroup memory limit; `MemAvailable`) and turning them into
//! the sort buffer per task, the merge fan-in and the merge read buffer
//! ([`plan`], a pure function, so tests give it made-up limits). A default
//! is sized to fit, never below a floor (a warning says when the limits
//! leave less); an explicit `--sort-buffer` or `--merge-fan-in` that
//! cannot fit is an error before any work, not an abort halfway through.

use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};

use crate::error::{Error, Result};
use crate::runner::RunConfig;

/// The process's limits, as far as they are known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limits {
    /// The soft `RLIMIT_NOFILE`.
    pub open_files: u64,
    /// File descriptors open now (they count against the limit).
    pub open_now: u64,
    /// The soft `RLIMIT_AS` (`ulimit -v`), if there is one.
    pub address_space: Option<u64>,
    /// Address space mapped now (`VmSize`: the binary, libraries, stacks).
    pub mapped_now: u64,
    /// The cgroup's memory limit less its current usage, if limited.
    pub cgroup: Option<u64>,
    /// The kernel's estimate of memory available without swapping.
    pub available: Option<u64>,
}

/// The engine's memory and file settings for one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Budget {
    /// Sort buffer bytes per map task.
    pub sort_buffer: u64,
    /// Segments merged at once.
    pub fan_in: usize,
    /// Read buffer per merged segment.
    pub read_buffer: usize,
}

/// The default sort buffer, when memory allows it.
pub(crate) const DEFAULT_SORT_BUFFER: u64 = super::DEFAULT_SORT_BUFFER;
/// The smallest default sort buffer, however tight memory is: below this
/// a task spends its time spilling.
const MIN_DEFAULT_SORT_BUFFER: u64 = 1 << 20;
const _: () = assert!(MIN_DEFAULT_SORT_BUFFER >= super::MIN_SORT_BUFFER);
/// A merged segment's read buffer: at least one block (a block is always
/// read whole), at most what stops paying off.
const MIN_READ_BUFFER: usize = 64 << 10;
const MAX_READ_BUFFER: usize = 128 << 10;
/// Merges get at least this much memory whatever the sort buffer, so
/// that the fan-in never shrinks below 16 for memory (the sort buffer is
/// not in use while a reduce task merges).
const MIN_MERGE_MEMORY: u64 = 16 * MIN_READ_BUFFER as u64;
const MAX_FAN_IN: usize = 512;
/// The fan-in we try not to go below; with a lower one the open-file limit
/// is what decides, and under 2 the job cannot run.
const PREFERRED_FAN_IN: usize = 16;
/// Files a task has open besides its merge's segments: its input or
/// output, the run being written, a spill in progress, and slack.
const TASK_FILES: u64 = 4;
/// Descriptors kept free for the rest of the process (stdio, the
/// progress bar, the directory walks of the committer).
const SPARE_FILES: u64 = 16;
/// Per worker, besides its buffers: two thread stacks (the task's and its
/// spill thread's, 2 MiB each) and the writers' and readers' own buffers.
const WORKER_OVERHEAD: u64 = 6 << 20;
/// Address space beyond the buffers: the allocator's arenas (capped at
/// two by [`Limits::current`] under an address-space limit, one reserving
/// 64 MiB), and the job's own allocations (user code, hash tables,
/// decoders).
const ADDRESS_SPACE_HEADROOM: u64 = 160 << 20;

impl Limits {
    /// Reads the process's limits, first raising the soft open-file limit
    /// to the hard one (a merge is faster with more files open at once)
    /// and, under an address-space limit, capping glibc's malloc arenas
    /// (each thread's arena reserves 64 MiB of address space, which would
    /// otherwise eat an `ulimit -v` budget before any buffer does).
    pub(crate) fn current() -> Limits {
        let open_files = raise_open_file_limit();
        let address_space = soft_limit(Resource::As);
        if address_space.is_some() {
            cap_malloc_arenas();
        }
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        Limits {
            open_files,
            open_now: std::fs::read_dir("/proc/self/fd").map_or(8, |d| d.count() as u64),
            address_space,
            mapped_now: kib_field(&status, "VmSize:").unwrap_or(64 << 20),
            cgroup: cgroup_room(),
            available: kib_field(&meminfo, "MemAvailable:"),
        }
    }
}

/// Sizes the sort buffer, fan-in and read buffer for `config` within
/// `limits`; fails if an explicit setting cannot fit.
pub(crate) fn plan(config: &RunConfig, limits: &Limits) -> Result<Budget> {
    let workers = config.workers.max(1) as u64;
    // Memory the buffers of all workers may take together.
    let hard_room = [
        limits
            .address_space
            .map(|a| a.saturating_sub(limits.mapped_now + ADDRESS_SPACE_HEADROOM)),
        limits.cgroup.map(|c| c / 4 * 3),
    ]
    .into_iter()
    .flatten()
    .min();
    // MemAvailable is shared with everyone else: take at most half.
    let soft_room = [hard_room, limits.available.map(|a| a / 2)].into_iter().flatten().min();
    let per_worker = |room: u64| (room / workers).saturating_sub(WORKER_OVERHEAD);
    // A worker holds its sort buffer and, while merging, its read buffers.
    let needs = |sort: u64| sort + sort.max(MIN_MERGE_MEMORY);
    // Which limit `hard_room` comes from, as a message says it.
    let what = || match limits.address_space {
        Some(a) if hard_room == Some(a.saturating_sub(limits.mapped_now + ADDRESS_SPACE_HEADROOM)) => {
            format!("the address-space limit (ulimit -v) is {}", mib(a))
        }
        _ => format!("the cgroup's free memory is {}", mib(limits.cgroup.unwrap_or(0))),
    };
    let sort_buffer = match config.sort_buffer_given {
        // Not given: the configured value is a ceiling, lowered to fit,
        // but never below the floor: a smaller buffer spills a few records
        // at a time.
        false => {
            let fit = soft_room.map_or(DEFAULT_SORT_BUFFER, |r| per_worker(r) / 2);
            let sort = fit.max(MIN_DEFAULT_SORT_BUFFER).min(config.sort_buffer);
            if let Some(room) = hard_room
                && needs(sort) > per_worker(room)
            {
                // Said, not refused: the estimate is generous, and such a
                // run often fits.
                crate::io::warn::once(format!(
                    "{} leaves less than the smallest sort buffer ({}) for each of {workers} workers: \
                     running with it, which may run out of memory; lower --workers or raise the limit",
                    what(),
                    mib(sort)
                ));
            }
            sort
        }
        true => {
            let sort = config.sort_buffer;
            if let Some(room) = hard_room
                && needs(sort) > per_worker(room)
            {
                let what = what();
                return Err(Error::Config(format!(
                    "--sort-buffer {} × {workers} workers needs about {} (sort and merge buffers, thread stacks, \
                     and {} for the rest of the process) but {what}; lower --sort-buffer or --workers",
                    mib(sort),
                    mib(workers * (needs(sort) + WORKER_OVERHEAD) + ADDRESS_SPACE_HEADROOM + limits.mapped_now),
                    mib(ADDRESS_SPACE_HEADROOM + limits.mapped_now),
                )));
            }
            sort
        }
    };
    let merge_memory = sort_buffer.max(MIN_MERGE_MEMORY);
    let free_files = limits.open_files.saturating_sub(limits.open_now + SPARE_FILES) / workers;
    let files_fan_in = free_files.saturating_sub(TASK_FILES) as usize;
    let fan_in = match config.merge_fan_in {
        Some(f) => {
            if f > files_fan_in {
                return Err(Error::Config(format!(
                    "--merge-fan-in {f} × {workers} workers needs about {} open files, but the open-file limit \
                     (ulimit -n) is {} with {} open; lower --merge-fan-in or --workers",
                    (f as u64 + TASK_FILES) * workers + limits.open_now + SPARE_FILES,
                    limits.open_files,
                    limits.open_now
                )));
            }
            f
        }
        None => {
            let memory_fan_in = (merge_memory / MIN_READ_BUFFER as u64) as usize;
            let fan_in = memory_fan_in.clamp(PREFERRED_FAN_IN, MAX_FAN_IN).min(files_fan_in);
            if fan_in < 2 {
                return Err(Error::Config(format!(
                    "the open-file limit (ulimit -n) is {} with {} open: too low for {workers} workers, each of \
                     which merges at least 2 files at once with {TASK_FILES} more open; raise ulimit -n or lower --workers",
                    limits.open_files, limits.open_now
                )));
            }
            fan_in
        }
    };
    let read_buffer = usize::try_from(merge_memory / fan_in as u64)
        .unwrap_or(MAX_READ_BUFFER)
        .clamp(MIN_READ_BUFFER, MAX_READ_BUFFER);
    Ok(Budget {
        sort_buffer,
        fan_in,
        read_buffer,
    })
}

fn mib(bytes: u64) -> String {
    format!("{} MiB", bytes.div_ceil(1 << 20))
}

/// A `/proc` field given in kB, in bytes.
fn kib_field(text: &str, name: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with(name))?;
    let kib: u64 = line[name.len()..].split_whitespace().next()?.parse().ok()?;
    Some(kib * 1024)
}

/// The cgroup's memory limit less what it uses now (v2, then v1).
fn cgroup_room() -> Option<u64> {
    let read = |p: &str| std::fs::read_to_string(p).ok()?.trim().parse::<u64>().ok();
    let (limit, used) = match read("/sys/fs/cgroup/memory.max") {
        Some(limit) => (limit, read("/sys/fs/cgroup/memory.current")),
        // v1 says "no limit" with a huge number.
        None => (
            read("/sys/fs/cgroup/memory/memory.limit_in_bytes").filter(|&l| l < 1 << 60)?,
            read("/sys/fs/cgroup/memory/memory.usage_in_bytes"),
        ),
    };
    Some(limit.saturating_sub(used.unwrap_or(0)))
}

fn soft_limit(resource: Resource) -> Option<u64> {
    getrlimit(resource).current
}

/// Raises the soft open-file limit to the hard one; returns the soft
/// limit in force afterwards.
fn raise_open_file_limit() -> u64 {
    let limit = getrlimit(Resource::Nofile);
    if limit.current < limit.maximum || (limit.current.is_some() && limit.maximum.is_none()) {
        let raised = Rlimit {
            current: limit.maximum,
            maximum: limit.maximum,
        };
        if setrlimit(Resource::Nofile, raised).is_ok() {
            return limit.maximum.unwrap_or(u64::MAX);
        }
    }
    limit.current.unwrap_or(u64::MAX)
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)] // one FFI call, see SAFETY
fn cap_malloc_arenas() {
    // SAFETY: mallopt only sets a malloc tunable; M_ARENA_MAX is read when
    // a thread first needs an arena.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn cap_malloc_arenas() {}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1 << 20;

    fn roomy() -> Limits {
        Limits {
            open_files: 1 << 20,
            open_now: 5,
            address_space: None,
            mapped_now: 30 * MIB,
            cgroup: None,
            available: Some(64 << 30),
        }
    }

    fn config(workers: usize, sort_buffer: Option<u64>) -> RunConfig {
        let mut c = RunConfig {
            workers,
            ..RunConfig::default()
        };
        if let Some(s) = sort_buffer {
            c.sort_buffer = s;
            c.sort_buffer_given = true;
        }
        c
    }

    #[test]
    fn issue8_budget_fits_defaults_to_the_memory_limits() {
        // Plenty of everything: the documented defaults.
        let b = plan(&config(4, None), &roomy()).unwrap();
        assert_eq!(b.sort_buffer, DEFAULT_SORT_BUFFER);
        assert_eq!(b.fan_in, MAX_FAN_IN);
        assert_eq!(b.read_buffer, MAX_READ_BUFFER);

        // ulimit -v 512000 with 4 workers: the default shrinks so that
        // every worker's buffers, stacks and the headroom fit.
        let tight = Limits {
            address_space: Some(512_000 * 1024),
            ..roomy()
        };
        let b = plan(&config(4, None), &tight).unwrap();
        let used = 4 * (2 * b.sort_buffer + WORKER_OVERHEAD) + ADDRESS_SPACE_HEADROOM + tight.mapped_now;
        assert!(used <= 512_000 * 1024, "{b:?} needs {used}");
        assert!(
            b.sort_buffer >= 16 * MIB && b.sort_buffer < DEFAULT_SORT_BUFFER,
            "{b:?}"
        );

        // A cgroup limit and little available memory both count.
        let cg = Limits {
            cgroup: Some(256 * MIB),
            ..roomy()
        };
        assert!(plan(&config(2, None), &cg).unwrap().sort_buffer <= 256 * MIB / 4 * 3 / 4);
        let low = Limits {
            available: Some(100 * MIB),
            ..roomy()
        };
        assert!(plan(&config(2, None), &low).unwrap().sort_buffer <= 50 * MIB / 4);
        // Memory so tight that the floor applies: the default still runs.
        let tiny = Limits {
            available: Some(8 * MIB),
            ..roomy()
        };
        assert_eq!(
            plan(&config(2, None), &tiny).unwrap().sort_buffer,
            MIN_DEFAULT_SORT_BUFFER
        );
    }

    #[test]
    fn issue8_an_explicit_sort_buffer_that_cannot_fit_is_a_clear_error() {
        let tight = Limits {
            address_space: Some(512_000 * 1024),
            ..roomy()
        };
        let e = plan(&config(4, Some(64 * MIB)), &tight).unwrap_err().to_string();
        assert!(
            e.contains("--sort-buffer 64 MiB × 4 workers") && e.contains("address-space limit (ulimit -v) is 500 MiB"),
            "{e}"
        );
        // One that fits is kept as given, even below the default floor.
        assert_eq!(plan(&config(4, Some(16 * MIB)), &tight).unwrap().sort_buffer, 16 * MIB);
        assert_eq!(plan(&config(4, Some(1024)), &tight).unwrap().sort_buffer, 1024);
        let cg = Limits {
            cgroup: Some(100 * MIB),
            ..roomy()
        };
        let e = plan(&config(2, Some(64 * MIB)), &cg).unwrap_err().to_string();
        assert!(e.contains("cgroup"), "{e}");
    }

    #[test]
    fn issue8_fan_in_stays_wide_with_a_small_sort_buffer_or_few_files() {
        // A 256K sort buffer used to mean fan-in 2; now the read buffers
        // shrink instead (to one block), and the fan-in stays at 16.
        let b = plan(&config(1, Some(256 << 10)), &roomy()).unwrap();
        assert_eq!((b.fan_in, b.read_buffer), (16, MIN_READ_BUFFER));
        // ulimit -n 64 with 2 workers: what fits, not 2.
        let few = Limits {
            open_files: 64,
            ..roomy()
        };
        let b = plan(&config(2, None), &few).unwrap();
        assert_eq!(b.fan_in, (64 - 5 - 16) / 2 - 4);
        assert!(b.fan_in >= 8);
        // Too few for the workers: a clear error, not a fan-in of 1.
        let e = plan(&config(32, None), &few).unwrap_err().to_string();
        assert!(e.contains("open-file limit (ulimit -n) is 64"), "{e}");
        let mut c = config(2, None);
        c.merge_fan_in = Some(100);
        let e = plan(&c, &few).unwrap_err().to_string();
        assert!(e.contains("--merge-fan-in 100 × 2 workers"), "{e}");
        c.merge_fan_in = Some(8);
        assert_eq!(plan(&c, &few).unwrap().fan_in, 8);
    }

    #[test]
    fn limits_of_this_process_are_read() {
        let l = Limits::current();
        assert!(l.open_files >= l.open_now && l.open_now > 0, "{l:?}");
        assert!(l.mapped_now > 0);
    }
}
