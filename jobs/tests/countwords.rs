//! `mr-run countwords` against an in-memory oracle: words split on ASCII
//! whitespace and lowercased in ASCII, printed as `WORD COUNT` by count
//! descending (the key's `Reverse`), then by word; the same bytes on
//! every in-process runner and through `-r streaming`, at any split size.

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

fn countwords(input: &Path, extra: &[&str]) -> Vec<u8> {
    let out = Command::new(env!("CARGO_BIN_EXE_mr-run"))
        .arg("countwords")
        .arg(input)
        .arg("-q")
        .args(extra)
        .output()
        .expect("mr-run runs");
    assert!(
        out.status.success(),
        "{extra:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn oracle(text: &str) -> Vec<u8> {
    let mut counts: HashMap<String, u64> = HashMap::new();
    for word in text.split_ascii_whitespace() {
        *counts.entry(word.to_ascii_lowercase()).or_default() += 1;
    }
    let mut rows: Vec<(String, u64)> = counts.into_iter().collect();
    rows.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    rows.iter()
        .flat_map(|(w, c)| format!("{w} {c}\n").into_bytes())
        .collect()
}

#[test]
fn issue27_countwords_prints_words_by_count_descending_as_the_oracle_does() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("text.txt");
    let mut data = Vec::new();
    mapreduce_jobs::datagen::text(&mut data, 300 << 10, 7).unwrap();
    // Mixed case, tabs, runs of spaces and non-ASCII, which only ASCII
    // rules touch.
    data.extend_from_slice("The THE the\tÉcole école  x\u{a0}y\r\n".as_bytes());
    std::fs::write(&input, &data).unwrap();
    let want = oracle(std::str::from_utf8(&data).unwrap());
    let first = String::from_utf8_lossy(&want[..want.len().min(40)]).into_owned();
    assert!(first.starts_with("the "), "the oracle's most frequent word: {first}");
    for extra in [
        &[][..],
        &["--workers", "2", "--block-size", "32K"][..],
        &["-r", "inline"][..],
        &["-r", "streaming", "--block-size", "64K"][..],
    ] {
        let got = countwords(&input, extra);
        assert!(
            got == want,
            "{extra:?}\n--- got\n{}\n--- want\n{}",
            String::from_utf8_lossy(&got[..got.len().min(400)]),
            String::from_utf8_lossy(&want[..want.len().min(400)])
        );
    }
}

#[test]
fn issue28_countwords_at_3_reducers_is_one_sorted_order_across_parts() {
    // Its second step partitions by total order: each part a range of
    // (count descending, word), the parts in order the whole answer.
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("text.txt");
    let mut data = Vec::new();
    mapreduce_jobs::datagen::text(&mut data, 200 << 10, 11).unwrap();
    std::fs::write(&input, &data).unwrap();
    let want = oracle(std::str::from_utf8(&data).unwrap());
    let mut first_parts: Option<Vec<Vec<u8>>> = None;
    for runner in ["local", "inline", "streaming"] {
        let out = dir.path().join(format!("out-{runner}"));
        let out_text = out.to_string_lossy().into_owned();
        countwords(
            &input,
            &["-r", runner, "--reducers", "3", "--block-size", "64K", "-o", &out_text],
        );
        let parts: Vec<Vec<u8>> = (0..3)
            .map(|i| std::fs::read(out.join(format!("part-{i:05}"))).unwrap())
            .collect();
        for (i, part) in parts.iter().enumerate() {
            assert!(!part.is_empty(), "{runner}: part {i} is empty");
        }
        assert!(
            parts.concat() == want,
            "{runner}: the parts concatenated are not the sorted answer"
        );
        match &first_parts {
            None => first_parts = Some(parts),
            Some(local) => assert!(local == &parts, "{runner}: its parts differ from -r local's"),
        }
    }
}
