#!/usr/bin/env bash
# Benchmarks the Apple Health importer, parse only, on a synthetic export.
#
#   scripts/bench-apple-health.sh [SIZE=1G] [OUT=/tmp/vigil-bench/export.xml]
#
# Generates the export (deterministic, seed 42) unless it already exists with its .expected
# file, then runs a bare quick-xml scan and the importer over it in one release process, checks
# the importer's counts against the generator's, and prints throughput and peak RSS.
set -euo pipefail
size=${1:-1G}
out=${2:-/tmp/vigil-bench/export.xml}
mkdir -p "$(dirname "$out")"
cd "$(dirname "$0")/.."
cargo build --release --no-default-features --example gen_apple_health --example bench_apple_health
target=${CARGO_TARGET_DIR:-target}/release/examples
if [[ ! -f "$out" || ! -f "$out.expected" ]]; then
    "$target/gen_apple_health" --out "$out" --size "$size" --seed 42
fi
if [[ -x /usr/bin/time ]]; then
    /usr/bin/time -f "whole run: %e s wall, peak RSS %M KiB" "$target/bench_apple_health" "$out" "$out.expected"
else
    "$target/bench_apple_health" "$out" "$out.expected"
fi
