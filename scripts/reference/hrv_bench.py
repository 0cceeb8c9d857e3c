#!/usr/bin/env python3
"""pyhrv baseline for benches/hrv.rs: time domain and Welch PSD of the RR series in argv[1] (JSON).

Times pyhrv's nni_parameters, sdnn, rmssd, sdsd, nn50 and hr_parameters (the time domain that
analysis::hrv reports) and welch_psd(mode="dev"); median of 3 runs each. Prints JSON.
"""
import json
import os
import sys
import time

os.environ.setdefault("MPLBACKEND", "Agg")
try:
    import numpy as np
    import pyhrv.frequency_domain as fd
    import pyhrv.time_domain as td
except Exception as e:  # noqa: BLE001
    print(f"pyhrv missing ({e}): pip install -r scripts/reference/requirements-signals.txt", file=sys.stderr)
    sys.exit(3)

nn = np.asarray(json.load(open(sys.argv[1], encoding="utf-8")), dtype=float)


def timed(f, runs=3):
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        f()
        out.append((time.perf_counter() - start) * 1e3)
    return sorted(out)[len(out) // 2]


def time_domain():
    td.nni_parameters(nn)
    td.sdnn(nn)
    td.rmssd(nn)
    td.sdsd(nn)
    td.nn50(nn)
    td.hr_parameters(nn)


t_td = timed(time_domain)
t_fd = timed(lambda: fd.welch_psd(nn, show=False, mode="dev"))
json.dump({"time_domain_ms": t_td, "welch_ms": t_fd, "total_ms": t_td + t_fd, "beats": int(nn.size)}, sys.stdout)
