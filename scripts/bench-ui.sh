#!/usr/bin/env bash
# The clinician screens' figures (issue 7), on a seeded store described in src-tauri/bench/ui.rs:
# 20 patients with 24 h of 1 Hz vitals and 100 patients with 90 days of daily data.
#   1. `vigil bench ui`: the backend (worklist, patient screen, six charts per range) in process.
#   2. The real window (release build, Xvfb, tauri-driver): start to an interactive worklist,
#      switching patient and range until every chart is drawn, idle memory.
# Usage: scripts/bench-ui.sh [STORE_DIR]   (default ~/.cache/vigil/bench-ui; seeded when empty)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/vigil/target}"
dir="${1:-$HOME/.cache/vigil/bench-ui}"
scripts/setup.sh test
cargo build --quiet --release
"$CARGO_TARGET_DIR/release/vigil" bench ui --dir "$dir"
VIGIL_E2E_RELEASE=1 VIGIL_E2E_STORE="$dir" VIGIL_E2E_SCRIPT=bench/ui.mjs scripts/e2e.sh
