//! The Yelp jobs against an in-memory oracle that reads the same generated
//! lines with `serde_json::Value`, plus the quirks of the real file.

use std::collections::BTreeMap;

use mapreduce::{AnyJob, RunConfig};
use mapreduce_jobs::datagen;
use serde_json::{Value, json};

fn run(job: &dyn AnyJob, data: &[u8], reducers: u32) -> Vec<(Value, Value)> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("business.json");
    std::fs::write(&path, data).unwrap();
    let mut config = RunConfig::new([path.to_string_lossy().into_owned()]);
    config.reducers = reducers;
    let mut out = Vec::new();
    mapreduce::runner::run(job, &config, &mut out).unwrap();
    String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| {
            let (k, v) = l.split_once('\t').unwrap();
            (serde_json::from_str(k).unwrap(), serde_json::from_str(v).unwrap())
        })
        .collect()
}

fn records(data: &[u8]) -> Vec<Value> {
    data.split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).unwrap())
        .collect()
}

fn city(r: &Value) -> String {
    match r.get("city").and_then(Value::as_str) {
        Some(c) if !c.is_empty() => c.to_owned(),
        _ => "missing_city".to_owned(),
    }
}

fn sample(size: u64, seed: u64) -> Vec<u8> {
    let mut data = Vec::new();
    datagen::yelp(&mut data, size, seed).unwrap();
    data
}

#[test]
fn city_stats_match_the_oracle() {
    let data = sample(400 << 10, 21);
    #[derive(Default)]
    struct T {
        n: u64,
        stars: f64,
        rated: u64,
        open: u64,
        reviews: u64,
    }
    let mut oracle: BTreeMap<String, T> = BTreeMap::new();
    for r in records(&data) {
        let t = oracle.entry(city(&r)).or_default();
        t.n += 1;
        if let Some(s) = r["stars"].as_f64() {
            t.stars += s;
            t.rated += 1;
        }
        t.open += u64::from(r["is_open"].as_u64() == Some(1));
        t.reviews += r["review_count"].as_u64().unwrap_or(0);
    }
    let got = run(&mapreduce_jobs::yelp::city_stats(), &data, 2);
    assert_eq!(got.len(), oracle.len());
    for (k, v) in got {
        let t = &oracle[k.as_str().unwrap()];
        let expected = json!({
            "businesses": t.n,
            "mean_stars": if t.rated > 0 { json!(t.stars / t.rated as f64) } else { Value::Null },
            "share_open": t.open as f64 / t.n as f64,
            "reviews": t.reviews,
        });
        assert_eq!(v, expected, "city {k}");
    }
}

#[test]
fn top_categories_match_the_oracle() {
    let data = sample(400 << 10, 22);
    let mut counts: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    for r in records(&data) {
        let state = r["state"].as_str().unwrap_or("").to_owned();
        for c in r["categories"].as_str().unwrap_or("").split(',') {
            let c = c.trim();
            if !c.is_empty() {
                *counts
                    .entry(state.clone())
                    .or_default()
                    .entry(c.to_owned())
                    .or_default() += 1;
            }
        }
    }
    let oracle: BTreeMap<String, Value> = counts
        .into_iter()
        .map(|(state, cats)| {
            let mut v: Vec<(String, u64)> = cats.into_iter().collect();
            v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            v.truncate(3);
            (state, json!(v))
        })
        .collect();
    let got: BTreeMap<String, Value> = run(&mapreduce_jobs::yelp::top_categories(), &data, 3)
        .into_iter()
        .map(|(k, v)| (k.as_str().unwrap().to_owned(), v))
        .collect();
    assert!(got.len() > 3, "several states");
    assert_eq!(got, oracle);
}

#[test]
fn real_file_quirks_are_survived() {
    // Shapes seen in the real business.json, written by hand here (no real
    // records): null attributes and hours, dicts stored as strings, u''
    // values, \/ escapes, escaped and raw non-ASCII, a neighborhood field,
    // empty/missing/null cities, and cities differing only in case.
    let lines = [
        r#"{"business_id":"a1","name":"Caf\u00e9 \/ Bar","neighborhood":"","city":"Montr\u00e9al","state":"QC","stars":4.5,"review_count":3,"is_open":1,"attributes":null,"categories":"Cafes, Bars","hours":null}"#,
        r#"{"business_id":"a2","name":"Deli","city":"Montréal","state":"QC","stars":3.0,"review_count":1,"is_open":0,"attributes":{"BusinessParking":"{'garage': False, 'street': True}","RestaurantsAttire":"u'casual'"},"categories":null,"hours":{"Monday":"8:0-22:0"}}"#,
        r#"{"business_id":"a3","name":"X","city":"Las Vegas","state":"NV","stars":5.0,"review_count":0,"is_open":1,"attributes":null,"categories":"Bars","hours":null}"#,
        r#"{"business_id":"a4","name":"Y","city":"las vegas","state":"NV","stars":5.0,"review_count":0,"is_open":1,"attributes":null,"categories":"Bars","hours":null}"#,
        r#"{"business_id":"a5","name":"Z","city":"","state":"NV","stars":1.0,"review_count":0,"is_open":1,"attributes":null,"categories":"Bars","hours":null}"#,
        r#"{"business_id":"a6","name":"W","state":"NV","stars":1.0,"review_count":0,"is_open":1,"attributes":null,"categories":"Bars","hours":null}"#,
        r#"{"business_id":"a7","name":"V","city":null,"state":"NV","stars":1.0,"review_count":0,"is_open":1,"attributes":null,"categories":"Bars","hours":null}"#,
    ];
    let data = lines.join("\n") + "\n";
    assert_eq!(
        run(&mapreduce_jobs::yelp::top_city(), data.as_bytes(), 1),
        vec![(json!(3), json!("missing_city"))]
    );
    let stats: BTreeMap<String, Value> = run(&mapreduce_jobs::yelp::city_stats(), data.as_bytes(), 1)
        .into_iter()
        .map(|(k, v)| (k.as_str().unwrap().to_owned(), v["businesses"].clone()))
        .collect();
    let expected: BTreeMap<String, Value> = [("Las Vegas", 1), ("Montréal", 2), ("las vegas", 1), ("missing_city", 3)]
        .into_iter()
        .map(|(k, n)| (k.to_owned(), json!(n)))
        .collect();
    assert_eq!(stats, expected);
}

/// Issue 8: two `u64::MAX` review counts used to wrap to `u64::MAX - 1`,
/// and a rating of `1e300` saturated the star sum (`1e999` is a bad record: out of range for JSON numbers here).
#[test]
fn issue8_city_stats_sums_do_not_wrap() {
    let max = u64::MAX;
    let data = format!(
        "{{\"city\": \"X\", \"review_count\": {max}, \"stars\": 4.0}}\n\
         {{\"city\": \"X\", \"review_count\": {max}, \"stars\": 1e300}}\n"
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("business.json");
    std::fs::write(&path, data).unwrap();
    let mut out = Vec::new();
    let config = RunConfig::new([path.to_string_lossy().into_owned()]);
    mapreduce::runner::run(&mapreduce_jobs::yelp::city_stats(), &config, &mut out).unwrap();
    // The exact text: a JSON parser here would read the sum as a float.
    let want = format!(
        "\"X\"\t{{\"businesses\": 2, \"mean_stars\": 4.0, \"share_open\": 0.0, \"reviews\": {}}}\n",
        2 * u128::from(max)
    );
    assert_eq!(String::from_utf8(out).unwrap(), want);
}
