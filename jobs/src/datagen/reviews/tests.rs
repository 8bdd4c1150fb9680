use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use serde_json::Value;

use super::super::{Generated, business_ids, yelp, yelp_reviews};
use super::*;

/// The ids of a small generated business file (~1,400 businesses).
fn ids() -> &'static [String] {
    static IDS: OnceLock<Vec<String>> = OnceLock::new();
    IDS.get_or_init(|| {
        let mut out = Vec::new();
        yelp(&mut out, 1 << 20, 3).unwrap();
        business_ids(&out[..]).unwrap()
    })
}

fn make(out: &mut dyn io::Write, size: u64, seed: u64) -> io::Result<Generated> {
    yelp_reviews(out, size, seed, ids(), 0)
}

fn make_malformed(out: &mut dyn io::Write, size: u64, seed: u64) -> io::Result<Generated> {
    yelp_reviews(out, size, seed, ids(), 30)
}

fn gen_reviews(size: u64, seed: u64, malformed: u32) -> Vec<u8> {
    let mut out = Vec::new();
    yelp_reviews(&mut out, size, seed, ids(), malformed).unwrap();
    out
}

fn lines(out: &[u8]) -> Vec<&str> {
    std::str::from_utf8(out).unwrap().lines().collect()
}

fn parse(line: &str) -> serde_json::Map<String, Value> {
    match serde_json::from_str::<Value>(line) {
        Ok(Value::Object(map)) => map,
        other => panic!("not a JSON object ({other:?}): {line}"),
    }
}

#[test]
fn sizes_are_reached_with_whole_lines_and_prefixes_hold() {
    let sizes = [1, 100, 531, 2_000, 77_777, 400_001, 1 << 20];
    super::super::check_sizes_and_prefixes(make, 1 << 20, &sizes, 5);
    super::super::check_sizes_and_prefixes(make_malformed, 1 << 20, &sizes, 6);
}

/// Pins the stream: generated inputs must stay byte-identical across
/// builds. A deliberate change to the generator updates these values.
#[test]
fn output_is_pinned() {
    let ids: Vec<String> = (0..100).map(|i| format!("business{i:02}-xxxxxxxxxxxx")).collect();
    let mut out = Vec::new();
    let g = yelp_reviews(&mut out, 1, 1, &ids, 0).unwrap();
    assert_eq!(g.records, 1);
    assert_eq!(std::str::from_utf8(&out).unwrap(), PINNED_FIRST_LINE);
    out.clear();
    let g = yelp_reviews(&mut out, 65_536, 1, &ids, 10).unwrap();
    assert_eq!((g.bytes, fnv1a(&out)), PINNED_64K);
}

const PINNED_FIRST_LINE: &str = concat!(
    r#"{"review_id":"cYvr8qYLvCZHF-p0vHMc9a","user_id":"YbqOV0C3KMQTOvNBR7FkQE","#,
    r#""business_id":"business29-xxxxxxxxxxxx","stars":5.0,"useful":2,"funny":0,"cool":0,"#,
    r#""text":"Our server Ashley was extremely friendly and checked on us often. "#,
    r#"They were so accommodating when we asked for changes. Cash only, so bring some with you.","#,
    r#""date":"2019-12-07 22:48:06"}"#,
    "\n"
);
const PINNED_64K: (u64, u64) = (65_607, 0xe788_6abe_d6c9_edd1);

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[test]
fn spoiled_lines_leave_the_others_alone() {
    let clean = gen_reviews(1 << 20, 8, 0);
    let spoiled = gen_reviews(1 << 20, 8, 40);
    let (clean, spoiled) = (lines(&clean), lines(&spoiled));
    let mut bad = 0;
    for (c, s) in clean.iter().zip(&spoiled) {
        if c != s {
            bad += 1;
            assert!(serde_json::from_str::<Value>(s).is_err(), "spoiled but valid: {s}");
        }
        serde_json::from_str::<Value>(c).unwrap();
    }
    let n = clean.len().min(spoiled.len());
    assert!(n > 1500, "{n} lines");
    let per_mille = bad * 1000 / n;
    assert!((25..=55).contains(&per_mille), "{bad} of {n}");

    let all = gen_reviews(1 << 20, 8, 1000);
    assert!(lines(&all).iter().all(|l| serde_json::from_str::<Value>(l).is_err()));
}

#[test]
fn fields_dates_and_votes() {
    let out = gen_reviews(2 << 20, 9, 0);
    let mut zero = [0usize; 3];
    let mut users: HashMap<String, usize> = HashMap::new();
    let mut years = [0usize; 17];
    let lines = lines(&out);
    for line in &lines {
        let r = parse(line);
        let keys: Vec<&str> = r.keys().map(String::as_str).collect();
        let mut sorted = vec![
            "review_id",
            "user_id",
            "business_id",
            "stars",
            "useful",
            "funny",
            "cool",
            "text",
            "date",
        ];
        // The real order on the line; serde's map is sorted.
        let mut at = 0;
        for key in &sorted {
            let p = line.find(&format!("\"{key}\":")).unwrap();
            assert!(p >= at, "{key} out of order: {line}");
            at = p;
        }
        sorted.sort_unstable();
        assert_eq!(keys, sorted);
        for key in ["review_id", "user_id", "business_id"] {
            let id = r[key].as_str().unwrap();
            assert_eq!(id.len(), 22, "{line}");
            assert!(id.bytes().all(|b| ID_ALPHABET.contains(&b)), "{line}");
        }
        *users.entry(r["user_id"].as_str().unwrap().to_owned()).or_default() += 1;
        for (k, key) in ["useful", "funny", "cool"].iter().enumerate() {
            let v = r[*key].as_u64().unwrap();
            assert!(v <= 500);
            zero[k] += usize::from(v == 0);
        }
        let text = r["text"].as_str().unwrap();
        assert!(!text.is_empty());
        for (i, _) in text.match_indices('$') {
            assert!(text.as_bytes()[i + 1].is_ascii_digit(), "unfilled slot: {text}");
        }
        let date = r["date"].as_str().unwrap();
        let b = date.as_bytes();
        assert_eq!(b.len(), 19, "{date}");
        assert_eq!(
            (b[4], b[7], b[10], b[13], b[16]),
            (b'-', b'-', b' ', b':', b':'),
            "{date}"
        );
        let num = |range: std::ops::Range<usize>| date[range].parse::<u32>().unwrap();
        let (year, month, day) = (num(0..4), num(5..7), num(8..10));
        assert!((2005..=2021).contains(&year), "{date}");
        years[(year - 2005) as usize] += 1;
        let leap = year % 4 == 0;
        let days = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
        assert!(
            (1..=12).contains(&month) && (1..=days[month as usize - 1]).contains(&day),
            "{date}"
        );
        assert!(num(11..13) < 24 && num(14..16) < 60 && num(17..19) < 60, "{date}");
    }
    let n = lines.len();
    // P(0) = 1 / (1 + c) for c = 1, 1/4, 1/3.
    for (k, expect) in [(0, 500), (1, 800), (2, 750)] {
        let got = zero[k] * 1000 / n;
        assert!(got.abs_diff(expect) < 40, "votes {k}: {got} per mille are 0");
    }
    // Later years hold most reviews.
    assert!(years[12..].iter().sum::<usize>() > n / 2, "{years:?}");
    assert!(years[0] < years[10], "{years:?}");
    // Some users write many reviews, most one.
    let most = users.values().max().copied().unwrap_or(0);
    assert!(most >= 3, "the busiest user wrote {most}");
    let once = users.values().filter(|&&c| c == 1).count();
    assert!(
        once * 2 > users.len(),
        "{once} of {} users wrote one review",
        users.len()
    );
}

#[test]
fn stars_follow_the_business_and_the_text_follows_the_stars() {
    let out = gen_reviews(2 << 20, 10, 0);
    let mut by_stars = [0usize; 5];
    let mut per_business: HashMap<String, (u64, u64)> = HashMap::new();
    for line in lines(&out) {
        let r = parse(line);
        let stars = r["stars"].as_f64().unwrap();
        assert!(stars.fract() == 0.0 && (1.0..=5.0).contains(&stars), "{line}");
        by_stars[stars as usize - 1] += 1;
        let e = per_business
            .entry(r["business_id"].as_str().unwrap().to_owned())
            .or_default();
        e.0 += stars as u64;
        e.1 += 1;
        let text = r["text"].as_str().unwrap();
        if stars == 5.0 {
            assert!(!text.contains("Never again."), "{line}");
        }
    }
    let n: usize = by_stars.iter().sum();
    assert!((by_stars[3] + by_stars[4]) * 100 / n > 55, "{by_stars:?}");
    assert!(by_stars[0] > by_stars[1], "a second peak at 1 star: {by_stars:?}");
    // Businesses differ: among the well-reviewed ones, some average well
    // above others.
    let means: Vec<u64> = per_business
        .values()
        .filter(|(_, count)| *count >= 20)
        .map(|(sum, count)| sum * 100 / count)
        .collect();
    let (lo, hi) = (means.iter().min().unwrap(), means.iter().max().unwrap());
    assert!(hi - lo > 80, "means {lo}..{hi}");
}

#[test]
fn escaping_round_trips_through_serde() {
    let samples = [
        "plain text",
        "quotes \" and \\ backslash",
        "two\n\nparagraphs\nand a tab\t and \r",
        "a/b w/ 24/7",
        "café phở Zoë — ’ “”",
        "emoji 😋 ❤️ ☕ and \u{1}",
    ];
    let mut rng = Rand::new(1, *b"test-esc");
    for ascii in [false, true] {
        for mixed in [false, true] {
            for slash in [false, true] {
                let esc = Escapes { ascii, mixed, slash };
                for s in samples {
                    let mut buf = vec![b'"'];
                    put_text(&mut buf, s, esc, &mut rng);
                    buf.push(b'"');
                    let text = std::str::from_utf8(&buf).unwrap();
                    assert_eq!(serde_json::from_str::<String>(text).unwrap(), s, "{text}");
                    assert!(!text.contains('\n'));
                    if ascii {
                        assert!(text.is_ascii(), "{text}");
                    } else if !mixed && !s.is_ascii() {
                        assert!(!text.is_ascii(), "{text}");
                    }
                    if !slash {
                        assert!(!text.contains("\\/"));
                    }
                }
            }
        }
    }
    let mut buf = Vec::new();
    let esc = Escapes {
        ascii: true,
        mixed: false,
        slash: true,
    };
    put_text(&mut buf, "é😋/", esc, &mut rng);
    assert_eq!(buf, br"\u00e9\ud83d\ude0b\/");
}

#[test]
fn templates_use_known_slots() {
    for t in POSITIVE.iter().chain(NEGATIVE).chain(NEUTRAL) {
        for (i, _) in t.match_indices('$') {
            let slot = t.as_bytes().get(i + 1).copied();
            assert!(
                matches!(
                    slot,
                    Some(
                        b'D' | b'A'
                            | b'B'
                            | b'V'
                            | b'S'
                            | b'P'
                            | b'O'
                            | b'T'
                            | b'M'
                            | b'K'
                            | b'E'
                            | b'm'
                            | b'n'
                            | b'p'
                            | b's'
                            | b'R'
                    )
                ),
                "{t}"
            );
        }
    }
    for w in DISHES.iter().chain(GOOD).chain(BAD).chain(NAMES).chain(PLACES) {
        assert!(!w.contains('$') && !w.is_empty(), "{w}");
    }
    for g in GARBAGE {
        assert!(serde_json::from_str::<Value>(g).is_err(), "{g:?} is JSON");
        assert!(!g.contains('\n'));
    }
    assert_eq!(YEAR_WEIGHTS.len(), 17);
}

#[test]
fn business_ids_dedupe_and_errors() {
    let mut twice = ids().to_vec();
    twice.extend_from_slice(ids());
    let mut a = Vec::new();
    yelp_reviews(&mut a, 50_000, 2, ids(), 0).unwrap();
    let mut b = Vec::new();
    yelp_reviews(&mut b, 50_000, 2, &twice, 0).unwrap();
    assert!(a == b, "duplicate ids count once");

    let e = yelp_reviews(&mut Vec::new(), 10, 1, &[], 0).unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
    let e = yelp_reviews(&mut Vec::new(), 10, 1, ids(), 1001).unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::InvalidInput);

    // An id that needs escaping is written escaped.
    let odd = vec!["a\"b\\c".to_owned()];
    let mut out = Vec::new();
    yelp_reviews(&mut out, 20_000, 1, &odd, 0).unwrap();
    let named = lines(&out)
        .iter()
        .filter(|l| parse(l)["business_id"] == "a\"b\\c")
        .count();
    assert!(named > 20, "{named}");
}

#[test]
fn unknown_businesses_are_well_formed_and_recur() {
    let out = gen_reviews(2 << 20, 12, 0);
    let known: HashSet<&str> = ids().iter().map(String::as_str).collect();
    let mut unknown: HashMap<String, usize> = HashMap::new();
    let lines = lines(&out);
    for line in &lines {
        let id = parse(line)["business_id"].as_str().unwrap().to_owned();
        if !known.contains(id.as_str()) {
            *unknown.entry(id).or_default() += 1;
        }
    }
    let total: usize = unknown.values().sum();
    let per_10k = total * 10_000 / lines.len();
    assert!((20..=100).contains(&per_10k), "{total} of {}", lines.len());
    assert!(unknown.len() <= 16 && unknown.values().any(|&c| c > 1), "{unknown:?}");
}
