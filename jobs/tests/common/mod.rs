//! What the runner-comparison tests share: the inputs every job is run
//! on (two Yelp-like files, reviews of the first's businesses, two text
//! files, teragen's parts), and how each job is given them.
#![allow(dead_code)] // each test crate uses its own part

use std::path::{Path, PathBuf};
use std::process::Command;

/// Writes `size` bytes of generated data to `dir/name`.
pub fn write(dir: &Path, name: &str, make: mapreduce_jobs::datagen::Generator, size: u64, seed: u64) -> PathBuf {
    let path = dir.join(name);
    mapreduce_jobs::datagen::write_file(&path, make, size, seed).expect("generate");
    path
}

/// Inputs for every job, in a temporary directory that lives as long.
pub struct Inputs {
    _dir: tempfile::TempDir,
    pub yelp: Vec<PathBuf>,
    /// review.json-style lines for the businesses of `yelp[0]`.
    pub reviews: PathBuf,
    pub text: Vec<PathBuf>,
    pub tera: Vec<PathBuf>,
}

/// Makes the inputs with `mr_run` (for teragen).
pub fn inputs(mr_run: &str) -> Inputs {
    let dir = tempfile::tempdir().unwrap();
    let yelp = vec![
        write(
            dir.path(),
            "business-1.json",
            mapreduce_jobs::datagen::yelp,
            60 << 10,
            1,
        ),
        write(
            dir.path(),
            "business-2.json",
            mapreduce_jobs::datagen::yelp,
            20 << 10,
            2,
        ),
    ];
    let text = vec![
        write(dir.path(), "text-1.txt", mapreduce_jobs::datagen::text, 50 << 10, 3),
        write(dir.path(), "text-2.txt", mapreduce_jobs::datagen::text, 15 << 10, 4),
    ];
    let tera_dir = dir.path().join("teragen");
    let made = Command::new(mr_run)
        .args(["teragen", "--rows", "3000", "--seed", "7", "-q", "-o"])
        .arg(&tera_dir)
        .status()
        .expect("teragen");
    assert!(made.success());
    let mut tera: Vec<PathBuf> = std::fs::read_dir(&tera_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("part-")))
        .collect();
    tera.sort();
    let reviews = write_reviews(&yelp[0], &dir.path().join("reviews.json"), 80 << 10, 9);
    Inputs {
        _dir: dir,
        yelp,
        reviews,
        text,
        tera,
    }
}

/// Writes `size` bytes of reviews of `business`'s businesses to `path`.
pub fn write_reviews(business: &Path, path: &Path, size: u64, seed: u64) -> PathBuf {
    let ids = mapreduce_jobs::datagen::read_business_ids(business).expect("business ids");
    let mut file = std::fs::File::create(path).expect("create reviews");
    mapreduce_jobs::datagen::yelp_reviews(&mut file, size, seed, &ids, 5).expect("generate reviews");
    path.to_path_buf()
}

/// The command-line inputs of `job` in these tests: the join jobs take
/// the Yelp files as named inputs or a side file and the reviews;
/// `None` for a job that reads plain inputs.
pub fn join_args(job: &str, yelp: &[PathBuf], reviews: &Path) -> Option<Vec<std::ffi::OsString>> {
    let named = |name: &str, path: &Path| {
        let mut arg = std::ffi::OsString::from(format!("{name}="));
        arg.push(path);
        arg
    };
    match job {
        "yelp-city-reviews" | "yelp-top-reviewed-city" => {
            let mut args = Vec::new();
            for b in yelp {
                args.extend(["--input".into(), named("business", b)]);
            }
            args.extend(["--input".into(), named("review", reviews)]);
            Some(args)
        }
        "yelp-city-reviews-broadcast" => Some(vec!["--side".into(), named("business", &yelp[0]), reviews.into()]),
        _ => None,
    }
}

/// The names in `dir`, sorted.
pub fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}
