//! English-like text for word-count style jobs: a Zipf-distributed vocabulary
//! of ~100,000 words (real common English words at the head, synthetic
//! pronounceable words in the tail), laid out as lines of 5-20 words with
//! capitals, punctuation, apostrophes and a rare non-ASCII word, so that a
//! tokenizer such as mrjob's `[\w']+` + `lower()` has real work to do.

use std::collections::HashSet;
use std::sync::OnceLock;

use super::{Rand, Weighted, mix64, push_u64};

/// Distinct words in the vocabulary.
const VOCAB_SIZE: usize = 100_000;

/// The head of the vocabulary in rough frequency order. Contractions sit at
/// plausible ranks so that apostrophes are common, as in real prose.
const COMMON: &[&str] = &[
    "the", "of", "and", "to", "a", "in", "is", "it", "you", "that", "he", "was", "for", "on", "are", "with", "as", "I",
    "his", "they", "be", "at", "one", "have", "this", "from", "or", "had", "by", "not", "but", "what", "some", "we",
    "can", "out", "other", "were", "all", "there", "when", "up", "use", "your", "how", "said", "an", "each", "she",
    "which", "do", "their", "time", "if", "will", "way", "about", "many", "then", "them", "would", "write", "like",
    "so", "these", "her", "long", "make", "thing", "see", "him", "two", "has", "look", "more", "day", "could", "go",
    "come", "did", "it's", "no", "most", "my", "over", "know", "than", "call", "first", "who", "may", "down", "side",
    "been", "now", "find", "don't", "any", "new", "work", "part", "take", "get", "place", "made", "live", "where",
    "after", "back", "little", "only", "round", "man", "year", "came", "show", "every", "good", "me", "give", "our",
    "under", "name", "very", "through", "just", "form", "much", "great", "think", "I'm", "say", "help", "low", "line",
    "before", "turn", "cause", "same", "mean", "differ", "move", "right", "boy", "old", "too", "does", "tell",
    "sentence", "set", "three", "want", "air", "well", "also", "play", "small", "end", "put", "home", "read", "hand",
    "port", "large", "spell", "add", "even", "land", "here", "must", "big", "high", "such", "follow", "act", "why",
    "ask", "men", "change", "went", "light", "kind", "off", "need", "house", "picture", "try", "us", "again", "animal",
    "point", "mother", "world", "near", "build", "self", "earth", "father", "head", "stand", "own", "page", "should",
    "country", "found", "answer", "school", "grow", "study", "still", "learn", "plant", "cover", "food", "sun", "four",
    "thought", "let", "keep", "eye", "never", "last", "door", "between", "city", "tree", "cross", "since", "hard",
    "start", "might", "story", "saw", "far", "sea", "draw", "left", "late", "run", "can't", "while", "press", "close",
    "night", "real", "life", "few", "stop", "open", "seem", "together", "next", "white", "children", "begin", "got",
    "walk", "example", "that's", "ease", "paper", "often", "always", "music", "those", "both", "mark", "book",
    "letter", "until", "mile", "river", "car", "feet", "care", "second", "group", "carry", "took", "rain", "eat",
    "room", "friend", "began", "idea", "fish", "mountain", "north", "once", "base", "hear", "horse", "cut", "sure",
    "watch", "color", "face", "wood", "main", "didn't", "enough", "plain", "girl", "usual", "young", "ready", "above",
    "ever", "red", "list", "though", "feel", "talk", "bird", "soon", "body", "dog", "family", "direct", "pose",
    "leave", "song", "measure", "state", "product", "black", "short", "numeral", "class", "wind", "question", "happen",
    "complete", "ship", "area", "half", "rock", "order", "fire", "south", "problem", "piece", "told", "knew", "pass",
    "farm", "top", "whole", "king", "size", "heard", "best", "hour", "better", "true", "during", "hundred", "am",
    "remember", "step", "early", "hold", "west", "ground", "interest", "reach", "fast", "five", "sing", "listen",
    "six", "table", "travel", "less", "morning", "ten", "simple", "several", "vowel", "toward", "war", "lay",
    "against", "pattern", "slow", "center", "love", "person", "money", "serve", "appear", "road", "map", "science",
    "rule", "govern", "pull", "cold", "notice", "voice", "fall", "power", "town", "fine", "certain", "fly", "unit",
    "lead", "cry", "dark", "machine", "note", "wait", "plan", "figure", "star", "box", "noun", "field", "rest",
    "correct", "able", "pound", "done", "beauty", "drive", "stood", "contain", "front", "teach", "week", "final",
    "gave", "green", "oh", "quick", "develop", "sleep", "warm", "free", "minute", "strong", "special", "mind",
    "behind", "clear", "tail", "produce", "fact", "street", "inch", "lot", "nothing", "course", "stay", "wheel",
    "full", "force", "blue", "object", "decide", "surface", "deep", "moon", "island", "foot", "yet", "busy", "test",
    "record", "boat", "common", "gold", "possible", "plane", "age", "dry", "wonder", "laugh", "thousand", "ago", "ran",
    "check", "game", "shape", "yes", "hot", "miss", "brought", "heat", "snow", "bed", "bring", "sit", "perhaps",
    "fill", "east", "weight", "language", "among", "won't", "isn't", "you're", "let's", "he's", "she's", "I've",
    "I'll", "we're", "they're", "doesn't", "wasn't", "couldn't", "wouldn't", "o'clock", "there's", "what's", "aren't",
    "haven't", "ma'am",
];

/// Rare non-ASCII words (precomposed, so NFC and NFD questions do not arise,
/// and all letters, so `\w` keeps each one a single token).
const NON_ASCII: &[&str] = &[
    "café",
    "naïve",
    "résumé",
    "façade",
    "jalapeño",
    "fiancée",
    "crème",
    "déjà",
    "piñata",
    "rosé",
    "protégé",
    "über",
    "señor",
    "coöperate",
    "soupçon",
    "entrée",
    "Zürich",
    "São",
];

/// Syllable parts for synthetic words; only `a-z`, so a tokenizer sees each
/// word whole.
const ONSETS: &[&str] = &[
    "b", "c", "d", "f", "g", "h", "j", "k", "l", "m", "n", "p", "r", "s", "t", "v", "w", "z", "b", "d", "l", "m", "n",
    "r", "s", "t", "br", "cr", "dr", "gr", "pl", "st", "th", "tr", "sh", "ch", "", "",
];
const VOWELS: &[&str] = &[
    "a", "e", "i", "o", "u", "a", "e", "i", "o", "a", "e", "ai", "ea", "ou", "y",
];
const CODAS: &[&str] = &[
    "", "", "", "", "", "", "", "", "n", "r", "s", "l", "m", "t", "n", "r", "nd", "st",
];

/// Index of the first synthetic word: ranks before it are real English.
fn synthetic_start() -> usize {
    COMMON.len()
}

/// Each word sits in a fixed slot of `SLOT` bytes (at most `SLOT - 1` of
/// word, the last byte its length) so that emitting it is a constant-size
/// copy.
const SLOT: usize = 16;

/// The vocabulary: word `k` is `slots[k][..slots[k][SLOT - 1]]`.
pub(crate) struct Vocab {
    slots: Vec<[u8; SLOT]>,
    zipf: Weighted,
}

impl Vocab {
    fn build() -> Self {
        let mut seen: HashSet<String> = HashSet::with_capacity(VOCAB_SIZE * 2);
        let mut slots = Vec::with_capacity(VOCAB_SIZE);
        let add = |w: &str, slots: &mut Vec<[u8; SLOT]>| {
            let mut slot = [0u8; SLOT];
            slot[..w.len()].copy_from_slice(w.as_bytes());
            slot[SLOT - 1] = w.len() as u8;
            slots.push(slot);
        };
        for w in COMMON {
            assert!(seen.insert(w.to_ascii_lowercase()), "duplicate common word {w}");
            add(w, &mut slots);
        }
        // Synthetic words come from a hash of a counter; a collision (with a
        // real word or an earlier synthetic one) just moves on to the next
        // counter value, which keeps the list a pure function of the index.
        let mut word = String::new();
        let mut counter = 0u64;
        while slots.len() < VOCAB_SIZE {
            synthetic_word(mix64(counter), &mut word);
            counter += 1;
            if (3..SLOT).contains(&word.len()) && !seen.contains(&word) {
                seen.insert(word.clone());
                add(&word, &mut slots);
            }
        }
        Vocab {
            slots,
            zipf: Weighted::zipf(VOCAB_SIZE, 0),
        }
    }

    #[cfg(test)]
    fn word(&self, k: usize) -> &[u8] {
        let slot = &self.slots[k];
        &slot[..usize::from(slot[SLOT - 1])]
    }

    /// Appends word `k`: a fixed 16-byte copy, then a truncate, which is
    /// much cheaper than a variable-length `memcpy` call per word.
    fn push_word(&self, k: usize, buf: &mut Vec<u8>) {
        let slot = &self.slots[k];
        let len = buf.len() + usize::from(slot[SLOT - 1]);
        buf.extend_from_slice(slot);
        buf.truncate(len);
    }
}

/// A 1-3 syllable word chosen by the bits of `h`.
fn synthetic_word(mut h: u64, word: &mut String) {
    word.clear();
    // Mostly two syllables, like the English words they stand in for.
    let syllables = match h % 20 {
        0..=1 => 1,
        2..=11 => 2,
        _ => 3,
    };
    h /= 20;
    for _ in 0..syllables {
        word.push_str(ONSETS[(h % ONSETS.len() as u64) as usize]);
        h /= ONSETS.len() as u64;
        word.push_str(VOWELS[(h % VOWELS.len() as u64) as usize]);
        h /= VOWELS.len() as u64;
        word.push_str(CODAS[(h % CODAS.len() as u64) as usize]);
        h /= CODAS.len() as u64;
    }
}

fn vocab() -> &'static Vocab {
    static VOCAB: OnceLock<Vocab> = OnceLock::new();
    VOCAB.get_or_init(Vocab::build)
}

/// The text generator's state: its random stream and the shared vocabulary.
pub(crate) struct Text {
    rng: Rand,
    vocab: &'static Vocab,
}

impl Text {
    pub(crate) fn new(rng: Rand) -> Self {
        Text { rng, vocab: vocab() }
    }

    /// Appends one line, `\n` included.
    pub(crate) fn line(&mut self, buf: &mut Vec<u8>) {
        let words = self.rng.range(5, 20);
        let mut sentence_start = true;
        for i in 0..words {
            if i > 0 {
                buf.push(b' ');
            }
            // One draw decides everything about the word but its identity;
            // the bit fields below are disjoint.
            let r = self.rng.u32();
            let start = buf.len();
            let mut synthetic = false;
            if r & 0x3ff == 0 {
                // ~0.1%: a non-ASCII word, never re-capitalized (ASCII-only
                // capitalization would mangle it).
                buf.extend_from_slice(self.rng.pick(NON_ASCII).as_bytes());
            } else if r & 0x3ff <= 3 {
                // ~0.3%: a number, which `\w` also matches.
                push_u64(buf, u64::from(self.rng.below(2030)));
            } else {
                let k = self.vocab.zipf.sample(&mut self.rng);
                synthetic = k >= synthetic_start();
                self.vocab.push_word(k, buf);
                // Sentence starts (~1.3 per line), plus a few elsewhere for
                // names and titles: ~10% of words in all.
                if sentence_start || (r >> 10) & 0xff == 0 {
                    buf[start] = buf[start].to_ascii_uppercase();
                }
            }
            // ~1.5% of tail words get a possessive, as names in prose do.
            if synthetic && (r >> 18) & 0x3f == 0 {
                buf.extend_from_slice(b"'s");
            }
            sentence_start = false;
            let p = (r >> 26) & 0x3f;
            if i + 1 == words {
                match p {
                    0..=43 => buf.push(b'.'),
                    44..=49 => buf.push(b'?'),
                    50..=52 => buf.push(b'!'),
                    _ => {}
                }
            } else {
                match p {
                    0..=2 => buf.push(b','),
                    3 => {
                        buf.push(b'.');
                        sentence_start = true;
                    }
                    4 => {
                        let (mark, ends_sentence) = match (r >> 24) & 0x3 {
                            0 => (b';', false),
                            1 => (b':', false),
                            2 => (b'!', true),
                            _ => (b'?', true),
                        };
                        buf.push(mark);
                        sentence_start = ends_sentence;
                    }
                    _ => {}
                }
            }
        }
        buf.push(b'\n');
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::super::{Generated, text};
    use super::*;

    #[test]
    fn sizes_are_reached_with_whole_lines_and_prefixes_hold() {
        super::super::check_sizes_and_prefixes(text, 300_000, &[1, 50, 79, 80, 81, 1_000, 4096, 123_457, 299_999], 9);
    }

    fn gen_text(size: u64, seed: u64) -> (Vec<u8>, Generated) {
        let mut out = Vec::new();
        let g = text(&mut out, size, seed).unwrap();
        (out, g)
    }

    /// mrjob's `mr_word_freq_count` tokenization: `[\w']+`, lowercased.
    /// `\w` on this generator's output is letters and digits (plus `_`,
    /// which it never writes).
    fn tokens(s: &str) -> impl Iterator<Item = String> + '_ {
        s.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '\''))
            .filter(|t| !t.is_empty())
            .map(str::to_lowercase)
    }

    #[test]
    fn deterministic_per_seed() {
        let (a, ga) = gen_text(200_000, 42);
        let (b, gb) = gen_text(200_000, 42);
        let (c, _) = gen_text(200_000, 43);
        assert_eq!(a, b);
        assert_eq!(ga, gb);
        assert_ne!(a, c);
    }

    /// Pins the stream: benchmark inputs must stay byte-identical across
    /// builds. A deliberate change to the generator or the vocabulary
    /// updates these values (and invalidates previously generated inputs).
    #[test]
    fn output_is_pinned() {
        let (out, _) = gen_text(1, 1);
        assert_eq!(out, b"Roulcer's anbaund 264 ready that rulai crostind.\n");
        let (out, g) = gen_text(65_536, 1);
        assert_eq!(g.bytes, 65_564);
        let fnv1a = out.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, &b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
        assert_eq!(fnv1a, 0x6cd9_86bc_3c1e_12be);
    }

    #[test]
    fn lines_look_like_prose() {
        let (out, g) = gen_text(2 << 20, 1);
        let s = std::str::from_utf8(&out).unwrap();
        let avg = g.bytes as f64 / g.records as f64;
        assert!((70.0..95.0).contains(&avg), "average line {avg} bytes");
        let mut words = 0usize;
        let mut capitalized = 0usize;
        for line in s.lines() {
            let n = line.split(' ').count();
            assert!((5..=20).contains(&n), "{n} words: {line}");
            words += n;
            capitalized += line
                .split(' ')
                .filter(|w| w.starts_with(|c: char| c.is_ascii_uppercase()))
                .count();
        }
        let share = capitalized as f64 / words as f64;
        assert!((0.07..0.14).contains(&share), "capitalized share {share}");
    }

    #[test]
    fn zipf_head_apostrophes_and_non_ascii() {
        let (out, _) = gen_text(2 << 20, 2);
        let s = std::str::from_utf8(&out).unwrap();
        let mut counts: HashMap<String, u64> = HashMap::new();
        let mut total = 0u64;
        for t in tokens(s) {
            *counts.entry(t).or_default() += 1;
            total += 1;
        }
        let (top, top_count) = counts.iter().max_by_key(|(_, c)| **c).unwrap();
        assert_eq!(top, "the");
        let share = *top_count as f64 / total as f64;
        assert!(share >= 0.03, "'the' is {share} of tokens");
        // Zipf: rank 2 ("of") is roughly half of rank 1.
        let ratio = counts["of"] as f64 / *top_count as f64;
        assert!((0.4..0.6).contains(&ratio), "of/the = {ratio}");
        for w in ["don't", "it's", "o'clock"] {
            assert!(counts.get(w).copied().unwrap_or(0) > 0, "{w} missing");
        }
        let non_ascii = s.split_whitespace().filter(|w| !w.is_ascii()).count();
        let share = non_ascii as f64 / total as f64;
        assert!(non_ascii > 0 && share < 0.003, "non-ASCII words {non_ascii}");
        // A sizeable vocabulary shows up, not just the head.
        assert!(counts.len() > 20_000, "{} distinct words", counts.len());
    }

    #[test]
    fn vocabulary_is_distinct_and_tokenizes_whole() {
        let v = vocab();
        assert_eq!(v.slots.len(), VOCAB_SIZE);
        let mut seen = HashSet::new();
        for k in 0..VOCAB_SIZE {
            let w = std::str::from_utf8(v.word(k)).unwrap();
            assert!(seen.insert(w.to_lowercase()), "duplicate {w}");
            assert_eq!(tokens(w).count(), 1, "{w}");
        }
        assert_eq!(v.word(0), b"the");
    }
}
