//! Writes every target's built-in seeds into `corpus/<target>/seed-NN`
//! (run in `fuzz/`: `cargo run --example seed_corpus`), to start a corpus
//! from valid inputs. The replay test checks the seeds themselves too, so
//! they need not survive `cargo fuzz cmin`.

use std::path::Path;

fn main() -> std::io::Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    for target in mapreduce_fuzz::TARGETS {
        let dir = root.join(target.name);
        std::fs::create_dir_all(&dir)?;
        let seeds = (target.seeds)();
        for (i, seed) in seeds.iter().enumerate() {
            // Checked before it is written: a seed must pass its own check.
            (target.check)(seed);
            std::fs::write(dir.join(format!("seed-{i:02}")), seed)?;
        }
        println!("{}: {} seeds", target.name, seeds.len());
    }
    Ok(())
}
