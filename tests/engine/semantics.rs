//! What the engine promises beyond "the right answer": value order, secondary
//! sort, partitioners, per-task hooks, protocols, and how failures are
//! reported.

use mapreduce::prelude::*;
use mapreduce::{Error, Phase};
use serde::Deserialize;

use crate::fixtures::Sum;
use crate::{Inputs, run};

/// Emits `(first char, line)`, and counts lines in a user counter.
#[derive(Clone)]
struct ByFirst;

impl Mapper for ByFirst {
    type Input = TextLine;
    type Key = String;
    type Value = String;

    fn map(&mut self, line: Line<'_>, out: &mut Emitter<'_, String, String>) -> TaskResult {
        out.counter("test", "lines", 1);
        if let Some(c) = line.text.chars().next() {
            out.emit(c.to_string(), line.text.to_owned());
        }
        Ok(())
    }
}

#[derive(Clone)]
struct List;

impl Reducer for List {
    type Key = String;
    type Value = String;
    type OutKey = String;
    type OutValue = Vec<String>;

    fn reduce(&mut self, k: &String, v: Values<'_, String>, out: &mut Emitter<'_, String, Vec<String>>) -> TaskResult {
        out.emit(k.clone(), v.collect());
        Ok(())
    }
}

const ANIMALS: &[u8] = b"alligator\nactuary\nbowling\nartichoke\nballoon\nbaby\n";

#[test]
fn values_arrive_in_input_order_across_files() {
    // mrjob's tests/mr_group.py vector, split over two files.
    let inputs = Inputs::new(&[b"alligator\nactuary\nbowling\n", b"artichoke\nballoon\nbaby\n"]);
    let (out, report) = run(&Job::new("g", step::map(ByFirst).reduce(List)), &inputs.config()).unwrap();
    assert_eq!(
        out,
        "\"a\"\t[\"alligator\", \"actuary\", \"artichoke\"]\n\"b\"\t[\"bowling\", \"balloon\", \"baby\"]\n"
    );
    assert_eq!(report.counters().get("test", "lines"), 6);
}

#[test]
fn sort_values_sorts_each_keys_values_by_bytes() {
    // mrjob's tests/mr_sort_and_group.py vectors.
    let job = Job::new("s", step::map(ByFirst).sort_values().reduce(List));
    let (out, _) = run(&job, &Inputs::new(&[ANIMALS]).config()).unwrap();
    assert_eq!(
        out,
        "\"a\"\t[\"actuary\", \"alligator\", \"artichoke\"]\n\"b\"\t[\"baby\", \"balloon\", \"bowling\"]\n"
    );
    let (out, _) = run(&job, &Inputs::new(&[b"Aaron\naardvark\nABC\n"]).config()).unwrap();
    assert_eq!(out, "\"A\"\t[\"ABC\", \"Aaron\"]\n\"a\"\t[\"aardvark\"]\n");
}

#[test]
fn custom_partitioner_decides_the_part_file() {
    // Everything starting with 'b' goes to part 0, the rest to part 1, so
    // "b" is printed before "a" (parts are concatenated in order).
    let job = Job::new(
        "p",
        step::map(ByFirst)
            .partition_by(|k: &String, _n| u32::from(!k.starts_with('b')))
            .reduce(List),
    );
    let inputs = Inputs::new(&[ANIMALS]);
    let mut config = inputs.config();
    config.reducers = 2;
    let (out, _) = run(&job, &config).unwrap();
    let keys: Vec<&str> = out.lines().map(|l| l.split('\t').next().unwrap()).collect();
    assert_eq!(keys, ["\"b\"", "\"a\""]);

    let bad = Job::new("p", step::map(ByFirst).partition_by(|_: &String, n| n).reduce(List));
    let err = run(&bad, &config).unwrap_err();
    assert!(err.to_string().contains("partitioner returned partition 2"), "{err}");
}

#[test]
fn map_only_last_step_writes_one_part_per_map_task_in_order() {
    let inputs = Inputs::new(&[b"b1\nb2\n", b"a1\n"]);
    let out_dir = inputs.dir.path().join("out");
    let mut config = inputs.config();
    config.output = Some(out_dir.clone());
    run(&Job::new("m", step::map(ByFirst)), &config).unwrap();
    let part0 = std::fs::read_to_string(out_dir.join("part-00000")).unwrap();
    let part1 = std::fs::read_to_string(out_dir.join("part-00001")).unwrap();
    assert_eq!(part0, "\"b\"\t\"b1\"\n\"b\"\t\"b2\"\n");
    assert_eq!(part1, "\"a\"\t\"a1\"\n");
    assert!(out_dir.join("_SUCCESS").exists());
}

/// Counts setup/cleanup calls and emits from both hooks.
#[derive(Clone, Default)]
struct Hooks {
    records: u64,
}

impl Mapper for Hooks {
    type Input = TextLine;
    type Key = String;
    type Value = u64;

    fn setup(&mut self, out: &mut Emitter<'_, String, u64>) -> TaskResult {
        out.emit("setup".into(), 1);
        Ok(())
    }

    fn map(&mut self, _: Line<'_>, _: &mut Emitter<'_, String, u64>) -> TaskResult {
        self.records += 1;
        Ok(())
    }

    fn cleanup(&mut self, out: &mut Emitter<'_, String, u64>) -> TaskResult {
        out.emit("records".into(), self.records);
        out.emit("cleanup".into(), 1);
        Ok(())
    }
}

#[test]
fn setup_and_cleanup_run_once_per_map_task_even_on_empty_input() {
    // Three files (one empty) are three map tasks: mrjob's mr_wc relies on
    // mapper_final running for an empty split.
    let inputs = Inputs::new(&[b"x\ny\n", b"", b"z\n"]);
    let job = Job::new("h", step::map(Hooks::default()).reduce(Sum));
    let (out, _) = run(&job, &inputs.config()).unwrap();
    assert_eq!(out, "\"cleanup\"\t3\n\"records\"\t3\n\"setup\"\t3\n");
}

#[derive(Clone)]
struct Swap;

impl Mapper for Swap {
    type Input = Pairs<String, u64>;
    type Key = u64;
    type Value = String;

    fn map(&mut self, (k, v): (String, u64), out: &mut Emitter<'_, u64, String>) -> TaskResult {
        out.emit(v, k);
        Ok(())
    }
}

#[test]
fn pairs_input_reads_mrjob_json_lines_and_protocols_render() {
    // A trailing tab after the value is accepted, as mrjob's protocols do.
    let inputs = Inputs::new(&[b"\"x\"\t2\n\"y\"\t1\t\n"]);
    let (out, _) = run(&Job::new("s", step::map(Swap)), &inputs.config()).unwrap();
    assert_eq!(out, "2\t\"x\"\n1\t\"y\"\n");
    let (out, _) = run(&Job::new("s", step::map(Swap)).output(Protocol::Tsv), &inputs.config()).unwrap();
    assert_eq!(out, "2\tx\n1\ty\n");
    let (out, _) = run(
        &Job::new("s", step::map(Swap)).output(Protocol::RawValue),
        &inputs.config(),
    )
    .unwrap();
    assert_eq!(out, "x\ny\n");
    let (out, _) = run(
        &Job::new("s", step::map(Swap)).output(Protocol::JsonValue),
        &inputs.config(),
    )
    .unwrap();
    assert_eq!(out, "\"x\"\n\"y\"\n");
}

#[derive(Clone)]
struct Boom;

impl Mapper for Boom {
    type Input = TextLine;
    type Key = String;
    type Value = u64;

    fn map(&mut self, line: Line<'_>, _: &mut Emitter<'_, String, u64>) -> TaskResult {
        if line.text == "boom" {
            panic!("BOOM");
        }
        if line.text == "fail" {
            return Err("cannot handle this record".into());
        }
        Ok(())
    }
}

#[test]
fn user_panics_and_errors_name_step_task_file_and_line() {
    for (content, expect) in [("ok\nok\nboom\n", "BOOM"), ("ok\nfail\n", "cannot handle this record")] {
        let inputs = Inputs::new(&[b"ok\n", content.as_bytes()]);
        let err = run(&Job::new("b", step::map(Boom).reduce(Sum)), &inputs.config()).unwrap_err();
        let line = content.lines().count() as u64;
        match &err {
            Error::Task {
                step: 1,
                steps: 1,
                phase: Phase::Map,
                task: 1,
                at: Some(at),
                ..
            } => {
                assert_eq!(at.line, Some(line));
                assert_eq!(at.path.as_deref(), Some(inputs.paths[1].as_path()));
            }
            other => panic!("unexpected error {other:?}"),
        }
        let message = err.to_string();
        assert!(message.contains(expect), "{message}");
        assert!(message.contains(&format!("line {line}")), "{message}");
    }
}

#[derive(Clone)]
struct FailingReducer;

impl Reducer for FailingReducer {
    type Key = String;
    type Value = u64;
    type OutKey = String;
    type OutValue = u64;

    fn reduce(&mut self, k: &String, _: Values<'_, u64>, _: &mut Emitter<'_, String, u64>) -> TaskResult {
        Err(format!("no reducing {k}").into())
    }
}

#[test]
fn reducer_failure_names_the_step_and_leaves_no_output() {
    let inputs = Inputs::new(&[b"a\n"]);
    let out_dir = inputs.dir.path().join("out");
    let mut config = inputs.config();
    config.output = Some(out_dir.clone());
    let job = Job::new("one", step::map(Hooks::default()).reduce(Sum)).then(step::reduce(FailingReducer));
    let err = run(&job, &config).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Task {
                step: 2,
                steps: 2,
                phase: Phase::Reduce,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().starts_with("step 2 of 2, reducer task 0"), "{err}");
    assert!(!out_dir.exists());
    let left: Vec<_> = std::fs::read_dir(inputs.dir.path()).unwrap().flatten().collect();
    assert_eq!(left.len(), 1, "only the input file remains: {left:?}");
}

#[derive(Clone, Deserialize)]
struct Rec {
    n: u64,
}

#[derive(Clone)]
struct Nums;

impl Mapper for Nums {
    type Input = JsonLine<Rec>;
    type Key = ();
    type Value = u64;

    fn map(&mut self, r: Rec, out: &mut Emitter<'_, (), u64>) -> TaskResult {
        out.emit((), r.n);
        Ok(())
    }
}

#[derive(Clone)]
struct Total;

impl Reducer for Total {
    type Key = ();
    type Value = u64;
    type OutKey = ();
    type OutValue = u64;

    fn reduce(&mut self, _: &(), v: Values<'_, u64>, out: &mut Emitter<'_, (), u64>) -> TaskResult {
        out.emit((), v.sum());
        Ok(())
    }
}

#[test]
fn malformed_json_records_fail_or_are_skipped_within_budget() {
    let job = Job::new("n", step::map(Nums).reduce(Total));
    let inputs = Inputs::new(&[b"{\"n\":1}\n{\"n\":\n{\"n\":2}\n[]\n{\"n\":4}\n"]);
    let err = run(&job, &inputs.config()).unwrap_err();
    match &err {
        Error::BadRecord { step: 1, location, .. } => {
            assert_eq!(location.line, Some(2));
            assert_eq!(location.offset, Some(8));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(err.to_string().contains("--skip-bad-records"), "{err}");

    let mut config = inputs.config();
    config.skip_bad_records = 2;
    let (out, report) = run(&job, &config).unwrap();
    assert_eq!(out, "null\t7\n");
    assert_eq!(report.counters().framework(counters::names::SKIPPED_RECORDS), 2);

    config.skip_bad_records = 1;
    let err = run(&job, &config).unwrap_err();
    assert!(
        matches!(&err, Error::TooManyBadRecords { skipped: 1, budget: 1, location, .. } if location.line == Some(4)),
        "{err:?}"
    );
}

#[test]
fn crlf_no_final_newline_and_latin1_lines_are_read_as_text() {
    let job = Job::new("g", step::map(ByFirst).reduce(List));
    let (out, _) = run(&job, &Inputs::new(&[b"ab\r\nac\r\nb\xe9"]).config()).unwrap();
    assert_eq!(out, "\"a\"\t[\"ab\", \"ac\"]\n\"b\"\t[\"b\\u00e9\"]\n");
}

#[test]
fn no_input_without_a_sample_is_a_clear_error() {
    let job = Job::new("g", step::map(ByFirst).reduce(List));
    let err = run(&job, &RunConfig::default()).unwrap_err();
    assert!(err.to_string().contains("no input given"), "{err}");
    let job = job.sample_input(|| b"zz\n".to_vec());
    let (out, report) = run(&job, &RunConfig::default()).unwrap();
    assert_eq!(out, "\"z\"\t[\"zz\"]\n");
    assert!(report.used_sample);
}
