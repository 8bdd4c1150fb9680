#!/usr/bin/env bash
# A/B timing of two commands on a noisy machine (not a test): runs them
# alternately N times each, so load from other tenants hits both alike,
# and prints min and median CPU seconds (user + sys, from GNU time) and
# wall seconds for each. Compare CPU minimums for changes in work done;
# medians for what a user would see.
#
#   bash benches/ab.sh 5 "target/release/mr-run word-count big.txt --workers 1" \
#                        "/tmp/mr-run-before word-count big.txt --workers 1"
set -euo pipefail
if [ $# -ne 3 ]; then
  echo "usage: benches/ab.sh N \"command A\" \"command B\"" >&2
  exit 2
fi
n=$1
results=$(mktemp)
times=$(mktemp)
trap 'rm -f "$results" "$times"' EXIT
for _ in $(seq "$n"); do
  for side in A B; do
    if [ "$side" = A ]; then cmd=$2; else cmd=$3; fi
    /usr/bin/time -f "%U %S %e" -o "$times" bash -c "$cmd" >/dev/null 2>&1 || {
      echo "command $side failed: $cmd" >&2
      exit 1
    }
    echo "$side $(cat "$times")" >>"$results"
  done
done
python3 - "$results" <<'PY'
import statistics
import sys

runs = {}
for line in open(sys.argv[1]):
    side, user, sys_, wall = line.split()
    runs.setdefault(side, []).append((float(user) + float(sys_), float(wall)))
for side, v in sorted(runs.items()):
    cpu = sorted(c for c, _ in v)
    wall = sorted(w for _, w in v)
    print(
        f"{side}: cpu min {cpu[0]:.2f} med {statistics.median(cpu):.2f} | "
        f"wall min {wall[0]:.2f} med {statistics.median(wall):.2f}  ({' '.join(f'{c:.2f}' for c in cpu)})"
    )
PY
