//! Jobs parts several test modules share.

use std::sync::atomic::{AtomicUsize, Ordering};

use mapreduce::prelude::*;
use serde::{Deserialize, Deserializer, Serialize};

/// Emits `(word, 1)` per whitespace-separated word.
#[derive(Clone)]
pub struct Words;

impl Mapper for Words {
    type Input = TextLine;
    type Key = String;
    type Value = u64;

    fn map(&mut self, line: Line<'_>, out: &mut Emitter<'_, String, u64>) -> TaskResult {
        for w in line.text.split_whitespace() {
            out.emit_ref(w, &1);
        }
        Ok(())
    }
}

/// Sums each key's counts.
#[derive(Clone)]
pub struct Sum;

impl Reducer for Sum {
    type Key = String;
    type Value = u64;
    type OutKey = String;
    type OutValue = u64;

    fn reduce(&mut self, k: &String, v: Values<'_, u64>, out: &mut Emitter<'_, String, u64>) -> TaskResult {
        out.emit(k.clone(), v.sum());
        Ok(())
    }
}

/// Decoded values alive now and at most, per counter `C` (one per test,
/// so that tests running at once do not add up).
pub static LIVE: [AtomicUsize; 2] = [AtomicUsize::new(0), AtomicUsize::new(0)];
pub static PEAK: [AtomicUsize; 2] = [AtomicUsize::new(0), AtomicUsize::new(0)];

/// A value that counts its decoded copies alive in counter `C`: what
/// proves that values stream instead of being collected.
pub struct Tracked<const C: usize>(pub u32, pub bool);

impl<const C: usize> Tracked<C> {
    /// A value to emit (not counted: only decoded copies are).
    pub fn new(v: u32) -> Self {
        Tracked(v, false)
    }

    /// The most decoded copies alive at once so far.
    pub fn peak() -> usize {
        PEAK[C].load(Ordering::Relaxed)
    }
}

impl<const C: usize> Serialize for Tracked<C> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl<'de, const C: usize> Deserialize<'de> for Tracked<C> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = u32::deserialize(d)?;
        let live = LIVE[C].fetch_add(1, Ordering::Relaxed) + 1;
        PEAK[C].fetch_max(live, Ordering::Relaxed);
        Ok(Tracked(v, true))
    }
}

impl<const C: usize> Drop for Tracked<C> {
    fn drop(&mut self) {
        if self.1 {
            LIVE[C].fetch_sub(1, Ordering::Relaxed);
        }
    }
}
