//! The `local` engine against the `inline` one: for every job in `jobs/`,
//! over random worker counts, reducer counts, block sizes and sort buffers,
//! the output must be byte-identical.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use mapreduce::runner::{RunnerKind, SpillCompression};
use mapreduce::{AnyJob, RunConfig};
use mapreduce_jobs::datagen;
use proptest::prelude::*;

/// Generated inputs shared by every case: Yelp-like lines in two files (one
/// gzipped) and text in two files.
struct Data {
    _dir: tempfile::TempDir,
    yelp: Vec<PathBuf>,
    /// Reviews of `yelp[0]`'s businesses, for the join jobs.
    reviews: PathBuf,
    text: Vec<PathBuf>,
    teragen: Vec<PathBuf>,
}

fn data() -> &'static Data {
    static DATA: OnceLock<Data> = OnceLock::new();
    DATA.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str,
                     make: fn(&mut dyn std::io::Write, u64, u64) -> std::io::Result<datagen::Generated>,
                     size,
                     seed| {
            let path = dir.path().join(name);
            let mut bytes = Vec::new();
            make(&mut bytes, size, seed).unwrap();
            if name.ends_with(".gz") {
                let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                std::io::Write::write_all(&mut enc, &bytes).unwrap();
                bytes = enc.finish().unwrap();
            }
            std::fs::write(&path, bytes).unwrap();
            path
        };
        let yelp = vec![
            write("business-1.json", datagen::yelp, 150 << 10, 1),
            write("business-2.json.gz", datagen::yelp, 60 << 10, 2),
        ];
        let text = vec![
            write("text-1.txt", datagen::text, 120 << 10, 3),
            write("text-2.txt", datagen::text, 40 << 10, 4),
        ];
        let tasks = dir.path().join("teragen-tasks.txt");
        std::fs::write(&tasks, mapreduce_jobs::terasort::teragen_tasks(3000, 5)).unwrap();
        let reviews = dir.path().join("reviews.json");
        let ids = datagen::read_business_ids(&yelp[0]).unwrap();
        datagen::yelp_reviews(&mut std::fs::File::create(&reviews).unwrap(), 100 << 10, 7, &ids, 5).unwrap();
        Data {
            _dir: dir,
            reviews,
            yelp,
            text,
            teragen: vec![tasks],
        }
    })
}

fn inputs_for(job: &dyn AnyJob) -> &'static [PathBuf] {
    match job.name() {
        n if n.starts_with("yelp") => &data().yelp,
        "teragen" => &data().teragen,
        _ => &data().text,
    }
}

fn run(job: &dyn AnyJob, inputs: &[PathBuf], config: RunConfig) -> Vec<u8> {
    let mut config = config;
    let reviews = data().reviews.clone().into_os_string();
    match job.name() {
        // The joins: the Yelp files are the businesses.
        "yelp-city-reviews" | "yelp-top-reviewed-city" => {
            config.named_inputs = inputs
                .iter()
                .map(|p| ("business".to_owned(), p.clone().into_os_string()))
                .chain([("review".to_owned(), reviews)])
                .collect();
        }
        "yelp-city-reviews-broadcast" => {
            config.side_files = vec![("business".to_owned(), inputs[0].clone())];
            config.inputs = vec![reviews];
        }
        _ => config.inputs = inputs.iter().map(|p| p.clone().into_os_string()).collect(),
    }
    let mut out = Vec::new();
    mapreduce::runner::run(job, &config, &mut out).unwrap_or_else(|e| panic!("{}: {e}", job.name()));
    out
}

fn inline(reducers: u32) -> RunConfig {
    let mut c = RunConfig::default();
    c.runner = RunnerKind::Inline;
    c.reducers = reducers;
    c
}

fn local(workers: usize, reducers: u32, block: u64, sort_buffer: u64, lz4: bool, temp: &Path) -> RunConfig {
    let mut c = RunConfig::default();
    c.runner = RunnerKind::Local;
    c.workers = workers;
    c.reducers = reducers;
    c.block_size = block;
    c.sort_buffer = sort_buffer;
    c.compress_spills = if lz4 {
        SpillCompression::Lz4
    } else {
        SpillCompression::None
    };
    c.temp_dir = Some(temp.to_path_buf());
    c
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn local_output_is_byte_identical_to_inline(
        workers in 1usize..=4,
        reducers in 1u32..=8,
        block_exp in 10u32..=30,
        sort_exp in 16u32..=24,
        lz4: bool,
    ) {
        let temp = tempfile::tempdir().unwrap();
        for job in mapreduce_jobs::all() {
            let inputs = inputs_for(job.as_ref());
            let expected = run(job.as_ref(), inputs, inline(reducers));
            let got = run(job.as_ref(), inputs, local(workers, reducers, 1 << block_exp, 1 << sort_exp, lz4, temp.path()));
            prop_assert!(
                got == expected,
                "{}: workers {workers}, reducers {reducers}, block 2^{block_exp}, sort buffer 2^{sort_exp}: outputs differ",
                job.name()
            );
        }
        // Every job directory was removed.
        prop_assert_eq!(std::fs::read_dir(temp.path()).unwrap().count(), 0);
    }
}

#[test]
fn extreme_settings_still_agree() {
    // Tiny blocks (hundreds of splits) and the smallest sort buffer.
    let temp = tempfile::tempdir().unwrap();
    for job in mapreduce_jobs::all() {
        let inputs = inputs_for(job.as_ref());
        let expected = run(job.as_ref(), inputs, inline(3));
        let got = run(job.as_ref(), inputs, local(4, 3, 1024, 64 << 10, false, temp.path()));
        assert!(got == expected, "{}", job.name());
    }
}
