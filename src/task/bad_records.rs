//! The job's budget of malformed records (`--skip-bad-records`), shared by
//! every map task of every step, and the error when it runs out.

use std::sync::atomic::{AtomicU64, Ordering};

use super::StepId;
use crate::error::{BoxError, Error, Location};

/// How many bad records the job may skip, and how many it has.
pub(crate) struct BadRecords {
    budget: u64,
    skipped: AtomicU64,
}

impl BadRecords {
    pub(crate) fn new(budget: u64) -> Self {
        BadRecords {
            budget,
            skipped: AtomicU64::new(0),
        }
    }

    /// One task attempt's share: what it skips is given back if the
    /// attempt fails, so a retry counts its own skips again.
    pub(crate) fn attempt(&self) -> AttemptSkips<'_> {
        AttemptSkips { shared: self, mine: 0 }
    }

    /// The error for a bad record the budget cannot take.
    pub(crate) fn error(&self, step: StepId, location: Location, source: BoxError) -> Error {
        if self.budget == 0 {
            Error::BadRecord {
                step: step.index + 1,
                location,
                source,
            }
        } else {
            Error::TooManyBadRecords {
                step: step.index + 1,
                skipped: self.budget,
                budget: self.budget,
                location,
                source,
            }
        }
    }
}

/// The bad records one attempt skipped.
pub(crate) struct AttemptSkips<'a> {
    shared: &'a BadRecords,
    mine: u64,
}

impl AttemptSkips<'_> {
    /// Takes one bad record out of the budget; false when none is left.
    pub(crate) fn skip(&mut self) -> bool {
        let skipped = self.shared.skipped.fetch_add(1, Ordering::Relaxed) + 1;
        if skipped <= self.shared.budget {
            self.mine += 1;
            true
        } else {
            self.shared.skipped.fetch_sub(1, Ordering::Relaxed);
            false
        }
    }

    /// The attempt succeeded: its skips stay counted.
    pub(crate) fn commit(mut self) {
        self.mine = 0;
    }
}

impl Drop for AttemptSkips<'_> {
    fn drop(&mut self) {
        self.shared.skipped.fetch_sub(self.mine, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_attempt_gives_its_skips_back() {
        let bad = BadRecords::new(2);
        let mut a = bad.attempt();
        assert!(a.skip() && a.skip() && !a.skip());
        drop(a);
        let mut b = bad.attempt();
        assert!(b.skip());
        b.commit();
        let mut c = bad.attempt();
        assert!(c.skip() && !c.skip());
    }
}
