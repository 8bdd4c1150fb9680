#!/usr/bin/env bash
# Runs every fuzz target (or those named) for FUZZ_SECONDS each (default 30),
# one after another, and exits non-zero if any of them finds a crash, a
# timeout or an out-of-memory input (saved under fuzz/artifacts/<target>/).
#
#   fuzz/run.sh                    # all targets, 30 s each
#   FUZZ_SECONDS=600 fuzz/run.sh key lines
#
# It needs a C++ compiler (libfuzzer-sys builds libFuzzer) and installs
# cargo-fuzz into fuzz/.cargo-fuzz-cache if it is not on PATH. cargo-fuzz
# passes nightly-only flags (-Z sanitizer, -Cpasses=sancov); on a stable
# toolchain RUSTC_BOOTSTRAP=1 makes rustc accept them. FUZZ_SANITIZER=none
# builds without AddressSanitizer (faster; needed where the toolchain ships
# no ASan runtime). New inputs go to fuzz/target/corpus-new/<target>, the
# committed corpus is only read; to grow it, copy them in and run
# `cargo fuzz cmin <target>`.
set -euo pipefail
cd "$(dirname "$0")"

seconds=${FUZZ_SECONDS:-30}
sanitizer=${FUZZ_SANITIZER:-address}
if [ $# -gt 0 ]; then
    targets=("$@")
else
    targets=(run_file key json_line lines compressed_input)
fi

if ! command -v cargo-fuzz >/dev/null; then
    export PATH="$PWD/.cargo-fuzz-cache/bin:$PATH"
    if ! command -v cargo-fuzz >/dev/null; then
        cargo install --locked cargo-fuzz --version 0.13.2 --root "$PWD/.cargo-fuzz-cache"
    fi
fi
export RUSTC_BOOTSTRAP=1

cargo fuzz build -s "$sanitizer"
failed=()
for t in "${targets[@]}"; do
    mkdir -p "target/corpus-new/$t"
    echo "=== $t: ${seconds}s"
    if ! cargo fuzz run -s "$sanitizer" "$t" "target/corpus-new/$t" "corpus/$t" -- \
        -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1; then
        failed+=("$t")
    fi
done
if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz targets that failed: ${failed[*]} (inputs in fuzz/artifacts/)" >&2
    exit 1
fi
echo "all fuzz targets ran ${seconds}s without a failure"
