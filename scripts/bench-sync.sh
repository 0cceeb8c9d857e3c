#!/usr/bin/env bash
# The sync benchmark (issue 14), on release builds, against a throwaway PostgreSQL on loopback:
#   1. workstation A pushes N observations (default 1 000 000) over TLS: rows/s;
#   2. A pushes them all again (the server's acknowledgement set back): the server adds nothing;
#   3. a new workstation B's first sync (a snapshot of N rows): seconds;
# with PostgreSQL's own COPY of the same rows into a plain table as the reference, measured in
# the same run. Prints one line per figure.   scripts/bench-sync.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-1000000}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/vigil/target}"
cargo build --quiet --release --no-default-features -p vigil -p vigil-server
bin="$CARGO_TARGET_DIR/release"
work="$(mktemp -d "${TMPDIR:-/tmp}/vigil-bench-sync.XXXXXX")"
# Its own temporary directory: PostgreSQL runs as another user, which must reach it.
pg="$(mktemp -d "${TMPDIR:-/tmp}/vigil-bench-pg.XXXXXX")"
cleanup() { [ -n "${server_pid:-}" ] && kill "$server_pid" 2>/dev/null; scripts/postgres.sh stop "$pg"; rm -rf "$work"; }
trap cleanup EXIT
cluster="$(scripts/postgres.sh start "$pg")"
psql "$cluster" -qc "CREATE DATABASE bench"
db="${cluster%/*}/bench"
export DATABASE_URL="$db"
"$bin/vigil-server" init >/dev/null
"$bin/vigil-server" serve --listen 127.0.0.1:0 --data-dir "$work/server" >"$work/serve.out" 2>"$work/serve.err" &
server_pid=$!
for _ in $(seq 100); do grep -q listening "$work/serve.out" 2>/dev/null && break; sleep 0.1; done
addr="$(awk '{print $3}' "$work/serve.out")"
clinic="$("$bin/vigil-server" clinic create Bench --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')"
password="bench password 1234"

# A workstation: an encrypted store, an admin, a clinician signed in, enrolled.
station() {
  export VIGIL_DATA_DIR="$work/$1" VIGIL_KEY_FILE="$work/$1.key"
  echo "$password" | "$bin/vigil" init --admin boss >/dev/null
  echo "$password" | "$bin/vigil" login boss >/dev/null
  local code
  code="$("$bin/vigil-server" enroll-code "$clinic" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["code"])')"
  "$bin/vigil" sync enroll --server "https://$addr" --code "$code" >/dev/null
  echo "$password" | "$bin/vigil" user add doc --role clinician >/dev/null
  echo "$password" | "$bin/vigil" login doc >/dev/null
}
seconds() { python3 -c "import time; print(time.monotonic())"; }

python3 - "$n" >"$work/readings.csv" <<'PY'
import sys, datetime
n = int(sys.argv[1])
t0 = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
print("patient,time,kind,value,unit")
kinds = [("heart_rate", "/min", 60, 40), ("spo2", "%", 90, 10), ("respiratory_rate", "/min", 12, 10), ("body_temperature", "Cel", 36, 2)]
for i in range(n):
    kind, unit, base, spread = kinds[i % 4]
    at = t0 + datetime.timedelta(seconds=i // 4)
    print(f"MRN-B{(i // 4) % 10},{at.isoformat()},{kind},{base + (i * 7919) % spread},{unit}")
PY

station a
for p in $(seq 0 9); do "$bin/vigil" patient add --mrn "MRN-B$p" --name "Bench $p" --consent monitoring,clinic-sync >/dev/null; done
"$bin/vigil" import "$work/readings.csv" >/dev/null
t=$(seconds); "$bin/vigil" sync now --json >"$work/a.json"; t2=$(seconds)
push=$(python3 -c "print($t2 - $t)")
# How much of that the server spent applying pushes (its /metrics histogram).
server_push=$(curl -sk "https://$addr/metrics" | awk '/^vigil_push_seconds_sum/ {print $2}')

# The reference: PostgreSQL's own COPY of the same rows, from the same CSV, in this run.
psql "$db" -qc "CREATE TABLE copy_reference (patient text, at timestamptz, kind text, value float8, unit text)"
t=$(seconds); psql "$db" -qc "\\copy copy_reference FROM '$work/readings.csv' WITH (FORMAT csv, HEADER true)"; t2=$(seconds)
copy=$(python3 -c "print($t2 - $t)")

# Pushing the same rows again: the server's acknowledgement of A set back to the start (as
# after a restore of the server's database from an older backup), so A re-sends everything.
psql "$db" -qc "UPDATE workstations SET acked_message = 0, acked_row = 0"
export VIGIL_DATA_DIR="$work/a" VIGIL_KEY_FILE="$work/a.key"
t=$(seconds); "$bin/vigil" sync now --json >"$work/c.json"; t2=$(seconds)
again=$(python3 -c "print($t2 - $t)")

station b
t=$(seconds); "$bin/vigil" sync now --json >"$work/b.json"; t2=$(seconds)
snapshot=$(python3 -c "print($t2 - $t)")

python3 - "$n" "$push" "$copy" "$again" "$snapshot" "$work" "$server_push" <<'PY'
import json, sys
n, push, copy, again, snapshot, work, server_push = int(sys.argv[1]), *map(float, sys.argv[2:6]), sys.argv[6], float(sys.argv[7])
a = json.load(open(f"{work}/a.json")); c = json.load(open(f"{work}/c.json")); b = json.load(open(f"{work}/b.json"))
print(f"push {n} observations over TLS: {push:.1f} s, {n / push:,.0f} rows/s (target 100 000); {a['pushes']} requests, {a['inserted']} new; the server spent {server_push:.1f} s of it applying them")
print(f"reference: PostgreSQL COPY of the same {n} rows from CSV: {copy:.1f} s, {n / copy:,.0f} rows/s; sync push = {copy / push:.2f} x COPY")
print(f"the same rows pushed again (acknowledgement set back): {again:.1f} s ({c['pushed_rows']} rows sent, {c['inserted']} new, {c['duplicates']} already held); {push / again:.2f} x the first push's speed")
print(f"a new workstation's first sync: {snapshot:.1f} s for {b['pulled']['observations']['inserted']} observations (target under 60 s), {b['pages']} pages")
PY
