//! The defaults the README's options table and the guide's tuning section
//! state are the ones `mr-run JOB --help` prints, so they cannot drift
//! apart again (issue 28: the guide said 64M blocks for months after the
//! default became 128M).

use std::process::Command;

/// `--help-all` (every option): each option's
/// `[default: ...]`, the text up to the first `,` or `]`.
fn help_defaults() -> Vec<(String, String)> {
    let out = Command::new(env!("CARGO_BIN_EXE_mr-run"))
        .args(["word-count", "--help-all"])
        .output()
        .expect("mr-run runs");
    let help = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut found = Vec::new();
    for option in ["block-size", "sort-buffer", "max-attempts", "merge-fan-in", "reducers"] {
        let flag = format!("--{option} <");
        let at = help
            .find(&flag)
            .unwrap_or_else(|| panic!("--help lists --{option}:\n{help}"));
        let rest = &help[at..];
        let start = rest
            .find("[default: ")
            .unwrap_or_else(|| panic!("--{option} states its default:\n{rest}"))
            + "[default: ".len();
        let value: String = rest[start..].chars().take_while(|&c| c != ',' && c != ']').collect();
        found.push((option.to_owned(), value));
    }
    found
}

fn doc(path: &str) -> String {
    std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path)).unwrap()
}

#[test]
fn issue28_the_readme_and_the_guide_state_the_defaults_help_prints() {
    let readme = doc("README.md");
    let guide = doc("docs/guide.md");
    for (option, value) in help_defaults() {
        // The README's options table: the option's row says "default VALUE"
        // (or "default: VALUE" for a rule rather than a number).
        let row = readme
            .lines()
            .find(|l| l.starts_with(&format!("| `--{option} ")))
            .unwrap_or_else(|| panic!("README's options table has a row for --{option}"));
        assert!(
            row.contains(&format!("default {value}")) || row.contains(&format!("default: {value}")),
            "README says of --{option}: {row}\nbut --help says [default: {value}]"
        );
        // The guide's tuning list, where it names the option: "(VALUE".
        for line in guide.lines().filter(|l| l.starts_with(&format!("- `--{option} "))) {
            assert!(
                line.contains(&format!("({value}")) || line.contains(&format!("(default: {value}")),
                "the guide says of --{option}: {line}\nbut --help says [default: {value}]"
            );
        }
    }
}
