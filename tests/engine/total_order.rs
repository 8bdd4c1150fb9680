//! Total order on a step after the first (issue 28): the runner samples
//! the previous step's output for the step's boundaries, so the parts
//! concatenated are one sorted order at any number of reducers.

use std::cmp::Reverse;

use mapreduce::prelude::*;
use mapreduce::runner::RunnerKind;

use crate::{Inputs, run};

#[derive(Clone)]
struct Words;

impl Mapper for Words {
    type Input = TextLine;
    type Key = String;
    type Value = u64;
    fn map(&mut self, line: Line<'_>, out: &mut Emitter<'_, String, u64>) -> TaskResult {
        line.text.split_whitespace().for_each(|w| out.emit_ref(w, &1));
        Ok(())
    }
}

#[derive(Clone)]
struct Sum;

impl Reducer for Sum {
    type Key = String;
    type Value = u64;
    type OutKey = String;
    type OutValue = u64;
    fn reduce(&mut self, w: &String, n: Values<'_, u64>, out: &mut Emitter<'_, String, u64>) -> TaskResult {
        out.emit(w.clone(), n.sum());
        Ok(())
    }
}

/// Step 2's mapper: the count first, descending.
#[derive(Clone)]
struct ByCount;

impl Mapper for ByCount {
    type Input = Pairs<String, u64>;
    type Key = (Reverse<u64>, String);
    type Value = ();
    fn map(&mut self, (word, n): (String, u64), out: &mut Emitter<'_, (Reverse<u64>, String), ()>) -> TaskResult {
        out.emit((Reverse(n), word), ());
        Ok(())
    }
}

#[derive(Clone)]
struct CountLine;

impl Reducer for CountLine {
    type Key = (Reverse<u64>, String);
    type Value = ();
    type OutKey = ();
    type OutValue = String;
    fn reduce(
        &mut self,
        (n, w): &(Reverse<u64>, String),
        _: Values<'_, ()>,
        out: &mut Emitter<'_, (), String>,
    ) -> TaskResult {
        out.emit((), format!("{w} {}", n.0));
        Ok(())
    }
}

fn job() -> impl AnyJob {
    Job::new("by-count", step::map(Words).combine_with(|a, b| *a += b).reduce(Sum))
        .then(step::map(ByCount).total_order().reduce(CountLine))
        .output(Protocol::RawValue)
}

#[test]
fn issue28_a_second_steps_total_order_gives_one_sorted_order_across_parts() {
    // Word i appears (i * 7 % 41) + 1 times: 300 words, many counts tied.
    let mut text = String::new();
    let mut expected: Vec<(u64, String)> = Vec::new();
    for i in 0..300u64 {
        let n = i * 7 % 41 + 1;
        for _ in 0..n {
            text.push_str(&format!("w{i} "));
        }
        text.push('\n');
        expected.push((n, format!("w{i}")));
    }
    expected.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    let expected: String = expected.iter().map(|(n, w)| format!("{w} {n}\n")).collect();
    let inputs = Inputs::new(&[text.as_bytes()]);
    let mut parts_by_runner = Vec::new();
    for runner in [RunnerKind::Local, RunnerKind::Inline] {
        let mut config = inputs.config();
        config.runner = runner;
        config.reducers = 3;
        config.block_size = 1 << 10;
        config.temp_dir = Some(inputs.dir.path().join("tmp"));
        let out_dir = inputs.dir.path().join(format!("out-{runner:?}"));
        config.output = Some(out_dir.clone());
        run(&job(), &config).unwrap_or_else(|e| panic!("{runner:?}: {e}"));
        let parts: Vec<String> = (0..3)
            .map(|i| std::fs::read_to_string(out_dir.join(format!("part-{i:05}"))).unwrap())
            .collect();
        for (i, p) in parts.iter().enumerate() {
            assert!(!p.is_empty(), "{runner:?}: part {i} is empty: the sample cut no ranges");
        }
        assert_eq!(
            parts.concat(),
            expected,
            "{runner:?}: the parts are not one sorted order"
        );
        parts_by_runner.push(parts);
    }
    assert_eq!(
        parts_by_runner[0], parts_by_runner[1],
        "local and inline cut different ranges"
    );
}
