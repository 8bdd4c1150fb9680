//! Several named inputs, joins, side files and job options, against
//! in-memory oracles: one mapper per input with its own format, inner,
//! left and anti joins on every runner and reducer count, a key with five
//! million right records reduced in constant memory, a side file loaded
//! once per process, and the job's options reaching its tasks.

use std::collections::BTreeMap;
use std::io::BufRead;
use std::sync::Arc;

use mapreduce::prelude::*;
use mapreduce::runner::RunnerKind;
use serde::{Deserialize, Serialize};

use super::{Inputs, run};

/// `id,name` lines: (id, name).
#[derive(Clone)]
struct Users;

impl Mapper for Users {
    type Input = TextLine;
    type Key = u32;
    type Value = String;

    fn map(&mut self, line: Line<'_>, out: &mut Emitter<'_, u32, String>) -> TaskResult {
        let (id, name) = line.text.split_once(',').ok_or("expected id,name")?;
        out.emit(id.parse()?, name.to_owned());
        Ok(())
    }
}

/// `[user, amount]` JSON lines: (user, amount).
#[derive(Clone)]
struct Orders;

impl Mapper for Orders {
    type Input = JsonLine<(u32, u64)>;
    type Key = u32;
    type Value = u64;

    fn map(&mut self, (user, amount): (u32, u64), out: &mut Emitter<'_, u32, u64>) -> TaskResult {
        out.emit(user, amount);
        Ok(())
    }
}

/// `(name, Some(amount))` per matched pair, `(name, None)` per unmatched
/// user.
#[derive(Clone)]
struct NameAmounts;

impl Joiner for NameAmounts {
    type Key = u32;
    type Left = String;
    type Right = u64;
    type OutKey = String;
    type OutValue = Option<u64>;

    fn matched(
        &mut self,
        _: &u32,
        name: &String,
        amount: &u64,
        out: &mut Emitter<'_, String, Option<u64>>,
    ) -> TaskResult {
        out.emit(name.clone(), Some(*amount));
        Ok(())
    }

    fn unmatched(&mut self, _: &u32, name: &String, out: &mut Emitter<'_, String, Option<u64>>) -> TaskResult {
        out.emit(name.clone(), None);
        Ok(())
    }
}

fn join_job(kind: step::JoinKind) -> impl AnyJob {
    Job::new(
        "orders",
        step::join(step::input("users", Users), step::input("orders", Orders)).kind(kind, NameAmounts),
    )
}

/// Users 0..60 with some ids twice; orders for ids 30..130, several each.
fn tables() -> (String, String) {
    let mut users = String::new();
    for id in 0..60u32 {
        users.push_str(&format!("{id},user{id}\n"));
        if id % 7 == 0 {
            users.push_str(&format!("{id},twin{id}\n"));
        }
    }
    let mut orders = String::new();
    for n in 0..400u64 {
        let user = 30 + (n * 37 % 100) as u32;
        orders.push_str(&format!("[{user}, {n}]\n"));
    }
    (users, orders)
}

/// The join computed with maps: sorted `JSON(name) TAB JSON(value)` lines.
fn oracle(kind: step::JoinKind, users: &str, orders: &str) -> Vec<String> {
    let mut by_id: BTreeMap<u32, Vec<String>> = BTreeMap::new();
    for line in users.lines() {
        let (id, name) = line.split_once(',').unwrap();
        by_id.entry(id.parse().unwrap()).or_default().push(name.to_owned());
    }
    let mut amounts: BTreeMap<u32, Vec<u64>> = BTreeMap::new();
    for line in orders.lines() {
        let (user, amount): (u32, u64) = serde_json::from_str(line).unwrap();
        amounts.entry(user).or_default().push(amount);
    }
    let mut lines = Vec::new();
    for (id, names) in &by_id {
        for name in names {
            match (amounts.get(id), kind) {
                (Some(list), step::JoinKind::Inner | step::JoinKind::Left) => {
                    lines.extend(list.iter().map(|a| format!("\"{name}\"\t{a}")));
                }
                (None, step::JoinKind::Left | step::JoinKind::Anti) => lines.push(format!("\"{name}\"\tnull")),
                _ => {}
            }
        }
    }
    lines.sort();
    lines
}

#[test]
fn inner_left_and_anti_joins_equal_the_oracle_on_every_runner() {
    let (users, orders) = tables();
    let inputs = Inputs::new(&[users.as_bytes(), orders.as_bytes()]);
    for kind in [step::JoinKind::Inner, step::JoinKind::Left, step::JoinKind::Anti] {
        let expected = oracle(kind, &users, &orders);
        assert!(!expected.is_empty());
        for runner in [RunnerKind::Local, RunnerKind::Inline] {
            for reducers in [1, 3] {
                let mut config = RunConfig::default();
                config.runner = runner;
                config.reducers = reducers;
                config.block_size = 512; // several map tasks per input
                config.named_inputs = vec![
                    ("users".into(), inputs.paths[0].clone().into()),
                    ("orders".into(), inputs.paths[1].clone().into()),
                ];
                let (out, report) = run(&join_job(kind), &config).unwrap();
                let mut got: Vec<String> = out.lines().map(str::to_owned).collect();
                got.sort();
                assert_eq!(got, expected, "{kind:?} {runner:?} {reducers} reducers");
                // Orders of users 60..130 have no user.
                let unmatched = orders
                    .lines()
                    .filter(|l| serde_json::from_str::<(u32, u64)>(l).unwrap().0 >= 60)
                    .count() as i64;
                assert_eq!(
                    report.counters().get("join", "right records without a match"),
                    unmatched
                );
            }
        }
    }
}

#[test]
fn each_named_input_keeps_its_own_format_and_error_locations() {
    let inputs = Inputs::new(&[b"1,ann\n2,bob\n", b"[1, 5]\nnot json\n[2, 7]\n"]);
    let mut config = RunConfig::default();
    config.named_inputs = vec![
        ("users".into(), inputs.paths[0].clone().into()),
        ("orders".into(), inputs.paths[1].clone().into()),
    ];
    let e = run(&join_job(step::JoinKind::Inner), &config).unwrap_err().to_string();
    assert!(e.contains("input-1.txt") && e.contains("line 2"), "{e}");
    assert!(e.contains("step 1"), "{e}");
    config.skip_bad_records = 1;
    let (out, _) = run(&join_job(step::JoinKind::Inner), &config).unwrap();
    assert_eq!(out, "\"ann\"\t5\n\"bob\"\t7\n");
}

type Tracked = crate::fixtures::Tracked<1>;

const HOT: u32 = 5_000_000;

/// One business, `b`.
#[derive(Clone)]
struct OneBusiness;

impl Mapper for OneBusiness {
    type Input = TextLine;
    type Key = u8;
    type Value = String;

    fn map(&mut self, line: Line<'_>, out: &mut Emitter<'_, u8, String>) -> TaskResult {
        out.emit(7, line.text.to_owned());
        Ok(())
    }
}

/// Each line `i` emits reviews `i, i+10, ...` of business 7.
#[derive(Clone)]
struct ManyReviews;

impl Mapper for ManyReviews {
    type Input = TextLine;
    type Key = u8;
    type Value = Tracked;

    fn map(&mut self, line: Line<'_>, out: &mut Emitter<'_, u8, Tracked>) -> TaskResult {
        let mut v: u32 = line.text.parse()?;
        while v < HOT {
            out.emit(7, Tracked::new(v));
            v += 10;
        }
        Ok(())
    }
}

/// Counts and sums the reviews per business name.
#[derive(Clone, Default)]
struct Tally {
    count: u64,
    sum: u64,
}

impl Joiner for Tally {
    type Key = u8;
    type Left = String;
    type Right = Tracked;
    type OutKey = String;
    type OutValue = (u64, u64);

    fn matched(&mut self, _: &u8, _: &String, r: &Tracked, _: &mut Emitter<'_, String, (u64, u64)>) -> TaskResult {
        self.count += 1;
        self.sum += u64::from(r.0);
        Ok(())
    }

    fn cleanup(&mut self, out: &mut Emitter<'_, String, (u64, u64)>) -> TaskResult {
        out.emit("b".into(), (self.count, self.sum));
        Ok(())
    }
}

#[test]
fn a_business_with_five_million_reviews_joins_in_constant_memory() {
    let lines: String = (0..10).map(|i| format!("{i}\n")).collect();
    let inputs = Inputs::new(&[b"the business\n", lines.as_bytes()]);
    let mut config = RunConfig::default();
    config.workers = 2;
    config.block_size = 4; // 10 map tasks on the right side
    config.sort_buffer = 4 << 20;
    config.named_inputs = vec![
        ("business".into(), inputs.paths[0].clone().into()),
        ("review".into(), inputs.paths[1].clone().into()),
    ];
    let job = Job::new(
        "hot-join",
        step::join(step::input("business", OneBusiness), step::input("review", ManyReviews)).inner(Tally::default()),
    );
    let (out, report) = run(&job, &config).unwrap();
    let n = u64::from(HOT);
    assert_eq!(out, format!("\"b\"\t[{n}, {}]\n", n * (n - 1) / 2));
    assert_eq!(
        report.counters().framework(counters::names::REDUCE_INPUT_RECORDS),
        i64::from(HOT) + 1
    );
    assert!(report.counters().framework("SPILLS") > 10, "it spilled");
    // The right side streams past the held left record: never collected.
    assert!(Tracked::peak() <= 4, "peak live right records {}", Tracked::peak());
}

#[derive(Debug, Clone, clap::Args, Serialize, Deserialize)]
struct Opts {
    /// Added to every count.
    #[arg(long, default_value_t = 100)]
    bonus: u64,
}

/// Counts lines by their text, looked up in the side file's table, plus
/// the `--bonus` option.
#[derive(Clone)]
struct Lookup {
    table: SideFile<BTreeMap<String, String>>,
    loaded: Option<Arc<BTreeMap<String, String>>>,
}

impl Mapper for Lookup {
    type Input = TextLine;
    type Key = String;
    type Value = u64;

    fn setup(&mut self, out: &mut Emitter<'_, String, u64>) -> TaskResult {
        self.loaded = Some(out.side(&self.table)?);
        Ok(())
    }

    fn map(&mut self, line: Line<'_>, out: &mut Emitter<'_, String, u64>) -> TaskResult {
        let table = self.loaded.as_ref().ok_or("no table")?;
        let name = table.get(line.text).cloned().unwrap_or_else(|| "?".into());
        let bonus = out.options::<Opts>()?.bonus;
        out.emit(name, 1 + bonus);
        Ok(())
    }
}

fn lookup_job() -> impl AnyJob {
    let table = SideFile::new("names", |file: &mut dyn BufRead| {
        let mut t = BTreeMap::new();
        for line in file.lines() {
            let line = line?;
            let (k, v) = line.split_once('=').ok_or("expected KEY=NAME")?;
            t.insert(k.to_owned(), v.to_owned());
        }
        Ok(t)
    });
    Job::new(
        "lookup",
        step::map(Lookup {
            table: table.clone(),
            loaded: None,
        })
        .combine_with(|a, b| *a += b),
    )
    .side_file(&table)
    .options::<Opts>()
}

#[test]
fn a_side_file_loads_once_per_process_and_options_reach_every_task() {
    let ids: String = (0..200).map(|i| format!("{}\n", i % 3)).collect();
    let inputs = Inputs::new(&[ids.as_bytes(), b"0=zero\n1=one\n", b"0=nil\n1=uno\n2=dos\n"]);
    let job = lookup_job();
    let mut config = inputs.config();
    config.inputs.truncate(1);
    config.workers = 2;
    config.block_size = 64; // many map tasks
    config.side_files = vec![("names".into(), inputs.paths[1].clone())];
    // The options' defaults, with none given.
    let (out, report) = run(&job, &config).unwrap();
    assert!(out.lines().all(|l| l.ends_with("\t101")), "{out}");
    assert!(out.contains("\"zero\"") && out.contains("\"?\""), "{out}");
    assert_eq!(report.counters().get("side files", "names loaded"), 1);
    // Another file in the same process is loaded anew, once.
    config.side_files[0].1 = inputs.paths[2].clone();
    config.job_options = Some(JobOptions::new(Opts { bonus: 0 }).unwrap());
    let (out, report) = run(&job, &config).unwrap();
    assert!(out.contains("\"dos\"\t1\n") && !out.contains("zero"), "{out}");
    assert_eq!(report.counters().get("side files", "names loaded"), 1);
    // A side file that does not load fails the job, naming it.
    let bad = Inputs::new(&[b"no equals sign\n"]);
    config.side_files[0].1 = bad.paths[0].clone();
    let e = run(&job, &config).unwrap_err().to_string();
    assert!(e.contains("side file names") && e.contains("expected KEY=NAME"), "{e}");
}

/// Counts lines under the value of the `tag` job setting.
#[derive(Clone)]
struct Tagged;

impl Mapper for Tagged {
    type Input = TextLine;
    type Key = String;
    type Value = u64;

    fn map(&mut self, _: Line<'_>, out: &mut Emitter<'_, String, u64>) -> TaskResult {
        let tag = out.jobconf("my.tag").unwrap_or_else(|| "none".into());
        out.emit(tag, 1);
        Ok(())
    }
}

#[test]
fn jobconf_settings_reach_every_task() {
    let inputs = Inputs::new(&[b"a\nb\nc\n"]);
    for runner in [RunnerKind::Local, RunnerKind::Inline] {
        let mut config = inputs.config();
        config.runner = runner;
        let (out, _) = run(&Job::new("tagged", step::map(Tagged)), &config).unwrap();
        assert_eq!(out, "\"none\"\t1\n".repeat(3));
        config.cluster.jobconf = vec![("my.tag".into(), "x".into()), ("my.tag".into(), "y".into())];
        let (out, _) = run(&Job::new("tagged", step::map(Tagged)), &config).unwrap();
        assert_eq!(out, "\"y\"\t1\n".repeat(3), "the last -D of a key wins");
    }
}
