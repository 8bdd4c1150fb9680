//! yelp-top-city's city lookup per line: the validating one-field scan
//! (`json_field::string_field`) against the serde_json parse it stands in
//! for, on generated `business.json` lines. Not a test:
//! `cargo bench -p mapreduce-jobs --bench json_field`.

use std::borrow::Cow;
use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mapreduce_jobs::json_field::{self, Field};

#[derive(serde::Deserialize)]
struct CityOnly<'a> {
    #[serde(borrow, default)]
    city: Option<Cow<'a, str>>,
}

fn city_lookup(c: &mut Criterion) {
    let mut data = Vec::new();
    mapreduce_jobs::datagen::yelp(&mut data, 4 << 20, 1).expect("generate");
    let text = String::from_utf8(data).expect("generated lines are UTF-8");
    let lines: Vec<&str> = text.lines().collect();

    let mut g = c.benchmark_group("city_lookup");
    g.throughput(Throughput::Bytes(text.len() as u64));
    g.bench_function("json_field_scan/4MiB", |b| {
        b.iter(|| {
            let mut found = 0usize;
            for line in &lines {
                if let Some(Field::Str(city)) = json_field::string_field(black_box(line), "city") {
                    found += city.len();
                }
            }
            found
        })
    });
    g.bench_function("serde_json/4MiB", |b| {
        b.iter(|| {
            let mut found = 0usize;
            for line in &lines {
                if let Ok(CityOnly { city: Some(city) }) = serde_json::from_str::<CityOnly<'_>>(black_box(line)) {
                    found += city.len();
                }
            }
            found
        })
    });
    g.finish();
}

criterion_group!(benches, city_lookup);
criterion_main!(benches);
