//! What the runner-comparison tests share: the inputs every job is run
//! on (two Yelp-like files, two text files, teragen's parts).

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
    Inputs {
        _dir: dir,
        yelp,
        text,
        tera,
    }
}
