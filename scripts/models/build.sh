#!/usr/bin/env bash
# Rebuilds the default model packages (src-tauri/models/defaults/*.vigilpkg), reproducibly:
# trains them from the documented synthetic generator (train.py, pinned versions in
# requirements.txt) and signs them with the DEVELOPMENT key (dev-signing-key.pk8, public on
# purpose: demonstration models, not for clinical use). Same inputs, same bytes.
set -euo pipefail
cd "$(dirname "$0")/../.."
venv="${HOME}/.cache/vigil/venv"
"$venv/bin/python3" -m pip install --quiet --disable-pip-version-check -r scripts/models/requirements.txt
export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-1795392000}" # 2026-11-23T00:00:00Z
out="${CARGO_TARGET_DIR:-target}/models"
"$venv/bin/python3" scripts/models/train.py --out "$out" --fixtures tests/fixtures/models
cargo build --quiet --no-default-features --bin vigil
vigil="${CARGO_TARGET_DIR:-target}/debug/vigil"
for dir in "$out"/early-warning-gbt-1.0.0 "$out"/heart-failure-gbt-1.0.0; do
  "$vigil" packages build "$dir" --key scripts/models/dev-signing-key.pk8 \
    --out "src-tauri/models/defaults/$(basename "$dir").vigilpkg"
done
sha256sum src-tauri/models/defaults/*.vigilpkg
