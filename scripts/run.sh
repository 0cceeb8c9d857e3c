#!/usr/bin/env bash
# The README's first command: installs what is missing, builds Vigil and opens the window on a
# DEMO store of synthetic patients (real use starts with an empty store: `vigil` alone).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh run

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/vigil/target}"
(cd ui && npm run --silent build >/dev/null)
cargo build --release --quiet
vigil="$CARGO_TARGET_DIR/release/vigil"

# The demo store keeps its key in a file beside it: its data is synthetic, and a headless
# machine has no keyring. Real stores keep their key in the OS keyring or IT's VIGIL_KEY_FILE.
demo_dir="${VIGIL_DEMO_DIR:-$HOME/.local/share/vigil-demo}"
export VIGIL_KEY_FILE="$demo_dir/demo.key"
# `vigil demo` also makes the demo's accounts (clinician, nurse, admin, it, auditor).
"$vigil" --data-dir "$demo_dir" demo
echo "Sign in as clinician (patients and alerts; or nurse, admin, it, auditor), password vigil-demo"

if [ -z "${DISPLAY:-}" ]; then
  Xvfb :77 -screen 0 1280x800x24 -nolisten tcp >/dev/null 2>&1 &
  export DISPLAY=:77
  echo "No display: the window runs under Xvfb on :77 (see it with: import -display :77 -window root vigil.png)"
  sleep 1
fi
exec "$vigil" --data-dir "$demo_dir"
