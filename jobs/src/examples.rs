//! Small jobs ported from mrjob's examples and test fixtures: `wc`, line
//! counts, and grouping with and without sorted values.

use mapreduce::prelude::*;

/// mrjob's `mr_wc` mapper: tallies characters (plus one per newline), words
/// and lines in `self`, and emits the totals in `cleanup`, so it emits
/// three pairs per task however big the input (in-mapper combining).
#[derive(Debug, Clone, Default)]
pub struct WcTally {
    chars: u64,
    words: u64,
    lines: u64,
}

impl Mapper for WcTally {
    type Input = TextLine;
    type Key = String;
    type Value = u64;

    fn map(&mut self, line: Line<'_>, _out: &mut Emitter<'_, String, u64>) -> TaskResult {
        self.chars += line.text.chars().count() as u64 + 1;
        self.words += line.text.split_whitespace().count() as u64;
        self.lines += 1;
        Ok(())
    }

    fn cleanup(&mut self, out: &mut Emitter<'_, String, u64>) -> TaskResult {
        out.emit_ref("chars", &self.chars);
        out.emit_ref("words", &self.words);
        out.emit_ref("lines", &self.lines);
        Ok(())
    }
}

/// `wc`: characters, words and lines.
pub fn wc() -> impl AnyJob {
    Job::new("wc", step::map(WcTally::default()).reduce(crate::words::SumCounts))
        .about("Counts characters, words and lines, like wc (in-mapper combining)")
}

/// Counts a task's lines and emits `(None, count)` in `cleanup`.
#[derive(Debug, Clone, Default)]
pub struct LineTally(u64);

impl Mapper for LineTally {
    type Input = TextLine;
    type Key = ();
    type Value = u64;

    fn map(&mut self, _line: Line<'_>, _out: &mut Emitter<'_, (), u64>) -> TaskResult {
        self.0 += 1;
        Ok(())
    }

    fn cleanup(&mut self, out: &mut Emitter<'_, (), u64>) -> TaskResult {
        out.emit((), self.0);
        Ok(())
    }
}

/// Sums the counts of the unit key.
#[derive(Debug, Clone, Default)]
pub struct SumAll;

impl Reducer for SumAll {
    type Key = ();
    type Value = u64;
    type OutKey = ();
    type OutValue = u64;

    fn reduce(&mut self, _: &(), counts: Values<'_, u64>, out: &mut Emitter<'_, (), u64>) -> TaskResult {
        out.emit((), counts.sum());
        Ok(())
    }
}

/// mrjob's `mr_count_lines_right`: the number of lines in the input.
pub fn count_lines() -> impl AnyJob {
    Job::new(
        "count-lines",
        step::map(LineTally::default())
            .combine_with(|a, b| *a += b)
            .reduce(SumAll),
    )
    .about("Counts the input's lines")
}

/// Emits `(file URI, 1)` per line, from the task's input path.
#[derive(Debug, Clone, Default)]
pub struct LineFile;

impl Mapper for LineFile {
    type Input = TextLine;
    type Key = String;
    type Value = u64;

    fn map(&mut self, _line: Line<'_>, out: &mut Emitter<'_, String, u64>) -> TaskResult {
        let uri = match out.input_path() {
            Some(path) => format!("file://{}", std::path::absolute(path)?.display()),
            None => "-".to_owned(),
        };
        out.emit(uri, 1);
        Ok(())
    }
}

/// mrjob's `mr_count_lines_by_file`: lines per input file.
pub fn count_lines_by_file() -> impl AnyJob {
    Job::new(
        "count-lines-by-file",
        step::map(LineFile)
            .combine_with(|a, b| *a += b)
            .reduce(crate::words::SumCounts),
    )
    .about("Counts lines per input file (the file a task reads)")
}

/// Emits `(first character, line)` for each non-empty line.
#[derive(Debug, Clone, Default)]
pub struct FirstLetter;

impl Mapper for FirstLetter {
    type Input = TextLine;
    type Key = String;
    type Value = String;

    fn map(&mut self, line: Line<'_>, out: &mut Emitter<'_, String, String>) -> TaskResult {
        let word = line.text.trim();
        if let Some(first) = word.chars().next() {
            out.emit(first.to_string(), word.to_owned());
        }
        Ok(())
    }
}

/// Lists each key's values in the order they arrive.
#[derive(Debug, Clone, Default)]
pub struct ListValues;

impl Reducer for ListValues {
    type Key = String;
    type Value = String;
    type OutKey = String;
    type OutValue = Vec<String>;

    fn reduce(
        &mut self,
        key: &String,
        values: Values<'_, String>,
        out: &mut Emitter<'_, String, Vec<String>>,
    ) -> TaskResult {
        out.emit(key.clone(), values.collect());
        Ok(())
    }
}

/// mrjob's `mr_group`: lines grouped by first character, in input order.
pub fn first_letter() -> impl AnyJob {
    Job::new("first-letter", step::map(FirstLetter).reduce(ListValues))
        .about("Lines grouped by their first character, in input order")
}

/// mrjob's `mr_sort_and_group`: the same, values sorted (secondary sort).
pub fn first_letter_sorted() -> impl AnyJob {
    Job::new(
        "first-letter-sorted",
        step::map(FirstLetter).sort_values().reduce(ListValues),
    )
    .about("Lines grouped by their first character, sorted (secondary sort)")
}
