#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds, runs every test with ctest.
# Exits non-zero on any failure. Output of failing tests is printed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/deploy/install-deps.sh"
build_dir=${KEFU_BUILD_DIR:-"$root/build"}
"$root/deploy/build.sh" "$build_dir" Release
# playwright-core for the console browser test (pinned in tests/e2e/package-lock.json; it drives
# Debian's chromium, no browser download).
npm ci --prefix "$root/tests/e2e" --no-audit --no-fund --loglevel=error
jobs=$(nproc 2>/dev/null || echo 2)
cd "$build_dir"
ctest --output-on-failure -j"$jobs" --timeout 600
