//! Real jobs written only against `mapreduce`'s public API, as a user's
//! crate would be, and the data generators behind `mr-run gen`.
//!
//! Each job is a function returning `impl AnyJob`; [`all`] lists them for
//! `mr-run`.

use mapreduce::AnyJob;

pub mod countwords;
pub mod datagen;
pub mod examples;
pub mod json_field;
pub mod reviews;
pub mod sample;
pub mod terasort;
pub mod words;
pub mod yelp;

/// Every job `mr-run` knows, in the order `mr-run list` shows them.
pub fn all() -> Vec<Box<dyn AnyJob>> {
    vec![
        Box::new(yelp::top_city()),
        Box::new(yelp::city_stats()),
        Box::new(yelp::top_categories()),
        Box::new(reviews::city_reviews()),
        Box::new(reviews::city_reviews_broadcast()),
        Box::new(reviews::top_reviewed_city()),
        Box::new(words::word_count()),
        Box::new(words::most_used_word()),
        Box::new(words::next_word_stats()),
        Box::new(words::words_by_count()),
        Box::new(countwords::countwords()),
        Box::new(examples::wc()),
        Box::new(examples::count_lines()),
        Box::new(examples::count_lines_by_file()),
        Box::new(examples::first_letter()),
        Box::new(examples::first_letter_sorted()),
        Box::new(terasort::teragen(0)),
        Box::new(terasort::terasort()),
        Box::new(terasort::teravalidate()),
        Box::new(terasort::sort()),
    ]
}

/// The job named `name`.
pub fn find(name: &str) -> Option<Box<dyn AnyJob>> {
    all().into_iter().find(|j| j.name() == name)
}
