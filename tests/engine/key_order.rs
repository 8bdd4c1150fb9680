//! Issue 27: keys sort as their type's `Ord` says, or the job fails.
//! `Reverse` keys (alone and as fields) sort descending on every
//! in-process runner; a key type with a hand-written `Ord` that the
//! shuffle cannot reproduce fails the job naming the type and two keys,
//! with no output directory.

use std::cmp::{Ordering, Reverse};

use mapreduce::Error;
use mapreduce::prelude::*;
use mapreduce::runner::RunnerKind;
use serde::{Deserialize, Serialize};

use crate::{Inputs, run};

/// Emits each line's number (its first field) under a key made by `K`.
struct Numbers<K>(fn(u64) -> K);

impl<K> Clone for Numbers<K> {
    fn clone(&self) -> Self {
        Numbers(self.0)
    }
}

impl<K: Key> Mapper for Numbers<K> {
    type Input = TextLine;
    type Key = K;
    type Value = u64;

    fn map(&mut self, line: Line<'_>, out: &mut Emitter<'_, K, u64>) -> TaskResult {
        let n: u64 = line.text.trim().parse()?;
        out.emit((self.0)(n), n);
        Ok(())
    }
}

/// Writes each group's values' sum under its key.
struct Total<K>(std::marker::PhantomData<fn() -> K>);

impl<K> Clone for Total<K> {
    fn clone(&self) -> Self {
        Total(std::marker::PhantomData)
    }
}

impl<K: Key + Clone> Reducer for Total<K> {
    type Key = K;
    type Value = u64;
    type OutKey = K;
    type OutValue = u64;

    fn reduce(&mut self, key: &K, values: Values<'_, u64>, out: &mut Emitter<'_, K, u64>) -> TaskResult {
        out.emit(key.clone(), values.sum());
        Ok(())
    }
}

fn job<K: Key + Clone>(make: fn(u64) -> K) -> impl AnyJob {
    Job::new(
        "numbers",
        step::map(Numbers(make)).reduce(Total(std::marker::PhantomData)),
    )
}

fn input() -> Inputs {
    let text: String = [5u64, 17, 3, 17, 250, 0, 42, 3, 1000, 9]
        .iter()
        .map(|n| format!("{n}\n"))
        .collect();
    Inputs::new(&[text.as_bytes()])
}

fn configs(inputs: &Inputs) -> Vec<(&'static str, mapreduce::RunConfig)> {
    let mut local = inputs.config();
    local.workers = 2;
    // Several map tasks and spills, so the merge orders the keys.
    local.block_size = 8;
    local.min_split_size = 1;
    let mut inline = inputs.config();
    inline.runner = RunnerKind::Inline;
    vec![("local", local), ("inline", inline)]
}

#[test]
fn issue27_reverse_u64_keys_come_out_descending_on_every_in_process_runner() {
    let inputs = input();
    let mut outputs = Vec::new();
    for (name, config) in configs(&inputs) {
        let (out, _) = run(&job(Reverse), &config).unwrap();
        let keys: Vec<u64> = out
            .lines()
            .map(|l| l.split('\t').next().unwrap().parse().unwrap())
            .collect();
        assert_eq!(keys, [1000, 250, 42, 17, 9, 5, 3, 0], "{name}: {out}");
        outputs.push(out);
    }
    assert_eq!(outputs[0], outputs[1]);
}

#[test]
fn issue27_a_reverse_field_sorts_its_field_descending_and_the_rest_ascending() {
    let inputs = input();
    for (name, config) in configs(&inputs) {
        let (out, _) = run(&job(|n| (Reverse(n % 2), n)), &config).unwrap();
        let keys: Vec<&str> = out.lines().map(|l| l.split('\t').next().unwrap()).collect();
        // Odd numbers first (parity descending), each parity ascending.
        assert_eq!(
            keys,
            [
                "[1, 3]",
                "[1, 5]",
                "[1, 9]",
                "[1, 17]",
                "[0, 0]",
                "[0, 42]",
                "[0, 250]",
                "[0, 1000]"
            ],
            "{name}"
        );
    }
}

/// Sorted backwards by a hand-written `Ord`: what a user might write for
/// "descending" instead of `Reverse`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Descending(u64);

impl PartialOrd for Descending {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Descending {
    fn cmp(&self, other: &Self) -> Ordering {
        other.0.cmp(&self.0)
    }
}

#[test]
fn issue27_a_hand_written_ord_fails_the_job_with_no_output_directory() {
    let inputs = input();
    for (name, mut config) in configs(&inputs) {
        let out_dir = inputs.dir.path().join(format!("out-{name}"));
        config.output = Some(out_dir.clone());
        let err = run(&job(Descending), &config).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("Descending"), "{name}: {text}");
        assert!(text.contains("came before key"), "{name}: {text}");
        assert!(text.contains("Reverse"), "{name}: the fix is named: {text}");
        assert!(!err.is_retryable(), "{name}: a broken contract is not retried");
        assert!(matches!(err, Error::Task { .. }), "{name}: {err:?}");
        assert!(!out_dir.exists(), "{name}: no output directory");
        let siblings: Vec<_> = std::fs::read_dir(inputs.dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with('.'))
            .collect();
        assert!(siblings.is_empty(), "{name}: {siblings:?}");
    }
}
