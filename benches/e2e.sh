#!/usr/bin/env bash
# End-to-end benchmark (not a test): builds the release binary and the
# hand-written baselines (examples), makes the peers' virtualenv
# (.bench-venv, ignored: DuckDB and Polars from PyPI at the versions
# benches/peers-requirements.txt pins), then runs benches/e2e.py (see its
# docstring for SIZE, RUNS, CASES, SORT_SIZE, SORT_MEM, BENCH_DIR, PEERS).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --workspace --bins --examples --quiet
venv=.bench-venv
# pip's "Requirement already satisfied" for every pin: nothing to fetch.
if ! "$venv/bin/python" -m pip install -q --disable-pip-version-check -r benches/peers-requirements.txt 2>/dev/null; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check -r benches/peers-requirements.txt
fi
exec python3 benches/e2e.py "$@"
