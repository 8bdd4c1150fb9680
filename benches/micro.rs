//! Criterion micro-benchmarks of the hot parts: key encoding, the sort
//! buffer, run files, the k-way merge, line splitting and map-side hash
//! aggregation. Run with `cargo bench --bench micro`.
//!
//! All data comes from a fixed-seed xorshift generator, so every run
//! measures the same work. Sizes are chosen so that the whole suite runs in
//! a couple of minutes on a small machine.

// Tests, benchmarks and hand-written baselines may panic on a failed
// unwrap: the library code may not (Cargo.toml [lints]).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::hint::black_box;
use std::io::Cursor as IoCursor;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use criterion::{BatchSize, Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use mapreduce::codec::{hash_partition, key};
use mapreduce::internals::{
    AggTable, Compression, Cursor, Groups, Merger, RunFile, RunWriter, SortBuffer, TypedAgg, ValueSource,
};
use mapreduce::io::lines::LineReader;
use mapreduce::io::split::SplitReader;

/// Records per sort, spill, merge and aggregation benchmark.
const RECORDS: usize = 1_000_000;
/// Partitions of the sort-buffer and spill benchmarks.
const PARTITIONS: u32 = 8;
/// Sorted runs merged by the merge benchmarks.
const RUNS: usize = 16;
/// Distinct keys of the merge and aggregation benchmarks.
const VOCABULARY: usize = 100_000;
/// Size of the line-splitting input.
const TEXT_BYTES: usize = 64 << 20;

/// xorshift64*: small, fast, deterministic.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed.max(1))
    }

    fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in `0..n` (n small: the modulo bias does not matter here).
    fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// Uniform in `0.0..1.0`.
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// `len` lowercase ASCII letters.
    fn letters(&mut self, len: usize, out: &mut Vec<u8>) {
        out.extend((0..len).map(|_| b'a' + self.below(26) as u8));
    }
}

/// An owned encoded record.
type Record = (Vec<u8>, Vec<u8>);

/// Records in one contiguous arena, in order, as an engine holds them
/// (so that reading them back costs no pointer chasing of its own).
#[derive(Default)]
struct Flat {
    data: Vec<u8>,
    /// (partition, key start, key length, value length)
    index: Vec<(u32, u32, u32, u32)>,
}

impl Flat {
    fn push(&mut self, partition: u32, key: &[u8], value: &[u8]) {
        let at = self.data.len() as u32;
        self.data.extend_from_slice(key);
        self.data.extend_from_slice(value);
        self.index.push((partition, at, key.len() as u32, value.len() as u32));
    }

    fn len(&self) -> usize {
        self.index.len()
    }

    /// Key and value bytes.
    fn bytes(&self) -> u64 {
        self.data.len() as u64
    }

    fn get(&self, i: usize) -> (u32, &[u8], &[u8]) {
        let (p, at, k, v) = self.index[i];
        let (at, k, v) = (at as usize, k as usize, v as usize);
        (p, &self.data[at..at + k], &self.data[at + k..at + k + v])
    }

    fn iter(&self) -> impl Iterator<Item = (u32, &[u8], &[u8])> {
        (0..self.len()).map(|i| self.get(i))
    }
}

impl<'a> FromIterator<(u32, &'a Record)> for Flat {
    fn from_iter<I: IntoIterator<Item = (u32, &'a Record)>>(iter: I) -> Self {
        let mut flat = Flat::default();
        for (p, (k, v)) in iter {
            flat.push(p, k, v);
        }
        flat
    }
}

/// `RECORDS` records with ~12-byte random keys (8..=16 letters), each
/// behind `prefix`, and 8-byte values, with their hash partitions.
fn random_records(seed: u64, prefix: &[u8]) -> Vec<(u32, Record)> {
    let mut rng = Rng::new(seed);
    (0..RECORDS)
        .map(|i| {
            let mut k = prefix.to_vec();
            let len = 8 + rng.below(9) as usize;
            rng.letters(len, &mut k);
            (hash_partition(&k, PARTITIONS), (k, (i as u64).to_le_bytes().to_vec()))
        })
        .collect()
}

fn flat(records: &[(u32, Record)]) -> Flat {
    records.iter().map(|(p, r)| (*p, r)).collect()
}

/// `VOCABULARY` distinct words (3..=12 letters), key-encoded as `String`s
/// (what a word-count job's shuffle sees).
fn vocabulary(seed: u64) -> Vec<Vec<u8>> {
    let mut rng = Rng::new(seed);
    let mut seen = std::collections::HashSet::new();
    let mut words = Vec::with_capacity(VOCABULARY);
    while words.len() < VOCABULARY {
        let mut w = Vec::new();
        let len = 3 + rng.below(10) as usize;
        rng.letters(len, &mut w);
        if seen.insert(w.clone()) {
            let s = String::from_utf8(w).expect("ASCII");
            words.push(key::encode(&s).expect("a string encodes"));
        }
    }
    words
}

/// Samples ranks 0..n with probability ~ 1/(rank+1): Zipf with s = 1, as
/// word frequencies roughly are.
struct Zipf {
    cumulative: Vec<f64>,
}

impl Zipf {
    fn new(n: usize) -> Self {
        let mut total = 0.0;
        let cumulative = (0..n)
            .map(|i| {
                total += 1.0 / (i + 1) as f64;
                total
            })
            .collect::<Vec<_>>();
        let cumulative = cumulative.iter().map(|c| c / total).collect();
        Zipf { cumulative }
    }

    fn sample(&self, rng: &mut Rng) -> usize {
        let u = rng.unit();
        self.cumulative
            .partition_point(|&c| c < u)
            .min(self.cumulative.len() - 1)
    }
}

/// A sorted in-memory run, read without copying.
struct FlatCursor<'a> {
    run: &'a Flat,
    /// One past the current record; 0 before the first `advance`.
    next: usize,
    key: &'a [u8],
    value: &'a [u8],
}

impl<'a> FlatCursor<'a> {
    fn new(run: &'a Flat) -> Self {
        FlatCursor {
            run,
            next: 0,
            key: &[],
            value: &[],
        }
    }
}

impl Cursor for FlatCursor<'_> {
    fn advance(&mut self) -> mapreduce::Result<bool> {
        if self.next < self.run.len() {
            (_, self.key, self.value) = self.run.get(self.next);
            self.next += 1;
            Ok(true)
        } else {
            Ok(false)
        }
    }

    fn key(&self) -> &[u8] {
        self.key
    }

    fn value(&self) -> &[u8] {
        self.value
    }
}

/// Drains a cursor, returning (records, key + value bytes).
fn drain(c: &mut impl Cursor) -> (u64, u64) {
    let (mut n, mut bytes) = (0u64, 0u64);
    while c.advance().expect("read") {
        n += 1;
        bytes += (c.key().len() + c.value().len()) as u64;
    }
    (n, bytes)
}

/// Walks a cursor group by group, summing 8-byte LE values: a reducer's
/// view. Returns (groups, sum).
/// [`reduce_all`] over a merge of run files' partition 0.
fn reduce_run_files(paths: &[PathBuf]) -> (u64, u64) {
    let cursors = paths
        .iter()
        .map(|p| RunFile::open(p).and_then(|f| f.partition_cursor(0)).expect("open"))
        .collect();
    reduce_all(Merger::new(cursors, false).expect("merger"))
}

fn reduce_all(c: impl Cursor) -> (u64, u64) {
    let mut groups = Groups::new(c);
    let (mut n, mut sum) = (0u64, 0u64);
    while groups.next_group().expect("read") {
        n += 1;
        black_box(groups.key());
        let mut values = groups.values();
        while let Some(v) = values.next_value() {
            let v = v.expect("read");
            sum = sum.wrapping_add(u64::from_le_bytes(v.try_into().expect("8 bytes")));
        }
    }
    (n, sum)
}

fn add_u64(acc: &mut Vec<u8>, v: &[u8]) -> mapreduce::Result<()> {
    let a = u64::from_le_bytes(acc[..8].try_into().expect("8 bytes"));
    let b = u64::from_le_bytes(v[..8].try_into().expect("8 bytes"));
    acc.clear();
    acc.extend_from_slice(&(a + b).to_le_bytes());
    Ok(())
}

/// Settings for benchmarks whose one iteration takes tens of milliseconds:
/// the same iteration count per sample, so 10 samples cost ~10 iterations.
fn heavy(group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>) {
    group
        .sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
}

fn key_codec(c: &mut Criterion) {
    let word = String::from("mapreduce-key");
    let pair = (String::from("2024-01-15"), 1_234_567u64);
    let number = 0x0123_4567_89ab_cdefu64;
    let word_bytes = key::encode(&word).expect("encode");
    let pair_bytes = key::encode(&pair).expect("encode");
    let number_bytes = key::encode(&number).expect("encode");

    let mut g = c.benchmark_group("key_codec");
    g.sample_size(20)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1));
    g.throughput(Throughput::Elements(1));
    g.bench_function("encode/string", |b| b.iter(|| key::encode(black_box(&word))));
    // What a combinable map task's emitter does with a short string key
    // instead of encoding it.
    g.bench_function("encode/short_string_probe", |b| {
        b.iter(|| key::short_string(black_box(&word)))
    });
    g.bench_function("encode/string_u64", |b| b.iter(|| key::encode(black_box(&pair))));
    g.bench_function("encode/u64", |b| b.iter(|| key::encode(black_box(&number))));
    g.bench_function("decode/string", |b| {
        b.iter(|| key::decode::<String>(black_box(&word_bytes)))
    });
    g.bench_function("decode/string_u64", |b| {
        b.iter(|| key::decode::<(String, u64)>(black_box(&pair_bytes)))
    });
    g.bench_function("decode/u64", |b| {
        b.iter(|| key::decode::<u64>(black_box(&number_bytes)))
    });
    g.finish();

    let key16 = *b"0123456789abcdef";
    let mut g = c.benchmark_group("hash_partition");
    g.sample_size(20)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1));
    g.throughput(Throughput::Bytes(key16.len() as u64));
    g.bench_function("16B", |b| b.iter(|| hash_partition(black_box(&key16), black_box(64))));
    g.finish();
}

fn fill(records: &Flat) -> SortBuffer {
    let mut buf = SortBuffer::new();
    for (p, k, v) in records.iter() {
        buf.push(p, k, v).expect("push");
    }
    buf
}

fn sort_buffer(c: &mut Criterion) {
    let random = flat(&random_records(1, b""));
    // Keys share 16 bytes, so the cached 8-byte prefix never decides.
    let prefixed = flat(&random_records(2, b"user/2024-01-15/"));

    let mut g = c.benchmark_group("sort_buffer");
    heavy(&mut g);
    g.throughput(Throughput::Elements(RECORDS as u64));
    g.bench_function("push/1M", |b| b.iter(|| fill(&random)));
    g.bench_function("sort/1M_random_keys", |b| {
        b.iter_batched_ref(|| fill(&random), |buf| buf.sort(false), BatchSize::PerIteration)
    });
    g.bench_function("sort/1M_shared_16B_prefix", |b| {
        b.iter_batched_ref(|| fill(&prefixed), |buf| buf.sort(false), BatchSize::PerIteration)
    });
    // terasort's shape: 10 random printable bytes, key-encoded as a
    // `String` (the terminator follows), an 89-byte value, 2 partitions.
    let tera = {
        let mut rng = Rng::new(3);
        let records: Vec<(u32, Record)> = (0..RECORDS)
            .map(|i| {
                let k: Vec<u8> = (0..10).map(|_| b'!' + rng.below(94) as u8).chain([0, 1]).collect();
                let v = format!("{i:020}{}", "A".repeat(69)).into_bytes();
                ((k[0] > b'O') as u32, (k, v))
            })
            .collect();
        flat(&records)
    };
    g.bench_function("sort/1M_terasort_keys", |b| {
        b.iter_batched_ref(|| fill(&tera), |buf| buf.sort(false), BatchSize::PerIteration)
    });
    g.finish();
}

fn write_run(path: &Path, records: &Flat, partitions: u32, compression: Compression) -> u64 {
    let mut w = RunWriter::create(path, partitions, compression).expect("create");
    for (p, k, v) in records.iter() {
        w.push(p, k, v).expect("push");
    }
    w.finish().expect("finish");
    std::fs::metadata(path).expect("stat").len()
}

fn spill(c: &mut Criterion) {
    let mut records = random_records(3, b"");
    records.sort_unstable();
    let records = flat(&records);
    let bytes = records.bytes();
    let dir = tempfile::tempdir().expect("tempdir");

    let mut g = c.benchmark_group("spill");
    heavy(&mut g);
    g.throughput(Throughput::Bytes(bytes));
    for (name, compression) in [("none", Compression::None), ("lz4", Compression::Lz4)] {
        let path = dir.path().join(format!("run-{name}"));
        g.bench_function(format!("write/1M/{name}"), |b| {
            b.iter(|| write_run(&path, &records, PARTITIONS, compression))
        });
        let size = write_run(&path, &records, PARTITIONS, compression);
        eprintln!("spill/{name}: {bytes} raw bytes -> {size} file bytes");
        g.bench_function(format!("read/1M/{name}"), |b| {
            b.iter(|| {
                let run = RunFile::open(&path).expect("open");
                let mut total = (0, 0);
                for p in 0..PARTITIONS {
                    let (n, b) = drain(&mut run.partition_cursor(p).expect("cursor"));
                    total = (total.0 + n, total.1 + b);
                }
                assert_eq!(total, (RECORDS as u64, bytes));
                total
            })
        });
    }
    g.finish();
}

fn merge(c: &mut Criterion) {
    // Reduce-side input: RUNS sorted runs of words drawn uniformly from the
    // vocabulary, so each key has ~10 values spread over the runs.
    let words = vocabulary(4);
    let mut rng = Rng::new(5);
    let runs: Vec<Flat> = (0..RUNS)
        .map(|_| {
            let mut run: Vec<Record> = (0..RECORDS / RUNS)
                .map(|_| {
                    let w = &words[rng.below(VOCABULARY as u64) as usize];
                    (w.clone(), 1u64.to_le_bytes().to_vec())
                })
                .collect();
            run.sort_unstable();
            run.iter().map(|r| (0, r)).collect()
        })
        .collect();
    let total = (RECORDS / RUNS * RUNS) as u64;
    let dir = tempfile::tempdir().expect("tempdir");
    let files = |compression: Compression| -> Vec<PathBuf> {
        runs.iter()
            .enumerate()
            .map(|(i, run)| {
                let path = dir.path().join(format!("run-{i}-{compression:?}"));
                write_run(&path, run, 1, compression);
                path
            })
            .collect()
    };

    let mut g = c.benchmark_group("merge");
    heavy(&mut g);
    g.throughput(Throughput::Elements(total));
    g.bench_function("memory/16x62.5k", |b| {
        b.iter(|| {
            let cursors = runs.iter().map(FlatCursor::new).collect();
            let (n, _) = drain(&mut Merger::new(cursors, false).expect("merger"));
            assert_eq!(n, total);
        })
    });
    g.bench_function("memory_groups/16x62.5k", |b| {
        b.iter(|| {
            let cursors = runs.iter().map(FlatCursor::new).collect();
            let (_, sum) = reduce_all(Merger::new(cursors, false).expect("merger"));
            assert_eq!(sum, total);
        })
    });
    for compression in [Compression::None, Compression::Lz4] {
        let paths = files(compression);
        let name = format!("{compression:?}").to_lowercase();
        g.bench_function(format!("files_groups/16x62.5k/{name}"), |b| {
            b.iter(|| {
                let (_, sum) = reduce_run_files(&paths);
                assert_eq!(sum, total);
            })
        });
    }
    // terasort's reduce: 48 runs (what 1 GiB in a 64 MiB sort buffer
    // spills per reducer) of 100-byte keys, every key its own group. More
    // runs than hardware prefetchers follow, so this is where the cursors'
    // own prefetch shows.
    const WIDE: usize = 48;
    let mut rng = Rng::new(9);
    let wide: Vec<PathBuf> = (0..WIDE)
        .map(|i| {
            let mut run: Vec<Record> = (0..8_000)
                .map(|_| {
                    let mut key = Vec::with_capacity(100);
                    rng.letters(10, &mut key);
                    rng.letters(90, &mut key);
                    (key, 1u64.to_le_bytes().to_vec())
                })
                .collect();
            run.sort_unstable();
            let flat: Flat = run.iter().map(|r| (0, r)).collect();
            let path = dir.path().join(format!("wide-{i}"));
            write_run(&path, &flat, 1, Compression::None);
            path
        })
        .collect();
    let wide_total = (WIDE * 8_000) as u64;
    g.throughput(Throughput::Elements(wide_total));
    g.bench_function("files_groups/48x8k_100B_keys", |b| {
        b.iter(|| {
            let (groups, sum) = reduce_run_files(&wide);
            assert_eq!((groups, sum), (wide_total, wide_total));
        })
    });
    g.finish();
}

fn lines(c: &mut Criterion) {
    // Lines of 60..=100 bytes (~80 on average) of short words.
    let mut rng = Rng::new(6);
    let mut text = Vec::with_capacity(TEXT_BYTES + 128);
    let mut expected = 0u64;
    while text.len() < TEXT_BYTES {
        let end = text.len() + 60 + rng.below(41) as usize;
        while text.len() < end {
            let len = 2 + rng.below(8) as usize;
            rng.letters(len, &mut text);
            text.push(b' ');
        }
        text.push(b'\n');
        expected += 1;
    }
    let text: Arc<[u8]> = text.into();

    let mut g = c.benchmark_group("lines");
    heavy(&mut g);
    g.throughput(Throughput::Bytes(text.len() as u64));
    g.bench_function("line_reader/64MiB", |b| {
        b.iter(|| {
            let mut r = LineReader::new(IoCursor::new(&text[..]), "bench");
            let mut n = 0u64;
            while let Some(line) = r.next_line().expect("read") {
                black_box(line.bytes);
                n += 1;
            }
            assert_eq!(n, expected);
        })
    });
    g.bench_function("split_reader/64MiB", |b| {
        b.iter(|| {
            let mut r = SplitReader::whole(Box::new(IoCursor::new(Arc::clone(&text))), "bench".into());
            let mut n = 0u64;
            while let Some(line) = r.next_line().expect("read") {
                black_box(line.bytes);
                n += 1;
            }
            assert_eq!(n, expected);
        })
    });
    g.finish();
}

fn aggregate(c: &mut Criterion) {
    let words = vocabulary(7);
    let zipf = Zipf::new(VOCABULARY);
    let mut rng = Rng::new(8);
    let one = 1u64.to_le_bytes();
    let mut stream = Flat::default();
    for _ in 0..RECORDS {
        let w = &words[zipf.sample(&mut rng)];
        stream.push(hash_partition(w, PARTITIONS), w, &one);
    }
    let limit = 1 << 30;
    let insert_all = |t: &mut AggTable| {
        for (p, k, v) in stream.iter() {
            t.insert(p, k, v, &add_u64).expect("insert");
        }
    };
    let distinct = {
        let mut t = AggTable::with_limit(limit);
        insert_all(&mut t);
        t.len()
    };
    eprintln!("aggregate: {RECORDS} records, {distinct} distinct keys");

    let mut g = c.benchmark_group("aggregate");
    heavy(&mut g);
    g.throughput(Throughput::Elements(RECORDS as u64));
    g.bench_function("insert/1M_zipf_100k", |b| {
        b.iter_batched_ref(|| AggTable::with_limit(limit), insert_all, BatchSize::PerIteration)
    });
    // The typed table of `combine_with` steps (values merged as `u64`s,
    // short-key inserts behind a prefetch).
    g.bench_function("typed_insert/1M_zipf_100k", |b| {
        b.iter_batched_ref(
            || TypedAgg::<u64>::new(limit, Arc::new(|a: &mut u64, b| *a += b), |v| *v),
            |t| {
                for (_, k, _) in stream.iter() {
                    t.insert(k, &1);
                }
                let mut n = 0usize;
                t.drain(|k, v| -> Result<(), ()> {
                    black_box((k, v));
                    n += 1;
                    Ok(())
                })
                .expect("drain");
                assert_eq!(n, distinct);
            },
            BatchSize::PerIteration,
        )
    });
    g.throughput(Throughput::Elements(distinct as u64));
    g.bench_function("drain_sorted/distinct", |b| {
        b.iter_batched_ref(
            || {
                let mut t = AggTable::with_limit(limit);
                insert_all(&mut t);
                t
            },
            |t| {
                let mut n = 0usize;
                t.drain_sorted(|_, k, v| {
                    black_box((k, v));
                    n += 1;
                    Ok(())
                })
                .expect("drain");
                assert_eq!(n, distinct);
            },
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

criterion_group!(benches, key_codec, sort_buffer, spill, merge, lines, aggregate);
criterion_main!(benches);
