#!/usr/bin/env bash
# Import benchmark (issue 3): in one run, on the same machine state,
#   1. the bare quick-xml scan and the parse-only pass over a synthetic Apple Health export,
#   2. `vigil import` of that export into a fresh encrypted store: records/s and peak RSS,
#   3. the store's own batch-insert rate (`vigil bench store`), the ceiling for (2),
#   4. `vigil import` of a generated 1,000,000-row long CSV.
# Usage: scripts/bench-import.sh [SIZE (default 1G)] [EXPORT (default /tmp/vigil-bench/export.xml)]
set -euo pipefail
cd "$(dirname "$0")/.."
size="${1:-1G}"
export_xml="${2:-/tmp/vigil-bench/export.xml}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/vigil/target}"

cargo build --release --quiet --no-default-features --bin vigil --example bench_apple_health --example gen_apple_health
bin="$CARGO_TARGET_DIR/release"
[ -x /usr/bin/time ] || { echo "install GNU time (apt-get install time) for peak RSS"; exit 1; }

if [ ! -s "$export_xml" ]; then
  mkdir -p "$(dirname "$export_xml")"
  "$bin/examples/gen_apple_health" --out "$export_xml" --size "$size" --seed 42
fi
echo "== machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== 1. parse only and bare quick-xml scan"
"$bin/examples/bench_apple_health" "$export_xml" "$export_xml.expected"

work=$(mktemp -d /tmp/vigil-bench-import.XXXXXX)
trap 'rm -rf "$work"' EXIT
export VIGIL_KEY_FILE="$work/vigil.key" VIGIL_DATA_DIR="$work/data"
"$bin/vigil" init >/dev/null
"$bin/vigil" patient add --mrn BENCH-APPLE --name "Bench Apple" --consent monitoring >/dev/null
"$bin/vigil" patient add --mrn BENCH-CSV --name "Bench Csv" --consent monitoring >/dev/null

import_timed() { # file patient
  local start end
  start=$(date +%s.%N)
  /usr/bin/time -f "%M" -o "$work/rss" "$bin/vigil" import "$1" --patient "$2" --json > "$work/report.json"
  end=$(date +%s.%N)
  python3 - "$work/report.json" "$start" "$end" "$(cat "$work/rss")" "$1" <<'PY'
import json, os, sys
r = json.load(open(sys.argv[1])); secs = float(sys.argv[3]) - float(sys.argv[2])
size = os.path.getsize(sys.argv[5])
print(f"   {r['file']}: {size/2**20:.0f} MiB, {r['accepted']} accepted ({r['added']} new), {r['rejected_total']} rejected")
print(f"   {secs:.1f} s end to end: {r['accepted']/secs:,.0f} records/s; peak RSS {int(sys.argv[4])/1024:.0f} MiB")
PY
}
echo "== 2. vigil import of the export into the encrypted store"
import_timed "$export_xml" BENCH-APPLE

echo "== 3. the store's own batch-insert rate (same schema, same path)"
"$bin/vigil" bench store --rows 1000000 --reads 10

echo "== 4. vigil import of a 1,000,000-row long CSV"
python3 - "$work/long.csv" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.write("patient,time,kind,value,unit\n")
    for i in range(1_000_000):
        d, s = divmod(i, 86400)
        f.write(f"BENCH-CSV,2026-{1 + d // 28:02d}-{1 + d % 28:02d}T{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}+01:00,heart_rate,{60 + i % 50},/min\n")
PY
import_timed "$work/long.csv" BENCH-CSV
