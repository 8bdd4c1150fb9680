//! Jobs parts several test modules share.

use mapreduce::prelude::*;

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
