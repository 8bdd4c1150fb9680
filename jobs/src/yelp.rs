//! Jobs over Yelp's `business.json` (one JSON object per line).

use std::borrow::Cow;

use mapreduce::prelude::*;
use serde::{Deserialize, Serialize};

use crate::json_field::{self, Field};

/// The city key for a record with no usable city.
pub const MISSING_CITY: &str = "missing_city";

/// The fields of a business record these jobs read; the others are ignored.
#[derive(Debug, Clone, Deserialize)]
pub struct Business {
    /// The city; `None` when absent or null.
    #[serde(default)]
    pub city: Option<String>,
    /// The state or province code.
    #[serde(default)]
    pub state: Option<String>,
    /// Average rating, 1.0 to 5.0 in steps of 0.5.
    #[serde(default)]
    pub stars: Option<f64>,
    /// Number of reviews.
    #[serde(default)]
    pub review_count: Option<u64>,
    /// 1 if the business is open.
    #[serde(default)]
    pub is_open: Option<u8>,
    /// Comma-separated categories, or null.
    #[serde(default)]
    pub categories: Option<String>,
}

fn city_key(city: Option<&str>) -> &str {
    match city {
        Some(c) if !c.is_empty() => c,
        _ => MISSING_CITY,
    }
}

/// yelp-top-city, step 1 mapper: `(city, 1)` per business line.
///
/// It parses the line itself, as the original Python job did inside a
/// `try/except`: a malformed line is skipped and counted in the
/// `yelp`/`malformed lines` counter, never silently lost and never fatal.
/// Only `city` is read: by [`json_field::string_field`]'s validating scan,
/// or by serde_json where the scan is not sure.
#[derive(Debug, Clone, Default)]
pub struct CityCounter;

#[derive(Deserialize)]
struct CityOnly<'a> {
    #[serde(borrow, default)]
    city: Option<Cow<'a, str>>,
}

impl Mapper for CityCounter {
    type Input = TextLine;
    type Key = String;
    type Value = u64;

    fn map(&mut self, line: Line<'_>, out: &mut Emitter<'_, String, u64>) -> TaskResult {
        // The scan answers only where serde_json would give the same answer;
        // on the rest (city escapes, malformed lines) serde_json decides.
        if let Some(field) = json_field::string_field(line.text, "city") {
            let city = match field {
                Field::Str(city) => Some(city),
                Field::Absent => None,
            };
            out.emit_ref(city_key(city), &1);
            return Ok(());
        }
        // serde would also accept a JSON array as a struct; Python's
        // `d.get('city')` would not, so only objects are records.
        let is_object = line.text.trim_start().starts_with('{');
        match serde_json::from_str::<CityOnly<'_>>(line.text) {
            Ok(record) if is_object => out.emit_ref(city_key(record.city.as_deref()), &1),
            _ => out.counter("yelp", "malformed lines", 1),
        }
        Ok(())
    }
}

/// yelp-top-city, step 2 reducer: the largest `(count, city)`, as key
/// `count` and value `city` (ties go to the greater city name, as Python's
/// `max` of tuples does).
#[derive(Debug, Clone, Default)]
pub struct TopCity;

impl Reducer for TopCity {
    type Key = ();
    type Value = (u64, String);
    type OutKey = u64;
    type OutValue = String;

    fn reduce(&mut self, _: &(), totals: Values<'_, (u64, String)>, out: &mut Emitter<'_, u64, String>) -> TaskResult {
        if let Some((count, city)) = totals.max() {
            out.emit(count, city);
        }
        Ok(())
    }
}

/// The seed job: the city with the most businesses.
pub fn top_city() -> impl AnyJob {
    Job::new(
        "yelp-top-city",
        step::map(CityCounter)
            .combine_with(|a, b| *a += b)
            .reduce(crate::words::TotalsUnderOneKey),
    )
    .then(step::reduce(TopCity))
    .about("The city with the most businesses in Yelp's business.json (two steps)")
    .sample_input(crate::sample::yelp)
}

/// Per-city running totals (a value, summed by the combiner).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct CityTally {
    /// Businesses seen.
    pub businesses: u64,
    /// Sum of star ratings, in half stars (exact, so sums never depend on order).
    pub half_stars: u64,
    /// Businesses with a rating.
    pub rated: u64,
    /// Businesses open.
    pub open: u64,
    /// Reviews, summed: wider than one business's `u64` count, so that no
    /// sum of `u64`s can wrap (2^64 records would be needed).
    pub reviews: u128,
}

impl CityTally {
    fn add(&mut self, other: CityTally) {
        self.businesses += other.businesses;
        self.half_stars += other.half_stars;
        self.rated += other.rated;
        self.open += other.open;
        self.reviews += other.reviews;
    }
}

/// yelp-city-stats mapper: one tally per business, keyed by city. Reads
/// the framework's JSON-record input, so malformed lines are the
/// framework's business (an error, or skipped under `--skip-bad-records`).
#[derive(Debug, Clone, Default)]
pub struct CityTallies;

impl Mapper for CityTallies {
    type Input = JsonLine<Business>;
    type Key = String;
    type Value = CityTally;

    fn map(&mut self, b: Business, out: &mut Emitter<'_, String, CityTally>) -> TaskResult {
        // A rating outside Yelp's 0-5 (or `1e999`, read as infinity) would
        // saturate the half-star sum: it is counted and left out instead.
        let stars = match b.stars {
            Some(s) if !(0.0..=5.0).contains(&s) => {
                out.counter("yelp-city-stats", "stars out of range (ignored)", 1);
                None
            }
            stars => stars,
        };
        let tally = CityTally {
            businesses: 1,
            half_stars: stars.map_or(0, |s| (s * 2.0).round() as u64),
            rated: u64::from(stars.is_some()),
            open: u64::from(b.is_open == Some(1)),
            reviews: u128::from(b.review_count.unwrap_or(0)),
        };
        out.emit_ref(city_key(b.city.as_deref()), &tally);
        Ok(())
    }
}

/// What yelp-city-stats reports per city.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CityStats {
    /// Businesses in the city.
    pub businesses: u64,
    /// Mean star rating of the rated ones.
    pub mean_stars: Option<f64>,
    /// Share of businesses open, 0 to 1.
    pub share_open: f64,
    /// Total reviews.
    pub reviews: u128,
}

/// yelp-city-stats reducer.
#[derive(Debug, Clone, Default)]
pub struct CityStatsReducer;

impl Reducer for CityStatsReducer {
    type Key = String;
    type Value = CityTally;
    type OutKey = String;
    type OutValue = CityStats;

    fn reduce(
        &mut self,
        city: &String,
        tallies: Values<'_, CityTally>,
        out: &mut Emitter<'_, String, CityStats>,
    ) -> TaskResult {
        let mut t = CityTally::default();
        tallies.for_each(|x| t.add(x));
        out.emit(
            city.clone(),
            CityStats {
                businesses: t.businesses,
                mean_stars: (t.rated > 0).then(|| t.half_stars as f64 / 2.0 / t.rated as f64),
                share_open: t.open as f64 / t.businesses.max(1) as f64,
                reviews: t.reviews,
            },
        );
        Ok(())
    }
}

/// Per city: businesses, mean stars, share open, total reviews.
pub fn city_stats() -> impl AnyJob {
    Job::new(
        "yelp-city-stats",
        step::map(CityTallies)
            .combine_with(CityTally::add)
            .reduce(CityStatsReducer),
    )
    .about("Per city: businesses, mean stars, share open, total reviews")
    .sample_input(crate::sample::yelp)
}

/// yelp-top-categories, step 1 mapper: `((state, category), 1)` for each of
/// a business's comma-separated categories.
#[derive(Debug, Clone, Default)]
pub struct StateCategories;

impl Mapper for StateCategories {
    type Input = JsonLine<Business>;
    type Key = (String, String);
    type Value = u64;

    fn map(&mut self, b: Business, out: &mut Emitter<'_, (String, String), u64>) -> TaskResult {
        let state = b.state.unwrap_or_default();
        for category in b.categories.as_deref().unwrap_or("").split(',') {
            let category = category.trim();
            if !category.is_empty() {
                out.emit((state.clone(), category.to_owned()), 1);
            }
        }
        Ok(())
    }
}

/// yelp-top-categories, step 1 reducer: `(state, (count, category))`.
#[derive(Debug, Clone, Default)]
pub struct StateCategoryTotal;

impl Reducer for StateCategoryTotal {
    type Key = (String, String);
    type Value = u64;
    type OutKey = String;
    type OutValue = (u64, String);

    fn reduce(
        &mut self,
        (state, category): &(String, String),
        counts: Values<'_, u64>,
        out: &mut Emitter<'_, String, (u64, String)>,
    ) -> TaskResult {
        out.emit(state.clone(), (counts.sum(), category.clone()));
        Ok(())
    }
}

/// How many categories yelp-top-categories keeps per state.
pub const TOP_CATEGORIES: usize = 3;

/// yelp-top-categories, step 2 reducer: the top categories of a state, most
/// businesses first, ties by name. Keeps only the top few in memory.
#[derive(Debug, Clone, Default)]
pub struct TopCategories;

impl Reducer for TopCategories {
    type Key = String;
    type Value = (u64, String);
    type OutKey = String;
    type OutValue = Vec<(String, u64)>;

    fn reduce(
        &mut self,
        state: &String,
        totals: Values<'_, (u64, String)>,
        out: &mut Emitter<'_, String, Vec<(String, u64)>>,
    ) -> TaskResult {
        let rank = |(count, category): &(u64, String)| (std::cmp::Reverse(*count), category.clone());
        let mut top: Vec<(u64, String)> = Vec::with_capacity(TOP_CATEGORIES + 1);
        for total in totals {
            top.push(total);
            top.sort_by_key(rank);
            top.truncate(TOP_CATEGORIES);
        }
        out.emit(
            state.clone(),
            top.into_iter().map(|(count, category)| (category, count)).collect(),
        );
        Ok(())
    }
}

/// The top categories per state (two steps).
pub fn top_categories() -> impl AnyJob {
    Job::new(
        "yelp-top-categories",
        step::map(StateCategories)
            .combine_with(|a, b| *a += b)
            .reduce(StateCategoryTotal),
    )
    .then(step::reduce(TopCategories))
    .about("The top 3 categories per state by number of businesses (two steps)")
    .sample_input(crate::sample::yelp)
}
