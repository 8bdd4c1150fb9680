#!/usr/bin/env bash
# End-to-end benchmark (not a test): builds the release binary, then runs
# benches/e2e.py (see its docstring for SIZE, RUNS, CASES, BENCH_DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --workspace --quiet
exec python3 benches/e2e.py "$@"
