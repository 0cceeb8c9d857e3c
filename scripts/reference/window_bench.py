#!/usr/bin/env python3
"""numpy baseline for benches/window.rs: one 5-s tick for N patients, recomputing each 300-s window.

Vectorised across patients (the fair numpy way): a (N, 300) array per channel, 5 new columns per
tick, then mean/std/min/max/slope/successive-difference std/correlation over axis 1. Prints
{"tick_ms": median} as JSON. Missing values are not modelled (dense data), which favours numpy.
"""
import json
import sys
import time

try:
    import numpy as np
except ImportError:
    print("numpy missing: pip install -r scripts/reference/requirements-signals.txt", file=sys.stderr)
    sys.exit(3)

N = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
W = 300
rng = np.random.default_rng(1)
hr, spo2, resp, temp, rr = (rng.normal(m, s, (N, W)) for m, s in
                            ((75, 5), (97, 1), (16, 2), (37, 0.2), (800, 40)))
t = np.arange(W, dtype=float)
tc = t - t.mean()


def tick():
    global hr, spo2, resp, temp, rr
    new = [rng.normal(m, s, (N, 5)) for m, s in ((75, 5), (97, 1), (16, 2), (37, 0.2), (800, 40))]
    hr, spo2, resp, temp, rr = (np.concatenate([a[:, 5:], b], axis=1)
                                for a, b in zip((hr, spo2, resp, temp, rr), new))
    out = {}
    out["hr_mean"] = hr.mean(1)
    out["hr_std"] = hr.std(1)
    out["hr_min"] = hr.min(1)
    out["hr_max"] = hr.max(1)
    out["hr_trend"] = ((hr - out["hr_mean"][:, None]) * tc).sum(1) / (tc ** 2).sum()
    hrv = np.abs(np.diff(rr, axis=1))
    out["hrv_mean"] = hrv.mean(1)
    out["hrv_std"] = hrv.std(1)
    # Positive when HRV fell, as analysis::window defines it.
    out["hrv_decrease"] = (hrv[:, :60].mean(1) - hrv[:, -60:].mean(1)) / hrv[:, :60].mean(1)
    out["spo2_mean"] = spo2.mean(1)
    out["spo2_min"] = spo2.min(1)
    out["spo2_variability"] = spo2.std(1)
    out["rr_mean"] = resp.mean(1)
    out["rr_irregularity"] = np.diff(resp, axis=1).std(1)
    out["temp_mean"] = temp.mean(1)
    out["temp_spike"] = temp.max(1) - temp.min(1)
    a = hr - hr.mean(1, keepdims=True)
    b = resp - resp.mean(1, keepdims=True)
    out["hr_rr_correlation"] = (a * b).sum(1) / np.sqrt((a * a).sum(1) * (b * b).sum(1))
    return out


runs = []
for _ in range(15):
    start = time.perf_counter()
    tick()
    runs.append((time.perf_counter() - start) * 1e3)
runs.sort()
json.dump({"tick_ms": runs[len(runs) // 2], "patients": N}, sys.stdout)
