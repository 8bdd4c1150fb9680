//! Running a phase's tasks on a pool of worker threads, retrying failed
//! attempts.
//!
//! Workers take the next task index from a shared counter, so tasks start
//! in order and a slow task never holds others back. What is retried is
//! [`Error::is_retryable`]'s one rule: a task attempt that fails in user
//! code (an error or a panic) is retried up to `max_attempts` times, as
//! Hadoop does, after a short backoff ([`backoff`]); errors that a retry
//! cannot fix (I/O, corrupt data, malformed input past the budget,
//! configuration) fail at once. The error reported is the first attempt's
//! (a later one may only be a consequence of it), noting how many attempts
//! failed. The first final failure stops the scheduling of new tasks.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use crate::error::{Error, Result};
use crate::tracker::panic;

thread_local! {
    /// Which of its pool's workers this thread is (0 outside a pool).
    static WORKER: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// The index of the pool worker running the calling task (0 to workers-1),
/// for the task timeline.
pub(crate) fn worker_index() -> usize {
    WORKER.with(std::cell::Cell::get)
}

/// Runs `tasks` tasks with `workers` threads; `run(task, attempt)` runs one
/// attempt (attempts count from 1). Returns the results in task order.
pub(crate) fn run_tasks<T, F>(
    tasks: usize,
    workers: usize,
    max_attempts: u32,
    run: F,
    done: &(dyn Fn() + Sync),
) -> Result<Vec<T>>
where
    T: Send,
    F: Fn(usize, u32) -> Result<T> + Sync,
{
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let results: Mutex<Vec<Option<T>>> = Mutex::new((0..tasks).map(|_| None).collect());
    let failure: Mutex<Option<(usize, Error)>> = Mutex::new(None);
    let worker = |index: usize| {
        WORKER.with(|w| w.set(index));
        while !stop.load(Ordering::Relaxed) {
            let task = next.fetch_add(1, Ordering::Relaxed);
            if task >= tasks {
                break;
            }
            match run_with_retries(task, max_attempts, &run, &stop) {
                Ok(value) => {
                    if let Ok(mut r) = results.lock() {
                        r[task] = Some(value);
                    }
                    done();
                }
                Err(e) => {
                    stop.store(true, Ordering::Relaxed);
                    if let Ok(mut f) = failure.lock() {
                        // Report the earliest task's failure: deterministic
                        // whatever the thread timing.
                        if f.as_ref().is_none_or(|(t, _)| task < *t) {
                            *f = Some((task, e));
                        }
                    }
                }
            }
        }
    };
    let workers = workers.clamp(1, tasks.max(1));
    std::thread::scope(|s| {
        for index in 1..workers {
            let worker = &worker;
            s.spawn(move || worker(index));
        }
        worker(0);
    });
    if let Some((_, e)) = failure.into_inner().ok().flatten() {
        return Err(e);
    }
    let results = results
        .into_inner()
        .map_err(|_| Error::Internal("a worker thread panicked".into()))?;
    results
        .into_iter()
        .map(|r| r.ok_or_else(|| Error::Internal("a task did not run".into())))
        .collect()
}

fn run_with_retries<T, F>(task: usize, max_attempts: u32, run: &F, stop: &AtomicBool) -> Result<T>
where
    F: Fn(usize, u32) -> Result<T> + Sync,
{
    let mut first: Option<Error> = None;
    let mut attempt = 1;
    loop {
        let err = match catch_unwind(AssertUnwindSafe(|| run(task, attempt))) {
            Ok(Ok(value)) => return Ok(value),
            Ok(Err(e)) => e,
            // Panics in user code are caught by the task core, where the
            // task knows its step and record; one reaching here is the
            // engine's own.
            Err(payload) => Error::Internal(format!("task {task} panicked: {}", panic::message(payload))),
        };
        let retryable = err.is_retryable();
        let err = first.take().unwrap_or(err);
        if !retryable || attempt >= max_attempts || stop.load(Ordering::Relaxed) {
            return Err(if attempt > 1 {
                with_attempts(err, attempt, max_attempts)
            } else {
                err
            });
        }
        first = Some(err);
        std::thread::sleep(backoff(attempt));
        attempt += 1;
    }
}

/// The pause before retrying after failed attempt `attempt` (from 1):
/// 10 ms doubling, at most 1 s, so that a transient cause can pass
/// without a job that keeps failing waiting long.
pub(crate) fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(10u64 << attempt.saturating_sub(1).min(7)).min(Duration::from_secs(1))
}

/// Notes in a task error how many attempts failed: the error is printed
/// once, the first attempt's, however many attempts saw it.
fn with_attempts(err: Error, attempts: u32, max: u32) -> Error {
    match err {
        Error::Task {
            step,
            steps,
            phase,
            task,
            at,
            source,
        } => Error::Task {
            step,
            steps,
            phase,
            task,
            at,
            source: format!("{source} (attempt 1 of {max}; attempts 1 to {attempts} all failed)").into(),
        },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Phase;

    fn task_error(task: usize) -> Error {
        Error::Task {
            step: 1,
            steps: 1,
            phase: Phase::Map,
            task,
            at: None,
            source: "flaky".into(),
        }
    }

    #[test]
    fn results_in_task_order_and_retries_flaky_tasks() {
        let calls = AtomicUsize::new(0);
        let done = AtomicUsize::new(0);
        let out = run_tasks(
            20,
            3,
            4,
            |task, attempt| {
                calls.fetch_add(1, Ordering::Relaxed);
                // Task 7 fails twice, then succeeds.
                if task == 7 && attempt < 3 {
                    return Err(task_error(task));
                }
                Ok(task * 10)
            },
            &|| {
                done.fetch_add(1, Ordering::Relaxed);
            },
        )
        .unwrap();
        assert_eq!(out, (0..20).map(|t| t * 10).collect::<Vec<_>>());
        assert_eq!(calls.load(Ordering::Relaxed), 22);
        assert_eq!(done.load(Ordering::Relaxed), 20);
    }

    #[test]
    fn issue8_io_errors_fail_at_once_user_errors_retry_and_the_first_error_is_reported() {
        let io_error = |attempt: u32| {
            Error::io(
                format!("attempt-{attempt}/spill-137"),
                std::io::Error::other("disk full"),
            )
        };
        // An I/O error, also one raised by an emit inside user code (boxed
        // in a task error), is not retried.
        for wrap in [false, true] {
            let calls = AtomicUsize::new(0);
            let err = run_tasks(
                1,
                1,
                4,
                |task, attempt| -> Result<()> {
                    calls.fetch_add(1, Ordering::Relaxed);
                    let e = io_error(attempt);
                    Err(if wrap {
                        Error::Task {
                            step: 1,
                            steps: 1,
                            phase: Phase::Reduce,
                            task,
                            at: None,
                            source: Box::new(e),
                        }
                    } else {
                        e
                    })
                },
                &|| {},
            )
            .unwrap_err();
            assert_eq!(calls.load(Ordering::Relaxed), 1, "wrapped: {wrap}");
            assert!(!err.to_string().contains("attempts"), "{err}");
            assert!(err.to_string().contains("attempt-1/spill-137: disk full"), "{err}");
        }
        // A user error is retried, with a backoff; the first attempt's
        // error is the one reported.
        let calls = AtomicUsize::new(0);
        let started = std::time::Instant::now();
        let err = run_tasks(
            1,
            1,
            3,
            |task, attempt| -> Result<()> {
                calls.fetch_add(1, Ordering::Relaxed);
                Err(Error::Task {
                    step: 1,
                    steps: 1,
                    phase: Phase::Map,
                    task,
                    at: None,
                    source: format!("failure of attempt {attempt}").into(),
                })
            },
            &|| {},
        )
        .unwrap_err();
        assert_eq!(calls.load(Ordering::Relaxed), 3);
        assert!(
            err.to_string()
                .ends_with("failure of attempt 1 (attempt 1 of 3; attempts 1 to 3 all failed)"),
            "{err}"
        );
        // Waited between attempts (a lower bound only: never a speed test).
        assert!(started.elapsed() >= backoff(1) + backoff(2));
        assert_eq!(backoff(1), std::time::Duration::from_millis(10));
        assert_eq!(backoff(3), std::time::Duration::from_millis(40));
        assert_eq!(backoff(30), std::time::Duration::from_secs(1));
        let codec = Error::Task {
            step: 1,
            steps: 1,
            phase: Phase::Map,
            task: 0,
            at: None,
            source: Box::new(Error::Codec("cannot encode".into())),
        };
        assert!(!codec.is_retryable());
    }

    #[test]
    fn a_panic_escaping_the_task_core_is_an_internal_error_and_not_retried() {
        let calls = AtomicUsize::new(0);
        let err = run_tasks(
            1,
            1,
            4,
            |_, _| -> Result<()> {
                calls.fetch_add(1, Ordering::Relaxed);
                panic!("engine bug");
            },
            &|| {},
        )
        .unwrap_err();
        assert_eq!(calls.load(Ordering::Relaxed), 1);
        assert!(matches!(&err, Error::Internal(m) if m.contains("engine bug")), "{err}");
    }

    #[test]
    fn gives_up_after_max_attempts_and_does_not_retry_input_errors() {
        let err = run_tasks(5, 2, 4, |t, _| if t == 3 { Err(task_error(t)) } else { Ok(()) }, &|| {}).unwrap_err();
        assert!(err.to_string().contains("attempts 1 to 4 all failed"), "{err}");
        let calls = AtomicUsize::new(0);
        let err = run_tasks(
            1,
            1,
            4,
            |_, _| -> Result<()> {
                calls.fetch_add(1, Ordering::Relaxed);
                Err(Error::Config("bad input".into()))
            },
            &|| {},
        )
        .unwrap_err();
        assert_eq!(calls.load(Ordering::Relaxed), 1);
        assert_eq!(err.to_string(), "bad input");
    }
}
