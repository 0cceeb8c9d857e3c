#!/usr/bin/env bash
# End-to-end tests of the real app binary in a real WebKit window: seeds a DEMO store, then runs
# Xvfb, tauri-driver (which starts WebKitWebDriver and the app) and the WebDriver tests inside a
# private PID namespace, so that nothing outlives the run (DESIGN.md section 2).
# Each test file opens the app on its own copy of the seeded store (tests/e2e/session.mjs), so
# the files do not depend on the order they run in, and signs in with a demo account (password
# vigil-demo); the seeding signs in on the command line the same way, and signs out at the end,
# so no copy holds a command-line session. The idle-lock test's copy locks after 1 idle minute.
# Screenshots of each view go to tests/e2e/screenshots/ (or $VIGIL_E2E_SCREENSHOTS).
# scripts/bench-ui.sh reuses the harness: VIGIL_E2E_STORE names a store to open instead of the
# seeded demo, VIGIL_E2E_SCRIPT a node script to run instead of the tests, VIGIL_E2E_RELEASE=1
# builds and runs the release binary.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/vigil/target}"

if [ "${VIGIL_E2E_INSIDE:-}" != 1 ]; then
  profile=debug
  if [ "${VIGIL_E2E_RELEASE:-}" = 1 ]; then profile=release; fi
  cargo build --quiet --profile "$([ $profile = debug ] && echo dev || echo release)"
  work=$(mktemp -d /tmp/vigil-e2e.XXXXXX)
  export VIGIL_E2E_APP="$CARGO_TARGET_DIR/$profile/vigil"
  export VIGIL_DATA_DIR="$work/data" VIGIL_KEY_FILE="$work/vigil.key" VIGIL_E2E_WORK="$work"
  export VIGIL_E2E_SCREENSHOTS="${VIGIL_E2E_SCREENSHOTS:-$PWD/tests/e2e/screenshots}"
  mkdir -p "$VIGIL_E2E_SCREENSHOTS"
  if [ -n "${VIGIL_E2E_STORE:-}" ]; then
    export VIGIL_DATA_DIR="$VIGIL_E2E_STORE" VIGIL_KEY_FILE="$VIGIL_E2E_STORE/bench.key"
    status=0
    unshare --fork --pid --mount-proc --kill-child env VIGIL_E2E_INSIDE=1 "$0" || status=$?
    rm -rf "$work"
    exit "$status"
  fi
  vigil() { "$VIGIL_E2E_APP" "$@"; }
  # Every verb after `vigil demo` acts as a signed-in account (the demo's, password on stdin).
  login() { printf 'vigil-demo\n' | vigil login "$1" > /dev/null; }
  vigil demo --json > "$work/seed.json"
  login clinician
  # The demo registers the DEMO heart-rate strap on DEMO-0001, and a window on a demo store
  # replays it live. Only devices.test.mjs streams it (it assigns the strap on its own copy):
  # the other files compare the window with what the CLI reported of a store that stands still.
  vigil ble unassign 02:56:49:47:49:4C > /dev/null
  # The window monitors every reading that reaches the store: process the demo's backlog now,
  # so no window raises the demo's alerts while another test compares it with the CLI.
  vigil monitor --once > /dev/null
  # Alerts to acknowledge: the review workflow on three deteriorating demo patients.
  # Threshold 0.6: high as well as critical alerts (a demonstration model alone never makes one
  # critical), so the inbox has several to acknowledge, resolve and filter by severity.
  for mrn in DEMO-0002 DEMO-0003 DEMO-0004; do vigil assess "$mrn" --threshold 0.6 --json > /dev/null; done
  # A model version to roll back: 1.1.0 (test fixture, signed with the development key) over
  # the demo's 1.0.0. Packages are IT's.
  login it
  vigil packages build tests/fixtures/models/early-warning-gbt-1.1.0 \
    --key scripts/models/dev-signing-key.pk8 --out "$work/ew-1.1.0.vigilpkg" > /dev/null
  vigil packages install "$work/ew-1.1.0.vigilpkg" --activate > /dev/null
  login clinician
  # What the CLI says of each patient, for the patient screen to agree with: the screen's read
  # model (`patient view`), and NEWS2 and HRV from the analysis verbs (another path to the same
  # stored data).
  for n in 1 2 3 4 5 6 7 8; do
    mrn="DEMO-000$n"
    vigil patient view "$mrn" --json > "$work/patient-$mrn.json"
    vigil analyze news2 --patient "$mrn" --compact > "$work/news2-$mrn.json"
    vigil analyze hrv --patient "$mrn" --compact > "$work/hrv-$mrn.json"
  done
  vigil worklist --json > "$work/worklist.json"
  vigil alerts list --all --limit 10000 --json > "$work/alerts.json"
  # A file to import, with three bad lines; what the CLI says of it is what the window must show.
  {
    echo "patient,time,kind,value,unit"
    for m in 0 1 2 3 4 5 6 7 8 9; do echo "DEMO-0001,2024-03-01T08:0$m:00+01:00,heart_rate,7$m,/min"; done
    echo "DEMO-0001,2024-03-01T08:10:00+01:00,heart_rate,abc,/min"
    echo "DEMO-0001,2024-03-01T08:11:00+01:00,blood_sugar,5.1,mmol/L"
    echo "DEMO-0001,not-a-time,spo2,97,%"
    echo "DEMO-0002,2024-03-01T08:00:00+01:00,spo2,96,%"
  } > "$work/vitals.csv"
  vigil import "$work/vitals.csv" --dry-run --json > "$work/import-dry.json"
  vigil logout > /dev/null
  # The idle-lock test's own copy of the store locks after one idle minute (an admin's setting).
  mkdir -p "$work/stores"
  cp -r "$work/data" "$work/stores/idle_lock"
  login() { printf 'vigil-demo\n' | vigil --data-dir "$work/stores/idle_lock" login "$1" > /dev/null; }
  login admin
  vigil --data-dir "$work/stores/idle_lock" settings set idle_lock_minutes 1 > /dev/null
  vigil --data-dir "$work/stores/idle_lock" logout > /dev/null
  status=0
  unshare --fork --pid --mount-proc --kill-child env VIGIL_E2E_INSIDE=1 "$0" || status=$?
  rm -rf "$work"
  exit "$status"
fi

# Inside the namespace: this shell is PID 1; when it exits, everything here is killed.
work="$VIGIL_E2E_WORK"
Xvfb -displayfd 3 -screen 0 1280x800x24 -nolisten tcp 3>"$work/display" 2>"$work/xvfb.log" &
for _ in $(seq 1 100); do [ -s "$work/display" ] && break; sleep 0.05; done
export DISPLAY=":$(cat "$work/display")"

tauri-driver --port 4444 --native-port 4445 >"$work/tauri-driver.log" 2>&1 &
for _ in $(seq 1 100); do curl -sf http://127.0.0.1:4444/status >/dev/null 2>&1 && break; sleep 0.1; done

cd tests/e2e
if [ -n "${VIGIL_E2E_SCRIPT:-}" ]; then
  exec node "$VIGIL_E2E_SCRIPT"
fi
if ! node --test --test-concurrency=1 ${VIGIL_E2E_ONLY:-./*.test.mjs}; then
  echo "--- tauri-driver log"; tail -n 40 "$work/tauri-driver.log"
  exit 1
fi
