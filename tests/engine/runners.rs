//! One task core under every runner: the same input gives the same output,
//! counters, status lines and error text under `inline` and `local`, on
//! the paths where the two runners' own copies of the task once disagreed.

use mapreduce::prelude::*;
use mapreduce::runner::RunnerKind;
use mapreduce::step::{Combining, Partitioning, StepKind, ValueOrder};
use mapreduce::{Error, Phase};

use crate::fixtures::{Sum, Words};
use crate::{Inputs, run};

const RUNNERS: [RunnerKind; 2] = [RunnerKind::Inline, RunnerKind::Local];

fn config(inputs: &Inputs, runner: RunnerKind, reducers: u32) -> RunConfig {
    let mut c = inputs.config();
    c.runner = runner;
    c.reducers = reducers;
    c.temp_dir = Some(inputs.dir.path().join("tmp"));
    c
}

/// A partitioner that panics: it must not run with one reducer, since
/// every key goes to partition 0 whatever it says (Hadoop's rule).
fn panicking(_: &String, _: u32) -> u32 {
    panic!("the partitioner ran")
}

#[test]
fn with_one_reducer_no_runner_calls_the_partitioner() {
    let inputs = Inputs::new(&[b"b a\na c\n", b"c c\n"]);
    let job = Job::new("p", step::map(Words).partition_by(panicking).reduce(Sum));
    let mut outputs = Vec::new();
    for runner in RUNNERS {
        let (out, _) = run(&job, &config(&inputs, runner, 1)).unwrap_or_else(|e| panic!("{runner:?}: {e}"));
        outputs.push(out);
    }
    assert_eq!(outputs[0], "\"a\"\t2\n\"b\"\t1\n\"c\"\t3\n");
    assert_eq!(outputs[0], outputs[1]);
}

#[test]
fn a_partitioner_out_of_range_fails_every_runner_with_the_same_error() {
    let inputs = Inputs::new(&[b"b a\n"]);
    let job = Job::new("p", step::map(Words).partition_by(|_: &String, n| n).reduce(Sum));
    let errors: Vec<String> = RUNNERS
        .iter()
        .map(|&r| run(&job, &config(&inputs, r, 2)).unwrap_err().to_string())
        .collect();
    assert!(
        errors[0].contains("step 1 of 1, mapper task 0") && errors[0].contains("partitioner returned partition 2"),
        "{}",
        errors[0]
    );
    assert_eq!(errors[0], errors[1]);
}

/// Sets a status line in every task, and panics on the line `boom`.
#[derive(Clone)]
struct Status;

impl Mapper for Status {
    type Input = TextLine;
    type Key = String;
    type Value = u64;

    fn map(&mut self, line: Line<'_>, out: &mut Emitter<'_, String, u64>) -> TaskResult {
        if line.text == "boom" {
            panic!("boom at offset {}", line.offset);
        }
        out.status(format!("last line {}", line.text));
        out.counter("user", "lines", 1);
        out.emit_ref(line.text, &1);
        Ok(())
    }
}

#[derive(Clone)]
struct Counted;

impl Combiner for Counted {
    type Key = String;
    type Value = u64;

    fn combine(&mut self, key: &String, values: Values<'_, u64>, out: &mut Emitter<'_, String, u64>) -> TaskResult {
        out.counter("user", "combined keys", 1);
        out.emit_ref(key, &values.sum());
        Ok(())
    }
}

#[test]
fn status_lines_counters_and_panics_read_the_same_under_every_runner() {
    let inputs = Inputs::new(&[b"x\ny\nx\n", b"z\n"]);
    let job = Job::new("s", step::map(Status).combine(Counted).reduce(Sum));
    let mut seen = Vec::new();
    for runner in RUNNERS {
        let (out, report) = run(&job, &config(&inputs, runner, 2)).unwrap();
        let c = report.counters();
        seen.push((
            out,
            report.steps[0].statuses.clone(),
            c.get("user", "lines"),
            // The combiner's own counters reach the report on both runners.
            c.get("user", "combined keys"),
            c.framework(counters::names::COMBINE_INPUT_RECORDS),
            c.framework(counters::names::MAP_OUTPUT_RECORDS),
        ));
    }
    assert_eq!(seen[0].1, ["step 1 map 0: last line x", "step 1 map 1: last line z"]);
    assert_eq!((seen[0].2, seen[0].3, seen[0].4, seen[0].5), (4, 3, 4, 4));
    assert_eq!(seen[0], seen[1]);

    let bad = Inputs::new(&[b"x\nboom\n"]);
    let errors: Vec<Error> = RUNNERS
        .iter()
        .map(|&r| run(&job, &config(&bad, r, 1)).unwrap_err())
        .collect();
    for e in &errors {
        assert!(
            matches!(
                e,
                Error::Task {
                    phase: Phase::Map,
                    task: 0,
                    ..
                }
            ),
            "{e:?}"
        );
        assert_eq!(e.location().and_then(|l| l.line), Some(2), "{e}");
        assert_eq!(e.step(), Some(1));
        assert!(e.to_string().contains("boom at offset 2"), "{e}");
        // A panic in user code is retried: it may be transient.
        assert!(
            e.to_string().contains("(attempt 1 of 4; attempts 1 to 4 all failed)"),
            "{e}"
        );
    }
    assert_eq!(errors[0].to_string(), errors[1].to_string());
}

#[test]
fn describe_names_every_option_of_a_step() {
    let total = Job::new(
        "t",
        step::map(Words).combine_with(|a, b| *a += b).total_order().reduce(Sum),
    );
    let d = &total.description().steps[0];
    assert_eq!(d.kind, StepKind::MapReduce);
    assert_eq!(d.partitioner, Partitioning::TotalOrder);
    assert_eq!(d.combining, Combining::Associative);
    assert_eq!(d.values, ValueOrder::Arrival);
    let json = serde_json::to_value(d).unwrap();
    assert_eq!(json["partitioner"], "total-order");
    assert_eq!(json["combining"], "associative");
    assert_eq!(json["type"], "map-reduce");

    // Later choices of a kind replace earlier ones; other kinds stay.
    let custom = Job::new(
        "c",
        step::map(Words)
            .total_order()
            .partition_by(|_: &String, _| 0)
            .combine_with(|a, b| *a += b)
            .combine(Counted)
            .reduce(Sum),
    );
    let d = &custom.description().steps[0];
    assert_eq!(
        (d.partitioner, d.combining),
        (Partitioning::Custom, Combining::Combiner)
    );

    let map_only = Job::new("m", step::map(Words).total_order());
    let d = &map_only.description().steps[0];
    assert_eq!(
        (d.kind, d.partitioner, d.combining),
        (StepKind::MapOnly, Partitioning::Hash, Combining::None)
    );
}
