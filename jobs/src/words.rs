//! Word jobs: mrjob's word-count family.

use std::sync::LazyLock;

use mapreduce::prelude::*;
use regex::Regex;
use serde::{Deserialize, Serialize};

/// mrjob's `WORD_RE`: runs of word characters and apostrophes.
static WORD_RE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"[\w']+").expect("a valid regex"));

/// The words of a line as mrjob's examples see them: `[\w']+`, lowercased.
pub fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    WORD_RE.find_iter(text).map(|m| m.as_str().to_lowercase())
}

/// A byte's class for the scanner in [`for_each_word`]: 0 ends a word;
/// the others are bits, OR-ed over a word's bytes to say what it holds.
const WORD: u8 = 1;
/// An ASCII capital: the word must be copied to be lowercased.
const UPPER: u8 = 2;
/// A byte of a non-ASCII character: the word goes to the regex.
const HIGH: u8 = 4;

static CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = if c.is_ascii_uppercase() {
            WORD | UPPER
        } else if c.is_ascii_alphanumeric() || c == b'_' || c == b'\'' {
            WORD
        } else if c >= 0x80 {
            WORD | HIGH
        } else {
            0
        };
        b += 1;
    }
    t
};

/// Calls `f` with each word of `text`, lowercased: the word-count hot path.
///
/// One pass over the bytes finds *tokens*, maximal runs of ASCII
/// `[A-Za-z0-9_']` and non-ASCII bytes. A token with no capital and no
/// non-ASCII byte is a word as it is, handed to `f` borrowed from `text`
/// (no copy); one with capitals is lowercased into `buf` (reused, so no
/// allocation). A token with a non-ASCII byte holds exactly the regex's
/// words that lie inside it, because its ends are ASCII non-word bytes,
/// which end a match of `[\w']+` too; the regex finds them there.
pub fn for_each_word(text: &str, buf: &mut String, mut f: impl FnMut(&str)) {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if CLASS[usize::from(bytes[i])] == 0 {
            i += 1;
            continue;
        }
        let start = i;
        let mut seen = 0;
        while let Some(&b) = bytes.get(i) {
            let class = CLASS[usize::from(b)];
            if class == 0 {
                break;
            }
            seen |= class;
            i += 1;
        }
        // Token ends are ASCII bytes, so both are char boundaries.
        let token = &text[start..i];
        if seen & HIGH != 0 {
            for m in WORD_RE.find_iter(token) {
                buf.clear();
                // `str::to_lowercase`, not per char: a word-final Σ becomes
                // ς, as Python's `str.lower` makes it.
                buf.push_str(&m.as_str().to_lowercase());
                f(buf);
            }
        } else if seen & UPPER != 0 {
            buf.clear();
            buf.push_str(token);
            buf.make_ascii_lowercase();
            f(buf);
        } else {
            f(token);
        }
    }
}

/// Emits `(word, 1)` for each word of each line.
#[derive(Debug, Clone, Default)]
pub struct WordOnes {
    /// Words not to count.
    pub stop_words: &'static [&'static str],
    buf: String,
}

impl Mapper for WordOnes {
    type Input = TextLine;
    type Key = String;
    type Value = u64;

    fn map(&mut self, line: Line<'_>, out: &mut Emitter<'_, String, u64>) -> TaskResult {
        let stop_words = self.stop_words;
        for_each_word(line.text, &mut self.buf, |word| {
            if !stop_words.contains(&word) {
                out.emit_ref(word, &1);
            }
        });
        Ok(())
    }
}

/// Sums each key's counts.
#[derive(Debug, Clone, Default)]
pub struct SumCounts;

impl Reducer for SumCounts {
    type Key = String;
    type Value = u64;
    type OutKey = String;
    type OutValue = u64;

    fn reduce(&mut self, key: &String, counts: Values<'_, u64>, out: &mut Emitter<'_, String, u64>) -> TaskResult {
        out.emit(key.clone(), counts.sum());
        Ok(())
    }
}

/// mrjob's `mr_word_freq_count`: how often each word occurs.
pub fn word_count() -> impl AnyJob {
    Job::new(
        "word-count",
        step::map(WordOnes::default())
            .combine_with(|a, b| *a += b)
            .reduce(SumCounts),
    )
    .about("How often each word occurs (lowercased [\\w']+ tokens)")
    .sample_input(crate::sample::text)
}

/// Common English words that `most-used-word` ignores (mrjob ships a file
/// like this with its example).
pub const STOP_WORDS: &[&str] = &[
    "a", "about", "after", "all", "also", "an", "and", "any", "are", "as", "at", "be", "because", "been", "but", "by",
    "can", "could", "do", "even", "for", "from", "get", "give", "go", "had", "has", "have", "he", "her", "him", "his",
    "how", "i", "if", "in", "into", "is", "it", "its", "just", "like", "me", "most", "my", "new", "no", "not", "now",
    "of", "on", "one", "only", "or", "other", "our", "out", "over", "say", "she", "so", "some", "take", "than", "that",
    "the", "their", "them", "then", "there", "these", "they", "this", "to", "up", "us", "use", "was", "way", "we",
    "well", "what", "when", "which", "who", "will", "with", "would", "you", "your",
];

/// Totals each key's counts under the unit key, `(None, (count, key))`, so
/// that one reducer of the next step sees every total (step 1 of
/// most-used-word and yelp-top-city).
#[derive(Debug, Clone, Default)]
pub struct TotalsUnderOneKey;

impl Reducer for TotalsUnderOneKey {
    type Key = String;
    type Value = u64;
    type OutKey = ();
    type OutValue = (u64, String);

    fn reduce(
        &mut self,
        key: &String,
        counts: Values<'_, u64>,
        out: &mut Emitter<'_, (), (u64, String)>,
    ) -> TaskResult {
        out.emit((), (counts.sum(), key.clone()));
        Ok(())
    }
}

/// most-used-word, step 2 reducer: the word with the largest count.
#[derive(Debug, Clone, Default)]
pub struct MostUsed;

impl Reducer for MostUsed {
    type Key = ();
    type Value = (u64, String);
    type OutKey = ();
    type OutValue = String;

    fn reduce(&mut self, _: &(), counts: Values<'_, (u64, String)>, out: &mut Emitter<'_, (), String>) -> TaskResult {
        if let Some((_, word)) = counts.max() {
            out.emit((), word);
        }
        Ok(())
    }
}

/// mrjob's `mr_most_used_word`: the most used word that is not a stop word.
pub fn most_used_word() -> impl AnyJob {
    let words = WordOnes {
        stop_words: STOP_WORDS,
        ..WordOnes::default()
    };
    Job::new(
        "most-used-word",
        step::map(words).combine_with(|a, b| *a += b).reduce(TotalsUnderOneKey),
    )
    .then(step::reduce(MostUsed))
    .output(Protocol::JsonValue)
    .about("The most used word, stop words excepted (two steps)")
    .sample_input(crate::sample::text)
}

/// Emits `((word, next word), 1)` for each adjacent pair within a line.
#[derive(Debug, Clone, Default)]
pub struct WordPairs;

impl Mapper for WordPairs {
    type Input = TextLine;
    type Key = (String, String);
    type Value = u64;

    fn map(&mut self, line: Line<'_>, out: &mut Emitter<'_, (String, String), u64>) -> TaskResult {
        let words: Vec<String> = words(line.text).collect();
        for pair in words.windows(2) {
            out.emit((pair[0].clone(), pair[1].clone()), 1);
        }
        Ok(())
    }
}

/// What next-word-stats' first step tells its second about a word. Totals
/// sort before followers (derived order), so with sorted values the second
/// step's reducer knows a word's total before it sees any follower.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum NextWord {
    /// How many times the word is followed by any word.
    Total(u64),
    /// How many times it is followed by this word.
    Follower(String, u64),
}

/// next-word-stats, step 1 reducer.
#[derive(Debug, Clone, Default)]
pub struct PairTotals;

impl Reducer for PairTotals {
    type Key = (String, String);
    type Value = u64;
    type OutKey = String;
    type OutValue = NextWord;

    fn reduce(
        &mut self,
        (word, next): &(String, String),
        counts: Values<'_, u64>,
        out: &mut Emitter<'_, String, NextWord>,
    ) -> TaskResult {
        let count = counts.sum();
        out.emit(word.clone(), NextWord::Total(count));
        out.emit(word.clone(), NextWord::Follower(next.clone(), count));
        Ok(())
    }
}

/// next-word-stats, step 2 reducer: `((word, next), (total, count, percent))`.
#[derive(Debug, Clone, Default)]
pub struct FollowerShares;

impl Reducer for FollowerShares {
    type Key = String;
    type Value = NextWord;
    type OutKey = (String, String);
    type OutValue = (u64, u64, f64);

    fn reduce(
        &mut self,
        word: &String,
        stats: Values<'_, NextWord>,
        out: &mut Emitter<'_, (String, String), (u64, u64, f64)>,
    ) -> TaskResult {
        let mut total = 0;
        for stat in stats {
            match stat {
                NextWord::Total(n) => total += n,
                NextWord::Follower(next, count) => {
                    let percent = 100.0 * count as f64 / total as f64;
                    out.emit((word.clone(), next), (total, count, percent));
                }
            }
        }
        Ok(())
    }
}

/// mrjob's `mr_next_word_stats`: for each word, how often each other word
/// follows it, as a share of all its followers. Uses a secondary sort.
pub fn next_word_stats() -> impl AnyJob {
    Job::new(
        "next-word-stats",
        step::map(WordPairs).combine_with(|a, b| *a += b).reduce(PairTotals),
    )
    .then(step::identity().sort_values().reduce(FollowerShares))
    .about("For each word, which words follow it and how often (secondary sort)")
    .sample_input(crate::sample::text)
}

/// words-by-count, step 1 reducer: `(count, word)`.
#[derive(Debug, Clone, Default)]
pub struct CountThenWord;

impl Reducer for CountThenWord {
    type Key = String;
    type Value = u64;
    type OutKey = u64;
    type OutValue = String;

    fn reduce(&mut self, word: &String, counts: Values<'_, u64>, out: &mut Emitter<'_, u64, String>) -> TaskResult {
        out.emit(counts.sum(), word.clone());
        Ok(())
    }
}

/// Collects a key's values into a list. For small groups only: it holds
/// them in memory.
#[derive(Debug, Clone, Default)]
pub struct CollectValues;

impl Reducer for CollectValues {
    type Key = u64;
    type Value = String;
    type OutKey = u64;
    type OutValue = Vec<String>;

    fn reduce(&mut self, key: &u64, values: Values<'_, String>, out: &mut Emitter<'_, u64, Vec<String>>) -> TaskResult {
        out.emit(*key, values.collect());
        Ok(())
    }
}

/// mrjob's `mr_no_mapper` test job: words grouped by how often they occur.
/// Its second step is reduce-only.
pub fn words_by_count() -> impl AnyJob {
    Job::new(
        "words-by-count",
        step::map(WordOnes::default())
            .combine_with(|a, b| *a += b)
            .reduce(CountThenWord),
    )
    .then(step::identity().sort_values().reduce(CollectValues))
    .about("Words grouped by their count, sorted (a reduce-only second step)")
    .sample_input(crate::sample::text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ascii_scanner_finds_what_the_regex_finds() {
        let lines = [
            "The wheels on the bus, go round_and round!",
            "don't 'quote' o'clock -- a--b ''",
            "x1 2y _z_ ,.;:!? \t tabs\tand  spaces",
            "",
            "'",
            "café naïve Zürich mixed ASCII",
            "ΣΣΣ ΟΔΥΣΣΕΥΣ σς",
            "x—y Ünïcode—word's—end é'é—",
            "MiXeD CASE's UPPER_case 123ABC",
        ];
        for line in lines {
            let mut got = Vec::new();
            let mut buf = String::new();
            for_each_word(line, &mut buf, |w| got.push(w.to_owned()));
            let expected: Vec<String> = words(line).collect();
            assert_eq!(got, expected, "{line:?}");
        }
        let mut got = Vec::new();
        for_each_word("ΟΔΥΣΣΕΥΣ", &mut String::new(), |w| got.push(w.to_owned()));
        assert_eq!(got, ["οδυσσευς"], "a final sigma lowercases to ς, as in Python");
    }
}
