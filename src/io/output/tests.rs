use super::*;
use std::panic::AssertUnwindSafe;

/// Names in `dir`, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    v.sort();
    v
}

/// A committed output at `dest` whose one part holds `text`.
fn write_output(dest: &Path, text: &str, overwrite: bool, temp: &Path) {
    let out = OutputDir::create(Some(dest), overwrite, temp, &[]).unwrap();
    let mut p = out.part(0).unwrap();
    p.write_all(text.as_bytes()).unwrap();
    p.finish().unwrap();
    out.commit(&mut io::sink()).unwrap();
}

fn refused_reason(err: Error) -> String {
    match err {
        Error::OutputRefused { reason, .. } => reason,
        other => panic!("expected OutputRefused, got {other:?}"),
    }
}

#[test]
fn commit_renames_into_place_with_success_and_refuses_existing() {
    let tmp = tempfile::tempdir().unwrap();
    let dest = tmp.path().join("out");
    let out = OutputDir::create(Some(&dest), false, tmp.path(), &[]).unwrap();
    let mut p = out.part(0).unwrap();
    p.write_all(b"x\n").unwrap();
    assert_eq!(p.finish().unwrap(), 2);
    assert!(!dest.exists(), "nothing is visible before commit");
    out.commit(&mut io::sink()).unwrap();
    assert_eq!(fs::read(dest.join("part-00000")).unwrap(), b"x\n");
    assert!(dest.join("_SUCCESS").exists());
    assert!(matches!(
        OutputDir::create(Some(&dest), false, tmp.path(), &[]),
        Err(Error::OutputExists { .. })
    ));
    let again = OutputDir::create(Some(&dest), true, tmp.path(), &[]).unwrap();
    drop(again);
    assert!(
        dest.join("_SUCCESS").exists(),
        "an uncommitted overwrite keeps the old output"
    );
    assert_eq!(names(tmp.path()), ["out"], "no staging or lock left behind");
}

#[test]
fn stale_staging_of_dead_process_is_removed() {
    let tmp = tempfile::tempdir().unwrap();
    // PIDs are below 2^22 on Linux, so this one is never alive.
    let stale = tmp.path().join(".out.mr-staging-99999999");
    fs::create_dir(&stale).unwrap();
    let dest = tmp.path().join("out");
    let out = OutputDir::create(Some(&dest), false, tmp.path(), &[]).unwrap();
    assert!(!stale.exists());
    drop(out);
}

#[test]
fn issue8_overwrite_refuses_a_directory_holding_foreign_files() {
    let tmp = tempfile::tempdir().unwrap();
    let dest = tmp.path().join("precious");
    fs::create_dir_all(dest.join("chapters")).unwrap();
    fs::write(dest.join("thesis.txt"), b"years of work").unwrap();
    fs::write(dest.join("part-00000"), b"looks like ours").unwrap();
    let err = OutputDir::create(Some(&dest), true, tmp.path(), &[]).err().unwrap();
    let reason = refused_reason(err);
    assert!(
        reason.contains("thesis.txt") && reason.contains("chapters/"),
        "{reason}"
    );
    assert_eq!(names(&dest), ["chapters", "part-00000", "thesis.txt"]);
    assert_eq!(fs::read(dest.join("thesis.txt")).unwrap(), b"years of work");
    assert_eq!(names(tmp.path()), ["precious"], "no lock or staging left");
}

#[test]
fn issue8_overwrite_refuses_when_an_input_lies_inside_the_output() {
    let tmp = tempfile::tempdir().unwrap();
    let dest = tmp.path().join("p2");
    write_output(&dest, "old\n", false, tmp.path());
    let input = dest.join("part-00000");
    let err = OutputDir::create(Some(&dest), true, tmp.path(), &[&input])
        .err()
        .unwrap();
    assert!(refused_reason(err).contains("part-00000"));
    assert_eq!(fs::read(&input).unwrap(), b"old\n");
}

#[test]
fn issue8_output_path_that_is_a_file_says_so_with_or_without_overwrite() {
    let tmp = tempfile::tempdir().unwrap();
    let dest = tmp.path().join("afile");
    fs::write(&dest, b"keep").unwrap();
    for overwrite in [false, true] {
        let err = OutputDir::create(Some(&dest), overwrite, tmp.path(), &[])
            .err()
            .unwrap();
        let reason = refused_reason(err);
        assert!(reason.contains("is a file, not a directory"), "{reason}");
    }
    assert_eq!(fs::read(&dest).unwrap(), b"keep");
}

#[test]
fn issue8_an_existing_empty_directory_is_taken() {
    let tmp = tempfile::tempdir().unwrap();
    let dest = tmp.path().join("empty");
    fs::create_dir(&dest).unwrap();
    write_output(&dest, "new\n", false, tmp.path());
    assert_eq!(names(&dest), ["_SUCCESS", "part-00000"]);
}

#[test]
fn issue8_dotdot_output_path_is_resolved_once() {
    let tmp = tempfile::tempdir().unwrap();
    let plain = tmp.path().join("s2");
    write_output(&plain, "old\n", false, tmp.path());
    let dotted = tmp.path().join("s2/../s2");
    write_output(&dotted, "new\n", true, tmp.path());
    assert_eq!(fs::read(plain.join("part-00000")).unwrap(), b"new\n");
    assert_eq!(names(tmp.path()), ["s2"]);
}

#[test]
fn issue8_a_second_run_into_the_same_output_fails_at_the_start() {
    let tmp = tempfile::tempdir().unwrap();
    let dest = tmp.path().join("out");
    let first = OutputDir::create(Some(&dest), false, tmp.path(), &[]).unwrap();
    let err = OutputDir::create(Some(&dest), false, tmp.path(), &[]).err().unwrap();
    let reason = refused_reason(err);
    assert!(reason.contains(&format!("process {}", std::process::id())), "{reason}");
    drop(first);
    // A lock left by a run that is gone (nobody holds its flock) is taken
    // over, whatever PID it names.
    let lock = tmp.path().join(".out.mr-lock");
    for stale in ["99999999\n", &format!("{}\n", std::os::unix::process::parent_id())] {
        fs::write(&lock, stale).unwrap();
        write_output(&dest, "x\n", true, tmp.path());
        assert_eq!(names(tmp.path()), ["out"]);
    }
}

#[test]
fn issue8_unwritable_location_is_named_as_given_not_by_the_staging_name() {
    // As root, permissions do not stop a write, but /proc takes no new
    // directories from anyone.
    let dest = Path::new("/proc/mr-test-output");
    let tmp = tempfile::tempdir().unwrap();
    let err = OutputDir::create(Some(dest), false, tmp.path(), &[]).err().unwrap();
    let text = err.to_string();
    assert!(text.contains("/proc/mr-test-output"), "{text}");
    assert!(!text.contains("mr-staging"), "{text}");
}

/// Reads `dir`'s one part, if it is a complete output.
fn complete_part(dir: &Path) -> Option<String> {
    if !dir.join("_SUCCESS").exists() {
        return None;
    }
    fs::read_to_string(dir.join("part-00000")).ok()
}

/// Ends `out` as SIGKILL would: its locks are released (the kernel closes
/// a dead process's files), nothing else runs.
fn kill(mut out: OutputDir) {
    out.held = None;
    if let Some(dest) = out.dest.as_mut() {
        dest.lock_file = None;
    }
    std::mem::forget(out);
}

/// Makes the killed run's leftovers look like a dead process's.
fn as_if_dead(parent: &Path) {
    let me = std::process::id().to_string();
    for name in names(parent) {
        if let Some(stem) = name.strip_suffix(&me) {
            fs::rename(parent.join(&name), parent.join(format!("{stem}99999999"))).unwrap();
        }
    }
    let lock = parent.join(".out.mr-lock");
    if lock.exists() {
        fs::write(lock, "99999999\n").unwrap();
    }
}

#[test]
fn issue8_overwrite_commit_is_atomic_at_every_step() {
    for force_aside in [false, true] {
        let steps: &[CommitStep] = if force_aside {
            &[
                CommitStep::SuccessWritten,
                CommitStep::MovedAside,
                CommitStep::Renamed,
                CommitStep::OldRemoved,
            ]
        } else {
            &[
                CommitStep::SuccessWritten,
                CommitStep::Exchanged,
                CommitStep::OldRemoved,
            ]
        };
        for &kill_at in steps {
            let tmp = tempfile::tempdir().unwrap();
            let dest = tmp.path().join("out");
            write_output(&dest, "old\n", false, tmp.path());
            let mut out = OutputDir::create(Some(&dest), true, tmp.path(), &[]).unwrap();
            if let Some(d) = out.dest.as_mut() {
                d.force_aside = force_aside;
            }
            let mut p = out.part(0).unwrap();
            p.write_all(b"new\n").unwrap();
            p.finish().unwrap();
            // Stop at `kill_at` as SIGKILL would: no unwinding, no Drop.
            let stopped = std::panic::catch_unwind(AssertUnwindSafe(|| {
                let _ = out.commit_observed(&mut io::sink(), &mut |s| {
                    if s == kill_at {
                        std::panic::panic_any(s);
                    }
                });
            }));
            assert!(stopped.is_err(), "{kill_at:?} was reached");
            kill(out);
            let at_path = complete_part(&dest);
            match (force_aside, kill_at) {
                // Between the two renames of the fallback the path is
                // empty; the next run puts the old output back.
                (true, CommitStep::MovedAside) => assert_eq!(at_path, None),
                (_, CommitStep::SuccessWritten) => assert_eq!(at_path.as_deref(), Some("old\n")),
                _ => assert_eq!(at_path.as_deref(), Some("new\n"), "{kill_at:?}"),
            }
            if let Ok(names) = fs::read_dir(&dest).map(|d| d.count()) {
                assert_eq!(names, 2, "{kill_at:?}: only _SUCCESS and the part");
            }
            as_if_dead(tmp.path());
            // The next run into the same path cleans up and keeps a
            // complete output there.
            let next = OutputDir::create(Some(&dest), true, tmp.path(), &[]).unwrap();
            let recovered = complete_part(&dest);
            assert!(
                matches!(recovered.as_deref(), Some("old\n" | "new\n")),
                "{force_aside} {kill_at:?}: {recovered:?}"
            );
            drop(next);
            assert_eq!(names(tmp.path()), ["out"], "{force_aside} {kill_at:?}");
        }
    }
}

#[test]
fn issue8_a_full_output_disk_is_an_io_error_naming_the_part() {
    use crate::api::context::TaskContext;
    use crate::api::emitter::{Emitter, Target};
    use crate::codec::protocol::Protocol;
    use crate::error::Phase;
    use crate::task::StepId;

    let tmp = tempfile::tempdir().unwrap();
    let dest = tmp.path().join("out");
    let out = OutputDir::create(Some(&dest), false, tmp.path(), &[]).unwrap();
    let mut part = out.part(0).unwrap();
    // /dev/full fails every write with ENOSPC: a full disk without root.
    let full = File::options().write(true).open("/dev/full").unwrap();
    part.out = crate::io::direct::DirectWriter::new(full);
    let mut ctx = TaskContext::new(0, 0);
    {
        let target = Target::Text {
            out: &mut part,
            protocol: Protocol::Json,
        };
        let mut emit: Emitter<'_, String, u64> = Emitter::new(target, None, &mut ctx);
        // More than the writer buffers, so the write fails, not a flush.
        for i in 0..200_000 {
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
fn a_part_limit_joins_adjacent_parts_in_order_as_spark_coalesce_groups_them() {
    for (n, k, groups) in [
        (7, 3, vec![vec![0, 1], vec![2, 3], vec![4, 5, 6]]),
        (5, 1, vec![vec![0, 1, 2, 3, 4]]),
        (4, 4, vec![vec![0], vec![1], vec![2], vec![3]]),
        (3, 8, vec![vec![0], vec![1], vec![2]]),
        (10, 4, vec![vec![0, 1], vec![2, 3, 4], vec![5, 6], vec![7, 8, 9]]),
    ] {
        let tmp = tempfile::tempdir().unwrap();
        let dest = tmp.path().join("out");
        let mut out = OutputDir::create(Some(&dest), false, tmp.path(), &[]).unwrap();
        out.set_max_parts(Some(k));
        // Written out of order, as tasks finish; part 1 is empty.
        for i in (0..n).rev() {
            let mut p = out.part(i).unwrap();
            if i != 1 {
                p.write_all(format!("line {i}\nmore {i}\n").as_bytes()).unwrap();
            }
            p.finish().unwrap();
        }
        out.commit(&mut io::sink()).unwrap();
        let mut expected: Vec<String> = (0..groups.len()).map(|g| format!("part-{g:05}")).collect();
        expected.push("_SUCCESS".into());
        expected.sort();
        assert_eq!(names(&dest), expected, "{n} parts, at most {k}");
        for (g, members) in groups.iter().enumerate() {
            let want: String = members
                .iter()
                .filter(|&&i| i != 1)
                .map(|i| format!("line {i}\nmore {i}\n"))
                .collect();
            let got = fs::read_to_string(dest.join(format!("part-{g:05}"))).unwrap();
            assert_eq!(got, want, "{n} parts, at most {k}: part {g}");
        }
    }
}

thread_local! {
    /// Run by [`Dest::lock`] once it has opened the lock file, before it
    /// tries to lock it: where a second run slips in.
    static BEFORE_LOCK: std::cell::RefCell<Option<Box<dyn FnOnce()>>> = const { std::cell::RefCell::new(None) };
}

pub(super) fn before_lock() {
    if let Some(hook) = BEFORE_LOCK.with(|h| h.borrow_mut().take()) {
        hook();
    }
}

/// A part file for `out` holding `text`, finished.
fn part_with(out: &OutputDir, text: &str) {
    let mut p = out.part(0).unwrap();
    p.write_all(text.as_bytes()).unwrap();
    p.finish().unwrap();
}

/// An earlier output, copied in by hand: `_SUCCESS` and one part.
fn copy_in_output(dest: &Path, text: &str) {
    fs::create_dir_all(dest).unwrap();
    fs::write(dest.join("part-00000"), text).unwrap();
    fs::write(dest.join("_SUCCESS"), "").unwrap();
}

#[test]
fn issue27_an_output_that_appears_while_the_job_runs_is_kept_without_overwrite() {
    let tmp = tempfile::tempdir().unwrap();
    let dest = tmp.path().join("out");
    let out = OutputDir::create(Some(&dest), false, tmp.path(), &[]).unwrap();
    part_with(&out, "new\n");
    copy_in_output(&dest, "copied\n");
    let reason = refused_reason(out.commit(&mut io::sink()).unwrap_err());
    assert!(
        reason.contains("appeared") && reason.contains("--overwrite"),
        "{reason}"
    );
    assert_eq!(
        complete_part(&dest).as_deref(),
        Some("copied\n"),
        "nothing of it deleted"
    );
    assert_eq!(names(tmp.path()), ["out"], "no staging or lock left");
    // With --overwrite, an output that appeared is replaced as one that
    // was there at the start would be.
    fs::remove_dir_all(&dest).unwrap();
    let out = OutputDir::create(Some(&dest), true, tmp.path(), &[]).unwrap();
    part_with(&out, "new\n");
    copy_in_output(&dest, "copied\n");
    out.commit(&mut io::sink()).unwrap();
    assert_eq!(complete_part(&dest).as_deref(), Some("new\n"));
}

#[test]
fn issue27_two_runs_taking_a_stale_lock_at_once_exactly_one_proceeds() {
    let tmp = tempfile::tempdir().unwrap();
    let dest = tmp.path().join("out");
    let lock = tmp.path().join(".out.mr-lock");
    // A killed run's lock file: nobody holds its flock.
    fs::write(&lock, "99999999\n").unwrap();
    // B opens the stale lock file; before it decides, A takes it over.
    let a = std::rc::Rc::new(std::cell::RefCell::new(None));
    let a_slot = a.clone();
    let (dest_a, temp) = (dest.clone(), tmp.path().to_path_buf());
    BEFORE_LOCK.with(|h| {
        *h.borrow_mut() = Some(Box::new(move || {
            *a_slot.borrow_mut() = Some(OutputDir::create(Some(&dest_a), false, &temp, &[]).unwrap());
        }))
    });
    let b = OutputDir::create(Some(&dest), false, tmp.path(), &[]);
    let a = a.borrow_mut().take().expect("A claimed inside the hook");
    let reason = refused_reason(b.err().expect("B must not proceed while A holds the lock"));
    assert!(reason.contains("another run"), "{reason}");
    // A's lock is intact: a third run is refused too, and A commits.
    assert!(OutputDir::create(Some(&dest), false, tmp.path(), &[]).is_err());
    part_with(&a, "a\n");
    a.commit(&mut io::sink()).unwrap();
    assert_eq!(complete_part(&dest).as_deref(), Some("a\n"));
    assert_eq!(names(tmp.path()), ["out"]);

    // A ends (removing its lock file) after B opened it: B's lock on the
    // removed file guards nothing, so B takes the path anew and proceeds.
    let (dest_a, temp) = (dest.clone(), tmp.path().to_path_buf());
    BEFORE_LOCK.with(|h| {
        *h.borrow_mut() = Some(Box::new(move || {
            drop(OutputDir::create(Some(&dest_a), true, &temp, &[]).unwrap());
        }))
    });
    let b = OutputDir::create(Some(&dest), true, tmp.path(), &[]).unwrap();
    assert!(
        OutputDir::create(Some(&dest), true, tmp.path(), &[]).is_err(),
        "B holds the lock at the path"
    );
    drop(b);
    assert_eq!(names(tmp.path()), ["out"]);
}

#[test]
fn issue27_liveness_is_the_flock_not_the_pid() {
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let dest = tmp.path().join("out");
    // A run in another PID namespace: its PID is dead here, but it holds
    // the lock file's flock.
    let lock = tmp.path().join(".out.mr-lock");
    fs::write(&lock, "99999999\n").unwrap();
    let other = File::options().read(true).write(true).open(&lock).unwrap();
    assert!(cleanup::try_lock(&other).unwrap());
    let reason = refused_reason(OutputDir::create(Some(&dest), false, tmp.path(), &[]).err().unwrap());
    assert!(reason.contains("process 99999999"), "{reason}");
    assert!(lock.exists(), "a held lock is never removed");
    drop(other);
    // Staging directories of dead PIDs: the one whose lock is held stays.
    let live = tmp.path().join(".out.mr-staging-99999998");
    let dead = tmp.path().join(".out.mr-staging-99999999");
    fs::create_dir(&live).unwrap();
    fs::create_dir(&dead).unwrap();
    let held = File::options()
        .read(true)
        .custom_flags(libc::O_DIRECTORY)
        .open(&live)
        .unwrap();
    assert!(cleanup::try_lock(&held).unwrap());
    let out = OutputDir::create(Some(&dest), false, tmp.path(), &[]).unwrap();
    assert!(live.exists() && !dead.exists());
    drop(out);
    drop(held);
    let out = OutputDir::create(Some(&dest), false, tmp.path(), &[]).unwrap();
    assert!(!live.exists());
    drop(out);
    assert!(names(tmp.path()).is_empty());
}

#[test]
fn issue27_a_255_byte_output_name_gets_short_siblings_and_they_are_recovered() {
    let tmp = tempfile::tempdir().unwrap();
    let long = |c: char| {
        tmp.path()
            .join(format!("{}{}", "é".repeat(100), c.to_string().repeat(55)))
    };
    let (a, b) = (long('a'), long('b'));
    assert_eq!(a.file_name().unwrap().len(), 255);
    write_output(&a, "a\n", false, tmp.path());
    write_output(&b, "b\n", false, tmp.path());
    assert_eq!(complete_part(&a).as_deref(), Some("a\n"));
    // Two long names alike in their first bytes get different siblings.
    let stem = |p: &Path| dest::sibling_stem(p.file_name().unwrap().to_str().unwrap());
    assert_ne!(stem(&a), stem(&b));
    assert!(stem(&a).len() <= 232);
    // A killed run's staging sibling of a long name is found and removed.
    let out = OutputDir::create(Some(&a), true, tmp.path(), &[]).unwrap();
    part_with(&out, "again\n");
    kill(out);
    as_if_dead(tmp.path());
    write_output(&a, "a2\n", true, tmp.path());
    assert_eq!(complete_part(&a).as_deref(), Some("a2\n"));
    let mut want = vec![
        a.file_name().unwrap().to_str().unwrap().to_owned(),
        b.file_name().unwrap().to_str().unwrap().to_owned(),
    ];
    want.sort();
    assert_eq!(names(tmp.path()), want);
}

#[test]
fn issue27_finishing_a_part_syncs_it_and_names_it_when_that_fails() {
    let tmp = tempfile::tempdir().unwrap();
    let dest = tmp.path().join("out");
    let out = OutputDir::create(Some(&dest), false, tmp.path(), &[]).unwrap();
    let mut part = out.part(0).unwrap();
    // A pipe takes the bytes but cannot be synced: a stand-in for a disk
    // whose write-back fails after the writes seemed to succeed.
    let (_reader, writer) = io::pipe().unwrap();
    part.out = DirectWriter::new(File::from(std::os::fd::OwnedFd::from(writer)));
    part.write_all(b"x\n").unwrap();
    match part.finish() {
        Err(Error::Io { path, .. }) => assert_eq!(path, dest.join("part-00000")),
        other => panic!("finish must report the failed sync naming the part: {other:?}"),
    }
}

#[test]
fn issue27_step_output_is_staged_committed_and_covered_by_overwrite() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("steps");
    let write_steps = |overwrite: bool, text: &str| {
        let out = OutputDir::create_steps(&dir, overwrite, &[])?;
        for step in [1, 2] {
            let mut p = out.step_part(step, 0)?;
            p.write_all(text.as_bytes()).unwrap();
            p.finish()?;
        }
        Ok::<_, Error>(out)
    };
    // A failed (or interrupted) run leaves nothing, and the retry runs.
    let failed = write_steps(false, "first\n").unwrap();
    assert!(!dir.exists(), "nothing is visible before the commit");
    drop(failed);
    assert!(names(tmp.path()).is_empty(), "{:?}", names(tmp.path()));
    write_steps(false, "second\n").unwrap().commit(&mut io::sink()).unwrap();
    assert_eq!(names(&dir), ["_SUCCESS", "step-1", "step-2"]);
    assert_eq!(fs::read_to_string(dir.join("step-2/part-00000")).unwrap(), "second\n");
    // A previous step output: refused without --overwrite, replaced with.
    assert!(matches!(write_steps(false, "x\n"), Err(Error::OutputExists { .. })));
    write_steps(true, "third\n").unwrap().commit(&mut io::sink()).unwrap();
    assert_eq!(fs::read_to_string(dir.join("step-1/part-00000")).unwrap(), "third\n");
    assert_eq!(names(tmp.path()), ["steps"]);
    // Anything else in it is never replaced.
    fs::write(dir.join("step-1/notes.txt"), "mine").unwrap();
    let reason = refused_reason(write_steps(true, "x\n").err().unwrap());
    assert!(reason.contains("step-1/notes.txt"), "{reason}");
}
