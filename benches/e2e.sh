#!/usr/bin/env bash
# End-to-end benchmark (not a test): builds the release binary and the
# hand-written baselines (examples), then runs benches/e2e.py (see its
# docstring for SIZE, RUNS, CASES, SORT_SIZE, SORT_MEM, BENCH_DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --workspace --bins --examples --quiet
exec python3 benches/e2e.py "$@"
