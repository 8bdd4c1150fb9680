//! `countwords`: the task of Ben Hoyt's "countwords" benchmark (count the
//! words of a text, print them by count, descending), written as a user
//! would write it.
//!
//! Words are split on ASCII whitespace and lowercased in ASCII only, as
//! the benchmark's programs do; the output is their `WORD COUNT` lines,
//! most frequent first and, within a count, by word, so it compares byte
//! for byte with theirs (sorted the same way). The descending order is the
//! key's own: `(Reverse(count), word)`, and the second step partitions by
//! total order, so the parts are one sorted order at any `--reducers`.

use std::cmp::Reverse;

use mapreduce::prelude::*;

/// Emits `(word, 1)` for each whitespace-separated word, lowercased.
#[derive(Debug, Clone, Default)]
pub struct AsciiWords {
    buf: String,
}

impl Mapper for AsciiWords {
    type Input = TextLine;
    type Key = String;
    type Value = u64;

    fn map(&mut self, line: Line<'_>, out: &mut Emitter<'_, String, u64>) -> TaskResult {
        for word in line.text.split_ascii_whitespace() {
            if word.bytes().any(|b| b.is_ascii_uppercase()) {
                self.buf.clear();
                self.buf.push_str(word);
                self.buf.make_ascii_lowercase();
                out.emit_ref(self.buf.as_str(), &1);
            } else {
                out.emit_ref(word, &1);
            }
        }
        Ok(())
    }
}

/// Step 1's reducer: a word's total, keyed so that the shuffle sorts by
/// count descending, then word.
#[derive(Debug, Clone, Default)]
pub struct ByCountDescending;

impl Reducer for ByCountDescending {
    type Key = String;
    type Value = u64;
    type OutKey = (Reverse<u64>, String);
    type OutValue = ();

    fn reduce(
        &mut self,
        word: &String,
        counts: Values<'_, u64>,
        out: &mut Emitter<'_, Self::OutKey, ()>,
    ) -> TaskResult {
        out.emit((Reverse(counts.sum()), word.clone()), ());
        Ok(())
    }
}

/// Step 2's reducer: one `WORD COUNT` line per key, in key order.
#[derive(Debug, Clone, Default)]
pub struct CountLine;

impl Reducer for CountLine {
    type Key = (Reverse<u64>, String);
    type Value = ();
    type OutKey = ();
    type OutValue = String;

    fn reduce(&mut self, key: &Self::Key, _: Values<'_, ()>, out: &mut Emitter<'_, (), String>) -> TaskResult {
        let (Reverse(count), word) = key;
        out.emit((), format!("{word} {count}"));
        Ok(())
    }
}

/// `countwords`: words by count, descending (then by word).
pub fn countwords() -> impl AnyJob {
    Job::new(
        "countwords",
        step::map(AsciiWords::default())
            .combine_with(|a, b| *a += b)
            .reduce(ByCountDescending),
    )
    .then(step::identity().total_order().reduce(CountLine))
    .output(Protocol::RawValue)
    .about("Counts words (ASCII whitespace, ASCII lowercase) and prints `WORD COUNT` by count, descending")
    .sample_input(crate::sample::text)
}
