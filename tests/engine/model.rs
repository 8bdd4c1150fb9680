//! Model tests: random jobs and inputs, run by the engine and by a plain
//! in-memory oracle (`BTreeMap`s), must give the same bytes.

use std::collections::BTreeMap;

use mapreduce::codec::{hash_partition, key};
use mapreduce::prelude::*;
use proptest::prelude::*;

use crate::fixtures::{Sum, Words};
use crate::{Inputs, run};

/// A general (non-associative-form) combiner that sums.
#[derive(Clone)]
struct SumCombiner;

impl Combiner for SumCombiner {
    type Key = String;
    type Value = u64;

    fn combine(&mut self, k: &String, v: Values<'_, u64>, out: &mut Emitter<'_, String, u64>) -> TaskResult {
        out.emit_ref(k, &v.sum());
        Ok(())
    }
}

/// `(count, word)` for the second step.
#[derive(Clone)]
struct CountFirst;

impl Reducer for CountFirst {
    type Key = String;
    type Value = u64;
    type OutKey = u64;
    type OutValue = String;

    fn reduce(&mut self, k: &String, v: Values<'_, u64>, out: &mut Emitter<'_, u64, String>) -> TaskResult {
        out.emit(v.sum(), k.clone());
        Ok(())
    }
}

#[derive(Clone)]
struct Collect;

impl Reducer for Collect {
    type Key = u64;
    type Value = String;
    type OutKey = u64;
    type OutValue = Vec<String>;

    fn reduce(&mut self, k: &u64, v: Values<'_, String>, out: &mut Emitter<'_, u64, Vec<String>>) -> TaskResult {
        out.emit(*k, v.collect());
        Ok(())
    }
}

#[derive(Debug, Clone, Copy)]
enum Combining {
    None,
    General,
    Associative,
}

fn word_count(combining: Combining) -> Job<TextLine, String, u64> {
    let stage = step::map(Words);
    let stage = match combining {
        Combining::None => stage,
        Combining::General => stage.combine(SumCombiner),
        Combining::Associative => stage.combine_with(|a, b| *a += b),
    };
    Job::new("wc-model", stage.reduce(Sum))
}

/// Lines of words from a small vocabulary (so keys repeat), with blank
/// lines and odd whitespace.
fn corpus() -> impl Strategy<Value = Vec<String>> {
    let word = prop_oneof![
        "[a-d]{1,3}",
        Just("Zebra".to_owned()),
        Just("é".to_owned()),
        Just("a\u{0}b".to_owned())
    ];
    let line = prop::collection::vec(word, 0..8).prop_map(|ws| ws.join(" "));
    prop::collection::vec(line, 0..40)
}

/// Splits lines into 1-3 input files.
fn files(lines: &[String], cuts: usize) -> Vec<Vec<u8>> {
    let n = cuts.clamp(1, 3);
    let mut files = vec![Vec::new(); n];
    for (i, l) in lines.iter().enumerate() {
        files[i * n / lines.len().max(1)].extend_from_slice(format!("{l}\n").as_bytes());
    }
    files
}

/// The exact output the engine must produce for per-key results `rows`:
/// each key in partition `xxh3(enc(key)) % reducers`, parts in order, keys
/// in encoded order within a part.
fn expected<K: Key + Clone, V: Value + Clone>(
    rows: &BTreeMap<K, V>,
    reducers: u32,
    line: impl Fn(&K, &V) -> String,
) -> String {
    let mut parts: Vec<Vec<(Vec<u8>, String)>> = vec![Vec::new(); reducers as usize];
    for (k, v) in rows {
        let enc = key::encode(k).unwrap();
        parts[hash_partition(&enc, reducers) as usize].push((enc, line(k, v)));
    }
    parts
        .into_iter()
        .flat_map(|mut p| {
            p.sort();
            p.into_iter().map(|(_, l)| l)
        })
        .collect()
}

fn json(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// One step, any combining, any number of reducers.
    #[test]
    fn word_count_matches_oracle(lines in corpus(), cuts in 1usize..4, reducers in 1u32..5, combining in 0u8..3) {
        let combining = [Combining::None, Combining::General, Combining::Associative][combining as usize];
        let mut oracle: BTreeMap<String, u64> = BTreeMap::new();
        for l in &lines {
            for w in l.split_whitespace() {
                *oracle.entry(w.to_owned()).or_default() += 1;
            }
        }
        let contents = files(&lines, cuts);
        let inputs = Inputs::new(&contents.iter().map(Vec::as_slice).collect::<Vec<_>>());
        let mut config = inputs.config();
        config.reducers = reducers;
        let (out, report) = run(&word_count(combining), &config).unwrap();
        prop_assert_eq!(out, expected(&oracle, reducers, |k, v| {
            // Output JSON escapes non-ASCII as Python does.
            let k = json(k).replace('é', "\\u00e9");
            format!("{k}\t{v}\n")
        }));
        let c = report.counters();
        let words: u64 = oracle.values().sum();
        prop_assert_eq!(c.framework(counters::names::MAP_OUTPUT_RECORDS), words as i64);
        prop_assert_eq!(c.framework(counters::names::MAP_INPUT_RECORDS), lines.len() as i64);
        prop_assert_eq!(c.framework(counters::names::REDUCE_INPUT_GROUPS), oracle.len() as i64);
        prop_assert_eq!(c.framework(counters::names::REDUCE_OUTPUT_RECORDS), oracle.len() as i64);
        if matches!(combining, Combining::None) {
            prop_assert_eq!(c.framework(counters::names::REDUCE_INPUT_RECORDS), words as i64);
        } else {
            prop_assert_eq!(
                c.framework(counters::names::COMBINE_INPUT_RECORDS),
                words as i64
            );
        }
    }

    /// Two steps, the second reduce-only with sorted values: words grouped
    /// by count.
    #[test]
    fn two_step_grouping_matches_oracle(lines in corpus(), cuts in 1usize..4, reducers in 1u32..4) {
        let mut counts: BTreeMap<String, u64> = BTreeMap::new();
        for l in &lines {
            for w in l.split_whitespace() {
                *counts.entry(w.to_owned()).or_default() += 1;
            }
        }
        let mut oracle: BTreeMap<u64, Vec<String>> = BTreeMap::new();
        for (w, c) in &counts {
            oracle.entry(*c).or_default().push(w.clone());
        }
        let job = Job::new("by-count", step::map(Words).combine_with(|a, b| *a += b).reduce(CountFirst))
            .then(step::identity().sort_values().reduce(Collect));
        let contents = files(&lines, cuts);
        let inputs = Inputs::new(&contents.iter().map(Vec::as_slice).collect::<Vec<_>>());
        let mut config = inputs.config();
        config.reducers = reducers;
        let (out, _) = run(&job, &config).unwrap();
        let mut got: BTreeMap<u64, Vec<String>> = BTreeMap::new();
        for line in out.lines() {
            let (k, v) = line.split_once('\t').unwrap();
            let prev = got.insert(k.parse().unwrap(), serde_json::from_str(v).unwrap());
            prop_assert!(prev.is_none(), "key {} output twice", k);
        }
        prop_assert_eq!(got, oracle);
    }
}
