#!/usr/bin/env python3
"""Makes the DEMO heart-rate strap's recording (src-tauri/ble/demo/heart_rate.jsonl) from real data.

The beats are the first 10 minutes of pyhrv's `SampleNNISeriesLong.npy` (a real NN-interval
series shipped in the pyhrv package, BSD-3-Clause), sent as a chest strap would: one Heart Rate
Measurement (0x2A37) notification a second, carrying the RR intervals of the beats that ended
in that second (1/1024 s, Heart Rate Profile 1.0 / GATT Specification Supplement 3.113) and the
rate of the latest beat. Run with the venv's Python: `~/.cache/vigil/venv/bin/python3 THIS`.
"""

import json
import pathlib
import sys

import numpy as np
import pyhrv

SECONDS = 600
out = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "src-tauri/ble/demo/heart_rate.jsonl")
nni = np.load(pathlib.Path(pyhrv.__file__).parent / "files" / "SampleNNISeriesLong.npy")

header = {
    "vigil_ble_replay": 1,
    "device": {
        "name": "DEMO HR strap",
        "address": "02:56:49:47:49:4C",
        "kind": "heart_rate_monitor",
        "manufacturer": "Vigil DEMO",
        "model": "HR replay (pyhrv SampleNNISeriesLong)",
        "serial": "DEMO-0001",
        "firmware": "1.0",
    },
    "reads": {"2a19": "5f", "2a38": "01", "2a26": "312e30"},
}
lines = ["# The DEMO heart-rate strap: scripts/ble/make_demo_recording.py made this from pyhrv's real",
         "# SampleNNISeriesLong (BSD-3-Clause). Format: src-tauri/ble/link/replay.rs.",
         json.dumps(header)]
t_ms = 0.0
beats = iter(nni)
pending = []
for second in range(1, SECONDS + 1):
    while True:
        try:
            rr = float(next(beats))
        except StopIteration:
            break
        t_ms += rr
        pending.append(rr)
        if t_ms >= second * 1000:
            break
    if not pending:
        continue
    # At most 9 RR intervals fit a u8-rate notification (HRS 3.1.1.5, 20-byte ATT payload).
    rrs, pending = pending[-9:], []
    rate = round(60000 / rrs[-1])
    value = [0x16, rate] + [b for rr in rrs for b in int(round(rr * 1.024)).to_bytes(2, "little")]
    lines.append(json.dumps({"t": second, "characteristic": "2a37", "value": bytes(value).hex(" ")}))
out.write_text("\n".join(lines) + "\n")
print(f"{out}: {len(lines) - 3} notifications")
