//! Jobs joining Yelp's `review.json` to `business.json`: reviews per city
//! and their mean stars, as a reduce-side join (`yelp-city-reviews`), as a
//! map-side join with the businesses as a side file
//! (`yelp-city-reviews-broadcast`), and the city with the most reviews
//! (`yelp-top-reviewed-city`).
//!
//! Both joins give the same bytes. A line is read as the seed job reads
//! one: a line that is not a JSON object with the fields the job needs is
//! skipped and counted (`yelp` / `malformed lines`), never fatal. A
//! business needs a string `business_id` (its `city` may be absent, null
//! or empty: `missing_city`); a review needs a string `business_id` and
//! `stars` of 1 to 5 (`4` and `4.0` alike). Reviews of businesses the
//! business file does not have are dropped and counted.

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::BufRead;
use std::sync::Arc;

use mapreduce::prelude::*;
use serde::{Deserialize, Serialize};

use crate::yelp::{MISSING_CITY, TopCity};

/// The job's own options: `mr-run yelp-city-reviews --min-reviews N`.
#[derive(Debug, Clone, Default, clap::Args, Serialize, Deserialize)]
pub struct ReviewOptions {
    /// Leave out cities with fewer than N reviews.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub min_reviews: u64,
}

/// A city's reviews so far: how many, and their stars summed.
pub type Tally = (u64, u64);

fn add(acc: &mut Tally, more: Tally) {
    acc.0 += more.0;
    acc.1 += more.1;
}

#[derive(Deserialize)]
struct BusinessFields<'a> {
    #[serde(borrow)]
    business_id: Cow<'a, str>,
    #[serde(borrow, default)]
    city: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct ReviewFields<'a> {
    #[serde(borrow)]
    business_id: Cow<'a, str>,
    stars: f64,
}

/// A business line's id and city key, or `None` if it is malformed.
fn parse_business(line: &str) -> Option<(Cow<'_, str>, String)> {
    // serde would take a JSON array for a struct; only objects are records.
    if !line.trim_start().starts_with('{') {
        return None;
    }
    // From bytes, not `from_str`: see `parse_review`.
    let b: BusinessFields<'_> = serde_json::from_slice(line.as_bytes()).ok()?;
    let city = match b.city.as_deref() {
        Some(c) if !c.is_empty() => c.to_owned(),
        _ => MISSING_CITY.to_owned(),
    };
    Some((b.business_id, city))
}

/// A review line's business id and stars, or `None` if it is malformed.
fn parse_review(line: &str) -> Option<(Cow<'_, str>, u64)> {
    if !line.trim_start().starts_with('{') {
        return None;
    }
    // Read from bytes, which costs this job a UTF-8 check of the fields it
    // keeps, because the derived skip of unknown fields for `from_str` is
    // a generic function `yelp-top-city`'s record uses too: with three
    // users in the crate the compiler stopped inlining it into that job's
    // loop (callgrind, 64 MiB: 917M instructions before this job existed,
    // 963M with it on `from_str`, 918M with it on `from_slice`).
    let r: ReviewFields<'_> = serde_json::from_slice(line.as_bytes()).ok()?;
    let stars = [1.0, 2.0, 3.0, 4.0, 5.0].iter().position(|&s| s == r.stars)? as u64 + 1;
    Some((r.business_id, stars))
}

fn malformed<K: Key, V: Value>(out: &mut Emitter<'_, K, V>) {
    out.counter("yelp", "malformed lines", 1);
}

/// yelp-city-reviews, left side: `(business_id, city)` per business line.
#[derive(Debug, Clone, Default)]
pub struct BusinessCities;

impl Mapper for BusinessCities {
    type Input = TextLine;
    type Key = String;
    type Value = String;

    fn map(&mut self, line: Line<'_>, out: &mut Emitter<'_, String, String>) -> TaskResult {
        match parse_business(line.text) {
            Some((id, city)) => out.emit_ref(&*id, &city),
            None => malformed(out),
        }
        Ok(())
    }
}

/// yelp-city-reviews, right side: `(business_id, stars)` per review line.
#[derive(Debug, Clone, Default)]
pub struct ReviewStars;

impl Mapper for ReviewStars {
    type Input = TextLine;
    type Key = String;
    type Value = u64;

    fn map(&mut self, line: Line<'_>, out: &mut Emitter<'_, String, u64>) -> TaskResult {
        match parse_review(line.text) {
            Some((id, stars)) => out.emit_ref(&*id, &stars),
            None => malformed(out),
        }
        Ok(())
    }
}

/// yelp-city-reviews, the join: each review's stars to its business's
/// city, tallied per city in the reduce task and emitted when it ends
/// (one pair per city and task, not per review).
#[derive(Debug, Clone, Default)]
pub struct CityTallies {
    tallies: HashMap<String, Tally>,
}

impl Joiner for CityTallies {
    type Key = String;
    type Left = String;
    type Right = u64;
    type OutKey = String;
    type OutValue = Tally;

    fn matched(&mut self, _: &String, city: &String, stars: &u64, _: &mut Emitter<'_, String, Tally>) -> TaskResult {
        match self.tallies.get_mut(city) {
            Some(t) => add(t, (1, *stars)),
            None => {
                self.tallies.insert(city.clone(), (1, *stars));
            }
        }
        Ok(())
    }

    fn cleanup(&mut self, out: &mut Emitter<'_, String, Tally>) -> TaskResult {
        for (city, tally) in self.tallies.drain() {
            out.emit(city, tally);
        }
        Ok(())
    }
}

/// The aggregation step of both joins: `(count, mean stars)` per city
/// with at least `--min-reviews` reviews.
#[derive(Debug, Clone, Default)]
pub struct CityMeans {
    min_reviews: u64,
}

impl Reducer for CityMeans {
    type Key = String;
    type Value = Tally;
    type OutKey = String;
    type OutValue = (u64, f64);

    fn setup(&mut self, out: &mut Emitter<'_, String, (u64, f64)>) -> TaskResult {
        self.min_reviews = out.options::<ReviewOptions>()?.min_reviews;
        Ok(())
    }

    fn reduce(
        &mut self,
        city: &String,
        tallies: Values<'_, Tally>,
        out: &mut Emitter<'_, String, (u64, f64)>,
    ) -> TaskResult {
        let mut total = (0, 0);
        for t in tallies {
            add(&mut total, t);
        }
        let (count, stars) = total;
        if count > 0 && count >= self.min_reviews {
            out.emit(city.clone(), (count, stars as f64 / count as f64));
        }
        Ok(())
    }
}

fn city_means() -> step::Step<Pairs<String, Tally>, String, (u64, f64)> {
    step::identity::<String, Tally>()
        .combine_with(add)
        .reduce(CityMeans::default())
}

fn join_step() -> step::Step<step::Named, String, Tally> {
    step::join(
        step::input("business", BusinessCities),
        step::input("review", ReviewStars),
    )
    .inner(CityTallies::default())
}

/// `yelp-city-reviews`: reviews per city and their mean stars, a
/// reduce-side join of `--input business=FILE` and `--input review=FILE`.
pub fn city_reviews() -> impl AnyJob {
    Job::new("yelp-city-reviews", join_step())
        .then(city_means())
        .options::<ReviewOptions>()
        .about(
            "Reviews per city and their mean stars: reviews joined to businesses (--input business=F --input review=F)",
        )
}

/// yelp-top-reviewed-city, step 3 mapper: every city's count under one key.
#[derive(Debug, Clone, Default)]
pub struct CountsUnderOneKey;

impl Mapper for CountsUnderOneKey {
    type Input = Pairs<String, (u64, f64)>;
    type Key = ();
    type Value = (u64, String);

    fn map(
        &mut self,
        (city, (count, _)): (String, (u64, f64)),
        out: &mut Emitter<'_, (), (u64, String)>,
    ) -> TaskResult {
        out.emit((), (count, city));
        Ok(())
    }
}

/// `yelp-top-reviewed-city`: the city with the most reviews (ties to the
/// greater name), `count TAB city`, on top of `yelp-city-reviews`.
pub fn top_reviewed_city() -> impl AnyJob {
    Job::new("yelp-top-reviewed-city", join_step())
        .then(city_means())
        .then(step::map(CountsUnderOneKey).reduce(TopCity))
        .options::<ReviewOptions>()
        .about("The city with the most reviews (three steps: join, per-city tally, max)")
}

/// Business id to the city keys of the businesses with that id (one,
/// in a file whose ids are unique).
pub type CityTable = HashMap<String, Vec<String>>;

/// The business side file of `yelp-city-reviews-broadcast`: every
/// well-formed business line's id and city key; malformed lines are
/// skipped (and counted in the table).
pub fn business_table() -> SideFile<BusinessTable> {
    SideFile::new("business", |file: &mut dyn BufRead| {
        let mut table = BusinessTable::default();
        let mut line = Vec::new();
        loop {
            line.clear();
            if file.read_until(b'\n', &mut line)? == 0 {
                break;
            }
            let mut bytes = line.as_slice();
            bytes = bytes.strip_suffix(b"\n").unwrap_or(bytes);
            bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
            // As TextLine reads a line: Latin-1 where it is not UTF-8.
            let text: Cow<'_, str> = match std::str::from_utf8(bytes) {
                Ok(s) => Cow::Borrowed(s),
                Err(_) => Cow::Owned(bytes.iter().map(|&b| char::from(b)).collect()),
            };
            match parse_business(&text) {
                Some((id, city)) => table.cities.entry(id.into_owned()).or_default().push(city),
                None => table.malformed += 1,
            }
        }
        Ok(table)
    })
}

/// The loaded business side file.
#[derive(Debug, Default)]
pub struct BusinessTable {
    /// Business id to city keys.
    pub cities: CityTable,
    /// Malformed business lines.
    pub malformed: u64,
}

/// yelp-city-reviews-broadcast mapper: each review's stars to its
/// business's city, looked up in the side file, tallied per city.
#[derive(Debug, Clone)]
pub struct ReviewCities {
    business: SideFile<BusinessTable>,
    table: Option<Arc<BusinessTable>>,
}

impl Mapper for ReviewCities {
    type Input = TextLine;
    type Key = String;
    type Value = Tally;

    fn setup(&mut self, out: &mut Emitter<'_, String, Tally>) -> TaskResult {
        self.table = Some(out.side(&self.business)?);
        Ok(())
    }

    fn map(&mut self, line: Line<'_>, out: &mut Emitter<'_, String, Tally>) -> TaskResult {
        let table = self
            .table
            .as_ref()
            .ok_or("the business table was not loaded in setup")?;
        let Some((id, stars)) = parse_review(line.text) else {
            malformed(out);
            return Ok(());
        };
        match table.cities.get(&*id) {
            Some(cities) => {
                for city in cities {
                    out.emit_ref(city, &(1, stars));
                }
            }
            None => out.counter("yelp", "reviews of unknown businesses", 1),
        }
        Ok(())
    }
}

/// `yelp-city-reviews-broadcast`: `yelp-city-reviews` as a map-side join,
/// the businesses a side file (`--side business=FILE REVIEWS...`).
pub fn city_reviews_broadcast() -> impl AnyJob {
    let business = business_table();
    Job::new(
        "yelp-city-reviews-broadcast",
        step::map(ReviewCities {
            business: business.clone(),
            table: None,
        })
        .combine_with(add)
        .reduce(CityMeans::default()),
    )
    .side_file(&business)
    .options::<ReviewOptions>()
    .about("yelp-city-reviews as a map-side join: --side business=FILE, the reviews as input")
}
