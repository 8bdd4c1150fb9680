#!/usr/bin/env bash
# engines/chromium.sh: print the path of a headless-capable Chromium,
# installing Debian's `chromium` package first if there is none (as root,
# with apt-get; the report test and CI call this).  Environment:
#   CHROMIUM   use this browser instead
set -euo pipefail
if [[ -n "${CHROMIUM:-}" ]]; then
  echo "$CHROMIUM"
  exit 0
fi
for name in chromium chromium-browser; do
  if command -v "$name" >/dev/null 2>&1; then
    command -v "$name"
    exit 0
  fi
done
if [[ "$(id -u)" != 0 ]]; then
  echo "chromium.sh: no chromium on PATH, and installing it needs root (apt-get install chromium)" >&2
  exit 1
fi
echo "chromium.sh: installing Debian's chromium package" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
apt-get install -y -qq chromium >&2
command -v chromium
