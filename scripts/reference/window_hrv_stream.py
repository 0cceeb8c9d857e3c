#!/usr/bin/env python3
"""Reference numbers for tests/analysis_window_hrv_stream.rs: the reference design's HRV features
of a window of per-sample HRV values (`hrv_ms`), written independently in numpy.

stdin: a JSON array of windows, each an array of the window's HRV values (ms) in time order.
stdout: a JSON array, one object per window:
  hrv_mean      mean
  hrv_std       population standard deviation (numpy's default, ddof=0)
  hrv_decrease  (mean of the first 60 - mean of the last 60) / mean of the first 60, positive when
                HRV fell; null with fewer than 120 values (the two means would share values)

Exit status 3 with one line on stderr when numpy is missing.
"""
import json
import sys

try:
    import numpy as np
except ImportError as e:
    print(f"numpy missing ({e}): pip install -r scripts/reference/requirements-signals.txt", file=sys.stderr)
    sys.exit(3)

EDGE = 60


def features(values):
    v = np.asarray(values, dtype=float)
    first, last = v[:EDGE].mean(), v[-EDGE:].mean()
    decrease = float((first - last) / first) if v.size >= 2 * EDGE and first != 0 else None
    return {"hrv_mean": float(v.mean()), "hrv_std": float(v.std()), "hrv_decrease": decrease}


json.dump([features(w) for w in json.load(sys.stdin)], sys.stdout)
