use std::collections::{BTreeSet, HashMap, HashSet};

use serde_json::Value;

use super::super::{Generated, yelp};
use super::*;

const SAMPLE: u64 = 2 << 20;

#[test]
fn sizes_are_reached_with_whole_lines_and_prefixes_hold() {
    super::super::check_sizes_and_prefixes(yelp, 3 << 20, &[1, 100, 700, 801, 5_000, 123_457, 499_999, 3 << 20], 11);
}

fn gen_yelp(size: u64, seed: u64) -> (Vec<u8>, Generated) {
    let mut out = Vec::new();
    let g = yelp(&mut out, size, seed).unwrap();
    (out, g)
}

fn sample_lines(seed: u64) -> Vec<String> {
    let (out, _) = gen_yelp(SAMPLE, seed);
    String::from_utf8(out).unwrap().lines().map(str::to_owned).collect()
}

fn parse(line: &str) -> serde_json::Map<String, Value> {
    match serde_json::from_str::<Value>(line) {
        Ok(Value::Object(map)) => map,
        other => panic!("not a JSON object ({other:?}): {line}"),
    }
}

fn share(count: usize, total: usize) -> f64 {
    count as f64 / total as f64
}

#[test]
fn deterministic_per_seed() {
    let (a, ga) = gen_yelp(300_000, 42);
    let (b, gb) = gen_yelp(300_000, 42);
    let (c, _) = gen_yelp(300_000, 43);
    assert_eq!(a, b);
    assert_eq!(ga, gb);
    assert_ne!(a, c);
}

/// Pins the stream: benchmark inputs must stay byte-identical across
/// builds. A deliberate change to the generator updates these values
/// (and invalidates previously generated inputs).
#[test]
fn output_is_pinned() {
    let (out, g) = gen_yelp(1, 1);
    assert_eq!(g.records, 1);
    assert_eq!(
        std::str::from_utf8(&out).unwrap(),
        concat!(
            r#"{"business_id":"IhttBULN_YNnbsVn1ciDiQ","name":"Lee Brewing Co.","#,
            r#""address":"9584 River Street","city":"Phoenix","state":"AZ","#,
            r#""postal_code":"85070","latitude":33.4905337,"longitude":-111.9600936,"#,
            r#""stars":4.0,"review_count":16,"is_open":1,"attributes":null,"#,
            r#""categories":"General Dentistry, Indian","hours":{"Monday":"16:0-1:45","#,
            r#""Tuesday":"16:0-1:45","Wednesday":"16:0-1:45","Thursday":"16:0-1:45","#,
            r#""Friday":"16:0-1:45","Saturday":"16:0-1:45","Sunday":"16:0-1:45"}}"#,
            "\n"
        )
    );
    let (out, g) = gen_yelp(65_536, 1);
    assert_eq!(g.bytes, 65_753);
    assert_eq!(fnv1a(&out), 0x30fb_bb3d_17ef_592a);
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[test]
fn every_line_is_a_business_in_the_real_field_order() {
    let lines = sample_lines(1);
    let order = [
        "business_id",
        "name",
        "neighborhood",
        "address",
        "city",
        "state",
        "postal_code",
        "latitude",
        "longitude",
        "stars",
        "review_count",
        "is_open",
        "attributes",
        "categories",
        "hours",
    ];
    let mut ids = HashSet::new();
    let mut open = 0;
    for line in &lines {
        assert!(!line.contains("\": ") && !line.contains(", \""), "not compact: {line}");
        let d = parse(line);
        // Keys appear in the real order (serde_json's map is sorted, so
        // check positions in the raw line).
        let mut last = 0;
        for key in order {
            if let Some(p) = line.find(&format!("\"{key}\":")) {
                assert!(p >= last, "{key} out of order: {line}");
                last = p;
            }
        }
        for key in d.keys() {
            assert!(order.contains(&key.as_str()), "unexpected key {key}");
        }
        let id = d["business_id"].as_str().unwrap();
        assert_eq!(id.len(), 22);
        assert!(id.bytes().all(|b| ID_ALPHABET.contains(&b)), "{id}");
        assert!(ids.insert(id.to_owned()), "duplicate id {id}");
        assert!(d["name"].is_string() && d["address"].is_string());
        assert!(d["state"].is_string() && d["postal_code"].is_string());
        let lat = d["latitude"].as_f64().unwrap();
        let lon = d["longitude"].as_f64().unwrap();
        assert!((-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon));
        let stars = d["stars"].as_f64().unwrap();
        assert!((1.0..=5.0).contains(&stars) && (stars * 2.0).fract() == 0.0);
        assert!(line.contains(&format!("\"stars\":{stars:.1},")), "stars not x.y");
        assert!(d["review_count"].as_u64().unwrap() >= 3);
        let is_open = d["is_open"].as_u64().unwrap();
        assert!(is_open <= 1);
        open += is_open as usize;
    }
    let open = share(open, lines.len());
    assert!((0.75..0.85).contains(&open), "is_open share {open}");
}

#[test]
fn null_fields_and_value_shapes() {
    let lines = sample_lines(2);
    let n = lines.len();
    let (mut attrs_null, mut hours_null, mut cats_null) = (0, 0, 0);
    let mut attr_values: HashSet<String> = HashSet::new();
    let mut py_dicts = 0;
    let mut multi_category = 0;
    let mut comma_in_category = 0;
    for line in &lines {
        let d = parse(line);
        match &d["attributes"] {
            Value::Null => attrs_null += 1,
            Value::Object(attrs) => {
                assert!(!attrs.is_empty());
                for v in attrs.values() {
                    let v = v.as_str().expect("attribute values are strings");
                    if v.starts_with("{'") {
                        assert!(v.ends_with('}') && v.contains("': "), "{v}");
                        py_dicts += 1;
                    }
                    attr_values.insert(v.to_owned());
                }
            }
            other => panic!("attributes {other}"),
        }
        match &d["hours"] {
            Value::Null => hours_null += 1,
            Value::Object(hours) => {
                assert!(!hours.is_empty());
                for (day, v) in hours {
                    assert!(DAYS.contains(&day.as_str()), "{day}");
                    let v = v.as_str().unwrap();
                    let (open, close) = v.split_once('-').unwrap();
                    for t in [open, close] {
                        let (h, m) = t.split_once(':').unwrap();
                        assert!(h.parse::<u8>().unwrap() < 24, "{v}");
                        assert!(m.parse::<u8>().unwrap() < 60, "{v}");
                        assert!(m == "0" || m.len() == 2, "minutes unpadded: {v}");
                    }
                }
            }
            other => panic!("hours {other}"),
        }
        match &d["categories"] {
            Value::Null => cats_null += 1,
            Value::String(c) => {
                // Split on the table's names, not on ",", because some
                // names contain a comma.
                let mut rest = c.as_str();
                let mut count = 0;
                while !rest.is_empty() {
                    let name = CATEGORIES
                        .iter()
                        .map(|(name, _)| *name)
                        .filter(|name| {
                            rest.starts_with(name) && (rest.len() == name.len() || rest[name.len()..].starts_with(", "))
                        })
                        .max_by_key(|name| name.len())
                        .unwrap_or_else(|| panic!("unknown category in {c}"));
                    comma_in_category += usize::from(name.contains(','));
                    rest = rest[name.len()..].trim_start_matches(", ");
                    count += 1;
                }
                assert!((1..=6).contains(&count), "{c}");
                multi_category += usize::from(count > 1);
            }
            other => panic!("categories {other}"),
        }
    }
    let rate = share(attrs_null, n);
    assert!((0.07..0.13).contains(&rate), "attributes null {rate}");
    let rate = share(hours_null, n);
    assert!((0.12..0.18).contains(&rate), "hours null {rate}");
    let rate = share(cats_null, n);
    assert!(cats_null > 0 && rate < 0.025, "categories null {rate}");
    for v in ["u'casual'", "'none'", "True", "False", "None", "2"] {
        assert!(attr_values.contains(v), "attribute value {v} missing");
    }
    assert!(attr_values.iter().any(|v| v.starts_with("{'garage': ")));
    assert!(py_dicts > n / 4, "{py_dicts} Python dict reprs");
    assert!(share(multi_category, n) > 0.5);
    assert!(comma_in_category > 0, "no category name with a comma");
}

#[test]
fn escapes_and_non_ascii() {
    let lines = sample_lines(3);
    let n = lines.len();
    let (mut slash_escaped, mut u_escaped, mut raw_utf8, mut cjk, mut quoted) = (0, 0, 0, 0, 0);
    let mut decoded_slash = false;
    for line in &lines {
        let d = parse(line);
        if line.contains("\\/") {
            slash_escaped += 1;
        }
        if line.contains("\\u00") {
            u_escaped += 1;
        }
        if !line.is_ascii() {
            raw_utf8 += 1;
        }
        if line.contains("\\\"") {
            quoted += 1;
        }
        let strings = ["name", "address", "city", "categories"]
            .iter()
            .filter_map(|k| d.get(*k).and_then(Value::as_str));
        for s in strings {
            decoded_slash |= s.contains('/');
            assert!(!s.contains("\\/") && !s.contains("\\u"), "undecoded escape in {s}");
            cjk += s.chars().filter(|c| ('\u{4e00}'..='\u{9fff}').contains(c)).count();
        }
    }
    assert!(slash_escaped > n / 200, "\\/ on {slash_escaped} lines");
    assert!(decoded_slash);
    assert!(u_escaped > n / 100, "\\u00XX on {u_escaped} lines");
    assert!(raw_utf8 > n / 100, "raw UTF-8 on {raw_utf8} lines");
    assert!(cjk > 0, "no CJK");
    assert!(quoted > 0, "no escaped quote");
    let all = lines.concat();
    for raw in ["Montréal", "Montr\\u00e9al", "Zürich", "Québec", "São Paulo"] {
        assert!(all.contains(raw), "{raw} missing");
    }
}

#[test]
fn city_quirks_and_skew() {
    let lines = sample_lines(4);
    let n = lines.len();
    let (mut missing, mut null, mut empty) = (0, 0, 0);
    let mut counts: HashMap<String, usize> = HashMap::new();
    let mut neighborhood = 0;
    let states: HashMap<&str, BTreeSet<&str>> = CITIES.iter().fold(HashMap::new(), |mut m, &(city, metro)| {
        m.entry(city).or_default().insert(METROS[metro].state);
        m
    });
    for line in &lines {
        let d = parse(line);
        neighborhood += usize::from(d.contains_key("neighborhood"));
        match d.get("city") {
            None => missing += 1,
            Some(Value::Null) => null += 1,
            Some(Value::String(c)) if c.is_empty() => empty += 1,
            Some(Value::String(c)) => {
                *counts.entry(c.clone()).or_default() += 1;
                // State matches the city's, whatever the city's case.
                let state = d["state"].as_str().unwrap();
                let known = CITIES
                    .iter()
                    .find(|(name, _)| name.to_lowercase() == c.to_lowercase())
                    .unwrap_or_else(|| panic!("unknown city {c}"));
                assert!(states[known.0].contains(state), "{c} in {state}");
            }
            Some(other) => panic!("city {other}"),
        }
    }
    assert!(missing > 0 && share(missing, n) < 0.01, "missing city {missing}");
    assert!(null > 0 && share(null, n) < 0.01, "null city {null}");
    assert!(empty > 0 && share(empty, n) < 0.015, "empty city {empty}");
    for variant in ["las vegas", "LAS VEGAS"] {
        assert!(counts.contains_key(variant), "{variant} missing");
    }
    let rate = share(neighborhood, n);
    assert!((0.17..0.23).contains(&rate), "neighborhood {rate}");

    let mut ranked: Vec<(usize, &String)> = counts.iter().map(|(c, &k)| (k, c)).collect();
    ranked.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(ranked[0].1, "Las Vegas");
    let top = share(ranked[0].0, n);
    assert!((0.03..0.25).contains(&top), "top city share {top}");
    assert!(ranked[0].0 as f64 > 1.2 * ranked[1].0 as f64, "top not clearly ahead");
    assert!(counts.len() > 150, "only {} cities", counts.len());
}

#[test]
fn tables_are_consistent() {
    assert!((280..=320).contains(&CITIES.len()));
    assert!((100..=130).contains(&CATEGORIES.len()));
    let names: HashSet<&str> = CITIES.iter().map(|c| c.0).collect();
    // Only the deliberate same-name-other-state pairs repeat.
    assert_eq!(names.len(), CITIES.len() - 2);
    let cats: HashSet<&str> = CATEGORIES.iter().map(|c| c.0).collect();
    assert_eq!(cats.len(), CATEGORIES.len());
}

#[test]
fn escaping_matches_serde() {
    let s = "Bar / Grill \"Café\" \\ 寿司 😀";
    for (ascii, slash) in [(false, false), (true, true)] {
        let mut buf = Vec::new();
        put_str(&mut buf, s, Escapes { ascii, slash });
        let text = String::from_utf8(buf).unwrap();
        assert_eq!(serde_json::from_str::<String>(&text).unwrap(), s);
        assert_eq!(text.contains("\\/"), slash);
        assert_eq!(text.is_ascii(), ascii);
    }
    let mut buf = Vec::new();
    put_str(
        &mut buf,
        "é😀",
        Escapes {
            ascii: true,
            slash: false,
        },
    );
    assert_eq!(buf, b"\"\\u00e9\\ud83d\\ude00\"");
}

#[test]
fn coordinates_print_like_python_floats() {
    for (e7, want) in [
        (361_699_412, "36.1699412"),
        (-1_151_398_000, "-115.1398"),
        (360_000_000, "36.0"),
        (500_000, "0.05"),
        (-235_505_001, "-23.5505001"),
    ] {
        let mut buf = Vec::new();
        put_coord(&mut buf, e7);
        assert_eq!(buf, want.as_bytes());
    }
}
